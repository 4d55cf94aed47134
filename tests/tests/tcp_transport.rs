//! The same answered call over TCP.

use dialer_tests::{SippOptions, single_call};

#[test]
fn a_tcp_trunk_carries_the_call() {
    let call = single_call(
        SippOptions {
            ring_ms: Some(300),
            hold_ms: Some(2000),
            tcp: true,
            ..SippOptions::new("uas_answer.xml")
        },
        |spec| spec.transport = "tcp",
    );
    assert!(call.sipp_ok, "{}", call.sipp_messages);
    assert!(
        call.sipp_messages.contains("SIP/2.0/TCP"),
        "Via is not TCP\n{}",
        call.sipp_messages
    );
    assert_eq!(call.row["disposition"], "answered", "{:?}", call.row);
    assert_eq!(call.row["hangup_by"], "callee");
}
