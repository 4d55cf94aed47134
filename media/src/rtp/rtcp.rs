//! RTCP for one call (RFC 3550 section 6): what we received of the far
//! end's stream (loss, interarrival jitter), our sender and receiver
//! reports, and what the far end reports of ours (loss, jitter, round trip).
//!
//! Sans-IO: the media thread passes in every received RTP header with its
//! arrival time, asks for a report to send, and hands over RTCP datagrams;
//! the clocks (`Instant` for arrival, wall time for the NTP field) come in
//! as arguments.
//!
//! The packets are coded here, not by webrtc-rs' `rtcp` crate: its 0.17
//! parser panics on malformed feedback packets (our fuzz target found one
//! in seconds: a transport-layer NACK shorter than it claims), and any
//! stranger can send a datagram to a call's RTCP port. A call needs only
//! sender and receiver reports read, and SR, SDES and BYE written: every
//! length below is checked before it is used, and every other packet type
//! is skipped by its length.

#![deny(clippy::disallowed_methods)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// RTP clock of the audio, samples per second.
const CLOCK_RATE: u64 = 8_000;

/// A sequence number this far ahead of the highest seen is a restart of
/// the far end's numbering, not a loss (RFC 3550 A.1's MAX_DROPOUT).
const MAX_DROPOUT: u16 = 3_000;
/// A sequence number at most this far behind is late or a duplicate.
const MAX_MISORDER: u16 = 100;

/// What we received of the far end's stream (RFC 3550 A.1, A.3, A.8).
#[derive(Debug, Clone)]
struct Reception {
    ssrc: u32,
    base_seq: u16,
    max_seq: u16,
    /// Wraps of the sequence number, times 65,536.
    cycles: u32,
    received: u64,
    /// At the last report, for the fraction lost in the interval.
    expected_prior: u64,
    received_prior: u64,
    /// Relative transit time of the last packet, in RTP units.
    transit: Option<i64>,
    /// Interarrival jitter, in RTP units (a running estimate).
    jitter: f64,
    /// After a big jump: the sequence number that would confirm a restart.
    bad_seq: Option<u16>,
    /// Expected under the far end's earlier numberings (before restarts).
    earlier_expected: u64,
}

impl Reception {
    fn new(ssrc: u32, seq: u16) -> Reception {
        Reception {
            ssrc,
            base_seq: seq,
            max_seq: seq,
            cycles: 0,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            transit: None,
            jitter: 0.0,
            bad_seq: None,
            earlier_expected: 0,
        }
    }

    fn extended_max(&self) -> u32 {
        self.cycles + u32::from(self.max_seq)
    }

    /// Packets expected, over every numbering the far end used.
    fn expected(&self) -> u64 {
        self.earlier_expected + u64::from(self.extended_max() - u32::from(self.base_seq)) + 1
    }

    fn lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    fn update(&mut self, seq: u16, timestamp: u32, arrival: u64) {
        let delta = seq.wrapping_sub(self.max_seq);
        if delta != 0 && delta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += 1 << 16;
            }
            self.max_seq = seq;
        } else if delta != 0 && delta <= u16::MAX - MAX_MISORDER {
            // A big jump: a restart of the far end's numbering if the next
            // packet follows on (RFC 3550 A.1), else a stray to ignore.
            if self.bad_seq != Some(seq) {
                self.bad_seq = Some(seq.wrapping_add(1));
                return;
            }
            *self = Reception {
                received: self.received,
                earlier_expected: self.expected(),
                expected_prior: self.expected_prior,
                received_prior: self.received_prior,
                ..Reception::new(self.ssrc, seq)
            };
        }
        self.bad_seq = None;
        self.received += 1;
        let transit = arrival as i64 - i64::from(timestamp);
        if let Some(previous) = self.transit {
            // Timestamps wrap: the difference is taken modulo 2^32.
            let d = (transit - previous) as i32;
            self.jitter += (f64::from(d).abs() - self.jitter) / 16.0;
        }
        self.transit = Some(transit);
    }

    fn block(&mut self, last_sr: Option<(u32, Instant)>, now: Instant) -> ReceptionReport {
        let expected = self.expected();
        let interval_expected = expected.saturating_sub(self.expected_prior);
        let interval_received = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let interval_lost = interval_expected.saturating_sub(interval_received);
        let fraction_lost = (interval_lost << 8)
            .checked_div(interval_expected)
            .map_or(0, |f| f.min(255) as u8);
        let (lsr, delay) = match last_sr {
            Some((lsr, at)) => (lsr, to_units_65536(now.saturating_duration_since(at))),
            None => (0, 0),
        };
        ReceptionReport {
            ssrc: self.ssrc,
            fraction_lost,
            // 24 bits, signed: clamp (a duplicate-heavy stream can go negative).
            total_lost: self.lost().clamp(0, 0x7F_FFFF) as u32,
            last_sequence_number: self.extended_max(),
            jitter: self.jitter as u32,
            last_sender_report: lsr,
            delay,
        }
    }
}

