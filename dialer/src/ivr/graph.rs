//! A flow as a diagram: Mermaid (renders in GitHub, GitLab and most
//! wikis) or Graphviz DOT.

use std::fmt::Write as _;

use super::{Flow, NodeKind, Target};

fn describe(kind: &NodeKind) -> &'static str {
    match kind {
        NodeKind::Play { .. } => "play",
        NodeKind::Menu { .. } => "menu",
        NodeKind::Gather { .. } => "gather",
        NodeKind::Branch { .. } => "branch",
        NodeKind::Set { .. } => "set",
        NodeKind::PromiseToPay { .. } => "promise_to_pay",
        NodeKind::OptOut { .. } => "opt_out",
        NodeKind::Transfer { .. } => "transfer",
        NodeKind::Webhook { .. } => "webhook",
        NodeKind::Hangup { .. } => "hangup",
    }
}

/// Every edge of the flow: (from, label, to).
fn edges(flow: &Flow) -> Vec<(usize, String, Target)> {
    let mut out = Vec::new();
    for (id, node) in flow.nodes.iter().enumerate() {
        let mut add =
            |label: &str, target: &Target| out.push((id, label.to_owned(), target.clone()));
        match &node.kind {
            NodeKind::Play { next, .. }
            | NodeKind::Set { next, .. }
            | NodeKind::OptOut { next, .. } => add("", next),
            NodeKind::Menu {
                choices,
                other,
                input,
                ..
            } => {
                for (key, target) in choices {
                    add(&key.to_string(), target);
                }
                if let Some(other) = other {
                    add("other key", other);
                }
                add("no input", &input.on_no_input);
                add("invalid", &input.on_invalid);
            }
            NodeKind::Gather { input, next, .. } | NodeKind::PromiseToPay { input, next, .. } => {
                add("", next);
                add("no input", &input.on_no_input);
                add("invalid", &input.on_invalid);
            }
            NodeKind::Branch { cases, otherwise } => {
                for (condition, target) in cases {
                    add(&condition.to_string(), target);
                }
                add("else", otherwise);
            }
            NodeKind::Webhook { next, on_error, .. } => {
                add("", next);
                add("error", on_error);
            }
            NodeKind::Transfer { .. } | NodeKind::Hangup { .. } => {}
        }
    }
    out
}

fn end_id(outcome: &str) -> String {
    format!("end_{}", outcome.replace('-', "_"))
}

fn quoted(text: &str) -> String {
    text.replace('"', "'")
}

/// A Mermaid flowchart.
pub fn mermaid(flow: &Flow) -> String {
    let mut out = format!("%% {}\nflowchart TD\n", flow.name);
    let id = |i: usize| format!("n{i}");
    for (i, node) in flow.nodes.iter().enumerate() {
        let label = format!(
            "{}<br/><small>{}</small>",
            quoted(&node.name),
            describe(&node.kind)
        );
        let shape = match &node.kind {
            NodeKind::Menu { .. } | NodeKind::Branch { .. } => format!("{{\"{label}\"}}"),
            NodeKind::Hangup { outcome, .. } => format!("([\"{label}<br/>{}\"])", quoted(outcome)),
            NodeKind::Transfer { queue, .. } => format!("[/\"{label}<br/>{}\"/]", quoted(queue)),
            _ => format!("[\"{label}\"]"),
        };
        let _ = writeln!(out, "    {}{shape}", id(i));
    }
    let mut ends = std::collections::BTreeSet::new();
    for (from, label, target) in edges(flow) {
        let to = match &target {
            Target::Node(t) => id(*t),
            Target::Hangup(outcome) => {
                ends.insert(outcome.clone());
                end_id(outcome)
            }
        };
        if label.is_empty() {
            let _ = writeln!(out, "    {} --> {to}", id(from));
        } else {
            let _ = writeln!(out, "    {} -- \"{}\" --> {to}", id(from), quoted(&label));
        }
    }
    for outcome in ends {
        let _ = writeln!(
            out,
            "    {}([\"hangup<br/>{}\"])",
            end_id(&outcome),
            quoted(&outcome)
        );
    }
    let _ = writeln!(out, "    start((start)) --> {}", id(flow.start));
    out
}

/// A Graphviz DOT digraph.
pub fn dot(flow: &Flow) -> String {
    let mut out = format!(
        "digraph \"{}\" {{\n    rankdir=TB;\n    node [fontname=\"Helvetica\"];\n",
        quoted(&flow.name)
    );
    for (i, node) in flow.nodes.iter().enumerate() {
        let shape = match &node.kind {
            NodeKind::Menu { .. } | NodeKind::Branch { .. } => "diamond",
            NodeKind::Hangup { .. } => "oval",
            NodeKind::Transfer { .. } => "parallelogram",
            _ => "box",
        };
        let _ = writeln!(
            out,
            "    n{i} [shape={shape}, label=\"{}\\n({})\"];",
            quoted(&node.name),
            describe(&node.kind)
        );
    }
    let mut ends = std::collections::BTreeSet::new();
    for (from, label, target) in edges(flow) {
        let to = match &target {
            Target::Node(t) => format!("n{t}"),
            Target::Hangup(outcome) => {
                ends.insert(outcome.clone());
                end_id(outcome)
            }
        };
        let _ = writeln!(out, "    n{from} -> {to} [label=\"{}\"];", quoted(&label));
    }
    for outcome in ends {
        let _ = writeln!(
            out,
            "    {} [shape=oval, label=\"hangup\\n{}\"];",
            end_id(&outcome),
            quoted(&outcome)
        );
    }
    let _ = writeln!(
        out,
        "    start [shape=circle];\n    start -> n{};\n}}",
        flow.start
    );
    out
}
