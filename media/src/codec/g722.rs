//! G.722 at 64 kbit/s (RFC 3551 payload type 9) for an 8 kHz call.
//!
//! Our audio is 8 kHz from end to end (prompts, TTS, the bridge, the
//! recordings), so a G.722 stream carries narrowband audio: that is what a
//! softphone or trunk that insists on G.722 gets from a telephony call.
//! The decoder runs in G.722's 8 kHz mode, which keeps the lower sub-band
//! and skips the QMF synthesis. The encoder runs in its 16 kHz mode behind a
//! half-band interpolator, because the 8 kHz mode of `audio-codec`'s encoder
//! (0.4.13) composes its code bytes wrongly (every byte comes out 0xF8; the
//! decoder's 8 kHz mode is right).
//!
//! G.722 is adaptive (ADPCM), so unlike G.711 each stream keeps its state:
//! one [`WideEncoder`] or [`NarrowDecoder`] per direction of a call. 20 ms is
//! 160 bytes, as with G.711, and the RTP clock runs at 8 kHz (RFC 3551 §4.5.2).

use std::fmt;

use audio_codec::g722::{Bitrate, G722Decoder, G722Encoder};
use audio_codec::{Decoder as _, Encoder as _};

/// Taps on each side of the interpolator's centre. Eight keep a 1-3 kHz
/// tone about 40-60 dB clean through G.722 (measured while choosing them),
/// better than G.711's own ~38 dB; the delay is 1 ms.
const HALF_TAPS: usize = 8;

/// 8 kHz to 16 kHz: every input sample, then one interpolated between it
/// and the next by a windowed-sinc half-band filter. `audio-codec`'s and
/// rubato's resamplers would keep ~24 KB of state per stream; this keeps 16
/// samples, and a call's state must stay small (thousands per media thread).
struct Interpolator {
    taps: [f32; HALF_TAPS],
    /// The last `2 * HALF_TAPS` inputs, oldest first.
    history: [i16; 2 * HALF_TAPS],
}

impl Interpolator {
    fn new() -> Interpolator {
        let mut taps = [0.0; HALF_TAPS];
        let span = HALF_TAPS as f32 + 0.5;
        for (k, tap) in taps.iter_mut().enumerate() {
            let t = k as f32 + 0.5;
            let sinc = (std::f32::consts::PI * t).sin() / (std::f32::consts::PI * t);
            let hann = 0.5 + 0.5 * (std::f32::consts::PI * t / span).cos();
            *tap = sinc * hann;
        }
        Interpolator {
            taps,
            history: [0; 2 * HALF_TAPS],
        }
    }

    /// Two output samples per input sample, `HALF_TAPS` inputs late.
    fn push(&mut self, sample: i16, out: &mut Vec<i16>) {
        self.history.copy_within(1.., 0);
        self.history[2 * HALF_TAPS - 1] = sample;
        let centre = HALF_TAPS - 1;
        let mut between = 0.0f32;
        for (k, tap) in self.taps.iter().enumerate() {
            let pair =
                f32::from(self.history[centre - k]) + f32::from(self.history[centre + 1 + k]);
            between += tap * pair;
        }
        out.push(self.history[centre]);
        out.push(
            between
                .round()
                .clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16,
        );
    }
}

/// One stream's G.722 encoder, taking 8 kHz samples.
pub(super) struct WideEncoder {
    interpolator: Interpolator,
    encoder: G722Encoder,
    wide: Vec<i16>,
}

impl WideEncoder {
    pub(super) fn new() -> WideEncoder {
        WideEncoder {
            interpolator: Interpolator::new(),
            // (rate, eight_k, packed): 16 kHz input, one code per byte.
            encoder: G722Encoder::with_options(Bitrate::Mode1_64000, false, false),
            wide: Vec::new(),
        }
    }

    /// One byte per 8 kHz sample.
    pub(super) fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) {
        self.wide.clear();
        self.wide.reserve(2 * pcm.len());
        for &sample in pcm {
            self.interpolator.push(sample, &mut self.wide);
        }
        let start = out.len();
        out.resize(start + pcm.len(), 0);
        let written = self
            .encoder
            .encode_into(&self.wide, &mut out[start..])
            .expect("two 16 kHz samples make one byte, and the output has a byte per pair");
        out.truncate(start + written);
    }
}

/// One stream's G.722 decoder, giving 8 kHz samples.
pub(super) struct NarrowDecoder {
    decoder: G722Decoder,
}

impl NarrowDecoder {
    pub(super) fn new() -> NarrowDecoder {
        NarrowDecoder {
            // (rate, packed, eight_k): note the order differs from the encoder's.
            decoder: G722Decoder::with_options(Bitrate::Mode1_64000, false, true),
        }
    }

    /// One 8 kHz sample per byte.
    pub(super) fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) {
        let start = out.len();
        out.resize(start + payload.len(), 0);
        let written = self
            .decoder
            .decode_into(payload, &mut out[start..])
            .expect("in 8 kHz mode each byte decodes to one sample");
        out.truncate(start + written);
    }
}

impl fmt::Debug for WideEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("G.722 encoder")
    }
}

impl fmt::Debug for NarrowDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("G.722 decoder")
    }
}
