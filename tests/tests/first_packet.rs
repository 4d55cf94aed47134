//! A personalized message is rendered before the call is answered, so the
//! first RTP packet follows the 200 OK within 40 ms (loopback capture of
//! what sipp sent and received).

use std::time::Duration;

use dialer_tests::capture::Capture;
use dialer_tests::{Campaign, CampaignSpec, Sipp, SippOptions, repo_root, rtp, text};

#[test]
fn audio_starts_within_40_ms_of_the_200_ok() {
    let calls = 5;
    let sipp = Sipp::start(SippOptions {
        ring_ms: Some(300),
        hold_ms: Some(1500),
        calls,
        ..SippOptions::new("uas_answer.xml")
    });
    let capture = Capture::start_filter(&format!(
        "udp src port {} or udp dst port {}",
        sipp.port, sipp.media_port
    ));
    let mut spec = CampaignSpec::new(sipp.port);
    spec.max_channels = 1;
    spec.contacts = (1..=calls)
        .map(|i| {
            (
                format!("C-{i}"),
                format!("55 1234 56{i:02}"),
                format!("Deudor Número {i}"),
            )
        })
        .collect();
    spec.campaign_extra = format!(
        "prompts = \"{}\"\nmessage = [\"tts:Hola {{name}}, su saldo de\", \"say:currency:{{balance}}\", \"file:despedida\"]\n",
        repo_root().join("prompts/es-MX").display()
    );
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(120));
    let packets = capture.stop();
    assert!(
        campaign
            .report()
            .iter()
            .all(|r| r["disposition"] == "answered"),
        "{}",
        text(&out)
    );

    // Per call: when sipp sent the 200 OK to the INVITE, and when the first
    // RTP packet reached sipp. Calls run one at a time, so they pair up in order.
    // sipp may retransmit a 200 OK; the first one of each Call-ID counts.
    let mut seen_calls = Vec::new();
    let mut oks: Vec<f64> = Vec::new();
    for d in packets
        .iter()
        .filter(|d| d.src_port == sipp.port && d.payload.starts_with(b"SIP/2.0 200"))
    {
        let message = String::from_utf8_lossy(&d.payload);
        let call_id = message
            .lines()
            .find(|l| l.starts_with("Call-ID:"))
            .unwrap_or("")
            .to_owned();
        if message.contains(" INVITE\r\n") && !seen_calls.contains(&call_id) {
            seen_calls.push(call_id);
            oks.push(d.at_s);
        }
    }
    let mut firsts = Vec::new();
    let mut last_ssrc = None;
    for d in packets.iter().filter(|d| d.dst_port == sipp.media_port) {
        let Some(_) = rtp(d) else { continue };
        let ssrc = u32::from_be_bytes(d.payload[8..12].try_into().unwrap());
        if last_ssrc != Some(ssrc) {
            last_ssrc = Some(ssrc);
            firsts.push(d.at_s);
        }
    }
    assert_eq!(oks.len(), calls as usize, "one 200 OK per call");
    assert_eq!(firsts.len(), calls as usize, "one RTP stream per call");
    for (ok, first) in oks.iter().zip(&firsts) {
        let delay_ms = (first - ok) * 1000.0;
        println!("200 OK -> first RTP packet: {delay_ms:.2} ms");
        assert!(
            (0.0..40.0).contains(&delay_ms),
            "the message started {delay_ms:.1} ms after the 200 OK"
        );
    }
}
