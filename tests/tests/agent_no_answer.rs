//! Agents who do not take a call are paused and the next agent is tried.
//!
//! Three agents register with sipp softphones. The best one for the queue
//! (level 9) lets the call ring out, the next (level 7) declines with 486,
//! the third (level 5) answers. The debtor keeps their place throughout and
//! talks to the third; the first two end up paused with the reason.

use std::time::Duration;

use dialer_tests::agents::{AgentBehaviour, SippAgent, transfer_spec, without_colors};
use dialer_tests::{Campaign, SimCarrier, dialer, text};

const PLAN: &str = r#"
[[number]]
number = "+525512340004"
ring_s = 0.3
digits = [{ at_s = 6.0, key = "1" }]
hangup_after_s = 19
"#;

#[test]
fn a_ringing_out_and_a_declining_agent_are_paused_and_the_third_takes_the_call() {
    let mut carrier = SimCarrier::start(PLAN);
    let (mut spec, _flow) = transfer_spec(carrier.port, ("D-4", "55 1234 0004", "Raúl Ibarra"));
    spec.sections = r#"
[registrar]
min_expires_s = 30

[[agent]]
login = "lenta"
password = "secret-lenta"
skills = ["cobranza:9"]

[[agent]]
login = "ocupado"
password = "secret-ocupado"
skills = ["cobranza:7"]

[[agent]]
login = "atiende"
password = "secret-atiende"
skills = ["cobranza:5"]

[[queue]]
name = "cobranza"
skills = ["cobranza"]
wrap_up_s = 1
max_wait_s = 40
agent_ring_timeout_s = 2
"#
    .into();
    let campaign = Campaign::write(&spec);
    let _slow = SippAgent::start_as(
        campaign.sip_port,
        "lenta",
        "secret-lenta",
        AgentBehaviour::RingForever,
    );
    let _busy = SippAgent::start_as(
        campaign.sip_port,
        "ocupado",
        "secret-ocupado",
        AgentBehaviour::Decline,
    );
    let taker = SippAgent::start(
        campaign.sip_port,
        "atiende",
        "secret-atiende",
        1_000.0,
        5.0,
        60,
    );
    // All three registered before the debtor asks for an agent: sipp
    // sends REGISTER again 0.5, 1.5, 3.5 and 7.5 s after it starts, and
    // the dialer listens once its run has started (the key press, 6 s
    // after the answer, leaves a loaded machine seconds for that; at 1 s
    // a loaded test run once found only the third one registered).
    std::thread::sleep(Duration::from_millis(800));
    let out = campaign.run(Duration::from_secs(60));
    carrier.stop();
    let log = without_colors(&text(&out));
    assert!(out.status.success(), "{log}");

    let rows = campaign.report();
    assert_eq!(rows[0]["outcome"], "transferred", "{:?}\n{log}", rows[0]);
    assert_eq!(rows[0]["agent"], "atiende", "{:?}", rows[0]);
    assert!(
        rows[0]["note"].contains("agent lenta did not answer in 2 s"),
        "{:?}",
        rows[0]
    );
    assert!(
        rows[0]["note"].contains("agent ocupado answered 486"),
        "{:?}",
        rows[0]
    );
    let order: Vec<usize> = ["agent=lenta", "agent=ocupado", "agent=atiende"]
        .iter()
        .map(|a| {
            log.find(&format!("ringing agent {a}"))
                .unwrap_or_else(|| panic!("{a} was not rung\n{log}"))
        })
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "best level first: {log}"
    );
    assert!(
        log.contains("agent=lenta state=\"paused\" reason=\"no_answer\""),
        "{log}"
    );
    assert!(
        log.contains("agent=ocupado state=\"paused\" reason=\"rejected\""),
        "{log}"
    );
    assert!(
        taker.messages().contains("X-Contact-Id: D-4"),
        "{}",
        taker.messages()
    );

    let agents = dialer(
        campaign.dir.path(),
        &["report", "--db", "dialer.db", "--agents", "--format", "csv"],
        Duration::from_secs(20),
    );
    let agents = String::from_utf8_lossy(&agents.stdout).to_string();
    for (agent, calls, missed) in [("lenta", 0, 1), ("ocupado", 0, 1), ("atiende", 1, 0)] {
        assert!(
            agents
                .lines()
                .any(|l| l.starts_with(&format!("{agent},{calls},{missed},"))),
            "{agent}: {calls} calls, {missed} missed\n{agents}"
        );
    }
}
