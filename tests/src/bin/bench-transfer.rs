//! Benchmark: how fast a debtor who presses 1 reaches an agent
//! (docs/BENCHMARKS.md).
//!
//!     cargo build --release --workspace --bins
//!     target/release/bench-transfer [TRANSFERS] [AGENTS]
//!
//! The simulated carrier answers TRANSFERS debtors (default 100), AGENTS/2
//! at a time so that a ready agent is always there; each one "talks" (a
//! 400 Hz tone), presses 1 during the menu and hangs up a few seconds
//! later. AGENTS agents (default 20) are registered by one sipp
//! process (one REGISTER loop per agent, digest auth) that answers every
//! INVITE after 1 s of ringing. dumpcap records loopback, and from the
//! capture, per transfer:
//! - key press -> INVITE to the agent: the first RFC 4733 packet of the
//!   debtor's "1" reaching the dialer, to the dialer's INVITE toward the
//!   agent (the debtor's number is its From);
//! - agent's 200 OK -> bridged audio: the agent's 200 OK, to the first RTP
//!   packet the dialer sends the agent that carries the debtor's voice.
//!
//! Needs root (packet capture), sipp and dumpcap.

use std::collections::HashMap;
use std::time::Duration;

use dialer_tests::agents::transfer_flow;
use dialer_tests::capture::Capture;
use dialer_tests::pcap::Datagram;
use dialer_tests::rtp_timing::quantile;
use dialer_tests::{
    Campaign, CampaignSpec, SimCarrier, free_port, repo_root, require_tool, rtp, text,
};

const PLAN: &str = r#"
[default]
ring_s = 0.2
digits = [{ at_s = 0.8, key = "1" }]
tone_hz = 400
tone_at_s = 0.0
tone_s = 20
hangup_after_s = 6
"#;

/// A SIP message's start line, headers and body.
struct Sip<'a> {
    start: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a str,
}

fn sip(payload: &[u8]) -> Option<Sip<'_>> {
    let text = std::str::from_utf8(payload).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let start = lines.next()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    Some(Sip {
        start,
        headers,
        body,
    })
}

impl Sip<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    fn media_port(&self) -> Option<u16> {
        self.body
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|p| p.parse().ok())
    }
}

/// The user part of a SIP URI in a start line or header.
fn user_of(text: &str) -> Option<&str> {
    let after = &text[text.find("sip:")? + 4..];
    Some(&after[..after.find('@')?])
}

fn main() {
    let mut args = std::env::args().skip(1);
    let transfers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let agents: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);

    let carrier = SimCarrier::start(PLAN);
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts = (0..transfers)
        .map(|i| {
            (
                format!("T-{i}"),
                format!("55 1300 {i:04}"),
                format!("Deudor {i}"),
            )
        })
        .collect();
    // Fewer debtors on the line than agents: a ready agent is always there,
    // so what is measured is the dialer's path, not waiting in the queue.
    spec.max_channels = (agents as u32 / 2).max(1);
    spec.max_cps = 10.0;
    let dir = tempfile::tempdir().expect("temporary folder");
    let flow = transfer_flow(dir.path(), "cobranza");
    spec.campaign_extra = format!("flow = \"{}\"\nmax_call_s = 60\n", flow.display());
    let mut sections = String::from("[registrar]\nmin_expires_s = 30\nkeepalive_s = 0\n");
    let mut users = String::from("SEQUENTIAL\n");
    for i in 0..agents {
        sections.push_str(&format!(
            "[[agent]]\nlogin = \"agent{i:02}\"\npassword = \"secret-agent-{i:02}\"\nskills = [\"cobranza\"]\n"
        ));
        users.push_str(&format!(
            "agent{i:02};[authentication username=agent{i:02} password=secret-agent-{i:02}];\n"
        ));
    }
    sections.push_str("[[queue]]\nname = \"cobranza\"\nskills = [\"cobranza\"]\nwrap_up_s = 0\nmax_wait_s = 120\n");
    spec.sections = sections;
    let campaign = Campaign::write(&spec);

    let users_file = dir.path().join("agents.csv");
    std::fs::write(&users_file, users).expect("write agents");
    let silence = dir.path().join("silence.pcap");
    dialer_tests::pcap::write_tone(&silence, 0.0, 0.0, 0.1).expect("write pcap");
    let agent_port = free_port();
    let agent_media = free_port();
    let scenarios = repo_root().join("tests/sipp");
    let mut sipp = std::process::Command::new(require_tool("sipp", "sip-tester"))
        .arg(format!("127.0.0.1:{}", campaign.sip_port))
        .arg("-sf")
        .arg(scenarios.join("uac_agents_register.xml"))
        .arg("-oocsf")
        .arg(scenarios.join("uas_agent_answer.xml"))
        .arg("-inf")
        .arg(&users_file)
        .args([
            "-m",
            &agents.to_string(),
            "-l",
            &agents.to_string(),
            "-r",
            "200",
        ])
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args([
            "-p",
            &agent_port.to_string(),
            "-mp",
            &agent_media.to_string(),
        ])
        .args([
            "-timeout",
            "600s",
            "-aa",
            "-nostdin",
            "-trace_err",
            "-error_file",
        ])
        .arg(dir.path().join("sipp-errors.log"))
        .arg("-key")
        .arg("agent_pcap")
        .arg(&silence)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start sipp agents");
    std::thread::sleep(Duration::from_millis(300));
    let capture = Capture::start_filter("udp");
    let out = campaign.run(Duration::from_secs(900));
    let packets = capture.stop();
    let _ = sipp.kill();
    let _ = sipp.wait();
    assert!(out.status.success(), "{}", text(&out));
    if std::env::var_os("BENCH_VERBOSE").is_some() {
        eprintln!("{}", text(&out));
        eprintln!(
            "sipp errors:\n{}",
            std::fs::read_to_string(dir.path().join("sipp-errors.log")).unwrap_or_default()
        );
    }

    measure(
        &packets,
        carrier.port,
        agent_port,
        agent_media,
        transfers,
        agents,
    );
}

