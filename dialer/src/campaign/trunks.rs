//! A campaign's trunks: which one the next call goes through.
//!
//! Each trunk keeps its own caps (channels up at once, calls started per
//! second). Calls are shared by the trunks' weights (smooth weighted round
//! robin) among the trunks that have a channel and a call's worth of rate
//! free right now; a trunk that fails several calls in a row without a
//! SIP response is taken out of the rotation. Each trunk counts its
//! seizures and answers (the answer-seizure ratio, ASR).

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Disposition;
use crate::config::TrunkConfig;

/// What the pool needs of a trunk.
#[derive(Debug, Clone)]
pub struct TrunkCaps {
    pub name: String,
    pub weight: f64,
    pub max_channels: u32,
    pub max_cps: f64,
}

impl From<&TrunkConfig> for TrunkCaps {
    fn from(t: &TrunkConfig) -> TrunkCaps {
        TrunkCaps {
            name: t.name.clone(),
            weight: t.weight,
            max_channels: t.max_channels,
            max_cps: t.max_cps,
        }
    }
}

/// After this many calls in a row end in `trunk_failure`, a trunk is
/// taken out of the rotation (the run stops when no trunk is left).
pub const TRUNK_FAILURES_TO_STOP: usize = 3;

/// How long the dialing loop waits before asking the pool again when no
/// trunk has a channel and a call's worth of rate free: a channel frees
/// when a call ends, rate comes back every `1 / max_cps`.
pub const RETRY_AFTER: Duration = Duration::from_millis(1);

/// One trunk's share, caps and counts.
pub struct Slot {
    pub name: String,
    weight: f64,
    /// Smooth weighted round robin: the eligible trunk with the most
    /// credit takes the call.
    credit: f64,
    channels: Arc<Semaphore>,
    limiter: DefaultDirectRateLimiter,
    failures_in_a_row: usize,
    /// Taken out of the rotation after failing too many calls in a row.
    pub out: bool,
    /// Calls placed, and how they ended.
    pub placed: usize,
    pub ended: BTreeMap<Disposition, usize>,
}

impl Slot {
    /// Answered calls (by people or machines) over the calls the trunk
    /// took (a seizure: any SIP response; `trunk_failure` got none): the
    /// answer-seizure ratio.
    pub fn asr(&self) -> Option<f64> {
        let seized: usize = self
            .ended
            .iter()
            .filter(|(d, _)| **d != Disposition::TrunkFailure)
            .map(|(_, n)| n)
            .sum();
        // A machine's answer is an answer to the trunk.
        let answered: usize = [Disposition::Answered, Disposition::Machine]
            .iter()
            .filter_map(|d| self.ended.get(d))
            .sum();
        (seized > 0).then(|| answered as f64 / seized as f64)
    }
}

/// The campaign's trunks.
pub struct TrunkPool {
    pub slots: Vec<Slot>,
}

impl TrunkPool {
    pub fn new(trunks: &[TrunkCaps]) -> TrunkPool {
        TrunkPool {
            slots: trunks
                .iter()
                .map(|t| Slot {
                    name: t.name.clone(),
                    weight: t.weight,
                    credit: 0.0,
                    channels: Arc::new(Semaphore::new(t.max_channels as usize)),
                    limiter: RateLimiter::direct(cps_quota(t.max_cps)),
                    failures_in_a_row: 0,
                    out: false,
                    placed: 0,
                    ended: BTreeMap::new(),
                })
                .collect(),
        }
    }

    /// A trunk for a call now, not one of `tried`: its channel is held
    /// until the permit drops, and a call's worth of its rate is spent.
    /// `None` when no such trunk has both free right now.
    pub fn take(&mut self, tried: &[usize]) -> Option<(usize, OwnedSemaphorePermit)> {
        let eligible: Vec<usize> = (0..self.slots.len())
            .filter(|i| !tried.contains(i) && !self.slots[*i].out)
            .filter(|i| self.slots[*i].channels.available_permits() > 0)
            .collect();
        let total: f64 = eligible.iter().map(|&i| self.slots[i].weight).sum();
        let mut order = eligible.clone();
        order.sort_by(|&a, &b| {
            let (sa, sb) = (&self.slots[a], &self.slots[b]);
            (sb.credit + sb.weight)
                .total_cmp(&(sa.credit + sa.weight))
                .then(a.cmp(&b))
        });
        for i in order {
            let slot = &self.slots[i];
            let Ok(permit) = slot.channels.clone().try_acquire_owned() else {
                continue;
            };
            if slot.limiter.check().is_err() {
                continue;
            }
            for &j in &eligible {
                self.slots[j].credit += self.slots[j].weight;
            }
            self.slots[i].credit -= total;
            self.slots[i].placed += 1;
            return Some((i, permit));
        }
        None
    }

    /// Whether a trunk other than `tried` is still in the rotation.
    pub fn has_other(&self, tried: &[usize]) -> bool {
        (0..self.slots.len()).any(|i| !tried.contains(&i) && !self.slots[i].out)
    }

