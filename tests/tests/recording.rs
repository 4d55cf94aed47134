//! `record = true`: every answered call becomes a two-channel WAV, left
//! what the debtor said, right what the debtor heard, on one timeline; its
//! path is in the attempt record. A recording that cannot be written never
//! costs the call or its record.

use std::path::Path;
use std::time::Duration;

use dialer_tests::agents::{stereo_wav, tone_windows};
use dialer_tests::{Campaign, CampaignSpec, SimCarrier, prompt_pcmu, text};

/// The debtor "talks" (400 Hz) from half a second after answering, for 2 s.
const PLAN: &str = "[default]\nring_s = 0.2\ntone_hz = 400\ntone_at_s = 0.5\ntone_s = 2\n";

#[test]
fn an_answered_call_is_recorded_in_two_channels() {
    let mut carrier = SimCarrier::start(PLAN);
    let mut spec = CampaignSpec::new(carrier.port);
    spec.name = "recordatorio diciembre".into();
    spec.campaign_extra = "record = true\n".into();
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    carrier.stop();
    assert!(out.status.success(), "{}", text(&out));
    let rows = campaign.report();
    let row = &rows[0];
    assert_eq!(row["disposition"], "answered", "{row:?}");
    let expected = campaign
        .dir
        .path()
        .join("recordings/recordatorio_diciembre")
        .join(format!("{}.wav", row["attempt_id"]));
    assert_eq!(Path::new(&row["recording"]), expected, "{row:?}");

    let (debtor, heard) = stereo_wav(&expected);
    // Right: exactly the prompt, from the first sample (the opening leaves
    // in the first packet, and the recording starts with it).
    let mut prompt = Vec::new();
    media::Codec::Pcmu.decode(&prompt_pcmu(&spec.prompt), &mut prompt);
    assert!(
        heard.len() > prompt.len(),
        "the recording outlasts the prompt"
    );
    assert!(
        heard[..prompt.len()] == prompt[..],
        "the right channel is the prompt as sent"
    );
    assert!(
        heard[prompt.len()..].iter().all(|&s| s.abs() < 64),
        "silence after the prompt"
    );
    // Left: the debtor's tone, where it was said (0.5 s in, for 2 s).
    let windows = tone_windows(&debtor, 400.0, 800);
    assert!(
        (16..=21).contains(&windows),
        "the debtor's 2 s tone in {windows} windows of 0.1 s"
    );
    let first_loud = debtor.iter().position(|s| s.abs() > 2_000).unwrap();
    let at = first_loud as f64 / 8_000.0;
    assert!(
        (0.35..0.9).contains(&at),
        "the debtor starts talking {at} s in"
    );
    assert_eq!(
        tone_windows(&heard, 400.0, 800),
        0,
        "the debtor's voice is not on the dialer's channel"
    );
    // As long as the call was answered.
    let talk: f64 = row["talk_s"].parse().unwrap();
    let seconds = debtor.len() as f64 / 8_000.0;
    assert!(
        (seconds - talk).abs() < 0.8,
        "{seconds:.2} s recorded of a {talk} s call"
    );
}

#[test]
fn a_recording_that_cannot_be_written_does_not_cost_the_call() {
    let mut carrier = SimCarrier::start("[default]\nring_s = 0.2\n");
    let mut spec = CampaignSpec::new(carrier.port);
    spec.campaign_extra = "record = true\nrecordings = \"bloqueado\"\n".into();
    let campaign = Campaign::write(&spec);
    // A file where the recordings folder should be.
    std::fs::write(campaign.dir.path().join("bloqueado"), "no soy una carpeta").unwrap();
    let out = campaign.run(Duration::from_secs(60));
    carrier.stop();
    assert!(out.status.success(), "{}", text(&out));
    let rows = campaign.report();
    let row = &rows[0];
    assert_eq!(row["disposition"], "answered", "{row:?}");
    assert_eq!(row["recording"], "", "{row:?}");
    assert!(
        row["note"].contains("recording") && row["note"].contains("not written"),
        "the note says why: {row:?}"
    );
}
