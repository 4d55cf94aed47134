//! The debtor's segment sets their priority in the queue: a mora tardía
//! debtor who asked later is served before a mora temprana one.

use std::time::Duration;

use dialer_tests::agents::{SippAgent, transfer_spec};
use dialer_tests::{SimCarrier, text, wait_with_timeout};

const PLAN: &str = r#"
[[number]]
number = "+525512340021"
ring_s = 0.2
digits = [{ at_s = 0.5, key = "1" }]
hangup_after_s = 16

[[number]]
number = "+525512340022"
ring_s = 0.2
digits = [{ at_s = 1.5, key = "1" }]
hangup_after_s = 10
"#;

#[test]
fn a_higher_priority_segment_waits_less() {
    let mut carrier = SimCarrier::start(PLAN);
    let (mut spec, _flow) = transfer_spec(carrier.port, ("", "", ""));
    spec.contacts_csv = Some(
        "id,phone,name,balance,due_date,segmento\n\
         P-A,55 1234 0021,Temprana,500.00,2026-12-15,mora_temprana\n\
         P-B,55 1234 0022,Tardia,9000.00,2026-06-15,mora_tardia\n"
            .as_bytes()
            .to_vec(),
    );
    spec.sections = r#"
[registrar]
min_expires_s = 30

[[agent]]
login = "agent6001"
password = "secret6001"
skills = ["cobranza"]

[[queue]]
name = "cobranza"
skills = ["cobranza"]
wrap_up_s = 0
max_wait_s = 60
priority_by = "segmento"
priority = { mora_tardia = 10, mora_intermedia = 5 }
"#
    .into();
    let campaign = dialer_tests::Campaign::write(&spec);
    let child = campaign.spawn();
    // Both debtors are waiting by the time the agent's softphone registers.
    std::thread::sleep(Duration::from_millis(4_500));
    let agent = SippAgent::start(
        campaign.sip_port,
        "agent6001",
        "secret6001",
        1_000.0,
        30.0,
        90,
    );
    let out = wait_with_timeout(child, Duration::from_secs(90));
    carrier.stop();
    assert!(out.status.success(), "{}", text(&out));
    let sipp = agent.messages();
    let invites: Vec<&str> = sipp
        .split("INVITE sip:")
        .skip(1)
        .filter_map(|m| m.split("X-Contact-Id: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .collect();
    assert_eq!(
        invites.first(),
        Some(&"P-B"),
        "mora tardía first: {invites:?}"
    );
    assert!(invites.contains(&"P-A"), "then the other: {invites:?}");
    let rows = campaign.report();
    for row in &rows {
        assert_eq!(row["outcome"], "transferred", "{row:?}");
    }
}
