//! How long answered debtors wait for an agent before they hang up.
//!
//! The grace time (2 s) is how long the law lets a debtor wait; a debtor
//! who hears silence may hang up sooner, and is abandoned all the same. A
//! pacer that counts on every debtor waiting the whole grace time places
//! calls for agents who free up after the debtor is gone. So the pacer
//! learns the patience from the waits that ended: a debtor who hung up
//! after `w` seconds had a patience of `w`; one connected after `w` had
//! more (a censored observation). The Kaplan-Meier estimate over the
//! latest waits uses both: of the debtors who had waited `w`, how many
//! hung up then. Most debtors are connected at once and say little; those
//! who waited say how long debtors wait.

#![deny(clippy::disallowed_methods)]

use std::collections::VecDeque;

/// The latest waits the estimate follows.
const MEMORY: usize = 400;

#[derive(Debug, Clone, Default)]
pub struct PatienceModel {
    /// Seconds waited, and whether the debtor hung up then.
    waits: VecDeque<(f64, bool)>,
    hang_ups: usize,
}

impl PatienceModel {
    pub fn observe(&mut self, waited_s: f64, hung_up: bool) {
        if self.waits.len() == MEMORY
            && let Some((_, old)) = self.waits.pop_front()
        {
            self.hang_ups -= usize::from(old);
        }
        self.waits.push_back((waited_s.max(0.0), hung_up));
        self.hang_ups += usize::from(hung_up);
    }

    /// For each of `shares` (ascending), the wait by which that share of
    /// debtors would have hung up, if the waits seen reach it.
    pub fn quantiles(&self, shares: &[f64]) -> Vec<Option<f64>> {
        let mut out = vec![None; shares.len()];
        if self.hang_ups == 0 {
            return out;
        }
        let mut waits: Vec<(f64, bool)> = self.waits.iter().copied().collect();
        // At equal waits, the hang-ups first: those connected then had
        // waited as long without hanging up.
        waits.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut at_risk = waits.len() as f64;
        let mut staying = 1.0;
        let mut next = 0;
        for (waited, hung_up) in waits {
            if hung_up {
                staying *= 1.0 - 1.0 / at_risk;
                while next < shares.len() && 1.0 - staying >= shares[next] - 1e-12 {
                    out[next] = Some(waited);
                    next += 1;
                }
            }
            at_risk -= 1.0;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nobody hung up: nothing is known of their patience.
    #[test]
    fn without_hang_ups_no_patience_is_known() {
        let mut model = PatienceModel::default();
        for i in 0..100 {
            model.observe(f64::from(i) * 0.02, false);
        }
        assert_eq!(model.quantiles(&[0.1, 0.5]), vec![None, None]);
    }

    /// Debtors who hang up after 1.5 s, most connected at once: of those
    /// who waited that long, all hung up.
    #[test]
    fn the_debtors_who_waited_say_how_long_debtors_wait() {
        let mut model = PatienceModel::default();
        for i in 0..100 {
            if i % 10 == 0 {
                model.observe(1.5, true);
            } else {
                model.observe(0.05, false);
            }
        }
        assert_eq!(
            model.quantiles(&[0.125, 0.5, 0.875]),
            vec![Some(1.5), Some(1.5), Some(1.5)]
        );
    }

    /// Exponential patience of mean 2 s, every wait 3 s long unless the
    /// debtor hung up first: the median is near 2 ln 2.
    #[test]
    fn censored_waits_count_as_patience_at_least_that_long() {
        let mut model = PatienceModel::default();
        for i in 0..MEMORY {
            let u = (i as f64 + 0.5) / MEMORY as f64;
            let patience = -2.0 * (1.0 - u).ln();
            model.observe(patience.min(3.0), patience < 3.0);
        }
        let q = model.quantiles(&[0.5, 0.9]);
        let median = q[0].expect("half hang up within 3 s");
        assert!((median - 2.0 * 2f64.ln()).abs() < 0.05, "{median}");
        assert_eq!(q[1], None, "90% would need waits over 3 s");
    }

    #[test]
    fn it_forgets_the_oldest_waits() {
        let mut model = PatienceModel::default();
        model.observe(0.5, true);
        for _ in 0..MEMORY {
            model.observe(0.1, false);
        }
        assert_eq!(model.quantiles(&[0.1]), vec![None]);
    }
}
