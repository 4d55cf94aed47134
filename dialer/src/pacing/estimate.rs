//! What the predictive pacer learns from the calls it sees: how long calls
//! ring before a person answers (or before they end without one), and how
//! long an agent stays busy with a call (talk and wrap-up).
//!
//! Both are histograms that forget: each new observation weighs a little
//! more than the one before, so the estimates follow a campaign whose
//! answer rate drops in the afternoon or whose calls grow longer. They
//! answer conditional questions: of the calls that have rung `e` seconds
//! without an outcome, how many will have a person on the line within `x`
//! more; of the agents `e` seconds into a call, how many will be free
//! within `x` more.

#![deny(clippy::disallowed_methods)]

use std::collections::VecDeque;

/// A histogram of durations with fixed-width bins, read as a cumulative
/// distribution (linear within a bin).
#[derive(Debug, Clone)]
struct Histogram {
    width_s: f64,
    /// Fenwick tree over the bins: prefix sums in O(log n).
    tree: Vec<f64>,
    bins: Vec<f64>,
    total: f64,
    /// The weighted sum of the durations (for the mean).
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(width_s: f64, span_s: f64) -> Histogram {
        let n = (span_s / width_s).ceil() as usize;
        Histogram {
            width_s,
            tree: vec![0.0; n + 1],
            bins: vec![0.0; n],
            total: 0.0,
            sum: 0.0,
            count: 0,
        }
    }

    fn bin(&self, seconds: f64) -> usize {
        ((seconds.max(0.0) / self.width_s) as usize).min(self.bins.len() - 1)
    }

    fn add(&mut self, seconds: f64, weight: f64) {
        let bin = self.bin(seconds);
        self.bins[bin] += weight;
        let mut i = bin + 1;
        while i < self.tree.len() {
            self.tree[i] += weight;
            i += i & i.wrapping_neg();
        }
        self.total += weight;
        self.sum += weight * seconds;
        self.count += 1;
    }

    /// Divides every weight (keeps the numbers finite as weights grow).
    fn divide(&mut self, by: f64) {
        self.bins.iter_mut().for_each(|b| *b /= by);
        self.tree.iter_mut().for_each(|t| *t /= by);
        self.total /= by;
        self.sum /= by;
    }

