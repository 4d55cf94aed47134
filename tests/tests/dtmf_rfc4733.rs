//! Key presses sent by sipp as RFC 4733 events (from a pcap) end up, once
//! each, in the report.

use dialer_tests::sipp::dtmf_pcap;
use dialer_tests::{SippOptions, single_call};

#[test]
fn each_key_press_is_one_digit_in_the_report() {
    let media = tempfile::tempdir().unwrap();
    // Three presses: each is 7 updates and 3 end packets, 0.5 s apart.
    let pcap = dtmf_pcap(media.path(), "19#", 2.0);
    let call = single_call(
        SippOptions {
            ring_ms: Some(300),
            keys: vec![("dtmf_pcap".into(), pcap.display().to_string())],
            ..SippOptions::new("uas_answer_dtmf.xml")
        },
        |_| {},
    );
    assert!(call.sipp_ok, "{}", call.sipp_messages);
    assert_eq!(call.row["disposition"], "answered", "{:?}", call.row);
    assert_eq!(call.row["digits"], "19#", "{:?}", call.row);
}
