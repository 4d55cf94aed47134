//! `dialer flows check` and `dialer flows graph`, and a campaign that
//! refuses to start with a broken flow.

use std::time::Duration;

use dialer_tests::{Campaign, CampaignSpec, dialer, free_port, repo_root, text};

#[test]
fn the_sample_flows_check_and_draw() {
    let flows = repo_root().join("ivr-flows");
    let files: Vec<String> = ["recordatorio", "promesa-de-pago", "mora-tardia"]
        .iter()
        .flat_map(|f| {
            ["es-MX", "en-US"].map(|l| flows.join(format!("{f}.{l}.toml")).display().to_string())
        })
        .collect();
    let mut args = vec!["flows", "check"];
    args.extend(files.iter().map(String::as_str));
    let out = dialer(&flows, &args, Duration::from_secs(30));
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().filter(|l| l.contains(": ok: flow")).count(),
        6,
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "recordatorio.es-MX.toml: ok: flow 'recordatorio', es-MX, 7 nodes, starts at 'saludo'"
        ),
        "{stdout}"
    );

    let out = dialer(
        &flows,
        &["flows", "graph", "recordatorio.es-MX.toml"],
        Duration::from_secs(30),
    );
    let mermaid = String::from_utf8_lossy(&out.stdout);
    assert!(
        mermaid.starts_with("%% recordatorio\nflowchart TD\n"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("-- \"9\" -->") && mermaid.contains("promise_to_pay"),
        "{mermaid}"
    );
    let dir = tempfile::tempdir().unwrap();
    let dot = dir.path().join("recordatorio.dot");
    let out = dialer(
        &flows,
        &[
            "flows",
            "graph",
            "recordatorio.es-MX.toml",
            "--format",
            "dot",
            "--out",
            dot.to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        std::fs::read_to_string(&dot)
            .unwrap()
            .starts_with("digraph \"recordatorio\"")
    );
}

const BROKEN: &str = r#"name = "rota"
start = "saludo"

[node.saludo]
type = "play"
prompt = ["tts:Hola {apodo}"]
next = "menu"

[node.menu]
type = "menu"
prompt = ["tts:Marque 1"]
choices = { "1" = "pagar", "2" = "consulta" }
timeout_s = 120

[node.consulta]
type = "webhook"
url = "http://127.0.0.1:9/saldo"
retries = 9
next = "hangup:informado"
on_error = "hangup:sin_servicio"

[node.olvidado]
type = "hangup"
outcome = "nunca"
"#;

#[test]
fn a_broken_flow_is_refused_with_every_problem_named() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("rota.toml");
    std::fs::write(&flow, BROKEN).unwrap();
    let out = dialer(
        dir.path(),
        &["flows", "check", flow.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let path = flow.display().to_string();
    for expected in [
        format!("{path}:4: node 'saludo': variable {{apodo}} is not defined"),
        format!("{path}:12: node 'menu': choice '1': there is no node 'pagar'"),
        format!("{path}:13: node 'menu': timeout_s = 120: a wait must be 0.5-60 seconds"),
        format!("{path}:18: node 'consulta': retries = 9: a webhook is retried at most 5 times"),
        format!("{path}:22: node 'olvidado': unreachable"),
    ] {
        assert!(err.contains(&expected), "missing «{expected}» in\n{err}");
    }

    // A campaign with this flow refuses to start: no database, no call.
    let mut spec = CampaignSpec::new(free_port());
    spec.campaign_extra = format!("flow = \"{}\"\n", flow.display());
    let campaign = Campaign::write(&spec);
    let out = campaign.run_unchecked(Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("there is no node 'pagar'"),
        "{}",
        text(&out)
    );
    assert!(!campaign.dir.path().join("dialer.db").exists());
}
