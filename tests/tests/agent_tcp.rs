//! An agent's softphone that registers over TCP gets its calls over that
//! same connection (it may not listen for new ones: behind NAT it cannot).

use std::time::Duration;

use dialer_tests::agents::{AgentBehaviour, SippAgent, one_agent_sections, transfer_spec};
use dialer_tests::{Campaign, SimCarrier, text};

const PLAN: &str = r#"
[[number]]
number = "+525512340006"
ring_s = 0.3
digits = [{ at_s = 1.0, key = "1" }]
hangup_after_s = 9
"#;

#[test]
fn a_softphone_registered_over_tcp_is_called_over_tcp() {
    let mut carrier = SimCarrier::start(PLAN);
    let (mut spec, _flow) = transfer_spec(carrier.port, ("D-6", "55 1234 0006", "Tomás Vega"));
    spec.sections = one_agent_sections("agent4001", "secret4001", "wrap_up_s = 1\n");
    let campaign = Campaign::write(&spec);
    let child = campaign.spawn();
    // The TCP listener must be up before sipp connects (a loaded machine
    // can take seconds to open the database first).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", campaign.sip_port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the dialer never listened on TCP port {}",
            campaign.sip_port
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let agent = SippAgent::start_as(
        campaign.sip_port,
        "agent4001",
        "secret4001",
        AgentBehaviour::AnswerOverTcp,
    );
    let out = dialer_tests::wait_with_timeout(child, Duration::from_secs(60));
    carrier.stop();
    assert!(out.status.success(), "{}", text(&out));
    let rows = campaign.report();
    assert_eq!(
        rows[0]["outcome"],
        "transferred",
        "{:?}\n{}\n{}",
        rows[0],
        text(&out),
        agent.messages()
    );
    let messages = agent.messages();
    assert!(messages.contains("TCP message received"), "{messages}");
    let invite = messages.split("INVITE sip:").nth(1).expect("an INVITE");
    assert!(invite.contains("SIP/2.0/TCP"), "{invite}");
}
