//! WAV decoding to mono float samples.
//!
//! PCM and float files go through `hound`. G.711 WAVs (format tags 6 and 7),
//! the usual shape of telephony prompts, are not read by `hound`, so their
//! RIFF chunks are walked here and the bytes decoded with our codec tables.

use std::io::Cursor;

use crate::codec::Codec;

pub(super) struct Decoded {
    pub samples: Vec<f32>,
    pub rate: u32,
}

const FORMAT_ALAW: u16 = 6;
const FORMAT_MULAW: u16 = 7;

pub(super) fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    match g711_format(bytes)? {
        Some(g711) => decode_g711(bytes, g711),
        None => match repaired_sizes(bytes) {
            Some(fixed) => decode_pcm(&fixed),
            None => decode_pcm(bytes),
        },
    }
}

/// Programs that write WAV to a pipe (espeak-ng --stdout) cannot go back
/// to fill in the sizes, so they declare ~2 GB of data. Returns a copy with
/// the real sizes when the declared data size runs past the end.
fn repaired_sizes(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let size =
            u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().expect("4 bytes")) as usize;
        let available = bytes.len() - (pos + 8);
        if &bytes[pos..pos + 4] == b"data" {
            if size <= available {
                return None;
            }
            let mut fixed = bytes.to_vec();
            let real = (available & !1) as u32;
            fixed[pos + 4..pos + 8].copy_from_slice(&real.to_le_bytes());
            let riff = (pos + 8 - 8) as u32 + real;
            fixed[4..8].copy_from_slice(&riff.to_le_bytes());
            fixed.truncate(pos + 8 + real as usize);
            return Some(fixed);
        }
        pos += 8 + size + (size & 1);
    }
    None
}

fn decode_pcm(bytes: &[u8]) -> Result<Decoded, String> {
    let reader = hound::WavReader::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1_i64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?
        }
    };
    Ok(Decoded {
        samples: mix_to_mono(&interleaved, channels),
        rate: spec.sample_rate,
    })
}

struct G711Format {
    codec: Codec,
    channels: usize,
    rate: u32,
}

/// Reads the `fmt ` chunk; `Some` when the file is G.711 coded.
fn g711_format(bytes: &[u8]) -> Result<Option<G711Format>, String> {
    let Some(fmt) = riff_chunk(bytes, b"fmt ")? else {
        return Err("no fmt chunk".into());
    };
    if fmt.len() < 16 {
        return Err("fmt chunk is too short".into());
    }
    let tag = u16::from_le_bytes([fmt[0], fmt[1]]);
    let codec = match tag {
        FORMAT_ALAW => Codec::Pcma,
        FORMAT_MULAW => Codec::Pcmu,
        _ => return Ok(None),
    };
    Ok(Some(G711Format {
        codec,
        channels: usize::from(u16::from_le_bytes([fmt[2], fmt[3]]).max(1)),
        rate: u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]),
    }))
}

fn decode_g711(bytes: &[u8], format: G711Format) -> Result<Decoded, String> {
    let data = riff_chunk(bytes, b"data")?.ok_or("no data chunk")?;
    let mut pcm = Vec::with_capacity(data.len());
    format.codec.decode(data, &mut pcm);
    let interleaved: Vec<f32> = pcm.iter().map(|&s| f32::from(s) / 32768.0).collect();
    Ok(Decoded {
        samples: mix_to_mono(&interleaved, format.channels),
        rate: format.rate,
    })
}

/// Finds a top-level chunk of a RIFF/WAVE file.
fn riff_chunk<'a>(bytes: &'a [u8], id: &[u8; 4]) -> Result<Option<&'a [u8]>, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("not a RIFF/WAVE file".into());
    }
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let size = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        let start = pos + 8;
        // Writers that stream (and never patch the size) leave it too large.
        let end = start.saturating_add(size).min(bytes.len());
        if &bytes[pos..pos + 4] == id {
            return Ok(Some(&bytes[start..end]));
        }
        pos = end + (size & 1);
    }
    Ok(None)
}

