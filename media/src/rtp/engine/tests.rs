//! The media threads with real sockets on loopback.

use std::collections::HashMap;

use super::*;
use crate::codec::Codec;
use crate::rtp::{MediaSession, PortPool, SessionConfig};

fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_nonblocking(true).unwrap();
    s
}

fn session(ssrc: u32) -> RtpSession {
    RtpSession::new(SessionConfig {
        codec: Codec::Pcmu,
        dtmf_payload_type: Some(101),
        offered_dtmf_payload_type: Some(101),
        remote_ip: "127.0.0.1".parse().unwrap(),
        record_limit: None,
        ssrc,
        inband_dtmf: false,
        ptime_ms: 20,
    })
}

/// Arrivals per SSRC at `receiver` for `span`.
fn arrivals(receiver: &UdpSocket, span: Duration) -> HashMap<u32, Vec<Instant>> {
    receiver
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut seen: HashMap<u32, Vec<Instant>> = HashMap::new();
    let mut buf = [0u8; 512];
    let end = Instant::now() + span;
    while Instant::now() < end {
        if let Ok((len, _)) = receiver.recv_from(&mut buf)
            && len >= 12
        {
            let ssrc = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
            seen.entry(ssrc).or_default().push(Instant::now());
        }
    }
    seen
}

/// Calls started together are spread over the slots near their start
/// (up to 3 ms from their first packet's grid): their packets leave at
/// several phases, not in one burst, and each call still sends one
/// packet per 20 ms.
#[tokio::test]
async fn calls_are_spread_over_the_packet_time() {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = receiver.local_addr().unwrap();
    let calls: Vec<MediaSession> = (0..100)
        .map(|i| MediaSession::start(socket(), to, session(1_000 + i)))
        .collect();
    let origin = Instant::now();
    let seen =
        tokio::task::spawn_blocking(move || arrivals(&receiver, Duration::from_millis(1_000)))
            .await
            .unwrap();
    for call in calls {
        call.finish().await;
    }
    assert_eq!(seen.len(), 100, "every call sent");
    for (ssrc, times) in &seen {
        // 50 in the second; a loaded machine may lose a few to timing.
        assert!(
            times.len() >= 40,
            "call {ssrc} sent {} packets in 1 s",
            times.len()
        );
    }
    // Each call's phase: its median arrival offset within 20 ms.
    let mut phases: HashMap<u128, usize> = HashMap::new();
    for times in seen.values() {
        let mut offsets: Vec<u128> = times
            .iter()
            .map(|t| (*t - origin).as_micros() % 20_000 / 1_000)
            .collect();
        offsets.sort_unstable();
        *phases.entry(offsets[offsets.len() / 2]).or_default() += 1;
    }
    // Started within a few ms, they fill up to 7 slots per thread, 8 calls each.
    assert!(
        phases.len() >= 5 && phases.values().all(|&n| n <= 34),
        "100 calls bunched on few phases: {phases:?}"
    );
}

/// A port flooded by a stranger costs its thread one read per tick: the
/// other calls keep their pace, and the flooded call keeps sending.
#[tokio::test]
async fn a_flooded_port_does_not_stall_the_others() {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = receiver.local_addr().unwrap();
    let flooded = socket();
    let target = flooded.local_addr().unwrap();
    let calls: Vec<MediaSession> = std::iter::once(MediaSession::start(flooded, to, session(1)))
        .chain((2..=20).map(|i| MediaSession::start(socket(), to, session(i))))
        .collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            // A stranger: another address (the far end's own address
            // could move the call's audio, see symmetric RTP).
            let s = UdpSocket::bind("127.0.0.2:0").unwrap();
            let mut sent = 0u32;
            // Bounded: at most 200,000 datagrams or until told to stop.
            while !stop.load(Ordering::Relaxed) && sent < 200_000 {
                let _ = s.send_to(&[0x80, 0, 0, 1, 0, 0, 0, 0, 9, 9, 9, 9], target);
                sent += 1;
            }
            sent
        })
    };
    let seen =
        tokio::task::spawn_blocking(move || arrivals(&receiver, Duration::from_millis(1_000)))
            .await
            .unwrap();
    stop.store(true, Ordering::Relaxed);
    let sent = flood.join().unwrap();
    for call in calls {
        call.finish().await;
    }
    assert!(sent > 1_000, "the flood ran ({sent} datagrams)");
    for ssrc in 1..=20 {
        let n = seen.get(&ssrc).map_or(0, Vec::len);
        assert!(
            n >= 40,
            "call {ssrc} sent {n} packets in 1 s under the flood"
        );
    }
}

