//! A promise to pay with an amount, end to end over SIP: the debtor keys
//! the date (1512#) and the amount (1500#), hears both read back, confirms
//! with 1, and the promises export has the row with its date and amount.

use std::time::Duration;

use dialer_tests::{
    Campaign, CampaignSpec, SimCarrier, dialer, heard, occurrences, rendered, text,
};

const CONFIRM: [&str; 3] = [
    "tts:Usted pagará",
    "say:currency:{promise_amount}",
    "tts:Si es correcto, marque uno.",
];

fn flow() -> String {
    format!(
        r#"start = "promesa"

[node.promesa]
type = "promise_to_pay"
ask = ["tts:Marque el día y el mes de su pago."]
within_days = 366
ask_amount = ["tts:Marque el monto en pesos y la tecla gato."]
min = 100
max = 50000
confirm = [{confirm}]
saved = ["tts:Su promesa quedó registrada."]
timeout_s = 20
next = "despedida"

[node.despedida]
type = "hangup"
prompt = ["tts:Gracias, hasta luego."]
outcome = "reminded"
"#,
        confirm = CONFIRM.map(|p| format!("{p:?}")).join(", ")
    )
}

/// The date, then the amount, then (after the read-back has played) 1.
const PLAN: &str = r##"
[default]
ring_s = 0.2
digits = [
  { at_s = 1.0, key = "1" }, { at_s = 1.3, key = "5" }, { at_s = 1.6, key = "1" }, { at_s = 1.9, key = "2" }, { at_s = 2.2, key = "#" },
  { at_s = 4.0, key = "1" }, { at_s = 4.3, key = "5" }, { at_s = 4.6, key = "0" }, { at_s = 4.9, key = "0" }, { at_s = 5.2, key = "#" },
  { at_s = 16.0, key = "1" },
]
"##;

fn next_december_15() -> String {
    let today = chrono::Local::now().date_naive();
    let year = chrono::Datelike::year(&today);
    let this_year = chrono::NaiveDate::from_ymd_opt(year, 12, 15).unwrap();
    let date = if this_year >= today {
        this_year
    } else {
        chrono::NaiveDate::from_ymd_opt(year + 1, 12, 15).unwrap()
    };
    date.format("%Y-%m-%d").to_string()
}

#[test]
fn a_promise_with_an_amount_lands_in_the_promises_export() {
    let carrier = SimCarrier::start(PLAN);
    let dir = tempfile::tempdir().unwrap();
    let flow_path = dir.path().join("promesa.toml");
    std::fs::write(&flow_path, flow()).unwrap();
    let mut spec = CampaignSpec::new(carrier.port);
    spec.campaign_extra = format!("flow = \"{}\"\n", flow_path.display());
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(90));
    let rows = campaign.report();
    assert_eq!(rows.len(), 1, "{}", text(&out));
    let row = &rows[0];
    assert_eq!(row["outcome"], "promise_to_pay", "{row:?}");
    assert_eq!(row["digits"], "1512#1500#1", "{row:?}");
    assert_eq!(
        row["inputs"], r#"[["promesa","1512"],["promesa","1500"],["promesa","1"]]"#,
        "the '#' after the fourth date key is not an input"
    );
    assert_eq!(row["note"], "", "every prompt was played: {row:?}");

    let export = dialer(
        campaign.dir.path(),
        &[
            "report",
            "--db",
            "dialer.db",
            "--promises",
            "--format",
            "csv",
        ],
        Duration::from_secs(30),
    );
    assert!(export.status.success(), "{}", text(&export));
    let mut reader = csv::Reader::from_reader(&export.stdout[..]);
    let headers = reader.headers().unwrap().clone();
    let promises: Vec<std::collections::BTreeMap<String, String>> = reader
        .records()
        .map(|r| {
            headers
                .iter()
                .zip(r.unwrap().iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect();
    assert_eq!(promises.len(), 1, "{promises:?}");
    let promise = &promises[0];
    assert_eq!(promise["contact_id"], "C-1");
    assert_eq!(promise["promised_date"], next_december_15());
    assert_eq!(promise["amount"], "1500", "{promise:?}");
    assert_eq!(promise["node"], "promesa");
    assert_eq!(promise["call_id"], row["call_id"]);

    // The amount was read back to the debtor before they confirmed it.
    let call = carrier.call(&row["call_id"], Duration::from_secs(10));
    let read_back: Vec<String> = CONFIRM
        .iter()
        .map(|p| p.replace("{promise_amount}", "1500"))
        .collect();
    let read_back: Vec<&str> = read_back.iter().map(String::as_str).collect();
    assert_eq!(
        occurrences(&heard(&call), &rendered(&read_back, "es-MX")).len(),
        1,
        "the read-back with the amount, heard in full"
    );
}
