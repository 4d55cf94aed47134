//! When a contact is called again: by how its last attempt ended (busy,
//! no answer, an answering machine, a failure, an abandoned call, a callback the debtor was
//! promised), with a delay and a cap per outcome and a cap in all.
//!
//! Pure: told a contact's attempts in this campaign, it says when the next
//! one is due, or why there is none.

#![deny(clippy::disallowed_methods)]

use chrono::{DateTime, Duration, Utc};

use super::Disposition;
use crate::call::transfer::outcome;

/// The outcomes a retry rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Busy,
    NoAnswer,
    /// An answering machine took the call (`[amd]`).
    Machine,
    /// Declined, congestion, trunk failures, dead lines, errors, calls the
    /// operator interrupted or a crash left unknown.
    Failed,
    /// A paced call no agent took within the grace time.
    Abandoned,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Busy => "busy",
            Class::NoAnswer => "no_answer",
            Class::Machine => "machine",
            Class::Failed => "failed",
            Class::Abandoned => "abandoned",
        }
    }

    /// The class of an attempt, or none when it ends the contact's calls
    /// (an answered call, a number that does not exist).
    pub fn of(disposition: Disposition, outcome: Option<&str>) -> Option<Class> {
        match disposition {
            Disposition::Busy => Some(Class::Busy),
            Disposition::NoAnswer => Some(Class::NoAnswer),
            Disposition::Machine => Some(Class::Machine),
            Disposition::Answered if outcome == Some(outcome::PACER_ABANDONED) => {
                Some(Class::Abandoned)
            }
            Disposition::Answered | Disposition::InvalidNumber => None,
            Disposition::Rejected
            | Disposition::Congestion
            | Disposition::TrunkFailure
            | Disposition::Error
            | Disposition::MediaTimeout
            | Disposition::Interrupted
            | Disposition::Unknown => Some(Class::Failed),
        }
    }
}

/// Call again `after_s` after an attempt of this class, at most `max`
/// times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    pub after_s: f64,
    pub max: u32,
}

/// A campaign's `[retry]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    pub busy: Option<Rule>,
    pub no_answer: Option<Rule>,
    pub machine: Option<Rule>,
    pub failed: Option<Rule>,
    pub abandoned: Option<Rule>,
    /// The most attempts a contact gets in the campaign, callbacks included.
    pub max_attempts: u32,
    /// A run waits for the retries due within this long of its end; later
    /// ones are left for a later run.
    pub within_run_s: f64,
    /// Call the debtors promised a callback (a queue's `overflow =
    /// "callback"`) when it is due.
    pub callbacks: bool,
    /// A callback due waits this long for a ready agent of its queue, who
    /// is reserved before the call (0: dialed through the flow at once).
    pub callback_agent_wait_s: f64,
}

impl RetryPolicy {
    fn rule(&self, class: Class) -> Option<Rule> {
        match class {
            Class::Busy => self.busy,
            Class::NoAnswer => self.no_answer,
            Class::Machine => self.machine,
            Class::Failed => self.failed,
            Class::Abandoned => self.abandoned,
        }
    }

    /// When the contact's next attempt is due, after `history` (its
    /// attempts in this campaign, oldest first; not empty).
    pub fn next(&self, history: &[Past]) -> Next {
        let Some(last) = history.last() else {
            return Next::Done("never called".into());
        };
        let attempts = history.len() as u32;
        if attempts >= self.max_attempts {
            return Next::Done(format!(
                "{attempts} attempts, the campaign's most (retry.max_attempts)"
            ));
        }
        if self.callbacks
            && let Some((due, queue)) = &last.callback
        {
            return Next::Callback {
                at: *due,
                queue: queue.clone(),
            };
        }
        let Some(disposition) = last.disposition else {
            return Next::Done("the last attempt is still open".into());
        };
        let Some(class) = Class::of(disposition, last.outcome.as_deref()) else {
            return Next::Done(format!(
                "the last attempt ended {}",
                last.outcome.as_deref().unwrap_or(disposition.as_str())
            ));
        };
        let Some(rule) = self.rule(class) else {
            return Next::Done(format!("no retry after {}", class.name()));
        };
        let of_class = history
            .iter()
            .filter(|p| {
                p.disposition
                    .and_then(|d| Class::of(d, p.outcome.as_deref()))
                    == Some(class)
            })
            .count() as u32;
        if of_class > rule.max {
            return Next::Done(format!(
                "{of_class} attempts ended {}, and retry.{} allows {} more after the first",
                class.name(),
                class.name(),
                rule.max
            ));
        }
        Next::Due(last.ended_at + Duration::milliseconds((rule.after_s * 1_000.0) as i64))
    }
}

