//! Prompts recorded as MP3, Ogg Vorbis or FLAC (what studios and
//! marketing teams send), decoded with symphonia to mono samples at their
//! own rate; [`super::Prompt::load`] resamples them like any WAV.

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Decoded audio: mono float samples in -1..1 and their rate.
pub(super) struct Decoded {
    pub samples: Vec<f32>,
    pub rate: u32,
}

/// Longest prompt accepted (an hour at 48 kHz), so a mislabelled huge file
/// cannot take all memory.
const MAX_SAMPLES: usize = 48_000 * 3_600;

/// Decodes the whole file; `extension` helps tell the format.
pub(super) fn decode(bytes: Vec<u8>, extension: Option<&str>) -> Result<Decoded, String> {
    let mut hint = Hint::new();
    if let Some(ext) = extension {
        hint.with_extension(ext);
    }
    let source = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes)), Default::default());
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            source,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| format!("not MP3, Ogg Vorbis, FLAC or WAV: {e}"))?;
    let mut format = probed.format;
    let track = format
        .default_track()
        .ok_or("the file has no audio track")?;
    let track_id = track.id;
    let rate = track
        .codec_params
        .sample_rate
        .ok_or("the file does not say its sample rate")?;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| format!("no decoder for this audio: {e}"))?;
    let mut samples = Vec::new();
    let mut buffer: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(format!("unreadable audio: {e}")),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // A damaged frame is skipped, as players do.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(e) => return Err(format!("unreadable audio: {e}")),
        };
        let spec = *decoded.spec();
        let channels = spec.channels.count().max(1);
        let buf = match &mut buffer {
            Some(buf) if buf.capacity() >= decoded.capacity() * channels => buf,
            _ => buffer.insert(SampleBuffer::new(decoded.capacity() as u64, spec)),
        };
        buf.copy_interleaved_ref(decoded);
        for frame in buf.samples().chunks(channels) {
            samples.push(frame.iter().sum::<f32>() / channels as f32);
        }
        if samples.len() > MAX_SAMPLES {
            return Err("longer than an hour: not a prompt".into());
        }
    }
    Ok(Decoded { samples, rate })
}
