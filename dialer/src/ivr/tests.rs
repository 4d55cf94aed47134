//! Loading and checking flow files: every problem named with its file,
//! line and node; the shipped sample flows are valid.

use std::path::{Path, PathBuf};

use super::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn problems(text: &str) -> String {
    match parse(Path::new("/flujos/f.toml"), text) {
        Ok(_) => panic!("the flow should not load"),
        Err(e) => e.to_string(),
    }
}

const OK_TAIL: &str = r#"
[node.fin]
type = "hangup"
outcome = "done"
"#;

#[test]
fn every_sample_flow_loads_and_draws() {
    let dir = repo().join("ivr-flows");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let flow = load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(graph::mermaid(&flow).contains("flowchart TD"));
            assert!(graph::dot(&flow).starts_with("digraph"));
            count += 1;
        }
    }
    assert_eq!(count, 6, "three flows, Spanish and English");
    let flow = load(&dir.join("recordatorio.es-MX.toml")).unwrap();
    assert_eq!(flow.language, media::say::Language::EsMx);
    let mermaid = graph::mermaid(&flow);
    assert!(
        mermaid.contains("-- \"2\" -->") && mermaid.contains("hangup<br/>no_input"),
        "{mermaid}"
    );
}

#[test]
fn missing_targets_and_fields_are_named_with_line_and_node() {
    let err = problems(&format!(
        "start = \"menu\"\n\n[node.menu]\ntype = \"menu\"\nprompt = [\"tts:hola\"]\nchoices = {{ \"1\" = \"pagos\", \"22\" = \"fin\" }}\n{OK_TAIL}"
    ));
    assert!(
        err.contains("/flujos/f.toml:6: node 'menu': choice '1': there is no node 'pagos'"),
        "{err}"
    );
    assert!(
        err.contains("node 'menu': choices: '22' is not one key"),
        "{err}"
    );

    let err = problems(&format!(
        "start = \"a\"\n[node.a]\ntype = \"play\"\nprompt = [\"tts:x\"]\n{OK_TAIL}"
    ));
    assert!(err.contains("node 'a': needs `next`"), "{err}");

    let err = problems(&format!(
        "start = \"a\"\n[node.a]\ntype = \"play\"\nprompt = [\"tts:x\"]\nnext = \"fin\"\nchoices = {{ \"1\" = \"fin\" }}\n{OK_TAIL}"
    ));
    assert!(
        err.contains("`choices` does not apply to a play node"),
        "{err}"
    );

    let err = problems("start = \"a\"\n[node.a]\ntype = \"jugar\"\n");
    assert!(
        err.contains("/flujos/f.toml:3:") && err.contains("unknown variant `jugar`"),
        "{err}"
    );

    let err = problems(&format!("start = \"nada\"\n{OK_TAIL}"));
    assert!(
        err.contains("start = 'nada': there is no such node (nodes: fin)"),
        "{err}"
    );
}

#[test]
fn bad_timeouts_prompts_and_conditions_are_named() {
    let err = problems(&format!(
        "start = \"m\"\n[node.m]\ntype = \"menu\"\nprompt = [\"say:fecha:{{x}}\"]\nchoices = {{ \"1\" = \"fin\" }}\ntimeout_s = 0.1\nretries = 50\n\n\
         [node.b]\ntype = \"branch\"\nwhen = [{{ if = \"saldo >> 3\", then = \"fin\" }}]\nelse = \"fin\"\n{OK_TAIL}"
    ));
    assert!(
        err.contains("node 'm': prompt[0] 'say:fecha:{x}': unknown kind 'fecha'"),
        "{err}"
    );
    assert!(
        err.contains("timeout_s = 0.1: a wait must be 0.5-60 seconds"),
        "{err}"
    );
    assert!(err.contains("retries = 50: at most 10"), "{err}");
    assert!(err.contains("node 'b': if:"), "{err}");

    let err = problems(&format!(
        "start = \"w\"\n\n[node.w]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:9/x\"\nretries = 9\ntimeout_s = 90\nnext = \"fin\"\non_error = \"fin\"\n{OK_TAIL}"
    ));
    assert!(
        err.contains(
            "/flujos/f.toml:6: node 'w': retries = 9: a webhook is retried at most 5 times"
        ),
        "reported, not silently capped: {err}"
    );
    assert!(
        err.contains(":7: node 'w': timeout_s = 90: a wait must be 0.5-60 seconds"),
        "{err}"
    );
}

#[test]
fn graph_problems_unreachable_loops_and_variables() {
    let err = problems(&format!(
        "start = \"a\"\n\
         [node.a]\ntype = \"play\"\nprompt = [\"tts:hola {{apodo}}\"]\nnext = \"b\"\n\
         [node.b]\ntype = \"play\"\nprompt = [\"tts:otra vez\"]\nnext = \"a\"\n\
         [node.huerfano]\ntype = \"play\"\nprompt = [\"tts:nadie llega\"]\nnext = \"fin\"\n\
         [node.c]\ntype = \"branch\"\nwhen = [{{ if = \"x > 1\", then = \"d\" }}]\nelse = \"fin\"\n\
         [node.d]\ntype = \"set\"\nvar = \"x\"\nvalue = \"2\"\nnext = \"c\"\n{OK_TAIL}"
    ));
    assert!(err.contains("node 'a': loop without an exit"), "{err}");
    assert!(err.contains("node 'huerfano': unreachable"), "{err}");
    assert!(
        err.contains("node 'a': variable {apodo} is not defined"),
        "{err}"
    );
    assert!(
        err.contains("node 'c': loop without waiting: c > d > c"),
        "{err}"
    );
}

#[test]
fn missing_phrases_and_fragments_are_named() {
    let prompts = repo().join("prompts/es-MX");
    let text = format!(
        "start = \"a\"\nprompts = \"{}\"\nsay_with = \"fragments\"\n[node.a]\ntype = \"play\"\nprompt = [\"file:saludo\", \"file:no-existe\"]\nnext = \"fin\"\n{OK_TAIL}",
        prompts.display()
    );
    let err = problems(&text);
    assert!(
        err.contains("node 'a': file:no-existe: no phrase 'no-existe'"),
        "{err}"
    );
    assert!(!err.contains("saludo"), "saludo exists: {err}");

    let empty = tempfile::tempdir().unwrap();
    std::fs::write(
        empty.path().join("manifest.toml"),
        "[fragments]\ncero = \"fragments/cero.wav\"\n",
    )
    .unwrap();
    let text = format!(
        "start = \"a\"\nprompts = \"{}\"\nsay_with = \"fragments\"\n[node.a]\ntype = \"say\"\nsay = \"number:{{balance}}\"\nnext = \"fin\"\n{OK_TAIL}",
        empty.path().display()
    );
    let err = problems(&text);
    assert!(
        err.contains(":1: ") && err.contains("fragments es-MX needs are missing"),
        "{err}"
    );
}
