//! The calling rules decide every dial of a live campaign, against the
//! simulated carrier: the debtor's local hours (from the list's time zone
//! column), numbers of countries without known rules, the campaign's
//! do-not-call file, a bad time zone cell, and the campaign's cap of one
//! call a day per debtor, counted within the run and, in a second
//! campaign, from the store.
//!
//! The zones are chosen from the clock when the test runs (`Etc/GMT±N`,
//! noon or 3 a.m. there), so the test holds at any hour.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use dialer_tests::zone_at_hour;
use dialer_tests::{Campaign, CampaignSpec, SimCarrier, dialer, parse_report, text};

fn deferrals(campaign: &Campaign, name: &str) -> Vec<BTreeMap<String, String>> {
    let out = dialer(
        campaign.dir.path(),
        &[
            "report",
            "--db",
            "dialer.db",
            "--deferrals",
            "--campaign",
            name,
            "--format",
            "csv",
        ],
        Duration::from_secs(30),
    );
    assert!(out.status.success(), "{}", text(&out));
    parse_report(&out.stdout)
}

#[test]
fn the_calling_rules_decide_every_dial_and_are_recorded() {
    let carrier = SimCarrier::start("[default]\naction = \"answer\"\nring_s = 0.2\n");
    let now = Utc::now();
    // Minutes past the hour shift "noon" to at most 12:59, and "3 a.m." to 03:59.
    let noon = zone_at_hour(now, 12);
    let night = zone_at_hour(now, 3);
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts_csv = Some(
        format!(
            "id,phone,name,balance,due_date,zona_horaria\n\
             C-dia,55 1234 0001,Juan Pérez,1200,2026-12-15,{noon}\n\
             C-noche,55 1234 0002,Ana Ruiz,800,2026-12-15,{night}\n\
             C-marte,55 1234 0003,Luis Mora,500,2026-12-15,Marte/Olympus\n\
             C-londres,+44 20 7946 0958,John Smith,300,2026-12-15,\n\
             C-lista,55 1234 0005,Rosa Díaz,900,2026-12-15,{noon}\n\
             C-dia-2,55 1234 0001,Juan Pérez,450,2026-12-20,{noon}\n"
        )
        .into_bytes(),
    );
    spec.max_channels = 1;
    spec.campaign_extra = "do_not_call = [\"no-llamar.csv\"]\n".into();
    spec.compliance = "[compliance]\nmax_calls_per_day = 1\n".into();
    let campaign = Campaign::write(&spec);
    std::fs::write(
        campaign.dir.path().join("no-llamar.csv"),
        "telefono\n# quejas\n55 1234 0005\n",
    )
    .unwrap();
    let out = campaign.run(Duration::from_secs(90));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);

    // The bad zone is the row's error; the row is not called.
    assert!(
        stderr.contains(
            "contacts.csv:4: zona_horaria: 'Marte/Olympus' is not a time zone (an IANA name such as America/Bogota)"
        ),
        "{}",
        text(&out)
    );
    // One call: the debtor whose noon it is. Their second debt is refused
    // at dial time (one call a day), the night one and the London one
    // before any message is rendered, the listed number never considered.
    let rows = campaign.report();
    assert_eq!(rows.len(), 1, "{rows:?}\n{}", text(&out));
    let row = &rows[0];
    assert_eq!(row["contact_id"], "C-dia");
    assert_eq!(row["disposition"], "answered", "{row:?}");
    let because = &row["compliance"];
    assert!(
        because.starts_with("allowed because ")
            && because.contains(&format!(" in {noon} is within Mexico's hours"))
            && because.ends_with("and 0 of 1 calls today"),
        "{because}"
    );
    assert!(
        stdout.contains("not called now, refused by the calling rules: 3 contacts"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(skipped, on the do-not-call list: 1 contacts)"),
        "{stdout}"
    );
    assert!(stdout.contains("(1 rows of the list skipped"), "{stdout}");

    let waiting = deferrals(&campaign, "prueba");
    let by_id: BTreeMap<&str, &BTreeMap<String, String>> = waiting
        .iter()
        .map(|r| (r["contact_id"].as_str(), r))
        .collect();
    assert_eq!(
        by_id.keys().copied().collect::<Vec<_>>(),
        ["C-dia-2", "C-londres", "C-noche"],
        "{waiting:?}"
    );
    let night_row = by_id["C-noche"];
    assert!(
        night_row["reason"].contains(&format!(
            " in {night} is outside Mexico's hours that day, 07:00-22:00"
        )),
        "{night_row:?}"
    );
    // 7:00 there: three to four hours after 3:xx, on the hour.
    let retry: DateTime<Utc> = night_row["retry_at"].parse().unwrap();
    let wait = retry - now;
    assert!(
        wait > chrono::Duration::minutes(179) && wait <= chrono::Duration::minutes(241),
        "retry at {retry}, now {now}"
    );
    assert_eq!((retry.minute(), retry.second()), (0, 0), "{retry}");
    assert!(
        by_id["C-londres"]["reason"]
            .contains("no calling rules are known for +442079460958's country"),
        "{:?}",
        by_id["C-londres"]
    );
    assert_eq!(by_id["C-londres"]["retry_at"], "");
    let twice = by_id["C-dia-2"];
    assert!(
        twice["reason"].contains(
            "1 call(s) today already, and the campaign (compliance.max_calls_per_day) allows 1 per day"
        ),
        "{twice:?}\n{}", text(&out)
    );
    assert!(!twice["retry_at"].is_empty(), "{twice:?}");

    // Another campaign on the same list and database: the debtor already
    // had today's call, in the first campaign; the store says so.
    let config = std::fs::read_to_string(&campaign.config).unwrap();
    std::fs::write(
        &campaign.config,
        config.replace("name = \"prueba\"", "name = \"prueba-2\""),
    )
    .unwrap();
    let again = campaign.run(Duration::from_secs(90));
    let rows = campaign.report();
    assert_eq!(rows.len(), 1, "no new call: {rows:?}\n{}", text(&again));
    let second = deferrals(&campaign, "prueba-2");
    let day = second
        .iter()
        .find(|r| r["contact_id"] == "C-dia")
        .unwrap_or_else(|| panic!("C-dia not deferred: {second:?}\n{}", text(&again)));
    assert!(day["reason"].contains("1 call(s) today already"), "{day:?}");
}

/// With the checks on, a ring timeout under 15 s is refused before any
/// call, naming the key.
#[test]
fn a_short_ring_timeout_is_refused_when_the_rules_are_on() {
    let mut spec = CampaignSpec::new(9);
    spec.ring_timeout_s = 8.0;
    spec.compliance = String::new();
    let campaign = Campaign::write(&spec);
    let out = campaign.run_unchecked(Duration::from_secs(30));
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`campaign.ring_timeout_s`: 8 s is under the 15 s a call must ring"),
        "{stderr}"
    );
}
