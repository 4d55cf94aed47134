//! An answered call with a message: play it, listen for keys a while, hang up.

use tokio::time::{Instant, sleep_until};

use super::talk::Input;
use super::{Talk, must_end};
use crate::campaign::HangupBy;

/// Runs until the debtor or the dialer ends the call; says who did.
pub(super) async fn talk(t: &mut Talk<'_>) -> HangupBy {
    let wait = t.ctx.timing.wait_for_digits;
    let mut digit_deadline = None::<Instant>;
    let mut prompt_done = false;
    let (ctx, deadline) = (t.ctx, t.max_deadline);
    let hangup_by = loop {
        tokio::select! {
            input = t.next_input() => match input {
                Input::Hangup => break HangupBy::Callee,
                Input::Lost => break HangupBy::Dialer,
                Input::Key(key) => {
                    t.digit(key).await;
                    if prompt_done {
                        digit_deadline = Some(Instant::now() + wait);
                    }
                }
                Input::PlaybackFinished(_) => {
                    prompt_done = true;
                    // At least the play-out time, so the far end hears the end.
                    digit_deadline = Some(Instant::now() + wait.max(super::talk::PLAY_OUT));
                }
            },
            _ = sleep_until(digit_deadline.unwrap_or(deadline)), if digit_deadline.is_some() => {
                break HangupBy::Dialer;
            }
            note = must_end(ctx, deadline) => {
                t.record.notes.push(note);
                break HangupBy::Dialer;
            }
        }
    };
    if !prompt_done && hangup_by == HangupBy::Callee {
        t.record
            .notes
            .push("hung up before the message ended".into());
    }
    hangup_by
}