    /// Channels free on the trunks still in the rotation.
    pub fn free_channels(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| !s.out)
            .map(|s| s.channels.available_permits())
            .sum()
    }

    /// Where the next calls go: the trunks in the rotation with a channel
    /// free, each with its weight (the pool shares calls by weight).
    pub fn mix(&self) -> Vec<(usize, f64)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.out && s.channels.available_permits() > 0)
            .map(|(i, s)| (i, s.weight))
            .collect()
    }

    /// Whether every trunk is out.
    pub fn all_out(&self) -> bool {
        self.slots.iter().all(|s| s.out)
    }

    /// A call on trunk `i` ended so; true when that took the trunk out.
    pub fn ended(&mut self, i: usize, disposition: Disposition) -> bool {
        let slot = &mut self.slots[i];
        *slot.ended.entry(disposition).or_default() += 1;
        if disposition == Disposition::TrunkFailure {
            slot.failures_in_a_row += 1;
        } else {
            slot.failures_in_a_row = 0;
        }
        if slot.failures_in_a_row >= TRUNK_FAILURES_TO_STOP && !slot.out {
            slot.out = true;
            return true;
        }
        false
    }

    /// The summary's lines, one per trunk, when there are several.
    pub fn render(&self) -> String {
        if self.slots.len() < 2 {
            return String::new();
        }
        let mut out = String::from("Trunks:\n");
        for s in &self.slots {
            let asr = s
                .asr()
                .map_or("-".to_string(), |a| format!("{:.0}%", 100.0 * a));
            let ended: Vec<String> = s.ended.iter().map(|(d, n)| format!("{d} {n}")).collect();
            out.push_str(&format!(
                "  {:<16}{:>6} calls  ASR {asr:>4}  {}{}\n",
                s.name,
                s.placed,
                ended.join(" · "),
                if s.out {
                    "  (taken out: no SIP response)"
                } else {
                    ""
                }
            ));
        }
        out
    }
}

/// One call every `1 / max_cps` seconds: calls spread evenly. A wake of
/// the dialing loop may come a fraction of a millisecond late; the quota
/// lets the calls of up to 5 ms through together so that lateness is made
/// up instead of lost (at 1,000 calls per second, 0.2 ms late per wake
/// would cost a sixth of the rate). Below 200 calls per second that is
/// one call: no bursts at all.
pub fn cps_quota(max_cps: f64) -> Quota {
    let catch_up = NonZeroU32::new((max_cps * 0.005).ceil() as u32).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(Duration::from_secs_f64(1.0 / max_cps))
        .expect("validated: max_cps is positive")
        .allow_burst(catch_up)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trunk(name: &str, weight: f64, channels: u32) -> TrunkCaps {
        TrunkCaps {
            name: name.into(),
            weight,
            max_channels: channels,
            max_cps: 100_000.0,
        }
    }

    #[test]
    fn quota_spreads_calls() {
        assert_eq!(
            cps_quota(5.0).replenish_interval(),
            Duration::from_millis(200)
        );
        assert_eq!(cps_quota(0.5).replenish_interval(), Duration::from_secs(2));
        assert_eq!(cps_quota(5.0).burst_size().get(), 1);
        assert_eq!(cps_quota(200.0).burst_size().get(), 1);
        assert_eq!(cps_quota(1000.0).burst_size().get(), 5);
        assert_eq!(cps_quota(2000.0).burst_size().get(), 10);
        assert_eq!(
            cps_quota(2500.0).replenish_interval(),
            Duration::from_micros(400)
        );
    }

    #[test]
    fn calls_are_shared_by_weight_among_trunks_with_room() {
        let (a, b) = (trunk("a", 3.0, 100), trunk("b", 1.0, 100));
        let mut pool = TrunkPool::new(&[a, b]);
        let mut permits = Vec::new();
        let picks: Vec<usize> = (0..8)
            .map(|_| {
                let (i, permit) = pool.take(&[]).expect("room on both");
                permits.push(permit);
                i
            })
            .collect();
        assert_eq!(picks.iter().filter(|&&i| i == 0).count(), 6, "{picks:?}");
        // A trunk already tried is left out; a full one is skipped.
        assert_eq!(pool.take(&[0]).map(|(i, _)| i), Some(1));
        let (c, d) = (trunk("c", 1.0, 1), trunk("d", 1.0, 5));
        let mut pool = TrunkPool::new(&[c, d]);
        assert_eq!(pool.mix(), vec![(0, 1.0), (1, 1.0)]);
        let held = pool.take(&[]).unwrap();
        assert_eq!(held.0, 0);
        assert_eq!(pool.take(&[]).map(|(i, _)| i), Some(1));
        assert_eq!(pool.take(&[1]).map(|(i, _)| i), None, "c is full");
        assert_eq!(pool.mix(), vec![(1, 1.0)], "the next calls go to d");
        drop(held);
        assert_eq!(pool.take(&[1]).map(|(i, _)| i), Some(0));
    }

    #[test]
    fn a_trunk_that_keeps_failing_is_taken_out_and_asr_is_counted() {
        let (a, b) = (trunk("a", 1.0, 10), trunk("b", 1.0, 10));
        let mut pool = TrunkPool::new(&[a, b]);
        assert!(!pool.ended(0, Disposition::TrunkFailure));
        assert!(!pool.ended(0, Disposition::TrunkFailure));
        assert!(pool.ended(0, Disposition::TrunkFailure));
        assert!(pool.slots[0].out);
        assert_eq!(pool.mix(), vec![(1, 1.0)]);
        assert!(pool.has_other(&[0]));
        assert!(!pool.all_out());
        assert_eq!(pool.take(&[]).map(|(i, _)| i), Some(1));
        for d in [
            Disposition::Answered,
            Disposition::Busy,
            Disposition::Answered,
            Disposition::Congestion,
        ] {
            pool.ended(1, d);
        }
        assert_eq!(pool.slots[1].asr(), Some(0.5));
        assert_eq!(pool.slots[0].asr(), None);
    }
}
