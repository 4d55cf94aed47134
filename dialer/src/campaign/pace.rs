//! Pacing in a live campaign: the pacer of [`crate::pacing`], told what
//! the ACD's agents are doing and which calls are ringing, says how many
//! calls the dialing loop may place now.
//!
//! The loop asks every [`DECIDE_EVERY`]; between asks it places at most
//! what the last answer allowed. The pacer learns from what happens: each
//! call's ring (answered or not, and how long), each agent's call and
//! wrap-up, each answered debtor connected to an agent within the grace
//! time or abandoned, and how long each waited (and whether they hung up
//! waiting).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};

use crate::agents::Agents;
use crate::config::{AbandonWindow, PacingConfig, PacingMode};
use crate::pacing::{
    Busy, Foresight, Observed, Pacer, Predictive, PredictiveConfig, Ringing, Rung, View,
};
use crate::store::PacingHistory;

/// How often the loop asks the pacer.
pub const DECIDE_EVERY: Duration = Duration::from_millis(100);
/// Calls an hour of the day must have had over the history's two weeks
/// for its answer rate to shape the estimates: at 25% answered, 200 calls
/// tell the rate within ~6 points either way. An hour of fewer is not
/// known, and moves nothing.
const HOUR_MIN_CALLS: u64 = 200;

/// A campaign's pacer and what it has been told.
pub struct LivePacer {
    pacer: Pacer,
    queue: String,
    /// Whether the campaign has several trunks: only then is the pacer
    /// told each call's trunk (with one, the campaign's estimates are
    /// that trunk's).
    several_trunks: bool,
    origin: Instant,
    /// Calls placed and not yet answered or ended: when placed (seconds),
    /// and on which trunk (when the campaign has several).
    ringing: HashMap<u64, (f64, Option<usize>)>,
    /// Calls answered and not ended: in the flow's greeting, waiting in
    /// the queue, or talking to an agent.
    answered: HashSet<u64>,
    /// Calls the last decision allowed that the loop has not placed yet.
    allowed: usize,
    /// Debtors connected to an agent within the grace time, and not.
    pub connected: usize,
    pub abandoned: usize,
    /// Answers and abandons of the legal window before this run.
    before: (u64, u64),
    window: AbandonWindow,
    /// Where the legal window starts, and the run's connected and
    /// abandoned counts then (a calendar day's window starts again at
    /// midnight, maybe during the run).
    window_start: DateTime<Utc>,
    at_window_start: (usize, usize),
    /// Earlier runs' calls and agent calls learned at the start.
    remembered: (usize, usize),
    /// Earlier days' share of calls a person answered, by the hour of the
    /// day (UTC), where enough calls were placed in it; and the hour the
    /// pacer was last told of.
    hour_rates: [Option<f64>; 24],
    told_hour: Option<u32>,
}

impl LivePacer {
    /// The pacer of an agent mode, for a campaign of `trunks` trunks;
    /// none for a blaster.
    pub fn new(config: &PacingConfig, trunks: usize) -> Option<LivePacer> {
        let pacer = match config.mode {
            PacingMode::Blaster | PacingMode::Preview => return None,
            PacingMode::Progressive => Pacer::Progressive,
            PacingMode::Power => Pacer::Power {
                lines_per_agent: config.lines_per_agent,
            },
            PacingMode::Predictive => {
                Pacer::Predictive(Box::new(Predictive::new(PredictiveConfig {
                    abandon_cap: config.abandon_cap,
                    grace_s: PacingConfig::GRACE_S,
                    ..PredictiveConfig::default()
                })))
            }
        };
        Some(LivePacer {
            pacer,
            queue: config
                .queue
                .clone()
                .expect("validated: agent modes name their queue"),
            several_trunks: trunks > 1,
            origin: Instant::now(),
            ringing: HashMap::new(),
            answered: HashSet::new(),
            allowed: 0,
            connected: 0,
            abandoned: 0,
            before: (0, 0),
            window: config.abandon_window,
            window_start: config.abandon_window.start(Utc::now()),
            at_window_start: (0, 0),
            remembered: (0, 0),
            hour_rates: [None; 24],
            told_hour: None,
        })
    }

    /// Where the legal window starts: what the store is asked about.
    pub fn window_start(&self) -> DateTime<Utc> {
        self.window_start
    }

    /// What the store says of the window before this run.
    pub fn carry_over(&mut self, answered: u64, abandoned: u64) {
        self.before = (answered, abandoned);
        self.pacer.carry_over(answered, abandoned);
    }

