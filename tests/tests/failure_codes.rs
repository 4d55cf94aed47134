//! Final failures map to dispositions: 404 invalid number, 503 congestion
//! (with the trunk named), 603 rejected, 480 congestion, 484 invalid number.

use dialer_tests::{SippOptions, single_call};

fn reject_with(code: u16, reason: &str) -> SippOptions {
    SippOptions {
        rewrites: vec![(
            "SIP/2.0 480 Temporarily Unavailable".into(),
            format!("SIP/2.0 {code} {reason}"),
        )],
        ..SippOptions::new("uas_reject.xml")
    }
}

#[test]
fn not_found_is_an_invalid_number() {
    let call = single_call(SippOptions::new("uas_404.xml"), |_| {});
    assert_eq!(call.row["disposition"], "invalid_number", "{:?}", call.row);
    assert_eq!(call.row["sip_code"], "404");
    assert!(call.sipp_ok, "{}", call.sipp_messages);
}

#[test]
fn service_unavailable_is_congestion_on_the_trunk() {
    let call = single_call(SippOptions::new("uas_503.xml"), |_| {});
    assert_eq!(call.row["disposition"], "congestion", "{:?}", call.row);
    assert_eq!(call.row["sip_code"], "503");
    assert!(
        call.row["note"].contains("trunk sipp"),
        "the trunk is noted: {:?}",
        call.row
    );
    assert!(
        call.row["note"].contains("503 Service Unavailable"),
        "{:?}",
        call.row
    );
}

#[test]
fn decline_is_rejected() {
    let call = single_call(reject_with(603, "Decline"), |_| {});
    assert_eq!(call.row["disposition"], "rejected", "{:?}", call.row);
    assert_eq!(call.row["sip_code"], "603");
}

#[test]
fn temporarily_unavailable_is_congestion() {
    let call = single_call(SippOptions::new("uas_reject.xml"), |_| {});
    assert_eq!(call.row["disposition"], "congestion", "{:?}", call.row);
    assert_eq!(call.row["sip_code"], "480");
}

#[test]
fn address_incomplete_is_an_invalid_number_and_odd_reasons_are_kept() {
    let call = single_call(reject_with(484, "Numero Incompleto"), |_| {});
    assert_eq!(call.row["disposition"], "invalid_number", "{:?}", call.row);
    assert_eq!(call.row["sip_code"], "484");
    assert_eq!(call.row["sip_reason"], "Numero Incompleto");
}
