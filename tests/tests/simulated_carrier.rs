//! `dialer carrier` is a real SIP/RTP peer: it challenges for digest
//! credentials, answers, presses keys, hangs up, refuses, and records the
//! audio it hears. A campaign against it ends up exactly as planned.

use std::time::Duration;

use dialer_tests::{Campaign, CampaignSpec, SimCarrier, json_field, prompt_pcmu, text};

const PLAN: &str = r##"
[auth]
username = "cobranza"
password = "clave-secreta"

[[number]]
number = "+525512340001"
ring_s = 0.3
digits = [{ at_s = 1.0, key = "5" }, { at_s = 2.0, key = "#" }]
hangup_after_s = 4.0

[[number]]
number = "+525512340002"
action = "busy"
ring_s = 0.2

[[number]]
number = "+525512340003"
action = "reject"
code = 404
ring_s = 0
"##;

#[test]
fn campaign_against_the_simulated_carrier_goes_as_planned() {
    let mut carrier = SimCarrier::start(PLAN);
    let mut spec = CampaignSpec::new(carrier.port);
    spec.credentials = Some(("cobranza", "clave-secreta"));
    spec.contacts = vec![
        ("A".into(), "55 1234 0001".into(), "Ana".into()),
        ("B".into(), "55 1234 0002".into(), "Beto".into()),
        ("C".into(), "55 1234 0003".into(), "Carla".into()),
    ];
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    let record_dir = carrier.record_dir.clone();
    let log = carrier.stop();

    let rows = campaign.report();
    let by_id = |id: &str| {
        rows.iter()
            .find(|r| r["contact_id"] == id)
            .unwrap_or_else(|| panic!("{id}: {}", text(&out)))
    };
    assert_eq!(by_id("A")["disposition"], "answered");
    assert_eq!(by_id("A")["digits"], "5#");
    assert_eq!(by_id("A")["hangup_by"], "callee");
    assert_eq!(by_id("B")["disposition"], "busy");
    assert_eq!(by_id("C")["disposition"], "invalid_number");

    assert_eq!(log.len(), 3, "{log:?}");
    let answered = log
        .iter()
        .find(|l| l.contains("\"outcome\":\"answered\""))
        .expect("an answered call");
    assert_eq!(
        json_field(answered, "authenticated").as_deref(),
        Some("true"),
        "{answered}"
    );
    assert_eq!(json_field(answered, "digits_sent").as_deref(), Some("5#"));
    let pai = json_field(answered, "p_asserted_identity").unwrap();
    assert!(
        pai.contains("sip:+525599990000@"),
        "caller ID in P-Asserted-Identity: {pai}"
    );
    let from = json_field(answered, "from").unwrap();
    assert!(
        from.contains("Cobranza Pruebas") && from.contains("+525599990000"),
        "From: {from}"
    );

    // The recording is what the dialer played: the prompt, sample for sample.
    let wav = json_field(answered, "recording").expect("a recording");
    assert!(wav.starts_with(record_dir.to_str().unwrap()));
    let heard: Vec<i16> = hound::WavReader::open(&wav)
        .unwrap()
        .into_samples()
        .map(Result::unwrap)
        .collect();
    let seconds = heard.len() as f64 / 8000.0;
    assert!(
        (3.5..4.6).contains(&seconds),
        "recorded {seconds} s of a 4 s call"
    );
    let mut expected = Vec::new();
    media::Codec::Pcmu.decode(&prompt_pcmu(&spec.prompt), &mut expected);
    let compared = heard.len().min(expected.len()) - 400;
    assert!(
        heard[..compared] == expected[..compared],
        "the carrier heard something else than the prompt"
    );
}

#[test]
fn proxy_challenge_407_is_answered_with_proxy_authorization() {
    let mut carrier = SimCarrier::start(
        "[auth]\nusername = \"cobranza\"\npassword = \"clave\"\nchallenge = \"proxy\"\n\n[default]\nring_s = 0.2\nhangup_after_s = 1.0\n",
    );
    let mut spec = CampaignSpec::new(carrier.port);
    spec.credentials = Some(("cobranza", "clave"));
    spec.contacts = vec![
        ("A".into(), "55 1234 0001".into(), "Ana".into()),
        ("B".into(), "55 1234 0002".into(), "Beto".into()),
    ];
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    let log = carrier.stop();
    let rows = campaign.report();
    assert!(
        rows.iter().all(|r| r["disposition"] == "answered"),
        "{rows:?}\n{}",
        text(&out)
    );
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log.iter()
            .all(|l| json_field(l, "authenticated").as_deref() == Some("true")),
        "{log:?}"
    );
}

#[test]
fn wrong_credentials_are_refused_and_recorded_on_both_sides() {
    let mut carrier = SimCarrier::start("[auth]\nusername = \"cobranza\"\npassword = \"clave\"\n");
    let mut spec = CampaignSpec::new(carrier.port);
    spec.credentials = Some(("cobranza", "otra-clave"));
    let campaign = Campaign::write(&spec);
    campaign.run(Duration::from_secs(60));
    let log = carrier.stop();
    let rows = campaign.report();
    assert_eq!(rows[0]["disposition"], "rejected");
    assert_eq!(rows[0]["sip_code"], "403");
    assert_eq!(
        json_field(&log[0], "outcome").as_deref(),
        Some("auth_failed")
    );
    assert_eq!(
        json_field(&log[0], "note").as_deref(),
        Some("wrong digest response")
    );
}
