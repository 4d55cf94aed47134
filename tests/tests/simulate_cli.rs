//! `dialer simulate`: a shift in virtual time, the pacers side by side;
//! and a clear error for a shift that cannot be.

use std::time::Duration;

use dialer_tests::{dialer, repo_root, text};

/// The row of `pacer` in the table: its numbers by column.
fn row(stdout: &str, pacer: &str) -> Vec<f64> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(pacer))
        .unwrap_or_else(|| panic!("no {pacer} row in\n{stdout}"));
    line[pacer.len()..]
        .split_whitespace()
        .map(|v| v.trim_end_matches('%').parse().expect("a number"))
        .collect()
}

/// `dialer simulate ARGS`, which must succeed: its standard output.
fn simulate(args: &[&str]) -> String {
    let args: Vec<&str> = std::iter::once("simulate")
        .chain(args.iter().copied())
        .collect();
    let out = dialer(&repo_root(), &args, Duration::from_secs(120));
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_shift_compares_the_pacers() {
    let stdout = simulate(&[
        "--agents",
        "10",
        "--hours",
        "2",
        "--answer-rate",
        "0.3",
        "--handle-s",
        "120",
        "--pacers",
        "progressive,predictive,oracle",
    ]);
    assert!(
        stdout.contains("10 agents, 2 h, 30% of calls answered"),
        "{stdout}"
    );
    // Columns: dials, answered, connected, abandoned, abandon %, occupancy, ...
    let progressive = row(&stdout, "progressive");
    let predictive = row(&stdout, "predictive");
    let oracle = row(&stdout, "oracle");
    assert_eq!(progressive[3], 0.0, "progressive never abandons: {stdout}");
    assert_eq!(
        progressive[1], progressive[2],
        "every answer connected: {stdout}"
    );
    for r in [&predictive, &oracle] {
        assert!(r[4] <= 3.0, "under the 3% cap: {stdout}");
        assert_eq!(
            r[1],
            r[2] + r[3],
            "answered = connected + abandoned: {stdout}"
        );
    }
    assert!(
        predictive[5] > progressive[5],
        "predictive keeps agents busier: {stdout}"
    );
    assert!(
        oracle[5] >= predictive[5],
        "nothing beats the oracle: {stdout}"
    );
}

/// Two trunks, the first out mid-shift: the header says so, and the
/// pacer's figures from the failover on are printed.
#[test]
fn a_shift_with_two_trunks_and_a_failover() {
    let stdout = simulate(&[
        "--agents",
        "10",
        "--hours",
        "2",
        "--answer-rate",
        "0.1",
        "--second-trunk-answer-rate",
        "0.4",
        "--first-trunk-out-at-h",
        "1",
        "--handle-s",
        "60",
        "--pacers",
        "predictive",
    ]);
    assert!(
        stdout.contains(
            "a second trunk takes 50% of the calls, 40% answered by a person, \
             and all of them from hour 1, when the first is out; the pacer is told each call's trunk"
        ),
        "{stdout}"
    );
    let predictive = row(&stdout, "predictive");
    assert!(predictive[4] <= 3.0, "under the 3% cap: {stdout}");
    assert!(stdout.contains("after the change: occupancy"), "{stdout}");
}

/// Earlier days' rates told as each hour begins, and the yardsticks side
/// by side: the header says what the pacer is told, and knowing how the
/// ringing calls end keeps the agents busier than knowing when they free.
#[test]
fn a_shift_told_the_hours_with_the_yardsticks() {
    let stdout = simulate(&[
        "--agents",
        "10",
        "--hours",
        "2",
        "--answer-rate",
        "0.3",
        "--answer-rate-after",
        "0.15",
        "--change-at-h",
        "1",
        "--handle-s",
        "120",
        "--tell-hour-rates",
        "--pacers",
        "predictive,knows-agents,knows-calls",
    ]);
    assert!(
        stdout.contains("the pacer is told each hour's answer rate as it begins"),
        "{stdout}"
    );
    let predictive = row(&stdout, "predictive");
    let agents = row(&stdout, "knows-agents");
    let calls = row(&stdout, "knows-calls");
    assert!(predictive[4] <= 3.0, "under the 3% cap: {stdout}");
    assert!(
        calls[5] > agents[5],
        "knowing the calls is worth more: {stdout}"
    );
}

#[test]
fn an_impossible_shift_is_refused() {
    let out = dialer(
        &repo_root(),
        &["simulate", "--answer-rate", "0.8", "--machine-rate", "0.5"],
        Duration::from_secs(30),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("--answer-rate must be above 0, and with --machine-rate at most 1"),
        "{}",
        text(&out)
    );
    let out = dialer(
        &repo_root(),
        &["simulate", "--patience-s", "0"],
        Duration::from_secs(30),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("--patience-s must be above 0"),
        "{}",
        text(&out)
    );
    let out = dialer(
        &repo_root(),
        &[
            "simulate",
            "--second-trunk-answer-rate",
            "0.3",
            "--second-trunk-share",
            "1.5",
        ],
        Duration::from_secs(30),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("--second-trunk-share must be between 0 and 1"),
        "{}",
        text(&out)
    );
}
