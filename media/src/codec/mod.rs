//! The codecs a call can negotiate, and their framing at 8 kHz.
//!
//! Telephony trunks speak G.711 almost universally, so the spine carries
//! PCMU (µ-law) and PCMA (A-law). Both code one 8 kHz sample per byte, which
//! makes a 20 ms frame 160 bytes of payload.

#![deny(clippy::disallowed_methods)]

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
}

impl Codec {
    /// Every codec we support, in our default order of preference.
    pub const ALL: [Codec; 2] = [Codec::Pcmu, Codec::Pcma];

    /// The static RTP payload type (RFC 3551).
    pub const fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The encoding name used in `a=rtpmap` and in configuration.
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// Looks a codec up by its encoding name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Codec> {
        Codec::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The byte that decodes to silence; used to fill gaps and pad frames.
    pub const fn silence_byte(self) -> u8 {
        match self {
            Codec::Pcmu => 0xFF,
            Codec::Pcma => 0xD5,
        }
    }

    /// Encodes linear 16-bit samples, one byte per sample.
    pub fn encode(self, pcm: &[i16], out: &mut Vec<u8>) {
        out.reserve(pcm.len());
        match self {
            Codec::Pcmu => out.extend(pcm.iter().map(|&s| encode_ulaw(s))),
            Codec::Pcma => out.extend(pcm.iter().map(|&s| encode_alaw(s))),
        }
    }

    /// Decodes G.711 bytes to linear 16-bit samples.
    pub fn decode(self, payload: &[u8], out: &mut Vec<i16>) {
        out.reserve(payload.len());
        match self {
            Codec::Pcmu => out.extend(payload.iter().map(|&b| decode_ulaw(b))),
            Codec::Pcma => out.extend(payload.iter().map(|&b| decode_alaw(b))),
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
        for codec in Codec::ALL {
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
        assert_eq!(Codec::from_name("G729"), None);
        assert_eq!(Codec::Pcma.payload_type(), 8);
    }
}
