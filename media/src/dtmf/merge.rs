//! One key press, however many ways it arrives.
//!
//! A trunk may deliver the same press as RFC 4733 events and as a SIP INFO
//! (and, later, in-band tones heard in the audio). Each source already
//! reports a press once; this merges the sources, so the same key from
//! another source within a short window is the same press, while a second
//! press of that key from the same source is a new one. Told the time.

#![deny(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

/// Where a key press was heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtmfSource {
    Rfc4733,
    Info,
    InBand,
}

/// The same key from another source this close is the same press.
pub const SAME_PRESS_WINDOW: Duration = Duration::from_millis(400);

/// The merger of a call's key presses.
#[derive(Debug, Default)]
pub struct KeyMerger {
    last: Option<(char, DtmfSource, Instant)>,
}

impl KeyMerger {
    pub fn new() -> KeyMerger {
        KeyMerger::default()
    }

    /// Whether this report is a new press (true) or another source's copy
    /// of the last one (false).
    pub fn handle(&mut self, now: Instant, key: char, source: DtmfSource) -> bool {
        if let Some((last_key, last_source, at)) = self.last
            && last_key == key
            && last_source != source
            && now.saturating_duration_since(at) < SAME_PRESS_WINDOW
        {
            return false;
        }
        self.last = Some((key, source, now));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_press_reported_two_ways_counts_once_but_repeats_count() {
        #[allow(clippy::disallowed_methods)] // the test's clock starts somewhere
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut m = KeyMerger::new();
        assert!(m.handle(ms(0), '1', DtmfSource::Rfc4733));
        assert!(!m.handle(ms(60), '1', DtmfSource::Info), "the INFO copy");
        assert!(m.handle(ms(300), '1', DtmfSource::Rfc4733), "pressed again");
        assert!(m.handle(ms(320), '2', DtmfSource::Info), "another key");
        assert!(
            m.handle(ms(2_000), '2', DtmfSource::Rfc4733),
            "long after: a new press"
        );
        assert!(
            !m.handle(ms(2_100), '2', DtmfSource::InBand),
            "heard in-band too"
        );
    }
}
