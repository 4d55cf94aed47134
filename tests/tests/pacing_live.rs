//! Pacing by agents in a live campaign, against the simulated carrier and
//! a baresip agent: progressive dialing places one call per ready agent
//! and never abandons; power dialing places several, and the debtors no
//! agent takes within 2 s hear the queue's safe-harbor message and are
//! counted as abandoned.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use dialer_tests::agents::{Baresip, connect_flow};
use dialer_tests::{Campaign, CampaignSpec, SimCarrier, repo_root, text, time, zone_at_hour};

/// Every number answers at once and hangs up 3 s later.
const PLAN: &str = "[default]\naction = \"answer\"\nring_s = 0.3\nhangup_after_s = 3.0\n";

fn spec(carrier: u16, flow: &std::path::Path, pacing: &str, max_wait_s: f64) -> CampaignSpec {
    let mut spec = CampaignSpec::new(carrier);
    spec.contacts = (1..=3)
        .map(|i| {
            (
                format!("D-{i}"),
                format!("55 1234 000{i}"),
                format!("Deudor {i}"),
            )
        })
        .collect();
    spec.campaign_extra = format!("flow = \"{}\"\nmax_call_s = 60\n", flow.display());
    spec.sections = format!(
        r#"
[registrar]
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
max_wait_s = {max_wait_s}
overflow = "hangup"
overflow_prompt = ["file:sin-asesores"]
agent_ring_timeout_s = 10

[pacing]
queue = "cobranza"
{pacing}
"#
    );
    spec
}

#[test]
fn progressive_dialing_places_one_call_per_ready_agent() {
    let carrier = SimCarrier::start(PLAN);
    let dir = tempfile::tempdir().unwrap();
    let flow = connect_flow(dir.path(), "cobranza");
    let campaign = Campaign::write(&spec(carrier.port, &flow, "mode = \"progressive\"", 60.0));
    let agent = Baresip::start(
        campaign.sip_port,
        "agent1001",
        "secret1001",
        "PCMU",
        1_000.0,
    );
    let out = campaign.run(Duration::from_secs(120));
    drop(agent);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut rows = campaign.report();
    rows.sort_by_key(|r| time(r, "started_at"));
    assert_eq!(rows.len(), 3, "{}", text(&out));
    for row in &rows {
        assert_eq!(row["outcome"], "transferred", "{row:?}\n{}", text(&out));
        assert_eq!(row["agent"], "agent1001", "{row:?}");
    }
    // One agent: each call is placed only once the previous one ended
    // (and its wrap-up with it).
    for pair in rows.windows(2) {
        assert!(
            time(&pair[1], "started_at") >= time(&pair[0], "ended_at"),
            "calls overlapped: {pair:?}"
        );
    }
    assert!(
        stdout.contains(
            "Pacing progressive (queue cobranza): 3 answered debtors reached the queue, 3 connected to an agent within 2 s, 0 abandoned (0.0%)"
        ),
        "{stdout}"
    );
}

