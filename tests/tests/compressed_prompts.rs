//! A campaign whose prompt is an MP3 (or Ogg Vorbis, or FLAC) plays it on
//! the call, decoded and resampled once at load; an undecodable one stops
//! the campaign before any call, naming the file.

use std::time::Duration;

use dialer_tests::capture::Capture;
use dialer_tests::{
    Campaign, CampaignSpec, Sipp, SippOptions, free_port, prompt_pcmu, repo_root, rtp, text,
};

#[test]
fn an_mp3_prompt_is_what_the_callee_hears() {
    for name in ["tono-440.mp3", "tono-440.ogg", "tono-440.flac"] {
        let sipp = Sipp::start(SippOptions {
            ring_ms: Some(200),
            ..SippOptions::new("uas_answer.xml")
        });
        let capture = Capture::start(sipp.media_port);
        let mut spec = CampaignSpec::new(sipp.port);
        spec.prompt = repo_root().join("media/tests/fixtures").join(name);
        spec.wait_for_digits_s = 0.3;
        let campaign = Campaign::write(&spec);
        let out = campaign.run(Duration::from_secs(60));
        assert!(out.status.success(), "{name}: {}", text(&out));
        let packets = capture.stop();
        let received: Vec<u8> = packets
            .iter()
            .filter_map(rtp)
            .filter(|(pt, ..)| *pt == 0)
            .flat_map(|(.., payload)| payload.to_vec())
            .collect();
        let prompt = prompt_pcmu(&spec.prompt);
        assert!(
            prompt.len() > 8_000,
            "{name}: the prompt decoded to {} bytes",
            prompt.len()
        );
        assert!(
            received.len() >= prompt.len() && received[..prompt.len()] == prompt[..],
            "{name}: sipp did not receive the decoded prompt"
        );
        assert_eq!(campaign.report()[0]["disposition"], "answered");
    }
}

#[test]
fn an_undecodable_prompt_stops_the_campaign_naming_it() {
    let mut spec = CampaignSpec::new(free_port());
    spec.prompt = repo_root().join("media/tests/fixtures/roto.mp3");
    let out = Campaign::write(&spec).run_unchecked(Duration::from_secs(30));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("roto.mp3") && err.contains("not MP3, Ogg Vorbis, FLAC or WAV"),
        "{err}"
    );
}
