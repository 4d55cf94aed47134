//! Prompts: audio files turned into 8 kHz audio, once, before any call needs them.
//!
//! Operators bring prompts from studios and TTS tools at whatever rate and
//! depth those produce (22.05 kHz espeak output, 44.1 kHz/24-bit studio
//! files, 8 kHz µ-law telephony WAVs, MP3, Ogg Vorbis, FLAC).
//! [`Prompt::load`] reads any of them, mixes to mono and resamples to 8 kHz.
//! Each codec's coding is made the first time a call needs it and then
//! shared (`Arc<[u8]>`) by every call and every clone of the prompt, so a
//! call only copies bytes.

mod compressed;
mod render;
pub mod template;
mod wav;

pub use render::{Fragments, Manifest, RenderError, Renderer, SayVoice, phrase_file};

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::codec::{Codec, SAMPLE_RATE};

/// A prompt ready to be played on any call.
#[derive(Debug, Clone)]
pub struct Prompt {
    name: String,
    samples: Arc<[i16]>,
    coded: Arc<[OnceLock<Arc<[u8]>>; Codec::ALL.len()]>,
}

/// Why a prompt file could not be used. Always names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    #[error("prompt {path}: cannot read the file: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("prompt {path}: not a usable WAV file: {reason}")]
    Wav { path: PathBuf, reason: String },
    #[error("prompt {path}: {reason}")]
    Decode { path: PathBuf, reason: String },
    #[error("prompt {path}: the file holds no audio")]
    Empty { path: PathBuf },
    #[error("prompt {path}: cannot resample from {rate} Hz: {reason}")]
    Resample {
        path: PathBuf,
        rate: u32,
        reason: String,
    },
}

impl Prompt {
    /// Reads a WAV file (PCM 8/16/24/32-bit, float, µ-law or A-law) or an
    /// MP3, Ogg Vorbis or FLAC file, at any rate and channel count, and
    /// prepares it for 8 kHz G.711 calls.
    pub fn load(path: &Path) -> Result<Prompt, PromptError> {
        let bytes = std::fs::read(path).map_err(|source| PromptError::Io {
            path: path.to_owned(),
            source,
        })?;
        let samples = if bytes.starts_with(b"RIFF") {
            samples_8k_from_wav(&bytes).map_err(|e| e.at(path))?
        } else {
            let extension = path.extension().and_then(|e| e.to_str());
            let decoded =
                compressed::decode(bytes, extension).map_err(|reason| PromptError::Decode {
                    path: path.to_owned(),
                    reason,
                })?;
            if decoded.samples.is_empty() {
                return Err(PromptError::Empty {
                    path: path.to_owned(),
                });
            }
            resample_to_8k(&decoded.samples, decoded.rate).map_err(|reason| {
                PromptError::Resample {
                    path: path.to_owned(),
                    rate: decoded.rate,
                    reason,
                }
            })?
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Prompt::from_samples(name, samples))
    }

    /// Builds a prompt from 8 kHz mono samples already in memory.
    pub fn from_samples(name: impl Into<String>, samples: Vec<i16>) -> Prompt {
        Prompt {
            name: name.into(),
            samples: samples.into(),
            coded: Arc::default(),
        }
    }

    /// The file stem the prompt was loaded from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// 8 kHz mono linear samples.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// How long the prompt plays.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(SAMPLE_RATE))
    }

    /// The prompt coded for `codec`, shared between every call that plays
    /// it; coded by the first call that asks. A release build codes 30 s of
    /// audio in ~0.6 ms as G.711 and ~27 ms as G.722 (bench_codecs).
    pub fn encoded(&self, codec: Codec) -> Arc<[u8]> {
        let slot = Codec::ALL
            .iter()
            .position(|&c| c == codec)
            .expect("every codec is in Codec::ALL");
        self.coded[slot]
            .get_or_init(|| {
                let mut bytes = Vec::new();
                codec.encode(&self.samples, &mut bytes);
                bytes.into()
            })
            .clone()
    }
}

