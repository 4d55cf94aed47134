//! Adaptive jitter buffer for the receive path: packets in as they come, one
//! 20 ms frame out per playout tick.
//!
//! Whatever consumes the far end's audio (recording, the bridge to an agent,
//! in-band DTMF and answering-machine detection) wants 160 samples every
//! 20 ms, in order, with gaps filled. The network delivers packets late,
//! early, out of order, twice or never, with 10, 20 or 30 ms in each, and
//! the far end may restart its stream on a re-INVITE. [`JitterBuffer`] sits
//! between the two: it places every packet on a timeline of samples by its
//! RTP timestamp, plays that timeline a little behind the fastest arrivals,
//! conceals what is missing, and moves the delay with the measured jitter.
//! It is sans-IO: it is told the time and never reads a clock or a socket.
//!
//! # How the driver calls it
//!
//! ```text
//! let mut jitter = JitterBuffer::new(JitterConfig::default())?;
//! // on every audio datagram, once RtpSession has checked its source and
//! // payload type (telephone-events stay with the DigitCollector):
//! jitter.handle_g711(now, PacketHeader { ssrc, sequence, timestamp, marker },
//!                    codec, payload);
//! // on every 20 ms playout tick, whether or not anything arrived:
//! let frame = jitter.poll_frame(now);   // always 160 samples
//! // frame.kind says Audio / Adjusted / Concealed / Silence
//! // when building an RTCP receiver report:
//! let stats = jitter.stats();           // jitter, lost, expected, ...
//! ```
//!
//! The playout tick is the only timer: there is no `poll_timeout`, because a
//! frame is due every 20 ms no matter what arrives. Feed every packet with
//! an arrival instant taken as close to `recv_from` as possible (jitter is
//! measured from it), and poll on a steady grid (a late tick is fine; a
//! skipped one shows up as added delay, which the buffer then removes).
//!
//! # How the delay adapts
//!
//! The delay of the buffer is how long the fastest recent packet waits
//! before it plays; a packet is on time if its extra transit is no more than
//! that. The target delay (see `estimate`) jumps up to whatever a packet
//! needed and decays with a 4 s time constant towards three times the RFC
//! 3550 jitter, within `min_delay..=max_delay`. Each tick compares delay and
//! target: below target, the tick adds 20 ms at once (a cross-faded repeat,
//! or more concealment if nothing is there); more than 30 ms above, it
//! removes 20 ms, freely in silence and, in speech, by cross-fading two
//! frames into one at most every 500 ms.
//!
//! # Loss, pauses and restarts
//!
//! A gap in the timeline is a pause if the packet after it continues the
//! sequence numbers (the sender stopped talking: silence), and loss if not
//! (concealment: the last frame repeated and faded over 60 ms, then
//! silence); with nothing after it yet, it is concealed. A packet from
//! another SSRC, or with a sequence number or timestamp that does not fit
//! the stream, is held aside, and the stream restarts when the next packet
//! continues it; with the marker bit set, a jump the buffer could not hold
//! restarts it at once. A new stream plays after what is already queued.
//! Lost packets are counted as playout finds their sequence numbers
//! missing; a packet from before the point where playout began counts as
//! late only.

#![deny(clippy::disallowed_methods)]

mod conceal;
mod estimate;
mod stream;
mod timeline;
mod types;

use std::time::{Duration, Instant};

use crate::codec::{Codec, FRAME_SAMPLES, SAMPLE_RATE};
use conceal::{Concealer, crossfade};
use estimate::DelayEstimator;
use stream::{Stream, Suspect};
use timeline::{Held, Refused, Timeline};
pub use types::{
    Arrival, Frame, FrameKind, JitterConfig, JitterConfigError, JitterStats, MAX_DELAY_LIMIT,
    PacketHeader,
};

