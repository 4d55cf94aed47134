//! The packet state of one call's RTP stream, without sockets or clocks.
//!
//! The driver calls [`RtpSession::next_packet`] once per 20 ms and hands
//! every received datagram to [`RtpSession::handle_datagram`], with the
//! instant it arrived (the bridge's jitter buffer measures by it). Playback,
//! outgoing key presses, incoming digits and an optional recording of what
//! the far end sent all live here, so they can be tested packet by packet.

#![deny(clippy::disallowed_methods)]

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use rtp_rs::{RtpPacketBuilder, RtpReader, Seq};

use crate::codec::{Codec, Decoder, Encoder, FRAME_SAMPLES, PTIME_MS};
use crate::dtmf::{DigitCollector, InbandDetector, TelephoneEvent, event_packets};
use crate::record::{Channel, MAX_SKEW};
use crate::rtp::jitter::{JitterBuffer, JitterConfig, PacketHeader};

/// What a session needs to know about the call.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub codec: Codec,
    /// Telephone-event payload type agreed in SDP, used both ways.
    pub dtmf_payload_type: Option<u8>,
    /// The payload type we offered for telephone-event; accepted on receive
    /// too, since some peers send events they did not put in their answer.
    pub offered_dtmf_payload_type: Option<u8>,
    /// Only packets from this address are the far end's; others are counted
    /// and dropped.
    pub remote_ip: IpAddr,
    /// Keep the decoded audio the far end sends, up to this many samples.
    pub record_limit: Option<usize>,
    pub ssrc: u32,
    /// Listen for key presses in the far end's audio (in-band DTMF).
    pub inband_dtmf: bool,
    /// The packet time the far end asked for (its SDP's `a=ptime`). We send
    /// it when it is a multiple of 20 ms up to [`MAX_PACKET_MS`]; otherwise
    /// 20 ms, as `a=ptime` is a recommendation (RFC 4566 §6) and every
    /// receiver takes any packet time.
    pub ptime_ms: u32,
}

/// The longest packet we send: 120 ms (960 bytes of G.711).
pub const MAX_PACKET_MS: u32 = 120;

/// The packet time we send, in 20 ms frames, for the far end's `a=ptime`.
pub fn frames_per_packet(ptime_ms: u32) -> usize {
    if (PTIME_MS..=MAX_PACKET_MS).contains(&ptime_ms) && ptime_ms.is_multiple_of(PTIME_MS) {
        (ptime_ms / PTIME_MS) as usize
    } else {
        1
    }
}

/// Where a call's audio goes when the far end's packets come from another
/// place than its SDP said (symmetric RTP, for a far end behind a NAT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Latch {
    /// Only the SDP's address and port.
    Off,
    /// Another port of the SDP's address: the first packet from it moves
    /// our audio there.
    #[default]
    Port,
    /// Any address, until a packet of the SDP's address has come: the
    /// first RTP packet with the call's payload types moves our audio there
    /// (a NAT that rewrites the address too; trusts whoever sends first).
    Address,
}

/// What one received datagram turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Audio,
    /// The first packet of a new key press.
    Digit(char),
    /// A telephone-event packet of a press already reported.
    DigitRepeat,
    /// From an address that is not the far end's; dropped.
    Foreign(SocketAddr),
    /// Not RTP, or a payload type we did not agree.
    Ignored,
}

/// Packet counts for the attempt record and for diagnosis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RtpStats {
    pub sent: u64,
    pub received: u64,
    pub foreign: u64,
    pub ignored: u64,
    /// Payload octets sent (RTCP's sender octet count).
    pub sent_octets: u64,
}

#[derive(Debug)]
struct Playback {
    audio: Arc<[u8]>,
    position: usize,
    id: u64,
}

#[derive(Debug)]
struct Recording {
    samples: Vec<i16>,
    first_timestamp: Option<u32>,
    limit: usize,
}

