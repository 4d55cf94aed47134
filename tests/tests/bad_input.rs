//! Bad input gets a clear error naming the file, line and field, and never
//! a panic: a misspelled config key, a list without a phone column, a
//! missing prompt, and rows that cannot be dialed (skipped, the rest run).

use std::time::Duration;

use dialer_tests::{Campaign, CampaignSpec, Sipp, SippOptions, free_port, text};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn misspelled_config_key_is_named_with_file_and_line() {
    let campaign = Campaign::write(&CampaignSpec::new(free_port()));
    let config = std::fs::read_to_string(&campaign.config).unwrap();
    let bad = config.replace("ring_timeout_s", "ring_timout_s");
    let line = bad
        .lines()
        .position(|l| l.starts_with("ring_timout_s"))
        .unwrap()
        + 1;
    std::fs::write(&campaign.config, bad).unwrap();
    let out = campaign.run_unchecked(Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    let expected = format!("campaign.toml: line {line}: `campaign.ring_timout_s`: unknown field");
    assert!(err.contains(&expected), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        !campaign.dir.path().join("dialer.db").exists(),
        "nothing is written for a bad config"
    );
}

#[test]
fn invalid_values_name_their_key() {
    let campaign = Campaign::write(&CampaignSpec::new(free_port()));
    let config = std::fs::read_to_string(&campaign.config).unwrap();
    std::fs::write(
        &campaign.config,
        config.replace("transport = \"udp\"", "transport = \"sctp\""),
    )
    .unwrap();
    let err = stderr(&campaign.run_unchecked(Duration::from_secs(30)));
    assert!(
        err.contains("campaign.toml: line 15: `trunk.transport`: unknown variant `sctp`"),
        "{err}"
    );

    let bad = config.replace("trunk = \"sipp\"", "trunk = \"nadie\"");
    let line = bad.lines().position(|l| l.starts_with("trunk = ")).unwrap() + 1;
    std::fs::write(&campaign.config, bad).unwrap();
    let err = stderr(&campaign.run_unchecked(Duration::from_secs(30)));
    assert!(
        err.contains(&format!("campaign.toml:{line}: `campaign.trunk`")) && err.contains("nadie"),
        "{err}"
    );
}

#[test]
fn list_without_a_phone_column_is_refused_before_any_call() {
    let mut spec = CampaignSpec::new(free_port());
    spec.contacts_csv =
        Some(b"id,celular_2,name,balance,due_date\nC-1,5512345678,Ana,1,2026-12-01\n".to_vec());
    let campaign = Campaign::write(&spec);
    let out = campaign.run_unchecked(Duration::from_secs(30));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("contacts.csv:1: the header has no phone column"),
        "{err}"
    );
}

#[test]
fn missing_prompt_is_named() {
    let mut spec = CampaignSpec::new(free_port());
    spec.prompt = "/nonexistent/saludo.wav".into();
    let err = stderr(&Campaign::write(&spec).run_unchecked(Duration::from_secs(30)));
    assert!(
        err.contains("/nonexistent/saludo.wav does not exist"),
        "{err}"
    );
}

#[test]
fn bad_rows_are_skipped_and_latin1_names_survive() {
    let sipp = Sipp::start(SippOptions {
        ring_ms: Some(100),
        calls: 2,
        ..SippOptions::new("uas_busy.xml")
    });
    let mut spec = CampaignSpec::new(sipp.port);
    // Windows-1252 bytes: "Muñoz" and "Peña"; a row with a short phone; a row with no id.
    spec.contacts_csv = Some(
        b"id;phone;name;balance;due_date\n\
          C-1;55 1234 5678;Jos\xE9 Mu\xF1oz;1.234,50;15/12/2026\n\
          C-2;123;Sin N\xFAmero;10;15/12/2026\n\
          ;55 1234 5679;Sin Id;10;15/12/2026\n\
          C-4;55 1234 5670;Luc\xEDa Pe\xF1a;99;15/12/2026\n"
            .to_vec(),
    );
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    let err = stderr(&out);
    assert!(err.contains("is not UTF-8; read as Windows-1252"), "{err}");
    assert!(
        err.contains("contacts.csv:3: phone: '123' is not a valid number"),
        "{err}"
    );
    assert!(err.contains("contacts.csv:4: id: is empty"), "{err}");
    let rows = campaign.report();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str()).collect();
    assert_eq!(names, vec!["José Muñoz", "Lucía Peña"]);
    assert!(rows.iter().all(|r| r["disposition"] == "busy"), "{rows:?}");
    drop(sipp);
}
