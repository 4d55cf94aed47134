//! Media quality both ways, stored with the attempt: the dialer counts the
//! carrier's packets that never came and their jitter, and reads the
//! carrier's RTCP reports for what it got of ours and the round trip. The
//! simulated carrier is a bad line here (one packet in ten lost) and sends
//! RTCP like a real one.

use dialer_tests::{carrier_call, json_field};

#[test]
fn loss_jitter_and_round_trip_are_stored_with_the_attempt() {
    // 12 s: each side's first report comes 1.25-3.75 s in and the next
    // 2.5-7.5 s after, so the carrier's second one (which answers the
    // dialer's first, giving the round trip) comes before it hangs up.
    let (row, line) = carrier_call(
        "[default]\nring_s = 0.2\nhangup_after_s = 12\ndrop_one_in = 10\n",
        // The dialer stays on after its 9 s message, for the carrier to hang up.
        |spec| spec.wait_for_digits_s = 10.0,
    );
    let number = |column: &str| -> f64 {
        row[column]
            .parse()
            .unwrap_or_else(|_| panic!("{column} is '{}' in {row:?}", row[column]))
    };
    eprintln!(
        "received {} lost {} jitter {} ms; far end: lost {} jitter {} ms; rtt {} ms",
        row["rtp_received"],
        row["rtp_lost"],
        row["rtp_jitter_ms"],
        row["far_lost"],
        row["far_jitter_ms"],
        row["rtt_ms"]
    );
    let (received, lost) = (number("rtp_received"), number("rtp_lost"));
    // 12 s at 50 packets a second, one in ten never sent.
    assert!((500.0..=580.0).contains(&received), "{row:?}");
    let share = lost / (received + lost);
    assert!(
        (0.08..=0.12).contains(&share),
        "lost {lost} of {} ({row:?})",
        received + lost
    );
    assert!(number("rtp_jitter_ms") < 10.0, "{row:?}");
    // The carrier's reports: it got every packet of ours.
    assert_eq!(row["far_lost"], "0", "{row:?}");
    assert!(number("far_jitter_ms") < 10.0, "{row:?}");
    let rtt = number("rtt_ms");
    assert!(
        (0.0..50.0).contains(&rtt),
        "round trip on loopback {rtt} ms"
    );
    // And the carrier heard the dialer's reports.
    assert_eq!(
        json_field(&line, "received_rtp_lost").as_deref(),
        Some("0"),
        "{line}"
    );
    let reports: u64 = json_field(&line, "rtcp_reports_received")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(reports >= 1, "{line}");
}
