//! The attempt row exists before the INVITE leaves: while sipp is still
//! ringing (it has received the INVITE), the report already shows the
//! attempt as in progress, started before sipp received the INVITE, under
//! the very Call-ID sipp received; the ring timeout then completes the same
//! row.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use dialer_tests::{Campaign, CampaignSpec, Sipp, SippOptions, text, wait_with_timeout};

/// The Call-ID of the first INVITE in sipp's message trace, and when sipp
/// logged receiving it.
fn received_invite(trace: &str) -> Option<(String, DateTime<Utc>)> {
    let at = trace.find("INVITE sip:")?;
    let invite = &trace[at..];
    let call_id = invite
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("Call-ID:").or(l.strip_prefix("Call-Id:")))?
        .trim()
        .to_owned();
    // sipp writes "----- 2026-12-01 06:04:03.187370" (local time) before
    // each message.
    let stamp = trace[..at].lines().rev().find_map(|l| {
        let stamp = l.trim_start_matches('-').trim();
        NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.f").ok()
    })?;
    let received = chrono::Local.from_local_datetime(&stamp).single()?;
    Some((call_id, received.with_timezone(&Utc)))
}

#[test]
fn the_attempt_is_recorded_before_sipp_receives_the_invite() {
    let sipp = Sipp::start(SippOptions::new("uas_noanswer.xml"));
    let mut spec = CampaignSpec::new(sipp.port);
    spec.ring_timeout_s = 6.0;
    let campaign = Campaign::write(&spec);
    let dialer = campaign.spawn();

    let trace_path = sipp.dir().join("messages.log");
    let deadline = Instant::now() + Duration::from_secs(30);
    let (call_id, received) = loop {
        let trace = std::fs::read_to_string(&trace_path).unwrap_or_default();
        if let Some(found) = received_invite(&trace) {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "sipp received no INVITE\n{}",
            sipp.messages()
        );
        std::thread::sleep(Duration::from_millis(50));
    };

    // sipp is ringing: it answers only a CANCEL, which comes after 6 s.
    let rows = campaign.wait_report(Duration::from_secs(3), |rows| !rows.is_empty());
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row["disposition"], "in_progress", "{row:?}");
    assert_eq!(row["ended_at"], "", "{row:?}");
    assert_eq!(row["sip_code"], "", "{row:?}");
    assert_eq!(row["call_id"], call_id, "the Call-ID sipp received");
    let started: DateTime<Utc> = row["started_at"].parse().expect("started_at is a time");
    assert!(
        started <= received,
        "the attempt started at {started}, after sipp received the INVITE at {received}"
    );

    let out = wait_with_timeout(dialer, Duration::from_secs(60));
    assert!(out.status.success(), "{}", text(&out));
    let rows = campaign.report();
    assert_eq!(rows.len(), 1, "still one attempt: {rows:?}");
    let row = &rows[0];
    assert_eq!(row["call_id"], call_id);
    assert_eq!(row["disposition"], "no_answer", "{row:?}");
    assert_eq!(row["sip_code"], "487");
    assert!(!row["ended_at"].is_empty(), "{row:?}");
    drop(sipp);
}
