//! The codecs a call can negotiate, and their framing at 8 kHz.
//!
//! Telephony trunks speak G.711 almost universally: PCMU (µ-law) and PCMA
//! (A-law) code one 8 kHz sample per byte, which makes a 20 ms frame 160
//! bytes of payload. G.722 at 64 kbit/s has the same framing (one byte per
//! 8 kHz sample time) and carries our 8 kHz audio to peers that want it (see
//! [`g722`]'s notes). G.711 has no state; G.722 does, so audio that flows
//! as a stream is coded by a per-stream [`Encoder`] or [`Decoder`].

#![deny(clippy::disallowed_methods)]

mod g722;

use std::fmt;

use audio_codec_algorithms::{decode_alaw, decode_ulaw, encode_alaw, encode_ulaw};

/// Sample rate of every narrowband telephony stream we send and receive.
pub const SAMPLE_RATE: u32 = 8_000;
/// Packet time: one RTP packet carries this many milliseconds of audio.
pub const PTIME_MS: u32 = 20;
/// Samples (and G.711 bytes) in one 20 ms frame.
pub const FRAME_SAMPLES: usize = (SAMPLE_RATE * PTIME_MS / 1000) as usize;

/// An audio codec we can send and receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
    /// G.722 at 64 kbit/s, static payload type 9 (8 kHz audio in it).
    G722,
}

impl Codec {
    /// Every codec we support, in our default order of preference.
    pub const ALL: [Codec; 3] = [Codec::Pcmu, Codec::Pcma, Codec::G722];

    /// The static RTP payload type (RFC 3551).
    pub const fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
            Codec::G722 => 9,
        }
    }

    /// The codec of a static payload type we support.
    pub fn from_payload_type(payload_type: u8) -> Option<Codec> {
        Codec::ALL
            .into_iter()
            .find(|c| c.payload_type() == payload_type)
    }

    /// The encoding name used in `a=rtpmap` and in configuration.
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::G722 => "G722",
        }
    }

    /// Looks a codec up by its encoding name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Codec> {
        Codec::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The byte that decodes to silence; used to fill gaps and pad frames.
    /// For G.722, 0xFF: the lowest level in both sub-bands, which decodes
    /// to ±2 from any state within a few milliseconds.
    pub const fn silence_byte(self) -> u8 {
        match self {
            Codec::Pcmu | Codec::G722 => 0xFF,
            Codec::Pcma => 0xD5,
        }
    }

    /// Encodes linear 16-bit samples, one byte per sample, as one whole
    /// stream from its start (a prompt, a message): G.722's state starts
    /// afresh. Audio that flows on, packet by packet, needs an [`Encoder`].
    pub fn encode(self, pcm: &[i16], out: &mut Vec<u8>) {
        Encoder::new(self).encode(pcm, out);
    }

    /// Decodes bytes to linear 16-bit samples, as one whole stream from its
    /// start (see [`Codec::encode`]); packets of a stream need a [`Decoder`].
    pub fn decode(self, payload: &[u8], out: &mut Vec<i16>) {
        Decoder::new(self).decode(payload, out);
    }
}

/// A codec's encoding state along one stream.
#[derive(Debug)]
pub struct Encoder(EncoderState);

#[derive(Debug)]
enum EncoderState {
    G711(Codec),
    // Boxed: most calls are G.711, and a call's state stays small.
    G722(Box<g722::WideEncoder>),
}

impl Encoder {
    pub fn new(codec: Codec) -> Encoder {
        Encoder(match codec {
            Codec::Pcmu | Codec::Pcma => EncoderState::G711(codec),
            Codec::G722 => EncoderState::G722(Box::new(g722::WideEncoder::new())),
        })
    }

    /// Encodes the stream's next 8 kHz samples, one byte per sample.
    pub fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) {
        out.reserve(pcm.len());
        match &mut self.0 {
            EncoderState::G711(Codec::Pcma) => out.extend(pcm.iter().map(|&s| encode_alaw(s))),
            EncoderState::G711(_) => out.extend(pcm.iter().map(|&s| encode_ulaw(s))),
            EncoderState::G722(encoder) => encoder.encode(pcm, out),
        }
    }
}

/// A codec's decoding state along one stream.
#[derive(Debug)]
pub struct Decoder(DecoderState);

#[derive(Debug)]
enum DecoderState {
    G711(Codec),
    G722(Box<g722::NarrowDecoder>),
}

impl Decoder {
    pub fn new(codec: Codec) -> Decoder {
        Decoder(match codec {
            Codec::Pcmu | Codec::Pcma => DecoderState::G711(codec),
            Codec::G722 => DecoderState::G722(Box::new(g722::NarrowDecoder::new())),
        })
    }

    pub fn codec(&self) -> Codec {
        match &self.0 {
            DecoderState::G711(codec) => *codec,
            DecoderState::G722(_) => Codec::G722,
        }
    }

