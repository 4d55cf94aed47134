//! A trunk that challenges every INVITE with 401 (digest, qop=auth).

use dialer_tests::{SippOptions, single_call};

fn auth_sipp() -> SippOptions {
    SippOptions {
        ring_ms: Some(300),
        hold_ms: Some(1500),
        keys: vec![
            ("auth_user".into(), "dialer".into()),
            ("auth_pass".into(), "s3cret".into()),
        ],
        ..SippOptions::new("uas_auth_answer.xml")
    }
}

#[test]
fn challenge_is_answered_with_the_trunk_credentials() {
    let call = single_call(auth_sipp(), |spec| {
        spec.credentials = Some(("dialer", "s3cret"))
    });
    assert!(call.sipp_ok, "{}", call.sipp_messages);
    assert!(
        call.sipp_messages.contains("401 Unauthorized"),
        "{}",
        call.sipp_messages
    );
    assert!(
        call.sipp_messages.contains("Authorization: Digest"),
        "{}",
        call.sipp_messages
    );
    assert_eq!(call.row["disposition"], "answered", "{:?}", call.row);
    assert_eq!(call.row["sip_code"], "200");
}

#[test]
fn wrong_password_ends_as_rejected_by_403() {
    let call = single_call(auth_sipp(), |spec| {
        spec.credentials = Some(("dialer", "wrong"))
    });
    assert_eq!(
        call.row["disposition"], "rejected",
        "{:?}\n{}",
        call.row, call.sipp_messages
    );
    assert_eq!(call.row["sip_code"], "403");
}
