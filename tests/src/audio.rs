//! What a call sounded like: the audio the simulated carrier recorded, the
//! audio the dialer renders for a prompt, and where one occurs in the
//! other. The recording is exactly what the dialer sent, so a prompt found
//! in it sample for sample was played in full, and counting them counts
//! how often it was played.

use std::path::Path;
use std::time::Duration;

use crate::{Campaign, CampaignSpec, dialer, free_port, json_field, text};

/// The audio the simulated carrier recorded on a call (a `calls.jsonl` line).
pub fn heard(call_line: &str) -> Vec<i16> {
    let wav = json_field(call_line, "recording")
        .unwrap_or_else(|| panic!("no recording on this call: {call_line}"));
    media::prompt::Prompt::load(Path::new(&wav))
        .unwrap_or_else(|e| panic!("{wav}: {e}"))
        .samples()
        .to_vec()
}

/// What the dialer plays for a message template (`["tts:...", "say:..."]`)
/// in `language`, rendered by `dialer prompts render` exactly as a call
/// renders a flow's prompt. No call is made.
pub fn rendered(parts: &[&str], language: &str) -> Vec<i16> {
    let mut spec = CampaignSpec::new(free_port());
    let list = parts
        .iter()
        .map(|p| format!("{p:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    spec.campaign_extra = format!("language = \"{language}\"\nmessage = [{list}]\n");
    let campaign = Campaign::write(&spec);
    let out_path = campaign.dir.path().join("rendered.wav");
    let out = dialer(
        campaign.dir.path(),
        &[
            "prompts",
            "render",
            campaign.config.to_str().expect("utf-8 path"),
            "--contact",
            &spec.contacts[0].0,
            "--out",
            out_path.to_str().expect("utf-8 path"),
        ],
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", text(&out));
    media::prompt::Prompt::load(&out_path)
        .expect("the rendered prompt loads")
        .samples()
        .to_vec()
}

/// Where `needle` occurs in `haystack`, sample for sample, without overlaps:
/// how many times a prompt was played on a call.
pub fn occurrences(haystack: &[i16], needle: &[i16]) -> Vec<usize> {
    // Compared first: the needle's first sound, so silence is skipped fast.
    let loud = needle
        .iter()
        .position(|s| s.abs() >= 16)
        .expect("a silent needle would match anywhere");
    let mut found = Vec::new();
    let mut at = 0;
    while at + needle.len() <= haystack.len() {
        if haystack[at + loud] == needle[loud] && haystack[at..at + needle.len()] == *needle {
            found.push(at);
            at += needle.len();
        } else {
            at += 1;
        }
    }
    found
}
