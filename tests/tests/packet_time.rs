//! The packet time comes from the answer's `a=ptime`: a trunk that asks for
//! 40 ms gets 40 ms packets; one that asks for 30 ms, which our 20 ms
//! packet clock cannot make, gets 20 ms packets (`a=ptime` is a
//! recommendation, RFC 4566 §6) and the attempt says so.

use std::time::Duration;

use dialer_tests::capture::Capture;
use dialer_tests::{Campaign, CampaignSpec, Sipp, SippOptions, rtp, text};

/// Runs one call whose answer asks for `ptime` ms; returns the attempt row
/// and the PCMU packets sipp got.
type Row = std::collections::BTreeMap<String, String>;
/// A received audio packet: arrival (s), sequence, timestamp, payload.
type Packet = (f64, u16, u32, Vec<u8>);

fn call_asking(ptime: u32) -> (Row, Vec<Packet>, CampaignSpec) {
    let sipp = Sipp::start(SippOptions {
        ring_ms: Some(200),
        hold_ms: Some(3000),
        rewrites: vec![("a=ptime:20".into(), format!("a=ptime:{ptime}"))],
        ..SippOptions::new("uas_answer.xml")
    });
    let capture = Capture::start(sipp.media_port);
    let spec = CampaignSpec::new(sipp.port);
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    assert!(
        sipp.messages().contains(&format!("a=ptime:{ptime}")),
        "sipp's answer asks for {ptime} ms"
    );
    let packets = capture.stop();
    let rows = campaign.report();
    assert_eq!(
        rows[0]["disposition"],
        "answered",
        "{:?}\n{}",
        rows[0],
        text(&out)
    );
    let audio = packets
        .iter()
        .filter_map(|d| rtp(d).map(|r| (d.at_s, r)))
        .filter(|(_, (pt, ..))| *pt == 0)
        .map(|(at, (_, seq, ts, payload))| (at, seq, ts, payload.to_vec()))
        .collect();
    (rows[0].clone(), audio, spec)
}

#[test]
fn a_trunk_asking_for_40_ms_gets_40_ms_packets() {
    let (row, audio, spec) = call_asking(40);
    assert!(
        audio.len() > 40,
        "2 s and more of audio: {} packets",
        audio.len()
    );
    assert!(
        audio.iter().all(|(.., payload)| payload.len() == 320),
        "every packet carries 40 ms (320 bytes): {:?}",
        audio.iter().map(|(.., p)| p.len()).collect::<Vec<_>>()
    );
    for pair in audio.windows(2) {
        assert_eq!(
            pair[1].1,
            pair[0].1.wrapping_add(1),
            "consecutive sequence numbers"
        );
        assert_eq!(
            pair[1].2.wrapping_sub(pair[0].2),
            320,
            "timestamps 40 ms apart"
        );
    }
    // Sent every 40 ms: the median gap between arrivals, robust to a
    // loaded machine's stragglers.
    let mut gaps: Vec<f64> = audio.windows(2).map(|w| w[1].0 - w[0].0).collect();
    gaps.sort_by(f64::total_cmp);
    let median = gaps[gaps.len() / 2];
    assert!(
        (0.035..0.045).contains(&median),
        "packets arrive every {:.1} ms",
        median * 1000.0
    );
    // And they carry the prompt, in order.
    let prompt = media::prompt::Prompt::load(&spec.prompt).unwrap();
    let expected = prompt.encoded(media::Codec::Pcmu);
    let received: Vec<u8> = audio.iter().flat_map(|(.., p)| p.iter().copied()).collect();
    let n = received.len().min(expected.len());
    assert!(
        received[..n] == expected[..n],
        "the 40 ms packets are the prompt"
    );
    assert!(
        !row["note"].contains("ms packets"),
        "nothing to note: {row:?}"
    );
}

#[test]
fn a_trunk_asking_for_30_ms_gets_20_ms_packets_and_a_note() {
    let (row, audio, _) = call_asking(30);
    assert!(audio.len() > 40, "{} packets", audio.len());
    assert!(
        audio.iter().all(|(.., payload)| payload.len() == 160),
        "every packet carries 20 ms"
    );
    assert!(
        row["note"].contains("asked for 30 ms packets; we sent 20 ms"),
        "the attempt says why: {row:?}"
    );
}