/// Two calls with RTCP talk for a moment; the one that ends first sends
/// its last report (with BYE), and the other learns from it that none
/// of its packets were lost. Each counted the other's packets.
#[tokio::test]
async fn the_last_report_tells_the_far_end_what_arrived() {
    let pool = PortPool::new("127.0.0.1".parse().unwrap(), 21_100, 21_199).unwrap();
    let (a, b) = (pool.bind().unwrap(), pool.bind().unwrap());
    let (a_at, b_at) = (a.rtp.local_addr().unwrap(), b.rtp.local_addr().unwrap());
    let first = MediaSession::start_pair(a, b_at, session(0xA));
    let second = MediaSession::start_pair(b, a_at, session(0xB));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let a_report = first.finish().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let b_report = second.finish().await;
    let (qa, qb) = (a_report.quality.unwrap(), b_report.quality.unwrap());
    assert!(qa.received >= 15, "{qa:?}");
    assert!(qb.received >= 15, "{qb:?}");
    assert_eq!((qa.lost, qb.lost), (0, 0));
    assert!(qb.reports_received >= 1, "{qb:?}");
    let far = qb.far.expect("A's last report covered B's stream");
    assert_eq!(far.lost, 0);
    assert!(far.jitter_ms < 5.0, "{far:?}");
}

/// Two bridged legs: the far end of leg A sends 100 packets, each one
/// level louder than the one before, and swaps some neighbours on the
/// way. Leg A's jitter buffer puts them back in order, so the far end of
/// leg B hears the levels rise and never fall back.
#[tokio::test]
async fn a_bridge_relays_the_far_ends_audio_in_order() {
    let far_a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let far_b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (a_socket, b_socket) = (socket(), socket());
    let a_addr = a_socket.local_addr().unwrap();
    let mut a_session = session(10);
    a_session.set_relay(true);
    let a = MediaSession::start(a_socket, far_a.local_addr().unwrap(), a_session);
    let b = MediaSession::start(b_socket, far_b.local_addr().unwrap(), session(20));
    MediaSession::bridge(&a, &b);

    let level = |n: usize| 300 + 150 * n as i16;
    let sender = std::thread::spawn(move || {
        let packet = |n: usize| {
            let mut payload = Vec::new();
            Codec::Pcmu.encode(&[level(n); 160], &mut payload);
            rtp_rs::RtpPacketBuilder::new()
                .payload_type(0)
                .ssrc(0xabcd)
                .sequence(rtp_rs::Seq::from(1_000 + n as u16))
                .timestamp(160 * n as u32)
                .payload(&payload)
                .build()
                .unwrap()
        };
        // Packet time order, with neighbours swapped at 5 (the buffer
        // learns it must wait for late packets) and then every 10.
        let mut order: Vec<usize> = (0..100).collect();
        for at in std::iter::once(5).chain((20..95).step_by(10)) {
            order.swap(at, at + 1);
        }
        let start = Instant::now();
        for (slot, n) in order.into_iter().enumerate() {
            let due = start + Duration::from_millis(20 * slot as u64);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            far_a.send_to(&packet(n), a_addr).unwrap();
        }
    });
    let heard = tokio::task::spawn_blocking(move || {
        far_b
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let mut levels = Vec::new();
        let mut buf = [0u8; 512];
        let end = Instant::now() + Duration::from_millis(2_600);
        while Instant::now() < end {
            if let Ok((len, _)) = far_b.recv_from(&mut buf)
                && len > 12
            {
                let mut pcm = Vec::new();
                Codec::Pcmu.decode(&buf[12..len], &mut pcm);
                pcm.sort_unstable();
                levels.push(pcm[pcm.len() / 2]);
            }
        }
        levels
    })
    .await
    .unwrap();
    sender.join().unwrap();
    a.finish().await;
    b.finish().await;

    // What leg B sent once A's audio was past the warm-up swap, up to the
    // loudest (after it, the stream's end fades out: concealment).
    let mut relayed: Vec<i16> = heard
        .iter()
        .copied()
        .skip_while(|&l| l < level(12))
        .collect();
    let loudest = relayed.iter().copied().max().unwrap_or(0);
    relayed.truncate(
        relayed
            .iter()
            .rposition(|&l| l == loudest)
            .map_or(0, |i| i + 1),
    );
    // A stall of the machine can leave a leg a frame short (it sends 20 ms
    // of silence, then goes on): a gap, not disorder.
    let gaps = relayed.iter().filter(|&&l| l == 0).count();
    assert!(gaps <= 3, "{gaps} gaps: {relayed:?}");
    relayed.retain(|&l| l > 0);
    assert!(
        relayed.len() >= 70,
        "{} frames relayed after the warm-up: {heard:?}",
        relayed.len()
    );
    // µ-law keeps a rising level rising; a frame out of order would fall,
    // at each of the seven swaps past the warm-up (the old relay did). A
    // stall of the loaded machine can make a packet late, and its frame is
    // concealed: the last one again, fading (4604 then 3900), a fall too,
    // but one, not one per swap.
    let falls: Vec<(i16, i16)> = relayed
        .windows(2)
        .filter(|pair| pair[1] < pair[0])
        .map(|pair| (pair[0], pair[1]))
        .collect();
    assert!(
        falls.len() <= 2,
        "the level fell {} times, {falls:?}: {relayed:?}",
        falls.len()
    );
    assert!(*relayed.last().unwrap() >= level(90), "{relayed:?}");
}
