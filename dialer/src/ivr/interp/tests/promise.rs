//! Promises to pay with an amount, and dates keyed month first in English.

use super::*;

/// A promise that asks for the amount too; `{language}` is the flow's.
fn promise_flow(language: &str) -> String {
    format!(
        r#"
language = "{language}"
start = "promesa"

[defaults]
retries = 2
invalid = ["tts:Not valid"]

[node.promesa]
type = "promise_to_pay"
ask = ["tts:Date please"]
within_days = 30
ask_amount = ["tts:Amount please"]
min = 100
max = 2000
confirm = ["tts:You will pay", "say:number:{{promise_amount}}", "tts:on", "say:date:{{promise_date}}"]
saved = ["tts:Saved"]
next = "fin"

[node.fin]
type = "hangup"
prompt = ["tts:Bye"]
outcome = "reminded"
"#
    )
}

#[test]
fn a_promise_with_an_amount_is_stored_with_both() {
    let mut s = Sim::new(&promise_flow("es-MX"));
    s.finish(); // "Date please"
    s.press("1512#");
    assert!(s.last().contains("Amount please"), "{:?}", s.log);
    s.finish();
    s.press("2500#"); // above max
    assert!(s.last().contains("Not valid"), "{:?}", s.log);
    s.finish();
    s.finish();
    s.press("1500#");
    assert_eq!(s.it.vars()["promise_amount"], "1500");
    // The confirmation reads back the amount and the date.
    assert!(s.last().contains("You will pay"), "{:?}", s.log);
    let said: Vec<String> = s.last_said().iter().map(|seg| seg.to_string()).collect();
    assert_eq!(
        said,
        [
            "You will pay",
            "mil quinientos",
            "on",
            "el quince de diciembre"
        ],
        "{said:?}"
    );
    s.press("1");
    assert_eq!(
        s.stored,
        vec![Record::Promise {
            date: "2026-12-15".into(),
            amount: Some(1500),
            node: "promesa".into()
        }]
    );
    s.it.handle_stored(s.now);
    s.drain();
    assert!(s.last().contains("Saved"));
    assert_eq!(
        s.it.inputs()
            .iter()
            .map(|(_, i)| i.as_str())
            .collect::<Vec<_>>(),
        ["1512", "2500", "1500", "1"]
    );
}

#[test]
fn correcting_a_promise_asks_the_date_and_the_amount_again() {
    let mut s = Sim::new(&promise_flow("es-MX"));
    s.press("1512#");
    s.press("1500#");
    s.press("2"); // correct it
    assert!(s.last().contains("Date please"), "{:?}", s.log);
    s.press("0112#");
    assert!(s.last().contains("Amount please"), "{:?}", s.log);
    s.press("300#");
    s.press("1");
    assert_eq!(
        s.stored,
        vec![Record::Promise {
            date: "2026-12-01".into(),
            amount: Some(300),
            node: "promesa".into()
        }]
    );
}

#[test]
fn an_english_promise_date_is_keyed_month_first() {
    let mut s = Sim::new(&promise_flow("en-US"));
    s.finish();
    s.press("1512#"); // month 15 does not exist
    assert!(
        s.last().contains("Not valid"),
        "MMDD in English: {:?}",
        s.log
    );
    s.finish();
    s.finish();
    s.press("1215#");
    assert_eq!(s.it.vars()["promise_date"], "2026-12-15");
    s.press("800#");
    let said: Vec<String> = s.last_said().iter().map(|seg| seg.to_string()).collect();
    assert_eq!(said[1], "eight hundred", "{said:?}");
    assert!(said[3].contains("December"), "{said:?}");
    s.press("1");
    assert_eq!(
        s.stored,
        vec![Record::Promise {
            date: "2026-12-15".into(),
            amount: Some(800),
            node: "promesa".into()
        }]
    );
}

#[test]
fn the_shipped_reminder_flows_take_the_date_in_their_language_order() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ivr-flows");
    for (file, wrong, right) in [
        ("recordatorio.es-MX.toml", "1215#", "1512#"),
        ("recordatorio.en-US.toml", "1512#", "1215#"),
    ] {
        let flow =
            Arc::new(crate::ivr::load(&samples.join(file)).unwrap_or_else(|e| panic!("{e}")));
        let mut s = Sim::with_flow(flow, Vars::new());
        s.press("2"); // during the greeting: straight to the promise
        s.press(wrong);
        assert!(
            !s.it.vars().contains_key("promise_date"),
            "{file}: {wrong} is not a date"
        );
        s.finish(); // the invalid-date prompt
        s.finish(); // asked again
        s.press(right);
        assert_eq!(
            s.it.vars().get("promise_date").map(String::as_str),
            Some("2026-12-15"),
            "{file}: {right}, within its 30 days of 22 November"
        );
    }
}
