//! Each node type's fields, checked: what a `[node.NAME]` table becomes,
//! with a problem (line and node) for every field that is missing, out of
//! range or naming nothing. Part of the loader.

use media::prompt::template::{Template, Text};
use toml::Spanned;

use super::Builder;
use crate::ivr::expr::Condition;
use crate::ivr::raw::{NodeType, RawDefaults, RawNode};
use crate::ivr::{NodeKind, PromptId, Target, Validation};

/// Extra tries of a webhook after its first.
const MAX_WEBHOOK_RETRIES: u32 = 5;

impl Builder<'_> {
    fn next(&mut self, node: &RawNode, at: usize) -> Target {
        match self.required(&node.next, at, "next") {
            Some(next) => {
                let next = next.clone();
                self.target(&next, "next")
            }
            None => Target::Hangup("error".into()),
        }
    }

    fn required_prompt(
        &mut self,
        raw: &Option<Spanned<Vec<String>>>,
        at: usize,
        field: &str,
    ) -> PromptId {
        match raw {
            Some(p) => self.prompt(p, field),
            None => {
                self.problem(at, format!("needs `{field}`"));
                self.prompts
                    .push(Template::parse(&["tts:-"]).expect("a valid placeholder"));
                self.prompts.len() - 1
            }
        }
    }

    pub(super) fn kind(&mut self, node: &RawNode, at: usize, defaults: &RawDefaults) -> NodeKind {
        match node.kind {
            NodeType::Play => NodeKind::Play {
                prompt: self.required_prompt(&node.prompt, at, "prompt"),
                barge_in: node.barge_in.unwrap_or(true),
                next: self.next(node, at),
            },
            NodeType::Say => {
                let prompt = match &node.say {
                    Some(say) => {
                        let parts =
                            Spanned::new(say.span(), vec![format!("say:{}", say.get_ref())]);
                        self.prompt(&parts, "say")
                    }
                    None => self.required_prompt(&None, at, "say"),
                };
                NodeKind::Play {
                    prompt,
                    barge_in: node.barge_in.unwrap_or(true),
                    next: self.next(node, at),
                }
            }
            NodeType::Menu => {
                let prompt = self.required_prompt(&node.prompt, at, "prompt");
                let mut choices = Vec::new();
                match &node.choices {
                    Some(map) if !map.is_empty() => {
                        for (key, target) in map {
                            let mut chars = key.chars();
                            let k = chars.next().unwrap_or(' ');
                            if chars.next().is_some() || media::dtmf::event_for_key(k).is_none() {
                                self.problem(
                                    target.span().start,
                                    format!("choices: '{key}' is not one key (0-9, *, #)"),
                                );
                            }
                            let target = self.target(target, &format!("choice '{key}'"));
                            choices.push((k, target));
                        }
                    }
                    _ => self.problem(at, "needs `choices`: key = \"node\"".into()),
                }
                let other = node.other.as_ref().map(|t| self.target(t, "other"));
                NodeKind::Menu {
                    prompt,
                    choices,
                    other,
                    input: self.input(node, defaults),
                }
            }
            NodeType::Gather => {
                let prompt = self.required_prompt(&node.prompt, at, "prompt");
                let into = match self.required(&node.into, at, "into") {
                    Some(v) => v.get_ref().trim().to_lowercase(),
                    None => String::new(),
                };
                let min = node.min_digits.as_ref().map_or(1, |m| *m.get_ref());
                let max = node
                    .max_digits
                    .as_ref()
                    .map_or(min.max(1), |m| *m.get_ref());
                if min == 0 || min > max || max > 32 {
                    self.problem(
                        at,
                        format!("digits: need 1 <= min_digits ({min}) <= max_digits ({max}) <= 32"),
                    );
                }
                let terminator = match &node.terminator {
                    None => Some('#'),
                    Some(t) if t.get_ref().is_empty() => None,
                    Some(t) => {
                        let k = t.get_ref().chars().next().unwrap_or(' ');
                        if t.get_ref().chars().count() != 1
                            || media::dtmf::event_for_key(k).is_none()
                        {
                            self.problem(
                                t.span().start,
                                format!("terminator '{}' is not one key", t.get_ref()),
                            );
                        }
                        Some(k)
                    }
                };
                let validation = match node
                    .validate
                    .as_ref()
                    .map(|v| (v.get_ref().as_str(), v.span().start))
                {
                    None | Some(("digits", _)) => Validation::Digits,
                    Some(("date", _)) => Validation::Date {
                        within_days: self.within_days(&node.within_days),
                    },
                    Some(("amount", at)) => {
                        let (min, max) = (
                            node.min.unwrap_or(1),
                            node.max.unwrap_or(u64::from(u32::MAX)),
                        );
                        if min > max {
                            self.problem(at, format!("amount: min {min} is above max {max}"));
                        }
                        Validation::Amount { min, max }
                    }
                    Some((other, at)) => {
                        self.problem(
                            at,
                            format!("validate = '{other}': use digits, date or amount"),
                        );
                        Validation::Digits
                    }
                };
                NodeKind::Gather {
                    prompt,
                    into,
                    min_digits: min,
                    max_digits: max,
                    terminator,
                    validation,
                    input: self.input(node, defaults),
                    next: self.next(node, at),
                }
            }
            NodeType::Branch => {
                let mut cases = Vec::new();
                for case in node.when.iter().flatten() {
                    let target = self.target(&case.then, "then");
                    match Condition::parse(case.condition.get_ref()) {
                        Ok(condition) => cases.push((condition, target)),
                        Err(e) => self.problem(case.condition.span().start, format!("if: {e}")),
                    }
                }
                if node.when.as_ref().is_none_or(|w| w.is_empty()) {
                    self.problem(
                        at,
                        "needs `when = [{ if = \"...\", then = \"node\" }]`".into(),
                    );
                }
                let otherwise = match self.required(&node.otherwise, at, "else") {
                    Some(t) => {
                        let t = t.clone();
                        self.target(&t, "else")
                    }
                    None => Target::Hangup("error".into()),
                };
                NodeKind::Branch { cases, otherwise }
            }
            NodeType::Set => {
                let var = node.var.as_ref().map(|v| v.get_ref().trim().to_lowercase());
                if var.is_none() {
                    self.problem(at, "needs `var`".into());
                }
                let value = match self.required(&node.value, at, "value") {
                    Some(v) => {
                        let (text, span) = (v.get_ref().clone(), v.span().start);
                        Text::parse(&text).unwrap_or_else(|e| {
                            self.problem(span, format!("value: {e}"));
                            Text::parse("").expect("empty text parses")
                        })
                    }
                    None => Text::parse("").expect("empty text parses"),
                };
                NodeKind::Set {
                    var: var.unwrap_or_default(),
                    value,
                    next: self.next(node, at),
                }
            }
            NodeType::PromiseToPay => {
                let ask = self.required_prompt(&node.ask, at, "ask");
                let within_days = self.within_days(&node.within_days);
                let amount = node.ask_amount.as_ref().map(|p| {
                    let prompt = self.prompt(p, "ask_amount");
                    (
                        prompt,
                        node.min.unwrap_or(1),
                        node.max.unwrap_or(u64::from(u32::MAX)),
                    )
                });
                NodeKind::PromiseToPay {
                    ask,
                    within_days,
                    amount,
                    confirm: self.required_prompt(&node.confirm, at, "confirm"),
                    saved: self.required_prompt(&node.saved, at, "saved"),
                    input: self.input(node, defaults),
                    next: self.next(node, at),
                }
            }
            NodeType::OptOut => NodeKind::OptOut {
                confirm: self.required_prompt(&node.confirm, at, "confirm"),
                next: self.next(node, at),
            },
            NodeType::Transfer => NodeKind::Transfer {
                queue: match self.required(&node.queue, at, "queue") {
                    Some(q) => q.get_ref().clone(),
                    None => String::new(),
                },
                skills: node.skills.clone().unwrap_or_default(),
                announce: self.optional_prompt(&node.prompt, "prompt"),
            },
            NodeType::Webhook => {
                let url = match self.required(&node.url, at, "url") {
                    Some(u) => {
                        let (url, span) = (u.get_ref().clone(), u.span().start);
                        if !(url.starts_with("http://") || url.starts_with("https://")) {
                            self.problem(span, format!("url '{url}' is not http:// or https://"));
                        }
                        url
                    }
                    None => String::new(),
                };
                let on_error = match self.required(&node.on_error, at, "on_error") {
                    Some(t) => {
                        let t = t.clone();
                        self.target(&t, "on_error")
                    }
                    None => Target::Hangup(crate::ivr::outcome::WEBHOOK_ERROR.into()),
                };
                NodeKind::Webhook {
                    url,
                    timeout: self.seconds(&node.timeout_s, 5.0, "timeout_s"),
                    retries: self.webhook_retries(&node.retries),
                    returns: node
                        .returns
                        .clone()
                        .unwrap_or_default()
                        .iter()
                        .map(|r| r.to_lowercase())
                        .collect(),
                    next: self.next(node, at),
                    on_error,
                }
            }
            NodeType::Hangup => NodeKind::Hangup {
                prompt: self.optional_prompt(&node.prompt, "prompt"),
                outcome: match self.required(&node.outcome, at, "outcome") {
                    Some(o) => o.get_ref().trim().to_owned(),
                    None => String::new(),
                },
            },
        }
    }

    /// A webhook's extra tries: a debtor waits in silence through every one.
    fn webhook_retries(&mut self, raw: &Option<Spanned<u32>>) -> u32 {
        match raw {
            None => 1,
            Some(r) if *r.get_ref() <= MAX_WEBHOOK_RETRIES => *r.get_ref(),
            Some(r) => {
                self.problem(
                    r.span().start,
                    format!(
                        "retries = {}: a webhook is retried at most {MAX_WEBHOOK_RETRIES} times",
                        r.get_ref()
                    ),
                );
                1
            }
        }
    }

    fn within_days(&mut self, raw: &Option<Spanned<u32>>) -> u32 {
        match raw {
            None => 30,
            Some(d) if (1..=366).contains(d.get_ref()) => *d.get_ref(),
            Some(d) => {
                self.problem(
                    d.span().start,
                    format!("within_days = {}: use 1-366", d.get_ref()),
                );
                30
            }
        }
    }
}
