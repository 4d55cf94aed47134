//! `dialer demo`: the whole sample campaign against the built-in carrier.
//! The summary counts what the report holds; every answered debtor heard
//! their own opening (name, balance, due date), exactly as `dialer prompts
//! render` renders it for them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use dialer_tests::{dialer, json_field, report_csv, text};

/// The summary's `  NAME   COUNT` lines after `header`, up to the first
/// line that is not one.
fn summary_counts(stdout: &str, header: &str) -> BTreeMap<String, usize> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with(header))
        .skip(1)
        .map_while(|l| {
            let (name, count) = l.strip_prefix("  ")?.split_once(' ')?;
            Some((name.to_owned(), count.trim().parse().ok()?))
        })
        .collect()
}

fn samples(path: &Path) -> Vec<i16> {
    media::prompt::Prompt::load(path)
        .unwrap()
        .samples()
        .to_vec()
}

#[test]
fn demo_runs_the_spanish_sample_campaign_with_mixed_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = dialer(
        dir.path(),
        &["demo", "--dir", dir.path().to_str().unwrap()],
        Duration::from_secs(180),
    );
    let elapsed = started.elapsed();
    assert!(out.status.success(), "{}", text(&out));
    println!("dialer demo took {:.1} s", elapsed.as_secs_f64());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Campaign 'recordatorio-demo': 20 contacts in the list, 20 dialed"),
        "{}",
        text(&out)
    );
    assert!(
        stdout.contains("María Guadalupe Herná"),
        "the report table is printed\n{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("contactos.csv:22: telefono: '12 34'"),
        "the bad row is reported\n{stderr}"
    );
    assert!(
        stderr.contains("contactos.csv:23: saldo: 'N/D' is not an amount"),
        "an unreadable balance is reported\n{stderr}"
    );

    let rows = report_csv(&dir.path().join("demo.db"));
    assert_eq!(rows.len(), 20);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for row in &rows {
        *counts.entry(row["disposition"].as_str()).or_default() += 1;
    }
    let expected = BTreeMap::from([
        ("answered", 12),
        ("machine", 2),
        ("busy", 2),
        ("no_answer", 2),
        ("rejected", 1),
        ("invalid_number", 1),
    ]);
    assert_eq!(counts, expected, "{}", text(&out));
    // The recordatorio flow: who pressed what, and what came of it.
    let outcome = |id: &str| {
        let row = rows.iter().find(|r| r["contact_id"] == id).unwrap();
        (row["digits"].as_str(), row["outcome"].as_str())
    };
    assert_eq!(
        outcome("D-1001"),
        ("1", "hung_up"),
        "heard the balance, then hung up"
    );
    assert_eq!(outcome("D-1008"), ("0", "transferred"));
    assert_eq!(outcome("D-1018"), ("0", "transferred"));
    // Each went to a simulated agent, who recorded a tipificación.
    let taken_by: BTreeSet<(&str, &str)> = rows
        .iter()
        .filter(|r| r["outcome"] == "transferred")
        .map(|r| (r["agent"].as_str(), r["agent_disposition"].as_str()))
        .collect();
    assert_eq!(
        taken_by,
        BTreeSet::from([("ana", "promesa_de_pago"), ("beto", "convenio_de_pago")]),
        "{}",
        text(&out)
    );
    for row in rows.iter().filter(|r| r["outcome"] == "transferred") {
        assert_eq!(row["queue"], "cobranza-temprana", "{row:?}");
    }
    assert_eq!(outcome("D-1011"), ("9", "opt_out"));
    // The two answering machines got the message for machines, the one
    // that beeps after its beep; everybody else said "¿Bueno?".
    let row_of = |id: &str| rows.iter().find(|r| r["contact_id"] == id).unwrap();
    for (id, after) in [
        ("D-1005", "message after the beep"),
        ("D-1013", "message after the greeting (no beep heard)"),
    ] {
        let row = row_of(id);
        assert_eq!(
            (row["disposition"].as_str(), row["amd"].as_str()),
            ("machine", "machine"),
            "{row:?}"
        );
        assert!(row["note"].contains(after), "{row:?}");
    }
    for row in rows.iter().filter(|r| r["disposition"] == "answered") {
        assert_eq!(row["amd"], "person", "{row:?}");
    }
    assert_eq!(outcome("D-1002"), ("", "hung_up"));
    for id in ["D-1003", "D-1014"] {
        let (digits, result) = outcome(id);
        assert_eq!(result, "promise_to_pay", "{id}");
        assert!(
            digits.starts_with('2') && digits.ends_with("#1") && digits.len() == 7,
            "{id}: {digits}"
        );
    }
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for row in rows.iter().filter(|r| !r["outcome"].is_empty()) {
        *outcomes.entry(row["outcome"].as_str()).or_default() += 1;
    }
    let expected_outcomes = BTreeMap::from([
        ("hung_up", 7),
        ("opt_out", 1),
        ("promise_to_pay", 2),
        ("transferred", 2),
    ]);
    assert_eq!(outcomes, expected_outcomes, "{}", text(&out));
    for row in &rows {
        assert!(
            !row["note"].contains("not played"),
            "a prompt of the flow was skipped: {row:?}"
        );
    }
    // Two promises made in the IVR, one recorded by agent ana.
    let promises = String::from_utf8_lossy(&out.stdout);
    assert!(promises.contains("3 promises"), "{promises}");
    // The queue and agent figures are printed.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("cobranza-temprana") && l.split_whitespace().nth(1) == Some("2")),
        "queue figures\n{stdout}"
    );
    for agent in ["ana ", "beto "] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(agent) && l.split_whitespace().nth(1) == Some("1")),
            "{agent} took one call\n{stdout}"
        );
    }

    // The summary at the end counts the same, by disposition and outcome.
    let owned = |m: BTreeMap<&str, usize>| -> BTreeMap<String, usize> {
        m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    };
    assert_eq!(
        summary_counts(&stdout, "Campaign 'recordatorio-demo'"),
        owned(expected),
        "the summary's dispositions\n{stdout}"
    );
    assert_eq!(
        summary_counts(&stdout, "Outcomes of the answered calls:"),
        owned(expected_outcomes),
        "the summary's outcomes\n{stdout}"
    );
    // Not a terminal: no progress bars (tests/tests/progress.rs draws them).
    assert!(
        !stderr.contains("calls    [") && !stdout.contains("calls    ["),
        "a progress bar drawn into a pipe"
    );

    let calls = std::fs::read_to_string(dir.path().join("carrier/calls.jsonl")).unwrap();
    assert_eq!(calls.lines().count(), 20, "the carrier saw every call");
    assert!(
        calls.lines().all(|l| l.contains("\"authenticated\":true")),
        "every INVITE was authenticated"
    );
    check_personal_openings(dir.path(), &rows, &calls);
}

