//! When the audio of each call reached sipp, from a loopback capture: the
//! delay from the 200 OK to the first RTP packet, and how closely the
//! packets keep to the 20 ms grid.
//!
//! sipp receives every call on one media port, so calls are told apart by
//! the RTP port the dialer offered in each INVITE's SDP. Those ports are
//! reused by later calls, never by two calls at once, so a call's packets
//! are those from its port after its 200 OK that carry the SSRC of the
//! first one.

use std::collections::HashMap;

use crate::pcap::Datagram;
use crate::rtp;

/// One answered call as the capture saw it.
#[derive(Debug, Clone)]
pub struct CallMedia {
    pub call_id: String,
    /// When sipp sent its first 200 OK to the INVITE (capture seconds).
    pub ok_at: f64,
    /// (arrival, RTP sequence number) of each audio packet, in order.
    pub packets: Vec<(f64, u16)>,
}

impl CallMedia {
    /// Milliseconds from the 200 OK to the first audio packet.
    pub fn first_packet_ms(&self) -> Option<f64> {
        self.packets
            .first()
            .map(|(at, _)| (at - self.ok_at) * 1000.0)
    }

    /// Milliseconds between consecutive packets.
    pub fn intervals_ms(&self) -> Vec<f64> {
        self.packets
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * 1000.0)
            .collect()
    }

    /// How far each packet arrived from its slot on a 20 ms grid anchored
    /// at the first packet (slot = packets since the first, by sequence
    /// number), in milliseconds; late is positive.
    pub fn grid_deviation_ms(&self) -> Vec<f64> {
        let Some(&(t0, seq0)) = self.packets.first() else {
            return Vec::new();
        };
        self.packets
            .iter()
            .map(|&(at, seq)| {
                let slot = f64::from(seq.wrapping_sub(seq0));
                (at - t0 - slot * 0.020) * 1000.0
            })
            .collect()
    }

    /// Whether the sequence numbers run without a gap.
    pub fn sequence_is_contiguous(&self) -> bool {
        self.packets
            .windows(2)
            .all(|w| w[1].1 == w[0].1.wrapping_add(1))
    }
}

fn call_id(message: &str) -> Option<&str> {
    message.lines().find_map(|l| {
        l.strip_prefix("Call-ID:")
            .or_else(|| l.strip_prefix("Call-Id:"))
            .or_else(|| l.strip_prefix("i:"))
            .map(str::trim)
    })
}

/// Every call answered by sipp (SIP on `sip_port`, media on `media_port`)
/// that the capture holds, with its audio packets; in the order of their
/// 200 OKs.
pub fn answered_calls(packets: &[Datagram], sip_port: u16, media_port: u16) -> Vec<CallMedia> {
    let mut ok_at: Vec<(String, f64)> = Vec::new();
    let mut rtp_port_of: HashMap<String, u16> = HashMap::new();
    for d in packets {
        let message = String::from_utf8_lossy(&d.payload);
        let Some(id) = call_id(&message) else {
            continue;
        };
        if d.src_port == sip_port
            && message.starts_with("SIP/2.0 200")
            && message.contains(" INVITE\r\n")
        {
            // sipp may retransmit its 200 OK; the first one counts.
            if !ok_at.iter().any(|(c, _)| c == id) {
                ok_at.push((id.to_owned(), d.at_s));
            }
        } else if d.dst_port == sip_port
            && message.starts_with("INVITE ")
            && let Some(port) = message
                .lines()
                .find_map(|l| l.strip_prefix("m=audio "))
                .and_then(|m| m.split(' ').next())
                .and_then(|p| p.parse().ok())
        {
            rtp_port_of.insert(id.to_owned(), port);
        }
    }
    let mut from_port: HashMap<u16, Vec<(f64, u32, u16)>> = HashMap::new();
    for d in packets.iter().filter(|d| d.dst_port == media_port) {
        let Some((pt, seq, _, _)) = rtp(d) else {
            continue;
        };
        // Audio only (PCMU 0, PCMA 8), not telephone-events.
        if pt != 0 && pt != 8 {
            continue;
        }
        let ssrc = u32::from_be_bytes(d.payload[8..12].try_into().expect("an RTP header"));
        from_port
            .entry(d.src_port)
            .or_default()
            .push((d.at_s, ssrc, seq));
    }
    ok_at
        .into_iter()
        .filter_map(|(call_id, ok)| {
            let stream = from_port.get(rtp_port_of.get(&call_id)?)?;
            let after = &stream[stream.partition_point(|p| p.0 < ok)..];
            let ssrc = after.first()?.1;
            let packets = after
                .iter()
                .take_while(|p| p.1 == ssrc)
                .map(|p| (p.0, p.2))
                .collect();
            Some(CallMedia {
                call_id,
                ok_at: ok,
                packets,
            })
        })
        .collect()
}

/// The value at quantile `q` (0-1) of sorted values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// What one measured campaign left: each answered call's media timing.
pub struct MeasuredRun {
    pub calls: Vec<CallMedia>,
    pub answered: usize,
}

/// For the benchmarks: sipp answers `calls` calls after 0.3 s of ringing
/// and hangs up `hold_ms` later; the dialer runs a personalized campaign
/// (TTS name, money in words, a recorded phrase) over `channels` channels
/// at 20 calls/s; dumpcap on loopback sees the SIP both ways and the RTP
/// sipp receives. Needs root (dumpcap) and sipp.
pub fn measured_campaign(calls: u32, channels: u32, hold_ms: u32) -> MeasuredRun {
    use std::time::Duration;

    use crate::capture::Capture;
    use crate::{Campaign, CampaignSpec, Sipp, SippOptions, repo_root};

    let sipp = Sipp::start(SippOptions {
        ring_ms: Some(300),
        hold_ms: Some(hold_ms),
        calls,
        timeout_s: 1800,
        ..SippOptions::new("uas_answer.xml")
    });
    let capture = Capture::start_filter(&format!(
        "udp port {} or udp dst port {}",
        sipp.port, sipp.media_port
    ));
    let mut spec = CampaignSpec::new(sipp.port);
    spec.max_channels = channels;
    spec.max_cps = 20.0;
    spec.contacts = (0..calls)
        .map(|i| {
            (
                format!("C-{i}"),
                format!("55 1300 {i:04}"),
                format!("Deudor {i}"),
            )
        })
        .collect();
    spec.campaign_extra = format!(
        "prompts = \"{}\"\nmessage = [\"tts:Hola {{name}}, su saldo de\", \"say:currency:{{balance}}\", \"file:despedida\"]\n",
        repo_root().join("prompts/es-MX").display()
    );
    let campaign = Campaign::write(&spec);
    campaign.run(Duration::from_secs(1800));
    let packets = capture.stop();
    let answered = campaign
        .report()
        .iter()
        .filter(|r| r["disposition"] == "answered")
        .count();
    MeasuredRun {
        calls: answered_calls(&packets, sipp.port, sipp.media_port),
        answered,
    }
}
