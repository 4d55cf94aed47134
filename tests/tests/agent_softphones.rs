//! An agent with two softphones registered (a desk phone and a laptop, say)
//! gets every call on both at once: the one that answers takes the call
//! and the other stops ringing (CANCEL). Here the newest registration
//! never answers; the older one does.

use std::time::Duration;

use dialer_tests::agents::{AgentBehaviour, SippAgent, one_agent_sections, transfer_spec};
use dialer_tests::{Campaign, SimCarrier, text, wait_with_timeout};

const PLAN: &str = r#"
[[number]]
number = "+525512340008"
ring_s = 0.3
digits = [{ at_s = 2.0, key = "1" }]
hangup_after_s = 10
"#;

#[test]
fn both_softphones_ring_and_the_one_that_answers_takes_the_call() {
    let mut carrier = SimCarrier::start(PLAN);
    let (mut spec, _flow) = transfer_spec(carrier.port, ("D-8", "55 1234 0008", "Inés Lara"));
    spec.sections = one_agent_sections(
        "agent7001",
        "secret7001",
        "wrap_up_s = 0\nagent_ring_timeout_s = 8\n",
    );
    let campaign = Campaign::write(&spec);
    let child = campaign.spawn();
    std::thread::sleep(Duration::from_millis(300));
    let answers = SippAgent::start(
        campaign.sip_port,
        "agent7001",
        "secret7001",
        1_000.0,
        5.0,
        60,
    );
    std::thread::sleep(Duration::from_millis(700));
    let rings = SippAgent::start_as(
        campaign.sip_port,
        "agent7001",
        "secret7001",
        AgentBehaviour::RingForever,
    );
    let out = wait_with_timeout(child, Duration::from_secs(60));
    carrier.stop();
    assert!(out.status.success(), "{}", text(&out));
    let rows = campaign.report();
    assert_eq!(
        rows[0]["outcome"],
        "transferred",
        "{:?}\n{}",
        rows[0],
        text(&out)
    );
    assert_eq!(rows[0]["agent"], "agent7001");
    let ringing = rings.messages();
    assert!(
        ringing.contains("INVITE sip:"),
        "the newest softphone rang: {ringing}"
    );
    assert!(
        ringing.contains("CANCEL sip:"),
        "and stopped when the other answered: {ringing}"
    );
    assert!(
        answers.messages().contains("X-Contact-Id: D-8"),
        "{}",
        answers.messages()
    );
}