#[derive(Debug)]
pub struct RtpSession {
    config: SessionConfig,
    sequence: Seq,
    timestamp: u32,
    started: bool,
    playback: Option<Playback>,
    outgoing_events: VecDeque<(bool, [u8; 4])>,
    event_timestamp: u32,
    digits: DigitCollector,
    recording: Option<Recording>,
    stats: RtpStats,
    /// Bridged: the far end's audio, decoded, for the other leg.
    /// Boxed, as `inband`: most calls never bridge, and a call's hot state
    /// should stay small (the media threads visit thousands per tick).
    relay: Option<Box<Relay>>,
    /// Bridged: the other leg's audio, coded for this one, to send next.
    fed: VecDeque<u8>,
    /// `fed` ran dry (or has not started): wait until it holds two frames.
    fed_waiting: bool,
    /// Key presses heard in the far end's audio, when listening for them.
    inband: Option<Box<InbandDetector>>,
    inband_keys: VecDeque<char>,
    /// The call recording's chunks, while recording.
    tape: Option<Tape>,
    latch: Latch,
    /// 20 ms frames per packet sent, and the frames of the packet filling.
    frames_per_packet: usize,
    pending: Vec<u8>,
    pending_timestamp: u32,
    /// Frames built (sent, or replaced by key events): the send clock.
    frames: u64,
    /// The far end's stream, decoded when anything listens to it.
    far_decoder: Decoder,
    /// Our stream as sent, decoded for the tape.
    sent_decoder: Decoder,
    /// The other leg's audio, coded for this one.
    fed_encoder: Encoder,
}

/// The far end's audio on its way to a bridged leg: through a jitter
/// buffer, so the other side hears it in order, steadily, with its losses
/// concealed, one frame per packet time ([`RtpSession::relay_tick`]).
#[derive(Debug)]
struct Relay {
    jitter: JitterBuffer,
    frames: VecDeque<Vec<i16>>,
}

/// Both directions of the call, in chunks placed on one timeline: sample
/// `n` is `n / 8000` s after recording started, counted by frames sent.
#[derive(Debug)]
struct Tape {
    /// Frames sent when recording started.
    origin: u64,
    /// The far end's RTP timestamp that lines up with a timeline sample.
    far_anchor: Option<(u32, u64)>,
    chunks: VecDeque<(Channel, u64, Vec<i16>)>,
}

/// Recorded chunks waiting for the driver, at most (it takes them after
/// every packet, so this only bounds a stalled driver).
const MAX_TAPE_CHUNKS: usize = 64;

impl Tape {
    fn push(&mut self, channel: Channel, at: u64, pcm: Vec<i16>) {
        if self.chunks.len() >= MAX_TAPE_CHUNKS {
            self.chunks.pop_front();
        }
        self.chunks.push_back((channel, at, pcm));
    }

    /// Where the far end's packet with `timestamp` goes, `now` being the
    /// send side's position: by its timestamp from the first one, so jitter
    /// and reordering do not move it; re-anchored at `now` when that is
    /// implausible (a new source after re-INVITE, a timestamp jump).
    fn far_position(&mut self, timestamp: u32, now: u64) -> u64 {
        if let Some((first, anchor)) = self.far_anchor {
            let offset = i64::from(timestamp.wrapping_sub(first) as i32);
            let at = anchor as i64 + offset;
            if at >= 0 && (at - now as i64).unsigned_abs() <= MAX_SKEW {
                return at as u64;
            }
        }
        self.far_anchor = Some((timestamp, now));
        now
    }
}

/// A bridged leg keeps at most this much of the other leg's audio queued
/// (the rest is dropped, oldest first), so delay cannot build up.
pub const MAX_FED_FRAMES: usize = 6;
/// Decoded frames waiting for the other leg, at most.
const MAX_RELAY_FRAMES: usize = 16;

