//! A campaign that runs again paces from its first call: the pacer learns
//! from the store what the campaign's earlier calls showed (how they rang,
//! how long the agents talked, how long debtors waited) instead of
//! dialing progressively for 100 calls while it learns. The first run
//! dials progressively (it abandons nobody, so the legal window has room);
//! the next, predictive, with new debtors of the same campaign, places
//! more calls than there are agents among its first calls.

use std::collections::BTreeMap;
use std::time::Duration;

use dialer_tests::agents::Baresip;
use dialer_tests::pacing::{contacts_csv, most_at_once, plan, two_agent_campaign};
use dialer_tests::{Campaign, SimCarrier, text};

/// 37 of the first 120 answer: room in the window for an abandon.
const FIRST: usize = 120;
const NEXT: usize = 60;

fn run_with_agents(campaign: &Campaign) -> String {
    let agents = [
        Baresip::start(campaign.sip_port, "agent3001", "secret3001", "PCMU", 800.0),
        Baresip::start(campaign.sip_port, "agent3002", "secret3002", "PCMU", 900.0),
    ];
    std::thread::sleep(Duration::from_millis(500));
    let out = campaign.run(Duration::from_secs(180));
    drop(agents);
    text(&out)
}

#[test]
fn a_campaign_that_runs_again_paces_from_its_first_call() {
    let carrier = SimCarrier::start(&plan(0..FIRST + NEXT));
    let dir = tempfile::tempdir().unwrap();
    let spec = two_agent_campaign(carrier.port, dir.path(), 0..FIRST, "progressive");
    let campaign = Campaign::write(&spec);
    let first = run_with_agents(&campaign);
    assert!(
        first.contains("37 answered debtors reached the queue, 37 connected"),
        "{first}"
    );

    // The next run: predictive, with new debtors.
    std::fs::write(
        campaign.dir.path().join("contacts.csv"),
        contacts_csv(FIRST..FIRST + NEXT),
    )
    .unwrap();
    let config = std::fs::read_to_string(&campaign.config).unwrap();
    std::fs::write(
        &campaign.config,
        config.replace("mode = \"progressive\"", "mode = \"predictive\""),
    )
    .unwrap();
    let next = run_with_agents(&campaign);
    assert!(
        next.contains(&format!(
            "learned from earlier runs: {FIRST} calls, 37 agent calls"
        )),
        "{next}"
    );
    let mut rows: Vec<BTreeMap<String, String>> = campaign
        .report()
        .into_iter()
        .filter(|r| r["contact_id"].as_str() >= "P-120")
        .collect();
    assert_eq!(rows.len(), NEXT, "{next}");
    rows.sort_by(|a, b| a["started_at"].cmp(&b["started_at"]));
    let rows: Vec<&BTreeMap<String, String>> = rows.iter().collect();
    let early = most_at_once(&rows[..30]);
    println!("the next run: up to {early} calls at once among its first 30");
    assert!(
        early > 2,
        "the next run dialed progressively while learning again:\n{next}"
    );
}
