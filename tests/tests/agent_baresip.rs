//! A debtor presses 1 and talks to an agent on baresip, a real softphone.
//!
//! baresip registers with digest authentication and auto-answers, taking
//! only PCMA, or only G.722, while the debtor's call is PCMU, so the bridge
//! transcodes. It "talks" a 1 kHz tone and records what it hears; the
//! simulated carrier "talks" 400 Hz as the debtor and records too. Each must
//! hear the other.

use std::time::{Duration, Instant};

use dialer_tests::agents::{Baresip, tone_windows, transfer_spec, wav_samples, without_colors};
use dialer_tests::{Campaign, SimCarrier, json_field, text};

const PLAN: &str = r#"
[[number]]
number = "+525512340002"
ring_s = 0.3
digits = [{ at_s = 1.5, key = "1" }]
tone_hz = 400
tone_at_s = 4.0
tone_s = 12
hangup_after_s = 15
"#;

#[test]
fn a_transferred_debtor_and_a_baresip_agent_hear_each_other_across_codecs() {
    talk_with_baresip("PCMA", "PCMA");
}

/// G.722 against another implementation than ours: baresip's decodes what
/// our encoder sends the agent, ours decodes what baresip's sends.
#[test]
fn a_baresip_agent_on_g722_and_the_debtor_hear_each_other() {
    // baresip names G.722 by its audio rate; SDP by its RTP clock (8000).
    talk_with_baresip("G722/16000/1", "G722");
}

/// `baresip_codec` is the one codec baresip takes; `codec` is its SDP name.
fn talk_with_baresip(baresip_codec: &str, codec: &str) {
    let mut carrier = SimCarrier::start(PLAN);
    let (mut spec, _flow) = transfer_spec(carrier.port, ("D-2", "55 1234 0002", "Jorge Ruiz"));
    spec.name = "asesores-baresip".into();
    spec.sections = r#"
[registrar]
min_expires_s = 30

[[agent]]
login = "agent2001"
name = "Beatriz Soto"
password = "secret2001"
skills = ["cobranza:5"]

[[queue]]
name = "cobranza"
skills = ["cobranza"]
wrap_up_s = 1
max_wait_s = 40
"#
    .into();
    let campaign = Campaign::write(&spec);
    // baresip registers first; the dialer is started once it is up.
    let agent = Baresip::start(
        campaign.sip_port,
        "agent2001",
        "secret2001",
        baresip_codec,
        1_000.0,
    );
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let out = campaign.run(Duration::from_secs(60));
    assert!(out.status.success(), "{}\n{}", text(&out), agent.log());
    let calls = carrier.stop();

    let rows = campaign.report();
    let row = &rows[0];
    assert_eq!(
        row["outcome"],
        "transferred",
        "{row:?}\n{}\n{}",
        agent.log(),
        text(&out)
    );
    assert_eq!(row["agent"], "agent2001", "{row:?}");

    // baresip closes its recordings when the call ends.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut received = agent.received();
    while received.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        received = agent.received();
    }
    assert_eq!(
        received.len(),
        1,
        "one call recorded by baresip: {}",
        agent.log()
    );
    let debtor_tone = tone_windows(&received[0], 400.0, 800);
    assert!(
        debtor_tone >= 30,
        "baresip heard the debtor's tone in {debtor_tone} windows of 0.1 s ({:.1} s recorded, {:?} after start)",
        received[0].len() as f64 / 8_000.0,
        started.elapsed()
    );
    let recording = json_field(&calls[0], "recording").expect("the carrier recorded the call");
    let debtor_heard = wav_samples(std::path::Path::new(&recording));
    let agent_tone = tone_windows(&debtor_heard, 1_000.0, 800);
    assert!(
        agent_tone >= 30,
        "the debtor heard baresip's tone in {agent_tone} windows of 0.1 s"
    );
    let log = without_colors(&text(&out));
    assert!(
        log.contains(&format!("codec=\"{codec}\" debtor_codec=\"PCMU\"")),
        "the legs used different codecs: {log}"
    );
}