/// Why WAV bytes could not become 8 kHz audio (the caller adds the file name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WavError {
    Format(String),
    Empty,
    Resample { rate: u32, reason: String },
}

impl WavError {
    fn at(self, path: &Path) -> PromptError {
        let path = path.to_owned();
        match self {
            WavError::Format(reason) => PromptError::Wav { path, reason },
            WavError::Empty => PromptError::Empty { path },
            WavError::Resample { rate, reason } => PromptError::Resample { path, rate, reason },
        }
    }
}

impl std::fmt::Display for WavError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WavError::Format(reason) => write!(f, "not a usable WAV file: {reason}"),
            WavError::Empty => f.write_str("the audio is empty"),
            WavError::Resample { rate, reason } => {
                write!(f, "cannot resample from {rate} Hz: {reason}")
            }
        }
    }
}

/// Any WAV (see [`Prompt::load`]) as 8 kHz mono 16-bit samples.
pub fn samples_8k_from_wav(bytes: &[u8]) -> Result<Vec<i16>, WavError> {
    let decoded = wav::decode(bytes).map_err(WavError::Format)?;
    if decoded.samples.is_empty() {
        return Err(WavError::Empty);
    }
    resample_to_8k(&decoded.samples, decoded.rate).map_err(|reason| WavError::Resample {
        rate: decoded.rate,
        reason,
    })
}

/// Writes 8 kHz samples as a µ-law WAV file.
pub fn write_mulaw_wav(path: &Path, samples: &[i16]) -> std::io::Result<()> {
    std::fs::write(path, wav::mulaw_wav(samples))
}

/// Drops the quiet lead-in and tail of a clip (TTS engines pad both),
/// keeping `margin` samples of each.
pub fn trim_silence(samples: &[i16], margin: usize) -> &[i16] {
    const QUIET: u16 = 300;
    let Some(first) = samples.iter().position(|s| s.unsigned_abs() > QUIET) else {
        return &[];
    };
    let last = samples
        .iter()
        .rposition(|s| s.unsigned_abs() > QUIET)
        .expect("a loud sample exists");
    &samples[first.saturating_sub(margin)..(last + 1 + margin).min(samples.len())]
}

