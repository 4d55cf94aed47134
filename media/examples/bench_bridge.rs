//! What a bridge (debtor ↔ agent) does to the debtor's audio on its way to
//! the agent: delay, order, and frames changed, under network jitter.
//!
//! ```sh
//! cargo run -p media --release --example bench_bridge -- [SECONDS] [JITTER_MS...]
//! ```
//!
//! Two engine calls are bridged as the dialer bridges a debtor and an
//! agent. The debtor's side (a socket on loopback) sends one packet per
//! 20 ms, each delayed by a random 0..JITTER_MS (so above 20 ms packets
//! overtake each other); every frame's 160 bytes carry one µ-law code that
//! names it. The agent's side reads what the bridge sends and, for each
//! frame, finds which one it was and when it was spoken. It prints the
//! delay from speaking to hearing (median, p95, max), the frames heard in
//! order and out of order, those the jitter buffer changed (stretched,
//! compressed or concealed: mixed codes) and the silent ones.

// A benchmark reads the clock.
#![allow(clippy::disallowed_methods)]

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use media::Codec;
use media::rtp::{MediaSession, RtpSession, SessionConfig};
use rand::RngExt;

/// Distinct µ-law codes used to name frames (positive levels, 0x81..).
const NAMES: usize = 60;

fn session(ssrc: u32, relay: bool) -> RtpSession {
    let mut session = RtpSession::new(SessionConfig {
        codec: Codec::Pcmu,
        dtmf_payload_type: Some(101),
        offered_dtmf_payload_type: Some(101),
        remote_ip: "127.0.0.1".parse().expect("an address"),
        record_limit: None,
        ssrc,
        inband_dtmf: false,
        ptime_ms: 20,
    });
    session.set_relay(relay);
    session
}

fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind on loopback");
    s.set_nonblocking(true).expect("non-blocking");
    s
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: u64 = args.first().map_or(10, |s| s.parse().expect("SECONDS"));
    let jitters: Vec<u64> = if args.len() > 1 {
        args[1..]
            .iter()
            .map(|s| s.parse().expect("JITTER_MS"))
            .collect()
    } else {
        vec![0, 20, 40, 60]
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "{seconds} s of speech per run, one packet per 20 ms, each delayed a random 0..JITTER ms"
    );
    println!(
        "{:>9} {:>7} {:>9} {:>9} {:>9} {:>9} {:>12} {:>8} {:>7}",
        "jitter", "frames", "median", "p95", "max", "in order", "out of order", "changed", "silent"
    );
    for jitter in jitters {
        runtime.block_on(run(seconds, jitter));
    }
}

async fn run(seconds: u64, jitter_ms: u64) {
    let debtor = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let agent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let (a, b) = (socket(), socket());
    let a_addr = a.local_addr().expect("address");
    let leg_a = MediaSession::start(a, debtor.local_addr().expect("address"), session(1, true));
    let leg_b = MediaSession::start(b, agent.local_addr().expect("address"), session(2, false));
    MediaSession::bridge(&leg_a, &leg_b);
    let frames = (seconds * 50) as usize;
    let start = Instant::now() + Duration::from_millis(100);
    let spoken = move |n: usize| start + Duration::from_millis(20 * n as u64);

    let sender = std::thread::spawn(move || {
        let mut rng = rand::rng();
        let mut schedule: Vec<(Instant, usize)> = (0..frames)
            .map(|n| {
                let delay = Duration::from_micros(rng.random_range(0..=jitter_ms * 1_000));
                (spoken(n) + delay, n)
            })
            .collect();
        schedule.sort();
        for (at, n) in schedule {
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            let payload = [0x81 + (n % NAMES) as u8; 160];
            let packet = rtp_rs::RtpPacketBuilder::new()
                .payload_type(0)
                .ssrc(0xdeb7)
                .sequence(rtp_rs::Seq::from(n as u16))
                .timestamp(160 * n as u32)
                .payload(&payload)
                .build()
                .expect("a packet");
            let _ = debtor.send_to(&packet, a_addr);
        }
    });
    let heard = tokio::task::spawn_blocking(move || {
        agent
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let end = start + Duration::from_millis(20 * frames as u64 + jitter_ms + 1_000);
        let mut heard = Vec::new();
        let mut buf = [0u8; 512];
        while Instant::now() < end {
            if let Ok((len, _)) = agent.recv_from(&mut buf)
                && len == 172
            {
                heard.push((Instant::now(), buf[12..len].to_vec()));
            }
        }
        heard
    })
    .await
    .expect("the receiver");
    sender.join().expect("the sender");
    leg_a.finish().await;
    leg_b.finish().await;

    let mut delays = Vec::new();
    let (mut in_order, mut out_of_order, mut changed, mut silent) = (0, 0, 0, 0);
    let mut last = None::<usize>;
    for (at, payload) in heard {
        if payload.iter().all(|&b| b == 0xff) {
            silent += 1;
            continue;
        }
        let code = payload[0];
        if payload.iter().any(|&b| b != code) || !(0x81..0x81 + NAMES as u8).contains(&code) {
            changed += 1;
            continue;
        }
        // The latest frame with this name spoken by then.
        let name = (code - 0x81) as usize;
        let Some(n) = (0..frames)
            .rev()
            .find(|&n| n % NAMES == name && spoken(n) <= at)
        else {
            changed += 1;
            continue;
        };
        delays.push(at - spoken(n));
        match last {
            Some(prev) if n < prev => out_of_order += 1,
            _ => in_order += 1,
        }
        last = Some(n);
    }
    delays.sort();
    let ms = |d: Option<&Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1_000.0);
    println!(
        "{:>6} ms {:>7} {:>6.1} ms {:>6.1} ms {:>6.1} ms {:>9} {:>12} {:>8} {:>7}",
        jitter_ms,
        frames,
        ms(delays.get(delays.len() / 2)),
        ms(delays.get(delays.len() * 95 / 100)),
        ms(delays.last()),
        in_order,
        out_of_order,
        changed,
        silent
    );
}
