//! Agents kept in the database instead of the configuration file.
//!
//! `dialer agents add` stores an agent (checked like an [[agent]] section);
//! a campaign whose configuration has queues but lists no agents still
//! registers that agent's softphone and bridges a debtor to it. This agent
//! does not log in by registering: the debtor waits until the agent says
//! "ready" from the command line.

use std::time::Duration;

use dialer_tests::agents::{SippAgent, transfer_spec};
use dialer_tests::{Campaign, SimCarrier, dialer, text};

const PLAN: &str = r#"
[[number]]
number = "+525512340005"
ring_s = 0.3
digits = [{ at_s = 1.0, key = "1" }]
hangup_after_s = 16
"#;

#[test]
fn an_agent_added_to_the_database_registers_and_takes_a_call() {
    let mut carrier = SimCarrier::start(PLAN);
    let (mut spec, _flow) = transfer_spec(carrier.port, ("D-5", "55 1234 0005", "Elena Cruz"));
    let api_port = dialer_tests::free_port();
    spec.sections = format!(
        "[api]\nbind = \"127.0.0.1:{api_port}\"\n\n[registrar]\nmin_expires_s = 30\n\n\
         [[queue]]\nname = \"cobranza\"\nskills = [\"cobranza\"]\nwrap_up_s = 1\n"
    );
    let campaign = Campaign::write(&spec);
    let here = campaign.dir.path();
    let agents = |args: &[&str]| {
        let mut all = vec!["agents"];
        all.extend_from_slice(args);
        dialer(here, &all, Duration::from_secs(20))
    };

    // Mistakes are refused with the field named; nothing is stored.
    let bad = agents(&[
        "add",
        "--db",
        "dialer.db",
        "--login",
        "agent3001",
        "--password",
        "corta",
    ]);
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("--password") && text(&bad).contains("8 characters"),
        "{}",
        text(&bad)
    );
    let bad = agents(&[
        "add",
        "--db",
        "dialer.db",
        "--login",
        "agent3001",
        "--password",
        "secret3001",
        "--skill",
        "cobranza:11",
    ]);
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("--skills") && text(&bad).contains("cobranza:11"),
        "{}",
        text(&bad)
    );

    let added = agents(&[
        "add",
        "--db",
        "dialer.db",
        "--login",
        "Agent3001",
        "--name",
        "Carmen Ruiz",
        "--password",
        "secret3001",
        "--skill",
        "cobranza:6",
        "--no-login-on-register",
    ]);
    assert!(added.status.success(), "{}", text(&added));
    let list = agents(&["list", "--db", "dialer.db"]);
    let listed = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(
        listed.contains("agent3001\tCarmen Ruiz\tcobranza:6\t(logs in by API)"),
        "{listed}"
    );
    assert!(
        listed.contains("1 agents") && !listed.contains("secret3001"),
        "{listed}"
    );

    let agent = SippAgent::start(
        campaign.sip_port,
        "agent3001",
        "secret3001",
        1_000.0,
        5.0,
        60,
    );
    let child = campaign.spawn();
    // Registered, but not logged in: the debtor waits.
    std::thread::sleep(Duration::from_secs(6));
    assert!(
        !agent.messages().contains("INVITE sip:"),
        "rung before logging in"
    );
    let api = format!("http://127.0.0.1:{api_port}");
    let ready = dialer(
        here,
        &[
            "agent",
            "--api",
            &api,
            "--login",
            "agent3001",
            "--password",
            "secret3001",
            "ready",
        ],
        Duration::from_secs(20),
    );
    assert!(ready.status.success(), "{}", text(&ready));
    let out = dialer_tests::wait_with_timeout(child, Duration::from_secs(60));
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
    assert_eq!(rows[0]["agent"], "agent3001", "{:?}", rows[0]);

    let removed = agents(&["remove", "--db", "dialer.db", "--login", "agent3001"]);
    assert!(removed.status.success(), "{}", text(&removed));
    let again = agents(&["remove", "--db", "dialer.db", "--login", "agent3001"]);
    assert!(
        !again.status.success() && text(&again).contains("no agent 'agent3001'"),
        "{}",
        text(&again)
    );
    let list = agents(&["list", "--db", "dialer.db"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("0 agents"));
}