    /// Decodes the stream's next payload to 8 kHz samples, one per byte.
    pub fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) {
        out.reserve(payload.len());
        match &mut self.0 {
            DecoderState::G711(Codec::Pcma) => {
                out.extend(payload.iter().map(|&b| decode_alaw(b)));
            }
            DecoderState::G711(_) => out.extend(payload.iter().map(|&b| decode_ulaw(b))),
            DecoderState::G722(decoder) => decoder.decode(payload, out),
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_bytes_decode_to_near_zero() {
        for codec in Codec::ALL {
            let mut pcm = Vec::new();
            codec.decode(&[codec.silence_byte()], &mut pcm);
            assert!(pcm[0].abs() <= 8, "{codec}: {}", pcm[0]);
        }
    }

    #[test]
    fn round_trip_keeps_a_tone_within_g711_error() {
        let tone: Vec<i16> = (0..FRAME_SAMPLES)
            .map(|n| ((n as f32 * 0.3).sin() * 12_000.0) as i16)
            .collect();
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut bytes = Vec::new();
            codec.encode(&tone, &mut bytes);
            assert_eq!(bytes.len(), FRAME_SAMPLES);
            let mut back = Vec::new();
            codec.decode(&bytes, &mut back);
            for (a, b) in tone.iter().zip(&back) {
                // G.711 keeps roughly 12 bits of precision at this level.
                assert!((a - b).abs() < 400, "{codec}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn names_and_payload_types() {
        assert_eq!(Codec::from_name("pcmu"), Some(Codec::Pcmu));
        assert_eq!(Codec::from_name("PCMA"), Some(Codec::Pcma));
        assert_eq!(Codec::from_name("g722"), Some(Codec::G722));
        assert_eq!(Codec::from_name("G729"), None);
        assert_eq!(Codec::Pcma.payload_type(), 8);
        assert_eq!(Codec::from_payload_type(9), Some(Codec::G722));
        assert_eq!(Codec::from_payload_type(18), None);
    }

    fn tone(hz: f64, samples: usize) -> Vec<i16> {
        (0..samples)
            .map(|n| (n as f64 * hz * std::f64::consts::TAU / 8_000.0).sin() * 8_000.0)
            .map(|s| s as i16)
            .collect()
    }

    /// The sinusoid at `hz` that fits `pcm` best, and how far above what is
    /// left over it stands, in dB.
    fn fit(pcm: &[i16], hz: f64) -> (f64, f64) {
        let w = hz * std::f64::consts::TAU / 8_000.0;
        let n = pcm.len() as f64;
        let (mut c, mut s) = (0.0, 0.0);
        for (i, &x) in pcm.iter().enumerate() {
            c += f64::from(x) * (w * i as f64).cos();
            s += f64::from(x) * (w * i as f64).sin();
        }
        let (a, b) = (2.0 * c / n, 2.0 * s / n);
        let residual: f64 = pcm
            .iter()
            .enumerate()
            .map(|(i, &x)| f64::from(x) - a * (w * i as f64).cos() - b * (w * i as f64).sin())
            .map(|r| r * r)
            .sum();
        let amplitude = a.hypot(b);
        let signal = amplitude * amplitude / 2.0 * n;
        (amplitude, 10.0 * (signal / residual).log10())
    }

    /// G.722 coded and decoded packet by packet, as a call does, keeps a
    /// tone's level and purity across the telephone band.
    #[test]
    fn g722_carries_tones_across_the_band() {
        for hz in [300.0, 1_000.0, 3_000.0] {
            let pcm = tone(hz, 8_000);
            let mut encoder = Encoder::new(Codec::G722);
            let mut decoder = Decoder::new(Codec::G722);
            let mut back = Vec::new();
            for frame in pcm.chunks(FRAME_SAMPLES) {
                let mut bytes = Vec::new();
                encoder.encode(frame, &mut bytes);
                assert_eq!(bytes.len(), FRAME_SAMPLES, "{hz} Hz");
                decoder.decode(&bytes, &mut back);
            }
            assert_eq!(back.len(), pcm.len());
            // Past the codec's adaptation and its ~2 ms of delay.
            let (amplitude, purity) = fit(&back[800..], hz);
            assert!(
                (amplitude - 8_000.0).abs() < 500.0,
                "{hz} Hz came back at amplitude {amplitude:.0}"
            );
            assert!(purity > 30.0, "{hz} Hz came back {purity:.1} dB clean");
        }
    }

    /// Coding a stream in packets gives the bytes of coding it whole: the
    /// state carries over from one packet to the next.
    #[test]
    fn g722_state_carries_across_packets() {
        let pcm = tone(700.0, 1_600);
        let mut whole = Vec::new();
        Codec::G722.encode(&pcm, &mut whole);
        let mut encoder = Encoder::new(Codec::G722);
        let mut packets = Vec::new();
        for frame in pcm.chunks(FRAME_SAMPLES) {
            encoder.encode(frame, &mut packets);
        }
        assert_eq!(packets, whole);
        let mut decoder = Decoder::new(Codec::G722);
        let mut decoded = Vec::new();
        for packet in whole.chunks(FRAME_SAMPLES) {
            decoder.decode(packet, &mut decoded);
        }
        let mut at_once = Vec::new();
        Codec::G722.decode(&whole, &mut at_once);
        assert_eq!(decoded, at_once);
    }

    /// The silence byte quiets a G.722 decoder within 5 ms of loud audio.
    #[test]
    fn g722_silence_after_a_tone() {
        let mut bytes = Vec::new();
        Codec::G722.encode(&tone(1_000.0, 800), &mut bytes);
        bytes.extend([Codec::G722.silence_byte(); FRAME_SAMPLES]);
        let mut pcm = Vec::new();
        Codec::G722.decode(&bytes, &mut pcm);
        // A ringing fade, then a small constant offset (-28 here): under
        // 64 is below -54 dBFS, inaudible.
        let tail = &pcm[800 + 40..];
        assert!(
            tail.iter().all(|s| s.abs() < 64),
            "after 5 ms of silence bytes: {:?}",
            &tail[..10]
        );
    }
}
