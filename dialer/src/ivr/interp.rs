//! The flow interpreter: a pure state machine per call.
//!
//! It is fed events (`handle_answered`, `handle_prompt_finished`,
//! `handle_digit`, `handle_timeout`, `handle_stored`, `handle_webhook`,
//! `handle_callee_hangup`) with the current instant, and answers with
//! [`Action`]s to drain from [`Interpreter::poll_action`] and the instant it
//! next needs waking at ([`Interpreter::poll_timeout`]). No sockets, no
//! clock, no store: the call actor does the IO. Every wait has a deadline
//! or ends with the prompt it waits for, so a flow never hangs.

#![deny(clippy::disallowed_methods)]

// Collecting keys and checking what they make, in its own file.
mod keys;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use media::say::Date;

use super::{Flow, NodeId, NodeKind, PromptId, Target, outcome};

/// Nodes a flow may go through between two outside events. Real flows
/// enter a handful; only a loop that never waits reaches this.
const MAX_INSTANT_STEPS: u32 = 1000;

/// Variables of a call: the contact's columns and what the flow collected.
pub type Vars = BTreeMap<String, String>;

/// What the call actor must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Play a prompt, rendered with `vars`; report its end with `seq`.
    Play {
        seq: u64,
        prompt: PromptId,
        vars: Vars,
    },
    /// Stop the prompt playing (the debtor pressed a key).
    StopPlayback,
    /// Commit this record, then call [`Interpreter::handle_stored`]: the
    /// debtor hears the confirmation only once it is durable.
    Store(Record),
    /// POST the call's data; report the answer with `seq`.
    Webhook {
        seq: u64,
        url: String,
        timeout: Duration,
        vars: Vars,
    },
    /// Hand the debtor to a queue of agents.
    Transfer { queue: String, skills: Vec<String> },
    /// End the call.
    Hangup,
}

/// A business record the flow produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// Promesa de pago: a date (YYYY-MM-DD) and optionally an amount.
    Promise {
        date: String,
        amount: Option<u64>,
        node: String,
    },
    /// The debtor asked not to be called again.
    OptOut { node: String },
}

/// What the current node is waiting for keys for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keys {
    Menu,
    Gather,
    PromiseDate,
    PromiseAmount,
    PromiseConfirm,
}

/// What follows the prompt that is playing.
#[derive(Debug, Clone, PartialEq)]
enum After {
    Go(Target),
    Collect(Keys),
    /// An invalid/no-input prompt: then the prompt of `Keys` again.
    Reprompt(Keys),
    PromiseSaved,
    OptOutConfirmed,
    Transfer,
    Hangup,
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    NotStarted,
    Prompt {
        seq: u64,
        after: After,
        barge_in: bool,
    },
    Keys(Keys),
    Storing {
        opt_out: bool,
    },
    Webhook {
        seq: u64,
        attempt: u32,
    },
    Ended,
}

/// One call's run through a flow.
#[derive(Debug)]
pub struct Interpreter {
    flow: Arc<Flow>,
    vars: Vars,
    today: Date,
    node: NodeId,
    state: State,
    /// Failed tries (no input, invalid) on the current node.
    tries: u32,
    digits: String,
    /// Keys pressed during a prompt with barge-in, for the next node that waits for keys.
    typed_ahead: String,
    /// A collection that ended on its last digit ignores the terminator
    /// the debtor presses out of habit right after it (`1512#`).
    swallow: Option<char>,
    deadline: Option<Instant>,
    seq: u64,
    actions: VecDeque<Action>,
    path: Vec<String>,
    inputs: Vec<(String, String)>,
    outcome: Option<String>,
    /// Nodes entered since the last outside event (the answer, a prompt's
    /// end, a key, a timeout, a store, a webhook's answer), to stop a loop
    /// that never waits.
    instant_steps: u32,
}