/// Converts mono float samples at `rate` to 8 kHz 16-bit samples.
fn resample_to_8k(samples: &[f32], rate: u32) -> Result<Vec<i16>, String> {
    use rubato::audioadapter_buffers::owned::InterleavedOwned;
    use rubato::{Fft, FixedSync, Resampler};

    let to_i16 = |s: f32| (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
    if rate == SAMPLE_RATE {
        return Ok(samples.iter().map(|&s| to_i16(s)).collect());
    }
    let mut resampler = Fft::<f32>::new(
        rate as usize,
        SAMPLE_RATE as usize,
        1024,
        1,
        FixedSync::Both,
    )
    .map_err(|e| e.to_string())?;
    let input = InterleavedOwned::new_from(samples.to_vec(), 1, samples.len())
        .map_err(|e| e.to_string())?;
    let output = resampler
        .process_all(&input, samples.len(), None)
        .map_err(|e| e.to_string())?;
    Ok(output.take_data().into_iter().map(to_i16).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, spec: hound::WavSpec, seconds: f32, freq: f32) {
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        let frames = (spec.sample_rate as f32 * seconds) as usize;
        for n in 0..frames {
            let v = (2.0 * std::f32::consts::PI * freq * n as f32 / spec.sample_rate as f32).sin()
                * 0.5;
            for _ in 0..spec.channels {
                match (spec.sample_format, spec.bits_per_sample) {
                    (hound::SampleFormat::Float, _) => w.write_sample(v).unwrap(),
                    (_, 8) => w.write_sample((v * 127.0) as i8).unwrap(),
                    (_, 16) => w.write_sample((v * 32767.0) as i16).unwrap(),
                    (_, 24) => w.write_sample((v * 8_388_607.0) as i32).unwrap(),
                    _ => w.write_sample((v * 2_147_483_647.0) as i32).unwrap(),
                }
            }
        }
        w.finalize().unwrap();
    }

    /// Frequency of the strongest zero-crossing rate, a cheap pitch estimate.
    fn estimated_frequency(samples: &[i16]) -> f32 {
        let crossings = samples
            .windows(2)
            .filter(|w| (w[0] < 0) != (w[1] < 0))
            .count();
        crossings as f32 / 2.0 / (samples.len() as f32 / SAMPLE_RATE as f32)
    }

    #[test]
    fn any_rate_and_depth_becomes_8k_with_same_duration_and_pitch() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (22_050, 16, 1, hound::SampleFormat::Int),
            (44_100, 24, 2, hound::SampleFormat::Int),
            (48_000, 32, 1, hound::SampleFormat::Float),
            (16_000, 8, 1, hound::SampleFormat::Int),
            (8_000, 16, 1, hound::SampleFormat::Int),
            (11_025, 32, 2, hound::SampleFormat::Int),
        ];
        for (rate, bits, channels, format) in cases {
            let path = dir
                .path()
                .join(format!("tone-{rate}-{bits}-{channels}.wav"));
            let spec = hound::WavSpec {
                channels,
                sample_rate: rate,
                bits_per_sample: bits,
                sample_format: format,
            };
            write_wav(&path, spec, 1.5, 440.0);
            let prompt = Prompt::load(&path).unwrap();
            let secs = prompt.duration().as_secs_f32();
            assert!((secs - 1.5).abs() < 0.01, "{path:?}: {secs} s");
            let f = estimated_frequency(prompt.samples());
            assert!((f - 440.0).abs() < 10.0, "{path:?}: {f} Hz");
            let peak = prompt.samples().iter().map(|s| s.unsigned_abs()).max();
            assert!(peak.unwrap() > 12_000, "{path:?}: level lost");
            for codec in Codec::ALL {
                assert_eq!(prompt.encoded(codec).len(), prompt.samples().len());
            }
        }
    }

    #[test]
    fn mp3_ogg_and_flac_become_8k_with_same_duration_and_pitch() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        // 44.1 kHz stereo MP3, 48 kHz mono Ogg Vorbis, 16 kHz 24-bit FLAC.
        for name in ["tono-440.mp3", "tono-440.ogg", "tono-440.flac"] {
            let path = fixtures.join(name);
            let prompt = Prompt::load(&path).unwrap_or_else(|e| panic!("{e}"));
            let secs = prompt.duration().as_secs_f32();
            // MP3 adds encoder delay and padding (tens of ms).
            assert!((secs - 1.5).abs() < 0.08, "{name}: {secs} s");
            let f = estimated_frequency(prompt.samples());
            assert!((f - 440.0).abs() < 10.0, "{name}: {f} Hz");
            let peak = prompt.samples().iter().map(|s| s.unsigned_abs()).max();
            assert!(peak.unwrap() > 12_000, "{name}: level lost");
            assert_eq!(prompt.name(), "tono-440");
        }
        let err = Prompt::load(&fixtures.join("roto.mp3"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("roto.mp3") && err.contains("not MP3, Ogg Vorbis, FLAC or WAV"),
            "{err}"
        );
    }

    #[test]
    fn unreadable_files_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no-such.wav");
        let err = Prompt::load(&missing).unwrap_err().to_string();
        assert!(err.contains("no-such.wav"), "{err}");

        let garbage = dir.path().join("garbage.wav");
        std::fs::write(&garbage, b"this is not audio at all").unwrap();
        let err = Prompt::load(&garbage).unwrap_err().to_string();
        assert!(err.contains("garbage.wav") && err.contains("WAV"), "{err}");
    }
}
