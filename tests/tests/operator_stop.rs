//! Ctrl-C during a campaign: the call in progress is ended with BYE and
//! recorded, no new call starts, and the run says what was left.

use std::time::Duration;

use dialer_tests::{Campaign, CampaignSpec, Sipp, SippOptions, interrupt, text, wait_with_timeout};

#[test]
fn interrupt_hangs_up_records_and_leaves_the_rest() {
    let sipp = Sipp::start(SippOptions {
        ring_ms: Some(200),
        calls: 3,
        ..SippOptions::new("uas_answer.xml")
    });
    let mut spec = CampaignSpec::new(sipp.port);
    spec.max_channels = 1;
    spec.contacts = (1..=3)
        .map(|i| {
            (
                format!("C-{i}"),
                format!("55 1234 567{i}"),
                format!("Deudor {i}"),
            )
        })
        .collect();
    let campaign = Campaign::write(&spec);
    let child = campaign.spawn();
    campaign.wait_report(Duration::from_secs(30), |rows| {
        rows.first().is_some_and(|r| !r["answered_at"].is_empty())
    });
    interrupt(&child);
    let out = wait_with_timeout(child, Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Dialing stopped early: stopped by the operator"),
        "{}",
        text(&out)
    );
    assert!(stdout.contains("not dialed: 2 contacts"), "{}", text(&out));
    let rows = campaign.report();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["disposition"], "answered");
    assert_eq!(rows[0]["hangup_by"], "dialer");
    assert!(
        rows[0]["note"].contains("stopped by the operator during the call"),
        "{:?}",
        rows[0]
    );
    assert!(
        sipp.messages().contains("BYE sip:"),
        "no BYE was sent\n{}",
        sipp.messages()
    );
}
