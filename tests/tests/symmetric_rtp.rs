//! Symmetric RTP: a carrier behind a NAT gives an SDP port it does not
//! send from. The dialer sends its audio back to where the carrier's
//! packets come from, so the debtor hears the message, and says so in the
//! attempt's note.

use dialer_tests::{carrier_call, json_field};

#[test]
fn audio_goes_back_where_the_far_ends_packets_come_from() {
    let (row, line) = carrier_call(
        "[default]\nring_s = 0.2\nhangup_after_s = 3\nbehind_nat = true\n",
        |_| {},
    );
    assert!(row["note"].contains("(symmetric RTP)"), "{row:?}");
    let heard: u64 = json_field(&line, "received_rtp_packets")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // 3 s at 50 packets a second; the first one or two went to the SDP's port.
    assert!(heard >= 130, "the carrier heard {heard} packets: {line}");
    assert!(
        json_field(&line, "received_audio_s")
            .is_some_and(|s| s.parse::<f64>().unwrap_or(0.0) > 2.5),
        "{line}"
    );
}

/// A NAT that rewrites the address too: the carrier's SDP names an address
/// it does not send from (127.0.0.77, where nobody listens). With the
/// trunk's `symmetric_rtp = "address"` the audio goes where the packets
/// come from; by default packets from another address are a stranger's.
#[test]
fn with_symmetric_rtp_address_the_audio_follows_another_address() {
    let plan = "[default]\nring_s = 0.2\nhangup_after_s = 3\nsdp_address = \"127.0.0.77\"\n";
    let (row, line) = carrier_call(plan, |spec| {
        spec.trunk_extra = "symmetric_rtp = \"address\"\n".into();
    });
    assert!(row["note"].contains("(symmetric RTP)"), "{row:?}");
    let heard: u64 = json_field(&line, "received_rtp_packets")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(heard >= 130, "the carrier heard {heard} packets: {line}");

    let (row, line) = carrier_call(plan, |_| {});
    let heard: u64 = json_field(&line, "received_rtp_packets")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(heard <= 2, "the carrier heard {heard} packets: {line}");
    assert!(!row["note"].contains("(symmetric RTP)"), "{row:?}");
    assert!(row["note"].contains("unexpected"), "{row:?}");
}
