//! A campaign paced by two agents, for the live pacing tests: debtors of
//! whom about 3 in 10 answer (spread irregularly along the list), each
//! call over 1.5 s after the answer, and the queue they wait in.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::CampaignSpec;
use crate::agents::connect_flow;

/// Whether debtor `i` answers: 3 in 10, spread irregularly along the list
/// (a pacer bets on answers being independent; three answers in a row for
/// two agents would be abandoned by any pacer but a progressive one).
pub fn answers(i: usize) -> bool {
    let mut x = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (x ^ (x >> 31)) % 10 < 3
}

/// Debtor `i` of the list: id, phone, name.
pub fn debtor(i: usize) -> (String, String, String) {
    (
        format!("P-{i:03}"),
        format!("55 1200 {i:04}"),
        format!("Deudor {i}"),
    )
}

/// The simulated carrier's plan for debtors `range`: those who answer do
/// after 0.3 s and hang up 1.5 s later, waiting or not; the rest are busy.
pub fn plan(range: Range<usize>) -> String {
    let mut plan = String::from("[default]\naction = \"busy\"\nring_s = 0.1\n");
    for i in range.filter(|&i| answers(i)) {
        plan.push_str(&format!(
            "\n[[number]]\nnumber = \"+52551200{i:04}\"\nring_s = 0.3\nhangup_after_s = 1.5\n"
        ));
    }
    plan
}

/// A campaign of debtors `range` paced by `mode` on the agents agent3001
/// and agent3002 (queue `cobranza`, 1 s wrap-up, 2 s wait, then the
/// safe-harbor message); the flow transfers a debtor on answering.
pub fn two_agent_campaign(
    carrier_port: u16,
    dir: &Path,
    range: Range<usize>,
    mode: &str,
) -> CampaignSpec {
    let mut spec = CampaignSpec::new(carrier_port);
    spec.contacts = range.map(debtor).collect();
    spec.max_channels = 20;
    spec.max_cps = 50.0;
    let flow = connect_flow(dir, "cobranza");
    spec.campaign_extra = format!("flow = \"{}\"\nmax_call_s = 60\n", flow.display());
    spec.sections = format!(
        r#"
[registrar]
min_expires_s = 30

[[agent]]
login = "agent3001"
password = "secret3001"
skills = ["cobranza:5"]

[[agent]]
login = "agent3002"
password = "secret3002"
skills = ["cobranza:5"]

[[queue]]
name = "cobranza"
skills = ["cobranza"]
wrap_up_s = 1
max_wait_s = 2
overflow = "hangup"
overflow_prompt = ["file:sin-asesores"]

[pacing]
mode = "{mode}"
queue = "cobranza"
"#
    );
    spec
}

/// The list file of debtors `range`.
pub fn contacts_csv(range: Range<usize>) -> String {
    crate::contacts_csv(&range.map(debtor).collect::<Vec<_>>())
}

/// The most calls up at once among `rows` (from their start and end).
pub fn most_at_once(rows: &[&BTreeMap<String, String>]) -> usize {
    let mut edges: Vec<(DateTime<Utc>, i32)> = Vec::new();
    for r in rows {
        edges.push((r["started_at"].parse().unwrap(), 1));
        edges.push((r["ended_at"].parse().unwrap(), -1));
    }
    edges.sort();
    let (mut up, mut most) = (0, 0);
    for (_, d) in edges {
        up += d;
        most = most.max(up);
    }
    most as usize
}
