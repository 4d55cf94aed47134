//! Preview dialing: the agent sees the debtor on their desktop (a
//! `preview` notice on their WebSocket) before any call; they accept, the
//! call is placed, and the debtor who answers reaches that agent (a sipp
//! softphone). The next debtor they skip is not called, and is kept for
//! later with who skipped them. The agent's desktop connects only after
//! the first debtor is on their screen, and is told of them then.

use std::time::{Duration, Instant};

use dialer_tests::agents::{SippAgent, connect_flow};
use dialer_tests::desktop::{AGENT1001 as BASIC, connect_events, http_client, next_notice};
use dialer_tests::{
    Campaign, CampaignSpec, SimCarrier, dialer, free_port, parse_report, text, wait_with_timeout,
};

#[test]
fn the_agent_accepts_a_previewed_debtor_then_skips_the_next() {
    let carrier =
        SimCarrier::start("[default]\naction = \"answer\"\nring_s = 0.3\nhangup_after_s = 4.0\n");
    let dir = tempfile::tempdir().unwrap();
    let flow = connect_flow(dir.path(), "cobranza");
    let api_port = free_port();
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts = vec![
        ("D-1".into(), "55 1234 0001".into(), "Lucía Gómez".into()),
        ("D-2".into(), "55 1234 0002".into(), "Pedro Salas".into()),
    ];
    spec.campaign_extra = format!("flow = \"{}\"\nmax_call_s = 60\n", flow.display());
    spec.sections = format!(
        r#"
[api]
bind = "127.0.0.1:{api_port}"

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

[pacing]
mode = "preview"
queue = "cobranza"
preview_timeout_s = 0
"#
    );
    let campaign = Campaign::write(&spec);
    let agent = SippAgent::start(
        campaign.sip_port,
        "agent1001",
        "secret1001",
        1_000.0,
        2.0,
        60,
    );
    let child = campaign.spawn();
    let base = format!("http://127.0.0.1:{api_port}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let previews = runtime.block_on(async {
        let http = http_client();
        let deadline = Instant::now() + Duration::from_secs(10);
        while http.get(format!("{base}/agents")).send().await.is_err() {
            assert!(Instant::now() < deadline, "the API did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The desktop connects after the first debtor was put on the
        // agent's screen: it is told of them on connecting.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let agent: serde_json::Value = http
                .get(format!("{base}/agents/agent1001"))
                .header("authorization", BASIC)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if agent["state"] == "reserved" {
                break;
            }
            assert!(Instant::now() < deadline, "no preview within 30 s: {agent}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut socket = connect_events(api_port, "agent1001", BASIC).await;
        let mut previews = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while previews.len() < 2 {
            let value = next_notice(&mut socket, deadline, "two previews within 60 s").await;
            if value["type"] != "preview" {
                continue;
            }
            // Nothing was dialed for this debtor before the agent decides.
            let decision = if previews.is_empty() {
                "accept"
            } else {
                "skip"
            };
            previews.push(value);
            let answer = http
                .post(format!("{base}/agents/agent1001/preview"))
                .header("authorization", BASIC)
                .json(&serde_json::json!({ "decision": decision }))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 204, "{decision}");
            if decision == "accept" {
                // Nothing waits for a decision now: the debtor accepted is
                // being called, the next is shown only after that call
                // (and the run, which ends after the last, is still up).
                let again = http
                    .post(format!("{base}/agents/agent1001/preview"))
                    .header("authorization", BASIC)
                    .json(&serde_json::json!({ "decision": "accept" }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(again.status(), 409, "a second decision");
            }
        }
        previews
    });
    let out = wait_with_timeout(child, Duration::from_secs(60));
    drop(agent);
    assert!(out.status.success(), "{}", text(&out));

    assert_eq!(previews[0]["agent"], "agent1001", "{}", previews[0]);
    assert_eq!(
        previews[0]["debtor"]["contact_id"], "D-1",
        "{}",
        previews[0]
    );
    assert_eq!(
        previews[0]["debtor"]["name"], "Lucía Gómez",
        "{}",
        previews[0]
    );
    assert_eq!(previews[0]["debtor"]["phone"], "+525512340001");
    assert_eq!(
        previews[1]["debtor"]["contact_id"], "D-2",
        "{}",
        previews[1]
    );

    // The accepted debtor was called and reached the agent who previewed them.
    let rows = campaign.report();
    assert_eq!(rows.len(), 1, "{rows:?}\n{}", text(&out));
    assert_eq!(rows[0]["contact_id"], "D-1");
    assert_eq!(rows[0]["outcome"], "transferred", "{:?}", rows[0]);
    assert_eq!(rows[0]["agent"], "agent1001", "{:?}", rows[0]);
    // The skipped one was not, and waits with the reason.
    let deferred = dialer(
        campaign.dir.path(),
        &[
            "report",
            "--db",
            "dialer.db",
            "--deferrals",
            "--format",
            "csv",
        ],
        Duration::from_secs(30),
    );
    let deferred = parse_report(&deferred.stdout);
    assert_eq!(deferred.len(), 1, "{deferred:?}");
    assert_eq!(deferred[0]["contact_id"], "D-2");
    assert_eq!(
        deferred[0]["reason"],
        "skipped in preview by agent agent1001"
    );
}
