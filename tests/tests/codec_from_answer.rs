//! The codec comes from the answer: we offer PCMU first, the trunk answers
//! with another (PCMA, or G.722 when the trunk offers it), and the prompt
//! goes out coded with it, on its payload type.

use std::time::Duration;

use dialer_tests::capture::Capture;
use dialer_tests::{Campaign, CampaignSpec, Sipp, SippOptions, rtp, text};
use media::Codec;

/// One call whose answer takes only `codec`, the trunk offering
/// `trunk_codecs`; checks what we offered (`offered`, the m= line's
/// payload types) and the row's codec, and returns the payload bytes of
/// the packets sent and the prompt.
fn answered_with(
    codec: Codec,
    trunk_codecs: &str,
    offered: &str,
) -> (Vec<u8>, media::prompt::Prompt) {
    let pt = codec.payload_type();
    let sipp = Sipp::start(SippOptions {
        ring_ms: Some(200),
        hold_ms: Some(3000),
        rewrites: vec![(
            "m=audio [media_port] RTP/AVP 0 101\n      a=rtpmap:0 PCMU/8000".into(),
            format!("m=audio [media_port] RTP/AVP {pt} 101\n      a=rtpmap:{pt} {codec}/8000"),
        )],
        ..SippOptions::new("uas_answer.xml")
    });
    let capture = Capture::start(sipp.media_port);
    let mut spec = CampaignSpec::new(sipp.port);
    spec.trunk_extra = format!("codecs = {trunk_codecs}\n");
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    let messages = sipp.messages();
    assert!(
        messages.contains("m=audio") && messages.contains(offered),
        "we offer {offered}\n{messages}"
    );
    let packets = capture.stop();
    let rows = campaign.report();
    assert_eq!(
        rows[0]["codec"],
        codec.name(),
        "{:?}\n{}",
        rows[0],
        text(&out)
    );

    let audio: Vec<_> = packets.iter().filter_map(rtp).collect();
    assert!(
        audio.iter().all(|(p, ..)| *p == pt),
        "only {codec} packets are sent"
    );
    let received: Vec<u8> = audio.iter().flat_map(|(.., p)| p.iter().copied()).collect();
    assert!(
        received.len() > 8000 * 2,
        "at least 2 s of audio before sipp hung up ({} bytes)",
        received.len()
    );
    let prompt = media::prompt::Prompt::load(&spec.prompt).unwrap();
    let expected = prompt.encoded(codec);
    let n = received.len().min(expected.len());
    assert!(
        received[..n] == expected[..n],
        "the {codec} audio is the prompt, coded once for every call"
    );
    (received[..n].to_vec(), prompt)
}

#[test]
fn a_pcma_answer_gets_pcma_audio() {
    answered_with(Codec::Pcma, r#"["PCMU", "PCMA"]"#, " 0 8 101");
}

/// G.722 offered after PCMU and chosen by the trunk: the bytes are the
/// prompt coded once, and they decode back to the prompt's audio.
#[test]
fn a_g722_answer_gets_g722_audio() {
    let (received, prompt) = answered_with(Codec::G722, r#"["PCMU", "G722"]"#, " 0 9 101");
    // It is G.722 that carries the prompt, not bytes that merely match:
    // decoded, it follows the prompt's waveform (a few samples late).
    let n = received.len();
    let mut decoded = Vec::new();
    Codec::G722.decode(&received, &mut decoded);
    let original = &prompt.samples()[..n];
    let best = (0..40)
        .map(|lag| correlation(&original[..n - 40], &decoded[lag..n - 40 + lag]))
        .fold(f64::MIN, f64::max);
    assert!(
        best > 0.9,
        "decoded G.722 correlates {best:.2} with the prompt"
    );
}

fn correlation(a: &[i16], b: &[i16]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let energy = |v: &[i16]| v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
    dot / (energy(a) * energy(b))
}
