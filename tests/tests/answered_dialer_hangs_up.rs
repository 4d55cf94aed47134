//! An answered call against sipp: the prompt reaches the callee byte for
//! byte, 20 ms at a time, and the dialer ends the call with BYE.

use std::time::Duration;

use dialer_tests::capture::Capture;
use dialer_tests::{Campaign, CampaignSpec, Sipp, SippOptions, prompt_pcmu, rtp, text};

#[test]
fn answered_call_plays_the_prompt_then_the_dialer_sends_bye() {
    let sipp = Sipp::start(SippOptions {
        ring_ms: Some(800),
        ..SippOptions::new("uas_answer.xml")
    });
    let capture = Capture::start(sipp.media_port);
    let spec = CampaignSpec::new(sipp.port);
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(90));
    let messages = sipp.messages();
    let sipp_out = sipp.finish(Duration::from_secs(30));
    assert!(
        sipp_out.status.success(),
        "sipp saw a failed call\n{messages}\n{}",
        text(&out)
    );
    let packets = capture.stop();

    let rows = campaign.report();
    assert_eq!(rows.len(), 1, "{}", text(&out));
    let row = &rows[0];
    assert_eq!(row["disposition"], "answered", "{row:?}");
    assert_eq!(row["sip_code"], "200");
    assert_eq!(row["hangup_by"], "dialer");
    assert_eq!(row["codec"], "PCMU");
    assert_eq!(row["phone"], "+525512345678");
    for column in ["started_at", "ringing_at", "answered_at", "ended_at"] {
        assert!(!row[column].is_empty(), "{column} is empty: {row:?}");
    }
    let ring: f64 = row["ring_s"].parse().unwrap();
    assert!(
        (0.6..2.0).contains(&ring),
        "rang {ring} s, sipp rings 0.8 s"
    );
    assert!(
        messages.contains("BYE sip:"),
        "the dialer sent no BYE\n{messages}"
    );
    assert!(
        out.stdout.starts_with(b"Campaign 'prueba'"),
        "{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("answered"),
        "summary: {}",
        text(&out)
    );

    // What sipp received: PCMU packets whose payloads are the prompt.
    let audio: Vec<_> = packets
        .iter()
        .filter_map(rtp)
        .filter(|(pt, ..)| *pt == 0)
        .collect();
    let prompt = prompt_pcmu(&spec.prompt);
    let received: Vec<u8> = audio
        .iter()
        .flat_map(|(.., payload)| payload.iter().copied())
        .collect();
    assert!(
        received.len() >= prompt.len(),
        "received {} bytes, the prompt has {}",
        received.len(),
        prompt.len()
    );
    assert!(
        received[..prompt.len()] == prompt[..],
        "the audio sipp received is not the prompt"
    );
    let loud = prompt
        .iter()
        .filter(|&&b| b != 0xFF && (b & 0x7F) < 0x60)
        .count();
    assert!(loud > prompt.len() / 4, "the prompt is mostly silence");
    // One packet per 20 ms, 160 samples apart.
    for pair in audio.windows(2) {
        assert_eq!(pair[1].2.wrapping_sub(pair[0].2), 160, "timestamp step");
        assert_eq!(pair[1].1, pair[0].1.wrapping_add(1), "sequence step");
    }
    let audio_packets: Vec<_> = packets
        .iter()
        .filter(|d| rtp(d).is_some_and(|r| r.0 == 0))
        .collect();
    let span = audio_packets.last().unwrap().at_s - audio_packets[0].at_s;
    let interval_ms = span * 1000.0 / (audio_packets.len() - 1) as f64;
    assert!(
        (19.0..21.0).contains(&interval_ms),
        "packets every {interval_ms:.2} ms"
    );
    let prompt_s = prompt.len() as f64 / 8000.0;
    // The prompt, then wait_for_digits_s (1 s) of silence, then BYE.
    assert!(
        span > prompt_s && span < prompt_s + 2.5,
        "{span:.2} s of audio for a {prompt_s:.2} s prompt"
    );
}
