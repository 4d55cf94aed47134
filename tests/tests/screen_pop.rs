//! The agent's side of the HTTP API on a real transferred call.
//!
//! The agent's desktop opens the WebSocket with its login; when the ACD
//! reserves the agent for a debtor it receives the screen pop (the
//! debtor's data and what they did in the IVR), then the state changes.
//! During the call the agent asks for a pause (it waits for the end of the
//! call) and records the tipificación with a promise to pay over HTTP; the
//! report and the promises export show both.

use std::time::{Duration, Instant};

use dialer_tests::agents::{SippAgent, transfer_spec, without_colors};
use dialer_tests::desktop::{AGENT1001 as BASIC, connect_events, http_client, next_notice};
use dialer_tests::{Campaign, SimCarrier, dialer, free_port, text, wait_with_timeout};

const PLAN: &str = r#"
[[number]]
number = "+525512340003"
ring_s = 0.3
digits = [{ at_s = 1.0, key = "1" }]
hangup_after_s = 10
"#;

const SUPERVISOR: &str = "token-del-supervisor-2026";

#[test]
fn the_agent_gets_the_screen_pop_and_records_a_disposition_with_a_promise() {
    let mut carrier = SimCarrier::start(PLAN);
    let (mut spec, _flow) = transfer_spec(carrier.port, ("D-3", "55 1234 0003", "Lucía Gómez"));
    let api_port = free_port();
    spec.sections = format!(
        r#"
[api]
bind = "127.0.0.1:{api_port}"
token = "{SUPERVISOR}"

[registrar]
min_expires_s = 30

[[agent]]
login = "agent1001"
name = "Ana López"
password = "secret1001"
skills = ["cobranza:7"]

[[agent]]
login = "agent1002"
password = "secret1002"

[[queue]]
name = "cobranza"
skills = ["cobranza"]
wrap_up_s = 30
"#
    );
    let campaign = Campaign::write(&spec);
    let agent = SippAgent::start(
        campaign.sip_port,
        "agent1001",
        "secret1001",
        1_000.0,
        8.0,
        60,
    );
    let child = campaign.spawn();
    let base = format!("http://127.0.0.1:{api_port}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (pop, states, attempt) = runtime.block_on(async {
        let http = http_client();
        // Without the agent's password: 401.
        let deadline = Instant::now() + Duration::from_secs(10);
        let denied = loop {
            match http
                .get(format!("{base}/agents/agent1001/events"))
                .send()
                .await
            {
                Ok(r) => break r,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("the API did not come up: {e}"),
            }
        };
        assert_eq!(denied.status(), 401);

        let mut socket = connect_events(api_port, "agent1001", BASIC).await;
        let mut pop = None;
        let mut states = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !states.iter().any(|s| s == "on_call") {
            let value = next_notice(
                &mut socket,
                deadline,
                "the screen pop and on_call within 30 s",
            )
            .await;
            match value["type"].as_str() {
                Some("offer") => pop = Some(value),
                Some("state") => states.push(value["state"].as_str().unwrap().to_owned()),
                other => panic!("unexpected notice {other:?}: {value}"),
            }
        }
        let pop = pop.expect("the offer came before on_call");
        let attempt = pop["call"]["attempt_id"].as_i64().unwrap();

        // A pause asked on a call waits for the call (and wrap-up) to end.
        let paused = http
            .post(format!("{base}/agents/agent1001/state"))
            .header("authorization", BASIC)
            .json(&serde_json::json!({ "state": "paused", "reason": "comida" }))
            .send()
            .await
            .unwrap();
        assert_eq!(paused.status(), 200);
        let view: serde_json::Value = paused.json().await.unwrap();
        assert_eq!(view["state"], "on_call", "{view}");
        // The same from the command line.
        let cli = |password: &str| {
            dialer(
                std::path::Path::new("."),
                &[
                    "agent",
                    "--api",
                    &base,
                    "--login",
                    "agent1001",
                    "--password",
                    password,
                    "status",
                ],
                Duration::from_secs(20),
            )
        };
        let status = cli("secret1001");
        assert!(status.status.success(), "{}", text(&status));
        assert_eq!(
            String::from_utf8_lossy(&status.stdout).trim(),
            "agent1001: on_call"
        );
        let refused = cli("adivina");
        assert!(!refused.status.success(), "{}", text(&refused));
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("401"),
            "{}",
            text(&refused)
        );

        let wrong = http
            .post(format!("{base}/calls/{attempt}/disposition"))
            .header("authorization", "Basic YWdlbnQxMDAxOm5v") // agent1001:no
            .json(&serde_json::json!({ "agent": "agent1001", "disposition": "x" }))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        // Another agent, with their own right password, did not take the call.
        let someone_else = http
            .post(format!("{base}/calls/{attempt}/disposition"))
            .basic_auth("agent1002", Some("secret1002"))
            .json(&serde_json::json!({ "agent": "agent1002", "disposition": "x" }))
            .send()
            .await
            .unwrap();
        assert_eq!(someone_else.status(), 403);
        let recorded = http
            .post(format!("{base}/calls/{attempt}/disposition"))
            .header("authorization", BASIC)
            .json(&serde_json::json!({
                "agent": "agent1001",
                "disposition": "promesa_de_pago",
                "note": "pagará el viernes",
                "promise": { "date": "2026-12-18", "amount": 1500 }
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(recorded.status(), 201, "{:?}", recorded.text().await);

        // The call's data: for the agent who took it, or a supervisor.
        let anonymous = http
            .get(format!("{base}/calls/{attempt}"))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401);
        let info: serde_json::Value = http
            .get(format!("{base}/calls/{attempt}?agent=agent1001"))
            .header("authorization", BASIC)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["contact_id"], "D-3", "{info}");
        let no_token = http.get(format!("{base}/agents")).send().await.unwrap();
        assert_eq!(
            no_token.status(),
            401,
            "the wallboard needs the supervisor's token"
        );
        let board: serde_json::Value = http
            .get(format!("{base}/agents"))
            .bearer_auth(SUPERVISOR)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(board["agents"][0]["login"], "agent1001", "{board}");
        assert!(
            board["agents"][0]["registered"][0]
                .as_str()
                .is_some_and(|c| c.starts_with("sip:agent1001@127.0.0.1")),
            "{board}"
        );

        // The call ends; the agent, in a 30 s wrap-up, finishes it at once
        // and the pause asked during the call begins.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let notice = next_notice(&mut socket, deadline, "wrap-up within 30 s").await;
            if notice["state"] == "wrap_up" {
                break;
            }
        }
        let ended = http
            .post(format!("{base}/agents/agent1001/wrap-up/end"))
            .header("authorization", BASIC)
            .send()
            .await
            .unwrap();
        assert_eq!(ended.status(), 200);
        let view: serde_json::Value = ended.json().await.unwrap();
        assert_eq!(view["state"], "paused", "{view}");
        assert_eq!(view["reason"], "comida", "{view}");
        (pop, states, attempt)
    });

    let out = wait_with_timeout(child, Duration::from_secs(60));
    carrier.stop();
    assert!(out.status.success(), "{}\n{}", text(&out), agent.messages());
    assert!(
        states.ends_with(&["reserved".to_string(), "on_call".to_string()]),
        "{states:?}\n{}",
        text(&out)
    );
    let call = &pop["call"];
    assert_eq!(pop["agent"], "agent1001");
    assert_eq!(pop["queue"], "cobranza");
    assert_eq!(call["contact_id"], "D-3", "{pop}");
    assert_eq!(call["name"], "Lucía Gómez", "{pop}");
    assert_eq!(call["phone"], "+525512340003", "{pop}");
    assert_eq!(call["balance"], "1234.50", "{pop}");
    assert_eq!(call["digits"], "1", "{pop}");
    assert_eq!(call["ivr_path"][0], "menu", "{pop}");

    let rows = campaign.report();
    assert_eq!(rows[0]["attempt_id"], attempt.to_string());
    assert_eq!(
        rows[0]["agent_disposition"], "promesa_de_pago",
        "{:?}",
        rows[0]
    );
    let promises = dialer(
        campaign.dir.path(),
        &[
            "report",
            "--db",
            "dialer.db",
            "--promises",
            "--format",
            "csv",
        ],
        Duration::from_secs(20),
    );
    let promises = String::from_utf8_lossy(&promises.stdout).to_string();
    assert!(promises.contains("2026-12-18"), "{promises}");
    assert!(promises.contains("1500"), "{promises}");
    assert!(promises.contains("agent:agent1001"), "{promises}");
    let agents = dialer(
        campaign.dir.path(),
        &["report", "--db", "dialer.db", "--agents", "--format", "csv"],
        Duration::from_secs(20),
    );
    let agents = String::from_utf8_lossy(&agents.stdout).to_string();
    let line = agents
        .lines()
        .find(|l| l.starts_with("agent1001,"))
        .expect(&agents);
    assert!(line.starts_with("agent1001,1,0,"), "{agents}");
    // The agent ended the 30 s wrap-up at once.
    let wrap_up_s: f64 = line.split(',').nth(7).unwrap().parse().unwrap();
    assert!(wrap_up_s < 5.0, "{agents}");
    // The softphone was told where the call's data is.
    assert!(
        agent.messages().contains(&format!(
            "Call-Info: <http://127.0.0.1:{api_port}/calls/{attempt}?agent=agent1001>;purpose=info"
        )),
        "{}",
        agent.messages()
    );
    let log = without_colors(&text(&out));
    let wrap_up = log.find("state=\"wrap_up\"").expect(&log);
    let paused = log.find("state=\"paused\" reason=\"comida\"").expect(&log);
    assert!(wrap_up < paused, "{log}");
}
