//! A configuration with two trunks: the campaign dials through the one it
//! names (the second), with that trunk's caller ID, and the report records
//! it. The first trunk's address is a loopback socket that must hear nothing.

use std::net::UdpSocket;
use std::time::Duration;

use dialer_tests::{Campaign, CampaignSpec, Sipp, SippOptions, text};

#[test]
fn the_campaign_dials_through_the_trunk_it_names() {
    let sipp = Sipp::start(SippOptions {
        ring_ms: Some(200),
        hold_ms: Some(800),
        calls: 2,
        ..SippOptions::new("uas_answer.xml")
    });
    let first = UdpSocket::bind("127.0.0.1:0").unwrap();
    first
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut spec = CampaignSpec::new(sipp.port);
    spec.contacts = vec![
        ("C-1".into(), "55 1234 5601".into(), "Juan Pérez".into()),
        ("C-2".into(), "55 1234 5602".into(), "Ana López".into()),
    ];
    let campaign = Campaign::write(&spec);
    // Put a first trunk ahead of the harness's, and name the harness's
    // "respaldo" (backup): the campaign dials through the second one.
    let config = std::fs::read_to_string(&campaign.config).unwrap();
    let config = config
        .replace(
            "[[trunk]]\nname = \"sipp\"",
            &format!(
                "[[trunk]]\nname = \"principal\"\naddress = \"{}\"\ncaller_id = \"+525511110000\"\n\n[[trunk]]\nname = \"respaldo\"",
                first.local_addr().unwrap()
            ),
        )
        .replace("trunk = \"sipp\"", "trunk = \"respaldo\"");
    assert_eq!(config.matches("[[trunk]]").count(), 2, "{config}");
    std::fs::write(&campaign.config, &config).unwrap();

    let out = campaign.run(Duration::from_secs(120));
    let rows = campaign.report();
    assert_eq!(rows.len(), 2, "{}", text(&out));
    for row in &rows {
        assert_eq!(row["trunk"], "respaldo", "{row:?}");
        assert_eq!(row["disposition"], "answered", "{row:?}");
    }
    let messages = sipp.messages();
    assert_eq!(
        messages.matches("INVITE sip:").count(),
        2,
        "sipp (the second trunk) received both INVITEs\n{messages}"
    );
    assert!(
        messages.contains("<sip:+525599990000@") && !messages.contains("+525511110000"),
        "the second trunk's caller ID\n{messages}"
    );
    let mut buf = [0u8; 2048];
    assert!(
        first.recv_from(&mut buf).is_err(),
        "the first trunk received a datagram: {:?}",
        String::from_utf8_lossy(&buf[..64])
    );
    assert!(
        sipp.finish(Duration::from_secs(30)).status.success(),
        "sipp's two calls completed"
    );
}
