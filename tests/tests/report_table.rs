//! `dialer report --format table` on a real campaign's database: the
//! columns an operator scans, one aligned row per attempt, the total; and
//! `--campaign` picks one campaign.

use std::time::Duration;

use dialer_tests::{Campaign, CampaignSpec, SimCarrier, dialer, report_csv, text};

const PLAN: &str = r#"
[default]
action = "answer"
ring_s = 0.3
digits = [{ at_s = 0.5, key = "1" }]
hangup_after_s = 1.5

[[number]]
number = "+525512340002"
action = "busy"

[[number]]
number = "+525512340003"
action = "reject"
ring_s = 0
code = 404
"#;

const COLUMNS: [&str; 11] = [
    "contact",
    "phone",
    "name",
    "disposition",
    "sip",
    "digits",
    "outcome",
    "ring_s",
    "talk_s",
    "started (UTC)",
    "note",
];

#[test]
fn the_table_shows_every_attempt_in_aligned_columns() {
    let mut carrier = SimCarrier::start(PLAN);
    let mut spec = CampaignSpec::new(carrier.port);
    spec.name = "recordatorio-diciembre".into();
    spec.contacts = vec![
        (
            "D-1".into(),
            "55 1234 0001".into(),
            "María Guadalupe Hernández".into(),
        ),
        ("D-2".into(), "55 1234 0002".into(), "José Muñoz".into()),
        ("D-3".into(), "55 1234 0003".into(), "Ana López".into()),
    ];
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(120));
    carrier.stop();
    let db = campaign.dir.path().join("dialer.db");
    let report = |extra: &[&str]| {
        let mut args = vec!["report", "--db", db.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = dialer(campaign.dir.path(), &args, Duration::from_secs(30));
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    // The table is the default format.
    let table = report(&[]);
    assert_eq!(table, report(&["--format", "table"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines.len(),
        2 + 3 + 1,
        "header, rule, 3 rows, total\n{table}"
    );

    // Each column starts where its header starts.
    let header = lines[0];
    let starts: Vec<usize> = COLUMNS
        .iter()
        .map(|c| {
            header
                .find(c)
                .unwrap_or_else(|| panic!("no column {c}: {header}"))
        })
        .collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{header}");
    assert!(
        lines[1].chars().all(|c| c == '-' || c == ' '),
        "a rule under the header: {}",
        lines[1]
    );
    let cell = |line: &str, column: usize| -> String {
        let chars: Vec<char> = line.chars().collect();
        let end = starts.get(column + 1).copied().unwrap_or(chars.len());
        chars[starts[column].min(chars.len())..end.min(chars.len())]
            .iter()
            .collect::<String>()
            .trim()
            .to_owned()
    };
    let csv = report_csv(&db);
    for (line, expected) in lines[2..5].iter().zip(&csv) {
        assert_eq!(cell(line, 0), expected["contact_id"], "{line}");
        assert_eq!(cell(line, 1), expected["phone"], "{line}");
        let name = &expected["name"];
        if name.chars().count() <= 22 {
            assert_eq!(&cell(line, 2), name, "{line}");
        } else {
            let clipped: String = name.chars().take(21).collect();
            assert_eq!(cell(line, 2), format!("{clipped}…"), "{line}");
        }
        assert_eq!(cell(line, 3), expected["disposition"], "{line}");
        assert_eq!(cell(line, 4), expected["sip_code"], "{line}");
        assert_eq!(cell(line, 5), expected["digits"], "{line}");
        assert_eq!(cell(line, 6), expected["outcome"], "{line}");
        assert_eq!(cell(line, 7), expected["ring_s"], "{line}");
        assert_eq!(cell(line, 8), expected["talk_s"], "{line}");
        assert_eq!(
            cell(line, 9),
            expected["started_at"][..19].replace('T', " "),
            "{line}"
        );
    }
    let row = |id: &str| {
        lines[2..5]
            .iter()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("no row for {id}\n{table}"))
    };
    assert_eq!(cell(row("D-1"), 1), "+525512340001");
    assert_eq!(
        cell(row("D-1"), 2),
        "María Guadalupe Herná…",
        "clipped to 22"
    );
    assert_eq!(cell(row("D-1"), 3), "answered");
    assert_eq!(cell(row("D-1"), 4), "200");
    assert_eq!(cell(row("D-1"), 5), "1");
    assert_eq!(cell(row("D-2"), 3), "busy");
    assert_eq!(cell(row("D-2"), 4), "486");
    assert_eq!(cell(row("D-3"), 3), "invalid_number");
    assert_eq!(cell(row("D-3"), 4), "404");
    assert_eq!(lines[5], "3 attempts", "{}", text(&out));

    assert_eq!(
        report(&["--campaign", "recordatorio-diciembre"]),
        table,
        "the only campaign"
    );
    assert_eq!(
        report(&["--campaign", "otra"]).lines().last(),
        Some("0 attempts")
    );
}