/// An 8 kHz mono µ-law WAV file (format tag 7, with the fact chunk that
/// non-PCM WAV files carry): the usual shape of telephony prompts, half the
/// size of 16-bit PCM.
pub(super) fn mulaw_wav(samples: &[i16]) -> Vec<u8> {
    let mut data = Vec::with_capacity(samples.len());
    Codec::Pcmu.encode(samples, &mut data);
    let mut out = Vec::with_capacity(58 + data.len() + 1);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((4 + 26 + 12 + 8 + data.len() + data.len() % 2) as u32).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&FORMAT_MULAW.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // channels
    out.extend_from_slice(&8000u32.to_le_bytes()); // sample rate
    out.extend_from_slice(&8000u32.to_le_bytes()); // bytes per second
    out.extend_from_slice(&1u16.to_le_bytes()); // block align
    out.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(&0u16.to_le_bytes()); // no extra format bytes
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

fn mix_to_mono(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels == 1 {
        return interleaved.to_vec();
    }
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g711_wav(tag: u16, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&((4 + 8 + 18 + 8 + data.len()) as u32).to_le_bytes());
        out.extend_from_slice(b"WAVE");
        out.extend_from_slice(b"fmt ");
        out.extend_from_slice(&18u32.to_le_bytes());
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes()); // channels
        out.extend_from_slice(&8000u32.to_le_bytes());
        out.extend_from_slice(&8000u32.to_le_bytes()); // byte rate
        out.extend_from_slice(&1u16.to_le_bytes()); // block align
        out.extend_from_slice(&8u16.to_le_bytes()); // bits
        out.extend_from_slice(&0u16.to_le_bytes()); // cbSize
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn mulaw_and_alaw_wavs_are_decoded() {
        let tone: Vec<i16> = (0..800)
            .map(|n| ((n as f32 * 0.2).sin() * 9000.0) as i16)
            .collect();
        for (tag, codec) in [(FORMAT_MULAW, Codec::Pcmu), (FORMAT_ALAW, Codec::Pcma)] {
            let mut coded = Vec::new();
            codec.encode(&tone, &mut coded);
            let decoded = decode(&g711_wav(tag, &coded)).unwrap();
            assert_eq!(decoded.rate, 8000);
            assert_eq!(decoded.samples.len(), tone.len());
            let peak = decoded.samples.iter().fold(0f32, |m, s| m.max(s.abs()));
            assert!((peak - 9000.0 / 32768.0).abs() < 0.02, "{peak}");
        }
    }

    #[test]
    fn streamed_wav_with_unknown_sizes_is_read() {
        let mut wav = Vec::new();
        {
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate: 22_050,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let mut w = hound::WavWriter::new(std::io::Cursor::new(&mut wav), spec).unwrap();
            for n in 0..2205 {
                w.write_sample(((n as f32 * 0.1).sin() * 8000.0) as i16)
                    .unwrap();
            }
            w.finalize().unwrap();
        }
        // What espeak-ng --stdout writes: sizes it could not know.
        wav[4..8].copy_from_slice(&0x7FFF_F024u32.to_le_bytes());
        wav[40..44].copy_from_slice(&0x7FFF_F000u32.to_le_bytes());
        let decoded = decode(&wav).unwrap();
        assert_eq!(decoded.samples.len(), 2205);
        assert_eq!(decoded.rate, 22_050);
    }

    #[test]
    fn mulaw_files_we_write_read_back() {
        let tone: Vec<i16> = (0..801)
            .map(|n| ((n as f32 * 0.3).sin() * 12_000.0) as i16)
            .collect();
        let decoded = decode(&mulaw_wav(&tone)).unwrap();
        assert_eq!((decoded.rate, decoded.samples.len()), (8000, 801));
    }

    #[test]
    fn truncated_and_foreign_files_are_errors() {
        assert!(decode(b"RIFF").is_err());
        assert!(decode(b"OggS\0\0\0\0\0\0\0\0\0\0").is_err());
        let mut no_fmt = b"RIFF\x04\0\0\0WAVE".to_vec();
        no_fmt.extend_from_slice(b"data\0\0\0\0");
        assert_eq!(decode(&no_fmt).err().unwrap(), "no fmt chunk");
    }
}
