//! Predictive dialing in a live campaign, against the simulated carrier
//! and two baresip agents: about 3 debtors in 10 answer. The pacer dials
//! progressively while it learns (its first 100 calls), then places more
//! calls than there are free agents, betting on who will answer; every
//! debtor who answered either reached an agent or heard the safe-harbor
//! message.
//!
//! Each debtor hangs up 1.5 s after answering, waiting or not: sooner than
//! the 2 s grace time. The first who hangs up waiting is abandoned before
//! the pacer knows; from then on it counts on debtors waiting 1.5 s, not
//! 2 s (counting on 2 s, three of the 48 were abandoned).

use std::collections::BTreeMap;
use std::time::Duration;

use dialer_tests::agents::Baresip;
use dialer_tests::pacing::{answers, most_at_once, plan, two_agent_campaign};
use dialer_tests::{Campaign, SimCarrier, text};

const CONTACTS: usize = 160;

#[test]
fn the_predictive_pacer_learns_then_dials_ahead_of_the_agents() {
    let carrier = SimCarrier::start(&plan(0..CONTACTS));
    let dir = tempfile::tempdir().unwrap();
    let spec = two_agent_campaign(carrier.port, dir.path(), 0..CONTACTS, "predictive");
    let campaign = Campaign::write(&spec);
    let agents = [
        Baresip::start(campaign.sip_port, "agent3001", "secret3001", "PCMU", 800.0),
        Baresip::start(campaign.sip_port, "agent3002", "secret3002", "PCMU", 900.0),
    ];
    std::thread::sleep(Duration::from_millis(500));
    let out = campaign.run(Duration::from_secs(240));
    drop(agents);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut rows = campaign.report();
    assert_eq!(rows.len(), CONTACTS, "{}", text(&out));
    rows.sort_by(|a, b| a["started_at"].cmp(&b["started_at"]));
    let all: Vec<&BTreeMap<String, String>> = rows.iter().collect();
    // While it learns, no more calls than agents; once it has, more.
    assert!(
        most_at_once(&all[..60]) <= 2,
        "warm-up overdialed:\n{}",
        text(&out)
    );
    assert!(
        most_at_once(&all[110..]) > 2,
        "the predictive pacer never dialed ahead of the agents:\n{stdout}"
    );
    for row in &rows {
        if row["disposition"] == "answered" {
            assert!(
                matches!(row["outcome"].as_str(), "transferred" | "abandoned"),
                "{row:?}"
            );
        } else {
            assert_eq!(row["disposition"], "busy", "{row:?}");
        }
    }
    // For the record (shown with --nocapture): how the pacer did.
    for line in stdout
        .lines()
        .filter(|l| l.contains("Pacing") || l.contains("over the last"))
    {
        println!("{line}");
    }
    let abandoned_at: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r["outcome"] == "abandoned")
        .map(|(i, _)| i)
        .collect();
    println!("abandoned calls, by order placed: {abandoned_at:?}");
    println!(
        "most calls at once: {} in warm-up, {} after",
        most_at_once(&all[..60]),
        most_at_once(&all[110..])
    );
    let answered = rows
        .iter()
        .filter(|r| r["disposition"] == "answered")
        .count();
    assert_eq!(answered, (0..CONTACTS).filter(|&i| answers(i)).count());
    // Measured: one abandoned (2.1%), the first hang-up; one more is
    // allowed for a loaded machine's timing.
    assert!(
        abandoned_at.len() <= 2,
        "{} of {answered} abandoned: the pacer did not learn that debtors hang up sooner than the grace time\n{stdout}",
        abandoned_at.len()
    );
    assert!(
        stdout.contains(&format!(
            "Pacing predictive (queue cobranza): {answered} answered debtors reached the queue"
        )),
        "{stdout}"
    );
}
