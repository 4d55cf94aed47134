//! `dialer demo`: the whole sample campaign against the built-in carrier.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use dialer_tests::{dialer, report_csv, text};

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
        ("answered", 14),
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
    assert_eq!(outcome("D-1008"), ("0", "transfer_requested"));
    assert_eq!(outcome("D-1011"), ("9", "opt_out"));
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
        ("hung_up", 9),
        ("opt_out", 1),
        ("promise_to_pay", 2),
        ("transfer_requested", 2),
    ]);
    assert_eq!(outcomes, expected_outcomes, "{}", text(&out));
    for row in &rows {
        assert!(
            !row["note"].contains("not played"),
            "a prompt of the flow was skipped: {row:?}"
        );
    }
    let promises = String::from_utf8_lossy(&out.stdout);
    assert!(promises.contains("2 promises"), "{promises}");
    let calls = std::fs::read_to_string(dir.path().join("carrier/calls.jsonl")).unwrap();
    assert_eq!(calls.lines().count(), 20, "the carrier saw every call");
    assert!(
        calls.lines().all(|l| l.contains("\"authenticated\":true")),
        "every INVITE was authenticated"
    );
}
