//! Agents and skill-based queues (ACD): who talks to the debtor who pressed 1.
//!
//! [`Router`] is the pure core: it owns every agent's state and every call
//! waiting in a queue, is told what happens (an agent logs in or pauses, a
//! debtor is transferred or hangs up, an agent answers or does not) with the
//! current instant, and answers with [`Action`]s: offer this call to that
//! agent, announce a position, overflow a call that waited too long. The
//! service around it (`crate::call::agents`) does the IO: SIP toward the
//! agent's softphone, the store, the screen pop.

#![deny(clippy::disallowed_methods)]

mod router;
#[cfg(test)]
mod tests;

use std::fmt;
use std::time::Duration;

pub use router::{Action, EnqueueError, PacingState, RequestError, Router, WaitingCall};

/// An agent, by its index in the router's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(pub usize);

/// A call handed to the ACD, numbered by the service that owns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueCallId(pub u64);

/// A queue, by its index in the router's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueId(pub usize);

/// A skill an agent has, with a level from 1 (some) to 10 (expert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skill {
    pub name: String,
    pub level: u8,
}

/// A skill a call needs, with the lowest level that will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub name: String,
    pub min_level: u8,
}

impl Skill {
    /// `cobranza-temprana:8`, or `cobranza-temprana` for level 5.
    pub fn parse(text: &str) -> Result<Skill, String> {
        let (name, level) = split_level(text, DEFAULT_SKILL_LEVEL)?;
        if level == 0 {
            return Err(format!("'{text}': a skill level is 1-10"));
        }
        Ok(Skill { name, level })
    }
}

impl Requirement {
    /// `ingles:5` (at least level 5), or `ingles` (any level).
    pub fn parse(text: &str) -> Result<Requirement, String> {
        let (name, min_level) = split_level(text, 1)?;
        Ok(Requirement {
            name,
            min_level: min_level.max(1),
        })
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min_level > 1 {
            write!(f, "{}:{}", self.name, self.min_level)
        } else {
            f.write_str(&self.name)
        }
    }
}

/// The level an agent's skill has when the configuration gives none.
pub const DEFAULT_SKILL_LEVEL: u8 = 5;

fn split_level(text: &str, default: u8) -> Result<(String, u8), String> {
    let text = text.trim();
    let (name, level) = match text.rsplit_once(':') {
        Some((name, level)) => {
            let level: u8 = level
                .trim()
                .parse()
                .ok()
                .filter(|l| *l <= 10)
                .ok_or_else(|| format!("'{text}': the level after ':' must be 0-10"))?;
            (name.trim(), level)
        }
        None => (text, default),
    };
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !valid {
        return Err(format!(
            "'{text}': a skill is a name of letters, digits, '-', '_' or '.', like cobranza-temprana:8"
        ));
    }
    Ok((name.to_lowercase(), level))
}

/// An agent as the router knows it.
#[derive(Debug, Clone)]
pub struct AgentSpec {
    /// The login (and SIP user name), e.g. `ana`.
    pub login: String,
    pub skills: Vec<Skill>,
}

/// A queue's rules.
#[derive(Debug, Clone)]
pub struct QueueSpec {
    pub name: String,
    /// Every call of the queue needs these, on top of what the transfer asks.
    pub skills: Vec<Requirement>,
    /// After a call, the agent stays in wrap-up this long (ended early by the agent).
    pub wrap_up: Duration,
    /// A debtor waits at most this long before the overflow action.
    pub max_wait: Duration,
    /// Tell a waiting debtor their position this often (`None`: never).
    pub announce_every: Option<Duration>,
    pub overflow: Overflow,
}

/// What happens to a call that waited `max_wait` without an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overflow {
    /// Move to another queue (keeping the debtor's place in time).
    Queue(QueueId),
    /// Play a message and schedule a callback.
    Callback,
    /// Let the debtor leave a message.
    Voicemail,
    /// Play a message and hang up.
    Hangup,
}

/// Where an agent is, as an operator sees it on the wallboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentState {
    LoggedOut,
    /// Waiting for a call.
    Ready,
    /// Chosen for a call; their softphone is ringing.
    Reserved(QueueCallId),
    /// Talking to a debtor.
    OnCall(QueueCallId),
    /// After a call (tipificación), until the timer or the agent ends it.
    WrapUp,
    /// Not taking calls, with a reason code (`break`, `lunch`, `no_answer` ...).
    Paused(String),
}

impl AgentState {
    /// The word stored and shown: `logged_out`, `ready`, `reserved` ...
    pub fn name(&self) -> &'static str {
        match self {
            AgentState::LoggedOut => "logged_out",
            AgentState::Ready => "ready",
            AgentState::Reserved(_) => "reserved",
            AgentState::OnCall(_) => "on_call",
            AgentState::WrapUp => "wrap_up",
            AgentState::Paused(_) => "paused",
        }
    }

    /// The pause reason, for paused agents.
    pub fn reason(&self) -> Option<&str> {
        match self {
            AgentState::Paused(reason) => Some(reason),
            _ => None,
        }
    }
}

/// Why an offered call did not reach the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferFailure {
    /// Rang the whole ring timeout: the agent is paused (`no_answer`).
    NoAnswer,
    /// The softphone declined (486/603): the agent is paused (`rejected`).
    Rejected,
    /// No registered softphone could be reached, or its answer was
    /// unusable: the agent is paused (`unreachable`).
    Unreachable,
}

/// A change agents ask for (CLI, HTTP, softphone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentRequest {
    Login,
    Ready,
    Pause(String),
    Logout,
    /// Finish wrap-up now.
    EndWrapUp,
}

/// The pause reason given to an agent who let an offered call ring out.
pub const PAUSE_NO_ANSWER: &str = "no_answer";
/// The pause reason given to an agent whose softphone declined a call.
pub const PAUSE_REJECTED: &str = "rejected";
