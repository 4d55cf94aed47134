//! Contacts added to a campaign: running it again over the longer list dials
//! only the new rows, each once, and their personal messages are rendered
//! before they answer (the audio starts within 40 ms of the 200 OK, as for
//! the first run's).

use std::time::Duration;

use dialer_tests::capture::Capture;
use dialer_tests::rtp_timing::answered_calls;
use dialer_tests::{Campaign, CampaignSpec, Sipp, SippOptions, repo_root, text};

fn contact(i: u32) -> (String, String, String) {
    (
        format!("C-{i}"),
        format!("55 1234 57{i:02}"),
        format!("Deudora Número {i}"),
    )
}

#[test]
fn a_second_run_dials_only_the_new_rows_with_their_messages_ready() {
    // Two calls per run; sipp serves four and exits.
    let sipp = Sipp::start(SippOptions {
        ring_ms: Some(300),
        hold_ms: Some(1200),
        calls: 4,
        ..SippOptions::new("uas_answer.xml")
    });
    let capture = Capture::start_filter(&format!(
        "udp port {} or udp dst port {}",
        sipp.port, sipp.media_port
    ));
    let mut spec = CampaignSpec::new(sipp.port);
    spec.contacts = (1..=2).map(contact).collect();
    spec.campaign_extra = format!(
        "prompts = \"{}\"\nmessage = [\"tts:Hola {{name}}, su saldo de\", \"say:currency:{{balance}}\", \"file:despedida\"]\n",
        repo_root().join("prompts/es-MX").display()
    );
    let campaign = Campaign::write(&spec);
    let first = campaign.run(Duration::from_secs(120));
    let first_rows = campaign.report();
    assert_eq!(first_rows.len(), 2, "{}", text(&first));

    // The list grows by two rows (as the collection system exports it
    // again); the campaign is run again with the same configuration.
    spec.contacts = (1..=4).map(contact).collect();
    let longer = Campaign::write(&spec);
    std::fs::copy(
        longer.dir.path().join("contacts.csv"),
        campaign.dir.path().join("contacts.csv"),
    )
    .unwrap();
    let second = campaign.run(Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("4 contacts in the list, 2 dialed")
            && stdout.contains("(2 already attempted in an earlier run, not dialed again)"),
        "{}",
        text(&second)
    );
    let packets = capture.stop();

    let rows = campaign.report();
    assert_eq!(rows.len(), 4, "one attempt per contact: {rows:?}");
    for (id, _, _) in (1..=4).map(contact) {
        let attempts: Vec<_> = rows.iter().filter(|r| r["contact_id"] == id).collect();
        assert_eq!(attempts.len(), 1, "{id} dialed once: {rows:?}");
        assert_eq!(attempts[0]["disposition"], "answered", "{:?}", attempts[0]);
    }
    // The first run's rows are untouched; the new rows started after them.
    for row in &first_rows {
        assert!(rows.contains(row), "{row:?} changed");
    }
    let last_first = first_rows.iter().map(|r| &r["ended_at"]).max().unwrap();
    for id in ["C-3", "C-4"] {
        let row = rows.iter().find(|r| r["contact_id"] == id).unwrap();
        assert!(&row["started_at"] > last_first, "{row:?}");
    }
    let messages = sipp.messages();
    for (_, phone, _) in (1..=4).map(contact) {
        let number = format!("+52{}", phone.replace(' ', ""));
        assert_eq!(
            messages.matches(&format!("INVITE sip:{number}@")).count(),
            1,
            "{number} was sent one INVITE\n{messages}"
        );
    }

    let calls = answered_calls(&packets, sipp.port, sipp.media_port);
    assert_eq!(calls.len(), 4, "four answered calls in the capture");
    for call in &calls {
        let delay_ms = call.first_packet_ms().expect("audio packets");
        println!(
            "{}: first RTP packet {delay_ms:.2} ms after the 200 OK",
            call.call_id
        );
        assert!(
            (0.0..40.0).contains(&delay_ms),
            "the message started {delay_ms:.1} ms after the 200 OK: not rendered ahead"
        );
    }
}
