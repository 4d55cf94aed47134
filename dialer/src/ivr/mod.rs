//! IVR self-service flows: what a debtor can do with the keypad.
//!
//! A flow is a file of named nodes (`play`, `menu`, `gather`, `branch`,
//! `set`, `promise_to_pay`, `opt_out`, `transfer`, `webhook`, `hangup`),
//! loaded and checked once ([`load`]), run per call by a pure interpreter
//! ([`interp`]) that is told the time and returns actions, and drawn as a
//! diagram ([`graph`]). The language is documented in `docs/flows.md`.

#![deny(clippy::disallowed_methods)]

mod check;
pub mod expr;
pub mod graph;
pub mod interp;
pub mod load;
mod raw;

use std::path::PathBuf;
use std::time::Duration;

use media::prompt::template::Template;
use media::say::Language;

pub use check::BUILT_IN;
pub use interp::{Action, Interpreter, Record};
pub use load::{FlowError, load, parse};

use crate::config::SayWith;

/// A node's position in [`Flow::nodes`].
pub type NodeId = usize;
/// A prompt's position in [`Flow::prompts`].
pub type PromptId = usize;

/// Where a flow goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Node(NodeId),
    /// End the call with this outcome (tipificación), e.g. `hangup:no_input`.
    Hangup(String),
}

/// How a node that waits for keys behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// Wait for the first key this long after the prompt.
    pub first_timeout: Duration,
    /// Then between keys.
    pub inter_timeout: Duration,
    /// Extra tries after a timeout or an invalid input.
    pub retries: u32,
    pub no_input: Option<PromptId>,
    pub invalid: Option<PromptId>,
    pub on_no_input: Target,
    pub on_invalid: Target,
}

/// What a `gather` accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum Validation {
    /// Any keys.
    Digits,
    /// `DDMM` (`MMDD` in English): a date from today up to `within_days`
    /// ahead, stored as YYYY-MM-DD.
    Date { within_days: u32 },
    /// Whole units, `min..=max`.
    Amount { min: u64, max: u64 },
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Play {
        prompt: PromptId,
        barge_in: bool,
        next: Target,
    },
    Menu {
        prompt: PromptId,
        choices: Vec<(char, Target)>,
        /// For a key not in `choices`; without it such a key is invalid input.
        other: Option<Target>,
        input: Input,
    },
    Gather {
        prompt: PromptId,
        into: String,
        min_digits: u32,
        max_digits: u32,
        terminator: Option<char>,
        validation: Validation,
        input: Input,
        next: Target,
    },
    Branch {
        cases: Vec<(expr::Condition, Target)>,
        otherwise: Target,
    },
    Set {
        var: String,
        value: media::prompt::template::Text,
        next: Target,
    },
    PromiseToPay {
        ask: PromptId,
        within_days: u32,
        /// Ask for an amount too, in whole units.
        amount: Option<(PromptId, u64, u64)>,
        confirm: PromptId,
        saved: PromptId,
        input: Input,
        next: Target,
    },
    OptOut {
        confirm: PromptId,
        next: Target,
    },
    Transfer {
        queue: String,
        skills: Vec<String>,
        announce: Option<PromptId>,
    },
    Webhook {
        url: String,
        timeout: Duration,
        retries: u32,
        returns: Vec<String>,
        next: Target,
        on_error: Target,
    },
    Hangup {
        prompt: Option<PromptId>,
        outcome: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    /// Line of the node in its file, for messages.
    pub line: usize,
    pub kind: NodeKind,
}

/// A checked flow, shared by every call that runs it.
#[derive(Debug, Clone)]
pub struct Flow {
    pub path: PathBuf,
    pub name: String,
    pub language: Language,
    /// Folder of recorded phrases and fragments.
    pub prompts_dir: Option<PathBuf>,
    pub say_with: SayWith,
    pub start: NodeId,
    pub nodes: Vec<Node>,
    pub prompts: Vec<Template>,
    /// Contact columns the flow uses beyond the standard ones.
    pub variables: Vec<String>,
}

impl Flow {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Where a target leads, by name, for diagrams and messages.
    pub fn target_name(&self, target: &Target) -> String {
        match target {
            Target::Node(id) => self.nodes[*id].name.clone(),
            Target::Hangup(outcome) => format!("hangup:{outcome}"),
        }
    }
}

/// Outcomes the interpreter sets on its own.
pub mod outcome {
    pub const NO_INPUT: &str = "no_input";
    pub const INVALID_INPUT: &str = "invalid_input";
    pub const PROMISE: &str = "promise_to_pay";
    pub const OPT_OUT: &str = "opt_out";
    pub const TRANSFER: &str = "transfer_requested";
    pub const HUNG_UP: &str = "hung_up";
    pub const WEBHOOK_ERROR: &str = "webhook_error";
    /// The flow went round nodes that never wait (a last guard: the checker
    /// refuses such loops).
    pub const LOOP: &str = "flow_loop";
}

#[cfg(test)]
mod tests;
