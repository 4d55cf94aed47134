//! Input rules in virtual time: a menu's default, a prompt without
//! barge-in, a gather's length limits, terminators and validations, and
//! silence on a gather.

use super::*;

const INPUT: &str = r#"
start = "aviso"

[defaults]
timeout_s = 5
inter_digit_s = 3
retries = 1
no_input = ["tts:Sin respuesta."]
invalid = ["tts:No válido."]

[node.aviso]
type = "play"
prompt = ["tts:Aviso legal"]
barge_in = false
next = "menu"

[node.menu]
type = "menu"
prompt = ["tts:Elija una opción"]
choices = { "1" = "cuenta", "2" = "fecha", "3" = "monto", "4" = "clave" }
other = "otro"

[node.otro]
type = "hangup"
prompt = ["tts:Otra opción"]
outcome = "other_key"

[node.cuenta]
type = "gather"
prompt = ["tts:Marque su cuenta"]
into = "cuenta"
min_digits = 4
max_digits = 6
next = "gracias"
on_no_input = "hangup:no_account"

[node.fecha]
type = "gather"
prompt = ["tts:Marque la fecha"]
into = "fecha"
min_digits = 4
max_digits = 4
validate = "date"
within_days = 30
next = "gracias"

[node.monto]
type = "gather"
prompt = ["tts:Marque el monto"]
into = "monto"
max_digits = 6
validate = "amount"
min = 100
max = 5000
terminator = "*"
next = "gracias"

[node.clave]
type = "gather"
prompt = ["tts:Marque su clave"]
into = "clave"
min_digits = 2
max_digits = 8
terminator = ""
next = "gracias"

[node.gracias]
type = "hangup"
prompt = ["tts:Gracias"]
outcome = "done"
"#;

/// Past the notice and the menu, at the node chosen with `key`, its prompt heard.
fn at(key: &str) -> Sim {
    let mut s = Sim::new(INPUT);
    s.finish(); // the notice
    s.finish(); // the menu
    s.press(key);
    s.finish(); // the node's own prompt
    s
}

fn inputs(s: &Sim) -> Vec<(&str, &str)> {
    s.it.inputs()
        .iter()
        .map(|(n, i)| (n.as_str(), i.as_str()))
        .collect()
}

#[test]
fn a_key_outside_the_choices_takes_the_menu_default() {
    let mut s = Sim::new(INPUT);
    s.finish();
    s.finish();
    s.press("7");
    assert!(s.last().contains("Otra opción"), "{:?}", s.log);
    assert_eq!(s.plays_of("No válido"), 0, "not invalid input: {:?}", s.log);
    s.finish();
    assert_eq!(s.last(), "hangup");
    assert_eq!(s.it.outcome(), Some("other_key"));
    assert_eq!(s.it.path(), ["aviso", "menu", "otro"]);
    assert_eq!(inputs(&s), [("menu", "7")]);
}

#[test]
fn a_key_during_a_prompt_without_barge_in_neither_stops_it_nor_counts() {
    let mut s = Sim::new(INPUT);
    s.press("1");
    assert!(!s.log.contains(&"stop".to_string()), "{:?}", s.log);
    assert_eq!(s.log.len(), 1, "only the notice so far: {:?}", s.log);
    assert!(s.playing.is_some(), "the notice still plays");
    s.finish();
    // The key was not kept for the menu: its prompt plays and it waits.
    assert!(s.last().contains("Elija una opción"), "{:?}", s.log);
    assert_eq!(s.it.path(), ["aviso", "menu"]);
    s.finish();
    s.wait(5.1);
    assert!(s.last().contains("Sin respuesta"), "{:?}", s.log);
    assert!(s.it.inputs().iter().all(|(_, i)| i != "1"));
}