#[test]
fn power_dialing_abandons_the_debtors_no_agent_takes_within_2_s() {
    let carrier = SimCarrier::start(PLAN);
    let dir = tempfile::tempdir().unwrap();
    let flow = connect_flow(dir.path(), "cobranza");
    let campaign = Campaign::write(&spec(
        carrier.port,
        &flow,
        "mode = \"power\"\nlines_per_agent = 3",
        2.0,
    ));
    let agent = Baresip::start(
        campaign.sip_port,
        "agent1001",
        "secret1001",
        "PCMU",
        1_000.0,
    );
    let out = campaign.run(Duration::from_secs(120));
    drop(agent);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows = campaign.report();
    assert_eq!(rows.len(), 3, "{}", text(&out));
    let mut by_outcome: BTreeMap<&str, Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for row in &rows {
        by_outcome.entry(&row["outcome"]).or_default().push(row);
    }
    // Three calls at once for one agent: one talks to her, two find nobody.
    assert_eq!(
        by_outcome.get("transferred").map(Vec::len),
        Some(1),
        "{rows:?}"
    );
    let abandoned: Vec<BTreeMap<String, String>> = by_outcome
        .get("abandoned")
        .map(|rows| rows.iter().map(|r| (*r).clone()).collect())
        .unwrap_or_default();
    assert_eq!(abandoned.len(), 2, "{rows:?}\n{}", text(&out));
    for row in &abandoned {
        assert!(
            row["note"].contains(
                "no agent of queue cobranza within 2 s; the safe-harbor message was played"
            ),
            "{row:?}"
        );
        // The safe-harbor message starts 2 s after the answer; the
        // debtor hangs up at 3 s, mid-message.
        let talk: f64 = row["talk_s"].parse().unwrap();
        assert!((2.0..4.0).contains(&talk), "{row:?}");
    }
    assert!(
        stdout.contains("Pacing power 3 (queue cobranza): 3 answered debtors reached the queue, 1 connected to an agent within 2 s, 2 abandoned (66.7%)"),
        "{stdout}"
    );

    // A later run of the campaign, with the calling rules on: a new
    // debtor, and a second debt of a debtor abandoned a moment ago.
    // The cap is kept over the legal window, here the calendar day where
    // it is noon now, so the earlier run's abandons count; the abandoned
    // debtor waits 72 h.
    let abandoned_phone = &abandoned[0]["phone"];
    let noon = zone_at_hour(Utc::now(), 12);
    std::fs::write(
        campaign.dir.path().join("contacts.csv"),
        format!(
            "id,phone,name,balance,due_date,zona_horaria\n\
             D-4,55 1234 0004,Deudor 4,1234.50,2026-12-15,{noon}\n\
             D-5,{abandoned_phone},Deudor 5,99.00,2026-12-15,{noon}\n"
        ),
    )
    .unwrap();
    let config = std::fs::read_to_string(&campaign.config).unwrap();
    std::fs::write(
        &campaign.config,
        config
            .replace("[compliance]\nenabled = false\n", "")
            .replace(
                "[pacing]\n",
                &format!("[pacing]\nabandon_window_day = \"{noon}\"\n"),
            ),
    )
    .unwrap();
    // A new dialer knows no registration: the softphone registers again.
    let agent = Baresip::start(
        campaign.sip_port,
        "agent1001",
        "secret1001",
        "PCMU",
        1_000.0,
    );
    let out = campaign.run(Duration::from_secs(120));
    drop(agent);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 answered debtors reached the queue, 1 connected to an agent within 2 s, 0 abandoned (0.0%)")
            && stdout.contains(&format!("over today in {noon}, this run included: 4 answered, 2 abandoned (50.0%)")),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "not called now D-5 ({abandoned_phone}): refused: the call of "
        )) && stderr.contains(
            "was abandoned (no agent in time), and a campaign that may abandon calls waits 72 h"
        ),
        "{}",
        text(&out)
    );
}

/// An agent mode whose debtors would never reach the agents it counts is
/// refused before any call.
#[test]
fn a_paced_campaign_must_transfer_to_its_queue() {
    let dir = tempfile::tempdir().unwrap();
    let flow = connect_flow(dir.path(), "cobranza");
    let mut without_flow = spec(9, &flow, "mode = \"progressive\"", 60.0);
    without_flow.campaign_extra = format!(
        "prompts = \"{}\"\n",
        repo_root().join("prompts/es-MX").display()
    );
    let campaign = Campaign::write(&without_flow);
    let out = campaign.run_unchecked(Duration::from_secs(30));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "pacing.mode = \"progressive\" needs a campaign.flow with a transfer node to queue 'cobranza'"
        ),
        "{}",
        text(&out)
    );
    std::fs::write(
        &flow,
        std::fs::read_to_string(&flow).unwrap().replace(
            "type = \"transfer\"\nqueue = \"cobranza\"",
            "type = \"hangup\"\noutcome = \"sin_asesor\"",
        ),
    )
    .unwrap();
    let campaign = Campaign::write(&spec(9, &flow, "mode = \"progressive\"", 60.0));
    let out = campaign.run_unchecked(Duration::from_secs(30));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no node transfers to queue 'cobranza', the queue of"),
        "{}",
        text(&out)
    );
}