impl Interpreter {
    /// `vars` holds the contact's values; `today` dates promises.
    pub fn new(flow: Arc<Flow>, vars: Vars, today: Date) -> Interpreter {
        let node = flow.start;
        Interpreter {
            flow,
            vars,
            today,
            node,
            state: State::NotStarted,
            tries: 0,
            digits: String::new(),
            typed_ahead: String::new(),
            swallow: None,
            deadline: None,
            seq: 0,
            actions: VecDeque::new(),
            path: Vec::new(),
            inputs: Vec::new(),
            outcome: None,
            instant_steps: 0,
        }
    }

    // ---- events ----------------------------------------------------------

    pub fn handle_answered(&mut self, now: Instant) {
        self.instant_steps = 0;
        if self.state == State::NotStarted {
            self.go(Target::Node(self.flow.start), now);
        }
    }

    pub fn handle_prompt_finished(&mut self, now: Instant, seq: u64) {
        self.instant_steps = 0;
        let State::Prompt {
            seq: playing,
            after,
            ..
        } = &self.state
        else {
            return;
        };
        if *playing != seq {
            return;
        }
        let after = after.clone();
        match after {
            After::Go(target) => self.go(target, now),
            After::Collect(keys) => self.collect(keys, now),
            After::Reprompt(keys) => self.prompt_for(keys, now),
            After::PromiseSaved | After::OptOutConfirmed => {
                let next = match &self.flow.node(self.node).kind {
                    NodeKind::PromiseToPay { next, .. } | NodeKind::OptOut { next, .. } => {
                        next.clone()
                    }
                    _ => Target::Hangup(outcome::HUNG_UP.into()),
                };
                self.go(next, now);
            }
            After::Transfer => self.transfer(),
            After::Hangup => self.end(),
        }
    }

    pub fn handle_digit(&mut self, now: Instant, key: char) {
        self.instant_steps = 0;
        if self.swallow.take() == Some(key) {
            return;
        }
        match self.state.clone() {
            State::Prompt {
                after,
                barge_in: true,
                ..
            } => {
                self.actions.push_back(Action::StopPlayback);
                match after {
                    After::Collect(keys) | After::Reprompt(keys) => {
                        self.start_keys(keys);
                        self.key(keys, key, now);
                    }
                    After::Go(target) => {
                        self.typed_ahead.push(key);
                        self.go(target, now);
                    }
                    _ => {}
                }
            }
            State::Keys(keys) => self.key(keys, key, now),
            _ => {}
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.instant_steps = 0;
        let Some(deadline) = self.deadline else {
            return;
        };
        if now < deadline {
            return;
        }
        self.deadline = None;
        match self.state.clone() {
            State::Keys(keys) => {
                if self.digits.is_empty() {
                    self.no_input(keys, now);
                } else {
                    // The inter-digit wait ran out: what was typed is the input.
                    self.complete(keys, now);
                }
            }
            State::Webhook { seq, .. } => {
                self.handle_webhook(now, seq, Err("no answer in time".into()))
            }
            _ => {}
        }
    }

    /// The record of the last [`Action::Store`] is durable.
    pub fn handle_stored(&mut self, now: Instant) {
        self.instant_steps = 0;
        let State::Storing { opt_out } = self.state else {
            return;
        };
        let (prompt, after) = match &self.flow.node(self.node).kind {
            NodeKind::OptOut { confirm, .. } if opt_out => (*confirm, After::OptOutConfirmed),
            NodeKind::PromiseToPay { saved, .. } => (*saved, After::PromiseSaved),
            _ => return,
        };
        if opt_out {
            self.outcome = Some(outcome::OPT_OUT.into());
        } else if self.outcome.as_deref() != Some(outcome::OPT_OUT) {
            self.outcome = Some(outcome::PROMISE.into());
        }
        self.play(prompt, false, after, now);
    }

    /// The answer to a webhook: its fields, or why it failed.
    pub fn handle_webhook(&mut self, now: Instant, seq: u64, result: Result<Vars, String>) {
        self.instant_steps = 0;
        let State::Webhook {
            seq: waiting,
            attempt,
        } = self.state
        else {
            return;
        };
        if waiting != seq {
            return;
        }
        let NodeKind::Webhook {
            url,
            timeout,
            retries,
            returns,
            next,
            on_error,
        } = self.flow.node(self.node).kind.clone()
        else {
            return;
        };
        // Only the fields the flow lists become variables, and it needs them all.
        let result = result.and_then(|mut fields| {
            let missing: Vec<&str> = returns
                .iter()
                .filter(|r| !fields.contains_key(*r))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(format!("the answer has no {}", missing.join(", ")));
            }
            fields.retain(|name, _| returns.contains(name));
            Ok(fields)
        });
        match result {
            Ok(fields) => {
                self.vars.extend(fields);
                self.go(next, now);
            }
            Err(_) if attempt <= retries => self.call_webhook(url, timeout, attempt + 1, now),
            Err(why) => {
                self.inputs.push((
                    self.flow.node(self.node).name.clone(),
                    format!("error: {why}"),
                ));
                self.go(on_error, now);
            }
        }
    }

