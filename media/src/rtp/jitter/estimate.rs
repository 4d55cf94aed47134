//! How long the jitter buffer should hold audio, from what the network shows.
//!
//! Every packet's transit (arrival time minus RTP timestamp, both in 8 kHz
//! timestamp units) feeds two measures: the RFC 3550 interarrival jitter,
//! which RTCP receiver reports carry as is, and the packet's excess over the
//! fastest transit seen lately, which is exactly the playout delay it would
//! have needed. The target delay jumps at once to whatever a packet needed
//! (a spike must not cost a second burst of late packets) and decays slowly
//! towards a floor of three times the jitter, so one bad second does not
//! leave the call with a long delay, and steady jitter keeps its cover.
//! Kept apart from the buffer so the rule can be read, and changed, alone.

#![deny(clippy::disallowed_methods)]

use crate::codec::SAMPLE_RATE;

/// The target covers this many times the RFC 3550 jitter. For delays spread
/// evenly over a window W the estimator settles at W/3, so three times it
/// covers the window.
const JITTER_MULTIPLE: i64 = 3;
/// Time constant of the target's decay towards its floor (4 s): slow enough
/// that a spike every few seconds keeps the delay up.
const DECAY_SAMPLES: i64 = 4 * SAMPLE_RATE as i64;
/// The fastest transit is the minimum over the last one or two of these
/// windows (2 s each), so a route that gets slower, or a sender whose clock
/// runs slow, moves the reference within seconds.
const MIN_WINDOW_SAMPLES: i64 = 2 * SAMPLE_RATE as i64;

/// Jitter, fastest transit and target delay, in timestamp units (samples).
#[derive(Debug, Clone)]
pub(super) struct DelayEstimator {
    min_delay: i64,
    max_delay: i64,
    /// RFC 3550 A.8: the jitter scaled by 16, so the 1/16 gain stays exact
    /// in integers.
    jitter_q4: i64,
    last_transit: Option<i64>,
    fastest: MinWindow,
    target: i64,
    last_decay: Option<i64>,
}

impl DelayEstimator {
    pub(super) fn new(min_delay: i64, max_delay: i64) -> DelayEstimator {
        DelayEstimator {
            min_delay,
            max_delay,
            jitter_q4: 0,
            last_transit: None,
            fastest: MinWindow::default(),
            target: min_delay,
            last_decay: None,
        }
    }

    /// A new stream (SSRC or restart): its timestamps have a new origin, so
    /// transits are not comparable with the old ones. The jitter and the
    /// target describe the network path, which has not changed, and stay.
    pub(super) fn restart(&mut self) {
        self.last_transit = None;
        self.fastest = MinWindow::default();
    }

    /// The fastest transit seen lately; None until a packet of this stream.
    pub(super) fn fastest_transit(&self) -> Option<i64> {
        self.fastest.min()
    }

    /// The RFC 3550 interarrival jitter, in timestamp units.
    pub(super) fn jitter(&self) -> i64 {
        self.jitter_q4 >> 4
    }

    /// The playout delay the buffer should run at, in samples.
    pub(super) fn target(&self) -> i64 {
        self.target
    }

    /// A packet of the current stream with extended timestamp `timestamp`
    /// arrived at `arrival` (both in samples). Raises the target at once if
    /// this packet needed more delay than the target gives.
    pub(super) fn observe(&mut self, arrival: i64, timestamp: i64) {
        let transit = arrival - timestamp;
        if let Some(previous) = self.last_transit {
            let d = (transit - previous).abs();
            self.jitter_q4 += d - ((self.jitter_q4 + 8) >> 4);
        }
        self.last_transit = Some(transit);
        self.fastest.push(arrival, transit);
        let fastest = self.fastest.min().unwrap_or(transit);
        let needed = (JITTER_MULTIPLE * self.jitter())
            .max(transit - fastest)
            .clamp(self.min_delay, self.max_delay);
        self.target = self.target.max(needed);
    }

    /// Lets the target drift down towards the jitter floor; called on every
    /// playout tick with the tick's time in samples.
    pub(super) fn decay(&mut self, now: i64) {
        let elapsed = self.last_decay.map_or(0, |at| (now - at).max(0));
        self.last_decay = Some(now);
        let floor = (JITTER_MULTIPLE * self.jitter()).clamp(self.min_delay, self.max_delay);
        if self.target < floor {
            self.target = floor;
            return;
        }
        let gap = self.target - floor;
        // Rounded up, so the last few samples of the gap go too.
        let step = (gap * elapsed + DECAY_SAMPLES - 1) / DECAY_SAMPLES;
        self.target -= step.min(gap);
    }
}

/// The minimum of a value over the last one or two fixed windows: cheap,
/// bounded, and it forgets within two windows.
#[derive(Debug, Clone, Default)]
struct MinWindow {
    current: Option<i64>,
    previous: Option<i64>,
    since: i64,
}

impl MinWindow {
    fn push(&mut self, now: i64, value: i64) {
        if self.current.is_none() || now - self.since >= MIN_WINDOW_SAMPLES {
            self.previous = if now - self.since < 2 * MIN_WINDOW_SAMPLES {
                self.current
            } else {
                None
            };
            self.current = None;
            self.since = now;
        }
        self.current = Some(self.current.map_or(value, |c| c.min(value)));
    }

    fn min(&self) -> Option<i64> {
        match (self.current, self.previous) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 8;

    #[test]
    fn jitter_follows_rfc_3550_for_alternating_delays() {
        let mut e = DelayEstimator::new(20 * MS, 200 * MS);
        // Every other packet 10 ms late: each transit differs from the
        // previous by 80 units, which the estimator approaches.
        for k in 0..400 {
            let late = if k % 2 == 1 { 10 * MS } else { 0 };
            e.observe(k * 160 + late, k * 160);
        }
        assert!((78..=80).contains(&e.jitter()), "{}", e.jitter());
    }

    #[test]
    fn a_late_packet_raises_the_target_at_once_and_it_decays_slowly() {
        let mut e = DelayEstimator::new(20 * MS, 200 * MS);
        for k in 0..50 {
            e.observe(k * 160, k * 160);
            e.decay(k * 160);
        }
        assert_eq!(e.target(), 20 * MS);
        e.observe(50 * 160 + 120 * MS, 50 * 160);
        assert_eq!(e.target(), 120 * MS, "the spike's packet is covered");
        let mut at_1s = 0;
        for k in 51..51 + 50 * 20 {
            e.observe(k * 160, k * 160);
            e.decay(k * 160);
            if k == 51 + 50 {
                at_1s = e.target();
            }
        }
        assert!(at_1s > 90 * MS, "one second later still {at_1s}");
        assert!(e.target() <= 22 * MS, "twenty seconds later {}", e.target());
    }

    #[test]
    fn the_target_stays_within_its_bounds() {
        let mut e = DelayEstimator::new(40 * MS, 100 * MS);
        e.observe(0, 0);
        assert_eq!(e.target(), 40 * MS);
        e.observe(10_000 * MS, 160);
        assert_eq!(e.target(), 100 * MS);
    }

    #[test]
    fn the_fastest_transit_is_forgotten_after_two_windows() {
        let mut w = MinWindow::default();
        w.push(0, -500);
        w.push(MIN_WINDOW_SAMPLES, 10);
        assert_eq!(w.min(), Some(-500));
        w.push(2 * MIN_WINDOW_SAMPLES, 20);
        assert_eq!(w.min(), Some(10));
        w.push(10 * MIN_WINDOW_SAMPLES, 30);
        assert_eq!(w.min(), Some(30), "a long gap forgets both windows");
    }
}
