//! Key presses left in the audio (in-band DTMF, as old gear sends them)
//! are heard when the trunk is set to expect them, and ignored otherwise.

use dialer_tests::{SippOptions, single_call};

fn call(dtmf: &str) -> dialer_tests::SingleCall {
    let media = tempfile::tempdir().unwrap();
    let pcap = media.path().join("inband.pcap");
    dialer_tests::pcap::write_inband_dtmf(&pcap, "2#7", 1.0, 8.0).unwrap();
    single_call(
        SippOptions {
            ring_ms: Some(300),
            keys: vec![("dtmf_pcap".into(), pcap.display().to_string())],
            ..SippOptions::new("uas_answer_dtmf.xml")
        },
        |spec| {
            spec.wait_for_digits_s = 2.0;
            spec.trunk_extra = format!("dtmf = {dtmf}\n");
        },
    )
}

#[test]
fn keys_in_the_audio_are_heard_when_the_trunk_sends_them_that_way() {
    let c = call(r#"["rfc4733", "inband"]"#);
    assert!(c.sipp_ok, "{}", c.sipp_messages);
    assert_eq!(c.row["digits"], "2#7", "{:?}", c.row);
}

#[test]
fn keys_in_the_audio_are_ignored_when_the_trunk_does_not_send_them_that_way() {
    let c = call(r#"["rfc4733"]"#);
    assert!(c.sipp_ok, "{}", c.sipp_messages);
    assert_eq!(c.row["digits"], "", "{:?}", c.row);
}
