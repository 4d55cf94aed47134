//! Scenarios about streams rather than packets: counters that wrap, a new
//! SSRC, restarts with and without the marker bit, pauses, a flood, and
//! the buffer's edges (G.711 input, configuration errors). Same virtual
//! clock and test streams as the parent module.

use super::*;

#[test]
fn sequence_numbers_and_timestamps_wrap() {
    let ts0 = u32::MAX - 5 * 160 + 1;
    let mut jb = buffer();
    let r = run(&mut jb, &talk(1, 65_500, ts0, 100, 160, ms(0)), 110, ms(7));
    assert_eq!(positions(&r.frames), expected(1, 100));
    let s = jb.stats();
    assert_eq!(
        (s.expected, s.lost, s.resyncs, s.duplicates),
        (100, 0, 0, 0)
    );
}

#[test]
fn a_new_ssrc_resyncs_and_plays_after_the_old_stream() {
    let a = talk(1, 100, 40_000, 50, 160, ms(0));
    let b = talk(2, 9_000, 123_456, 50, 160, ms(1000));
    let mut packets = [a.clone(), b].concat();
    packets.push(Sent {
        at: ms(1030),
        ..a[49].clone()
    });
    // And before the switch, one packet from a stranger.
    packets.push(Sent {
        at: ms(505),
        header: PacketHeader {
            ssrc: 77,
            ..a[25].header
        },
        ..a[25].clone()
    });
    let mut jb = buffer();
    let r = run(&mut jb, &packets, 110, ms(7));
    assert_eq!(
        r.arrivals[50],
        Arrival::Suspect,
        "until its next packet agrees"
    );
    assert_eq!(r.arrivals[51], Arrival::Resynced);
    assert_eq!(r.arrivals[100], Arrival::Late, "the old stream's leftover");
    assert_eq!(
        positions(&r.frames),
        [expected(1, 50), expected(-1, 50)].concat()
    );
    assert_eq!(r.arrivals[101], Arrival::Suspect);
    let s = jb.stats();
    assert_eq!((s.resyncs, s.lost, s.late, s.expected), (1, 0, 1, 100));
    assert_eq!(s.stray, 1, "the stranger");
    let first_b = r.frames.iter().position(|f| position(f) == Some((-1, 0)));
    assert_eq!(first_b, Some(51), "right after the old stream's last frame");
}

#[test]
fn a_marked_timestamp_jump_resyncs_at_once() {
    let a = talk(1, 100, 4_000_000, 50, 160, ms(0));
    let mut b = talk(3, 30_000, 7, 50, 160, ms(1000));
    for p in &mut b {
        p.header.ssrc = 1;
    }
    let mut jb = buffer();
    let r = run(&mut jb, &[a, b].concat(), 110, ms(7));
    assert_eq!(r.arrivals[50], Arrival::Resynced);
    assert_eq!(
        positions(&r.frames),
        [expected(1, 50), expected(1, 50)].concat()
    );
    let s = jb.stats();
    assert_eq!((s.resyncs, s.lost, s.late), (1, 0, 0));
}

#[test]
fn an_unmarked_jump_resyncs_when_the_next_packet_agrees() {
    let a = talk(1, 100, 0, 50, 160, ms(0));
    let mut b = talk(3, 30_000, 2_000_000, 50, 160, ms(1000));
    for p in &mut b {
        p.header.ssrc = 1;
        p.header.marker = false;
    }
    // A stray packet with a wild number in the middle of the first stream.
    let mut stray = a[20].clone();
    stray.at += ms(5);
    stray.header.sequence = 50_000;
    stray.header.timestamp = 9_999_999;
    let mut jb = buffer();
    let r = run(&mut jb, &[a, b, vec![stray]].concat(), 110, ms(7));
    assert_eq!(r.arrivals[100], Arrival::Suspect);
    assert_eq!(r.arrivals[50], Arrival::Suspect);
    assert_eq!(r.arrivals[51], Arrival::Resynced);
    let b_played: Vec<_> = positions(&r.frames).into_iter().skip(50).collect();
    assert_eq!(b_played, expected(1, 50), "the suspect's audio is kept");
    let s = jb.stats();
    assert_eq!((s.resyncs, s.stray, s.lost, s.late), (1, 1, 0, 0));
}

