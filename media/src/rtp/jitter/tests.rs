//! Scenarios for the jitter buffer on a virtual clock.
//!
//! Each test writes down when each packet arrives (an offset from one
//! origin instant) and polls a frame every 20 ms, as the driver's playout
//! tick would; nothing sleeps. Every sample of a test stream says where in
//! the stream it is, so a frame shows exactly which audio it carries.

use super::*;

const TICK: Duration = Duration::from_millis(20);

#[allow(clippy::disallowed_methods)] // the test's own clock starts somewhere
fn origin() -> Instant {
    Instant::now()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Sample `n` of a test stream: loud, never zero, and telling its place.
/// Streams told apart by sign.
fn value(sign: i16, n: u32) -> i16 {
    sign * (1000 + (n % 30_000) as i16)
}

/// Where in its stream a frame's audio starts, if it is the stream's audio
/// exactly (sign, sample index modulo 30,000).
fn position(frame: &Frame) -> Option<(i16, u32)> {
    let first = frame.samples[0];
    if first.abs() < 1000 {
        return None;
    }
    let (sign, n0) = (first.signum(), (first.abs() - 1000) as u32);
    (0..FRAME_SAMPLES as u32)
        .all(|j| frame.samples[j as usize] == value(sign, n0 + j))
        .then_some((sign, n0))
}

/// The positions of the Audio frames, which must all be exact.
fn positions(frames: &[Frame]) -> Vec<(i16, u32)> {
    frames
        .iter()
        .filter(|f| f.kind == FrameKind::Audio)
        .map(|f| position(f).expect("an Audio frame is the stream's audio as sent"))
        .collect()
}

fn expected(sign: i16, frames: u32) -> Vec<(i16, u32)> {
    (0..frames).map(|k| (sign, k * 160 % 30_000)).collect()
}

fn energy(samples: &[i16]) -> i64 {
    samples.iter().map(|&s| i64::from(s).pow(2)).sum()
}

#[derive(Debug, Clone)]
struct Sent {
    at: Duration,
    header: PacketHeader,
    samples: Vec<i16>,
}

/// `count` packets of `ptime` samples, sent (and arriving) every `ptime`
/// from `start`, the first numbered `seq0` and stamped `ts0`.
fn talk(ssrc: u32, seq0: u16, ts0: u32, count: usize, ptime: usize, start: Duration) -> Vec<Sent> {
    let sign = if ssrc % 2 == 1 { 1 } else { -1 };
    (0..count)
        .map(|k| Sent {
            at: start + Duration::from_micros((k * ptime) as u64 * 125),
            header: PacketHeader {
                ssrc,
                sequence: seq0.wrapping_add(k as u16),
                timestamp: ts0.wrapping_add((k * ptime) as u32),
                marker: k == 0,
            },
            samples: (0..ptime)
                .map(|j| value(sign, (k * ptime + j) as u32))
                .collect(),
        })
        .collect()
}

struct Run {
    frames: Vec<Frame>,
    /// What became of each packet, in the order they were sent.
    arrivals: Vec<Arrival>,
    /// The stats after each tick.
    stats: Vec<JitterStats>,
}

/// Feeds the packets at their arrival times and polls every 20 ms from
/// `phase`, for `ticks` ticks. Packets due at a tick's instant go first.
fn run(jb: &mut JitterBuffer, packets: &[Sent], ticks: usize, phase: Duration) -> Run {
    let origin = origin();
    let mut order: Vec<usize> = (0..packets.len()).collect();
    order.sort_by_key(|&i| packets[i].at);
    let mut arrivals = vec![Arrival::Empty; packets.len()];
    let (mut frames, mut stats) = (Vec::new(), Vec::new());
    let mut fed = 0;
    for k in 0..ticks {
        let now = phase + TICK * k as u32;
        while fed < order.len() && packets[order[fed]].at <= now {
            let p = &packets[order[fed]];
            arrivals[order[fed]] = jb.handle_packet(origin + p.at, p.header, &p.samples);
            fed += 1;
        }
        frames.push(jb.poll_frame(origin + now));
        stats.push(jb.stats());
    }
    Run {
        frames,
        arrivals,
        stats,
    }
}

fn buffer() -> JitterBuffer {
    JitterBuffer::new(JitterConfig::default()).unwrap()
}

/// Frames up to the last Audio one: the stream's own span, without the
/// concealment that follows its end.
fn during(frames: &[Frame]) -> &[Frame] {
    let last = frames.iter().rposition(|f| f.kind == FrameKind::Audio);
    &frames[..last.map_or(0, |i| i + 1)]
}

fn count(frames: &[Frame], kind: FrameKind) -> usize {
    frames.iter().filter(|f| f.kind == kind).count()
}

/// A small LCG, so shuffles are the same on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

#[test]
fn an_in_order_stream_plays_out_exactly() {
    let mut jb = buffer();
    let r = run(&mut jb, &talk(1, 100, 5_000, 100, 160, ms(0)), 110, ms(7));
    assert_eq!(
        r.frames[0].kind,
        FrameKind::Silence,
        "silence before the delay"
    );
    assert_eq!(r.frames[0].samples, [0; FRAME_SAMPLES]);
    assert_eq!(position(&r.frames[1]), Some((1, 0)), "starts after 20 ms");
    assert_eq!(positions(&r.frames), expected(1, 100));
    assert_eq!(count(during(&r.frames), FrameKind::Audio), 100);
    let s = r.stats[100];
    assert_eq!(
        (s.received, s.expected, s.lost, s.late, s.duplicates),
        (100, 100, 0, 0, 0)
    );
    assert_eq!(
        (s.stretched, s.compressed, s.resyncs, s.jitter),
        (0, 0, 0, 0)
    );
    assert_eq!(s.delay, ms(27));
    assert_eq!(s.target, ms(20));
}

#[test]
fn swapped_pairs_play_in_order() {
    let mut packets = talk(1, 0, 0, 100, 160, ms(0));
    for pair in packets.chunks_mut(2) {
        let first = pair[0].at;
        pair[0].at = pair[1].at;
        pair[1].at = first;
    }
    let mut jb = buffer();
    let r = run(&mut jb, &packets, 130, ms(0));
    assert_eq!(positions(&r.frames), expected(1, 100));
    assert_eq!(count(during(&r.frames), FrameKind::Concealed), 0);
    let s = jb.stats();
    assert_eq!((s.lost, s.late), (0, 0));
    assert!(s.jitter_time >= ms(30), "reordering shows as jitter: {s:?}");
}

/// Packets shuffled within blocks of four arrive up to 60 ms early or late.
/// The first and last four come in order: a packet from before the first
/// one played is late but was never counted lost, and one after the last
/// played is never known to be missing.
fn shuffled(seed: u64, count: usize) -> Vec<Sent> {
    let mut packets = talk(1, 65_000, 0, count, 160, ms(0));
    let mut lcg = Lcg(seed);
    for block in packets[4..count - 4].chunks_mut(4) {
        let mut slots: Vec<Duration> = block.iter().map(|p| p.at).collect();
        for i in (1..slots.len()).rev() {
            slots.swap(i, lcg.below(i + 1));
        }
        for (p, at) in block.iter_mut().zip(slots) {
            p.at = at;
        }
    }
    packets
}

#[test]
fn shuffles_within_the_delay_lose_nothing_and_stay_in_order() {
    for seed in [1, 2, 3] {
        let config = JitterConfig {
            min_delay: ms(130),
            ..JitterConfig::default()
        };
        let mut jb = JitterBuffer::new(config).unwrap();
        let r = run(&mut jb, &shuffled(seed, 180), 210, ms(3));
        // Every packet plays: as it is, or in a frame that took 20 ms of
        // delay out (when a faster packet shows the delay is longer than
        // needed).
        let played = positions(&r.frames);
        let s = jb.stats();
        assert_eq!(played.len() + 2 * s.compressed as usize, 180, "seed {seed}");
        assert!(
            played.windows(2).all(|w| w[1].1 > w[0].1),
            "seed {seed}: {played:?}"
        );
        assert_eq!((s.lost, s.late, s.duplicates), (0, 0, 0), "seed {seed}");
    }
}

#[test]
fn shuffles_beyond_the_delay_stay_in_order_and_count_what_was_late() {
    for seed in [4, 5, 6] {
        let mut jb = buffer();
        let r = run(&mut jb, &shuffled(seed, 180), 210, ms(3));
        let played: Vec<u32> = positions(&r.frames).iter().map(|p| p.1).collect();
        assert!(
            played.windows(2).all(|w| w[1] > w[0]),
            "seed {seed}: {played:?}"
        );
        let s = jb.stats();
        assert!(s.late > 0, "seed {seed}: the start is too short for them");
        assert_eq!(
            s.lost, s.late,
            "seed {seed}: every missing packet came, late"
        );
        assert!(s.target > ms(60), "seed {seed}: the delay grew: {s:?}");
        assert!(played.len() > 140, "seed {seed}: most of it played");
    }
}

#[test]
fn duplicates_play_once_and_are_counted() {
    let original = talk(1, 0, 0, 100, 160, ms(0));
    let mut packets = original.clone();
    for p in &original {
        packets.push(Sent {
            at: p.at + ms(5),
            ..p.clone()
        });
    }
    for p in original.iter().step_by(10) {
        packets.push(Sent {
            at: p.at + ms(300),
            ..p.clone()
        });
    }
    let mut jb = buffer();
    let r = run(&mut jb, &packets, 120, ms(7));
    assert_eq!(positions(&r.frames), expected(1, 100));
    assert_eq!(count(during(&r.frames), FrameKind::Concealed), 0);
    assert!(r.arrivals[100..].iter().all(|&a| a == Arrival::Duplicate));
    let s = jb.stats();
    assert_eq!((s.duplicates, s.received, s.expected), (110, 210, 100));
    assert_eq!((s.lost, s.late, s.jitter), (0, 0, 0));
}

#[test]
fn a_lost_packet_is_concealed_and_counted() {
    let mut packets = talk(1, 0, 0, 60, 160, ms(0));
    packets.remove(30);
    let mut jb = buffer();
    let r = run(&mut jb, &packets, 70, ms(7));
    let at29 = r
        .frames
        .iter()
        .position(|f| position(f) == Some((1, 29 * 160)))
        .unwrap();
    let (before, concealed, after) = (&r.frames[at29], &r.frames[at29 + 1], &r.frames[at29 + 2]);
    assert_eq!(concealed.kind, FrameKind::Concealed);
    assert!(
        energy(&concealed.samples) > energy(&before.samples) / 2,
        "not silence"
    );
    assert_eq!(
        concealed.samples[0], before.samples[0],
        "the last frame, repeated"
    );
    assert_eq!(
        position(after),
        Some((1, 31 * 160)),
        "then the next frame, on time"
    );
    let s = r.stats[at29 + 2];
    assert_eq!((s.lost, s.concealed, s.late), (1, 1, 0));
    assert_eq!(positions(&r.frames).len(), 59);
}

#[test]
fn a_burst_loss_fades_to_silence() {
    let mut packets = talk(1, 0, 0, 60, 160, ms(0));
    packets.drain(30..40);
    let mut jb = buffer();
    let r = run(&mut jb, &packets, 70, ms(7));
    let at29 = r
        .frames
        .iter()
        .position(|f| position(f) == Some((1, 29 * 160)))
        .unwrap();
    let gap = &r.frames[at29 + 1..at29 + 11];
    let kinds: Vec<FrameKind> = gap.iter().map(|f| f.kind).collect();
    assert_eq!(kinds[..3], [FrameKind::Concealed; 3]);
    assert_eq!(kinds[3..], [FrameKind::Silence; 7]);
    let e: Vec<i64> = gap[..4].iter().map(|f| energy(&f.samples)).collect();
    assert!(e[0] > e[1] && e[1] > e[2] && e[2] > 0 && e[3] == 0, "{e:?}");
    assert_eq!(position(&r.frames[at29 + 11]), Some((1, 40 * 160)));
    let s = r.stats[at29 + 11];
    assert_eq!((s.lost, s.concealed, s.late), (10, 3, 0));
}

#[test]
fn a_late_packet_is_dropped_counted_and_raises_the_target() {
    let mut packets = talk(1, 0, 0, 60, 160, ms(0));
    packets[30].at += ms(100);
    let mut jb = buffer();
    let r = run(&mut jb, &packets, 70, ms(7));
    assert_eq!(r.arrivals[30], Arrival::Late);
    let at29 = r
        .frames
        .iter()
        .position(|f| position(f) == Some((1, 29 * 160)))
        .unwrap();
    assert_eq!(r.frames[at29 + 1].kind, FrameKind::Concealed);
    assert_eq!(position(&r.frames[at29 + 2]), Some((1, 31 * 160)));
    // Packet 30 arrives at 700 ms; the tick at 707 ms knows.
    let s = r.stats[35];
    assert_eq!((s.late, s.lost), (1, 1));
    assert!(s.target >= ms(99), "{s:?}");
    assert!(
        jb.stats().delay >= ms(100),
        "stretched up: {:?}",
        jb.stats()
    );
    assert_eq!(
        positions(&r.frames).len(),
        59,
        "nothing else lost on the way up"
    );
}

#[test]
fn a_jitter_spike_raises_the_delay_and_it_comes_back_down() {
    // 30 s of talk; packets 150-157 stall and arrive together at 3.14 s.
    let mut packets = talk(1, 0, 0, 1500, 160, ms(0));
    for p in &mut packets[150..158] {
        p.at = ms(3140);
    }
    let mut jb = buffer();
    let r = run(&mut jb, &packets, 1510, ms(7));
    let s = r.stats[157];
    assert_eq!(s.late, 6, "150-155 played before they came");
    assert_eq!(r.stats[170].lost, 6);
    assert!(
        s.target >= ms(138),
        "the target covers the spike at once: {s:?}"
    );
    let peak = r.stats[157..200].iter().map(|s| s.delay).max().unwrap();
    assert!(
        peak >= ms(140),
        "the delay follows within a second: {peak:?}"
    );
    let deepest = r.stats[157..200].iter().map(|s| s.depth).max().unwrap();
    assert!(
        deepest >= ms(120),
        "and audio is held to cover it: {deepest:?}"
    );
    assert!(
        r.stats[250].delay >= ms(100),
        "two seconds on, still covered"
    );
    let end = r.stats[1499];
    assert!(end.target <= ms(25), "{end:?}");
    assert!(end.delay <= ms(60), "{end:?}");
    assert!(end.compressed >= 4 && end.stretched >= 6, "{end:?}");
    assert_eq!((end.late, end.lost), (6, 6), "nothing lost while shrinking");
}

#[test]
fn thirty_and_ten_ms_packets_become_20_ms_frames_without_gaps() {
    for (ptime, packets) in [(240, 60), (80, 200)] {
        let mut jb = buffer();
        let r = run(&mut jb, &talk(1, 0, 0, packets, ptime, ms(0)), 110, ms(7));
        let frames = (ptime * packets / FRAME_SAMPLES) as u32;
        assert_eq!(positions(&r.frames), expected(1, frames), "ptime {ptime}");
        let s = jb.stats();
        assert_eq!((s.lost, s.late, s.stretched, s.compressed), (0, 0, 0, 0));
        assert_eq!(count(during(&r.frames), FrameKind::Concealed), 0);
    }
}

mod streams;
