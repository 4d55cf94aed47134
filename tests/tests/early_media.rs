//! Early media: a carrier that answers the INVITE with 183 Session Progress
//! and SDP, and plays an announcement (with a key tone in it) before the
//! call is answered or refused. The 183 is ringing, not an answer; what it
//! played is set aside, never taken as the debtor's voice or keys.

use dialer_tests::sipp::dtmf_pcap;
use dialer_tests::{SippOptions, single_call};

fn options(scenario: &'static str, media: &std::path::Path) -> SippOptions {
    // The announcement presses "1" half a second in; the carrier decides 2 s in.
    let pcap = dtmf_pcap(media, "1", 0.5);
    SippOptions {
        ring_ms: Some(2_000),
        keys: vec![("dtmf_pcap".into(), pcap.display().to_string())],
        ..SippOptions::new(scenario)
    }
}

#[test]
fn an_announcement_then_busy_is_busy_not_answered() {
    let media = tempfile::tempdir().unwrap();
    let call = single_call(options("uas_early_media_busy.xml", media.path()), |_| {});
    assert!(call.sipp_ok, "{}", call.sipp_messages);
    let row = &call.row;
    assert_eq!(row["disposition"], "busy", "{row:?}");
    assert_eq!(row["sip_code"], "486", "{row:?}");
    assert_eq!(row["answered_at"], "", "{row:?}");
    assert_eq!(row["digits"], "", "{row:?}");
    assert_ne!(row["ringing_at"], "", "the 183 is ringing: {row:?}");
}

#[test]
fn early_media_then_an_answer_starts_the_call_at_the_200() {
    let media = tempfile::tempdir().unwrap();
    let call = single_call(options("uas_early_media_answer.xml", media.path()), |_| {});
    assert!(call.sipp_ok, "{}", call.sipp_messages);
    let row = &call.row;
    assert_eq!(row["disposition"], "answered", "{row:?}");
    let ring: f64 = row["ring_s"].parse().unwrap();
    assert!(
        (1.8..4.0).contains(&ring),
        "answered at the 200 OK, 2 s after the 183, not at the 183: ring {ring} s"
    );
    assert_eq!(
        row["digits"], "",
        "the tone in the announcement is no key: {row:?}"
    );
    assert!(
        row["note"].contains("early media before the answer, set aside"),
        "{row:?}"
    );
}
