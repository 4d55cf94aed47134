//! Benchmark: time from the 200 OK to the first RTP packet of the message,
//! median and p99 over many answered calls (docs/BENCHMARKS.md).
//!
//!     cargo build --release --workspace --bins
//!     target/release/bench-first-packet [CALLS] [CHANNELS]
//!
//! sipp answers CALLS calls (default 200) after 0.3 s of ringing and hangs
//! up 1 s later; the dialer runs a campaign with a personalized message
//! (TTS name, money in words, a recorded phrase) over CHANNELS channels
//! (default 20) at 20 calls/s; dumpcap on loopback sees both the 200 OK
//! sipp sends and the first RTP packet it receives. Needs root and sipp.

use dialer_tests::rtp_timing::{measured_campaign, quantile};

fn main() {
    let mut args = std::env::args().skip(1);
    let calls: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let channels: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let run = measured_campaign(calls, channels, 1000);
    let mut delays: Vec<f64> = run
        .calls
        .iter()
        .filter_map(|c| c.first_packet_ms())
        .collect();
    delays.sort_by(f64::total_cmp);
    assert!(!delays.is_empty(), "no call could be measured");
    println!(
        "{calls} calls, {channels} channels, {} answered, {} measured",
        run.answered,
        delays.len()
    );
    println!(
        "200 OK -> first RTP packet: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms, min {:.2} ms",
        quantile(&delays, 0.5),
        quantile(&delays, 0.9),
        quantile(&delays, 0.99),
        delays[delays.len() - 1],
        delays[0]
    );
}
