//! Loading a flow file: TOML in, a checked [`Flow`] out, or every problem
//! found, each with the file, the line and the node.
//!
//! Each node is checked here (required fields, targets, timeouts, prompts;
//! each type's own fields in `nodes`); the flow as a whole in
//! [`super::check`] (unreachable nodes, loops, variables, phrases and
//! fragments).

mod nodes;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use media::prompt::template::Template;
use media::say::Language;
use toml::Spanned;

use super::raw::{RawDefaults, RawFlow, RawNode, allowed_fields};
use super::{Flow, Input, Node, PromptId, Target};

/// One problem in a flow file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub node: Option<String>,
    pub message: String,
}

/// Every problem found in a flow file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FlowError {
    pub path: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}: ", self.path.display(), p.line)?;
            if let Some(node) = &p.node {
                write!(f, "node '{node}': ")?;
            }
            f.write_str(&p.message)?;
        }
        Ok(())
    }
}

/// Reads and checks a flow file.
pub fn load(path: &Path) -> Result<Flow, FlowError> {
    let text = std::fs::read_to_string(path).map_err(|e| FlowError {
        path: path.to_owned(),
        problems: vec![Problem {
            line: 0,
            node: None,
            message: format!("cannot read: {e}"),
        }],
    })?;
    parse(path, &text)
}

/// Checks flow text; `path` names it and anchors relative paths.
pub fn parse(path: &Path, text: &str) -> Result<Flow, FlowError> {
    let error = |problems| FlowError {
        path: path.to_owned(),
        problems,
    };
    let raw: RawFlow = toml::from_str(text).map_err(|e| {
        error(vec![Problem {
            line: e.span().map_or(0, |s| line_of(text, s.start)),
            node: None,
            message: e.message().trim().to_owned(),
        }])
    })?;
    let mut builder = Builder {
        text,
        base: path.parent().unwrap_or(Path::new(".")).to_owned(),
        problems: Vec::new(),
        prompts: Vec::new(),
        index: raw
            .node
            .keys()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect(),
        node: None,
        written: written_keys(text),
    };
    let raw_start = raw.start.get_ref().clone();
    let flow = builder.build(path, raw);
    // Whole-flow checks run even when nodes had problems, so an operator
    // sees everything at once; only a missing start makes them meaningless.
    let start_known = builder.index.contains_key(raw_start.trim());
    if start_known && let Some(flow) = &flow {
        super::check::check(flow, &mut builder.problems);
    }
    match flow {
        Some(flow) if builder.problems.is_empty() => Ok(flow),
        _ => {
            builder.problems.sort_by_key(|p| p.line);
            Err(error(builder.problems))
        }
    }
}

/// The keys of every `[node.NAME]` table, as written.
fn written_keys(text: &str) -> HashMap<String, Vec<String>> {
    let Ok(table) = text.parse::<toml::Table>() else {
        return HashMap::new();
    };
    let Some(toml::Value::Table(nodes)) = table.get("node") else {
        return HashMap::new();
    };
    nodes
        .iter()
        .filter_map(|(name, node)| Some((name.clone(), node.as_table()?.keys().cloned().collect())))
        .collect()
}

pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

struct Builder<'a> {
    text: &'a str,
    base: PathBuf,
    problems: Vec<Problem>,
    prompts: Vec<Template>,
    index: HashMap<String, usize>,
    /// The node being built, for messages.
    node: Option<String>,
    /// The keys written in each node's table, to name those that do not
    /// apply to its type.
    written: HashMap<String, Vec<String>>,
}

