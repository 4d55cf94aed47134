//! Caller ID as an independent SIP stack sees it: sipp checks the INVITE's
//! From (display name and user) and P-Asserted-Identity against the trunk's
//! `caller_name` and `caller_id`, and fails the call when they are not there.

use dialer_tests::{SippOptions, single_call};

/// sipp's INVITE checks: `check_it` makes a failed match fail the call.
fn expecting(name: &str, number: &str) -> SippOptions {
    let number = number.replace('+', "\\+");
    let checks = format!(
        r#"<ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="inv_cseq"/>
      <ereg regexp="^ *&quot;{name}&quot; *&lt;sip:{number}@" search_in="hdr" header="From:" check_it="true" assign_to="from_ok"/>
      <ereg regexp="^ *&quot;{name}&quot; *&lt;sip:{number}@" search_in="hdr" header="P-Asserted-Identity:" check_it="true" assign_to="pai_ok"/>"#
    );
    SippOptions {
        ring_ms: Some(100),
        hold_ms: Some(500),
        rewrites: vec![
            (
                r#"<ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="inv_cseq"/>"#
                    .into(),
                checks,
            ),
            // sipp refuses variables that are assigned and never read.
            (
                r#"<label id="end"/>"#.into(),
                r#"<Reference variables="from_ok,pai_ok"/>
  <label id="end"/>"#
                    .into(),
            ),
        ],
        ..SippOptions::new("uas_answer.xml")
    }
}

/// The INVITE as sipp logged receiving it.
fn received_invite(messages: &str) -> &str {
    let start = messages
        .find("INVITE sip:")
        .expect("sipp received an INVITE");
    let end = messages[start..]
        .find("\n\n")
        .map_or(messages.len(), |e| start + e);
    &messages[start..end]
}

#[test]
fn from_and_p_asserted_identity_carry_the_configured_caller_id() {
    // The harness's trunk: caller_id "+525599990000", caller_name "Cobranza Pruebas".
    let call = single_call(expecting("Cobranza Pruebas", "+525599990000"), |_| {});
    assert!(
        call.sipp_ok,
        "sipp refused the INVITE's caller ID\n{}",
        call.sipp_messages
    );
    assert_eq!(call.row["disposition"], "answered", "{:?}", call.row);
    let invite = received_invite(&call.sipp_messages);
    let header = |name: &str| {
        invite
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} header in\n{invite}"))
            .to_owned()
    };
    assert!(
        header("from").contains("\"Cobranza Pruebas\" <sip:+525599990000@"),
        "{invite}"
    );
    assert!(
        header("p-asserted-identity").contains("\"Cobranza Pruebas\" <sip:+525599990000@"),
        "{invite}"
    );
}

#[test]
fn sipp_fails_the_call_when_the_caller_id_is_not_the_expected_one() {
    // The control: the same checks with another number must fail, or the
    // test above would pass whatever the dialer sent.
    let call = single_call(expecting("Cobranza Pruebas", "+525500000000"), |_| {});
    assert!(
        !call.sipp_ok,
        "sipp accepted a caller ID it should not have\n{}",
        call.sipp_messages
    );
    assert!(
        call.sipp_messages.contains("Failed regexp match")
            && call.sipp_messages.contains("+525500000000"),
        "sipp failed the call for another reason\n{}",
        call.sipp_messages
    );
}
