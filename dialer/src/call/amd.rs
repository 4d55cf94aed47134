//! Listening before speaking: did a person answer, or a machine?
//!
//! With the campaign's `[amd]`, an answered call's first seconds belong to
//! the debtor: the dialer sends silence and hands what it hears to the
//! detector ([`media::amd`]). A person (or a call the detector cannot
//! decide, by `on_unsure`) then hears the opening as any answered call; a
//! machine is left the message for machines when its beep ends (rendered
//! while the greeting plays), or is hung up on. A key press while the
//! dialer listens is a person's. The verdict and the time it took go with
//! the attempt; the pacer hears of the answer only with the verdict, so a
//! machine never counts as a debtor waiting for an agent.

use std::sync::Arc;
use std::time::Duration;

use media::amd::{AmdDetector, Cue, CueKind, Verdict};
use media::prompt::Prompt;
use media::rtp::MediaCommand;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::Talk;
use super::talk::Input;
use super::transfer::play_to_end;
use crate::campaign::{Contact, Disposition, HangupBy};
use crate::config::{AmdConfig, OnMachine};
use crate::store::AmdResult;

/// A campaign's detection, with its message's template in the script.
#[derive(Debug, Clone)]
pub struct Detection {
    pub config: AmdConfig,
    /// The index of the message for machines among the script's templates.
    pub message: Option<usize>,
}

/// What listening found.
pub(super) enum Heard {
    /// A person: go on with the call's plan.
    Person,
    /// The call ended (a machine dealt with, or a hang-up meanwhile).
    Ended(HangupBy),
}

/// How long past the detector's own limit the dialer waits for audio that
/// does not come (the media feeds silence every 20 ms, so only a stalled
/// call reaches it).
const STALL: Duration = Duration::from_secs(1);

/// The far end's audio, 20 ms at a time from the moment it is taken,
/// while the dialer sends silence: the media relays it as to a bridged leg
/// that never talks back.
pub(super) struct Tap {
    audio: mpsc::Receiver<Vec<i16>>,
    /// The silent leg: while it lives, the media keeps relaying.
    _silent: mpsc::Sender<Vec<i16>>,
}

impl Tap {
    /// Taken right when the media starts, so no early word is missed.
    pub(super) fn take(media: &media::rtp::MediaSession) -> Tap {
        let (to_tap, audio) = mpsc::channel(64);
        let (silent, from_nobody) = mpsc::channel(1);
        media.send(MediaCommand::Connect {
            to_peer: to_tap,
            from_peer: from_nobody,
        });
        Tap {
            audio,
            _silent: silent,
        }
    }
}

/// Listens until the detector decides, then deals with a machine.
pub(super) async fn listen(
    t: &mut Talk<'_>,
    detection: &Detection,
    contact: &Contact,
    tap: Tap,
) -> Heard {
    let config = &detection.config;
    let Tap {
        audio: mut tap,
        _silent,
    } = tap;
    let mut detector = AmdDetector::new(config.settings);
    let began = Instant::now();
    let guard = began + Duration::from_millis(u64::from(config.settings.total_ms)) + STALL;
    let (ctx, deadline) = (t.ctx, t.max_deadline);
    let decision = loop {
        tokio::select! {
            input = t.next_input() => match input {
                Input::Hangup => return ended(t, HangupBy::Callee, "hung up while the dialer listened"),
                Input::Lost => return ended(t, HangupBy::Dialer, "the line went dead while the dialer listened"),
                Input::Key(key) => {
                    t.digit(key).await;
                    break (Verdict::Person, elapsed_ms(began), "a key press".to_string());
                }
                Input::PlaybackFinished(_) => {}
            },
            Some(chunk) = tap.recv() => {
                detector.push(&chunk);
                if let Some(d) = detector.decision() {
                    break (d.verdict, d.at_ms, d.reason.clone());
                }
            }
            _ = sleep_until(guard) => {
                break (Verdict::Unsure, elapsed_ms(began), "no audio from the far end".to_string());
            }
            note = super::must_end(ctx, deadline) => {
                t.record.notes.push(note);
                return ended(t, HangupBy::Dialer, "ended while the dialer listened");
            }
        }
    };
    let (verdict, at_ms, reason) = decision;
    t.record.amd = Some(AmdResult { verdict, at_ms });
    let treated = config.treat_as(verdict);
    let mut note = format!(
        "answering-machine detection: {} after {:.1} s ({reason})",
        verdict.as_str(),
        f64::from(at_ms) / 1000.0
    );
    if treated != verdict {
        note.push_str(&format!(", taken for a {}", treated.as_str()));
    }
    // Last in the attempt's note: what the call did matters more there.
    t.record.amd_note = Some(note);
    if let Some(answered) = t.record.on_answer.take() {
        let _ = answered.send(treated == Verdict::Person);
    }
    if treated == Verdict::Person {
        t.media.disconnect();
        return Heard::Person;
    }
    t.record.disposition = Disposition::Machine;
    match (config.on_machine, detection.message) {
        (OnMachine::Message, Some(message)) => {
            let max_wait = config.settings.max_beep_wait_ms;
            Heard::Ended(
                leave_message(
                    t,
                    &mut detector,
                    &mut tap,
                    (message, max_wait),
                    contact,
                    began,
                )
                .await,
            )
        }
        _ => {
            t.media.disconnect();
            t.record.notes.push("hung up on the machine".into());
            Heard::Ended(HangupBy::Dialer)
        }
    }
}