#[test]
fn a_pause_plays_as_silence_not_loss() {
    // 1 s of talk, 1 s of nothing (numbering continues, time jumps, marker
    // set), then another second: the usual voice-activity pause.
    let first = talk(1, 0, 0, 50, 160, ms(0));
    let mut second = talk(1, 50, 100 * 160, 50, 160, ms(2000));
    for (k, p) in second.iter_mut().enumerate() {
        for (j, s) in p.samples.iter_mut().enumerate() {
            *s = value(1, ((100 + k) * 160 + j) as u32);
        }
    }
    let mut jb = buffer();
    let r = run(&mut jb, &[first, second].concat(), 160, ms(7));
    let mut want = expected(1, 50);
    want.extend((100..150).map(|k| (1, k * 160 % 30_000)));
    assert_eq!(positions(&r.frames), want);
    let gap = &r.frames[51..101];
    assert_eq!(count(gap, FrameKind::Concealed), 3, "the fade at the pause");
    assert_eq!(count(gap, FrameKind::Silence), 47);
    assert_eq!(
        position(&r.frames[101]),
        Some((1, 100 * 160)),
        "on its time"
    );
    let s = jb.stats();
    assert_eq!(
        (s.resyncs, s.lost, s.late, s.stretched, s.compressed),
        (0, 0, 0, 0, 0)
    );
}

#[test]
fn a_flood_cannot_grow_the_buffer() {
    let mut jb = buffer();
    let origin = origin();
    let capacity = jb.timeline.held.capacity();
    let mut seq = 0u16;
    let mut sent = 0u64;
    let mut feed = |jb: &mut JitterBuffer, at: Duration, ts: u32| {
        let header = PacketHeader {
            ssrc: 1,
            sequence: seq,
            timestamp: ts,
            marker: false,
        };
        seq = seq.wrapping_add(1);
        sent += 1;
        jb.handle_packet(origin + at, header, &[500; FRAME_SAMPLES])
    };
    for k in 0..20u32 {
        feed(&mut jb, ms(20) * k, k * 160);
        jb.poll_frame(origin + ms(20) * k + ms(7));
    }
    // 10,000 packets in 1 s: half with one timestamp, half ever further ahead.
    for k in 0..10_000u32 {
        let at = ms(400) + Duration::from_micros(u64::from(k) * 100);
        let ts = if k < 5_000 { 20 * 160 } else { (20 + k) * 160 };
        feed(&mut jb, at, ts);
        if k % 200 == 0 {
            jb.poll_frame(origin + at);
        }
        assert!(jb.held_samples() <= jb.capacity_samples());
        assert!(jb.held_packets() <= jb.timeline.max_packets);
        assert!(jb.timeline.spare.len() <= jb.timeline.max_packets);
        assert_eq!(jb.timeline.held.capacity(), capacity, "never reallocated");
    }
    assert!(jb.capacity_samples() <= 350 * 8);
    let s = jb.stats();
    assert_eq!(s.received, sent);
    assert!(s.duplicates + s.late + s.overflow >= 9_900, "{s:?}");
    // Afterwards a real stream still plays.
    let mut frames = Vec::new();
    for p in &talk(5, 0, 0, 50, 160, ms(2000)) {
        jb.handle_packet(origin + p.at, p.header, &p.samples);
        frames.push(jb.poll_frame(origin + p.at + ms(7)));
    }
    for k in 0..20 {
        frames.push(jb.poll_frame(origin + ms(3007) + TICK * k));
    }
    let played = frames.iter().filter_map(position).count();
    assert!(played >= 40, "{played} {:?}", jb.stats());
}

#[test]
fn g711_packets_are_decoded_into_the_buffer() {
    let pcm: Vec<i16> = (0..FRAME_SAMPLES)
        .map(|n| ((n as f32 * 0.3).sin() * 8_000.0) as i16)
        .collect();
    let mut payload = Vec::new();
    Codec::Pcma.encode(&pcm, &mut payload);
    let mut jb = buffer();
    let origin = origin();
    let header = PacketHeader {
        ssrc: 9,
        sequence: 1,
        timestamp: 0,
        marker: true,
    };
    assert_eq!(
        jb.handle_g711(origin, header, Codec::Pcma, &payload),
        Arrival::Buffered
    );
    assert_eq!(
        jb.handle_g711(origin, header, Codec::Pcma, &[]),
        Arrival::Empty
    );
    let frame = jb.poll_frame(origin + ms(20));
    assert_eq!(frame.kind, FrameKind::Audio);
    let mut decoded = Vec::new();
    Codec::Pcma.decode(&payload, &mut decoded);
    assert_eq!(frame.samples[..], decoded[..]);
}

#[test]
fn delay_bounds_are_checked() {
    let err = JitterBuffer::new(JitterConfig {
        min_delay: ms(300),
        max_delay: ms(200),
    })
    .unwrap_err();
    assert_eq!(
        err,
        JitterConfigError::MinAboveMax {
            min: ms(300),
            max: ms(200)
        }
    );
    assert!(err.to_string().contains("300ms"), "{err}");
    let err = JitterBuffer::new(JitterConfig {
        min_delay: ms(20),
        max_delay: ms(5000),
    })
    .unwrap_err();
    assert!(matches!(err, JitterConfigError::TooLong { .. }), "{err}");
}
