//! A debtor presses 1 and talks to an agent whose softphone is sipp.
//!
//! sipp registers as agent `agent1001` with digest authentication, then
//! auto-answers the dialer's INVITE and "talks" (a 1 kHz tone). The debtor
//! is the simulated carrier: it answers, presses 1 during the menu, then
//! "talks" too (a 400 Hz tone). The dialer must ring sipp with the
//! debtor's data in headers, bridge the two calls, and carry each side's
//! tone to the other; the report shows the transfer, the queue and the
//! agent's states.

use std::time::Duration;

use dialer_tests::agents::{
    SippAgent, pcmu_audio, stereo_wav, tone_windows, transfer_spec, wav_samples,
};
use dialer_tests::capture::Capture;
use dialer_tests::{Campaign, SimCarrier, dialer, json_field, text};

const PLAN: &str = r#"
[[number]]
number = "+525512340001"
ring_s = 0.3
digits = [{ at_s = 1.5, key = "1" }]
tone_hz = 400
tone_at_s = 5.0
tone_s = 12
hangup_after_s = 16
"#;

#[test]
fn a_debtor_who_presses_1_talks_to_a_registered_sipp_agent() {
    let mut carrier = SimCarrier::start(PLAN);
    let (mut spec, _flow) = transfer_spec(carrier.port, ("D-1", "55 1234 0001", "María Pérez"));
    spec.name = "asesores".into();
    spec.campaign_extra.push_str("record = true\n");
    spec.sections = r#"
[registrar]
realm = "dialer.test"
min_expires_s = 30

[[agent]]
login = "agent1001"
name = "Ana López"
password = "secret1001"
skills = ["cobranza:7"]

[[queue]]
name = "cobranza"
skills = ["cobranza"]
wrap_up_s = 1
max_wait_s = 40
agent_ring_timeout_s = 10
"#
    .into();
    let campaign = Campaign::write(&spec);
    let agent = SippAgent::start(
        campaign.sip_port,
        "agent1001",
        "secret1001",
        1_000.0,
        12.0,
        60,
    );
    let heard_by_agent = Capture::start(agent.media_port);

    let out = campaign.run(Duration::from_secs(60));
    assert!(out.status.success(), "{}", text(&out));
    let calls = carrier.stop();
    let datagrams = heard_by_agent.stop();
    let sipp = agent.messages();

    // The registration: challenged, then accepted.
    assert!(sipp.contains("SIP/2.0 401 Unauthorized"), "{sipp}");
    assert!(sipp.contains("realm=\"dialer.test\""), "{sipp}");
    assert!(sipp.contains("SIP/2.0 200 OK"), "{sipp}");

    // The INVITE to the agent carries the debtor's number, name and data.
    let invite = sipp
        .split("INVITE sip:")
        .nth(1)
        .unwrap_or_else(|| panic!("the agent got no INVITE: {sipp}"));
    assert!(invite.contains("+525512340001"), "{invite}");
    assert!(invite.contains("X-Contact-Id: D-1"), "{invite}");
    assert!(invite.contains("X-Debtor-Name: María Pérez"), "{invite}");
    assert!(invite.contains("X-Debtor-Balance: 1234.50"), "{invite}");
    assert!(invite.contains("X-Debtor-Due-Date: 2026-12-15"), "{invite}");

    // The report: answered, transferred, taken by the agent.
    let rows = campaign.report();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["disposition"], "answered", "{row:?}");
    assert_eq!(row["outcome"], "transferred", "{row:?}");
    assert_eq!(row["queue"], "cobranza", "{row:?}");
    assert_eq!(row["agent"], "agent1001", "{row:?}");
    assert_eq!(row["digits"], "1", "{row:?}");

    // Audio both ways. The agent's 1 kHz tone reached the debtor...
    let recording = json_field(&calls[0], "recording").expect("the carrier recorded the call");
    let debtor_heard = wav_samples(std::path::Path::new(&recording));
    let agent_tone = tone_windows(&debtor_heard, 1_000.0, 800);
    assert!(
        agent_tone >= 30,
        "the debtor heard the agent's tone in {agent_tone} windows of 0.1 s"
    );
    // ...and the debtor's 400 Hz tone reached the agent (transcoded if needed).
    let agent_heard = pcmu_audio(&datagrams);
    let debtor_tone = tone_windows(&agent_heard, 400.0, 800);
    assert!(
        debtor_tone >= 30,
        "the agent heard the debtor's tone in {debtor_tone} windows of 0.1 s ({} packets)",
        datagrams.len()
    );

    // The call recording has the whole conversation: the debtor on the
    // left, the agent (what the debtor heard once bridged) on the right.
    let (left, right) = stereo_wav(std::path::Path::new(&row["recording"]));
    let debtor_left = tone_windows(&left, 400.0, 800);
    let agent_right = tone_windows(&right, 1_000.0, 800);
    assert!(
        debtor_left >= 30 && agent_right >= 30,
        "recording {}: debtor in {debtor_left}, agent in {agent_right} windows of 0.1 s",
        row["recording"]
    );
    assert_eq!(
        tone_windows(&left, 1_000.0, 800),
        0,
        "the agent is not on the debtor's side"
    );

    // Queue and agent figures.
    let queues = dialer(
        campaign.dir.path(),
        &["report", "--db", "dialer.db", "--queues", "--format", "csv"],
        Duration::from_secs(20),
    );
    let queues = String::from_utf8_lossy(&queues.stdout).to_string();
    assert!(queues.contains("cobranza,1,1,0,0,"), "{queues}");
    // Speed of answer: the transfer's announcement plays while sipp rings
    // its 1 s, so the agent answers about a second after the debtor queued.
    let line = queues.lines().find(|l| l.starts_with("cobranza,")).unwrap();
    let field = |i: usize| line.split(',').nth(i).unwrap().parse::<f64>().unwrap();
    let (asa, talk) = (field(5), field(7));
    assert!(
        (0.9..4.0).contains(&asa),
        "average speed of answer {asa} s\n{queues}"
    );
    assert!(
        (5.0..16.0).contains(&talk),
        "average talk {talk} s\n{queues}"
    );
    // The debtor hung up: the dialer hung up the agent's leg too.
    let after_answer = &sipp[sipp.rfind("INVITE sip:").unwrap()..];
    assert!(after_answer.contains("BYE sip:"), "sipp got BYE: {sipp}");
    let agents = dialer(
        campaign.dir.path(),
        &["report", "--db", "dialer.db", "--agents", "--format", "csv"],
        Duration::from_secs(20),
    );
    let agents = String::from_utf8_lossy(&agents.stdout).to_string();
    assert!(agents.contains("agent1001,1,0,"), "{agents}");
}