impl RtpSession {
    pub fn new(config: SessionConfig) -> RtpSession {
        let recording = config.record_limit.map(|limit| Recording {
            samples: Vec::new(),
            first_timestamp: None,
            limit,
        });
        RtpSession {
            sequence: Seq::from(config.ssrc as u16),
            timestamp: config.ssrc.rotate_left(16),
            started: false,
            playback: None,
            outgoing_events: VecDeque::new(),
            event_timestamp: 0,
            digits: DigitCollector::new(),
            recording,
            stats: RtpStats::default(),
            relay: None,
            fed: VecDeque::new(),
            fed_waiting: true,
            inband: config.inband_dtmf.then(Box::default),
            inband_keys: VecDeque::new(),
            tape: None,
            latch: Latch::default(),
            frames_per_packet: frames_per_packet(config.ptime_ms),
            pending: Vec::new(),
            pending_timestamp: 0,
            frames: 0,
            far_decoder: Decoder::new(config.codec),
            sent_decoder: Decoder::new(config.codec),
            fed_encoder: Encoder::new(config.codec),
            config,
        }
    }

    /// How the far end's packets from elsewhere are taken (see [`Latch`]).
    pub fn set_latch(&mut self, latch: Latch) {
        self.latch = latch;
    }

    pub fn latch(&self) -> Latch {
        self.latch
    }

    /// Starts recording both directions from the next packet; the chunks
    /// come out of [`RtpSession::take_taped`].
    pub fn start_tape(&mut self) {
        self.tape = Some(Tape {
            origin: self.frames,
            far_anchor: None,
            chunks: VecDeque::new(),
        });
    }

    pub fn is_taping(&self) -> bool {
        self.tape.is_some()
    }

    /// The next recorded chunk: which direction, its first sample's place
    /// on the recording's timeline, the samples (8 kHz).
    pub fn take_taped(&mut self) -> Option<(Channel, u64, Vec<i16>)> {
        self.tape.as_mut()?.chunks.pop_front()
    }

    /// Where the send side is on the recording's timeline.
    fn tape_now(&self) -> u64 {
        self.tape
            .as_ref()
            .map_or(0, |t| (self.frames - t.origin) * FRAME_SAMPLES as u64)
    }

    /// The next key press heard in the audio (in-band), if listening.
    pub fn take_inband_digit(&mut self) -> Option<char> {
        self.inband_keys.pop_front()
    }

    /// Starts (or stops) keeping the far end's decoded audio for another
    /// leg ([`RtpSession::take_relayed`]). Stopping also drops audio fed
    /// from the other leg.
    pub fn set_relay(&mut self, on: bool) {
        self.relay = on.then(|| {
            Box::new(Relay {
                jitter: JitterBuffer::new(JitterConfig::default())
                    .expect("the default jitter buffer bounds are valid"),
                frames: VecDeque::new(),
            })
        });
        if !on {
            self.fed.clear();
            self.fed_waiting = true;
        }
    }

    /// The next decoded chunk of the far end's audio, while relaying.
    pub fn take_relayed(&mut self) -> Option<Vec<i16>> {
        self.relay.as_mut()?.frames.pop_front()
    }

    /// One packet time of the relay, while relaying: the next 20 ms of the
    /// far end's audio out of the jitter buffer (silence before it starts
    /// and in its pauses, concealment over its losses).
    pub fn relay_tick(&mut self, now: Instant) {
        if let Some(relay) = &mut self.relay {
            let frame = relay.jitter.poll_frame(now);
            if relay.frames.len() >= MAX_RELAY_FRAMES {
                relay.frames.pop_front();
            }
            relay.frames.push_back(frame.samples.to_vec());
        }
    }

    /// Queues the other leg's audio (8 kHz PCM) to send on this leg, coded
    /// with this leg's codec (which transcodes between any two). While fed
    /// audio is queued it replaces any playback.
    pub fn feed(&mut self, pcm: &[i16]) {
        let mut coded = Vec::with_capacity(pcm.len());
        self.fed_encoder.encode(pcm, &mut coded);
        self.fed.extend(coded);
        let max = MAX_FED_FRAMES * FRAME_SAMPLES;
        if self.fed.len() > max {
            let excess = self.fed.len() - max;
            self.fed.drain(..excess);
        }
    }