fn measure(
    packets: &[Datagram],
    carrier_port: u16,
    agent_port: u16,
    agent_media: u16,
    transfers: usize,
    agents: usize,
) {
    // Debtor legs: the dialer's RTP port for each debtor (from its INVITE).
    let mut debtor_port: HashMap<String, (u16, f64)> = HashMap::new();
    // Agent legs by Call-ID: (debtor, INVITE time, dialer's RTP port).
    let mut agent_invites: HashMap<String, (String, f64, u16)> = HashMap::new();
    let mut agent_ok: HashMap<String, f64> = HashMap::new();
    for p in packets {
        let Some(msg) = sip(&p.payload) else { continue };
        if p.dst_port == carrier_port && msg.start.starts_with("INVITE ") {
            if let (Some(user), Some(port)) = (user_of(msg.start), msg.media_port()) {
                debtor_port.entry(user.to_owned()).or_insert((port, p.at_s));
            }
        } else if p.dst_port == agent_port && msg.start.starts_with("INVITE ") {
            let (Some(call_id), Some(from), Some(port)) =
                (msg.header("Call-ID"), msg.header("From"), msg.media_port())
            else {
                continue;
            };
            let debtor = user_of(from).unwrap_or_default().to_owned();
            agent_invites
                .entry(call_id.to_owned())
                .or_insert((debtor, p.at_s, port));
        } else if p.src_port == agent_port
            && msg.start.starts_with("SIP/2.0 200")
            && msg.header("CSeq").is_some_and(|c| c.ends_with("INVITE"))
            && let Some(call_id) = msg.header("Call-ID")
        {
            agent_ok.entry(call_id.to_owned()).or_insert(p.at_s);
        }
    }
    let mut press_to_invite = Vec::new();
    let mut ok_to_audio = Vec::new();
    let mut ok_to_packet = Vec::new();
    for (call_id, (debtor, invite_at, dialer_port)) in &agent_invites {
        if let Some((port, since)) = debtor_port.get(debtor) {
            let press = packets.iter().find(|p| {
                p.dst_port == *port
                    && p.at_s > *since
                    && rtp(p)
                        .is_some_and(|(pt, _, _, payload)| pt == 101 && payload.first() == Some(&1))
            });
            if let Some(press) = press {
                press_to_invite.push((invite_at - press.at_s) * 1000.0);
            }
        }
        let Some(ok_at) = agent_ok.get(call_id) else {
            continue;
        };
        let to_agent = |p: &&Datagram| {
            p.src_port == *dialer_port && p.dst_port == agent_media && p.at_s > *ok_at
        };
        if let Some(first) = packets.iter().find(to_agent) {
            ok_to_packet.push((first.at_s - ok_at) * 1000.0);
        }
        let voiced = packets.iter().filter(to_agent).find(|p| {
            rtp(p).is_some_and(|(pt, _, _, payload)| {
                let mut pcm = Vec::new();
                match pt {
                    0 => media::Codec::Pcmu.decode(payload, &mut pcm),
                    8 => media::Codec::Pcma.decode(payload, &mut pcm),
                    _ => return false,
                }
                pcm.iter().filter(|s| s.abs() > 2_000).count() > 20
            })
        });
        if let Some(voiced) = voiced {
            ok_to_audio.push((voiced.at_s - ok_at) * 1000.0);
        }
    }
    for list in [&mut press_to_invite, &mut ok_to_audio, &mut ok_to_packet] {
        list.sort_by(f64::total_cmp);
    }
    println!(
        "{transfers} debtors pressed 1, {agents} agents; {} INVITEs to agents, {} answered, {} measured key press -> INVITE, {} measured 200 OK -> bridged audio",
        agent_invites.len(),
        agent_ok.len(),
        press_to_invite.len(),
        ok_to_audio.len()
    );
    let line = |name: &str, v: &[f64]| {
        if v.is_empty() {
            println!("{name}: nothing measured");
        } else {
            println!(
                "{name}: median {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms, min {:.2} ms",
                quantile(v, 0.5),
                quantile(v, 0.9),
                quantile(v, 0.99),
                v[v.len() - 1],
                v[0]
            );
        }
    };
    line("key press -> INVITE to the agent", &press_to_invite);
    line(
        "agent's 200 OK -> first RTP packet to the agent",
        &ok_to_packet,
    );
    line(
        "agent's 200 OK -> first packet of the debtor's voice",
        &ok_to_audio,
    );
}
