//! Hold and unhold by re-INVITE (RFC 3264 §8): the carrier moves the audio
//! to a new port and puts the call on hold (`a=sendonly`), then takes it
//! back (`a=sendrecv`). The dialer answers each offer with the mirrored
//! direction (`a=recvonly`, then `a=sendrecv`; sipp fails the call
//! otherwise), sends nothing while held, and sends to the new port after.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use dialer_tests::sipp::SippOptions;
use dialer_tests::{free_port, single_call};

#[test]
fn a_held_call_gets_no_audio_and_the_audio_follows_the_new_address() {
    let port = free_port();
    let listener = UdpSocket::bind(("127.0.0.1", port)).expect("bind the new media port");
    listener
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let counter = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut buf = [0u8; 2048];
        let mut packets = 0u32;
        let mut idle_since = None::<Instant>;
        while Instant::now() < deadline {
            match listener.recv_from(&mut buf) {
                Ok(_) => {
                    packets += 1;
                    idle_since = None;
                }
                Err(_) => {
                    // Done once the packets have stopped for 2 s.
                    let idle = *idle_since.get_or_insert_with(Instant::now);
                    if packets > 0 && idle.elapsed() > Duration::from_secs(2) {
                        break;
                    }
                }
            }
        }
        packets
    });
    let mut options = SippOptions::new("uas_reinvite_hold.xml");
    options.rewrites.push(("NEW_PORT".into(), port.to_string()));
    let call = single_call(options, |spec| spec.wait_for_digits_s = 10.0);
    assert!(
        call.sipp_ok,
        "sipp found a wrong answer to its re-INVITEs\n{}",
        call.sipp_messages
    );
    let row = &call.row;
    assert_eq!(row["disposition"], "answered", "{row:?}");
    assert_eq!(row["hangup_by"], "callee", "{row:?}");
    assert!(row["note"].contains("on hold"), "{row:?}");
    let packets = counter.join().unwrap();
    // 2 s after the unhold at 50 packets a second; the 2 s of hold would
    // have added ~100 more had they been sent.
    assert!(
        (80..=125).contains(&packets),
        "{packets} packets reached the new port\n{}",
        call.sipp_messages
    );
}

/// A session refresh by re-INVITE without SDP asks for our offer: the 200
/// OK carries the call's SDP (sendrecv, telephone-event; sipp checks), and
/// the call goes on.
#[test]
fn a_reinvite_without_sdp_gets_our_offer() {
    let call = single_call(SippOptions::new("uas_reinvite_no_sdp.xml"), |spec| {
        spec.wait_for_digits_s = 10.0
    });
    assert!(
        call.sipp_ok,
        "sipp found no usable offer in the 200 OK\n{}",
        call.sipp_messages
    );
    assert_eq!(call.row["disposition"], "answered", "{:?}", call.row);
    assert_eq!(call.row["hangup_by"], "callee", "{:?}", call.row);
}
