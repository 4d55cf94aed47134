//! The agents left for a debtor who answers at some instant: the agents
//! free by then less the debtors who answered before. It is a whole number
//! made of a known part (agents ready, debtors waiting) plus and minus
//! independent chances (each busy agent freeing in time, each ringing call
//! answered first), and the pacer needs the chance it is below one.
//!
//! With many terms a normal approximation of that sum is close and cheap.
//! With few it is not: two agents each 90% sure to free in time are both
//! still busy one time in a hundred, where the normal curve says one in a
//! thousand; and few terms is a small team, where a single abandon weighs
//! most against the cap. So up to `EXACT_TERMS` chances the sum is counted
//! exactly (a Poisson-binomial distribution, convolved one term at a time).

#![deny(clippy::disallowed_methods)]

/// Chances up to which the count is exact: the convolution costs the
/// square of the terms, and past a few dozen the normal curve is close.
pub const EXACT_TERMS: usize = 64;

/// A whole number: a known part plus and minus independent chances.
#[derive(Debug, Clone)]
pub enum Left {
    /// The chance of each value, from `lowest` up.
    Exact {
        lowest: i64,
        chances: Vec<f64>,
    },
    Normal {
        mean: f64,
        variance: f64,
    },
}

impl Left {
    /// `known`, to which chances will be added; counted exactly if
    /// `exact`.
    pub fn new(known: i64, exact: bool) -> Left {
        if exact {
            Left::Exact {
                lowest: known,
                chances: vec![1.0],
            }
        } else {
            Left::Normal {
                mean: known as f64,
                variance: 0.0,
            }
        }
    }

    /// Adds (`sign` 1) or takes away (`sign` -1) `count` terms that are
    /// each one with chance `p`.
    pub fn add(&mut self, count: usize, p: f64, sign: i64) {
        let p = p.clamp(0.0, 1.0);
        match self {
            Left::Normal { mean, variance } => {
                *mean += (sign * count as i64) as f64 * p;
                *variance += count as f64 * p * (1.0 - p);
            }
            Left::Exact { lowest, chances } => {
                // Taking away a one with chance p is taking away one for
                // sure and adding it back with chance 1 - p.
                let p = if sign < 0 {
                    *lowest -= count as i64;
                    1.0 - p
                } else {
                    p
                };
                for _ in 0..count {
                    chances.push(0.0);
                    for i in (1..chances.len()).rev() {
                        chances[i] = chances[i] * (1.0 - p) + chances[i - 1] * p;
                    }
                    chances[0] *= 1.0 - p;
                }
            }
        }
    }

    /// The chance it is below one: no agent for the debtor.
    pub fn chance_none(&self) -> f64 {
        match self {
            Left::Normal { mean, variance } => {
                // P(left < 1) = P(left <= 0.5) for a whole number.
                normal_cdf((0.5 - mean) / variance.max(1e-12).sqrt())
            }
            Left::Exact { lowest, chances } => {
                let below = (1 - lowest).clamp(0, chances.len() as i64) as usize;
                chances[..below].iter().sum::<f64>().min(1.0)
            }
        }
    }
}

/// The standard normal distribution function (Abramowitz and Stegun
/// 7.1.26, error under 1.5e-7).
fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-z * z).exp();
    if x >= 0.0 {
        1.0 - erfc / 2.0
    } else {
        erfc / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_distribution_function() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((normal_cdf(-1.0) - 0.158_655).abs() < 1e-5);
    }

    /// Two busy agents, each 90% sure to free in time, and nobody ready:
    /// exactly, none is free one time in a hundred; the normal curve says
    /// about one in a thousand.
    #[test]
    fn few_terms_are_counted_exactly() {
        let mut exact = Left::new(0, true);
        let mut normal = Left::new(0, false);
        for left in [&mut exact, &mut normal] {
            left.add(2, 0.9, 1);
        }
        assert!((exact.chance_none() - 0.01).abs() < 1e-12);
        assert!(normal.chance_none() < 0.002, "{}", normal.chance_none());
    }

    /// One ready agent, a ringing call answered first with chance 0.3,
    /// one busy agent freeing with chance 0.5: none left only if the call
    /// is answered and the agent still busy.
    #[test]
    fn chances_taken_away_count_against_the_known_part() {
        let mut left = Left::new(1, true);
        left.add(1, 0.3, -1);
        left.add(1, 0.5, 1);
        assert!((left.chance_none() - 0.15).abs() < 1e-12);
        // Two more calls answered for sure: none left unless the agent
        // frees and the first call is not answered, and even then one
        // short.
        left.add(2, 1.0, -1);
        assert!((left.chance_none() - 1.0).abs() < 1e-12);
    }

    /// With many terms the two agree.
    #[test]
    fn many_terms_agree_with_the_normal_curve() {
        let mut exact = Left::new(15, true);
        let mut normal = Left::new(15, false);
        for left in [&mut exact, &mut normal] {
            left.add(40, 0.5, 1);
            left.add(60, 0.5, -1);
        }
        let (e, n) = (exact.chance_none(), normal.chance_none());
        assert!((e - n).abs() < 0.01, "exact {e}, normal {n}");
        assert!(e > 0.05 && e < 0.5, "{e}");
    }
}
