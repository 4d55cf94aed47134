//! The far end's audio laid out by timestamp, and read back in order.
//!
//! Placing every packet at its RTP timestamp on one line of samples makes
//! reordering, re-chunking 10 or 30 ms packets into 20 ms frames, and
//! finding gaps the same operation: read the line from the playout point.
//! The timeline also owns the buffer's memory bound: a span of at most
//! `max_delay` + slack, a fixed number of packets, and sample buffers that
//! are recycled rather than allocated per packet. It counts as lost the
//! sequence numbers that playout finds missing.

#![deny(clippy::disallowed_methods)]

use std::collections::VecDeque;

use super::FrameKind;
use super::conceal::Concealer;

/// The shortest packets planned for (5 ms): bounds how many are held.
const MIN_PACKET_SAMPLES: i64 = 40;

/// A packet's audio on the timeline.
#[derive(Debug)]
pub(super) struct Held {
    /// Timeline position of its first sample.
    pub(super) pos: i64,
    /// Extended sequence number, and the stream it belongs to.
    pub(super) seq: i64,
    pub(super) epoch: u32,
    pub(super) samples: Vec<i16>,
}

impl Held {
    fn end(&self) -> i64 {
        self.pos + self.samples.len() as i64
    }
}

/// Why a packet was not put on the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refused {
    /// Beyond the span, or the timeline is full.
    Overflow,
    /// Overlaps audio already held.
    Overlap,
}

#[derive(Debug)]
pub(super) struct Timeline {
    /// Sorted by position; never overlapping.
    pub(super) held: VecDeque<Held>,
    held_samples: i64,
    /// Sample buffers of played packets, reused for new ones.
    pub(super) spare: Vec<Vec<i16>>,
    /// Span the timeline may hold, in samples.
    window: i64,
    pub(super) max_packets: usize,
    /// The last packet audio was played from: (epoch, extended seq).
    last_played: Option<(u32, i64)>,
    /// Sequence numbers missing when playout passed them.
    pub(super) lost: u64,
}

impl Timeline {
    pub(super) fn new(window: i64) -> Timeline {
        let max_packets = (window / MIN_PACKET_SAMPLES) as usize + 2;
        Timeline {
            held: VecDeque::with_capacity(max_packets),
            held_samples: 0,
            spare: Vec::new(),
            window,
            max_packets,
            last_played: None,
            lost: 0,
        }
    }

    pub(super) fn window(&self) -> i64 {
        self.window
    }

    pub(super) fn held_samples(&self) -> i64 {
        self.held_samples
    }

    /// An empty sample buffer, recycled when one is spare.
    pub(super) fn buffer(&mut self) -> Vec<i16> {
        self.spare.pop().unwrap_or_default()
    }

    pub(super) fn recycle(&mut self, mut samples: Vec<i16>) {
        if self.spare.len() < self.max_packets {
            samples.clear();
            self.spare.push(samples);
        }
    }

    pub(super) fn first_pos(&self) -> Option<i64> {
        self.held.front().map(|p| p.pos)
    }

    /// Where the audio held ends.
    pub(super) fn end(&self) -> Option<i64> {
        self.held.back().map(Held::end)
    }

    /// Holds `packet`; `playing_from` is the playout point once playing.
    /// A refused packet's buffer is recycled.
    pub(super) fn insert(
        &mut self,
        playing_from: Option<i64>,
        packet: Held,
    ) -> Result<(), Refused> {
        let (pos, end) = (packet.pos, packet.end());
        let start = playing_from.unwrap_or_else(|| self.first_pos().map_or(pos, |p| p.min(pos)));
        let last = self.end().map_or(end, |e| e.max(end));
        let fits = last - start <= self.window
            && self.held_samples + (end - pos) <= self.window
            && self.held.len() < self.max_packets;
        if !fits {
            self.recycle(packet.samples);
            return Err(Refused::Overflow);
        }
        let at = self.held.partition_point(|p| p.pos < pos);
        let overlaps = (at > 0 && self.held[at - 1].end() > pos)
            || self.held.get(at).is_some_and(|p| p.pos < end);
        if overlaps {
            self.recycle(packet.samples);
            return Err(Refused::Overlap);
        }
        self.held_samples += end - pos;
        self.held.insert(at, packet);
        Ok(())
    }

    /// Drops everything held.
    pub(super) fn clear(&mut self) {
        self.truncate(i64::MIN);
    }

