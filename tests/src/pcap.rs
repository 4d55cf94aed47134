//! Classic libpcap files: RTP streams for sipp to replay, and captures to read.
//!
//! sipp's `play_pcap_audio` replays Ethernet/IPv4/UDP/RTP packets paced by
//! their timestamps and rewrites the addresses, so the ones written here do
//! not matter. Captures of loopback traffic (dumpcap -F pcap on `lo`) come
//! back the same way.

use std::io::{self, Write};
use std::path::Path;

const PTIME_US: u64 = 20_000;

struct Writer {
    ssrc: u32,
    seq: u16,
    ts: u32,
    at_us: u64,
    frames: Vec<(u64, Vec<u8>)>,
}

impl Writer {
    fn packet(&mut self, pt: u8, marker: bool, ts: u32, payload: &[u8]) {
        let mut rtp = vec![0x80, (u8::from(marker) << 7) | pt];
        rtp.extend_from_slice(&self.seq.to_be_bytes());
        rtp.extend_from_slice(&ts.to_be_bytes());
        rtp.extend_from_slice(&self.ssrc.to_be_bytes());
        rtp.extend_from_slice(payload);
        self.frames.push((self.at_us, frame(&rtp)));
        self.seq = self.seq.wrapping_add(1);
    }

    fn silence(&mut self, seconds: f64) {
        for _ in 0..(seconds * 50.0).round() as usize {
            self.packet(0, false, self.ts, &[0xFF; 160]);
            self.ts = self.ts.wrapping_add(160);
            self.at_us += PTIME_US;
        }
    }

    fn digit(&mut self, event: u8, pt: u8) {
        let start = self.ts;
        let steps = 8u16;
        for k in 1..steps {
            let d = (k * 160).to_be_bytes();
            self.packet(pt, k == 1, start, &[event, 10, d[0], d[1]]);
            self.at_us += PTIME_US;
        }
        let d = (steps * 160).to_be_bytes();
        for _ in 0..3 {
            self.packet(pt, false, start, &[event, 0x80 | 10, d[0], d[1]]);
            self.at_us += PTIME_US;
        }
        self.ts = start.wrapping_add(u32::from(steps + 2) * 160);
    }
}

/// Ethernet + IPv4 + UDP around one payload (127.0.0.1:6000 both ways).
fn frame(payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len() as u16;
    let mut ip = vec![0x45, 0xB8];
    ip.extend_from_slice(&(20 + udp_len).to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
    let sum: u32 = ip
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    let folded = !(((sum & 0xFFFF) + (sum >> 16)) as u16);
    ip[10..12].copy_from_slice(&folded.to_be_bytes());
    let mut out = vec![0u8; 12];
    out.extend_from_slice(&[0x08, 0x00]);
    out.extend_from_slice(&ip);
    out.extend_from_slice(&6000u16.to_be_bytes());
    out.extend_from_slice(&6000u16.to_be_bytes());
    out.extend_from_slice(&udp_len.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
    out
}

/// A PCMU silence stream with RFC 4733 key presses: `lead_s` of silence,
/// the digits 0.5 s apart (each 160 ms: 7 updates and 3 end packets), then
/// `tail_s` of silence.
pub fn write_dtmf(path: &Path, digits: &str, lead_s: f64, tail_s: f64, pt: u8) -> io::Result<()> {
    let mut w = Writer {
        ssrc: 0x5EED_0001,
        seq: 1000,
        ts: 160_000,
        at_us: 0,
        frames: Vec::new(),
    };
    w.silence(lead_s);
    for (i, key) in digits.chars().enumerate() {
        if i > 0 {
            w.silence(0.5);
        }
        let event = match key {
            '0'..='9' => key as u8 - b'0',
            '*' => 10,
            '#' => 11,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("bad digit {key}"),
                ));
            }
        };
        w.digit(event, pt);
    }
    w.silence(tail_s);
    w.write(path)
}

/// A PCMU stream: `lead_s` of silence, then a sine tone of `hz` for
/// `seconds` (someone talking, as far as a bridge is concerned).
pub fn write_tone(path: &Path, lead_s: f64, hz: f64, seconds: f64) -> io::Result<()> {
    let mut pcm: Vec<i16> = vec![0; (lead_s * 8_000.0) as usize];
    pcm.extend(
        (0..(seconds * 8_000.0) as usize)
            .map(|i| ((i as f64 * hz * std::f64::consts::TAU / 8_000.0).sin() * 8_000.0) as i16),
    );
    write_audio(path, &pcm)
}

