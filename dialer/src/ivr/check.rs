//! Checks of a flow as a whole, after each node parsed: every node can be
//! reached, every path ends, no loop spins without time passing, every
//! variable has a source, every phrase and fragment exists.

use std::collections::BTreeSet;
use std::path::Path;

use media::prompt::{Fragments, phrase_file};

use super::load::Problem;
use super::{Flow, NodeId, NodeKind, PromptId, Target};
use crate::campaign::contacts::required_column_names;
use crate::config::SayWith;

/// Variables every call has, besides the contact's own columns.
pub const BUILT_IN: [&str; 1] = ["days_past_due"];

fn targets(kind: &NodeKind) -> Vec<&Target> {
    match kind {
        NodeKind::Play { next, .. }
        | NodeKind::Set { next, .. }
        | NodeKind::OptOut { next, .. } => vec![next],
        NodeKind::Menu {
            choices,
            other,
            input,
            ..
        } => {
            let mut all: Vec<&Target> = choices.iter().map(|(_, t)| t).collect();
            all.extend(other);
            all.push(&input.on_no_input);
            all.push(&input.on_invalid);
            all
        }
        NodeKind::Gather { input, next, .. } | NodeKind::PromiseToPay { input, next, .. } => {
            vec![next, &input.on_no_input, &input.on_invalid]
        }
        NodeKind::Branch { cases, otherwise } => {
            cases.iter().map(|(_, t)| t).chain([otherwise]).collect()
        }
        NodeKind::Webhook { next, on_error, .. } => vec![next, on_error],
        NodeKind::Transfer { .. } | NodeKind::Hangup { .. } => Vec::new(),
    }
}

fn successors(kind: &NodeKind) -> Vec<NodeId> {
    targets(kind)
        .into_iter()
        .filter_map(|t| match t {
            Target::Node(id) => Some(*id),
            Target::Hangup(_) => None,
        })
        .collect()
}

fn prompts(kind: &NodeKind) -> Vec<PromptId> {
    match kind {
        NodeKind::Play { prompt, .. }
        | NodeKind::Menu { prompt, .. }
        | NodeKind::Gather { prompt, .. } => {
            let mut all = vec![*prompt];
            if let NodeKind::Menu { input, .. } | NodeKind::Gather { input, .. } = kind {
                all.extend(input.no_input.iter().chain(&input.invalid));
            }
            all
        }
        NodeKind::PromiseToPay {
            ask,
            amount,
            confirm,
            saved,
            input,
            ..
        } => [*ask, *confirm, *saved]
            .into_iter()
            .chain(amount.map(|(p, ..)| p))
            .chain(input.no_input)
            .chain(input.invalid)
            .collect(),
        NodeKind::OptOut { confirm, .. } => vec![*confirm],
        NodeKind::Transfer { announce, .. } => announce.iter().copied().collect(),
        NodeKind::Hangup { prompt, .. } => prompt.iter().copied().collect(),
        NodeKind::Branch { .. } | NodeKind::Set { .. } | NodeKind::Webhook { .. } => Vec::new(),
    }
}

