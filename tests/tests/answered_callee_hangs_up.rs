//! The debtor hangs up in the middle of the message: sipp sends BYE.

use dialer_tests::{SippOptions, single_call, text};

#[test]
fn callee_bye_ends_the_call_and_is_recorded() {
    let call = single_call(
        SippOptions {
            ring_ms: Some(300),
            hold_ms: Some(2500),
            ..SippOptions::new("uas_answer.xml")
        },
        |_| {},
    );
    let row = &call.row;
    assert!(call.sipp_ok, "{}", call.sipp_messages);
    assert_eq!(
        row["disposition"],
        "answered",
        "{row:?}\n{}",
        text(&call.dialer)
    );
    assert_eq!(row["hangup_by"], "callee");
    assert!(
        row["note"].contains("hung up before the message ended"),
        "{row:?}"
    );
    let talk: f64 = row["talk_s"].parse().unwrap();
    assert!(
        (2.0..4.0).contains(&talk),
        "talked {talk} s; sipp hangs up after 2.5 s"
    );
    // The BYE came from sipp; the dialer answered it with 200 and sent none.
    assert!(
        !call.sipp_messages.contains("BYE sip:carrier"),
        "{}",
        call.sipp_messages
    );
}
