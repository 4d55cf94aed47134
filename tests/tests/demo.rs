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
    let digits: BTreeMap<&str, &str> = rows
        .iter()
        .filter(|r| !r["digits"].is_empty())
        .map(|r| (r["contact_id"].as_str(), r["digits"].as_str()))
        .collect();
    let pressed = BTreeMap::from([
        ("D-1003", "1"),
        ("D-1008", "1"),
        ("D-1011", "2"),
        ("D-1014", "1"),
        ("D-1018", "1"),
    ]);
    assert_eq!(digits, pressed);
    let calls = std::fs::read_to_string(dir.path().join("carrier/calls.jsonl")).unwrap();
    assert_eq!(calls.lines().count(), 20, "the carrier saw every call");
    assert!(
        calls.lines().all(|l| l.contains("\"authenticated\":true")),
        "every INVITE was authenticated"
    );
}
