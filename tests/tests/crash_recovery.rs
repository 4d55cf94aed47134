//! The dialer is killed in the middle of a call. The attempt row written
//! before the INVITE is there; the next run closes it as `unknown` and does
//! not call the debtor a second time.

use std::time::Duration;

use dialer_tests::{Campaign, CampaignSpec, Sipp, SippOptions, text};

#[test]
fn an_attempt_in_flight_survives_a_kill_and_is_closed_as_unknown() {
    let sipp = Sipp::start(SippOptions {
        ring_ms: Some(200),
        ..SippOptions::new("uas_answer.xml")
    });
    let campaign = Campaign::write(&CampaignSpec::new(sipp.port));
    let mut child = campaign.spawn();
    let rows = campaign.wait_report(Duration::from_secs(30), |rows| {
        rows.first().is_some_and(|r| !r["answered_at"].is_empty())
    });
    assert_eq!(rows[0]["ended_at"], "", "still in the call");
    assert_eq!(rows[0]["disposition"], "in_progress");
    child.kill().expect("kill the dialer");
    child.wait().unwrap();

    let out = campaign.run(Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 attempt(s) left open by an earlier run were closed as 'unknown'"),
        "{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(", 0 dialed"),
        "{}",
        text(&out)
    );
    let rows = campaign.report();
    assert_eq!(rows.len(), 1, "the debtor was not called again");
    assert_eq!(rows[0]["disposition"], "unknown");
    assert!(
        !rows[0]["ended_at"].is_empty() && !rows[0]["answered_at"].is_empty(),
        "{:?}",
        rows[0]
    );
    assert!(
        rows[0]["note"].contains("outcome is unknown"),
        "{:?}",
        rows[0]
    );
}
