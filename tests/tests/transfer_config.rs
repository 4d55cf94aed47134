//! A flow that transfers to a queue the configuration does not have is
//! refused before any call, naming the flow file, line and node.

use std::time::Duration;

use dialer_tests::agents::transfer_flow;
use dialer_tests::{Campaign, CampaignSpec, free_port, text};

#[test]
fn a_transfer_to_an_unknown_queue_is_refused_before_dialing() {
    let dir = tempfile::tempdir().unwrap();
    let flow = transfer_flow(dir.path(), "nadie");
    let mut spec = CampaignSpec::new(free_port());
    spec.campaign_extra = format!("flow = \"{}\"\n", flow.display());
    spec.sections = "[[queue]]\nname = \"cobranza\"\n".into();
    let campaign = Campaign::write(&spec);
    let out = campaign.run_unchecked(Duration::from_secs(30));
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("asesor.toml:") && stderr.contains("node 'asesor'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no [[queue]] named 'nadie'") && stderr.contains("there are: cobranza"),
        "{stderr}"
    );
    assert!(
        !campaign.dir.path().join("dialer.db").exists()
            || dialer_tests::try_report_csv(&campaign.dir.path().join("dialer.db"))
                .is_none_or(|rows| rows.is_empty()),
        "nobody was dialed"
    );
}
