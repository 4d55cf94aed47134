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