    /// What the store says of the campaign's earlier calls; `wrap_s` is
    /// the queue's wrap-up, for the agents' spells (the store keeps when
    /// they talked); `trunks`, the campaign's trunks by name, in order (a
    /// call on a trunk no longer among them counts for the campaign
    /// only, as every call does with one trunk).
    /// `now`: the time the history was read at (its hour is the one told
    /// first). Returns how many calls and agent calls were learned.
    pub fn remember(
        &mut self,
        history: &PacingHistory,
        wrap_s: f64,
        trunks: &[&str],
        now: DateTime<Utc>,
    ) -> (usize, usize) {
        let spells: Vec<(f64, f64)> = history.talks.iter().map(|&t| (t, wrap_s)).collect();
        let rings: Vec<Rung> = history
            .rings
            .iter()
            .map(|(ring_s, person, trunk)| Rung {
                ring_s: *ring_s,
                person: *person,
                trunk: trunk
                    .as_deref()
                    .filter(|_| self.several_trunks)
                    .and_then(|name| trunks.iter().position(|t| *t == name)),
            })
            .collect();
        for (rate, &(calls, people)) in self.hour_rates.iter_mut().zip(&history.by_hour) {
            *rate = (calls >= HOUR_MIN_CALLS).then(|| people as f64 / calls as f64);
        }
        // The calls remembered are of this hour and the hours either side:
        // they count as this hour's.
        self.tell_hour(now);
        self.pacer.remember(&rings, &spells, &history.waits);
        self.remembered = (history.rings.len(), spells.len());
        self.remembered
    }

    /// Earlier days' answer rate for `now`'s hour of the day, as the hour
    /// begins: the estimates follow the day's shape (see
    /// [`Predictive::set_hour_rate`]).
    fn tell_hour(&mut self, now: DateTime<Utc>) {
        let hour = now.hour();
        if self.told_hour != Some(hour) {
            self.told_hour = Some(hour);
            let at = self.secs(Instant::now());
            self.pacer.set_hour_rate(at, self.hour_rates[hour as usize]);
        }
    }

    /// A calendar day's window starts again at midnight: what was counted
    /// before no longer counts against the cap.
    fn follow_window(&mut self) {
        if !matches!(self.window, AbandonWindow::Day { .. }) {
            return;
        }
        let start = self.window.start(Utc::now());
        if start > self.window_start {
            self.window_start = start;
            self.before = (0, 0);
            self.at_window_start = (self.connected, self.abandoned);
            self.pacer.new_window();
        }
    }

    pub fn name(&self) -> String {
        self.pacer.name()
    }

    pub fn queue(&self) -> &str {
        &self.queue
    }

