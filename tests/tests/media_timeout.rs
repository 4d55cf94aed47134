//! A call whose far end sends no RTP at all is hung up after the trunk's
//! `rtp_timeout_s` and recorded as `media_timeout`; a far end that keeps
//! sending (even silence) is not.

use std::time::Duration;

use dialer_tests::{Campaign, CampaignSpec, SimCarrier, SippOptions, single_call, text};

#[test]
fn a_dead_line_is_hung_up_as_media_timeout() {
    // sipp's answering scenario sends no RTP, and would hold the call a minute.
    let call = single_call(
        SippOptions {
            ring_ms: Some(200),
            hold_ms: Some(60_000),
            ..SippOptions::new("uas_answer.xml")
        },
        |spec| spec.trunk_extra = "rtp_timeout_s = 2\n".into(),
    );
    assert!(call.sipp_ok, "sipp got our BYE: {}", call.sipp_messages);
    let row = &call.row;
    assert_eq!(row["disposition"], "media_timeout", "{row:?}");
    assert_eq!(row["hangup_by"], "dialer", "{row:?}");
    assert!(
        row["note"].contains("no RTP from") && row["note"].contains("for 2 s"),
        "{row:?}"
    );
    let talk: f64 = row["talk_s"].parse().unwrap();
    assert!(
        (1.5..6.0).contains(&talk),
        "hung up about 2 s after the answer: {talk}"
    );
}

#[test]
fn a_line_that_keeps_sending_is_not_a_media_timeout() {
    // The simulated carrier sends RTP (silence) all along, then hangs up.
    let mut carrier = SimCarrier::start("[default]\nring_s = 0.2\nhangup_after_s = 5\n");
    let mut spec = CampaignSpec::new(carrier.port);
    spec.trunk_extra = "rtp_timeout_s = 2\n".into();
    spec.wait_for_digits_s = 10.0;
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    carrier.stop();
    assert!(out.status.success(), "{}", text(&out));
    let rows = campaign.report();
    assert_eq!(rows[0]["disposition"], "answered", "{:?}", rows[0]);
    assert_eq!(rows[0]["hangup_by"], "callee", "{:?}", rows[0]);
}
