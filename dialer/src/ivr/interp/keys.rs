//! Keys: what a debtor types at the nodes that wait for them (`menu`,
//! `gather`, `promise_to_pay`), from the prompt that asks through the
//! digits, the terminator and the inter-digit wait, to a valid value or an
//! invalid/no-input retry. Part of the interpreter; told the time like it.

use std::time::Instant;

use super::{Action, After, Interpreter, Keys, Record, State};
use crate::ivr::{Input, NodeKind, PromptId, Validation};

impl Interpreter {
    pub(super) fn input(&self) -> &Input {
        match &self.flow.node(self.node).kind {
            NodeKind::Menu { input, .. }
            | NodeKind::Gather { input, .. }
            | NodeKind::PromiseToPay { input, .. } => input,
            other => unreachable!("only nodes that wait for keys have input rules, not {other:?}"),
        }
    }

    /// The prompt that asks for `keys` on the current node.
    pub(super) fn keys_prompt(&self, keys: Keys) -> PromptId {
        match (&self.flow.node(self.node).kind, keys) {
            (NodeKind::Menu { prompt, .. }, _) | (NodeKind::Gather { prompt, .. }, _) => *prompt,
            (NodeKind::PromiseToPay { ask, .. }, Keys::PromiseDate) => *ask,
            (
                NodeKind::PromiseToPay {
                    amount: Some((prompt, ..)),
                    ..
                },
                Keys::PromiseAmount,
            ) => *prompt,
            (NodeKind::PromiseToPay { confirm, .. }, _) => *confirm,
            (other, _) => unreachable!("{other:?} does not ask for keys"),
        }
    }

    pub(super) fn prompt_for(&mut self, keys: Keys, now: Instant) {
        if !self.typed_ahead.is_empty() {
            return self.collect(keys, now);
        }
        let prompt = self.keys_prompt(keys);
        self.play(prompt, true, After::Collect(keys), now);
    }

    pub(super) fn start_keys(&mut self, keys: Keys) {
        self.digits.clear();
        self.state = State::Keys(keys);
    }

    /// The prompt ended (or was skipped): wait for keys, starting with any typed ahead.
    pub(super) fn collect(&mut self, keys: Keys, now: Instant) {
        self.start_keys(keys);
        self.deadline = Some(now + self.input().first_timeout);
        for key in std::mem::take(&mut self.typed_ahead).chars() {
            if self.state != State::Keys(keys) {
                break;
            }
            self.key(keys, key, now);
        }
    }

    pub(super) fn key(&mut self, keys: Keys, key: char, now: Instant) {
        let single = matches!(keys, Keys::Menu | Keys::PromiseConfirm);
        if single {
            self.digits.push(key);
            return self.complete(keys, now);
        }
        let (max, terminator) = match &self.flow.node(self.node).kind {
            NodeKind::Gather {
                max_digits,
                terminator,
                ..
            } => (*max_digits as usize, *terminator),
            NodeKind::PromiseToPay { .. } if keys == Keys::PromiseDate => (4, Some('#')),
            _ => (9, Some('#')),
        };
        if Some(key) == terminator {
            return self.complete(keys, now);
        }
        self.digits.push(key);
        if self.digits.len() >= max {
            self.swallow = terminator;
            return self.complete(keys, now);
        }
        self.deadline = Some(now + self.input().inter_timeout);
    }

    pub(super) fn record_input(&mut self) {
        let name = self.flow.node(self.node).name.clone();
        self.inputs.push((name, self.digits.clone()));
    }

