//! A flow file exactly as written: the serde shapes, and which fields each
//! node type takes. `super::load` turns this into a checked `Flow`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use crate::config::SayWith;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFlow {
    pub(super) name: Option<String>,
    pub(super) language: Option<Spanned<String>>,
    pub(super) prompts: Option<Spanned<PathBuf>>,
    #[serde(default)]
    pub(super) say_with: SayWith,
    pub(super) start: Spanned<String>,
    #[serde(default)]
    pub(super) variables: Vec<String>,
    #[serde(default)]
    pub(super) defaults: RawDefaults,
    pub(super) node: BTreeMap<String, Spanned<RawNode>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    pub(super) timeout_s: Option<Spanned<f64>>,
    pub(super) inter_digit_s: Option<Spanned<f64>>,
    pub(super) retries: Option<Spanned<u32>>,
    pub(super) no_input: Option<Spanned<Vec<String>>>,
    pub(super) invalid: Option<Spanned<Vec<String>>>,
    pub(super) on_no_input: Option<Spanned<String>>,
    pub(super) on_invalid: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub(super) enum NodeType {
    Play,
    Say,
    Menu,
    Gather,
    Branch,
    Set,
    PromiseToPay,
    OptOut,
    Transfer,
    Webhook,
    Hangup,
}

impl NodeType {
    pub(super) fn name(self) -> &'static str {
        match self {
            NodeType::Play => "play",
            NodeType::Say => "say",
            NodeType::Menu => "menu",
            NodeType::Gather => "gather",
            NodeType::Branch => "branch",
            NodeType::Set => "set",
            NodeType::PromiseToPay => "promise_to_pay",
            NodeType::OptOut => "opt_out",
            NodeType::Transfer => "transfer",
            NodeType::Webhook => "webhook",
            NodeType::Hangup => "hangup",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCase {
    #[serde(rename = "if")]
    pub(super) condition: Spanned<String>,
    pub(super) then: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNode {
    #[serde(rename = "type")]
    pub(super) kind: NodeType,
    pub(super) prompt: Option<Spanned<Vec<String>>>,
    pub(super) say: Option<Spanned<String>>,
    pub(super) barge_in: Option<bool>,
    pub(super) next: Option<Spanned<String>>,
    pub(super) choices: Option<BTreeMap<String, Spanned<String>>>,
    pub(super) other: Option<Spanned<String>>,
    pub(super) timeout_s: Option<Spanned<f64>>,
    pub(super) inter_digit_s: Option<Spanned<f64>>,
    pub(super) retries: Option<Spanned<u32>>,
    pub(super) no_input: Option<Spanned<Vec<String>>>,
    pub(super) invalid: Option<Spanned<Vec<String>>>,
    pub(super) on_no_input: Option<Spanned<String>>,
    pub(super) on_invalid: Option<Spanned<String>>,
    pub(super) into: Option<Spanned<String>>,
    pub(super) min_digits: Option<Spanned<u32>>,
    pub(super) max_digits: Option<Spanned<u32>>,
    pub(super) terminator: Option<Spanned<String>>,
    pub(super) validate: Option<Spanned<String>>,
    pub(super) within_days: Option<Spanned<u32>>,
    pub(super) min: Option<u64>,
    pub(super) max: Option<u64>,
    pub(super) when: Option<Vec<RawCase>>,
    #[serde(rename = "else")]
    pub(super) otherwise: Option<Spanned<String>>,
    pub(super) var: Option<Spanned<String>>,
    pub(super) value: Option<Spanned<String>>,
    pub(super) ask: Option<Spanned<Vec<String>>>,
    pub(super) ask_amount: Option<Spanned<Vec<String>>>,
    pub(super) confirm: Option<Spanned<Vec<String>>>,
    pub(super) saved: Option<Spanned<Vec<String>>>,
    pub(super) queue: Option<Spanned<String>>,
    pub(super) skills: Option<Vec<String>>,
    pub(super) url: Option<Spanned<String>>,
    pub(super) returns: Option<Vec<String>>,
    pub(super) on_error: Option<Spanned<String>>,
    pub(super) outcome: Option<Spanned<String>>,
}

pub(super) const INPUT_FIELDS: [&str; 7] = [
    "timeout_s",
    "inter_digit_s",
    "retries",
    "no_input",
    "invalid",
    "on_no_input",
    "on_invalid",
];

pub(super) fn allowed_fields(kind: NodeType) -> Vec<&'static str> {
    let own: &[&str] = match kind {
        NodeType::Play => &["prompt", "barge_in", "next"],
        NodeType::Say => &["say", "barge_in", "next"],
        NodeType::Menu => &["prompt", "choices", "other"],
        NodeType::Gather => &[
            "prompt",
            "into",
            "min_digits",
            "max_digits",
            "terminator",
            "validate",
            "within_days",
            "min",
            "max",
            "next",
        ],
        NodeType::Branch => &["when", "else"],
        NodeType::Set => &["var", "value", "next"],
        NodeType::PromiseToPay => &[
            "ask",
            "within_days",
            "ask_amount",
            "min",
            "max",
            "confirm",
            "saved",
            "next",
        ],
        NodeType::OptOut => &["confirm", "next"],
        NodeType::Transfer => &["queue", "skills", "prompt"],
        NodeType::Webhook => &["url", "timeout_s", "retries", "returns", "next", "on_error"],
        NodeType::Hangup => &["prompt", "outcome"],
    };
    let mut fields = own.to_vec();
    if matches!(
        kind,
        NodeType::Menu | NodeType::Gather | NodeType::PromiseToPay
    ) {
        fields.extend(INPUT_FIELDS);
    }
    fields
}
