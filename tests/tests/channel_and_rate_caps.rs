//! A trunk's caps hold: never more calls up than `max_channels`, never
//! more starts per second than `max_cps`.

use std::time::Duration;

use chrono::DateTime;
use dialer_tests::{Campaign, CampaignSpec, Sipp, SippOptions, text};

fn seconds(at: &str) -> f64 {
    DateTime::parse_from_rfc3339(at).unwrap().timestamp_millis() as f64 / 1000.0
}

#[test]
fn calls_stay_within_channels_and_calls_per_second() {
    let sipp = Sipp::start(SippOptions {
        ring_ms: Some(300),
        hold_ms: Some(1500),
        calls: 6,
        ..SippOptions::new("uas_answer.xml")
    });
    let mut spec = CampaignSpec::new(sipp.port);
    spec.max_channels = 2;
    spec.max_cps = 2.0;
    spec.contacts = (1..=6)
        .map(|i| {
            (
                format!("C-{i}"),
                format!("55 1234 560{i}"),
                format!("Deudor {i}"),
            )
        })
        .collect();
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    let rows = campaign.report();
    assert_eq!(rows.len(), 6, "{}", text(&out));
    assert!(
        rows.iter().all(|r| r["disposition"] == "answered"),
        "{rows:?}"
    );

    let mut spans: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (seconds(&r["started_at"]), seconds(&r["ended_at"])))
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in spans.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(
            gap >= 0.45,
            "two calls started {gap:.3} s apart with max_cps = 2"
        );
    }
    for (start, _) in &spans {
        let up = spans
            .iter()
            .filter(|(s, e)| s <= start && e > start)
            .count();
        assert!(
            up <= 2,
            "{up} calls up at once with max_channels = 2: {spans:?}"
        );
    }
    // With 2 channels the 6 calls (~1.8 s each) cannot all overlap: at least 3 waves.
    let total = spans.last().unwrap().1 - spans[0].0;
    assert!(total > 4.5, "{total}");
}