    pub fn codec(&self) -> Codec {
        self.config.codec
    }

    pub fn stats(&self) -> RtpStats {
        self.stats
    }

    /// The RTP timestamp the next audio packet carries (for RTCP).
    pub fn next_timestamp(&self) -> u32 {
        self.timestamp
    }

    pub fn ssrc(&self) -> u32 {
        self.config.ssrc
    }

    /// Starts playing `audio` (already coded with this session's codec) from
    /// its beginning, replacing whatever was playing. `id` comes back from
    /// [`RtpSession::next_packet`] when it ends, so a caller that stopped one
    /// prompt and started another can tell which one finished.
    pub fn play(&mut self, audio: Arc<[u8]>, id: u64) {
        self.playback = Some(Playback {
            audio,
            position: 0,
            id,
        });
    }

    pub fn stop_playback(&mut self) {
        self.playback = None;
    }

    pub fn is_playing(&self) -> bool {
        self.playback.is_some()
    }

    /// Queues a key press as telephone-events. False when no telephone-event
    /// payload type was agreed or the key is not a DTMF key.
    pub fn press(&mut self, key: char, duration_ms: u32) -> bool {
        let (Some(_), Some(packets)) = (
            self.config.dtmf_payload_type,
            event_packets(key, duration_ms),
        ) else {
            return false;
        };
        self.outgoing_events.extend(packets);
        true
    }

    /// One packet time on hold: nothing is built or sent and the playback
    /// waits where it is, but the clock goes on (the timestamp advances,
    /// and the first packet after the hold is marked, RFC 3551 §4.1).
    pub fn hold_frame(&mut self) {
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        self.started = false;
        // A longer packet half filled before the hold is not sent after it.
        self.pending.clear();
    }

    /// The far end moved its audio (a re-INVITE): take its packets from
    /// this address from now on.
    pub fn set_remote_ip(&mut self, ip: IpAddr) {
        self.config.remote_ip = ip;
    }

    /// How many milliseconds of audio each packet we send carries.
    pub fn packet_ms(&self) -> u32 {
        self.frames_per_packet as u32 * PTIME_MS
    }

    /// The next 20 ms of the call, once per packet time: the playback's or
    /// the other leg's next frame. Builds the packet to send into `out`,
    /// which stays empty while a longer packet (40, 60 ms...) is filling.
    /// Returns the id of the playback this frame ended, if it was its last.
    pub fn next_packet(&mut self, out: &mut Vec<u8>) -> Option<u64> {
        out.clear();
        let codec = self.config.codec;
        let mut frame = [codec.silence_byte(); FRAME_SAMPLES];
        let mut finished = None;
        // The other leg's audio plays once two frames are queued, so one
        // frame is always in hand: the two legs' packet times drift against
        // each other by a millisecond or two, and without it every time the
        // other leg's frame came a moment late this one would send a gap.
        if self.fed_waiting && self.fed.len() >= 2 * FRAME_SAMPLES {
            self.fed_waiting = false;
        }
        if !self.fed_waiting && !self.fed.is_empty() {
            let n = self.fed.len().min(FRAME_SAMPLES);
            for (slot, byte) in frame.iter_mut().zip(self.fed.drain(..n)) {
                *slot = byte;
            }
            self.fed_waiting = self.fed.is_empty();
        } else if let Some(playback) = &mut self.playback {
            let rest = &playback.audio[playback.position..];
            let n = rest.len().min(FRAME_SAMPLES);
            frame[..n].copy_from_slice(&rest[..n]);
            playback.position += n;
            if playback.position >= playback.audio.len() {
                finished = Some(playback.id);
                self.playback = None;
            }
        }
        if self.tape.is_some() {
            // What the far end hears; during a key press, the audio it replaces.
            let mut pcm = Vec::with_capacity(FRAME_SAMPLES);
            self.sent_decoder.decode(&frame, &mut pcm);
            let at = self.tape_now();
            if let Some(tape) = &mut self.tape {
                tape.push(Channel::Sent, at, pcm);
            }
        }
        let timestamp = self.timestamp;
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        self.frames += 1;
        // A key press starts between audio packets, as telephone-events
        // that take the place of the audio while it lasts.
        if self.pending.is_empty()
            && let Some(pt) = self.config.dtmf_payload_type
            && let Some((first, bytes)) = self.outgoing_events.pop_front()
        {
            if first {
                self.event_timestamp = timestamp;
            }
            self.build(out, pt, first, self.event_timestamp, &bytes);
            return finished;
        }
        let marker = !self.started;
        if self.frames_per_packet == 1 {
            self.build(out, codec.payload_type(), marker, timestamp, &frame);
        } else {
            if self.pending.is_empty() {
                self.pending_timestamp = timestamp;
            }
            self.pending.extend_from_slice(&frame);
            if self.pending.len() < self.frames_per_packet * FRAME_SAMPLES {
                return finished;
            }
            let pending = std::mem::take(&mut self.pending);
            self.build(
                out,
                codec.payload_type(),
                marker,
                self.pending_timestamp,
                &pending,
            );
            self.pending = pending;
            self.pending.clear();
        }
        self.started = true;
        finished
    }

