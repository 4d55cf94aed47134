//! `[media] realtime_priority`: the media threads (and only they) run under
//! SCHED_FIFO at that priority while a call plays over loopback against
//! sipp; a system that refuses the priority (no CAP_SYS_NICE, RLIMIT_RTPRIO
//! 0) gets a warning naming the key, and the call still plays whole at the
//! ordinary priority.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dialer_tests::capture::Capture;
use dialer_tests::rtp_timing::answered_calls;
use dialer_tests::{
    Campaign, CampaignSpec, Sipp, SippOptions, require_tool, text, wait_with_timeout,
};

/// One thread of a process: its name, scheduling policy (0 ordinary,
/// 1 SCHED_FIFO) and real-time priority, from /proc/PID/task/TID/stat.
#[derive(Debug)]
struct Thread {
    name: String,
    policy: u32,
    rt_priority: u32,
}

fn threads(pid: u32) -> Vec<Thread> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|task| {
            let stat = std::fs::read_to_string(task.ok()?.path().join("stat")).ok()?;
            // "tid (name) state ...": the name may hold spaces and parentheses.
            let open = stat.find('(')?;
            let close = stat.rfind(')')?;
            let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
            // Field 3 (state) is fields[0]: rt_priority is field 40, policy 41.
            Some(Thread {
                name: stat[open + 1..close].to_owned(),
                rt_priority: fields.get(37)?.parse().ok()?,
                policy: fields.get(38)?.parse().ok()?,
            })
        })
        .collect()
}

fn media_threads(all: &[Thread]) -> Vec<&Thread> {
    all.iter()
        .filter(|t| t.name.starts_with("media-"))
        .collect()
}

fn spec(sipp: &Sipp) -> CampaignSpec {
    let mut spec = CampaignSpec::new(sipp.port);
    spec.media_extra = "realtime_priority = 10\n".into();
    spec
}

fn sipp_answering() -> Sipp {
    Sipp::start(SippOptions {
        ring_ms: Some(200),
        hold_ms: Some(20_000),
        ..SippOptions::new("uas_answer.xml")
    })
}

/// The call was answered and its whole message reached sipp: no packet
/// missing from the sequence.
fn assert_message_played(campaign: &Campaign, sipp: &Sipp, capture: Capture, out: &str) {
    let rows = campaign.report();
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0]["disposition"], "answered", "{out}");
    let calls = answered_calls(&capture.stop(), sipp.port, sipp.media_port);
    assert_eq!(calls.len(), 1, "one RTP stream: {out}");
    assert!(calls[0].sequence_is_contiguous(), "a gap in the sequence");
    assert!(
        calls[0].packets.len() > 40,
        "{} packets: {out}",
        calls[0].packets.len()
    );
}

/// Whether this process may take SCHED_FIFO 10 (root, CAP_SYS_NICE, or an
/// RLIMIT_RTPRIO of 10): what the first test needs of the machine.
fn may_take_realtime_priority() -> bool {
    Command::new(require_tool("chrt", "util-linux"))
        .args(["-f", "10", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the tests run as root (who may drop capabilities with setpriv).
fn root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            == Some("0")
    })
}

#[test]
fn media_threads_run_under_sched_fifo_when_asked() {
    assert!(
        may_take_realtime_priority(),
        "this test needs SCHED_FIFO 10: run it as root, with CAP_SYS_NICE, \
         or with `ulimit -r 10` (RLIMIT_RTPRIO)"
    );
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 16));
    let sipp = sipp_answering();
    let capture = Capture::start_filter(&format!(
        "udp port {} or udp dst port {}",
        sipp.port, sipp.media_port
    ));
    let campaign = Campaign::write(&spec(&sipp));
    let child = campaign.spawn();
    let pid = child.id();

    // The media threads take the policy as they start, before the first
    // call; they start one after another.
    let deadline = Instant::now() + Duration::from_secs(20);
    let seen = loop {
        let all = threads(pid);
        let media = media_threads(&all);
        if media.len() >= cores && media.iter().all(|t| t.policy == 1) {
            break all;
        }
        assert!(
            Instant::now() < deadline,
            "the media threads did not take SCHED_FIFO: {all:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let media = media_threads(&seen);
    assert_eq!(media.len(), cores, "one media thread per core: {seen:?}");
    for t in &media {
        assert_eq!((t.policy, t.rt_priority), (1, 10), "{t:?}");
    }
    // The SIP stack, the store and the pacer keep the ordinary policy.
    for t in seen.iter().filter(|t| !t.name.starts_with("media-")) {
        assert_eq!((t.policy, t.rt_priority), (0, 0), "{t:?}");
    }

    let out = wait_with_timeout(child, Duration::from_secs(90));
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("warning:"), "{}", text(&out));
    assert_message_played(&campaign, &sipp, capture, &text(&out));
}

#[test]
fn a_refused_priority_is_a_warning_and_the_call_plays() {
    let sipp = sipp_answering();
    let capture = Capture::start_filter(&format!(
        "udp port {} or udp dst port {}",
        sipp.port, sipp.media_port
    ));
    let campaign = Campaign::write(&spec(&sipp));
    // Without CAP_SYS_NICE and with RLIMIT_RTPRIO 0 (what an ordinary user
    // gets), the kernel refuses SCHED_FIFO, even to root; root drops the
    // capability with setpriv, an ordinary user has none to drop.
    let mut command = Command::new(require_tool("prlimit", "util-linux"));
    command.arg("--rtprio=0");
    if root() {
        command.arg(require_tool("setpriv", "util-linux")).args([
            "--inh-caps=-sys_nice",
            "--bounding-set=-sys_nice",
            "--",
        ]);
    }
    let child = campaign.spawn_under(command);
    let pid = child.id();
    // prlimit and setpriv exec the dialer in the same process: once its
    // media threads exist, they are ordinary.
    let deadline = Instant::now() + Duration::from_secs(20);
    let media = loop {
        let all = threads(pid);
        if !media_threads(&all).is_empty() {
            break all;
        }
        assert!(Instant::now() < deadline, "no media threads: {all:?}");
        std::thread::sleep(Duration::from_millis(50));
    };
    for t in media_threads(&media) {
        assert_eq!(t.policy, 0, "{t:?}");
    }

    let out = wait_with_timeout(child, Duration::from_secs(90));
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("warning:")
            && said.contains("media.realtime_priority")
            && said.contains("ordinary priority")
            && said.contains("CAP_SYS_NICE"),
        "{said}"
    );
    assert_message_played(&campaign, &sipp, capture, &said);
}
