//! The codec comes from the answer: we offer PCMU first, the trunk answers
//! PCMA only, and the prompt goes out A-law coded on payload type 8.

use std::time::Duration;

use dialer_tests::capture::Capture;
use dialer_tests::{Campaign, CampaignSpec, Sipp, SippOptions, rtp, text};

#[test]
fn a_pcma_answer_gets_pcma_audio() {
    let sipp = Sipp::start(SippOptions {
        ring_ms: Some(200),
        hold_ms: Some(3000),
        rewrites: vec![(
            "m=audio [media_port] RTP/AVP 0 101\n      a=rtpmap:0 PCMU/8000".into(),
            "m=audio [media_port] RTP/AVP 8 101\n      a=rtpmap:8 PCMA/8000".into(),
        )],
        ..SippOptions::new("uas_answer.xml")
    });
    let capture = Capture::start(sipp.media_port);
    let spec = CampaignSpec::new(sipp.port);
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    let messages = sipp.messages();
    assert!(
        messages.contains("m=audio") && messages.contains(" 0 8 101"),
        "we offer PCMU, PCMA\n{messages}"
    );
    let packets = capture.stop();
    let rows = campaign.report();
    assert_eq!(rows[0]["codec"], "PCMA", "{:?}\n{}", rows[0], text(&out));

    let audio: Vec<_> = packets.iter().filter_map(rtp).collect();
    assert!(
        audio.iter().all(|(pt, ..)| *pt == 8),
        "only PCMA packets are sent"
    );
    let prompt = media::prompt::Prompt::load(&spec.prompt).unwrap();
    let expected = prompt.encoded(media::Codec::Pcma);
    let received: Vec<u8> = audio.iter().flat_map(|(.., p)| p.iter().copied()).collect();
    let n = received.len().min(expected.len());
    assert!(
        n > 8000 * 2,
        "at least 2 s of audio before sipp hung up ({n} bytes)"
    );
    assert!(
        received[..n] == expected[..n],
        "the A-law audio is the prompt"
    );
}