    /// Writes one RTP packet into `out` and counts it.
    fn build(
        &mut self,
        out: &mut Vec<u8>,
        payload_type: u8,
        marker: bool,
        timestamp: u32,
        payload: &[u8],
    ) {
        let built = RtpPacketBuilder::new()
            .payload_type(payload_type)
            .marked(marker)
            .ssrc(self.config.ssrc)
            .sequence(self.sequence)
            .timestamp(timestamp)
            .payload(payload)
            .build();
        // The builder only fails on payload types above 127 or more than 15
        // CSRCs; ours are 0, 8, 9 or a dynamic type from 96-127.
        out.extend_from_slice(&built.expect("valid payload type and no CSRC"));
        self.sequence = self.sequence.next();
        self.stats.sent += 1;
        self.stats.sent_octets += payload.len() as u64;
    }

    /// Interprets one datagram received on the call's RTP port.
    /// The call's audio or key-event payload type.
    fn is_ours(&self, payload_type: u8) -> bool {
        payload_type == self.config.codec.payload_type()
            || Some(payload_type) == self.config.dtmf_payload_type
            || Some(payload_type) == self.config.offered_dtmf_payload_type
    }

    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) -> Received {
        if from.ip() != self.config.remote_ip {
            let latches = self.latch == Latch::Address
                && self.stats.received == 0
                && RtpReader::new(data).is_ok_and(|p| self.is_ours(p.payload_type()));
            if !latches {
                self.stats.foreign += 1;
                return Received::Foreign(from);
            }
            self.config.remote_ip = from.ip();
        }
        let Ok(packet) = RtpReader::new(data) else {
            self.stats.ignored += 1;
            return Received::Ignored;
        };
        let pt = packet.payload_type();
        let is_event = Some(pt) == self.config.dtmf_payload_type
            || Some(pt) == self.config.offered_dtmf_payload_type;
        if is_event {
            self.stats.received += 1;
            let Some(event) = TelephoneEvent::parse(packet.payload()) else {
                return Received::Ignored;
            };
            return match self.digits.handle(packet.timestamp(), event) {
                Some(key) => Received::Digit(key),
                None => Received::DigitRepeat,
            };
        }
        // Another codec than the call's is taken as long as it needs no
        // state (a G.711 peer switching law); the call's own is decoded as
        // one stream.
        let codec = match Codec::from_payload_type(pt) {
            Some(codec) if codec == self.config.codec || codec != Codec::G722 => codec,
            _ => {
                self.stats.ignored += 1;
                return Received::Ignored;
            }
        };
        self.stats.received += 1;
        let listened = self.recording.is_some()
            || self.relay.is_some()
            || self.inband.is_some()
            || self.tape.is_some();
        if !listened {
            return Received::Audio;
        }
        let mut pcm = Vec::with_capacity(packet.payload().len());
        if codec == self.config.codec {
            self.far_decoder.decode(packet.payload(), &mut pcm);
        } else {
            codec.decode(packet.payload(), &mut pcm);
        }
        if let Some(rec) = &mut self.recording {
            rec.store(packet.timestamp(), &pcm);
        }
        if let Some(relay) = &mut self.relay {
            let header = PacketHeader {
                ssrc: packet.ssrc(),
                sequence: packet.sequence_number().into(),
                timestamp: packet.timestamp(),
                marker: packet.mark(),
            };
            relay.jitter.handle_packet(now, header, &pcm);
        }
        if let Some(detector) = &mut self.inband {
            // Our own prompt's echo must not pass for a key.
            detector.set_playing(self.playback.is_some());
            detector.handle_samples(&pcm);
            while let Some(digit) = detector.poll_digit() {
                if self.inband_keys.len() < 16 {
                    self.inband_keys.push_back(digit.key);
                }
            }
        }
        let at_packet = self.tape_now();
        if let Some(tape) = &mut self.tape {
            let at = tape.far_position(packet.timestamp(), at_packet);
            tape.push(Channel::FarEnd, at, pcm);
        }
        Received::Audio
    }

    /// The far end's audio received so far (8 kHz), if recording.
    pub fn take_recording(&mut self) -> Option<Vec<i16>> {
        self.recording.take().map(|r| r.samples)
    }
}

