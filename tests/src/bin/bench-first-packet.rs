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

use std::collections::HashMap;
use std::time::Duration;

use dialer_tests::capture::Capture;
use dialer_tests::{Campaign, CampaignSpec, Sipp, SippOptions, repo_root, rtp, text};

fn main() {
    let mut args = std::env::args().skip(1);
    let calls: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let channels: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let sipp = Sipp::start(SippOptions {
        ring_ms: Some(300),
        hold_ms: Some(1000),
        calls,
        timeout_s: 600,
        ..SippOptions::new("uas_answer.xml")
    });
    let capture = Capture::start_filter(&format!(
        "udp port {} or udp dst port {}",
        sipp.port, sipp.media_port
    ));
    let mut spec = CampaignSpec::new(sipp.port);
    spec.max_channels = channels;
    spec.max_cps = 20.0;
    spec.contacts = (0..calls)
        .map(|i| {
            (
                format!("C-{i}"),
                format!("55 1300 {i:04}"),
                format!("Deudor {i}"),
            )
        })
        .collect();
    spec.campaign_extra = format!(
        "prompts = \"{}\"\nmessage = [\"tts:Hola {{name}}, su saldo de\", \"say:currency:{{balance}}\", \"file:despedida\"]\n",
        repo_root().join("prompts/es-MX").display()
    );
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(900));
    let packets = capture.stop();
    let answered = campaign
        .report()
        .iter()
        .filter(|r| r["disposition"] == "answered")
        .count();

    // The first 200 OK to each INVITE, by Call-ID, and the RTP port the
    // dialer offered in that INVITE's SDP (sipp receives every call on one
    // media port, so calls are told apart by the dialer's source port).
    let mut ok_at: HashMap<String, f64> = HashMap::new();
    let mut rtp_port_of: HashMap<String, u16> = HashMap::new();
    for d in &packets {
        let message = String::from_utf8_lossy(&d.payload);
        let call_id = message
            .lines()
            .find_map(|l| l.strip_prefix("Call-ID: "))
            .unwrap_or("")
            .to_owned();
        if d.src_port == sipp.port
            && message.starts_with("SIP/2.0 200")
            && message.contains(" INVITE\r\n")
        {
            ok_at.entry(call_id).or_insert(d.at_s);
        } else if message.starts_with("INVITE ")
            && let Some(port) = message
                .lines()
                .find_map(|l| l.strip_prefix("m=audio "))
                .and_then(|m| m.split(' ').next())
                .and_then(|p| p.parse().ok())
        {
            rtp_port_of.insert(call_id, port);
        }
    }
    // RTP ports are reused by later calls, never by two calls at once: a
    // call's first packet is the first from its port after its 200 OK.
    let mut rtp_from: HashMap<u16, Vec<f64>> = HashMap::new();
    for d in packets
        .iter()
        .filter(|d| d.dst_port == sipp.media_port && rtp(d).is_some())
    {
        rtp_from.entry(d.src_port).or_default().push(d.at_s);
    }
    let mut delays: Vec<f64> = ok_at
        .iter()
        .filter_map(|(call, ok)| {
            let times = rtp_from.get(rtp_port_of.get(call)?)?;
            let first = times[times.partition_point(|t| t < ok)..].first()?;
            Some((first - ok) * 1000.0)
        })
        .collect();
    delays.sort_by(f64::total_cmp);
    if delays.is_empty() {
        panic!("no call could be measured\n{}", text(&out));
    }
    let at = |q: f64| delays[((delays.len() - 1) as f64 * q).round() as usize];
    println!(
        "{calls} calls, {channels} channels, {answered} answered, {} measured",
        delays.len()
    );
    println!(
        "200 OK -> first RTP packet: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms, min {:.2} ms",
        at(0.5),
        at(0.9),
        at(0.99),
        delays[delays.len() - 1],
        delays[0]
    );
    drop(sipp);
}