    /// The weight of the whole bins below `bin`.
    fn below(&self, bin: usize) -> f64 {
        let mut sum = 0.0;
        let mut i = bin;
        while i > 0 {
            sum += self.tree[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }

    /// The weight of observations under `seconds`.
    fn mass_below(&self, seconds: f64) -> f64 {
        let seconds = seconds.max(0.0);
        let bin = self.bin(seconds);
        let within = ((seconds - bin as f64 * self.width_s) / self.width_s).clamp(0.0, 1.0);
        self.below(bin) + self.bins[bin] * within
    }

    /// The time under which `share` of the weight lies.
    fn quantile(&self, share: f64) -> f64 {
        let target = share.clamp(0.0, 1.0) * self.total;
        let mut sum = 0.0;
        for (bin, &w) in self.bins.iter().enumerate() {
            if sum + w >= target && w > 0.0 {
                let within = (target - sum) / w;
                return (bin as f64 + within) * self.width_s;
            }
            sum += w;
        }
        self.bins.len() as f64 * self.width_s
    }

    fn mean(&self) -> f64 {
        if self.total <= 0.0 {
            return 0.0;
        }
        self.sum / self.total
    }
}

/// The weight of the next observation: each weighs `1 / (1 - 1/memory)`
/// times the one before, so the latest `memory` carry ~63% of the total.
#[derive(Debug, Clone)]
struct Aging {
    weight: f64,
    growth: f64,
}

impl Aging {
    fn new(memory: f64) -> Aging {
        let mut aging = Aging {
            weight: 1.0,
            growth: 1.0,
        };
        aging.set_memory(memory);
        aging
    }

    fn set_memory(&mut self, memory: f64) {
        self.growth = 1.0 / (1.0 - 1.0 / memory.max(2.0));
    }

    /// The weight to give now; `rescale` gets the divisor when the weights
    /// grow too large, for every histogram aged by this.
    fn next(&mut self, rescale: impl FnOnce(f64)) -> f64 {
        if self.weight > 1e100 {
            rescale(self.weight);
            self.weight = 1.0;
        }
        let weight = self.weight;
        self.weight *= self.growth;
        weight
    }
}

/// How the calls placed end their ringing: a person answers (and needs an
/// agent), or not (no answer, busy, a machine, a failure: no agent needed).
#[derive(Debug, Clone)]
pub struct RingModel {
    person: Histogram,
    other: Histogram,
    aging: Aging,
}

impl RingModel {
    /// `memory`: about how many of the latest calls the estimates follow.
    pub fn new(memory: f64) -> RingModel {
        RingModel {
            person: Histogram::new(0.5, 180.0),
            other: Histogram::new(0.5, 180.0),
            aging: Aging::new(memory),
        }
    }

    /// A call's ringing ended after `ring_s`, with a person or not.
    pub fn observe(&mut self, ring_s: f64, person: bool) {
        let (a, b) = (&mut self.person, &mut self.other);
        let weight = self.aging.next(|by| {
            a.divide(by);
            b.divide(by);
        });
        if person {
            self.person.add(ring_s, weight);
        } else {
            self.other.add(ring_s, weight);
        }
    }

    /// Changes how many of the latest calls the estimates follow.
    pub fn set_memory(&mut self, memory: f64) {
        self.aging.set_memory(memory);
    }

    /// Calls whose outcome has been seen (of all time, not forgotten).
    pub fn calls_seen(&self) -> u64 {
        self.person.count + self.other.count
    }

    fn total(&self) -> f64 {
        self.person.total + self.other.total
    }

    /// The share of calls a person answers.
    pub fn person_rate(&self) -> f64 {
        let total = self.total();
        if total <= 0.0 {
            return 0.0;
        }
        self.person.total / total
    }

    /// Of the calls that have rung `elapsed_s` without an outcome, the
    /// share on which a person answers within `more_s` more.
    pub fn person_within(&self, elapsed_s: f64, more_s: f64) -> f64 {
        let total = self.total();
        if total <= 0.0 {
            return 0.0;
        }
        let person_before = self.person.mass_below(elapsed_s);
        let open = total - person_before - self.other.mass_below(elapsed_s);
        if open <= total * 1e-9 {
            // Rung longer than any call seen: nothing is known to come.
            return 0.0;
        }
        let person = self.person.mass_below(elapsed_s + more_s) - person_before;
        (person / open).clamp(0.0, 1.0)
    }

    /// The ring time under which `share` of the person-answered calls are
    /// answered.
    pub fn person_ring_quantile(&self, share: f64) -> f64 {
        self.person.quantile(share)
    }
}

/// The answer rate's shape over the day, from earlier days: a campaign's
/// debtors answer more at some hours than at others (after work more than
/// at midday), and a ring model that follows the latest calls learns a new
/// hour's rate only as its calls come in. Told the earlier days' rate for
/// each hour as it begins, this remembers the rates of the hours the ring
/// model's calls were placed in (with the same memory), and gives the
/// factor from those hours to the hour of a call: 1 within an hour, the
/// change from one hour to the next for the calls placed after it, back to
/// 1 as the new hour's calls are learned.
#[derive(Debug, Clone)]
pub struct HourShape {
    /// The latest hours told: when each began (s) and its rate.
    hours: VecDeque<(f64, Option<f64>)>,
    sum: f64,
    total: f64,
    aging: Aging,
}

/// The most the hour's shape moves an estimate, either way: earlier days
/// are a guide, not the truth of today's list.
const MOST_HOUR_FACTOR: f64 = 2.0;
/// Hours remembered: a call is learned within minutes of being placed.
const HOURS_KEPT: usize = 4;

impl HourShape {
    pub fn new(memory: f64) -> HourShape {
        HourShape {
            hours: VecDeque::new(),
            sum: 0.0,
            total: 0.0,
            aging: Aging::new(memory),
        }
    }

    /// An hour began at `since` (s): earlier days' person rate for it;
    /// `None`: not known (too few calls then).
    pub fn begin(&mut self, since: f64, rate: Option<f64>) {
        let rate = rate.filter(|r| r.is_finite() && *r > 0.0);
        self.hours.push_back((since, rate));
        while self.hours.len() > HOURS_KEPT {
            self.hours.pop_front();
        }
    }

    /// The rate of the hour `at` was in (the first hour told, for an
    /// instant before it).
    pub fn rate_at(&self, at: f64) -> Option<f64> {
        self.hours
            .iter()
            .rev()
            .find(|&&(since, _)| since <= at)
            .or(self.hours.front())
            .and_then(|&(_, rate)| rate)
    }

    /// The ring model learned a call placed in an hour of this rate.
    pub fn learned_one(&mut self, rate: Option<f64>) {
        let Some(rate) = rate else {
            return;
        };
        let (sum, total) = (&mut self.sum, &mut self.total);
        let weight = self.aging.next(|by| {
            *sum /= by;
            *total /= by;
        });
        self.sum += weight * rate;
        self.total += weight;
    }

    pub fn set_memory(&mut self, memory: f64) {
        self.aging.set_memory(memory);
    }

    /// From the hours of the calls learned to the hour `at` is in: the
    /// factor on the chance that a call placed then is a person's.
    pub fn factor_at(&self, at: f64) -> f64 {
        match self.rate_at(at) {
            Some(rate) if self.total > 0.0 && self.sum > 0.0 => {
                (rate / (self.sum / self.total)).clamp(1.0 / MOST_HOUR_FACTOR, MOST_HOUR_FACTOR)
            }
            _ => 1.0,
        }
    }
}

/// How long an agent stays busy with a call: talk, then wrap-up, each
/// learned on its own. The pacer sees which of the two an agent is in: an
/// agent who hung up and is typing the disposition (tipificación) frees
/// up in about the wrap-up time, the best notice a pacer gets.
#[derive(Debug, Clone)]
pub struct BusyModel {
    talk: Histogram,
    talk_aging: Aging,
    wrap: Histogram,
    wrap_aging: Aging,
}

impl BusyModel {
    pub fn new(memory: f64) -> BusyModel {
        BusyModel {
            talk: Histogram::new(2.0, 3_600.0),
            talk_aging: Aging::new(memory),
            wrap: Histogram::new(0.5, 600.0),
            wrap_aging: Aging::new(memory),
        }
    }

    pub fn observe(&mut self, talk_s: f64, wrap_s: f64) {
        let talk = &mut self.talk;
        let weight = self.talk_aging.next(|by| talk.divide(by));
        self.talk.add(talk_s, weight);
        let wrap = &mut self.wrap;
        let weight = self.wrap_aging.next(|by| wrap.divide(by));
        self.wrap.add(wrap_s, weight);
    }

    pub fn spells_seen(&self) -> u64 {
        self.talk.count
    }

    pub fn mean_talk_s(&self) -> f64 {
        self.talk.mean()
    }

    pub fn mean_wrap_s(&self) -> f64 {
        self.wrap.mean()
    }

    /// Of the agents `elapsed_s` into a call, the share free (talk and
    /// wrap-up done) within `more_s` more; the wrap-up counted at its mean.
    pub fn free_within_talking(&self, elapsed_s: f64, more_s: f64) -> f64 {
        let talk_left = more_s - self.mean_wrap_s();
        if talk_left <= 0.0 {
            return 0.0;
        }
        within(&self.talk, elapsed_s, talk_left)
    }

    /// Of the agents `elapsed_s` into a wrap-up, the share free within
    /// `more_s` more.
    pub fn free_within_wrapping(&self, elapsed_s: f64, more_s: f64) -> f64 {
        within(&self.wrap, elapsed_s, more_s)
    }
}

/// Of the spells `elapsed_s` long so far, the share over within `more_s`
/// more. Past the longest seen, an exponential with the mean: a long call
/// could end at any moment.
fn within(spells: &Histogram, elapsed_s: f64, more_s: f64) -> f64 {
    let total = spells.total;
    if total <= 0.0 {
        return 0.0;
    }
    let done = spells.mass_below(elapsed_s);
    let open = total - done;
    if open <= total * 1e-6 {
        let mean = spells.mean().max(1.0);
        return 1.0 - (-more_s / mean).exp();
    }
    let over = spells.mass_below(elapsed_s + more_s) - done;
    (over / open).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exponential_talk_time_is_memoryless_and_wrap_up_is_notice() {
        let mut model = BusyModel::new(1e12);
        // Quantiles of an exponential with mean 120 s.
        for i in 0..10_000 {
            let u = (i as f64 + 0.5) / 10_000.0;
            model.observe(-120.0 * (1.0 - u).ln(), 10.0);
        }
        assert!(
            (model.mean_talk_s() - 120.0).abs() < 3.0,
            "{}",
            model.mean_talk_s()
        );
        for elapsed in [0.0, 60.0, 240.0] {
            // 40 s ahead: 30 s of talk left to end, then the 10 s wrap-up.
            let p = model.free_within_talking(elapsed, 40.0);
            let expected = 1.0 - (-30.0f64 / 120.0).exp();
            assert!(
                (p - expected).abs() < 0.03,
                "after {elapsed} s: {p} vs {expected}"
            );
        }
        assert_eq!(
            model.free_within_talking(0.0, 9.0),
            0.0,
            "not before the wrap-up"
        );
        assert!(model.free_within_wrapping(5.0, 6.0) > 0.99);
        assert!(model.free_within_wrapping(5.0, 4.0) < 0.01);
    }

    #[test]
    fn ringing_calls_answer_less_the_longer_they_ring() {
        let mut model = RingModel::new(100_000.0);
        // A quarter answered by a person after 4-16 s; the rest ring out
        // at 25 s.
        for i in 0..4_000 {
            if i % 4 == 0 {
                model.observe(4.0 + f64::from(i % 13), true);
            } else {
                model.observe(25.0, false);
            }
        }
        assert!((model.person_rate() - 0.25).abs() < 0.01);
        let fresh = model.person_within(0.0, 30.0);
        assert!((fresh - 0.25).abs() < 0.01, "{fresh}");
        // After 10 s, the people left are those answering at 10-16 s, out
        // of the calls still ringing.
        let later = model.person_within(10.0, 30.0);
        assert!(later < fresh && later > 0.05, "{later}");
        assert_eq!(model.person_within(26.0, 30.0), 0.0, "rung out");
        let median = model.person_ring_quantile(0.5);
        assert!((8.0..12.0).contains(&median), "{median}");
    }

    /// With a short memory the estimate follows a change.
    #[test]
    fn the_models_forget() {
        let mut model = RingModel::new(200.0);
        for i in 0..2_000 {
            model.observe(10.0, i % 10 < 3);
        }
        assert!((model.person_rate() - 0.3).abs() < 0.05);
        for i in 0..1_000 {
            model.observe(10.0, i % 10 < 1);
        }
        assert!(
            (model.person_rate() - 0.1).abs() < 0.03,
            "{}",
            model.person_rate()
        );
        // Over a long shift the weights are rescaled (every ~92,000 calls
        // with this memory), and the estimate still follows.
        for i in 0..300_000 {
            model.observe(10.0, i % 10 < 1);
        }
        assert!(
            (model.person_rate() - 0.1).abs() < 0.03,
            "{}",
            model.person_rate()
        );
        for i in 0..1_000 {
            model.observe(10.0, i % 10 < 4);
        }
        assert!(
            (model.person_rate() - 0.4).abs() < 0.05,
            "{}",
            model.person_rate()
        );
    }

    #[test]
    fn the_hours_shape_moves_the_estimate_at_the_change_and_then_lets_go() {
        let mut shape = HourShape::new(400.0);
        // Nothing known of the hours: no change.
        shape.learned_one(None);
        assert_eq!(shape.factor_at(0.0), 1.0);
        // Earlier days answered 30% at this hour; the calls learned in it
        // say nothing more than the model does.
        shape.begin(0.0, Some(0.3));
        for _ in 0..2_000 {
            shape.learned_one(shape.rate_at(10.0));
        }
        assert!((shape.factor_at(3_000.0) - 1.0).abs() < 1e-9);
        // The next hour answered 20%: two thirds at once, for the calls
        // placed from its start; a call placed before it keeps its hour's.
        shape.begin(3_600.0, Some(0.2));
        assert!((shape.factor_at(3_600.0) - 2.0 / 3.0).abs() < 0.01);
        assert_eq!(shape.rate_at(3_599.0), Some(0.3));
        assert!((shape.factor_at(3_599.0) - 1.0).abs() < 1e-9);
        // Learning the old hour's last calls changes nothing; as the new
        // hour's are learned the ring model follows, and so does the
        // shape: back to 1.
        for _ in 0..100 {
            shape.learned_one(shape.rate_at(3_590.0));
        }
        assert!((shape.factor_at(3_600.0) - 2.0 / 3.0).abs() < 0.01);
        for _ in 0..400 {
            shape.learned_one(shape.rate_at(3_700.0));
        }
        let midway = shape.factor_at(3_700.0);
        assert!(midway > 0.7 && midway < 0.95, "{midway}");
        for _ in 0..4_000 {
            shape.learned_one(shape.rate_at(3_700.0));
        }
        assert!((shape.factor_at(3_700.0) - 1.0).abs() < 0.01);
        // Never more than twice, either way.
        shape.begin(7_200.0, Some(0.8));
        assert_eq!(shape.factor_at(7_200.0), 2.0);
        shape.begin(10_800.0, Some(0.01));
        assert_eq!(shape.factor_at(10_800.0), 0.5);
        // An hour not known: no change.
        shape.begin(14_400.0, None);
        assert_eq!(shape.factor_at(14_400.0), 1.0);
        // Only the latest hours are kept; an instant before them is
        // counted in the first kept.
        assert_eq!(shape.rate_at(0.0), Some(0.2));
    }
}