/// Every answered debtor heard their own opening: the recording the carrier
/// made holds that debtor's rendered opening, sample for sample (all of it
/// when the debtor neither pressed a key nor hung up during it), from the
/// moment the answering-machine detector said a person answered (silence
/// before), and no two debtors heard the same start.
fn check_personal_openings(dir: &Path, rows: &[BTreeMap<String, String>], calls: &str) {
    // Keys (which cut the prompt short) and the earliest hang-up come 5 s
    // after the answer at the soonest (the demo's carrier plan), 3 s after
    // the opening began at the latest.
    let before_any_key = 3 * 8000 - 4000;
    let mut starts = BTreeSet::new();
    let mut whole = 0;
    let answered: Vec<_> = rows
        .iter()
        .filter(|r| r["disposition"] == "answered")
        .collect();
    for row in &answered {
        let id = &row["contact_id"];
        let opening = dir.join(format!("opening-{id}.wav"));
        let render = dialer(
            dir,
            &[
                "prompts",
                "render",
                dir.join("config.toml").to_str().unwrap(),
                "--contact",
                id,
                "--out",
                opening.to_str().unwrap(),
            ],
            Duration::from_secs(60),
        );
        assert!(render.status.success(), "{}", text(&render));
        let said = String::from_utf8_lossy(&render.stdout);
        assert!(said.contains(&row["name"]), "{id}: {said}");
        let call = calls
            .lines()
            .find(|l| json_field(l, "dialed").as_deref() == Some(row["phone"].as_str()))
            .unwrap_or_else(|| panic!("{id}: no carrier record"));
        let recorded = samples(Path::new(&json_field(call, "recording").unwrap()));
        let message = samples(&opening);
        // Where the opening begins: its first loud stretch, found in the
        // recording, less the quiet it starts with.
        let loud = message.iter().position(|s| s.abs() > 1_000).unwrap();
        let probe = &message[loud..loud + 800];
        let at = (0..recorded.len().saturating_sub(loud + 800).min(5 * 8000))
            .find(|&o| &recorded[o + loud..o + loud + 800] == probe)
            .unwrap_or_else(|| panic!("{id}: the opening is not in the recording"));
        assert!(
            recorded[..at].iter().all(|s| s.abs() < 64),
            "{id}: the dialer said nothing while it listened"
        );
        let amd_s = row["amd_ms"].parse::<f64>().unwrap() / 1000.0;
        let began = at as f64 / 8000.0;
        assert!(
            began > amd_s - 0.1 && began < amd_s + 0.4,
            "{id}: the opening began {began:.2} s in; the verdict came at {amd_s:.2} s"
        );
        let heard = &recorded[at..];
        let pressed = !json_field(call, "digits_sent")
            .unwrap_or_default()
            .is_empty();
        let n = if pressed {
            message.len().min(before_any_key)
        } else {
            message.len().min(heard.len())
        };
        assert!(n >= before_any_key, "{id}: only {n} samples to compare");
        assert!(
            heard[..n] == message[..n],
            "{id}: the call did not start with the debtor's own opening"
        );
        let rms = (message[..n]
            .iter()
            .map(|&s| f64::from(s).powi(2))
            .sum::<f64>()
            / n as f64)
            .sqrt();
        assert!(rms > 500.0, "{id}: the opening is nearly silent ({rms:.0})");
        if n == message.len() {
            whole += 1;
        }
        starts.insert(heard[..before_any_key].to_vec());
    }
    assert_eq!(answered.len(), 12);
    assert_eq!(
        starts.len(),
        answered.len(),
        "two debtors heard the same opening"
    );
    // 12 answered, less 6 who pressed keys and 1 who hung up after 5 s.
    assert_eq!(whole, 5, "debtors who heard their whole opening");
}