/// What the far end reported of our stream, the last time it did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FarView {
    /// Our packets it has not received, in all.
    pub lost: u32,
    /// Of our packets in its last interval, the share lost (0-1).
    pub fraction_lost: f64,
    pub jitter_ms: f64,
}

/// A call's media quality, both ways, for the attempt record.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallQuality {
    /// The far end's audio packets that reached us.
    pub received: u64,
    /// Of those it sent (by sequence number), how many never came.
    pub lost: i64,
    /// Interarrival jitter of the far end's stream, ms.
    pub jitter_ms: f64,
    /// The far end's view of our stream, from its RTCP reports.
    pub far: Option<FarView>,
    /// Round trip from the far end's reports of our sender reports.
    pub rtt_ms: Option<f64>,
    /// RTCP packets received from the far end.
    pub reports_received: u64,
}

/// An RTCP datagram we could not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("RTCP packet does not parse: {0}")]
pub struct RtcpError(String);

/// One call's RTCP state.
#[derive(Debug)]
pub struct Rtcp {
    ssrc: u32,
    cname: Vec<u8>,
    /// Arrival times are counted in RTP units from here.
    origin: Instant,
    reception: Option<Reception>,
    /// The far end's last sender report: its NTP middle 32 bits, and when it came.
    last_sr: Option<(u32, Instant)>,
    far: Option<FarView>,
    rtt: Option<Duration>,
    reports_received: u64,
}

impl Rtcp {
    pub fn new(ssrc: u32, cname: &str, now: Instant) -> Rtcp {
        Rtcp {
            ssrc,
            // SDES items hold at most 255 bytes.
            cname: cname.as_bytes()[..cname.len().min(255)].to_vec(),
            origin: now,
            reception: None,
            last_sr: None,
            far: None,
            rtt: None,
            reports_received: 0,
        }
    }

    /// An RTP packet of the far end's, by its header, as it arrived.
    pub fn on_rtp(&mut self, ssrc: u32, seq: u16, timestamp: u32, now: Instant) {
        let arrival =
            now.saturating_duration_since(self.origin).as_micros() as u64 * CLOCK_RATE / 1_000_000;
        match &mut self.reception {
            Some(r) if r.ssrc == ssrc => r.update(seq, timestamp, arrival),
            _ => {
                // The first stream, or a new source (re-INVITE, failover):
                // counted afresh.
                let mut r = Reception::new(ssrc, seq);
                r.update(seq, timestamp, arrival);
                self.reception = Some(r);
            }
        }
    }