impl Recording {
    /// Places a packet's samples by RTP timestamp, so gaps stay silent and
    /// reordered packets land where they belong.
    fn store(&mut self, timestamp: u32, pcm: &[i16]) {
        let first = *self.first_timestamp.get_or_insert(timestamp);
        let offset = timestamp.wrapping_sub(first) as usize;
        if offset >= self.limit {
            return;
        }
        let end = (offset + pcm.len()).min(self.limit);
        if self.samples.len() < end {
            self.samples.resize(end, 0);
        }
        self.samples[offset..end].copy_from_slice(&pcm[..end - offset]);
    }
}

#[cfg(test)]
mod tests {
    /// Arrival instants for the tests' datagrams (only the bridge's jitter
    /// buffer looks at them).
    #[allow(clippy::disallowed_methods)]
    fn now() -> Instant {
        Instant::now()
    }
    use super::*;

    const FAR: &str = "10.1.1.1:4000";

    fn session(codec: Codec, record: bool) -> RtpSession {
        RtpSession::new(SessionConfig {
            codec,
            dtmf_payload_type: Some(101),
            offered_dtmf_payload_type: Some(101),
            remote_ip: "10.1.1.1".parse().unwrap(),
            record_limit: record.then_some(80_000),
            ssrc: 0x1234_5678,
            inband_dtmf: false,
            ptime_ms: 20,
        })
    }

    #[test]
    fn plays_audio_in_20ms_frames_then_silence() {
        let mut s = session(Codec::Pcmu, false);
        let audio: Arc<[u8]> = (0..400).map(|i| (i % 200) as u8).collect::<Vec<_>>().into();
        s.play(audio.clone(), 7);
        let mut out = Vec::new();
        let mut packets = Vec::new();
        let mut finished_at = None;
        for i in 0..4 {
            if let Some(id) = s.next_packet(&mut out) {
                assert_eq!(id, 7);
                finished_at = Some(i);
            }
            packets.push(out.clone());
        }
        assert_eq!(finished_at, Some(2), "400 bytes = 2.5 frames");
        let readers: Vec<RtpReader> = packets.iter().map(|p| RtpReader::new(p).unwrap()).collect();
        assert_eq!(readers[0].payload(), &audio[..160]);
        assert_eq!(readers[1].payload(), &audio[160..320]);
        assert_eq!(&readers[2].payload()[..80], &audio[320..]);
        assert!(readers[2].payload()[80..].iter().all(|&b| b == 0xFF));
        assert!(readers[3].payload().iter().all(|&b| b == 0xFF));
        assert!(readers[0].mark() && !readers[1].mark());
        for pair in readers.windows(2) {
            assert_eq!(pair[1].timestamp().wrapping_sub(pair[0].timestamp()), 160);
            assert_eq!(
                u16::from(pair[1].sequence_number()),
                u16::from(pair[0].sequence_number()).wrapping_add(1)
            );
            assert_eq!(pair[1].ssrc(), 0x1234_5678);
        }
        assert_eq!(s.stats().sent, 4);
    }

