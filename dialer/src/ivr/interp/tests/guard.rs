//! The last guard against a flow that never waits: it stops a loop of
//! instant nodes with a clear outcome, and never a call that is merely
//! long, where every round waits for the debtor or a webhook.

use super::*;

/// A flow the checker accepts, turned by hand into one it would refuse:
/// `b`'s `else` leads back to `a`, a set/branch loop that never waits.
fn spinning() -> Arc<Flow> {
    let text = r#"
start = "a"

[node.a]
type = "set"
var = "x"
value = "1"
next = "b"

[node.b]
type = "branch"
when = [{ if = "x == 2", then = "fin" }]
else = "fin"

[node.fin]
type = "hangup"
outcome = "done"
"#;
    let mut flow = parse(Path::new("/flujos/bucle.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    let id = |name: &str| flow.nodes.iter().position(|n| n.name == name).unwrap();
    let (a, b) = (id("a"), id("b"));
    let NodeKind::Branch { otherwise, .. } = &mut flow.nodes[b].kind else {
        panic!("b is a branch");
    };
    *otherwise = Target::Node(a);
    Arc::new(flow)
}

#[test]
fn a_loop_of_instant_nodes_ends_the_call_with_a_clear_outcome() {
    let s = Sim::with_flow(spinning(), Vars::new());
    assert!(
        s.it.is_ended(),
        "the answer alone ran the loop to the guard"
    );
    assert_eq!(s.last(), "hangup", "{:?}", &s.log);
    assert_eq!(s.it.outcome(), Some(outcome::LOOP));
    let (node, why) = s.it.inputs().last().expect("the reason is recorded");
    assert!(
        ["a", "b"].contains(&node.as_str()) && why.contains("without waiting"),
        "{node}: {why}"
    );
    assert!(s.it.path().len() > 100, "it went round and round");
}

const MENU_LOOP: &str = r#"
start = "inicio"

[node.inicio]
type = "set"
var = "vueltas"
value = ""
next = "menu"

[node.menu]
type = "menu"
prompt = ["tts:Marque 1 para oír el menú otra vez"]
choices = { "1" = "contar" }

[node.contar]
type = "set"
var = "vueltas"
value = "{vueltas}x"
next = "menu"
"#;

#[test]
fn keys_that_barge_in_round_after_round_are_not_a_runaway_loop() {
    let mut s = Sim::new(MENU_LOOP);
    // No prompt ever ends: every key stops the menu and starts it again.
    for _ in 0..1500 {
        s.press("1");
    }
    assert!(!s.it.is_ended(), "{:?}", s.it.outcome());
    assert!(s.last().contains("Marque 1"), "{:?}", s.last());
    assert_eq!(s.it.vars()["vueltas"].len(), 1500);
}

const WEBHOOK_LOOP: &str = r#"
start = "consulta"

[node.consulta]
type = "webhook"
url = "http://127.0.0.1:9/estado"
returns = ["estado"]
next = "listo"
on_error = "hangup:webhook_error"

[node.listo]
type = "branch"
when = [{ if = "estado == 'pagado'", then = "gracias" }]
else = "consulta"

[node.gracias]
type = "hangup"
outcome = "paid"
"#;

#[test]
fn a_webhook_polled_round_after_round_is_not_a_runaway_loop() {
    let mut s = Sim::new(WEBHOOK_LOOP);
    let answer = |estado: &str| Ok(Vars::from([("estado".to_string(), estado.to_string())]));
    for _ in 0..1500 {
        let seq = s.webhook.expect("a webhook is waiting");
        s.it.handle_webhook(s.now, seq, answer("pendiente"));
        s.drain();
        assert!(!s.it.is_ended(), "{:?}", s.it.outcome());
    }
    let seq = s.webhook.unwrap();
    s.it.handle_webhook(s.now, seq, answer("pagado"));
    s.drain();
    assert_eq!(s.it.outcome(), Some("paid"));
}

const REPEAT: &str = r#"
start = "aviso"

[node.aviso]
type = "play"
prompt = ["tts:Su saldo vence hoy"]
next = "otra_vez"

[node.otra_vez]
type = "branch"
when = [{ if = "name == 'nadie'", then = "fin" }]
else = "aviso"

[node.fin]
type = "hangup"
outcome = "done"
"#;

#[test]
fn keys_typed_ahead_with_no_node_to_take_them_do_not_spin_a_repeating_message() {
    let mut s = Sim::new(REPEAT);
    s.finish();
    assert!(s.last().contains("Su saldo vence hoy"), "it repeats");
    // The key stops the message and is kept for a node that waits for keys;
    // the message is skipped once, but the loop has no such node: when the
    // message comes round again it plays.
    s.press("5");
    assert!(
        !s.it.is_ended(),
        "{:?}: {:?}",
        s.it.outcome(),
        s.it.inputs()
    );
    assert_eq!(s.log[s.log.len() - 2], "stop");
    assert!(s.last().contains("Su saldo vence hoy"), "{:?}", s.log);
    assert_eq!(
        s.it.path(),
        [
            "aviso", "otra_vez", "aviso", "otra_vez", "aviso", "otra_vez", "aviso"
        ]
    );
    s.finish();
    assert!(s.last().contains("Su saldo vence hoy"), "and again");
}