    /// A compound report to send: a sender report (we send audio all call
    /// long) with a block on the far end's stream once it has sent any,
    /// and our CNAME; with `bye`, a BYE after them (the call's last).
    /// `sent` is our packets and their payload octets so far, `rtp_time`
    /// the timestamp our next packet carries.
    pub fn report(
        &mut self,
        now: Instant,
        wall: SystemTime,
        sent: (u64, u64),
        rtp_time: u32,
        bye: bool,
    ) -> Vec<u8> {
        let reports: Vec<ReceptionReport> = self
            .reception
            .as_mut()
            .map(|r| r.block(self.last_sr, now))
            .into_iter()
            .collect();
        let mut out = Vec::with_capacity(128);
        let at = begin(&mut out, reports.len() as u8, SR);
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&ntp(wall).to_be_bytes());
        out.extend_from_slice(&rtp_time.to_be_bytes());
        // Both counts wrap at 32 bits (RFC 3550 §6.4.1).
        out.extend_from_slice(&(sent.0 as u32).to_be_bytes());
        out.extend_from_slice(&(sent.1 as u32).to_be_bytes());
        for block in &reports {
            block.write(&mut out);
        }
        finish(&mut out, at);
        let at = begin(&mut out, 1, SDES);
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&[SDES_CNAME, self.cname.len() as u8]);
        out.extend_from_slice(&self.cname);
        // The chunk ends with a null item, padded to 32 bits.
        out.push(0);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        finish(&mut out, at);
        if bye {
            let at = begin(&mut out, 1, BYE);
            out.extend_from_slice(&self.ssrc.to_be_bytes());
            finish(&mut out, at);
        }
        out
    }

    /// A datagram from the far end's RTCP port.
    pub fn on_rtcp(
        &mut self,
        data: &[u8],
        now: Instant,
        wall: SystemTime,
    ) -> Result<(), RtcpError> {
        let reports = parse(data)?;
        self.reports_received += 1;
        for report in &reports {
            match report {
                Report::Sender { ntp, blocks } => {
                    self.last_sr = Some(((ntp >> 16) as u32, now));
                    self.take_blocks(blocks, wall);
                }
                Report::Receiver { blocks } => self.take_blocks(blocks, wall),
            }
        }
        Ok(())
    }

    fn take_blocks(&mut self, blocks: &[ReceptionReport], wall: SystemTime) {
        let Some(block) = blocks.iter().find(|b| b.ssrc == self.ssrc) else {
            return;
        };
        self.far = Some(FarView {
            lost: block.total_lost & 0xFF_FFFF,
            fraction_lost: f64::from(block.fraction_lost) / 256.0,
            jitter_ms: f64::from(block.jitter) * 1_000.0 / CLOCK_RATE as f64,
        });
        if block.last_sender_report != 0 {
            // RFC 3550 6.4.1: arrival - LSR - DLSR, in 1/65536 s.
            let arrival = (ntp(wall) >> 16) as u32;
            let rtt = arrival
                .wrapping_sub(block.last_sender_report)
                .wrapping_sub(block.delay);
            // A wrapped (negative) result is clock trouble: not a round trip.
            if rtt < 1 << 31 {
                self.rtt = Some(Duration::from_secs_f64(f64::from(rtt) / 65_536.0));
            }
        }
    }

    pub fn quality(&self) -> CallQuality {
        CallQuality {
            received: self.reception.as_ref().map_or(0, |r| r.received),
            lost: self.reception.as_ref().map_or(0, Reception::lost),
            jitter_ms: self
                .reception
                .as_ref()
                .map_or(0.0, |r| r.jitter * 1_000.0 / CLOCK_RATE as f64),
            far: self.far,
            rtt_ms: self.rtt.map(|d| d.as_secs_f64() * 1_000.0),
            reports_received: self.reports_received,
        }
    }
}

/// RTCP packet types (RFC 3550 12.1).
const SR: u8 = 200;
const RR: u8 = 201;
const SDES: u8 = 202;
const BYE: u8 = 203;
const SDES_CNAME: u8 = 1;

/// One reception report block (RFC 3550 6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReceptionReport {
    ssrc: u32,
    fraction_lost: u8,
    /// 24 bits.
    total_lost: u32,
    last_sequence_number: u32,
    jitter: u32,
    last_sender_report: u32,
    delay: u32,
}

