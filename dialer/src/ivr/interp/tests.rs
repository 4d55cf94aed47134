//! The interpreter in virtual time: a test drives it as the call actor
//! would, with a clock it moves by hand. The harness and the main paths
//! are here; input rules, promises and the runaway guard have their own
//! files below.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::ivr::parse;

mod guard;
mod keys;
mod promise;

const TODAY: Date = Date {
    year: 2026,
    month: 11,
    day: 22,
};

const FLOW: &str = r#"
start = "saludo"

[defaults]
timeout_s = 5
inter_digit_s = 3
retries = 2
no_input = ["tts:No recibimos su respuesta."]
invalid = ["tts:Opción no válida."]

[node.saludo]
type = "play"
prompt = ["tts:Hola {name}"]
next = "menu"

[node.menu]
type = "menu"
prompt = ["tts:Marque 1, 2, 0 o 9"]
choices = { "1" = "saldo", "2" = "promesa", "0" = "asesor", "9" = "baja", "5" = "datos" }

[node.saldo]
type = "play"
prompt = ["tts:Su saldo es", "say:currency:{balance}"]
next = "menu"

[node.promesa]
type = "promise_to_pay"
ask = ["tts:Marque la fecha"]
within_days = 30
confirm = ["tts:Pagará", "say:date:{promise_date}", "tts:1 para confirmar"]
saved = ["tts:Registrada"]
next = "despedida"

[node.asesor]
type = "transfer"
queue = "cobranza"
skills = ["temprana"]
prompt = ["tts:Un momento"]

[node.baja]
type = "opt_out"
confirm = ["tts:No le llamaremos más"]
next = "hangup:opt_out"

[node.datos]
type = "gather"
prompt = ["tts:Marque el monto"]
into = "monto"
min_digits = 2
max_digits = 6
validate = "amount"
min = 50
max = 5000
next = "segun_monto"

[node.segun_monto]
type = "branch"
when = [{ if = "monto >= 1000", then = "grande" }]
else = "aviso"

[node.grande]
type = "set"
var = "nota"
value = "grande {monto}"
next = "servicio"

[node.servicio]
type = "webhook"
url = "http://127.0.0.1:9/referencia"
timeout_s = 2
retries = 1
returns = ["referencia"]
next = "aviso"
on_error = "hangup:webhook_error"

[node.aviso]
type = "hangup"
prompt = ["tts:Gracias {referencia}"]
outcome = "informed"

[node.despedida]
type = "hangup"
prompt = ["tts:Adiós"]
outcome = "reminded"
"#;

struct Sim {
    it: Interpreter,
    now: Instant,
    flow: Arc<Flow>,
    /// Every action, in order, as text.
    log: Vec<String>,
    /// Every prompt asked for, with the variables it was to be rendered with.
    played: Vec<(PromptId, Vars)>,
    playing: Option<u64>,
    stored: Vec<Record>,
    webhook: Option<u64>,
}

#[allow(clippy::disallowed_methods)] // the test's own clock starts somewhere
fn origin() -> Instant {
    Instant::now()
}

impl Sim {
    fn new(text: &str) -> Sim {
        let flow = Arc::new(
            parse(Path::new("/flujos/prueba.toml"), text).unwrap_or_else(|e| panic!("{e}")),
        );
        let vars = Vars::from([
            ("name".to_string(), "Ana".to_string()),
            ("balance".to_string(), "1234.50".to_string()),
        ]);
        Sim::with_flow(flow, vars)
    }

    /// A flow built by hand (the checker would refuse it), or other variables.
    fn with_flow(flow: Arc<Flow>, vars: Vars) -> Sim {
        let mut sim = Sim {
            it: Interpreter::new(flow.clone(), vars, TODAY),
            now: origin(),
            flow,
            log: Vec::new(),
            played: Vec::new(),
            playing: None,
            stored: Vec::new(),
            webhook: None,
        };
        sim.it.handle_answered(sim.now);
        sim.drain();
        sim
    }

    fn prompt_text(&self, prompt: PromptId) -> String {
        let parts: Vec<String> = self.flow.prompts[prompt]
            .parts()
            .iter()
            .map(|p| match p {
                media::prompt::template::Part::Tts(t) => format!("{t:?}"),
                other => format!("{other:?}"),
            })
            .collect();
        parts.join(" ")
    }

