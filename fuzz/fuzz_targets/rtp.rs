//! Any datagram on a call's RTP port: the session reads it (audio, a key,
//! a stranger's packet or junk) without panicking, with in-band detection on.
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use media::Codec;
use media::rtp::{RtpSession, SessionConfig};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the codec, the sender, relaying and the packet
    // time; the rest is the datagram.
    let Some((&pick, datagram)) = data.split_first() else {
        return;
    };
    let mut session = RtpSession::new(SessionConfig {
        codec: Codec::ALL[usize::from(pick & 1) + usize::from(pick >> 7)],
        dtmf_payload_type: Some(101),
        offered_dtmf_payload_type: Some(101),
        remote_ip: "127.0.0.1".parse().unwrap(),
        record_limit: Some(8_000),
        ssrc: 7,
        inband_dtmf: true,
        ptime_ms: if pick & 8 == 0 { 20 } else { 40 },
    });
    session.set_relay(pick & 2 != 0);
    let from: SocketAddr = if pick & 4 == 0 {
        "127.0.0.1:4000".parse().unwrap()
    } else {
        "127.0.0.2:4000".parse().unwrap()
    };
    // Twice: a repeat is what a duplicate packet looks like.
    session.handle_datagram(std::time::Instant::now(), from, datagram);
    session.handle_datagram(std::time::Instant::now(), from, datagram);
    while session.take_inband_digit().is_some() {}
    while session.take_relayed().is_some() {}
    let mut out = Vec::new();
    session.next_packet(&mut out);
    session.next_packet(&mut out);
    let _ = session.take_recording();
});
