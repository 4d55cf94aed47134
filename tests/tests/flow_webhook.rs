//! A flow's webhook over real HTTP: the call's data is POSTed as JSON, the
//! answer's fields listed in `returns` become variables the flow says (the
//! carrier hears the reference, sample for sample) and sends on; a failing
//! service is tried `retries + 1` times, a slow one runs into the timeout,
//! and both take the flow down its `on_error` branch.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::{Json, Router, http::StatusCode, routing::post};
use dialer_tests::{Campaign, CampaignSpec, SimCarrier, heard, occurrences, rendered, text};

/// Every request the service got: (path, body).
type Seen = Arc<Mutex<Vec<(&'static str, serde_json::Value)>>>;

/// A payment-reference service on loopback: `/referencia` answers, `/registro`
/// takes what the flow sends on, `/roto` fails, `/lento` answers too late.
fn service(runtime: &tokio::runtime::Runtime, seen: Seen) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = move |path: &'static str| {
        let seen = seen.clone();
        move |body: serde_json::Value| seen.lock().unwrap().push((path, body))
    };
    let (referencia, registro, roto, lento) = (
        log("/referencia"),
        log("/registro"),
        log("/roto"),
        log("/lento"),
    );
    let app = Router::new()
        .route(
            "/referencia",
            post(move |Json(body): Json<serde_json::Value>| async move {
                referencia(body);
                Json(serde_json::json!({
                    "referencia": "R-4455",
                    "monto_minimo": 250,
                    "interno": "no-se-usa",
                    "ignored": {"nested": true},
                }))
            }),
        )
        .route(
            "/registro",
            post(move |Json(body): Json<serde_json::Value>| async move {
                registro(body);
                Json(serde_json::json!({}))
            }),
        )
        .route(
            "/roto",
            post(move |Json(body): Json<serde_json::Value>| async move {
                roto(body);
                (StatusCode::INTERNAL_SERVER_ERROR, "fuera de servicio")
            }),
        )
        .route(
            "/lento",
            post(move |Json(body): Json<serde_json::Value>| async move {
                lento(body);
                tokio::time::sleep(Duration::from_secs(4)).await;
                Json(serde_json::json!({ "referencia": "tarde", "monto_minimo": 1 }))
            }),
        );
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

const REFERENCE: [&str; 2] = [
    "tts:Su referencia de pago es {referencia}",
    "say:currency:{monto_minimo}",
];
const NO_SERVICE: &str = "tts:Por ahora no podemos darle su referencia.";

fn flow(base: &str, path: &str, timeout_s: f64, retries: u32) -> String {
    format!(
        r#"start = "consulta"

[node.consulta]
type = "webhook"
url = "{base}{path}"
timeout_s = {timeout_s}
retries = {retries}
returns = ["referencia", "monto_minimo"]
next = "registro"
on_error = "sin_servicio"

[node.registro]
type = "webhook"
url = "{base}/registro"
next = "aviso"
on_error = "aviso"

[node.aviso]
type = "hangup"
prompt = [{reference}]
outcome = "reference_given"

[node.sin_servicio]
type = "hangup"
prompt = ["{NO_SERVICE}"]
outcome = "no_reference"
"#,
        reference = REFERENCE.map(|p| format!("{p:?}")).join(", ")
    )
}

/// One call running `flow_text`: its report row and the carrier's line for it.
fn run(
    carrier: &SimCarrier,
    flow_text: &str,
) -> (std::collections::BTreeMap<String, String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let flow_path = dir.path().join("referencia.toml");
    std::fs::write(&flow_path, flow_text).unwrap();
    let mut spec = CampaignSpec::new(carrier.port);
    spec.campaign_extra = format!("flow = \"{}\"\n", flow_path.display());
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    let mut rows = campaign.report();
    assert_eq!(rows.len(), 1, "{}", text(&out));
    let row = rows.remove(0);
    assert_eq!(row["note"], "", "every prompt was played: {row:?}");
    let call = carrier.call(&row["call_id"], Duration::from_secs(10));
    (row, call)
}

fn posts(seen: &Seen, path: &str) -> Vec<serde_json::Value> {
    let seen = seen.lock().unwrap();
    seen.iter()
        .filter(|(p, _)| *p == path)
        .map(|(_, body)| body.clone())
        .collect()
}

#[test]
fn webhook_answers_become_variables_the_debtor_hears() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seen = Seen::default();
    let base = service(&runtime, seen.clone());
    let carrier = SimCarrier::start("[default]\nring_s = 0.2\n");

    let (row, call) = run(&carrier, &flow(&base, "/referencia", 2.0, 1));
    assert_eq!(row["outcome"], "reference_given", "{row:?}");
    assert_eq!(row["flow_path"], "consulta > registro > aviso");
    let asked = posts(&seen, "/referencia");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["contact_id"], "C-1");
    assert_eq!(asked[0]["phone"], "+525512345678");
    assert_eq!(asked[0]["variables"]["balance"], "1234.50");
    assert!(asked[0]["call_id"].as_str().unwrap().ends_with("@dialer"));

    // The fields in `returns` are variables now, and only those.
    let sent_on = posts(&seen, "/registro");
    assert_eq!(sent_on.len(), 1);
    let vars = &sent_on[0]["variables"];
    assert_eq!(vars["referencia"], "R-4455", "{vars}");
    assert_eq!(vars["monto_minimo"], "250", "{vars}");
    assert!(vars.get("interno").is_none(), "not in returns: {vars}");

    // The debtor heard the reference and the amount the service gave.
    let audio = heard(&call);
    let said = rendered(
        &["tts:Su referencia de pago es R-4455", "say:currency:250"],
        "es-MX",
    );
    assert_eq!(
        occurrences(&audio, &said).len(),
        1,
        "the reference, as rendered with the service's values, is on the call ({:.1} s heard)",
        audio.len() as f64 / 8000.0
    );
}

#[test]
fn failing_and_slow_webhooks_are_retried_then_take_on_error() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seen = Seen::default();
    let base = service(&runtime, seen.clone());
    let carrier = SimCarrier::start("[default]\nring_s = 0.2\n");
    let no_service = rendered(&[NO_SERVICE], "es-MX");

    let (row, call) = run(&carrier, &flow(&base, "/roto", 2.0, 2));
    assert_eq!(row["outcome"], "no_reference", "{row:?}");
    assert_eq!(row["flow_path"], "consulta > sin_servicio");
    assert!(
        row["inputs"].contains("500 Internal Server Error"),
        "{row:?}"
    );
    assert_eq!(posts(&seen, "/roto").len(), 3, "retries = 2: three POSTs");
    assert_eq!(occurrences(&heard(&call), &no_service).len(), 1);

    // A service slower than timeout_s: each try is cut off, then on_error.
    let (row, call) = run(&carrier, &flow(&base, "/lento", 1.0, 1));
    assert_eq!(row["outcome"], "no_reference", "{row:?}");
    assert_eq!(row["flow_path"], "consulta > sin_servicio");
    assert!(row["inputs"].contains("no answer within 1 s"), "{row:?}");
    assert_eq!(posts(&seen, "/lento").len(), 2, "retries = 1: two POSTs");
    assert_eq!(occurrences(&heard(&call), &no_service).len(), 1);
    assert!(
        posts(&seen, "/registro").is_empty(),
        "never got past on_error"
    );
}