    fn drain(&mut self) {
        while let Some(action) = self.it.poll_action() {
            let line = match &action {
                Action::Play { seq, prompt, vars } => {
                    self.playing = Some(*seq);
                    self.played.push((*prompt, vars.clone()));
                    format!("play {}", self.prompt_text(*prompt))
                }
                Action::StopPlayback => {
                    self.playing = None;
                    "stop".into()
                }
                Action::Store(record) => {
                    self.stored.push(record.clone());
                    format!("store {record:?}")
                }
                Action::Webhook { seq, url, .. } => {
                    self.webhook = Some(*seq);
                    format!("webhook {url}")
                }
                Action::Transfer { queue, .. } => format!("transfer {queue}"),
                Action::Hangup => "hangup".into(),
            };
            self.log.push(line);
        }
    }

    /// The prompt playing now ends.
    fn finish(&mut self) {
        let seq = self.playing.take().expect("a prompt is playing");
        self.it.handle_prompt_finished(self.now, seq);
        self.drain();
    }

    fn press(&mut self, keys: &str) {
        for key in keys.chars() {
            self.it.handle_digit(self.now, key);
            self.drain();
        }
    }

    /// Moves the clock, firing the interpreter's timer when it falls due.
    fn wait(&mut self, seconds: f64) {
        self.now += Duration::from_secs_f64(seconds);
        if self.it.poll_timeout().is_some_and(|t| t <= self.now) {
            self.it.handle_timeout(self.now);
            self.drain();
        }
    }

    /// What the last prompt asked for says, its variables filled in.
    fn last_said(&self) -> Vec<media::prompt::template::Segment> {
        let (prompt, vars) = self.played.last().expect("a prompt was played");
        self.flow.prompts[*prompt]
            .resolve(
                &|name: &str| vars.get(name).map(String::as_str),
                self.flow.language,
                TODAY,
            )
            .unwrap_or_else(|e| panic!("the prompt cannot be said: {e}"))
    }

    fn last(&self) -> &str {
        self.log.last().map(String::as_str).unwrap_or("")
    }

    fn plays_of(&self, needle: &str) -> usize {
        self.log
            .iter()
            .filter(|l| l.starts_with("play") && l.contains(needle))
            .count()
    }
}

#[test]
fn silence_gets_the_no_input_prompt_twice_then_hangs_up() {
    let mut s = Sim::new(FLOW);
    s.finish(); // greeting
    for _ in 0..3 {
        assert!(s.last().contains("Marque 1, 2, 0 o 9"), "{:?}", s.log);
        s.finish();
        s.wait(4.9);
        assert!(s.it.poll_timeout().is_some(), "still waiting before 5 s");
        s.wait(0.2);
        if s.last().contains("No recibimos") {
            s.finish();
        }
    }
    assert_eq!(s.plays_of("No recibimos"), 2, "{:#?}", s.log);
    assert_eq!(s.last(), "hangup");
    assert_eq!(s.it.outcome(), Some("no_input"));
    assert!(s.it.is_ended());
    assert_eq!(s.it.path(), ["saludo", "menu"]);
}

#[test]
fn invalid_keys_are_retried_then_end_as_invalid_input() {
    let mut s = Sim::new(FLOW);
    s.finish();
    s.finish(); // menu prompt
    s.press("7");
    assert!(s.last().contains("Opción no válida"), "{:?}", s.log);
    s.finish();
    assert!(s.last().contains("Marque 1, 2, 0 o 9"), "the menu again");
    s.press("8");
    s.finish();
    s.finish();
    s.press("3");
    assert_eq!(s.last(), "hangup");
    assert_eq!(s.it.outcome(), Some("invalid_input"));
    assert_eq!(
        s.it.inputs()
            .iter()
            .map(|(_, i)| i.as_str())
            .collect::<Vec<_>>(),
        ["7", "8", "3"]
    );
}