pub(super) fn check(flow: &Flow, problems: &mut Vec<Problem>) {
    let at = |id: NodeId, message: String| Problem {
        line: flow.nodes[id].line,
        node: Some(flow.nodes[id].name.clone()),
        message,
    };
    let n = flow.nodes.len();

    // Reachable from the start.
    let mut reached = vec![false; n];
    let mut stack = vec![flow.start];
    while let Some(id) = stack.pop() {
        if std::mem::replace(&mut reached[id], true) {
            continue;
        }
        stack.extend(successors(&flow.nodes[id].kind));
    }
    for id in (0..n).filter(|id| !reached[*id]) {
        problems.push(at(
            id,
            format!(
                "unreachable: no path from the start node '{}' leads here",
                flow.nodes[flow.start].name
            ),
        ));
    }

    // Every node must lead to an end: a hangup or a transfer.
    let mut ends = vec![false; n];
    let mut changed = true;
    while changed {
        changed = false;
        for id in 0..n {
            if ends[id] {
                continue;
            }
            let kind = &flow.nodes[id].kind;
            let ending = matches!(kind, NodeKind::Hangup { .. } | NodeKind::Transfer { .. })
                || targets(kind).iter().any(|t| match t {
                    Target::Hangup(_) => true,
                    Target::Node(next) => ends[*next],
                });
            if ending {
                ends[id] = true;
                changed = true;
            }
        }
    }
    for id in (0..n).filter(|id| reached[*id] && !ends[*id]) {
        problems.push(at(
            id,
            "loop without an exit: no path from here reaches a hangup or a transfer".into(),
        ));
    }

    // Loops of branch/set nodes alone never let time pass.
    for id in 0..n {
        if !matches!(
            flow.nodes[id].kind,
            NodeKind::Branch { .. } | NodeKind::Set { .. }
        ) {
            continue;
        }
        if let Some(cycle) = instant_cycle(flow, id) {
            let names: Vec<&str> = cycle.iter().map(|i| flow.nodes[*i].name.as_str()).collect();
            problems.push(at(
                id,
                format!(
                    "loop without waiting: {} repeats forever without playing or asking anything",
                    names.join(" > ")
                ),
            ));
        }
    }

    // Variables: the contact's, the built-in ones, and those nodes set.
    let mut defined: BTreeSet<String> = required_column_names().map(str::to_owned).collect();
    defined.extend(BUILT_IN.iter().map(|v| v.to_string()));
    defined.extend(flow.variables.iter().cloned());
    for node in &flow.nodes {
        match &node.kind {
            NodeKind::Set { var, .. } => {
                defined.insert(var.clone());
            }
            NodeKind::Gather { into, .. } => {
                defined.insert(into.clone());
            }
            NodeKind::PromiseToPay { .. } => {
                defined.insert("promise_date".into());
                defined.insert("promise_amount".into());
            }
            NodeKind::Webhook { returns, .. } => defined.extend(returns.iter().cloned()),
            _ => {}
        }
    }
    for (id, node) in flow.nodes.iter().enumerate() {
        let mut used: BTreeSet<String> = prompts(&node.kind)
            .iter()
            .flat_map(|p| flow.prompts[*p].variables())
            .collect();
        match &node.kind {
            NodeKind::Branch { cases, .. } => used.extend(
                cases
                    .iter()
                    .flat_map(|(c, _)| c.variables().map(str::to_owned)),
            ),
            NodeKind::Set { value, .. } => used.extend(value.variables().map(str::to_owned)),
            _ => {}
        }
        for var in used.difference(&defined) {
            problems.push(at(
                id,
                format!("variable {{{var}}} is not defined: not a standard column, not listed in `variables = [...]`, not set by any node"),
            ));
        }
    }

    // Phrases and fragments.
    let base = flow.path.parent().unwrap_or(Path::new("."));
    for (id, node) in flow.nodes.iter().enumerate() {
        for prompt in prompts(&node.kind) {
            for name in flow.prompts[prompt].files() {
                if let Err(e) = phrase_file(name, base, flow.prompts_dir.as_deref()) {
                    problems.push(at(id, e));
                }
            }
        }
    }
    if flow.say_with == SayWith::Fragments {
        let result = match &flow.prompts_dir {
            Some(dir) => Fragments::check(dir, flow.language),
            None => {
                Err("say_with = \"fragments\" needs `prompts`, the folder of the fragments".into())
            }
        };
        if let Err(e) = result {
            problems.push(Problem {
                line: 1,
                node: None,
                message: e,
            });
        }
    }
}

/// A cycle through `start` made only of branch and set nodes, if any.
fn instant_cycle(flow: &Flow, start: NodeId) -> Option<Vec<NodeId>> {
    let instant = |id: NodeId| {
        matches!(
            flow.nodes[id].kind,
            NodeKind::Branch { .. } | NodeKind::Set { .. }
        )
    };
    let mut stack = vec![(start, vec![start])];
    let mut seen = BTreeSet::new();
    while let Some((id, path)) = stack.pop() {
        for next in successors(&flow.nodes[id].kind) {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(start);
                return Some(cycle);
            }
            if instant(next) && seen.insert(next) {
                let mut longer = path.clone();
                longer.push(next);
                stack.push((next, longer));
            }
        }
    }
    None
}