impl ReceptionReport {
    const LEN: usize = 24;

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.push(self.fraction_lost);
        out.extend_from_slice(&self.total_lost.to_be_bytes()[1..]);
        for word in [
            self.last_sequence_number,
            self.jitter,
            self.last_sender_report,
            self.delay,
        ] {
            out.extend_from_slice(&word.to_be_bytes());
        }
    }

    fn read(b: &[u8]) -> ReceptionReport {
        let word = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        ReceptionReport {
            ssrc: word(0),
            fraction_lost: b[4],
            total_lost: u32::from_be_bytes([0, b[5], b[6], b[7]]),
            last_sequence_number: word(8),
            jitter: word(12),
            last_sender_report: word(16),
            delay: word(20),
        }
    }
}

/// What a received compound packet says that a call uses.
#[derive(Debug, PartialEq, Eq)]
enum Report {
    Sender {
        ntp: u64,
        blocks: Vec<ReceptionReport>,
    },
    Receiver {
        blocks: Vec<ReceptionReport>,
    },
}

/// Starts a packet: its header with the length filled in by [`finish`].
fn begin(out: &mut Vec<u8>, count: u8, packet_type: u8) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0x80 | (count & 0x1f), packet_type, 0, 0]);
    at
}

/// Pads the packet begun at `at` to 32 bits and writes its length.
fn finish(out: &mut [u8], at: usize) {
    let words = ((out.len() - at) / 4 - 1) as u16;
    out[at + 2..at + 4].copy_from_slice(&words.to_be_bytes());
}

/// Splits a compound packet and reads its sender and receiver reports
/// (RFC 3550 A.2: version 2 throughout, an SR or RR first, lengths that
/// add up to the datagram).
fn parse(data: &[u8]) -> Result<Vec<Report>, RtcpError> {
    let mut reports = Vec::new();
    let mut rest = data;
    let mut first = true;
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(RtcpError(format!(
                "{} stray bytes after the last packet",
                rest.len()
            )));
        }
        let (version, count, packet_type) = (rest[0] >> 6, usize::from(rest[0] & 0x1f), rest[1]);
        let len = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
        if version != 2 {
            return Err(RtcpError(format!("version {version}, not 2")));
        }
        if len > rest.len() {
            return Err(RtcpError(format!(
                "packet type {packet_type} claims {len} bytes, {} left",
                rest.len()
            )));
        }
        if first && packet_type != SR && packet_type != RR {
            return Err(RtcpError(format!(
                "a compound packet starts with type {packet_type}, not SR or RR"
            )));
        }
        first = false;
        let body = &rest[4..len];
        let blocks_at = match packet_type {
            SR => 24,
            RR => 4,
            _ => 0,
        };
        if blocks_at > 0 {
            if body.len() < blocks_at + count * ReceptionReport::LEN {
                return Err(RtcpError(format!(
                    "packet type {packet_type} with {count} report blocks in {len} bytes"
                )));
            }
            let blocks = body[blocks_at..blocks_at + count * ReceptionReport::LEN]
                .chunks_exact(ReceptionReport::LEN)
                .map(ReceptionReport::read)
                .collect();
            reports.push(if packet_type == SR {
                let ntp = u64::from_be_bytes(body[4..12].try_into().expect("8 bytes"));
                Report::Sender { ntp, blocks }
            } else {
                Report::Receiver { blocks }
            });
        }
        rest = &rest[len..];
    }
    Ok(reports)
}

/// The 64-bit NTP timestamp of `wall`.
fn ntp(wall: SystemTime) -> u64 {
    let since = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs() + NTP_UNIX_OFFSET;
    let fraction = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    (seconds << 32) | fraction
}