#[test]
fn barge_in_stops_the_prompt_and_the_key_chooses() {
    let mut s = Sim::new(FLOW);
    // A key during the greeting stops it, skips the menu prompt and chooses 1.
    s.press("1");
    assert_eq!(s.log[1], "stop");
    assert!(s.last().contains("Su saldo es"), "{:?}", s.log);
    assert_eq!(s.it.path(), ["saludo", "menu", "saldo"]);
    // A stale end of the stopped greeting changes nothing.
    s.it.handle_prompt_finished(s.now, 1);
    s.drain();
    assert!(s.last().contains("Su saldo es"));
    s.finish();
    assert!(s.last().contains("Marque 1, 2, 0 o 9"), "back to the menu");
}

#[test]
fn promise_to_pay_is_stored_before_it_is_confirmed() {
    let mut s = Sim::new(FLOW);
    s.finish();
    s.finish();
    s.press("2");
    assert!(s.last().contains("Marque la fecha"));
    s.press("1512#");
    assert_eq!(s.it.vars()["promise_date"], "2026-12-15");
    assert!(s.last().contains("Pagará"), "{:?}", s.log);
    s.press("1");
    assert_eq!(
        s.stored,
        vec![Record::Promise {
            date: "2026-12-15".into(),
            amount: None,
            node: "promesa".into()
        }]
    );
    assert!(
        s.last().starts_with("store"),
        "nothing is played before the store commits"
    );
    s.it.handle_stored(s.now);
    s.drain();
    assert!(s.last().contains("Registrada"));
    s.finish();
    assert!(s.last().contains("Adiós"));
    s.finish();
    assert_eq!(s.last(), "hangup");
    assert_eq!(
        s.it.outcome(),
        Some("promise_to_pay"),
        "the promise wins over the farewell's outcome"
    );
}

#[test]
fn promise_dates_outside_the_window_or_unfinished_are_invalid() {
    let mut s = Sim::new(FLOW);
    s.finish();
    s.finish();
    s.press("2");
    s.finish();
    s.press("1503#"); // March: more than 30 days ahead
    assert!(s.last().contains("Opción no válida"), "{:?}", s.log);
    s.finish();
    s.finish();
    s.press("31");
    s.wait(3.1); // the inter-digit wait ends a short date
    assert!(s.last().contains("Opción no válida"));
    s.finish();
    s.finish();
    s.press("3011"); // four digits complete a date without '#'
    assert!(s.last().contains("Pagará"));
    s.press("2"); // correct it
    assert!(s.last().contains("Marque la fecha"));
    s.press("0112#");
    s.press("1");
    assert_eq!(
        s.stored.last(),
        Some(&Record::Promise {
            date: "2026-12-01".into(),
            amount: None,
            node: "promesa".into()
        })
    );
}

#[test]
fn opt_out_is_stored_first_and_transfer_ends_with_its_outcome() {
    let mut s = Sim::new(FLOW);
    s.finish();
    s.finish();
    s.press("9");
    assert_eq!(
        s.stored,
        vec![Record::OptOut {
            node: "baja".into()
        }]
    );
    assert!(s.last().starts_with("store"));
    s.it.handle_stored(s.now);
    s.drain();
    assert!(s.last().contains("No le llamaremos"));
    s.finish();
    assert_eq!(s.last(), "hangup");
    assert_eq!(s.it.outcome(), Some("opt_out"));

    let mut t = Sim::new(FLOW);
    t.press("0");
    assert!(t.last().contains("Un momento"));
    t.finish();
    assert_eq!(t.last(), "transfer cobranza");
    assert_eq!(t.it.outcome(), Some("transfer_requested"));
    assert!(t.it.is_ended());
}

