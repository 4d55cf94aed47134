//! A phone that rings past the ring timeout: the dialer CANCELs, sipp
//! answers 487, and the attempt is a no-answer.

use dialer_tests::{SippOptions, single_call};

#[test]
fn ring_timeout_sends_cancel_and_records_no_answer() {
    let call = single_call(SippOptions::new("uas_noanswer.xml"), |spec| {
        spec.ring_timeout_s = 2.0
    });
    let row = &call.row;
    assert!(call.sipp_ok, "{}", call.sipp_messages);
    assert!(
        call.sipp_messages.contains("CANCEL sip:"),
        "no CANCEL was sent\n{}",
        call.sipp_messages
    );
    assert_eq!(row["disposition"], "no_answer", "{row:?}");
    assert_eq!(row["sip_code"], "487");
    assert!(row["note"].contains("CANCEL sent"), "{row:?}");
    let ring: f64 = row["ring_s"].parse().unwrap();
    assert!(
        (1.5..3.5).contains(&ring),
        "rang {ring} s with a 2 s ring timeout"
    );
}