const FRAME: i64 = FRAME_SAMPLES as i64;
/// Audio held beyond `max_delay`, for the packet being played and one that
/// arrives early: enough for ptimes up to 120 ms.
const SLACK: Duration = Duration::from_millis(150);
/// A timestamp this far (2 s) from what the arrival time predicts means a
/// restart when two packets in a row agree on it; with the marker bit, any
/// jump the buffer could not hold is taken at once.
const RESYNC_SKEW: i64 = 2 * SAMPLE_RATE as i64;
/// Another SSRC's packet that no second one follows within this (100 ms)
/// was a stray, not a new stream.
const SUSPECT_PATIENCE: i64 = SAMPLE_RATE as i64 / 10;
/// Delay is removed only above target + one frame + this (10 ms), so that a
/// removal never takes it under target.
const COMPRESS_MARGIN: i64 = 80;
/// Speech is compressed at most once per this many samples (500 ms).
const COMPRESS_INTERVAL: i64 = SAMPLE_RATE as i64 / 2;
/// Packets of an SSRC just left are leftovers for this long (1 s), not a
/// return of that stream.
const LEFT_STREAM_GRACE: i64 = SAMPLE_RATE as i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Playout {
    Idle,
    /// Packets are collecting until the first can play with the target delay.
    Buffering,
    /// `next` is the timeline position of the next frame's first sample,
    /// due to play at `next + offset` (in samples of the buffer's clock).
    Playing {
        next: i64,
        offset: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Normal,
    Stretch,
    Compress,
}

/// One call's receive-side jitter buffer (see the module documentation).
#[derive(Debug)]
pub struct JitterBuffer {
    /// The instant that is sample 0 of the buffer's clock.
    origin: Option<Instant>,
    max_delay: i64,
    timeline: Timeline,
    stream: Option<Stream>,
    suspect: Option<Suspect>,
    /// The SSRC of the stream before this one, and when it was left.
    left: Option<(u32, i64)>,
    epoch: u32,
    playout: Playout,
    estimator: DelayEstimator,
    plc: Concealer,
    last_compress: Option<i64>,
    /// `expected` of the streams before this one.
    expected_before: u64,
    stats: JitterStats,
}

impl JitterBuffer {
    pub fn new(config: JitterConfig) -> Result<JitterBuffer, JitterConfigError> {
        let JitterConfig {
            min_delay: min,
            max_delay: max,
        } = config;
        if min > max {
            return Err(JitterConfigError::MinAboveMax { min, max });
        }
        if max > MAX_DELAY_LIMIT {
            return Err(JitterConfigError::TooLong {
                max,
                limit: MAX_DELAY_LIMIT,
            });
        }
        Ok(JitterBuffer {
            origin: None,
            max_delay: samples_in(max),
            timeline: Timeline::new(samples_in(max + SLACK)),
            stream: None,
            suspect: None,
            left: None,
            epoch: 0,
            playout: Playout::Idle,
            estimator: DelayEstimator::new(samples_in(min), samples_in(max)),
            plc: Concealer::default(),
            last_compress: None,
            expected_before: 0,
            stats: JitterStats::default(),
        })
    }

    /// A received packet's decoded 8 kHz samples, any number of them (10,
    /// 20, 30 ms...); says what became of it, which the caller may ignore.
    pub fn handle_packet(
        &mut self,
        now: Instant,
        header: PacketHeader,
        samples: &[i16],
    ) -> Arrival {
        let mut buf = self.timeline.buffer();
        buf.extend_from_slice(samples);
        self.accept(now, header, buf)
    }

    /// A received G.711 packet, decoded straight into the buffer.
    pub fn handle_g711(
        &mut self,
        now: Instant,
        header: PacketHeader,
        codec: Codec,
        payload: &[u8],
    ) -> Arrival {
        let mut buf = self.timeline.buffer();
        codec.decode(payload, &mut buf);
        self.accept(now, header, buf)
    }

    /// The next 20 ms to play; call once per playout tick.
    pub fn poll_frame(&mut self, now: Instant) -> Frame {
        let t = self.ticks(now);
        self.estimator.decay(t);
        let next = match self.playout {
            Playout::Playing { next, .. } => next,
            Playout::Idle => return Frame::silence(),
            Playout::Buffering => {
                let ready = self.timeline.first_pos().filter(|&pos| {
                    self.delay_at(t, pos)
                        .is_some_and(|d| d >= self.estimator.target())
                });
                match ready {
                    Some(pos) => pos,
                    None => return Frame::silence(),
                }
            }
        };
        let mut frame = Frame::silence();
        let advance = match self.decide(t, next) {
            Step::Normal => {
                frame.kind = self
                    .timeline
                    .render(next, &mut frame.samples, &mut self.plc);
                FRAME
            }
            Step::Stretch => {
                self.stats.stretched += 1;
                let mut upcoming = [0; FRAME_SAMPLES];
                if self.timeline.peek(next, &mut upcoming) {
                    self.plc.stretch(&upcoming, &mut frame.samples);
                    frame.kind = FrameKind::Adjusted;
                } else if self.timeline.is_quiet(next, FRAME, &self.plc) {
                    self.plc.quiet();
                } else if self.plc.conceal(&mut frame.samples) {
                    frame.kind = FrameKind::Concealed;
                }
                0
            }
            Step::Compress => {
                self.stats.compressed += 1;
                let mut two = [0; 2 * FRAME_SAMPLES];
                // Either all audio or all quiet (see `decide`).
                if self.timeline.covered(next, 2 * FRAME) {
                    self.timeline.render(next, &mut two, &mut self.plc);
                    let (a, b) = two.split_at(FRAME_SAMPLES);
                    crossfade(a, b, &mut frame.samples);
                    frame.kind = FrameKind::Adjusted;
                }
                2 * FRAME
            }
        };
        let next = next + advance;
        self.playout = Playout::Playing {
            next,
            offset: t + FRAME - next,
        };
        self.timeline.release(next);
        self.plc.remember_output(&frame.samples);
        if frame.kind == FrameKind::Concealed {
            self.stats.concealed += 1;
        }
        frame
    }

    pub fn stats(&self) -> JitterStats {
        let mut stats = self.stats;
        stats.lost = self.timeline.lost;
        stats.expected = self.expected_before + self.stream.as_ref().map_or(0, Stream::expected);
        let jitter = self.estimator.jitter();
        stats.jitter = u32::try_from(jitter).unwrap_or(u32::MAX);
        stats.jitter_time = duration_of(jitter);
        let start = match self.playout {
            Playout::Playing { next, .. } => Some(next),
            _ => self.timeline.first_pos(),
        };
        if let (Some(start), Some(end)) = (start, self.timeline.end()) {
            stats.depth = duration_of(end - start);
        }
        if let (Playout::Playing { offset, .. }, Some(stream), Some(fastest)) =
            (self.playout, &self.stream, self.estimator.fastest_transit())
        {
            stats.delay = duration_of(stream.shift + offset - fastest);
        }
        stats.target = duration_of(self.estimator.target());
        stats
    }

    /// Packets held now; never more than `max_delay + 150 ms` of 5 ms packets.
    pub fn held_packets(&self) -> usize {
        self.timeline.held.len()
    }

    /// Samples held now; never more than [`JitterBuffer::capacity_samples`].
    pub fn held_samples(&self) -> usize {
        self.timeline.held_samples() as usize
    }

    /// The most audio the buffer holds (`max_delay + 150 ms`), in samples.
    pub fn capacity_samples(&self) -> usize {
        self.timeline.window() as usize
    }

    /// Samples since the first call: the buffer's own clock.
    fn ticks(&mut self, now: Instant) -> i64 {
        let origin = *self.origin.get_or_insert(now);
        let nanos = now.saturating_duration_since(origin).as_nanos();
        (nanos * u128::from(SAMPLE_RATE) / 1_000_000_000) as i64
    }

    /// Sorts a packet out: the first of all, this stream's, a suspected new
    /// stream's, or a stale one from the stream just left.
    fn accept(&mut self, now: Instant, header: PacketHeader, samples: Vec<i16>) -> Arrival {
        let t = self.ticks(now);
        self.stats.received += 1;
        if samples.is_empty() {
            self.timeline.recycle(samples);
            return Arrival::Empty;
        }
        if samples.len() as i64 > self.timeline.window() {
            return self.reject(Arrival::Overflow, samples);
        }
        let Some(stream) = &self.stream else {
            self.epoch += 1;
            self.stream = Some(Stream::new(header, self.epoch, 0));
            self.playout = Playout::Buffering;
            return self.place(t, header, samples);
        };
        let foreign = header.ssrc != stream.ssrc;
        if foreign {
            let stale = self
                .left
                .is_some_and(|(ssrc, at)| ssrc == header.ssrc && t - at < LEFT_STREAM_GRACE);
            if stale {
                return self.reject(Arrival::Late, samples);
            }
            return self.suspect(t, header, samples);
        }
        let (seq, ts) = stream.extend(&header);
        let jump = stream.is_jump(seq);
        let skew = self
            .estimator
            .fastest_transit()
            .map_or(0, |fastest| (t - ts - fastest).abs());
        if header.marker && (jump || skew > self.timeline.window()) {
            return self.restart_with(t, header, samples);
        }
        if jump || skew > RESYNC_SKEW {
            return self.suspect(t, header, samples);
        }
        // An ordinary packet of this stream: a restart suspected within it
        // was a stray, and so was another SSRC's packet not followed soon.
        let stray =
            |s: &mut Suspect| s.header.ssrc == header.ssrc || t - s.arrival > SUSPECT_PATIENCE;
        if let Some(suspect) = self.suspect.take_if(stray) {
            self.stats.stray += 1;
            self.timeline.recycle(suspect.samples);
        }
        self.place(t, header, samples)
    }

    /// A packet that may start a new stream: the second in a row to agree
    /// on it does.
    fn suspect(&mut self, t: i64, header: PacketHeader, samples: Vec<i16>) -> Arrival {
        if let Some(suspect) = self.suspect.take() {
            if suspect.confirmed_by(&header) {
                self.restart_with(suspect.arrival, suspect.header, suspect.samples);
                return match self.place(t, header, samples) {
                    Arrival::Buffered => Arrival::Resynced,
                    other => other,
                };
            }
            self.stats.stray += 1;
            self.timeline.recycle(suspect.samples);
        }
        self.suspect = Some(Suspect {
            arrival: t,
            header,
            samples,
        });
        Arrival::Suspect
    }

    /// Starts a new stream with this packet as its first.
    fn restart_with(&mut self, t: i64, header: PacketHeader, samples: Vec<i16>) -> Arrival {
        let old = self.stream.take().expect("restarts happen within a stream");
        self.expected_before += old.expected();
        if old.ssrc != header.ssrc {
            self.left = Some((old.ssrc, t));
        }
        if let Some(suspect) = self.suspect.take() {
            self.timeline.recycle(suspect.samples);
        }
        self.stats.resyncs += 1;
        self.estimator.restart();
        let shift = match self.playout {
            Playout::Playing { next, offset } => {
                // `next` plays at the next tick, due at `next + offset`, or
                // at once if ticks were missed.
                let target = self.estimator.target();
                let until_tick = (next + offset - t).max(0);
                let wanted = (next + target - until_tick).max(next);
                if self
                    .timeline
                    .end()
                    .is_some_and(|end| end > wanted + self.max_delay - target)
                {
                    // Playing all the old stream first would put the new
                    // one beyond the longest delay (a flood, or a clock gone
                    // wild): the excess goes.
                    self.stats.overflow += self.timeline.truncate(wanted);
                }
                // The new stream's first packet plays after the target
                // delay, but after what is queued, on the frame grid.
                let queued = self.timeline.end().map_or(next, |end| end.max(next));
                let at = wanted.max(queued);
                let at = next + (at - next + FRAME - 1) / FRAME * FRAME;
                at - i64::from(header.timestamp)
            }
            Playout::Idle | Playout::Buffering => {
                // Nothing has played: start over.
                self.timeline.clear();
                self.playout = Playout::Buffering;
                0
            }
        };
        self.epoch += 1;
        self.stream = Some(Stream::new(header, self.epoch, shift));
        match self.place(t, header, samples) {
            Arrival::Buffered => Arrival::Resynced,
            other => {
                // The new stream's timing is known even if its first packet
                // found no room: later packets are judged against it.
                if self.estimator.fastest_transit().is_none() {
                    self.estimator.observe(t, i64::from(header.timestamp));
                }
                other
            }
        }
    }

    /// Puts a packet of the current stream on the timeline.
    fn place(&mut self, t: i64, header: PacketHeader, samples: Vec<i16>) -> Arrival {
        let stream = self
            .stream
            .as_mut()
            .expect("a stream is set before its packets are placed");
        let (seq, ts) = stream.extend(&header);
        if !stream.mark(seq, ts) {
            return self.reject(Arrival::Duplicate, samples);
        }
        let (pos, epoch) = (ts + stream.shift, stream.epoch);
        let playing_from = match self.playout {
            Playout::Playing { next, .. } => Some(next),
            _ => None,
        };
        if playing_from.is_some_and(|next| pos + samples.len() as i64 <= next) {
            // A late packet is the clearest sign the delay is too short.
            self.estimator.observe(t, ts);
            return self.reject(Arrival::Late, samples);
        }
        let packet = Held {
            pos,
            seq,
            epoch,
            samples,
        };
        match self.timeline.insert(playing_from, packet) {
            Ok(()) => {
                self.estimator.observe(t, ts);
                Arrival::Buffered
            }
            Err(Refused::Overflow) => self.count(Arrival::Overflow),
            Err(Refused::Overlap) => self.count(Arrival::Duplicate),
        }
    }

    fn reject(&mut self, arrival: Arrival, samples: Vec<i16>) -> Arrival {
        self.timeline.recycle(samples);
        self.count(arrival)
    }

    fn count(&mut self, arrival: Arrival) -> Arrival {
        match arrival {
            Arrival::Duplicate => self.stats.duplicates += 1,
            Arrival::Late => self.stats.late += 1,
            Arrival::Overflow => self.stats.overflow += 1,
            _ => {}
        }
        arrival
    }

    /// The current stream's delay if the frame at `next` plays at `t`.
    fn delay_at(&self, t: i64, next: i64) -> Option<i64> {
        let stream = self.stream.as_ref()?;
        let fastest = self.estimator.fastest_transit()?;
        Some(stream.shift + (t - next) - fastest)
    }

    /// Whether this tick keeps, adds or removes 20 ms of delay.
    fn decide(&mut self, t: i64, next: i64) -> Step {
        let Some(delay) = self.delay_at(t, next) else {
            return Step::Normal;
        };
        let target = self.estimator.target();
        if delay < target {
            return Step::Stretch;
        }
        if delay <= target + FRAME + COMPRESS_MARGIN {
            return Step::Normal;
        }
        if self.timeline.is_quiet(next, 2 * FRAME, &self.plc) {
            return Step::Compress;
        }
        let rested = self
            .last_compress
            .is_none_or(|at| t - at >= COMPRESS_INTERVAL);
        if rested && self.timeline.covered(next, 2 * FRAME) {
            self.last_compress = Some(t);
            return Step::Compress;
        }
        Step::Normal
    }
}

fn samples_in(d: Duration) -> i64 {
    (d.as_micros() * u128::from(SAMPLE_RATE) / 1_000_000) as i64
}

fn duration_of(samples: i64) -> Duration {
    Duration::from_micros(samples.max(0) as u64 * 1_000_000 / u64::from(SAMPLE_RATE))
}

#[cfg(test)]
mod tests;
