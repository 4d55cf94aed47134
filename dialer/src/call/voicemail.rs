//! A debtor leaving a message when no agent could take the call.
//!
//! After the queue's overflow prompt, a beep, then what the debtor says is
//! kept (up to the queue's `voicemail_max_s`, or until they hang up or
//! press `#`) and written as an 8 kHz WAV file next to the database (on the
//! blocking pool, off the call's task), with a row in `voicemails` naming it.

use std::time::Duration;

use chrono::Utc;
use media::rtp::MediaCommand;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::Talk;
use super::talk::Input;
use super::transfer::play_to_end;
use crate::campaign::HangupBy;

/// The beep before the recording: 1 kHz for 400 ms.
fn beep(codec: media::Codec) -> (std::sync::Arc<[u8]>, Duration) {
    let pcm: Vec<i16> = (0..3_200)
        .map(|i| ((i as f64 * 1_000.0 * std::f64::consts::TAU / 8_000.0).sin() * 10_000.0) as i16)
        .collect();
    let mut coded = Vec::new();
    codec.encode(&pcm, &mut coded);
    (coded.into(), Duration::from_millis(400))
}

/// Records the debtor's message; says who ended the call.
pub(super) async fn record(t: &mut Talk<'_>, queue: &str, max: Duration) -> HangupBy {
    let (audio, length) = beep(t.codec);
    let id = t.media.play(audio);
    if play_to_end(t, id, length).await == HangupBy::Callee {
        return HangupBy::Callee;
    }
    // The debtor's audio comes out of their media session like a bridge to
    // a leg that never talks back.
    let (to_sink, mut sink) = mpsc::channel(64);
    let (_silent, from_nobody) = mpsc::channel(1);
    t.media.send(MediaCommand::Connect {
        to_peer: to_sink,
        from_peer: from_nobody,
    });
    let mut samples: Vec<i16> = Vec::new();
    let limit = max.as_secs_f64() as usize * 8_000;
    let deadline = Instant::now() + max;
    let by = loop {
        tokio::select! {
            input = t.next_input() => match input {
                Input::Hangup => break HangupBy::Callee,
                Input::Lost => break HangupBy::Dialer,
                Input::Key(key) => {
                    t.digit(key).await;
                    if key == '#' {
                        break HangupBy::Dialer;
                    }
                }
                Input::PlaybackFinished(_) => {}
            },
            Some(chunk) = sink.recv() => {
                samples.extend_from_slice(&chunk);
                if samples.len() >= limit {
                    break HangupBy::Dialer;
                }
            }
            _ = sleep_until(deadline) => break HangupBy::Dialer,
        }
    };
    t.media.disconnect();
    while let Ok(chunk) = sink.try_recv() {
        samples.extend_from_slice(&chunk);
    }
    samples.truncate(limit);
    let seconds = samples.len() as f64 / 8_000.0;
    let Some(dir) = t.ctx.acd.as_ref().map(|a| a.voicemail_dir.clone()) else {
        return by;
    };
    let path = dir.join(format!("{}-{}.wav", t.record.attempt, queue));
    // Disk writes wait on the disk: not on the call's task (a runtime
    // worker that serves other calls), on the blocking pool.
    let written = tokio::task::spawn_blocking({
        let path = path.clone();
        move || {
            std::fs::create_dir_all(&dir)
                .and_then(|()| media::prompt::write_mulaw_wav(&path, &samples))
        }
    })
    .await
    .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    match written {
        Ok(()) => {
            t.record
                .notes
                .push(format!("left a {seconds:.1} s message: {}", path.display()));
            super::log_store(
                t.ctx
                    .store
                    .record_voicemail(
                        t.record.attempt,
                        queue,
                        &path.display().to_string(),
                        seconds,
                        Utc::now(),
                    )
                    .await,
            );
        }
        Err(e) => t.record.notes.push(format!(
            "could not write the message {}: {e}",
            path.display()
        )),
    }
    by
}
