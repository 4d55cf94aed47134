//! The retry policy against the simulated carrier: a busy debtor and one
//! who does not answer are called again after the configured delay, and
//! picked up the second time; a number busy every time is given up after
//! its cap; an answered debtor is not called again. The dial order puts
//! the most days past due first. A later run of the campaign has nobody
//! left to call. A callback a queue promised is dialed when due, for an
//! agent of the queue reserved first, or through the flow when none is
//! ready in time.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use dialer_tests::agents::SippAgent;
use dialer_tests::{Campaign, CampaignSpec, SimCarrier, text, wait_with_timeout};

const PLAN: &str = r#"
[default]
action = "answer"
ring_s = 0.2
hangup_after_s = 1.0

[[number]]
number = "+525512340001"
action = "busy"
ring_s = 0.2
then = [{ action = "answer", ring_s = 0.2, hangup_after_s = 1.0 }]

[[number]]
number = "+525512340002"
action = "no_answer"
then = [{ action = "answer", ring_s = 0.2, hangup_after_s = 1.0 }]

[[number]]
number = "+525512340003"
action = "busy"
ring_s = 0.2
"#;

#[test]
fn busy_and_unanswered_debtors_are_called_again_within_their_caps() {
    let carrier = SimCarrier::start(PLAN);
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts_csv = Some(
        "id,phone,name,balance,due_date,dias_mora\n\
         D-ocupado,55 1234 0001,Ana Ruiz,100,2026-12-15,10\n\
         D-no-contesta,55 1234 0002,Luis Mora,200,2026-12-15,30\n\
         D-siempre-ocupado,55 1234 0003,Rosa Díaz,300,2026-12-15,5\n\
         D-contesta,55 1234 0004,Juan Pérez,400,2026-12-15,90\n"
            .as_bytes()
            .to_vec(),
    );
    spec.max_channels = 1;
    spec.ring_timeout_s = 2.0;
    spec.campaign_extra = "order_by = \"dias_mora\"\n".into();
    spec.sections = r#"
[retry]
busy = { after_s = 1, max = 1 }
no_answer = { after_s = 1, max = 2 }
within_run_s = 60
"#
    .into();
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows = campaign.report();
    let mut by_contact: BTreeMap<&str, Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for row in &rows {
        by_contact.entry(&row["contact_id"]).or_default().push(row);
    }
    let ended = |id: &str| -> Vec<(String, String)> {
        by_contact
            .get(id)
            .map(|rows| {
                rows.iter()
                    .map(|r| (r["attempt"].clone(), r["disposition"].clone()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let pair = |a: &str, d: &str| (a.to_string(), d.to_string());
    assert_eq!(
        ended("D-ocupado"),
        [pair("1", "busy"), pair("2", "answered")],
        "{}",
        text(&out)
    );
    assert_eq!(
        ended("D-no-contesta"),
        [pair("1", "no_answer"), pair("2", "answered")]
    );
    // Busy twice: one retry allowed after the first, none after the second.
    assert_eq!(
        ended("D-siempre-ocupado"),
        [pair("1", "busy"), pair("2", "busy")]
    );
    assert_eq!(ended("D-contesta"), [pair("1", "answered")]);

    // The first calls go by days past due, highest first.
    let firsts: Vec<&str> = rows
        .iter()
        .filter(|r| r["attempt"] == "1")
        .map(|r| r["contact_id"].as_str())
        .collect();
    assert_eq!(
        firsts,
        [
            "D-contesta",
            "D-no-contesta",
            "D-ocupado",
            "D-siempre-ocupado"
        ]
    );
    // A retry waits its delay after the call it follows.
    let time = |r: &BTreeMap<String, String>, c: &str| -> DateTime<Utc> { r[c].parse().unwrap() };
    for id in ["D-ocupado", "D-no-contesta", "D-siempre-ocupado"] {
        let calls = &by_contact[id];
        let gap = time(calls[1], "started_at") - time(calls[0], "ended_at");
        assert!(gap >= chrono::Duration::milliseconds(990), "{id}: {gap}");
    }
    assert!(
        stdout.contains("retries: 3 calls again in this run (0 were due at its start)"),
        "{stdout}"
    );

    // Nobody is left: answered, or out of retries.
    let again = campaign.run(Duration::from_secs(60));
    assert_eq!(campaign.report().len(), rows.len(), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("(4 already attempted"),
        "{}",
        text(&again)
    );
}

/// A retry due after the run's horizon is left for a later run, which
/// dials it once it is due.
#[test]
fn a_retry_past_the_run_is_left_for_a_later_run() {
    let carrier = SimCarrier::start(PLAN);
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts = vec![("D-1".into(), "55 1234 0001".into(), "Ana Ruiz".into())];
    spec.sections = "[retry]\nbusy = { after_s = 3, max = 1 }\nwithin_run_s = 0\n".into();
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(campaign.report().len(), 1, "{}", text(&out));
    assert!(
        stdout.contains("retries left for a later run: 1 contacts, the soonest from"),
        "{stdout}"
    );
    // Too soon: nothing is due yet.
    let early = campaign.run(Duration::from_secs(60));
    assert_eq!(campaign.report().len(), 1, "{}", text(&early));
    std::thread::sleep(Duration::from_secs(3));
    let due = campaign.run(Duration::from_secs(60));
    let rows = campaign.report();
    assert_eq!(rows.len(), 2, "{}", text(&due));
    assert_eq!(
        (rows[1]["attempt"].as_str(), rows[1]["disposition"].as_str()),
        ("2", "answered")
    );
    assert!(
        String::from_utf8_lossy(&due.stdout)
            .contains("retries: 1 calls again in this run (1 were due at its start)"),
        "{}",
        text(&due)
    );
}

/// A debtor who asked for an agent when none was free was promised a
/// callback; the campaign calls them back when it is due, in the same run.
#[test]
fn a_promised_callback_is_dialed_when_due() {
    let carrier = SimCarrier::start(
        r#"
[[number]]
number = "+525512340021"
ring_s = 0.2
digits = [{ at_s = 0.5, key = "1" }]
hangup_after_s = 12
then = [{ action = "answer", ring_s = 0.2, hangup_after_s = 1.0 }]
"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let flow = dialer_tests::agents::transfer_flow(dir.path(), "cobranza");
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts = vec![("D-cb".into(), "55 1234 0021".into(), "Marta Gil".into())];
    spec.campaign_extra = format!("flow = \"{}\"\nmax_call_s = 60\n", flow.display());
    spec.sections = r#"
[[agent]]
login = "nadie"
password = "nunca-registra"
skills = ["cobranza"]

[[queue]]
name = "cobranza"
skills = ["cobranza"]
max_wait_s = 1
overflow = "callback"
callback_after_s = 2

[retry]
within_run_s = 60
callback_agent_wait_s = 3
"#
    .into();
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(90));
    let rows = campaign.report();
    assert_eq!(rows.len(), 2, "{rows:?}\n{}", text(&out));
    assert_eq!(rows[0]["outcome"], "callback_scheduled", "{:?}", rows[0]);
    assert_eq!(
        (rows[1]["attempt"].as_str(), rows[1]["disposition"].as_str()),
        ("2", "answered"),
        "{:?}",
        rows[1]
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("retries: 1 calls again in this run (0 were due at its start)"),
        "{}",
        text(&out)
    );
    // Nobody of the queue logged in: after waiting for an agent, the
    // callback went through the flow.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "callback D-cb (+525512340021): no agent of queue cobranza was ready within 3 s; dialed through the flow"
        ),
        "{}",
        text(&out)
    );
    assert!(rows[1]["flow_path"].starts_with("menu"), "{:?}", rows[1]);
}

/// A callback due reserves an agent of the queue first: the debtor who
/// answers goes straight to them, past the flow.
#[test]
fn a_callback_goes_to_an_agent_reserved_before_the_call() {
    let carrier = SimCarrier::start(
        r#"
[[number]]
number = "+525512340022"
ring_s = 0.2
digits = [{ at_s = 0.5, key = "1" }]
hangup_after_s = 12
then = [{ action = "answer", ring_s = 0.2, hangup_after_s = 4.0 }]
"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let flow = dialer_tests::agents::transfer_flow(dir.path(), "cobranza");
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts = vec![("D-cb2".into(), "55 1234 0022".into(), "Raúl Ortiz".into())];
    spec.campaign_extra = format!("flow = \"{}\"\nmax_call_s = 60\n", flow.display());
    spec.sections = r#"
[registrar]
min_expires_s = 30

[[agent]]
login = "agent1001"
password = "secret1001"
skills = ["cobranza"]

[[queue]]
name = "cobranza"
skills = ["cobranza"]
max_wait_s = 1
overflow = "callback"
callback_after_s = 5
wrap_up_s = 1

[retry]
within_run_s = 60
"#
    .into();
    let campaign = Campaign::write(&spec);
    let child = campaign.spawn();
    // The agent logs in once the first call was promised a callback (no
    // agent was there to take it).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let db = campaign.dir.path().join("dialer.db");
    // (The run may still be setting the database up: try until it reads.)
    while !dialer_tests::try_report_csv(&db)
        .is_some_and(|rows| rows.iter().any(|r| r["outcome"] == "callback_scheduled"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no callback promised within 30 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let agent = SippAgent::start(
        campaign.sip_port,
        "agent1001",
        "secret1001",
        1_000.0,
        2.0,
        60,
    );
    let out = wait_with_timeout(child, Duration::from_secs(90));
    drop(agent);
    assert!(out.status.success(), "{}", text(&out));
    let rows = campaign.report();
    assert_eq!(rows.len(), 2, "{rows:?}\n{}", text(&out));
    let callback = &rows[1];
    assert_eq!(callback["attempt"], "2", "{callback:?}");
    assert_eq!(callback["outcome"], "transferred", "{callback:?}");
    assert_eq!(callback["agent"], "agent1001", "{callback:?}");
    assert_eq!(callback["flow_path"], "callback", "{callback:?}");
    assert!(
        callback["note"].contains(
            "callback promised by queue cobranza: agent agent1001 reserved before the call"
        ),
        "{callback:?}"
    );
}