    /// The debtor hung up.
    pub fn handle_callee_hangup(&mut self) {
        if self.outcome.is_none() {
            self.outcome = Some(outcome::HUNG_UP.into());
        }
        self.state = State::Ended;
        self.deadline = None;
    }

    // ---- outputs ---------------------------------------------------------

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    pub fn is_ended(&self) -> bool {
        self.state == State::Ended
    }

    /// The outcome (tipificación) so far.
    pub fn outcome(&self) -> Option<&str> {
        self.outcome.as_deref()
    }

    /// Node names in the order visited.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// What the debtor entered, by node.
    pub fn inputs(&self) -> &[(String, String)] {
        &self.inputs
    }

    pub fn vars(&self) -> &Vars {
        &self.vars
    }

    /// The node the flow is at.
    pub fn node(&self) -> NodeId {
        self.node
    }

    // ---- moving through the flow ----------------------------------------

    /// Follows `target` through the nodes that do not wait (branch, set, a
    /// play skipped by keys typed ahead) in a loop, not by recursion, until
    /// a node waits for something or the call ends.
    fn go(&mut self, mut target: Target, now: Instant) {
        // Plays skipped on the way because keys were typed ahead.
        let mut skipped = Vec::new();
        loop {
            let id = match target {
                Target::Node(id) => id,
                Target::Hangup(outcome) => {
                    if self.outcome.is_none() {
                        self.outcome = Some(outcome);
                    }
                    return self.end();
                }
            };
            // The checker rejects loops that never wait; this is the last guard.
            self.instant_steps += 1;
            if self.instant_steps > MAX_INSTANT_STEPS {
                self.inputs.push((
                    self.flow.node(id).name.clone(),
                    format!("error: {MAX_INSTANT_STEPS} nodes in a row without waiting"),
                ));
                if !matches!(
                    self.outcome.as_deref(),
                    Some(outcome::PROMISE | outcome::OPT_OUT)
                ) {
                    self.outcome = Some(outcome::LOOP.into());
                }
                return self.end();
            }
            if skipped.contains(&id) {
                // Round again with no node on the way that takes keys: the
                // keys were meant for nothing here, and the prompt plays.
                self.typed_ahead.clear();
            }
            match self.enter(id, now) {
                Some(next) => {
                    if matches!(self.flow.node(id).kind, NodeKind::Play { .. }) {
                        skipped.push(id);
                    }
                    target = next;
                }
                None => return,
            }
        }
    }

    fn end(&mut self) {
        self.deadline = None;
        self.state = State::Ended;
        self.actions.push_back(Action::Hangup);
    }

