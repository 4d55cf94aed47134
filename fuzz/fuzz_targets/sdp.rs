//! Any SDP body in a 183, a 200 or an INVITE: taken or refused with an
//! error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media::Codec;
use media::sdp::LocalAudio;

fuzz_target!(|data: &[u8]| {
    let local = LocalAudio {
        ip: "127.0.0.1".parse().unwrap(),
        port: 40_000,
        codecs: vec![Codec::Pcmu, Codec::Pcma],
        dtmf_payload_type: 101,
        session_id: 1,
    };
    let _ = local.accept_answer(data);
    let _ = local.answer_offer(data);
});