#[test]
fn a_gather_ends_by_itself_at_max_digits() {
    let mut s = at("1");
    s.press("123456");
    assert_eq!(s.it.vars()["cuenta"], "123456");
    assert!(
        s.last().contains("Gracias"),
        "no terminator and no wait needed: {:?}",
        s.log
    );
    assert_eq!(inputs(&s), [("menu", "1"), ("cuenta", "123456")]);
}

#[test]
fn fewer_than_min_digits_are_invalid_input() {
    let mut s = at("1");
    s.press("12#");
    assert!(s.last().contains("No válido"), "{:?}", s.log);
    assert!(!s.it.vars().contains_key("cuenta"));
    s.finish();
    s.finish(); // the gather's prompt again
    s.press("123");
    s.wait(3.1); // the inter-digit wait ends it, still one digit short
    assert_eq!(
        s.last(),
        "hangup",
        "one retry, then on_invalid: {:?}",
        s.log
    );
    assert_eq!(s.it.outcome(), Some("invalid_input"));
    assert_eq!(
        inputs(&s),
        [("menu", "1"), ("cuenta", "12"), ("cuenta", "123")]
    );
}

#[test]
fn a_custom_terminator_ends_the_gather_and_hash_is_then_just_a_key() {
    let mut s = at("3");
    s.press("250*");
    assert_eq!(s.it.vars()["monto"], "250");
    assert!(s.last().contains("Gracias"), "{:?}", s.log);

    let mut s = at("3");
    s.press("250#");
    assert!(
        s.last().contains("Marque el monto"),
        "'#' does not end this gather: {:?}",
        s.log
    );
    s.wait(3.1);
    assert!(
        s.last().contains("No válido"),
        "'#' is not a digit of an amount: {:?}",
        s.log
    );
}

#[test]
fn without_a_terminator_the_inter_digit_wait_ends_the_gather() {
    let mut s = at("4");
    s.press("4321");
    s.wait(2.9);
    assert!(s.last().contains("Marque su clave"), "still collecting");
    assert!(!s.it.vars().contains_key("clave"));
    s.wait(0.2);
    assert_eq!(s.it.vars()["clave"], "4321");
    assert!(s.last().contains("Gracias"), "{:?}", s.log);
}

#[test]
fn an_amount_above_the_maximum_is_invalid_and_the_maximum_is_not() {
    let mut s = at("3");
    s.press("5001*");
    assert!(s.last().contains("No válido"), "{:?}", s.log);
    assert!(!s.it.vars().contains_key("monto"));
    s.finish();
    s.finish();
    s.press("5000*");
    assert_eq!(s.it.vars()["monto"], "5000");
}

#[test]
fn a_gather_validates_a_date_in_the_window() {
    let mut s = at("2");
    s.press("3102"); // 31 February
    assert!(s.last().contains("No válido"), "{:?}", s.log);
    s.finish();
    s.finish();
    s.press("1512");
    assert_eq!(
        s.it.vars()["fecha"],
        "2026-12-15",
        "DDMM in Spanish, stored as a date"
    );

    let mut s = at("2");
    s.press("2512"); // 33 days after 22 November
    assert!(
        s.last().contains("No válido"),
        "beyond within_days: {:?}",
        s.log
    );
    assert!(!s.it.vars().contains_key("fecha"));
}

#[test]
fn silence_on_a_gather_is_retried_then_takes_on_no_input() {
    let mut s = at("1");
    s.wait(4.9);
    assert!(
        s.last().contains("Marque su cuenta"),
        "waiting: {:?}",
        s.log
    );
    s.wait(0.2);
    assert!(s.last().contains("Sin respuesta"), "{:?}", s.log);
    s.finish();
    assert!(s.last().contains("Marque su cuenta"), "asked again");
    s.finish();
    s.wait(5.1);
    assert_eq!(s.plays_of("Sin respuesta"), 1, "retries = 1: {:?}", s.log);
    assert_eq!(s.last(), "hangup");
    assert_eq!(s.it.outcome(), Some("no_account"));
    assert_eq!(inputs(&s), [("menu", "1"), ("cuenta", ""), ("cuenta", "")]);
}