    /// Starts node `id`; gives where to go at once when it does not wait.
    fn enter(&mut self, id: NodeId, now: Instant) -> Option<Target> {
        self.node = id;
        self.tries = 0;
        self.deadline = None;
        let node = self.flow.node(id).clone();
        self.path.push(node.name.clone());
        match node.kind {
            NodeKind::Play {
                prompt,
                barge_in,
                next,
            } => {
                if barge_in && !self.typed_ahead.is_empty() {
                    // Keys pressed already: the debtor knows where they are going.
                    return Some(next);
                }
                if !barge_in {
                    self.typed_ahead.clear();
                }
                self.play(prompt, barge_in, After::Go(next), now);
            }
            NodeKind::Menu { .. } => self.prompt_for(Keys::Menu, now),
            NodeKind::Gather { .. } => self.prompt_for(Keys::Gather, now),
            NodeKind::PromiseToPay { .. } => self.prompt_for(Keys::PromiseDate, now),
            NodeKind::Branch { cases, otherwise } => {
                let vars = &self.vars;
                let value_of = |name: &str| vars.get(name).cloned();
                let target = cases
                    .iter()
                    .find(|(condition, _)| condition.eval(&value_of))
                    .map(|(_, target)| target.clone())
                    .unwrap_or(otherwise);
                return Some(target);
            }
            NodeKind::Set { var, value, next } => {
                let vars = &self.vars;
                let filled = value
                    .fill(&|name: &str| vars.get(name).map(String::as_str))
                    .unwrap_or_default();
                self.vars.insert(var, filled);
                return Some(next);
            }
            NodeKind::OptOut { .. } => {
                self.inputs.push((node.name.clone(), "opt_out".into()));
                self.state = State::Storing { opt_out: true };
                self.actions
                    .push_back(Action::Store(Record::OptOut { node: node.name }));
            }
            NodeKind::Transfer { announce, .. } => {
                if !matches!(
                    self.outcome.as_deref(),
                    Some(outcome::PROMISE | outcome::OPT_OUT)
                ) {
                    self.outcome = Some(outcome::TRANSFER.into());
                }
                match announce {
                    Some(prompt) => self.play(prompt, false, After::Transfer, now),
                    None => self.transfer(),
                }
            }
            NodeKind::Webhook { url, timeout, .. } => self.call_webhook(url, timeout, 1, now),
            NodeKind::Hangup { prompt, outcome } => {
                if self.outcome.is_none() {
                    self.outcome = Some(outcome);
                }
                match prompt {
                    Some(prompt) => self.play(prompt, false, After::Hangup, now),
                    None => self.end(),
                }
            }
        }
        None
    }

    fn transfer(&mut self) {
        if let NodeKind::Transfer { queue, skills, .. } = &self.flow.node(self.node).kind {
            self.actions.push_back(Action::Transfer {
                queue: queue.clone(),
                skills: skills.clone(),
            });
        }
        self.deadline = None;
        self.state = State::Ended;
    }

    fn call_webhook(&mut self, url: String, timeout: Duration, attempt: u32, now: Instant) {
        self.seq += 1;
        self.state = State::Webhook {
            seq: self.seq,
            attempt,
        };
        // The call actor enforces the timeout; this guard only keeps the
        // flow from waiting forever on a driver that never answers.
        self.deadline = Some(now + timeout + Duration::from_secs(2));
        self.actions.push_back(Action::Webhook {
            seq: self.seq,
            url,
            timeout,
            vars: self.vars.clone(),
        });
    }

    fn play(&mut self, prompt: PromptId, barge_in: bool, after: After, _now: Instant) {
        self.seq += 1;
        self.deadline = None;
        self.state = State::Prompt {
            seq: self.seq,
            after,
            barge_in,
        };
        self.actions.push_back(Action::Play {
            seq: self.seq,
            prompt,
            vars: self.vars.clone(),
        });
    }
}

#[cfg(test)]
mod tests;
