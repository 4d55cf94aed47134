//! Key presses a trunk sends in SIP INFO count like RFC 4733 ones, and a
//! press a trunk reports both ways counts once. A trunk configured for
//! RFC 4733 only has its INFO keys ignored.

use dialer_tests::sipp::dtmf_pcap;
use dialer_tests::{SippOptions, single_call};

fn call(dtmf: &str) -> dialer_tests::SingleCall {
    let media = tempfile::tempdir().unwrap();
    let pcap = dtmf_pcap(media.path(), "1", 1.0);
    single_call(
        SippOptions {
            ring_ms: Some(300),
            keys: vec![("dtmf_pcap".into(), pcap.display().to_string())],
            ..SippOptions::new("uas_answer_info.xml")
        },
        |spec| {
            spec.wait_for_digits_s = 2.0;
            spec.trunk_extra = format!("dtmf = {dtmf}\n");
        },
    )
}

#[test]
fn info_keys_count_and_a_press_sent_both_ways_counts_once() {
    let c = call(r#"["rfc4733", "info"]"#);
    assert!(c.sipp_ok, "{}", c.sipp_messages);
    assert_eq!(c.row["disposition"], "answered", "{:?}", c.row);
    assert_eq!(c.row["digits"], "159", "{:?}\n{}", c.row, c.sipp_messages);
    // Every INFO was answered 200, the other package's too.
    assert_eq!(
        c.sipp_messages.matches("INFO sip:").count(),
        4,
        "{}",
        c.sipp_messages
    );
}

#[test]
fn a_trunk_that_sends_rfc4733_only_has_its_info_ignored() {
    let c = call(r#"["rfc4733"]"#);
    assert!(c.sipp_ok, "{}", c.sipp_messages);
    assert_eq!(c.row["digits"], "1", "{:?}", c.row);
}
