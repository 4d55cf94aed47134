//! The pacer: how many calls to place now, so that agents talk as much of
//! the time as possible without leaving answered debtors with no one on
//! the line.
//!
//! It is a pure decision: told the time and what the campaign looks like
//! (agents ready, agents busy and since when, calls ringing and since
//! when, debtors waiting), it says how many calls to place, and it learns
//! from what it is told happened. The same pacer runs in the campaign
//! simulator (`dialer simulate`, virtual time) and will run in the live
//! campaign; see docs/pacing.md for the modes and how they compare.
//!
//! A debtor who answers and finds no agent within the grace time (2 s,
//! the legal definition) is *abandoned*: the law caps them at 3% of the
//! calls a person answered, over a window. Progressive dialing never
//! abandons and wastes the agents' time waiting for answers; predictive
//! dialing places more calls than there are free agents, betting on who
//! will answer and who will free up, and keeps the abandons under the cap.

#![deny(clippy::disallowed_methods)]

mod estimate;
mod left;
mod patience;
mod predictive;

pub use estimate::{BusyModel, RingModel};
pub use predictive::{Predictive, PredictiveConfig};

/// What the oracle knows that no real pacer can: how a thing will end.
/// Real pacers are given `Unknown`; the simulator gives its oracle the truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Foresight {
    Unknown,
    /// A busy agent frees at this instant; a ringing call is answered by a
    /// person at this instant.
    At(f64),
    /// A ringing call ends without needing an agent (no answer, busy, a
    /// machine).
    Never,
}

impl Foresight {
    /// The instant foreseen, if there is one.
    pub fn at(self) -> Option<f64> {
        match self {
            Foresight::At(t) => Some(t),
            Foresight::Unknown | Foresight::Never => None,
        }
    }
}

/// An agent on a call or in its wrap-up.
#[derive(Debug, Clone, Copy)]
pub struct Busy {
    /// When the call began, in seconds.
    pub since: f64,
    /// When its wrap-up began (the call ended), if it has.
    pub wrapping_since: Option<f64>,
    pub frees: Foresight,
}

/// An earlier call's ringing, as remembered: seconds rung, whether a
/// person answered, and the trunk it went out on (if it is one of the
/// campaign's still).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rung {
    pub ring_s: f64,
    pub person: bool,
    pub trunk: Option<usize>,
}

/// A call placed and still ringing.
#[derive(Debug, Clone, Copy)]
pub struct Ringing {
    /// When it was placed, in seconds.
    pub placed: f64,
    pub answer: Foresight,
    /// The trunk it went out on (an index into the campaign's trunks);
    /// `None`: not known, the campaign's estimates are used.
    pub trunk: Option<usize>,
}

/// The campaign at the moment of a decision. Times are seconds on one
/// clock (the simulator's virtual one, or the shift's).
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    pub now: f64,
    /// Agents with no call: neither talking, in wrap-up, nor paused.
    pub ready: usize,
    pub busy: &'a [Busy],
    pub ringing: &'a [Ringing],
    /// Debtors who answered and wait for an agent right now.
    pub waiting: usize,
    /// The most calls that may ring at once (trunk channels free).
    pub lines: usize,
    /// Where the next calls go: trunks (indexes) with their shares (the
    /// weights of those with room). Empty: not known, the campaign's
    /// estimates are used.
    pub mix: &'a [(usize, f64)],
}

impl View<'_> {
    /// Agents logged in (ready or busy).
    pub fn agents(&self) -> usize {
        self.ready + self.busy.len()
    }
}

/// What happened, for the pacer to learn from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Observed {
    /// A call's ringing ended after `ring_s`: a person answered (and needs
    /// an agent), or not (no answer, busy, a machine, a failure). `trunk`:
    /// the one it went out on, if known.
    Rang {
        ring_s: f64,
        person: bool,
        trunk: Option<usize>,
    },
    /// An agent is free again, after `talk_s` on the call and `wrap_s` of
    /// wrap-up.
    Freed { talk_s: f64, wrap_s: f64 },
    /// A person who answered got an agent.
    Connected,
    /// A person who answered got no agent within the grace time.
    Abandoned,
    /// A debtor's wait for an agent ended after `waited_s`: they hung up
    /// then (`hung_up`), or were connected or moved on by the queue. The
    /// debtors' patience is learned from these.
    Waited { waited_s: f64, hung_up: bool },
}

