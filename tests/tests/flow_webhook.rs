//! A flow's webhook over real HTTP: the call's data is POSTed as JSON, the
//! answer's fields become variables the flow says; a failing service takes
//! the flow down its `on_error` branch.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::{Json, Router, http::StatusCode, routing::post};
use dialer_tests::{Campaign, CampaignSpec, SimCarrier, text};

/// A payment-reference service on loopback; remembers what it was sent.
fn service(runtime: &tokio::runtime::Runtime, seen: Arc<Mutex<Vec<serde_json::Value>>>) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route(
            "/referencia",
            post(move |Json(body): Json<serde_json::Value>| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(body);
                    Json(serde_json::json!({ "referencia": "R-4455", "monto_minimo": 250, "ignored": {"nested": true} }))
                }
            }),
        )
        .route("/roto", post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "fuera de servicio") }));
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn flow(url: &str) -> String {
    format!(
        r#"start = "consulta"

[node.consulta]
type = "webhook"
url = "{url}"
timeout_s = 2
retries = 1
returns = ["referencia", "monto_minimo"]
next = "aviso"
on_error = "sin_servicio"

[node.aviso]
type = "hangup"
prompt = ["tts:Su referencia de pago es {{referencia}}", "say:currency:{{monto_minimo}}"]
outcome = "reference_given"

[node.sin_servicio]
type = "hangup"
prompt = ["tts:Por ahora no podemos darle su referencia."]
outcome = "no_reference"
"#
    )
}

fn run(carrier: &SimCarrier, flow_text: &str) -> std::collections::BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let flow_path = dir.path().join("referencia.toml");
    std::fs::write(&flow_path, flow_text).unwrap();
    let mut spec = CampaignSpec::new(carrier.port);
    spec.campaign_extra = format!("flow = \"{}\"\n", flow_path.display());
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    let mut rows = campaign.report();
    assert_eq!(rows.len(), 1, "{}", text(&out));
    rows.remove(0)
}

#[test]
fn webhook_answers_become_variables_and_failures_take_on_error() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = service(&runtime, seen.clone());
    let carrier = SimCarrier::start("[default]\nring_s = 0.2\n");

    let row = run(&carrier, &flow(&format!("{base}/referencia")));
    assert_eq!(row["outcome"], "reference_given", "{row:?}");
    assert_eq!(row["flow_path"], "consulta > aviso");
    let bodies = seen.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["contact_id"], "C-1");
    assert_eq!(bodies[0]["phone"], "+525512345678");
    assert_eq!(bodies[0]["variables"]["balance"], "1234.50");
    assert!(bodies[0]["call_id"].as_str().unwrap().ends_with("@dialer"));

    let row = run(&carrier, &flow(&format!("{base}/roto")));
    assert_eq!(row["outcome"], "no_reference", "{row:?}");
    assert_eq!(row["flow_path"], "consulta > sin_servicio");
    assert!(
        row["inputs"].contains("500 Internal Server Error"),
        "{row:?}"
    );
}