impl Builder<'_> {
    fn problem(&mut self, at: usize, message: String) {
        self.problems.push(Problem {
            line: line_of(self.text, at),
            node: self.node.clone(),
            message,
        });
    }

    fn target(&mut self, raw: &Spanned<String>, field: &str) -> Target {
        let name = raw.get_ref().trim();
        if let Some(outcome) = name.strip_prefix("hangup:") {
            if outcome.is_empty()
                || !outcome
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            {
                self.problem(
                    raw.span().start,
                    format!("{field}: '{name}' needs an outcome like hangup:no_input"),
                );
            }
            return Target::Hangup(outcome.to_owned());
        }
        match self.index.get(name) {
            Some(id) => Target::Node(*id),
            None => {
                self.problem(
                    raw.span().start,
                    format!("{field}: there is no node '{name}'"),
                );
                Target::Hangup("error".into())
            }
        }
    }

    fn required<'r, T>(&mut self, value: &'r Option<T>, at: usize, field: &str) -> Option<&'r T> {
        if value.is_none() {
            self.problem(at, format!("needs `{field}`"));
        }
        value.as_ref()
    }

    fn prompt(&mut self, raw: &Spanned<Vec<String>>, field: &str) -> PromptId {
        match Template::parse(raw.get_ref()) {
            Ok(template) => {
                self.prompts.push(template);
            }
            Err(e) => {
                self.problem(
                    raw.span().start,
                    format!("{field}[{}] '{}': {}", e.index, e.part, e.reason),
                );
                self.prompts
                    .push(Template::parse(&["tts:-"]).expect("a valid placeholder"));
            }
        }
        self.prompts.len() - 1
    }

    fn optional_prompt(
        &mut self,
        raw: &Option<Spanned<Vec<String>>>,
        field: &str,
    ) -> Option<PromptId> {
        raw.as_ref().map(|p| self.prompt(p, field))
    }

    fn seconds(&mut self, raw: &Option<Spanned<f64>>, default: f64, field: &str) -> Duration {
        let Some(raw) = raw else {
            return Duration::from_secs_f64(default);
        };
        let v = *raw.get_ref();
        if !(0.5..=60.0).contains(&v) {
            self.problem(
                raw.span().start,
                format!("{field} = {v}: a wait must be 0.5-60 seconds"),
            );
            return Duration::from_secs_f64(default);
        }
        Duration::from_secs_f64(v)
    }

    fn input(&mut self, node: &RawNode, defaults: &RawDefaults) -> Input {
        let retries = match node.retries.as_ref().or(defaults.retries.as_ref()) {
            Some(r) if *r.get_ref() > 10 => {
                self.problem(
                    r.span().start,
                    format!("retries = {}: at most 10", r.get_ref()),
                );
                2
            }
            Some(r) => *r.get_ref(),
            None => 2,
        };
        let first_timeout = self.seconds(
            &node.timeout_s.clone().or(defaults.timeout_s.clone()),
            5.0,
            "timeout_s",
        );
        let inter_timeout = self.seconds(
            &node
                .inter_digit_s
                .clone()
                .or(defaults.inter_digit_s.clone()),
            3.0,
            "inter_digit_s",
        );
        let no_input = node
            .no_input
            .as_ref()
            .or(defaults.no_input.as_ref())
            .cloned();
        let invalid = node.invalid.as_ref().or(defaults.invalid.as_ref()).cloned();
        let on_no_input = node
            .on_no_input
            .as_ref()
            .or(defaults.on_no_input.as_ref())
            .cloned();
        let on_invalid = node
            .on_invalid
            .as_ref()
            .or(defaults.on_invalid.as_ref())
            .cloned();
        Input {
            first_timeout,
            inter_timeout,
            retries,
            no_input: self.optional_prompt(&no_input, "no_input"),
            invalid: self.optional_prompt(&invalid, "invalid"),
            on_no_input: match &on_no_input {
                Some(t) => self.target(t, "on_no_input"),
                None => Target::Hangup(super::outcome::NO_INPUT.into()),
            },
            on_invalid: match &on_invalid {
                Some(t) => self.target(t, "on_invalid"),
                None => Target::Hangup(super::outcome::INVALID_INPUT.into()),
            },
        }
    }

    fn build(&mut self, path: &Path, raw: RawFlow) -> Option<Flow> {
        let language = match &raw.language {
            None => Language::EsMx,
            Some(tag) => Language::parse(tag.get_ref()).unwrap_or_else(|| {
                self.problem(
                    tag.span().start,
                    format!(
                        "language '{}' is not es-MX, es-CO, es-PE, es-CL, es-419 or en-US",
                        tag.get_ref()
                    ),
                );
                Language::EsMx
            }),
        };
        let start = match self.index.get(raw.start.get_ref().trim()) {
            Some(id) => *id,
            None => {
                let names: Vec<&str> = raw.node.keys().map(String::as_str).collect();
                self.problem(
                    raw.start.span().start,
                    format!(
                        "start = '{}': there is no such node (nodes: {})",
                        raw.start.get_ref(),
                        names.join(", ")
                    ),
                );
                0
            }
        };
        if raw.node.is_empty() {
            self.problem(0, "the flow has no [node.NAME] tables".into());
            return None;
        }
        let mut nodes = Vec::with_capacity(raw.node.len());
        for (name, spanned) in &raw.node {
            self.node = Some(name.clone());
            let at = spanned.span().start;
            let node = spanned.get_ref();
            if !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            {
                self.problem(at, "a node name is letters, digits, '_' and '-'".into());
            }
            let allowed = allowed_fields(node.kind);
            let written = self.written.get(name).cloned().unwrap_or_default();
            for field in written.iter().map(String::as_str).filter(|f| *f != "type") {
                if !allowed.contains(&field) {
                    self.problem(
                        at,
                        format!(
                            "`{field}` does not apply to a {} node (it takes: {})",
                            node.kind.name(),
                            allowed.join(", ")
                        ),
                    );
                }
            }
            let kind = self.kind(node, at, &raw.defaults);
            nodes.push(Node {
                name: name.clone(),
                line: line_of(self.text, at),
                kind,
            });
        }
        self.node = None;
        let prompts_dir = raw.prompts.as_ref().map(|p| {
            let p = p.get_ref();
            if p.is_absolute() {
                p.clone()
            } else {
                self.base.join(p)
            }
        });
        Some(Flow {
            path: path.to_owned(),
            name: raw.name.unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            }),
            language,
            prompts_dir,
            say_with: raw.say_with,
            start,
            nodes,
            prompts: std::mem::take(&mut self.prompts),
            variables: raw.variables.iter().map(|v| v.to_lowercase()).collect(),
        })
    }
}