fn ended(t: &mut Talk<'_>, by: HangupBy, note: &str) -> Heard {
    t.record.notes.push(note.into());
    t.media.disconnect();
    Heard::Ended(by)
}

fn elapsed_ms(since: Instant) -> u32 {
    since.elapsed().as_millis().min(u128::from(u32::MAX)) as u32
}

/// Waits for the beep (or the quiet after the greeting) while the message
/// renders, then plays it to the machine; says who ended the call.
async fn leave_message(
    t: &mut Talk<'_>,
    detector: &mut AmdDetector,
    tap: &mut mpsc::Receiver<Vec<i16>>,
    (message, max_wait_ms): (usize, u32),
    contact: &Contact,
    began: Instant,
) -> HangupBy {
    let script = t.ctx.script.clone();
    let vars = script.contact_vars(contact, t.ctx.today);
    let today = t.ctx.today;
    let render = script.render(message, &vars, today);
    tokio::pin!(render);
    let mut rendered: Option<Result<Arc<Prompt>, String>> = None;
    let mut cue: Option<Cue> = detector.cue();
    // The detector gives up by itself; this is for a stalled tap.
    let max_wait = Duration::from_millis(u64::from(detector.elapsed_ms()) + u64::from(max_wait_ms));
    let guard = began + max_wait + STALL;
    let (ctx, deadline) = (t.ctx, t.max_deadline);
    while cue.is_none() || rendered.is_none() {
        tokio::select! {
            done = &mut render, if rendered.is_none() => rendered = Some(done.map(Arc::new)),
            input = t.next_input() => match input {
                Input::Hangup => {
                    t.record.notes.push("the machine hung up before the beep".into());
                    return HangupBy::Callee;
                }
                Input::Lost => return HangupBy::Dialer,
                Input::Key(key) => t.digit(key).await,
                Input::PlaybackFinished(_) => {}
            },
            Some(chunk) = tap.recv(), if cue.is_none() => {
                detector.push(&chunk);
                cue = detector.cue();
            }
            _ = sleep_until(guard), if cue.is_none() => {
                cue = Some(Cue { kind: CueKind::GaveUp, at_ms: elapsed_ms(began) });
            }
            note = super::must_end(ctx, deadline) => {
                t.record.notes.push(note);
                t.media.disconnect();
                return HangupBy::Dialer;
            }
        }
    }
    t.media.disconnect();
    let (Some(cue), Some(rendered)) = (cue, rendered) else {
        unreachable!("the loop ends with both");
    };
    let prompt = match rendered {
        Ok(prompt) => prompt,
        Err(e) => {
            t.record.notes.push(format!(
                "the message for machines could not be said: {e}; hung up"
            ));
            return HangupBy::Dialer;
        }
    };
    let after = match cue.kind {
        CueKind::Beep => "after the beep",
        CueKind::Quiet => "after the greeting (no beep heard)",
        CueKind::GaveUp => "without a beep or a pause (waited the longest)",
    };
    let id = t.media.play(prompt.encoded(t.codec));
    if play_to_end(t, id, prompt.duration()).await == HangupBy::Callee {
        t.record.notes.push(format!(
            "the machine hung up during the message, begun {after} at {:.1} s",
            f64::from(cue.at_ms) / 1000.0
        ));
        return HangupBy::Callee;
    }
    t.record.notes.push(format!(
        "left a {:.1} s message {after} at {:.1} s",
        prompt.duration().as_secs_f64(),
        f64::from(cue.at_ms) / 1000.0
    ));
    t.play_out().await
}