    pub(super) fn complete(&mut self, keys: Keys, now: Instant) {
        self.deadline = None;
        self.record_input();
        let node = self.flow.node(self.node).kind.clone();
        match (keys, node) {
            (Keys::Menu, NodeKind::Menu { choices, other, .. }) => {
                let key = self.digits.chars().next().unwrap_or(' ');
                match choices
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, t)| t.clone())
                    .or(other)
                {
                    Some(target) => self.go(target, now),
                    None => self.invalid(keys, now),
                }
            }
            (
                Keys::Gather,
                NodeKind::Gather {
                    into,
                    min_digits,
                    validation,
                    next,
                    ..
                },
            ) => match self.validate(&validation, min_digits) {
                Some(value) => {
                    self.vars.insert(into, value);
                    self.go(next, now);
                }
                None => self.invalid(keys, now),
            },
            (
                Keys::PromiseDate,
                NodeKind::PromiseToPay {
                    within_days,
                    amount,
                    ..
                },
            ) => match self.validate(&Validation::Date { within_days }, 4) {
                Some(date) => {
                    self.vars.insert("promise_date".into(), date);
                    self.vars.remove("promise_amount");
                    let next = if amount.is_some() {
                        Keys::PromiseAmount
                    } else {
                        Keys::PromiseConfirm
                    };
                    self.tries = 0;
                    self.prompt_for(next, now);
                }
                None => self.invalid(keys, now),
            },
            (
                Keys::PromiseAmount,
                NodeKind::PromiseToPay {
                    amount: Some((_, min, max)),
                    ..
                },
            ) => match self.validate(&Validation::Amount { min, max }, 1) {
                Some(value) => {
                    self.vars.insert("promise_amount".into(), value);
                    self.tries = 0;
                    self.prompt_for(Keys::PromiseConfirm, now);
                }
                None => self.invalid(keys, now),
            },
            (Keys::PromiseConfirm, NodeKind::PromiseToPay { .. }) => match self.digits.as_str() {
                "1" => {
                    let record = Record::Promise {
                        date: self.vars.get("promise_date").cloned().unwrap_or_default(),
                        amount: self.vars.get("promise_amount").and_then(|a| a.parse().ok()),
                        node: self.flow.node(self.node).name.clone(),
                    };
                    self.state = State::Storing { opt_out: false };
                    self.actions.push_back(Action::Store(record));
                }
                "2" => {
                    self.tries = 0;
                    self.prompt_for(Keys::PromiseDate, now);
                }
                _ => self.invalid(keys, now),
            },
            (keys, other) => unreachable!("keys {keys:?} on {other:?}"),
        }
    }

    /// The typed digits as the variable's value, or `None` when they do not pass.
    pub(super) fn validate(&self, validation: &Validation, min_digits: u32) -> Option<String> {
        let digits = &self.digits;
        if digits.len() < min_digits as usize || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        match validation {
            Validation::Digits => Some(digits.clone()),
            Validation::Amount { min, max } => {
                let amount: u64 = digits.parse().ok()?;
                (*min..=*max).contains(&amount).then(|| amount.to_string())
            }
            Validation::Date { within_days } => {
                if digits.len() != 4 {
                    return None;
                }
                // Keyed in the language's order: DDMM in Spanish, MMDD in English.
                let (first, second): (u8, u8) =
                    (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
                let (day, month) = match self.flow.language.date_order() {
                    media::say::DateOrder::DayFirst => (first, second),
                    media::say::DateOrder::MonthFirst => (second, first),
                };
                // The next such day from today: this year, or next.
                let valid = |year| {
                    media::say::input::parse_date(
                        &format!("{year:04}-{month:02}-{day:02}"),
                        media::say::DateOrder::DayFirst,
                    )
                    .ok()
                };
                let this_year = valid(self.today.year)?;
                let date = if this_year >= self.today {
                    this_year
                } else {
                    valid(self.today.year + 1)?
                };
                let ahead = date.days() - self.today.days();
                (ahead <= i64::from(*within_days)).then(|| date.iso())
            }
        }
    }

    pub(super) fn invalid(&mut self, keys: Keys, now: Instant) {
        self.tries += 1;
        let input = self.input().clone();
        if self.tries > input.retries {
            return self.go(input.on_invalid, now);
        }
        match input.invalid {
            Some(prompt) => self.play(prompt, true, After::Reprompt(keys), now),
            None => self.prompt_for(keys, now),
        }
    }

    pub(super) fn no_input(&mut self, keys: Keys, now: Instant) {
        self.inputs
            .push((self.flow.node(self.node).name.clone(), String::new()));
        self.tries += 1;
        let input = self.input().clone();
        if self.tries > input.retries {
            return self.go(input.on_no_input, now);
        }
        match input.no_input {
            Some(prompt) => self.play(prompt, true, After::Reprompt(keys), now),
            None => self.prompt_for(keys, now),
        }
    }
}
