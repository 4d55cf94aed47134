//! A campaign with two trunks: calls are shared by the trunks' weights,
//! and a call the first trunk refuses with 503 (sipp) is placed again at
//! once through the second (the simulated carrier), with the same verdict
//! and message. The summary and `dialer report --trunks` give each trunk's
//! calls and answer-seizure ratio.

use std::collections::BTreeMap;
use std::time::Duration;

use dialer_tests::{
    Campaign, CampaignSpec, SimCarrier, Sipp, SippOptions, dialer, parse_report, text,
};

#[test]
fn a_call_refused_by_one_trunk_goes_out_through_the_other() {
    let refusing = Sipp::start(SippOptions {
        calls: 10,
        ..SippOptions::new("uas_503.xml")
    });
    let carrier =
        SimCarrier::start("[default]\naction = \"answer\"\nring_s = 0.2\nhangup_after_s = 1.0\n");
    let mut spec = CampaignSpec::new(refusing.port);
    spec.contacts = (1..=4)
        .map(|i| {
            (
                format!("D-{i}"),
                format!("55 1234 000{i}"),
                format!("Deudor {i}"),
            )
        })
        .collect();
    spec.max_channels = 1;
    spec.trunk_extra = "weight = 3\n".into();
    spec.sections = format!(
        r#"
[[trunk]]
name = "respaldo"
address = "127.0.0.1:{}"
caller_id = "+525599990001"
max_channels = 4
max_cps = 10
"#,
        carrier.port
    );
    let campaign = Campaign::write(&spec);
    let config = std::fs::read_to_string(&campaign.config).unwrap();
    assert!(config.contains("\ntrunk = \"sipp\"\n"), "{config}");
    std::fs::write(
        &campaign.config,
        config.replace(
            "\ntrunk = \"sipp\"\n",
            "\ntrunks = [\"sipp\", \"respaldo\"]\n",
        ),
    )
    .unwrap();
    let out = campaign.run(Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows = campaign.report();
    let mut by_contact: BTreeMap<&str, Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for row in &rows {
        by_contact.entry(&row["contact_id"]).or_default().push(row);
    }
    assert_eq!(by_contact.len(), 4, "{rows:?}\n{}", text(&out));
    let mut refused = 0;
    for (id, calls) in &by_contact {
        // Every debtor is reached, through the second trunk at the end.
        let last = calls.last().unwrap();
        assert_eq!(
            (last["trunk"].as_str(), last["disposition"].as_str()),
            ("respaldo", "answered"),
            "{id}: {calls:?}"
        );
        if calls.len() == 2 {
            let first = calls[0];
            assert_eq!(
                (
                    first["trunk"].as_str(),
                    first["disposition"].as_str(),
                    first["sip_code"].as_str()
                ),
                ("sipp", "congestion", "503"),
                "{id}: {calls:?}"
            );
            assert_eq!(last["attempt"], "2");
            assert!(
                last["compliance"].contains(
                    "placed again through another trunk after trunk 'sipp' answered congestion"
                ),
                "{last:?}"
            );
            refused += 1;
        } else {
            assert_eq!(calls.len(), 1, "{id}: {calls:?}");
        }
    }
    // The heavier trunk takes the first call (how many more it takes
    // depends on when its one channel and its rate are free again; the
    // shares by weight are unit-tested).
    assert!(refused >= 1, "{rows:?}");
    drop(refusing);
    assert!(stdout.contains("Trunks:"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "failovers: {refused} calls placed again through another trunk"
        )),
        "{stdout}"
    );
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name}: {stdout}"))
            .to_string()
    };
    assert!(
        line("sipp").contains(&format!("{refused} calls  ASR   0%")),
        "{stdout}"
    );
    assert!(line("respaldo").contains("4 calls  ASR 100%"), "{stdout}");

    let report = dialer(
        campaign.dir.path(),
        &["report", "--db", "dialer.db", "--trunks", "--format", "csv"],
        Duration::from_secs(30),
    );
    assert!(report.status.success(), "{}", text(&report));
    let trunks = parse_report(&report.stdout);
    let by_name: BTreeMap<&str, &BTreeMap<String, String>> =
        trunks.iter().map(|r| (r["trunk"].as_str(), r)).collect();
    assert_eq!(by_name["sipp"]["calls"], refused.to_string(), "{trunks:?}");
    assert_eq!(by_name["sipp"]["asr_pct"], "0.0", "{trunks:?}");
    assert_eq!(
        by_name["sipp"]["congestion"],
        refused.to_string(),
        "{trunks:?}"
    );
    assert_eq!(by_name["respaldo"]["calls"], "4", "{trunks:?}");
    assert_eq!(by_name["respaldo"]["answered"], "4", "{trunks:?}");
    assert_eq!(by_name["respaldo"]["asr_pct"], "100.0", "{trunks:?}");
}