/// How a campaign paces its calls (the dialing mode).
#[derive(Debug, Clone)]
pub enum Pacer {
    /// One call per ready agent: the agent waits through the ringing, and
    /// nobody is ever abandoned.
    Progressive,
    /// A fixed number of calls per ready agent (typically 1.5-3).
    Power { lines_per_agent: f64 },
    /// As many calls as the estimates say keep the abandon rate under the
    /// cap (see [`Predictive`]).
    Predictive(Box<Predictive>),
}

impl Pacer {
    pub fn name(&self) -> String {
        match self {
            Pacer::Progressive => "progressive".into(),
            Pacer::Power { lines_per_agent } => format!("power {lines_per_agent}"),
            Pacer::Predictive(p) if p.is_oracle() => "oracle".into(),
            Pacer::Predictive(p) if p.knows_calls() => "knows-calls".into(),
            Pacer::Predictive(p) if p.knows_agents() => "knows-agents".into(),
            Pacer::Predictive(_) => "predictive".into(),
        }
    }

    /// Whether this pacer is to be shown how calls will end (the oracle,
    /// knows-calls).
    pub fn foresees_calls(&self) -> bool {
        matches!(self, Pacer::Predictive(p) if p.is_oracle() || p.knows_calls())
    }

    /// Whether this pacer is asked again after each call it places, shown
    /// how that one will end (the oracle).
    pub fn asked_after_each_call(&self) -> bool {
        matches!(self, Pacer::Predictive(p) if p.is_oracle())
    }

    /// Whether this pacer is to be shown when busy agents will free.
    pub fn foresees_agents(&self) -> bool {
        matches!(self, Pacer::Predictive(p) if p.knows_agents())
    }

    /// How many calls to place now.
    pub fn calls_to_place(&mut self, view: &View) -> usize {
        let wanted = match self {
            Pacer::Progressive => view.ready.saturating_sub(view.ringing.len() + view.waiting),
            Pacer::Power { lines_per_agent } => {
                let free = view.ready.saturating_sub(view.waiting) as f64;
                let target = (free * *lines_per_agent).ceil() as usize;
                target.saturating_sub(view.ringing.len())
            }
            Pacer::Predictive(p) => p.calls_to_place(view),
        };
        wanted.min(view.lines)
    }

    /// Answers and abandons before this run, within the legal window.
    pub fn carry_over(&mut self, answered: u64, abandoned: u64) {
        if let Pacer::Predictive(p) = self {
            p.carry_over(answered, abandoned);
        }
    }

    /// See [`Predictive::remember`]; the other modes learn nothing.
    pub fn remember(&mut self, rings: &[Rung], spells: &[(f64, f64)], waits: &[(f64, bool)]) {
        if let Pacer::Predictive(p) = self {
            p.remember(rings, spells, waits);
        }
    }

    /// See [`Predictive::set_hour_rate`].
    pub fn set_hour_rate(&mut self, now: f64, rate: Option<f64>) {
        if let Pacer::Predictive(p) = self {
            p.set_hour_rate(now, rate);
        }
    }

    /// See [`Predictive::new_window`].
    pub fn new_window(&mut self) {
        if let Pacer::Predictive(p) = self {
            p.new_window();
        }
    }

    pub fn observe(&mut self, now: f64, event: Observed) {
        if let Pacer::Predictive(p) = self {
            p.observe(now, event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(ready: usize, busy: &'a [Busy], ringing: &'a [Ringing]) -> View<'a> {
        View {
            now: 100.0,
            ready,
            busy,
            ringing,
            waiting: 0,
            lines: 1_000,
            mix: &[],
        }
    }

    #[test]
    fn progressive_places_one_call_per_ready_agent_not_yet_dialing() {
        let ringing = [Ringing {
            placed: 95.0,
            answer: Foresight::Unknown,
            trunk: None,
        }; 2];
        let mut pacer = Pacer::Progressive;
        assert_eq!(pacer.calls_to_place(&view(5, &[], &ringing)), 3);
        assert_eq!(pacer.calls_to_place(&view(2, &[], &ringing)), 0);
        let mut waiting = view(5, &[], &[]);
        waiting.waiting = 1;
        assert_eq!(pacer.calls_to_place(&waiting), 4);
    }

    #[test]
    fn power_keeps_its_ratio_and_the_lines_cap() {
        let ringing = [Ringing {
            placed: 95.0,
            answer: Foresight::Unknown,
            trunk: None,
        }; 3];
        let mut pacer = Pacer::Power {
            lines_per_agent: 2.0,
        };
        assert_eq!(pacer.calls_to_place(&view(4, &[], &ringing)), 5);
        let mut few_lines = view(4, &[], &ringing);
        few_lines.lines = 2;
        assert_eq!(pacer.calls_to_place(&few_lines), 2);
    }
}
