//! The values that cross the jitter buffer's edge: its configuration, the
//! packet header fields it is fed, what it answers, and what it reports.
//!
//! Kept apart from the state machine so a reader (or the driver's author)
//! sees the whole vocabulary in one place: these are the words the RTCP
//! receiver report, the attempt record and the playout side will use.

#![deny(clippy::disallowed_methods)]

use std::time::Duration;

use crate::codec::FRAME_SAMPLES;

/// The longest `max_delay` a buffer accepts.
pub const MAX_DELAY_LIMIT: Duration = Duration::from_secs(1);

/// Delay bounds for one call's receive path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// The delay never goes below this, even on a perfect network.
    pub min_delay: Duration,
    /// Nor above this: packets later than it are lost to the listener.
    pub max_delay: Duration,
}

impl Default for JitterConfig {
    fn default() -> JitterConfig {
        JitterConfig {
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JitterConfigError {
    #[error("jitter buffer min_delay ({min:?}) is above its max_delay ({max:?})")]
    MinAboveMax { min: Duration, max: Duration },
    #[error("jitter buffer max_delay ({max:?}) is above the {limit:?} a buffer may hold")]
    TooLong { max: Duration, limit: Duration },
}

/// The RTP header fields the buffer needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketHeader {
    pub ssrc: u32,
    pub sequence: u16,
    pub timestamp: u32,
    /// Set on the first packet of a talkspurt (RFC 3551) or of a new stream.
    pub marker: bool,
}

/// What became of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Held until its time comes.
    Buffered,
    /// The first packet of a new stream (new SSRC, or a restart): held, and
    /// the timeline moved so the new stream plays after what is queued.
    Resynced,
    /// Its sequence number, or the audio it carries, is already here.
    Duplicate,
    /// Its audio would have played already.
    Late,
    /// Too far ahead of playout, or the buffer is full: dropped.
    Overflow,
    /// Looks like a restart; held aside until the next packet agrees.
    Suspect,
    /// No audio in it.
    Empty,
}

/// What a frame is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// The far end's audio as sent (with silence where it sent none).
    Audio,
    /// The far end's audio cross-faded to add or remove 20 ms of delay.
    Adjusted,
    /// Some of it stands in for audio that did not arrive in time.
    Concealed,
    /// Nothing to play: not started, the sender paused, or the fade is over.
    Silence,
}

/// 20 ms of 8 kHz audio for the playout side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: FrameKind,
    pub samples: [i16; FRAME_SAMPLES],
}

/// Counters and measures for the attempt record and RTCP receiver reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets handed in, whatever became of them.
    pub received: u64,
    pub duplicates: u64,
    /// Arrived after their audio's time; also in `lost`, unless from
    /// before the point where playout began.
    pub late: u64,
    /// Sequence numbers missing when playout reached them.
    pub lost: u64,
    /// Frames that carried concealment.
    pub concealed: u64,
    pub overflow: u64,
    /// Suspected restarts that no second packet confirmed.
    pub stray: u64,
    pub resyncs: u64,
    /// Ticks that added 20 ms of delay.
    pub stretched: u64,
    /// Ticks that removed 20 ms of delay.
    pub compressed: u64,
    /// Packets the senders numbered (RFC 3550 "expected", over every
    /// stream): `expected - received` is the report's cumulative loss.
    pub expected: u64,
    /// RFC 3550 interarrival jitter in timestamp units, as RTCP carries it.
    pub jitter: u32,
    /// The same jitter as time.
    pub jitter_time: Duration,
    /// Audio held ahead of the playout point.
    pub depth: Duration,
    /// How long the fastest recent packet waits before it plays.
    pub delay: Duration,
    /// The delay being aimed at.
    pub target: Duration,
}

impl Frame {
    pub(super) fn silence() -> Frame {
        Frame {
            kind: FrameKind::Silence,
            samples: [0; FRAME_SAMPLES],
        }
    }
}
