//! A trunk that never answers (UDP into the void) or refuses connections
//! (TCP): attempts are recorded as trunk failures and, after three in a
//! row, the run stops instead of burning through the list.

use std::time::Duration;

use dialer_tests::{Campaign, CampaignSpec, free_port, text};

fn contacts(n: u32) -> Vec<(String, String, String)> {
    (1..=n)
        .map(|i| {
            (
                format!("C-{i}"),
                format!("55 1234 56{i:02}"),
                format!("Deudor {i}"),
            )
        })
        .collect()
}

#[test]
fn silent_udp_trunk_stops_the_run_after_three_failures() {
    let mut spec = CampaignSpec::new(free_port());
    spec.response_timeout_s = 1.0;
    spec.max_channels = 1;
    spec.contacts = contacts(5);
    let campaign = Campaign::write(&spec);
    let out = campaign.run_unchecked(Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Dialing stopped early: trunk 'sipp'"),
        "{}",
        text(&out)
    );
    assert!(stdout.contains("not dialed: 2 contacts"), "{}", text(&out));
    let rows = campaign.report();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row["disposition"], "trunk_failure", "{row:?}");
        assert!(row["note"].contains("no response within 1.0 s"), "{row:?}");
        assert_eq!(row["sip_code"], "");
    }
    // A second run dials the two that were left, not the three already tried.
    let again = campaign.run_unchecked(Duration::from_secs(60));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("(3 already attempted"),
        "{}",
        text(&again)
    );
    assert_eq!(campaign.report().len(), 5, "{}", text(&again));
}

#[test]
fn refused_tcp_connection_is_a_trunk_failure() {
    let mut spec = CampaignSpec::new(free_port());
    spec.transport = "tcp";
    spec.response_timeout_s = 5.0;
    let campaign = Campaign::write(&spec);
    let out = campaign.run_unchecked(Duration::from_secs(60));
    let rows = campaign.report();
    assert_eq!(rows.len(), 1, "{}", text(&out));
    assert_eq!(
        rows[0]["disposition"],
        "trunk_failure",
        "{:?}\n{}",
        rows[0],
        text(&out)
    );
    assert!(rows[0]["note"].contains("tcp"), "{:?}", rows[0]);
}