    fn secs(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.origin).as_secs_f64()
    }

    /// Whether the loop may place a call now.
    pub fn may_place(&self) -> bool {
        self.allowed > 0
    }

    /// The loop placed call `token` on trunk `trunk`.
    pub fn placed(&mut self, token: u64, trunk: usize) {
        self.allowed = self.allowed.saturating_sub(1);
        let now = self.secs(Instant::now());
        let trunk = self.several_trunks.then_some(trunk);
        self.ringing.insert(token, (now, trunk));
    }

    /// Call `token` stopped ringing: answered by the debtor, or not.
    pub fn rang(&mut self, token: u64, answered: bool) {
        let Some((placed, trunk)) = self.ringing.remove(&token) else {
            return;
        };
        let now = self.secs(Instant::now());
        if answered {
            self.answered.insert(token);
        }
        self.pacer.observe(
            now,
            Observed::Rang {
                ring_s: now - placed,
                person: answered,
                trunk,
            },
        );
    }

    /// Call `token` ended.
    pub fn ended(&mut self, token: u64) {
        self.answered.remove(&token);
        if self.ringing.contains_key(&token) {
            self.rang(token, false);
        }
    }

    /// Asks the ACD about the queue's agents and decides how many calls
    /// may be placed until the next ask; `lines` is the trunks' free
    /// channels, `mix` the trunks the next calls go to, with their shares.
    pub async fn decide(
        &mut self,
        agents: &Agents,
        lines: usize,
        mix: &[(usize, f64)],
    ) -> Result<(), String> {
        let grace = Duration::from_secs_f64(PacingConfig::GRACE_S);
        let state = agents
            .pacing(&self.queue, grace)
            .await?
            .ok_or_else(|| format!("no queue named '{}' in the ACD", self.queue))?;
        self.follow_window();
        self.tell_hour(Utc::now());
        let now = self.secs(Instant::now());
        for (talk_s, wrap_s) in state.freed {
            self.pacer.observe(now, Observed::Freed { talk_s, wrap_s });
        }
        for &(waited_s, hung_up) in &state.waits {
            self.pacer
                .observe(now, Observed::Waited { waited_s, hung_up });
        }
        for _ in 0..state.connected {
            self.pacer.observe(now, Observed::Connected);
        }
        for _ in 0..state.abandoned {
            self.pacer.observe(now, Observed::Abandoned);
        }
        self.connected += state.connected;
        self.abandoned += state.abandoned;
        let busy: Vec<Busy> = state
            .busy
            .iter()
            .map(|(since, wrapping)| Busy {
                since: self.secs(*since),
                wrapping_since: wrapping.map(|w| self.secs(w)),
                frees: Foresight::Unknown,
            })
            .collect();
        let ringing: Vec<Ringing> = self
            .ringing
            .values()
            .map(|&(placed, trunk)| Ringing {
                placed,
                answer: Foresight::Unknown,
                trunk,
            })
            .collect();
        // Debtors who answered and are still hearing the flow's greeting
        // will want an agent in a moment: they count as waiting already.
        let greeting = self
            .answered
            .len()
            .saturating_sub(state.waiting + state.talking);
        self.allowed = self.pacer.calls_to_place(&View {
            now,
            ready: state.ready,
            busy: &busy,
            ringing: &ringing,
            waiting: state.waiting + greeting,
            lines,
            mix: if self.several_trunks { mix } else { &[] },
        });
        Ok(())
    }

    /// The summary's lines: answered debtors connected and abandoned, in
    /// the run and over the legal window.
    pub fn render(&self) -> String {
        let rate = |abandoned: u64, answered: u64| {
            if answered == 0 {
                0.0
            } else {
                100.0 * abandoned as f64 / answered as f64
            }
        };
        let answered = (self.connected + self.abandoned) as u64;
        let abandoned = self.abandoned as u64;
        let (base_connected, base_abandoned) = self.at_window_start;
        let in_window = (
            (self.connected - base_connected + self.abandoned - base_abandoned) as u64,
            (self.abandoned - base_abandoned) as u64,
        );
        let (all_answered, all_abandoned) =
            (in_window.0 + self.before.0, in_window.1 + self.before.1);
        let (calls, agent_calls) = self.remembered;
        let learned = if calls + agent_calls > 0 && matches!(self.pacer, Pacer::Predictive(_)) {
            format!("  learned from earlier runs: {calls} calls, {agent_calls} agent calls\n")
        } else {
            String::new()
        };
        format!(
            "Pacing {} (queue {}): {answered} answered debtors reached the queue, {} connected to an agent within {} s, {abandoned} abandoned ({:.1}%)\n  \
             over {}, this run included: {all_answered} answered, {all_abandoned} abandoned ({:.1}%)\n{learned}",
            self.name(),
            self.queue,
            self.connected,
            PacingConfig::GRACE_S,
            rate(abandoned, answered),
            self.window.describe(),
            rate(all_abandoned, all_answered),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PacingMode;

    fn predictive() -> LivePacer {
        let config = PacingConfig {
            mode: PacingMode::Predictive,
            queue: Some("cobranza".into()),
            lines_per_agent: 2.0,
            abandon_cap: 0.03,
            abandon_window: AbandonWindow::Rolling { hours: 720.0 },
            preview_timeout_s: 0.0,
        };
        LivePacer::new(&config, 1).expect("an agent mode has a pacer")
    }

    fn hour_factor(p: &LivePacer) -> f64 {
        match &p.pacer {
            Pacer::Predictive(p) => p.hour_factor(f64::INFINITY),
            _ => unreachable!("a predictive campaign"),
        }
    }

    /// Earlier days answered 30% at this hour and 15% at the next, of
    /// enough calls: when the next hour begins, a person's chance on the
    /// calls placed from then on is halved. An hour of too few calls on
    /// earlier days moves nothing.
    #[test]
    fn each_hour_is_told_from_earlier_days() {
        let now = Utc::now();
        let next = now + chrono::Duration::hours(1);
        let mut by_hour = [(0, 0); 24];
        by_hour[now.hour() as usize] = (2_000, 600);
        by_hour[next.hour() as usize] = (2_000, 300);
        let history = PacingHistory {
            rings: (0..200).map(|i| (10.0, i % 10 < 3, None)).collect(),
            by_hour,
            ..PacingHistory::default()
        };
        let mut p = predictive();
        p.remember(&history, 10.0, &["sipp"], now);
        assert!((hour_factor(&p) - 1.0).abs() < 1e-9, "{}", hour_factor(&p));
        p.tell_hour(next);
        assert!((hour_factor(&p) - 0.5).abs() < 1e-9, "{}", hour_factor(&p));
        // Told again in the same hour: nothing changes.
        p.tell_hour(next + chrono::Duration::minutes(1));
        assert!((hour_factor(&p) - 0.5).abs() < 1e-9, "{}", hour_factor(&p));
        p.tell_hour(now + chrono::Duration::hours(2));
        assert_eq!(hour_factor(&p), 1.0);
    }

    /// An hour of fewer than 200 calls on earlier days is not known.
    #[test]
    fn too_few_calls_say_nothing_of_an_hour() {
        let now = Utc::now();
        let mut by_hour = [(0, 0); 24];
        by_hour[now.hour() as usize] = (150, 45);
        by_hour[(now.hour() as usize + 1) % 24] = (200, 40);
        let history = PacingHistory {
            by_hour,
            ..PacingHistory::default()
        };
        let mut p = predictive();
        p.remember(&history, 10.0, &["sipp"], now);
        assert_eq!(p.hour_rates[now.hour() as usize], None);
        assert_eq!(p.hour_rates[(now.hour() as usize + 1) % 24], Some(0.2));
        assert_eq!(p.hour_rates.iter().flatten().count(), 1);
    }
}