fn to_units_65536(d: Duration) -> u32 {
    (d.as_secs_f64() * 65_536.0).min(f64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // the test's clock starts somewhere
    fn start() -> (Instant, SystemTime) {
        (Instant::now(), SystemTime::now())
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// 100 packets sent, 7 lost, 2 of them late and in reverse order, one
    /// duplicated: lost counts what never came, by sequence number.
    #[test]
    fn loss_counts_what_never_came_across_reordering_and_a_wrap() {
        let (t0, _) = start();
        let mut rtcp = Rtcp::new(1, "dialer", t0);
        let first: u16 = 65_500; // wraps mid-call
        let missing = [3u16, 10, 11, 40, 41, 42, 77];
        let mut order: Vec<u16> = (0..100)
            .filter(|i| !missing.contains(i) && *i != 20 && *i != 21)
            .collect();
        order.extend([21, 20, 50]); // two late ones reversed, one duplicate
        for (k, i) in order.iter().enumerate() {
            let seq = first.wrapping_add(*i);
            rtcp.on_rtp(9, seq, u32::from(*i) * 160, t0 + ms(20 * k as u64));
        }
        let q = rtcp.quality();
        assert_eq!(q.received, 94);
        // 100 expected, 94 received of which one a duplicate: 6 by the
        // RFC's formula (a duplicate offsets a loss, as every stack counts).
        assert_eq!(q.lost, 6);
    }

    /// Packets on a perfect 20 ms grid have no jitter; alternating 0 and
    /// 10 ms late converges to the RFC's estimate (~10 ms).
    #[test]
    fn jitter_follows_rfc_3550() {
        let (t0, _) = start();
        let mut steady = Rtcp::new(1, "d", t0);
        let mut shaky = Rtcp::new(1, "d", t0);
        for i in 0..500u16 {
            let ts = u32::from(i) * 160;
            steady.on_rtp(9, i, ts, t0 + ms(20 * u64::from(i)));
            let late = if i % 2 == 0 { 0 } else { 10 };
            shaky.on_rtp(9, i, ts, t0 + ms(20 * u64::from(i) + late));
        }
        assert!(steady.quality().jitter_ms < 0.2, "{:?}", steady.quality());
        let j = shaky.quality().jitter_ms;
        assert!((9.0..=10.5).contains(&j), "jitter {j} ms");
    }

    /// Two sides exchange reports: each learns what the other got of its
    /// stream, and the round trip comes out of LSR and DLSR.
    #[test]
    fn reports_round_trip_between_two_sides() {
        let (t0, w0) = start();
        let mut a = Rtcp::new(0xA, "dialer@a", t0);
        let mut b = Rtcp::new(0xB, "carrier@b", t0);
        // A's stream to B loses 1 packet in 50; B's to A loses none.
        for i in 0..50u16 {
            let at = t0 + ms(20 * u64::from(i));
            if i != 25 {
                b.on_rtp(0xA, i, u32::from(i) * 160, at);
            }
            a.on_rtp(0xB, i, u32::from(i) * 160, at);
        }
        let at = |n| (t0 + ms(n), w0 + ms(n));
        // A reports at 1000 ms; B gets it 15 ms later, answers 100 ms after
        // that; A gets B's report 15 ms later: a 30 ms round trip.
        let (i1, w1) = at(1_000);
        let from_a = a.report(i1, w1, (50, 8_000), 8_000, false);
        let (i2, w2) = at(1_015);
        b.on_rtcp(&from_a, i2, w2).unwrap();
        let (i3, w3) = at(1_115);
        let from_b = b.report(i3, w3, (50, 8_000), 8_000, true);
        let (i4, w4) = at(1_130);
        a.on_rtcp(&from_b, i4, w4).unwrap();

        let far = a.quality().far.expect("B reported on A's stream");
        assert_eq!(far.lost, 1);
        assert!((far.fraction_lost - 1.0 / 50.0).abs() < 0.01, "{far:?}");
        let rtt = a.quality().rtt_ms.expect("a round trip");
        assert!((rtt - 30.0).abs() < 0.5, "rtt {rtt} ms");
        assert_eq!(b.quality().far.map(|f| f.lost), Some(0));
        assert_eq!(a.quality().reports_received, 1);
    }

    /// One stray packet far off the sequence is ignored; a jump that the
    /// next packet confirms is a restart, counted on from there.
    #[test]
    fn a_stray_is_ignored_and_a_restart_followed() {
        let (t0, _) = start();
        let mut rtcp = Rtcp::new(1, "d", t0);
        for i in 0..10u16 {
            rtcp.on_rtp(9, i, u32::from(i) * 160, t0 + ms(20 * u64::from(i)));
        }
        rtcp.on_rtp(9, 30_000, 0, t0 + ms(200));
        rtcp.on_rtp(9, 10, 1_600, t0 + ms(220));
        assert_eq!((rtcp.quality().received, rtcp.quality().lost), (11, 0));
        for (k, seq) in (40_000u16..40_010).enumerate() {
            rtcp.on_rtp(9, seq, 9_000 + k as u32 * 160, t0 + ms(240 + 20 * k as u64));
        }
        // The first of the new numbering only proposed the restart and is
        // not counted either way (RFC 3550 A.1); the other nine are.
        assert_eq!((rtcp.quality().received, rtcp.quality().lost), (20, 0));
    }

    #[test]
    fn junk_is_an_error_not_a_panic() {
        let (t0, w0) = start();
        let mut rtcp = Rtcp::new(1, "d", t0);
        assert!(rtcp.on_rtcp(b"\x80\xc8\x00", t0, w0).is_err());
        assert!(rtcp.on_rtcp(&[0xff; 40], t0, w0).is_err());
        // What made webrtc-rs' rtcp 0.17 parser panic (the fuzz target's
        // find): a transport-layer NACK (type 205) shorter than its list.
        let crash = [
            0x81, 0xcd, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x28, 0x00, 0x00,
            0x60, 0x00, 0x80, 0x00, 0x00, 0x00, 0x01, 0x9d, 0x35, 0x82, 0x08, 0x00, 0x00, 0x00,
            0xcc, 0x68, 0x3a, 0x2e,
        ];
        assert!(rtcp.on_rtcp(&crash, t0, w0).is_err());
        // An SR claiming more report blocks than it holds.
        let mut short = rtcp.report(t0, w0, (1, 160), 160, false);
        short[0] |= 3;
        assert!(rtcp.on_rtcp(&short, t0, w0).is_err());
        assert_eq!(rtcp.quality().reports_received, 0);
    }

    /// Our compound packet is what RFC 3550 asks: SR first, then SDES with
    /// the CNAME, then BYE; every length adds up.
    #[test]
    fn our_report_is_a_valid_compound_packet() {
        let (t0, w0) = start();
        let mut rtcp = Rtcp::new(0x1234, "dialer@127.0.0.1", t0);
        rtcp.on_rtp(9, 1, 160, t0);
        let packet = rtcp.report(t0 + ms(20), w0, (50, 8_000), 8_000, true);
        let types: Vec<(u8, usize)> = {
            let mut rest = &packet[..];
            let mut seen = Vec::new();
            while !rest.is_empty() {
                let len = (usize::from(u16::from_be_bytes([rest[2], rest[3]])) + 1) * 4;
                seen.push((rest[1], len));
                rest = &rest[len..];
            }
            seen
        };
        assert_eq!(
            types.iter().map(|t| t.0).collect::<Vec<_>>(),
            vec![SR, SDES, BYE]
        );
        assert_eq!(types[0].1, 4 + 24 + 24, "SR with one report block");
        assert!(packet.windows(16).any(|w| w == b"dialer@127.0.0.1"));
        match &parse(&packet).unwrap()[..] {
            [Report::Sender { blocks, .. }] => assert_eq!(blocks[0].ssrc, 9),
            other => panic!("{other:?}"),
        }
    }
}