    /// A far end asking for 40 ms gets packets of two frames every other
    /// packet time, on one clock; a key press waits for the packet filling.
    #[test]
    fn longer_packet_times_carry_several_frames() {
        let mut s = RtpSession::new(SessionConfig {
            ptime_ms: 40,
            ..session(Codec::Pcmu, false).config
        });
        assert_eq!(s.packet_ms(), 40);
        let audio: Arc<[u8]> = (0..1600)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<_>>()
            .into();
        s.play(audio.clone(), 1);
        let mut out = Vec::new();
        let mut packets = Vec::new();
        for visit in 0..8 {
            if visit == 1 {
                s.press('5', 40);
            }
            s.next_packet(&mut out);
            packets.push(out.clone());
        }
        let sent: Vec<RtpReader> = packets
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| RtpReader::new(p).unwrap())
            .collect();
        // Visits 0-1: a 40 ms packet; 2-5: the key's events (one, then
        // three ends), each in its own packet time; 6-7: another 40 ms.
        assert!(packets[0].is_empty() && packets[6].is_empty());
        let kinds: Vec<(u8, usize)> = sent
            .iter()
            .map(|r| (r.payload_type(), r.payload().len()))
            .collect();
        assert_eq!(
            kinds,
            [(0, 320), (101, 4), (101, 4), (101, 4), (101, 4), (0, 320)]
        );
        assert_eq!(sent[0].payload(), &audio[..320]);
        assert!(sent[0].mark());
        // The audio a key press replaced is not sent later: the clock went on.
        assert_eq!(sent[5].payload(), &audio[160 * 6..160 * 8]);
        assert_eq!(
            sent[5].timestamp().wrapping_sub(sent[0].timestamp()),
            160 * 6
        );
        assert_eq!(sent[1].timestamp().wrapping_sub(sent[0].timestamp()), 320);
        for pair in sent.windows(2) {
            assert_eq!(
                u16::from(pair[1].sequence_number()),
                u16::from(pair[0].sequence_number()).wrapping_add(1)
            );
        }
        let stats = s.stats();
        assert_eq!(stats.sent, 6);
        assert_eq!(stats.sent_octets, 320 * 2 + 4 * 4);
    }

    #[test]
    fn packet_times_we_cannot_make_fall_back_to_20_ms() {
        for (ptime, frames) in [
            (20, 1),
            (40, 2),
            (60, 3),
            (120, 6),
            (10, 1),
            (30, 1),
            (140, 1),
            (0, 1),
        ] {
            assert_eq!(frames_per_packet(ptime), frames, "{ptime} ms");
        }
    }

    #[test]
    fn pressing_a_key_sends_events_with_one_timestamp() {
        let mut s = session(Codec::Pcma, false);
        assert!(s.press('7', 100));
        assert!(!s.press('x', 100));
        let mut out = Vec::new();
        let mut events = Vec::new();
        for _ in 0..10 {
            s.next_packet(&mut out);
            let r = RtpReader::new(&out).unwrap();
            if r.payload_type() == 101 {
                events.push((
                    r.timestamp(),
                    TelephoneEvent::parse(r.payload()).unwrap(),
                    r.mark(),
                ));
            } else {
                assert_eq!(r.payload_type(), 8);
            }
        }
        assert_eq!(events.len(), 4 + 3);
        assert!(
            events
                .iter()
                .all(|(ts, ev, _)| *ts == events[0].0 && ev.event == 7)
        );
        assert!(events[0].2, "marker on the event's first packet");
        assert_eq!(events.iter().filter(|(_, ev, _)| ev.end).count(), 3);
    }

    #[test]
    fn received_events_become_one_digit_and_audio_is_recorded() {
        let mut sender = session(Codec::Pcmu, false);
        let mut receiver = session(Codec::Pcmu, true);
        let far: SocketAddr = FAR.parse().unwrap();
        sender.play(vec![0x80u8; 320].into(), 1);
        let mut out = Vec::new();
        let mut digits = Vec::new();
        for i in 0..12 {
            if i == 2 {
                sender.press('3', 60);
            }
            sender.next_packet(&mut out);
            if let Received::Digit(d) = receiver.handle_datagram(now(), far, &out) {
                digits.push(d);
            }
        }
        assert_eq!(digits, vec!['3']);
        let recording = receiver.take_recording().unwrap();
        // 12 packets of 20 ms were sent; 5 of them carried events, whose
        // time stays in the recording as silence.
        assert_eq!(recording.len(), 12 * 160);
        assert!(
            recording[..160].iter().all(|&s| s.abs() > 1000),
            "the played audio is there"
        );
    }

    #[test]
    fn strangers_and_garbage_are_counted_not_played() {
        let mut s = session(Codec::Pcmu, true);
        let mut other = session(Codec::Pcmu, false);
        let mut out = Vec::new();
        other.next_packet(&mut out);
        let stranger: SocketAddr = "10.9.9.9:4000".parse().unwrap();
        assert_eq!(
            s.handle_datagram(now(), stranger, &out),
            Received::Foreign(stranger)
        );
        assert_eq!(
            s.handle_datagram(now(), FAR.parse().unwrap(), b"\x00\x01"),
            Received::Ignored
        );
        let stats = s.stats();
        assert_eq!((stats.foreign, stats.ignored, stats.received), (1, 1, 0));
        assert_eq!(s.take_recording().unwrap().len(), 0);
    }

    /// Recording places what we send by packets sent, and what the far end
    /// sends by its timestamps from where its first packet arrived: a
    /// reordered packet lands in its place, a timestamp jump re-anchors.
    #[test]
    fn the_tape_places_both_directions_on_one_timeline() {
        let with_ssrc = |ssrc| {
            let mut s = session(Codec::Pcmu, false);
            s.config.ssrc = ssrc;
            s.timestamp = ssrc.rotate_left(16);
            s
        };
        let mut us = session(Codec::Pcmu, false);
        let mut them = with_ssrc(77);
        us.play(vec![0x00u8; 160 * 10].into(), 1);
        us.next_packet(&mut Vec::new()); // before recording: not on the tape
        us.start_tape();
        let from: SocketAddr = FAR.parse().unwrap();
        let mut packets = Vec::new();
        for _ in 0..4 {
            let mut p = Vec::new();
            them.next_packet(&mut p);
            packets.push(p);
        }
        let mut out = Vec::new();
        us.next_packet(&mut out); // sample 0
        us.next_packet(&mut out); // sample 160
        us.handle_datagram(now(), from, &packets[0]); // arrives at 320
        us.handle_datagram(now(), from, &packets[2]); // two packets later
        us.handle_datagram(now(), from, &packets[1]); // reordered
        let mut got = Vec::new();
        while let Some((channel, at, pcm)) = us.take_taped() {
            assert_eq!(pcm.len(), 160);
            got.push((channel, at));
        }
        assert_eq!(
            got,
            [
                (Channel::Sent, 0),
                (Channel::Sent, 160),
                (Channel::FarEnd, 320),
                (Channel::FarEnd, 640),
                (Channel::FarEnd, 480),
            ]
        );
        // A far end restarting its timestamps far away is re-anchored at now.
        let mut jumped = with_ssrc(0x5555_0000);
        let mut p = Vec::new();
        jumped.next_packet(&mut p);
        us.handle_datagram(now(), from, &p);
        assert_eq!(
            us.take_taped().map(|(c, at, _)| (c, at)),
            Some((Channel::FarEnd, 320))
        );
    }
}
