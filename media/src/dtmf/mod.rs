//! Key presses (DTMF) on a call.
//!
//! Most trunks deliver DTMF as RFC 4733 telephone-events in RTP: one key
//! press arrives as many packets (updates while the key is held, then the
//! end packet sent three times) and the collector reports it exactly once.
//! Some send SIP INFO ([`info`]); old gear leaves the keys in the audio,
//! heard by the in-band detector ([`inband`]); some do two at once, and
//! [`merge`] makes a press that arrives several ways count once.

#![deny(clippy::disallowed_methods)]

pub mod inband;
pub mod info;
pub mod merge;
pub mod rfc4733;

pub use inband::{InbandConfig, InbandConfigError, InbandDetector, InbandDigit};
pub use info::{InfoDtmf, parse_info};
pub use merge::{DtmfSource, KeyMerger};
pub use rfc4733::{DigitCollector, TelephoneEvent, event_packets};

/// The key a telephone-event code stands for (RFC 4733 §3.2), if it is a key.
pub fn key_for_event(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// The telephone-event code of a key, accepting lower-case `a`-`d`.
pub fn event_for_key(key: char) -> Option<u8> {
    match key {
        '0'..='9' => Some(key as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(key as u8 - b'A' + 12),
        'a'..='d' => Some(key as u8 - b'a' + 12),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_events_map_both_ways() {
        for key in "0123456789*#ABCD".chars() {
            assert_eq!(key_for_event(event_for_key(key).unwrap()), Some(key));
        }
        assert_eq!(event_for_key('x'), None);
        assert_eq!(key_for_event(16), None, "flash is not a key");
    }
}