    /// Drops the packets that reach past position `end`; returns how many.
    pub(super) fn truncate(&mut self, end: i64) -> u64 {
        let mut dropped = 0;
        while self.held.back().is_some_and(|p| p.end() > end) {
            let p = self.held.pop_back().expect("back checked above");
            self.held_samples -= p.samples.len() as i64;
            self.recycle(p.samples);
            dropped += 1;
        }
        dropped
    }

    /// Drops the packets playout has passed.
    pub(super) fn release(&mut self, next: i64) {
        while self.held.front().is_some_and(|p| p.end() <= next) {
            let p = self.held.pop_front().expect("front checked above");
            self.held_samples -= p.samples.len() as i64;
            self.recycle(p.samples);
        }
    }

    /// Plays `out.len()` samples from position `start`: held audio where
    /// there is some, silence where the sender paused, concealment where
    /// packets are missing.
    pub(super) fn render(&mut self, start: i64, out: &mut [i16], plc: &mut Concealer) -> FrameKind {
        let (mut real, mut concealed) = (false, false);
        let mut i = 0;
        while i < out.len() {
            let x = start + i as i64;
            let left = out.len() - i;
            let at = self.held.partition_point(|p| p.end() <= x);
            match self.held.get(at) {
                Some(p) if p.pos <= x => {
                    let from = (x - p.pos) as usize;
                    let n = (p.samples.len() - from).min(left);
                    out[i..i + n].copy_from_slice(&p.samples[from..from + n]);
                    let (epoch, seq) = (p.epoch, p.seq);
                    self.note_played(epoch, seq);
                    plc.remember_audio(&out[i..i + n]);
                    real = true;
                    i += n;
                }
                successor => {
                    let n = successor.map_or(left, |p| ((p.pos - x) as usize).min(left));
                    let successor = successor.map(|p| (p.epoch, p.seq));
                    if self.is_pause(successor) {
                        out[i..i + n].fill(0);
                        plc.quiet();
                    } else {
                        concealed |= plc.conceal(&mut out[i..i + n]);
                    }
                    i += n;
                }
            }
        }
        match (concealed, real) {
            (true, _) => FrameKind::Concealed,
            (false, true) => FrameKind::Audio,
            (false, false) => FrameKind::Silence,
        }
    }

    /// Nothing held in `[start, start + len)` and nothing to conceal there.
    pub(super) fn is_quiet(&self, start: i64, len: i64, plc: &Concealer) -> bool {
        let at = self.held.partition_point(|p| p.end() <= start);
        let successor = self.held.get(at);
        if successor.is_some_and(|p| p.pos < start + len) {
            return false;
        }
        plc.is_faded() || self.is_pause(successor.map(|p| (p.epoch, p.seq)))
    }

    /// Whether `[start, start + len)` is all held audio.
    pub(super) fn covered(&self, start: i64, len: i64) -> bool {
        let end = start + len;
        let mut x = start;
        for p in &self.held {
            if p.end() <= x {
                continue;
            }
            if p.pos > x {
                return false;
            }
            x = p.end();
            if x >= end {
                return true;
            }
        }
        false
    }

    /// Copies the audio at `start` without playing it, if it is all there.
    pub(super) fn peek(&self, start: i64, out: &mut [i16]) -> bool {
        if !self.covered(start, out.len() as i64) {
            return false;
        }
        for (i, slot) in out.iter_mut().enumerate() {
            let x = start + i as i64;
            let p = &self.held[self.held.partition_point(|p| p.end() <= x)];
            *slot = p.samples[(x - p.pos) as usize];
        }
        true
    }

    /// A gap before `successor` is the sender's pause (no sequence number
    /// missing, or a new stream), not loss.
    fn is_pause(&self, successor: Option<(u32, i64)>) -> bool {
        match (self.last_played, successor) {
            // Nothing after the gap yet: it may be loss, so conceal (the
            // fade ends in silence anyway).
            (_, None) => false,
            (None, Some(_)) => true,
            (Some((epoch, seq)), Some((next_epoch, next_seq))) => {
                next_epoch != epoch || next_seq == seq + 1
            }
        }
    }

    /// Counts the sequence numbers skipped since the last packet played.
    fn note_played(&mut self, epoch: u32, seq: i64) {
        match self.last_played {
            Some((e, last)) if e == epoch => {
                if seq > last + 1 {
                    self.lost += (seq - last - 1) as u64;
                }
                if seq > last {
                    self.last_played = Some((epoch, seq));
                }
            }
            _ => self.last_played = Some((epoch, seq)),
        }
    }
}