/// One earlier attempt, as the policy needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Past {
    pub disposition: Option<Disposition>,
    pub outcome: Option<String>,
    pub ended_at: DateTime<Utc>,
    /// A callback promised on this attempt: when due, and by which queue.
    pub callback: Option<(DateTime<Utc>, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Due(DateTime<Utc>),
    /// The callback a queue promised, due then: an agent of the queue
    /// takes it.
    Callback {
        at: DateTime<Utc>,
        queue: String,
    },
    /// No more calls, and why.
    Done(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    fn past(disposition: Disposition, outcome: Option<&str>, ended: i64) -> Past {
        Past {
            disposition: Some(disposition),
            outcome: outcome.map(str::to_owned),
            ended_at: at(ended),
            callback: None,
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            busy: Some(Rule {
                after_s: 300.0,
                max: 2,
            }),
            no_answer: Some(Rule {
                after_s: 3600.0,
                max: 1,
            }),
            machine: Some(Rule {
                after_s: 4.0 * 3600.0,
                max: 1,
            }),
            failed: None,
            abandoned: Some(Rule {
                after_s: 72.0 * 3600.0,
                max: 1,
            }),
            max_attempts: 4,
            within_run_s: 3600.0,
            callbacks: true,
            callback_agent_wait_s: 120.0,
        }
    }

    #[test]
    fn each_outcome_has_its_delay_and_its_cap() {
        let p = policy();
        let busy = past(Disposition::Busy, None, 100);
        assert_eq!(p.next(std::slice::from_ref(&busy)), Next::Due(at(400)));
        let twice = [busy.clone(), past(Disposition::Busy, None, 500)];
        assert_eq!(p.next(&twice), Next::Due(at(800)));
        let thrice = [
            busy.clone(),
            busy.clone(),
            past(Disposition::Busy, None, 900),
        ];
        assert_eq!(
            p.next(&thrice),
            Next::Done(
                "3 attempts ended busy, and retry.busy allows 2 more after the first".into()
            )
        );
        // A no answer after two busies: its own count.
        let mixed = [busy.clone(), busy, past(Disposition::NoAnswer, None, 900)];
        assert_eq!(p.next(&mixed), Next::Due(at(4500)));
        assert_eq!(
            p.next(&[past(Disposition::Congestion, None, 0)]),
            Next::Done("no retry after failed".into())
        );
        assert_eq!(
            p.next(&[past(Disposition::Answered, Some("promise_to_pay"), 0)]),
            Next::Done("the last attempt ended promise_to_pay".into())
        );
        assert_eq!(
            p.next(&[past(Disposition::InvalidNumber, None, 0)]),
            Next::Done("the last attempt ended invalid_number".into())
        );
        assert_eq!(
            p.next(&[past(Disposition::Answered, Some("abandoned"), 0)]),
            Next::Due(at(72 * 3600))
        );
        // An answering machine: called again after 4 hours, once.
        let machine = past(Disposition::Machine, None, 0);
        assert_eq!(
            p.next(std::slice::from_ref(&machine)),
            Next::Due(at(4 * 3600))
        );
        assert_eq!(
            p.next(&[machine.clone(), machine]),
            Next::Done(
                "2 attempts ended machine, and retry.machine allows 1 more after the first".into()
            )
        );
    }

    #[test]
    fn callbacks_are_due_when_promised_and_the_total_caps_everything() {
        let p = policy();
        let mut callback = past(Disposition::Answered, Some("callback_scheduled"), 50);
        callback.callback = Some((at(1_000), "cobranza".into()));
        assert_eq!(
            p.next(std::slice::from_ref(&callback)),
            Next::Callback {
                at: at(1_000),
                queue: "cobranza".into()
            }
        );
        let without = RetryPolicy {
            callbacks: false,
            ..policy()
        };
        assert!(matches!(
            without.next(std::slice::from_ref(&callback)),
            Next::Done(_)
        ));
        let four = vec![past(Disposition::Busy, None, 0); 4];
        assert_eq!(
            p.next(&four),
            Next::Done("4 attempts, the campaign's most (retry.max_attempts)".into())
        );
    }
}
