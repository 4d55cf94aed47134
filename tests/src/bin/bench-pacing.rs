//! Benchmark: how closely the dialer keeps its RTP packets to the 20 ms
//! grid, over many answered calls at once (docs/BENCHMARKS.md).
//!
//!     cargo build --release --workspace --bins
//!     target/release/bench-pacing [CALLS] [CHANNELS] [HOLD_S]
//!
//! sipp answers CALLS calls (default 100) and hangs up HOLD_S seconds
//! (default 5) after answering; the dialer plays a personalized message
//! over CHANNELS channels (default 20) at 20 calls/s. dumpcap on loopback
//! timestamps every audio packet sipp receives. Per packet: its deviation
//! from a 20 ms grid anchored at the call's first packet (slot = sequence
//! number), and the interval since the packet before. Needs root and sipp.

use dialer_tests::rtp_timing::{measured_campaign, quantile};

fn line(name: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    println!(
        "{name}: median {:.2} ms, p1 {:.2} ms, p99 {:.2} ms, min {:.2} ms, max {:.2} ms",
        quantile(&values, 0.5),
        quantile(&values, 0.01),
        quantile(&values, 0.99),
        values[0],
        values[values.len() - 1]
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let calls: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let channels: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let hold_s: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5.0);
    let run = measured_campaign(calls, channels, (hold_s * 1000.0) as u32);
    let deviations: Vec<f64> = run
        .calls
        .iter()
        .flat_map(|c| c.grid_deviation_ms())
        .collect();
    let intervals: Vec<f64> = run.calls.iter().flat_map(|c| c.intervals_ms()).collect();
    assert!(!intervals.is_empty(), "no call could be measured");
    let gaps = run
        .calls
        .iter()
        .filter(|c| !c.sequence_is_contiguous())
        .count();
    println!(
        "{calls} calls, {channels} channels, {} answered, {} measured, {} packets, {gaps} calls with a sequence gap",
        run.answered,
        run.calls.len(),
        deviations.len()
    );
    line("deviation from the 20 ms grid", deviations.clone());
    line("|deviation|", deviations.iter().map(|d| d.abs()).collect());
    line("interval between packets", intervals);
}