/// A PCMU stream of this 8 kHz audio, in 20 ms packets.
pub fn write_audio(path: &Path, pcm: &[i16]) -> io::Result<()> {
    let mut coded = Vec::new();
    media::Codec::Pcmu.encode(pcm, &mut coded);
    let mut w = Writer {
        ssrc: 0x5EED_0002,
        seq: 2000,
        ts: 320_000,
        at_us: 0,
        frames: Vec::new(),
    };
    for chunk in coded.chunks(160) {
        let ts = w.ts;
        w.packet(0, false, ts, chunk);
        w.ts = w.ts.wrapping_add(160);
        w.at_us += PTIME_US;
    }
    w.write(path)
}

/// A PCMU stream with key presses as tones in the audio (in-band DTMF):
/// `lead_s` of silence, then each key as its two Q.23 tones for 100 ms,
/// 150 ms apart, then `tail_s` of silence.
pub fn write_inband_dtmf(path: &Path, digits: &str, lead_s: f64, tail_s: f64) -> io::Result<()> {
    let mut pcm: Vec<i16> = vec![0; (lead_s * 8_000.0) as usize];
    for key in digits.chars() {
        let (low, high) = media::dtmf::inband::key_frequencies(key).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("bad digit {key}"))
        })?;
        for i in 0..800 {
            let t = i as f64 / 8_000.0;
            let s = (t * f64::from(low) * std::f64::consts::TAU).sin()
                + (t * f64::from(high) * std::f64::consts::TAU).sin();
            pcm.push((s * 5_000.0) as i16);
        }
        pcm.extend(std::iter::repeat_n(0, 1_200));
    }
    pcm.extend(std::iter::repeat_n(0, (tail_s * 8_000.0) as usize));
    write_audio(path, &pcm)
}

impl Writer {
    fn write(self, path: &Path) -> io::Result<()> {
        let w = self;
        let mut out = io::BufWriter::new(std::fs::File::create(path)?);
        // Classic pcap header: magic, v2.4, zone, sigfigs, snaplen, Ethernet.
        out.write_all(&0xA1B2_C3D4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&[0; 8])?;
        out.write_all(&65_535u32.to_le_bytes())?;
        out.write_all(&1u32.to_le_bytes())?;
        for (at_us, data) in &w.frames {
            let secs = 1_700_000_000 + (at_us / 1_000_000) as u32;
            out.write_all(&secs.to_le_bytes())?;
            out.write_all(&((at_us % 1_000_000) as u32).to_le_bytes())?;
            out.write_all(&(data.len() as u32).to_le_bytes())?;
            out.write_all(&(data.len() as u32).to_le_bytes())?;
            out.write_all(data)?;
        }
        out.flush()
    }
}

/// One captured UDP datagram.
#[derive(Debug, Clone)]
pub struct Datagram {
    pub at_s: f64,
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: Vec<u8>,
}

/// The IPv4 UDP datagrams of a classic pcap file (Ethernet or Linux
/// cooked link types).
pub fn read_udp(path: &Path) -> io::Result<Vec<Datagram>> {
    let data = std::fs::read(path)?;
    let bad = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {what}", path.display()),
        )
    };
    if data.len() < 24 || data[..4] != 0xA1B2_C3D4u32.to_le_bytes() {
        return Err(bad("not a little-endian classic pcap file"));
    }
    let link = u32::from_le_bytes(data[20..24].try_into().expect("4 bytes"));
    let l2 = match link {
        1 => 14,   // Ethernet
        113 => 16, // Linux cooked
        _ => return Err(bad(&format!("link type {link}"))),
    };
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let word =
            |o: usize| u32::from_le_bytes(data[at + o..at + o + 4].try_into().expect("4 bytes"));
        let (secs, usecs, len) = (word(0), word(4), word(8) as usize);
        let packet = &data[at + 16..(at + 16 + len).min(data.len())];
        at += 16 + len;
        if packet.len() < l2 + 28 || packet[l2] >> 4 != 4 || packet[l2 + 9] != 17 {
            continue;
        }
        let ihl = usize::from(packet[l2] & 0x0F) * 4;
        let udp = &packet[l2 + ihl..];
        out.push(Datagram {
            at_s: f64::from(secs) + f64::from(usecs) / 1e6,
            src_port: u16::from_be_bytes([udp[0], udp[1]]),
            dst_port: u16::from_be_bytes([udp[2], udp[3]]),
            payload: udp[8..].to_vec(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_pcap_reads_back_with_one_event_per_digit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.pcap");
        write_dtmf(&path, "19", 1.0, 1.0, 101).unwrap();
        let packets = read_udp(&path).unwrap();
        let events: Vec<&Datagram> = packets
            .iter()
            .filter(|d| d.payload[1] & 0x7F == 101)
            .collect();
        assert_eq!(events.len(), 2 * 10);
        assert_eq!(events[0].payload[12], 1);
        assert_eq!(events[10].payload[12], 9);
        assert_eq!(packets.len(), 50 + 10 + 25 + 10 + 50);
    }
}