#[test]
fn gather_validates_branches_sets_and_calls_webhooks() {
    let mut s = Sim::new(FLOW);
    s.press("5");
    s.finish(); // "Marque el monto"
    s.press("20#"); // below the minimum of 50
    assert!(s.last().contains("Opción no válida"), "{:?}", s.log);
    s.finish();
    s.finish();
    s.press("1500#");
    assert_eq!(s.it.vars()["monto"], "1500");
    assert_eq!(s.it.vars()["nota"], "grande 1500");
    assert_eq!(s.last(), "webhook http://127.0.0.1:9/referencia");
    let first = s.webhook.unwrap();
    s.it.handle_webhook(s.now, first, Err("connection refused".into()));
    s.drain();
    let retry = s.webhook.unwrap();
    assert_ne!(retry, first, "one retry");
    s.it.handle_webhook(
        s.now,
        retry,
        Ok(Vars::from([("referencia".to_string(), "R-77".to_string())])),
    );
    s.drain();
    assert!(s.last().contains("Gracias"));
    assert_eq!(s.it.vars()["referencia"], "R-77");
    s.finish();
    assert_eq!(s.it.outcome(), Some("informed"));

    // Without an answer in time, the webhook fails over to on_error.
    let mut w = Sim::new(FLOW);
    w.press("5");
    w.finish();
    w.press("1500#");
    w.wait(4.1);
    w.wait(4.1);
    assert_eq!(w.last(), "hangup");
    assert_eq!(w.it.outcome(), Some("webhook_error"));
}

#[test]
fn a_debtor_who_hangs_up_ends_the_flow() {
    let mut s = Sim::new(FLOW);
    s.it.handle_callee_hangup();
    assert!(s.it.is_ended());
    assert_eq!(s.it.outcome(), Some("hung_up"));
    s.it.handle_digit(s.now, '1');
    assert!(s.it.poll_action().is_none());
}

#[test]
fn a_say_node_says_its_variable() {
    let text = r#"
variables = ["cuenta"]
start = "monto"

[node.monto]
type = "say"
say = "currency:{balance}:MXN"
next = "cuenta"

[node.cuenta]
type = "say"
say = "digits:{cuenta}"
next = "fin"

[node.fin]
type = "hangup"
outcome = "informed"
"#;
    let flow =
        Arc::new(parse(Path::new("/flujos/say.toml"), text).unwrap_or_else(|e| panic!("{e}")));
    let vars = Vars::from([
        ("balance".to_string(), "1234.50".to_string()),
        ("cuenta".to_string(), "0412".to_string()),
    ]);
    let mut s = Sim::with_flow(flow, vars);
    let words = |text: &str| {
        vec![media::prompt::template::Segment::Words(
            text.split(' ').map(str::to_owned).collect(),
        )]
    };
    assert_eq!(
        s.last_said(),
        words("mil doscientos treinta y cuatro pesos con cincuenta centavos"),
        "the balance in words"
    );
    s.finish();
    assert_eq!(
        s.last_said(),
        words("cero cuatro uno dos"),
        "the account's digits"
    );
    s.finish();
    assert_eq!(s.last(), "hangup");
    assert_eq!(s.it.path(), ["monto", "cuenta", "fin"]);
}

#[test]
fn a_webhook_answer_gives_only_the_fields_in_returns() {
    let to_webhook = |s: &mut Sim| {
        s.press("5");
        s.finish();
        s.press("1500#");
        s.webhook.expect("the webhook is called")
    };
    let mut s = Sim::new(FLOW);
    let seq = to_webhook(&mut s);
    s.it.handle_webhook(
        s.now,
        seq,
        Ok(Vars::from([
            ("referencia".to_string(), "R-77".to_string()),
            ("name".to_string(), "Otro Nombre".to_string()),
            ("interno".to_string(), "x".to_string()),
        ])),
    );
    s.drain();
    assert_eq!(s.it.vars()["referencia"], "R-77");
    assert_eq!(
        s.it.vars()["name"],
        "Ana",
        "an unlisted field changes nothing"
    );
    assert!(!s.it.vars().contains_key("interno"));

    // An answer without a listed field is a failure: retried, then on_error.
    let mut w = Sim::new(FLOW);
    let first = to_webhook(&mut w);
    let without = || Ok(Vars::from([("otra".to_string(), "1".to_string())]));
    w.it.handle_webhook(w.now, first, without());
    w.drain();
    let retry = w.webhook.unwrap();
    assert_ne!(retry, first, "retried");
    w.it.handle_webhook(w.now, retry, without());
    w.drain();
    assert_eq!(w.it.outcome(), Some("webhook_error"));
    let (_, why) = w.it.inputs().last().unwrap();
    assert!(why.contains("referencia"), "{why}");
}
