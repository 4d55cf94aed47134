//! Which stream a packet belongs to, and where in it.
//!
//! RTP sequence numbers wrap every 65,536 packets (22 minutes at 20 ms) and
//! timestamps every 2^32 samples, and a far end that restarts its stream
//! (a re-INVITE, a transfer, a media server switching sources) starts both
//! anywhere. This module extends both counters to 64 bits, remembers which
//! sequence numbers have arrived (duplicates), and says what a restart
//! looks like, so the buffer can tell a late packet from a new stream.

#![deny(clippy::disallowed_methods)]

use super::PacketHeader;
use crate::codec::SAMPLE_RATE;

/// RFC 3550 A.1: a sequence number this far ahead, or `MAX_MISORDER`
/// behind, is not the stream's next packet but a restart.
const MAX_DROPOUT: i64 = 3000;
const MAX_MISORDER: i64 = 100;
/// Duplicates are recognised over this many sequence numbers.
const SEEN_WINDOW: i64 = 128;

/// The stream being received: one SSRC, from its start or last restart.
#[derive(Debug)]
pub(super) struct Stream {
    pub(super) ssrc: u32,
    pub(super) epoch: u32,
    base_seq: i64,
    highest_seq: i64,
    highest_ts: i64,
    /// Bit i: sequence number `highest_seq - i` has arrived.
    seen: u128,
    /// Timeline position = extended timestamp + shift.
    pub(super) shift: i64,
}

impl Stream {
    /// A stream whose first packet is `header`.
    pub(super) fn new(header: PacketHeader, epoch: u32, shift: i64) -> Stream {
        Stream {
            ssrc: header.ssrc,
            epoch,
            base_seq: i64::from(header.sequence),
            highest_seq: i64::from(header.sequence),
            highest_ts: i64::from(header.timestamp),
            seen: 0,
            shift,
        }
    }

    /// The packet's extended sequence number and timestamp.
    pub(super) fn extend(&self, header: &PacketHeader) -> (i64, i64) {
        (
            unwrap_u16(self.highest_seq, header.sequence),
            unwrap_u32(self.highest_ts, header.timestamp),
        )
    }

    /// A sequence number too far from this stream's to be its own.
    pub(super) fn is_jump(&self, seq: i64) -> bool {
        seq - self.highest_seq > MAX_DROPOUT || self.highest_seq - seq > MAX_MISORDER
    }

    /// RFC 3550 "expected": sequence numbers from the first to the highest.
    pub(super) fn expected(&self) -> u64 {
        (self.highest_seq - self.base_seq + 1).max(0) as u64
    }

    /// Records the packet as arrived; false if it had already.
    pub(super) fn mark(&mut self, seq: i64, ts: i64) -> bool {
        self.highest_ts = self.highest_ts.max(ts);
        if seq > self.highest_seq {
            let ahead = seq - self.highest_seq;
            self.seen = if ahead >= SEEN_WINDOW {
                0
            } else {
                self.seen << ahead
            };
            self.seen |= 1;
            self.highest_seq = seq;
            return true;
        }
        let behind = self.highest_seq - seq;
        if behind >= SEEN_WINDOW {
            // Too old to tell; it is far too late to play anyway.
            return true;
        }
        let bit = 1u128 << behind;
        let fresh = self.seen & bit == 0;
        self.seen |= bit;
        fresh
    }
}

/// A packet that looked like a restart, kept until the next one says.
#[derive(Debug)]
pub(super) struct Suspect {
    /// Arrival, in samples of the buffer's clock.
    pub(super) arrival: i64,
    pub(super) header: PacketHeader,
    pub(super) samples: Vec<i16>,
}

impl Suspect {
    /// The next packet continues the suspect's numbering and timing.
    pub(super) fn confirmed_by(&self, header: &PacketHeader) -> bool {
        let step = header.timestamp.wrapping_sub(self.header.timestamp) as i32;
        header.ssrc == self.header.ssrc
            && header.sequence == self.header.sequence.wrapping_add(1)
            && (0..=SAMPLE_RATE as i32).contains(&step)
    }
}

/// The extended value of a 16-bit counter nearest to `reference`.
fn unwrap_u16(reference: i64, raw: u16) -> i64 {
    reference + i64::from(raw.wrapping_sub(reference as u16) as i16)
}

/// The extended value of a 32-bit timestamp nearest to `reference`.
fn unwrap_u32(reference: i64, raw: u32) -> i64 {
    reference + i64::from(raw.wrapping_sub(reference as u32) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(sequence: u16, timestamp: u32) -> PacketHeader {
        PacketHeader {
            ssrc: 7,
            sequence,
            timestamp,
            marker: false,
        }
    }

    #[test]
    fn counters_extend_across_their_wrap() {
        let mut s = Stream::new(header(65_535, u32::MAX - 100), 1, 0);
        let (seq, ts) = s.extend(&header(2, 59));
        assert_eq!((seq, ts), (65_538, i64::from(u32::MAX) + 60));
        assert!(s.mark(seq, ts));
        let (back, _) = s.extend(&header(65_534, 0));
        assert_eq!(back, 65_534, "a reordered packet from before the wrap");
        assert_eq!(s.expected(), 4);
    }

    #[test]
    fn a_sequence_number_is_fresh_once() {
        let mut s = Stream::new(header(10, 0), 1, 0);
        assert!(s.mark(10, 0));
        assert!(!s.mark(10, 0));
        assert!(s.mark(12, 320));
        assert!(s.mark(11, 160), "the gap filled late");
        assert!(!s.mark(11, 160));
        assert!(s.mark(500, 0) && s.mark(12, 0), "too old to remember");
    }

    #[test]
    fn jumps_follow_rfc_3550_limits() {
        let s = Stream::new(header(1000, 0), 1, 0);
        assert!(!s.is_jump(1000 + 3000) && s.is_jump(1000 + 3001));
        assert!(!s.is_jump(900) && s.is_jump(899));
    }

    #[test]
    fn a_suspect_is_confirmed_by_its_successor_only() {
        let suspect = Suspect {
            arrival: 0,
            header: header(40_000, 1_000_000),
            samples: Vec::new(),
        };
        assert!(suspect.confirmed_by(&header(40_001, 1_000_160)));
        assert!(!suspect.confirmed_by(&header(40_002, 1_000_160)));
        assert!(!suspect.confirmed_by(&header(40_001, 2_000_000)));
        assert!(!suspect.confirmed_by(&PacketHeader {
            ssrc: 8,
            ..header(40_001, 1_000_160)
        }));
    }
}
