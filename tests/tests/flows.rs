//! IVR flows end to end over SIP: the simulated carrier plays debtors who
//! press keys (RFC 4733) on a real call, and the store shows what they did.
//! A promise (2, then 1512#, then 1) is a promise row dated 15 December; an
//! opt-out (9) puts the number on the do-not-call list, so the next
//! campaign does not dial it; silence gets the no-input prompt twice (found
//! twice, sample for sample, in what the carrier heard) and ends as
//! `no_input`. No call skips a prompt it could not render.

use std::time::Duration;

use dialer_tests::{
    Campaign, CampaignSpec, SimCarrier, dialer, heard, json_field, occurrences, rendered,
    repo_root, text,
};

/// The sample `recordatorio` flow with short waits, so silence ends soon,
/// and a promise window of a year, so 15 December is always ahead.
fn flow(dir: &std::path::Path) -> std::path::PathBuf {
    let sample =
        std::fs::read_to_string(repo_root().join("ivr-flows/recordatorio.es-MX.toml")).unwrap();
    let text = sample
        .replace(
            "prompts = \"../prompts/es-MX\"",
            &format!(
                "prompts = \"{}\"",
                repo_root().join("prompts/es-MX").display()
            ),
        )
        .replace("timeout_s = 5", "timeout_s = 2")
        .replace("within_days = 30", "within_days = 366")
        .replace(
            "prompt = [\"file:menu-recordatorio\"]",
            "prompt = [\"tts:Marque uno, dos o nueve.\"]",
        );
    let path = dir.join("recordatorio.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const PLAN: &str = r##"
[default]
ring_s = 0.2

[[number]]
number = "+525512340001"
ring_s = 0.2
digits = [
  { at_s = 1.0, key = "2" },
  { at_s = 3.0, key = "1" }, { at_s = 3.3, key = "5" }, { at_s = 3.6, key = "1" }, { at_s = 3.9, key = "2" }, { at_s = 4.2, key = "#" },
  { at_s = 7.0, key = "1" },
]

[[number]]
number = "+525512340002"
digits = [{ at_s = 1.0, key = "9" }]

[[number]]
number = "+525512340009"
digits = [{ at_s = 0.5, key = "0" }]
"##;

fn next_december_15() -> String {
    let today = chrono::Local::now().date_naive();
    let this_year =
        chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 12, 15).unwrap();
    let date = if this_year >= today {
        this_year
    } else {
        chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&today) + 1, 12, 15).unwrap()
    };
    date.format("%Y-%m-%d").to_string()
}

#[test]
fn promise_opt_out_and_silence_over_real_calls() {
    let mut carrier = SimCarrier::start(PLAN);
    let dir = tempfile::tempdir().unwrap();
    let flow_path = flow(dir.path());
    let mut spec = CampaignSpec::new(carrier.port);
    spec.campaign_extra = format!("flow = \"{}\"\n", flow_path.display());
    spec.contacts = vec![
        ("PROMESA".into(), "55 1234 0001".into(), "Juan Pérez".into()),
        ("BAJA".into(), "55 1234 0002".into(), "Ana López".into()),
        (
            "SILENCIO".into(),
            "55 1234 0003".into(),
            "Luis Gómez".into(),
        ),
    ];
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(120));
    let rows = campaign.report();
    let row = |id: &str| {
        rows.iter()
            .find(|r| r["contact_id"] == id)
            .unwrap_or_else(|| panic!("{id}\n{}", text(&out)))
    };
    for r in &rows {
        assert_eq!(r["note"], "", "every prompt was played: {r:?}");
    }

    let promise = row("PROMESA");
    assert_eq!(promise["outcome"], "promise_to_pay", "{promise:?}");
    assert_eq!(
        promise["digits"], "21512#1",
        "every key, as pressed: {promise:?}"
    );
    assert!(
        promise["flow_path"].starts_with("saludo > menu > promesa > despedida"),
        "{promise:?}"
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
        Duration::from_secs(30),
    );
    let csv = String::from_utf8_lossy(&promises.stdout);
    let line = csv
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("no promise row\n{csv}\n{}", text(&out)));
    assert!(
        line.contains(",PROMESA,Juan Pérez,+525512340001,") && line.contains(&next_december_15()),
        "{csv}"
    );

    let opt_out = row("BAJA");
    assert_eq!(opt_out["outcome"], "opt_out", "{opt_out:?}");
    assert_eq!(opt_out["hangup_by"], "dialer");

    let silent = row("SILENCIO");
    assert_eq!(silent["outcome"], "no_input", "{silent:?}");
    assert_eq!(
        silent["inputs"], r#"[["menu",""],["menu",""],["menu",""]]"#,
        "three waits, two no-input prompts between them"
    );
    assert_eq!(silent["hangup_by"], "dialer");

    // The next campaign skips the number that opted out.
    let mut next = spec.clone();
    next.name = "segunda".into();
    next.contacts = vec![
        ("BAJA-2".into(), "55 1234 0002".into(), "Ana López".into()),
        ("OTRO".into(), "55 1234 0009".into(), "Otro Deudor".into()),
    ];
    let config = std::fs::read_to_string(&campaign.config)
        .unwrap()
        .replace("name = \"prueba\"", "name = \"segunda\"");
    std::fs::write(&campaign.config, config).unwrap();
    let csv = next.contacts.iter().fold(
        String::from("id,phone,name,balance,due_date\n"),
        |acc, (id, phone, name)| acc + &format!("{id},{phone},{name},500,2026-12-15\n"),
    );
    std::fs::write(campaign.dir.path().join("contacts.csv"), csv).unwrap();
    let second = campaign.run(Duration::from_secs(60));
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("on the do-not-call list: 1 contacts"),
        "{}",
        text(&second)
    );
    let log = carrier.stop();
    assert!(
        !log.iter().any(
            |l| json_field(l, "dialed").as_deref() == Some("+525512340002")
                && l.contains("segunda")
        ),
        "the opted-out number was called again"
    );
    // On the wire: the menu three times, the no-input prompt twice.
    let silent_call = log
        .iter()
        .find(|l| json_field(l, "dialed").as_deref() == Some("+525512340003"))
        .unwrap_or_else(|| panic!("the silent debtor's call: {log:#?}"));
    let audio = heard(silent_call);
    let no_input = rendered(&["tts:No recibimos su respuesta."], "es-MX");
    let menu = rendered(&["tts:Marque uno, dos o nueve."], "es-MX");
    assert_eq!(
        occurrences(&audio, &no_input).len(),
        2,
        "the no-input prompt, heard twice ({:.1} s of audio)",
        audio.len() as f64 / 8000.0
    );
    assert_eq!(
        occurrences(&audio, &menu).len(),
        3,
        "the menu, heard three times"
    );

    let dialed_twice = log
        .iter()
        .filter(|l| json_field(l, "dialed").as_deref() == Some("+525512340002"))
        .count();
    assert_eq!(dialed_twice, 1, "{log:#?}");
    let rows = campaign.report();
    assert!(
        rows.iter()
            .any(|r| r["campaign"] == "segunda" && r["contact_id"] == "OTRO")
    );
    assert!(!rows.iter().any(|r| r["contact_id"] == "BAJA-2"));
}
