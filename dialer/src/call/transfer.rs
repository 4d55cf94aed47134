//! A debtor who asked for an agent: waiting in the queue, agents rung one
//! by one, then the bridge.
//!
//! The ACD service decides who to ring; this loop does the call's side of
//! it. While the debtor waits they hear the queue's hold prompt in a loop
//! and, every so often, their position. When the ACD offers an agent, the
//! dialer INVITEs that agent's softphone (with the debtor's data in
//! headers) from a second RTP port and keeps the hold prompt going; on the
//! agent's 200 OK the two legs are bridged, media anchored here. An agent
//! who does not answer in time is cancelled and reported, and the debtor
//! keeps waiting for the next one. A debtor who hangs up while waiting is
//! an abandon in queue. A debtor who waits too long gets the queue's
//! overflow: a callback, a voicemail, or a message and a hang-up.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use media::prompt::Prompt;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::bridge::{AgentLeg, AgentOutcome, ring_agent};
use super::talk::Input;
use super::{Talk, log_store, must_end};
use crate::acd::{OfferFailure, QueueCallId, Requirement};
use crate::agents::QueueEvent;
use crate::campaign::{Contact, HangupBy};
use crate::config::OverflowConfig;
use crate::ivr::interp::Vars;
use crate::store::{FinishedQueueCall, NewQueueCall};

/// The outcomes (tipificaciones) a transfer leaves on the attempt.
pub mod outcome {
    pub const TRANSFERRED: &str = "transferred";
    pub const ABANDONED: &str = "abandoned_in_queue";
    pub const CALLBACK: &str = "callback_scheduled";
    pub const VOICEMAIL: &str = "voicemail";
    pub const NO_AGENT: &str = "no_agent";
    /// In a campaign that overdials: the debtor got no agent within the
    /// grace time (they heard the safe-harbor message, or hung up first).
    pub const PACER_ABANDONED: &str = "abandoned";
}

/// A queue's prompts, rendered per call from the campaign's script.
#[derive(Debug, Clone)]
pub struct QueuePrompts {
    pub hold: usize,
    pub position: usize,
    pub overflow: usize,
}

/// What the flow knew when the debtor asked for an agent.
pub struct TransferRequest<'a> {
    pub contact: &'a Contact,
    pub queue: String,
    pub skills: Vec<Requirement>,
    pub vars: Vars,
    pub path: Vec<String>,
    pub inputs: Vec<(String, String)>,
    /// The transfer node's announcement, played first while agents ring.
    pub announcement: Option<usize>,
}

/// Longest an agent may talk to a debtor (the call's `max_call_s` covers
/// the IVR part; agents' conversations run longer).
const MAX_AGENT_TALK: Duration = Duration::from_secs(3 * 3600);

/// What is playing to the waiting debtor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Playing {
    Hold(u64),
    Announcement(u64),
    Nothing,
}

