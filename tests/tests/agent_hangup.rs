//! The agent ends the conversation: the dialer hangs up the debtor's call
//! too, and the agent's wrap-up starts.

use std::time::Duration;

use dialer_tests::agents::{
    AgentBehaviour, SippAgent, one_agent_sections, transfer_spec, without_colors,
};
use dialer_tests::{Campaign, SimCarrier, json_field, text};

const PLAN: &str = r#"
[[number]]
number = "+525512340007"
ring_s = 0.3
digits = [{ at_s = 1.0, key = "1" }]
hangup_after_s = 40
"#;

#[test]
fn when_the_agent_hangs_up_the_debtor_is_hung_up_and_wrap_up_starts() {
    let mut carrier = SimCarrier::start(PLAN);
    let (mut spec, _flow) = transfer_spec(carrier.port, ("D-7", "55 1234 0007", "Pablo Ríos"));
    spec.sections = one_agent_sections("agent5001", "secret5001", "wrap_up_s = 2\n");
    let campaign = Campaign::write(&spec);
    let agent = SippAgent::start_as(
        campaign.sip_port,
        "agent5001",
        "secret5001",
        AgentBehaviour::AnswerThenHangUp(3_000),
    );
    let out = campaign.run(Duration::from_secs(60));
    let calls = carrier.stop();
    let log = without_colors(&text(&out));
    assert!(out.status.success(), "{log}");
    // The debtor, who would have stayed 40 s, got BYE from the dialer.
    assert_eq!(
        json_field(&calls[0], "hangup_by").as_deref(),
        Some("caller"),
        "{}",
        calls[0]
    );
    let rows = campaign.report();
    let row = &rows[0];
    assert_eq!(row["outcome"], "transferred", "{row:?}");
    assert_eq!(row["hangup_by"], "dialer", "{row:?}");
    assert!(row["note"].contains("agent agent5001 hung up"), "{row:?}");
    let talk: f64 = row["talk_s"].parse().unwrap();
    assert!(
        talk < 20.0,
        "ended with the agent, not the debtor: {talk} s"
    );
    assert!(
        agent.messages().contains("BYE sip:"),
        "{}",
        agent.messages()
    );
    let on_call = log.find("agent=agent5001 state=\"on_call\"").expect(&log);
    let wrap_up = log.find("agent=agent5001 state=\"wrap_up\"").expect(&log);
    let ready = log[wrap_up..]
        .find("agent=agent5001 state=\"ready\"")
        .map(|i| i + wrap_up);
    assert!(on_call < wrap_up, "{log}");
    assert!(
        ready.is_some(),
        "the 2 s wrap-up ran out before the run ended: {log}"
    );
}
