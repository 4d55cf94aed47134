//! A registry's do-not-call export imported into the database
//! (`dialer do-not-call`): every campaign on the database skips its
//! numbers. A line that is not a number is refused with its file and line.

use std::time::Duration;

use dialer_tests::{Campaign, CampaignSpec, SimCarrier, dialer, text};

#[test]
fn imported_numbers_are_never_called() {
    let carrier =
        SimCarrier::start("[default]\naction = \"answer\"\nring_s = 0.2\nhangup_after_s = 1.0\n");
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts = vec![
        ("D-1".into(), "55 1234 0001".into(), "Ana Ruiz".into()),
        ("D-2".into(), "55 1234 0002".into(), "Luis Mora".into()),
    ];
    let campaign = Campaign::write(&spec);
    let dir = campaign.dir.path();
    std::fs::write(
        dir.join("repep.csv"),
        "telefono,fecha\n5512340002,2026-11-30\n+573001234567,2026-11-30\n",
    )
    .unwrap();
    let import = |file: &str| {
        dialer(
            dir,
            &[
                "do-not-call",
                "--db",
                "dialer.db",
                "--reason",
                "repep",
                file,
            ],
            Duration::from_secs(30),
        )
    };
    let out = import("repep.csv");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(
            "2 numbers read, 2 added to the do-not-call list of dialer.db (0 were on it already)"
        ),
        "{}",
        text(&out)
    );
    let again = import("repep.csv");
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("2 numbers read, 0 added"),
        "{}",
        text(&again)
    );
    std::fs::write(dir.join("mala.txt"), "5512340003\nllamar luego\n").unwrap();
    let bad = import("mala.txt");
    assert!(!bad.status.success(), "{}", text(&bad));
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("mala.txt:2: 'llamar luego' is not a phone number"),
        "{}",
        text(&bad)
    );

    let run = campaign.run(Duration::from_secs(60));
    let rows = campaign.report();
    assert_eq!(rows.len(), 1, "{rows:?}\n{}", text(&run));
    assert_eq!(rows[0]["contact_id"], "D-1");
    assert!(
        String::from_utf8_lossy(&run.stdout)
            .contains("(skipped, on the do-not-call list: 1 contacts)"),
        "{}",
        text(&run)
    );
}
