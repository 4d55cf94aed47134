//! A trunk that answers with a codec we did not offer: the call is hung up
//! at once and recorded as an error that names the codec.

use dialer_tests::{SippOptions, single_call};

#[test]
fn answer_with_g729_only_is_an_error_and_gets_bye() {
    let call = single_call(
        SippOptions {
            ring_ms: Some(200),
            rewrites: vec![(
                "m=audio [media_port] RTP/AVP 0 101\n      a=rtpmap:0 PCMU/8000".into(),
                "m=audio [media_port] RTP/AVP 18 101\n      a=rtpmap:18 G729/8000".into(),
            )],
            ..SippOptions::new("uas_answer.xml")
        },
        |_| {},
    );
    let row = &call.row;
    assert!(
        call.sipp_ok,
        "sipp expected our BYE\n{}",
        call.sipp_messages
    );
    assert_eq!(row["disposition"], "error", "{row:?}");
    assert_eq!(row["sip_code"], "200");
    assert_eq!(row["hangup_by"], "dialer");
    assert!(
        row["note"].contains("no codec in common") && row["note"].contains("G729"),
        "{row:?}"
    );
}
