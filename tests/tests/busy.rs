//! 486 Busy Here after ringing.

use dialer_tests::{SippOptions, single_call};

#[test]
fn busy_is_recorded_with_its_ring_time() {
    let call = single_call(
        SippOptions {
            ring_ms: Some(700),
            ..SippOptions::new("uas_busy.xml")
        },
        |_| {},
    );
    let row = &call.row;
    assert!(call.sipp_ok, "{}", call.sipp_messages);
    assert_eq!(row["disposition"], "busy", "{row:?}");
    assert_eq!(row["sip_code"], "486");
    assert!(
        !row["ringing_at"].is_empty() && row["answered_at"].is_empty(),
        "{row:?}"
    );
    let ring: f64 = row["ring_s"].parse().unwrap();
    assert!((0.5..2.0).contains(&ring), "{ring}");
}

#[test]
fn session_progress_183_counts_as_ringing() {
    let call = single_call(
        SippOptions {
            ring_ms: Some(600),
            rewrites: vec![(
                "SIP/2.0 180 Ringing".into(),
                "SIP/2.0 183 Session Progress".into(),
            )],
            ..SippOptions::new("uas_busy.xml")
        },
        |_| {},
    );
    let row = &call.row;
    assert_eq!(row["disposition"], "busy", "{row:?}");
    assert!(!row["ringing_at"].is_empty(), "183 is ringing too: {row:?}");
    let ring: f64 = row["ring_s"].parse().unwrap();
    assert!((0.4..2.0).contains(&ring), "{ring}");
}