/// Runs the transfer to its end; says who hung up.
pub(super) async fn transfer(t: &mut Talk<'_>, request: TransferRequest<'_>) -> HangupBy {
    let ctx = t.ctx;
    let Some(acd) = ctx.acd.clone() else {
        // No agents configured: the request is recorded and the call ends.
        t.record.notes.push(format!(
            "transfer requested to queue {} (skills: {}); no agents are configured",
            request.queue,
            request
                .skills
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        t.record.outcome = Some(crate::ivr::outcome::TRANSFER.into());
        return HangupBy::Dialer;
    };
    let queue_name = request.queue.clone();
    let (Some(queue), Some(prompts)) = (acd.queue(&queue_name), acd.prompts(&queue_name)) else {
        t.record
            .notes
            .push(format!("transfer to unknown queue {queue_name}"));
        t.record.outcome = Some("error".into());
        return HangupBy::Dialer;
    };
    let call = QueueCallId(t.record.attempt as u64);
    let priority = queue.priority_of(&request.vars);
    let skills_text = request
        .skills
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let row = match ctx
        .store
        .begin_queue_call(&NewQueueCall {
            attempt: t.record.attempt,
            campaign_id: ctx.campaign_id,
            queue: &queue_name,
            skills: &skills_text,
            priority,
            at: Utc::now(),
        })
        .await
    {
        Ok(id) => id,
        Err(e) => {
            t.record
                .notes
                .push(format!("could not record the queue call: {e}"));
            t.record.outcome = Some("error".into());
            return HangupBy::Dialer;
        }
    };
    let pop = screen_pop(t, &request, &queue_name);
    let (events_tx, mut events) = mpsc::unbounded_channel();
    if let Err(e) = acd
        .agents
        .enqueue(
            crate::agents::QueueEntry {
                call,
                queue: queue_name.clone(),
                skills: request.skills.clone(),
                priority,
                pop,
                preview: t.record.preview,
            },
            events_tx,
        )
        .await
    {
        t.record.notes.push(format!("queue {queue_name}: {e}"));
        t.record.outcome = Some("error".into());
        finish_row(t, row, "error", None, Some(&e)).await;
        return HangupBy::Dialer;
    }

    tracing::info!(attempt = t.record.attempt, queue = %queue_name, "debtor waiting for an agent");
    let hold = render(t, prompts.hold, &request.vars).await;
    let announcement = match request.announcement {
        Some(prompt) => render(t, prompt, &request.vars).await,
        None => None,
    };
    let mut playing = match (&announcement, &hold) {
        (Some(audio), _) => Playing::Announcement(t.media.play(audio.encoded(t.codec))),
        (None, Some(audio)) => Playing::Hold(t.media.play(audio.encoded(t.codec))),
        (None, None) => Playing::Nothing,
    };
    let mut ringing: Option<AgentLeg> = None;
    let max_deadline = t
        .max_deadline
        .max(Instant::now() + queue_wait_bound(queue.max_wait_s));
    loop {
        let ring_deadline = ringing.as_ref().map(|r| r.deadline);
        tokio::select! {
            input = t.next_input() => match input {
                Input::Hangup => {
                    if let Some(agent) = ringing.take() {
                        agent.cancel();
                    }
                    acd.agents.abandon(call);
                    t.record.outcome = Some(if ctx.overdials { outcome::PACER_ABANDONED } else { outcome::ABANDONED }.into());
                    t.record.notes.push(format!("hung up waiting in queue {queue_name}"));
                    finish_row(t, row, "abandoned", None, None).await;
                    return HangupBy::Callee;
                }
                Input::Lost => {
                    if let Some(agent) = ringing.take() {
                        agent.cancel();
                    }
                    acd.agents.abandon(call);
                    finish_row(t, row, "abandoned", None, Some("the line went silent")).await;
                    return HangupBy::Dialer;
                }
                Input::Key(key) => t.digit(key).await,
                Input::PlaybackFinished(id) => {
                    if playing == Playing::Hold(id) || playing == Playing::Announcement(id) {
                        playing = match &hold {
                            Some(audio) => Playing::Hold(t.media.play(audio.encoded(t.codec))),
                            None => Playing::Nothing,
                        };
                    }
                }
            },
            Some(event) = events.recv() => match event {
                QueueEvent::Offer { login, name, contacts, ring_timeout } => {
                    log_store(ctx.store.queue_offered(row).await);
                    match ring_agent(t, request.contact, &login, &name, &contacts, ring_timeout) {
                        Ok(leg) => ringing = Some(leg),
                        Err(e) => {
                            t.record.notes.push(format!("could not ring agent {login}: {e}"));
                            acd.agents.offer_failed(call, OfferFailure::Unreachable);
                        }
                    }
                }
                QueueEvent::Announce { position } => {
                    let mut vars = request.vars.clone();
                    vars.insert("position".into(), position.to_string());
                    if let Some(audio) = render(t, prompts.position, &vars).await {
                        playing = Playing::Announcement(t.media.play(audio.encoded(t.codec)));
                    }
                }
                QueueEvent::Overflow { from, to: OverflowConfig::Queue(next) } => {
                    tracing::info!(attempt = t.record.attempt, %from, to = %next, "queue overflow to another queue");
                    t.record.notes.push(format!("queue {from} overflowed to {next}"));
                    log_store(ctx.store.queue_moved(row, &next).await);
                }
                QueueEvent::Overflow { from, to } => {
                    tracing::info!(attempt = t.record.attempt, %from, ?to, "queue overflow");
                    // The message is the one of the queue that gave up
                    // (after overflows, not the first queue's).
                    let prompt = acd.prompts(&from).map_or(prompts.overflow, |p| p.overflow);
                    return overflow(t, &request, row, &from, to, prompt).await;
                }
            },
            (index, event) = async { ringing.as_mut().expect("guarded").next_event().await }, if ringing.is_some() => {
                let agent = ringing.as_mut().expect("guarded by ringing.is_some()");
                match agent.on_event(index, event) {
                    AgentOutcome::Pending => {}
                    AgentOutcome::Failed(why, note) => {
                        t.record.notes.push(note);
                        ringing = None;
                        acd.agents.offer_failed(call, why);
                    }
                    AgentOutcome::Answered(index, sdp) => {
                        let agent = ringing.take().expect("answered while ringing");
                        match agent.connect(index, t, &sdp) {
                            Ok(bridge) => {
                                acd.agents.offer_answered(call);
                                log_store(ctx.store.queue_answered(row, &bridge.login, Utc::now()).await);
                                t.record.outcome = Some(outcome::TRANSFERRED.into());
                                let (by, agent_ended) = bridge.talk(t, MAX_AGENT_TALK).await;
                                acd.agents.call_ended(call);
                                let hung_up = if agent_ended { "agent" } else if by == HangupBy::Callee { "debtor" } else { "dialer" };
                                finish_row(t, row, "answered", Some(hung_up), None).await;
                                return by;
                            }
                            Err(e) => {
                                // That agent is paused (the leg is hung up);
                                // the debtor keeps their place for the next.
                                t.record.notes.push(e);
                                acd.agents.offer_failed(call, OfferFailure::Unreachable);
                                if playing == Playing::Nothing && let Some(audio) = &hold {
                                    playing = Playing::Hold(t.media.play(audio.encoded(t.codec)));
                                }
                            }
                        }
                    }
                }
            }
            _ = sleep_until(ring_deadline.unwrap_or(max_deadline)), if ring_deadline.is_some() => {
                let agent = ringing.take().expect("guarded by ring_deadline");
                t.record.notes.push(format!("agent {} did not answer in {:.0} s", agent.login, agent.ring_timeout.as_secs_f64()));
                agent.cancel();
                acd.agents.offer_failed(call, OfferFailure::NoAnswer);
            }
            note = must_end(ctx, max_deadline) => {
                if let Some(agent) = ringing.take() {
                    agent.cancel();
                }
                acd.agents.abandon(call);
                t.record.notes.push(note.clone());
                t.record.outcome = Some(outcome::NO_AGENT.into());
                finish_row(t, row, "error", None, Some(&note)).await;
                return HangupBy::Dialer;
            }
        }
    }
}

/// The call may stay in the ACD a little past the queue's maximum wait:
/// the overflow (and an agent's phone ringing at that moment) needs time.
fn queue_wait_bound(max_wait_s: f64) -> Duration {
    Duration::from_secs_f64(max_wait_s * 4.0 + 120.0)
}

/// The debtor's data for the agent's screen.
fn screen_pop(t: &Talk<'_>, request: &TransferRequest<'_>, queue: &str) -> serde_json::Value {
    let c = request.contact;
    serde_json::json!({
        "attempt_id": t.record.attempt,
        "call_id": t.record.call_id,
        "campaign_id": t.ctx.campaign_id,
        "queue": queue,
        "contact_id": c.id,
        "name": c.name,
        "phone": c.phone,
        "balance": c.balance,
        "due_date": c.due_date,
        "variables": request.vars,
        "ivr_path": request.path,
        "ivr_inputs": request.inputs,
        "digits": t.record.digits,
    })
}

pub(super) async fn render(t: &mut Talk<'_>, prompt: usize, vars: &Vars) -> Option<Arc<Prompt>> {
    match t.ctx.script.render(prompt, vars, t.ctx.today).await {
        Ok(audio) => Some(Arc::new(audio)),
        Err(e) => {
            t.record.notes.push(format!("queue prompt not played: {e}"));
            None
        }
    }
}

async fn finish_row(
    t: &Talk<'_>,
    row: i64,
    result: &str,
    hangup_by: Option<&str>,
    note: Option<&str>,
) {
    log_store(
        t.ctx
            .store
            .finish_queue_call(
                row,
                &FinishedQueueCall {
                    outcome: result,
                    ended_at: Utc::now(),
                    hangup_by,
                    note,
                },
            )
            .await,
    );
}

/// The queue gave up: a callback, a voicemail, or a message and goodbye.
async fn overflow(
    t: &mut Talk<'_>,
    request: &TransferRequest<'_>,
    row: i64,
    queue: &str,
    to: OverflowConfig,
    prompt: usize,
) -> HangupBy {
    let ctx = t.ctx;
    let message = render(t, prompt, &request.vars).await;
    let mut hung_up = false;
    if let Some(audio) = &message {
        t.media.stop_playback();
        let id = t.media.play(audio.encoded(t.codec));
        hung_up = play_to_end(t, id, audio.duration()).await == HangupBy::Callee;
    }
    // A debtor who hangs up during the message still asked for an agent:
    // the callback is scheduled all the same; a voicemail needs them there.
    if hung_up && to == OverflowConfig::Voicemail {
        finish_row(t, row, "abandoned", None, None).await;
        t.record.outcome = Some(outcome::ABANDONED.into());
        return HangupBy::Callee;
    }
    let queue_config = ctx.acd.as_ref().and_then(|a| a.queue(queue).cloned());
    let ended_by = if hung_up {
        HangupBy::Callee
    } else {
        HangupBy::Dialer
    };
    match to {
        OverflowConfig::Callback => {
            let after = queue_config.map(|q| q.callback_after_s).unwrap_or(3600.0);
            let due = Utc::now() + chrono::Duration::milliseconds((after * 1000.0) as i64);
            log_store(
                ctx.store
                    .schedule_callback(
                        ctx.campaign_id,
                        &request.contact.id,
                        &request.contact.phone,
                        t.record.attempt,
                        queue,
                        due,
                        Utc::now(),
                    )
                    .await,
            );
            t.record.outcome = Some(outcome::CALLBACK.into());
            finish_row(t, row, "callback", None, None).await;
            ended_by
        }
        OverflowConfig::Voicemail => {
            let max = queue_config.map(|q| q.voicemail_max_s).unwrap_or(60.0);
            let by = super::voicemail::record(t, queue, Duration::from_secs_f64(max)).await;
            t.record.outcome = Some(outcome::VOICEMAIL.into());
            finish_row(t, row, "voicemail", None, None).await;
            by
        }
        OverflowConfig::Hangup | OverflowConfig::Queue(_) if ctx.overdials => {
            t.record.outcome = Some(outcome::PACER_ABANDONED.into());
            t.record.notes.push(format!(
                "abandoned: no agent of queue {queue} within {} s; the safe-harbor message was played",
                crate::config::PacingConfig::GRACE_S
            ));
            finish_row(t, row, "no_agent", None, None).await;
            ended_by
        }
        OverflowConfig::Hangup | OverflowConfig::Queue(_) => {
            t.record.outcome = Some(outcome::NO_AGENT.into());
            finish_row(t, row, "no_agent", None, None).await;
            ended_by
        }
    }
}

/// Waits for a prompt to finish (or the debtor to hang up).
pub(super) async fn play_to_end(t: &mut Talk<'_>, id: u64, duration: Duration) -> HangupBy {
    let guard = Instant::now() + duration + Duration::from_secs(2);
    loop {
        tokio::select! {
            input = t.next_input() => match input {
                Input::Hangup => return HangupBy::Callee,
                Input::Lost => return HangupBy::Dialer,
                Input::PlaybackFinished(done) if done == id => return HangupBy::Dialer,
                Input::Key(key) => t.digit(key).await,
                Input::PlaybackFinished(_) => {}
            },
            _ = sleep_until(guard) => return HangupBy::Dialer,
        }
    }
}
