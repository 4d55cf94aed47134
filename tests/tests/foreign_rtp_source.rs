//! RTP that comes from an address other than the one the answer's SDP
//! gave is dropped and noted: its key presses do not count.

use dialer_tests::sipp::dtmf_pcap;
use dialer_tests::{SippOptions, single_call};

#[test]
fn packets_from_an_unexpected_source_are_ignored_and_noted() {
    let media = tempfile::tempdir().unwrap();
    let pcap = dtmf_pcap(media.path(), "1", 1.0);
    let call = single_call(
        SippOptions {
            ring_ms: Some(200),
            keys: vec![("dtmf_pcap".into(), pcap.display().to_string())],
            // The answer claims media at 127.0.0.2, but sipp sends from 127.0.0.1.
            rewrites: vec![(
                "c=IN IP[media_ip_type] [media_ip]".into(),
                "c=IN IP4 127.0.0.2".into(),
            )],
            ..SippOptions::new("uas_answer_dtmf.xml")
        },
        |_| {},
    );
    let row = &call.row;
    assert_eq!(row["disposition"], "answered", "{row:?}");
    assert_eq!(
        row["digits"], "",
        "a digit from a stranger was counted: {row:?}"
    );
    assert!(
        row["note"].contains("unexpected source 127.0.0.1"),
        "{row:?}"
    );
    assert!(row["note"].contains("expected 127.0.0.2"), "{row:?}");
}
