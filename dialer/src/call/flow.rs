//! An answered call running an IVR flow: the interpreter decides, this loop
//! does the IO (prompts, keys, store writes, webhooks, timers) and records
//! the path, the inputs and the outcome.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::talk::Input;
use super::transfer::{TransferRequest, transfer};
use super::{OPENING_PLAYBACK, Talk, must_end};
use crate::acd::Requirement;
use crate::campaign::{Contact, HangupBy};
use crate::ivr::interp::Vars;
use crate::ivr::{Action, Flow, Interpreter, NodeId, NodeKind, PromptId, Record, outcome};
use crate::store::NewPromise;

/// Runs the flow until it or the debtor ends the call; says who did.
pub(super) async fn talk(
    t: &mut Talk<'_>,
    contact: &Contact,
    opening_playing: bool,
    vars: Vars,
) -> HangupBy {
    let script = t.ctx.script.clone();
    let flow = script
        .flow()
        .expect("a flow plan comes with its flow")
        .clone();
    let mut it = Interpreter::new(flow.clone(), vars, t.ctx.today);
    it.handle_answered(Instant::now().into_std());
    // The interpreter's prompt sequence number and the media playback id of
    // the prompt playing now.
    let mut playing: Option<(u64, u64)> = None;
    let mut opening_pending = opening_playing;
    let (webhook_tx, mut webhooks) = mpsc::unbounded_channel::<(u64, Result<Vars, String>)>();
    let (ctx, deadline) = (t.ctx, t.max_deadline);
    let hangup_by = 'call: loop {
        while let Some(action) = it.poll_action() {
            match action {
                Action::Play { seq, prompt, vars } => {
                    if std::mem::take(&mut opening_pending) && Some(prompt) == script.opening() {
                        playing = Some((seq, OPENING_PLAYBACK));
                        continue;
                    }
                    // A transfer's announcement ("un momento, le comunicamos
                    // con un asesor") plays while the agent's phone rings,
                    // not before: the debtor reaches the agent sooner.
                    if ctx.acd.is_some()
                        && let Some((queue, skills)) =
                            transfer_announced_by(&flow, it.node(), prompt)
                    {
                        let request = TransferRequest {
                            contact,
                            queue,
                            skills,
                            vars: vars.clone(),
                            path: it.path().to_vec(),
                            inputs: it.inputs().to_vec(),
                            announcement: Some(prompt),
                        };
                        break 'call transfer(t, request).await;
                    }
                    match script.render(prompt, &vars, t.ctx.today).await {
                        Ok(audio) => playing = Some((seq, t.media.play(audio.encoded(t.codec)))),
                        Err(e) => {
                            // Skip what cannot be said rather than leave the debtor in silence.
                            t.record
                                .notes
                                .push(format!("prompt {prompt} not played: {e}"));
                            it.handle_prompt_finished(Instant::now().into_std(), seq);
                        }
                    }
                }
                Action::StopPlayback => {
                    t.media.stop_playback();
                    playing = None;
                }
                Action::Store(record) => match store(t, contact, &record).await {
                    Ok(()) => it.handle_stored(Instant::now().into_std()),
                    Err(e) => {
                        // Nothing is confirmed to the debtor that was not stored.
                        t.record
                            .notes
                            .push(format!("could not store {record:?}: {e}"));
                        t.record.outcome = Some("error".into());
                        break 'call HangupBy::Dialer;
                    }
                },
                Action::Webhook {
                    seq,
                    url,
                    timeout,
                    vars,
                } => {
                    let request = webhook(t, contact, url, timeout, vars);
                    let results = webhook_tx.clone();
                    tokio::spawn(async move {
                        let _ = results.send((seq, request.await));
                    });
                }
                Action::Transfer { queue, skills } => {
                    // Skills were checked when the campaign started.
                    let skills = skills
                        .iter()
                        .filter_map(|s| Requirement::parse(s).ok())
                        .collect();
                    let request = TransferRequest {
                        contact,
                        queue,
                        skills,
                        vars: it.vars().clone(),
                        path: it.path().to_vec(),
                        inputs: it.inputs().to_vec(),
                        announcement: None,
                    };
                    break 'call transfer(t, request).await;
                }
                Action::Hangup => break 'call t.play_out().await,
            }
        }
        if it.is_ended() {
            break HangupBy::Dialer;
        }
        let timeout = it.poll_timeout().map(Instant::from_std);
        tokio::select! {
            input = t.next_input() => match input {
                Input::Hangup => {
                    it.handle_callee_hangup();
                    break HangupBy::Callee;
                }
                Input::Lost => {
                    it.handle_callee_hangup();
                    t.record.outcome = Some("media_timeout".into());
                    break HangupBy::Dialer;
                }
                Input::Key(key) => {
                    t.digit(key).await;
                    it.handle_digit(Instant::now().into_std(), key);
                }
                Input::PlaybackFinished(id) => {
                    if let Some((seq, playing_id)) = playing
                        && playing_id == id
                    {
                        playing = None;
                        it.handle_prompt_finished(Instant::now().into_std(), seq);
                    }
                }
            },
            _ = sleep_until(timeout.unwrap_or(deadline)), if timeout.is_some() => {
                it.handle_timeout(Instant::now().into_std());
            }
            Some((seq, result)) = webhooks.recv() => {
                it.handle_webhook(Instant::now().into_std(), seq, result);
            }
            note = must_end(ctx, deadline) => {
                t.record.notes.push(note);
                break HangupBy::Dialer;
            }
        }
    };
    if t.record.outcome.is_none() {
        t.record.outcome = Some(it.outcome().unwrap_or(outcome::HUNG_UP).to_owned());
    }
    t.record.flow_path = it.path().to_vec();
    t.record.inputs = it.inputs().to_vec();
    hangup_by
}

/// The queue and skills of the transfer node at `node`, when `prompt` is
/// its announcement.
fn transfer_announced_by(
    flow: &Flow,
    node: NodeId,
    prompt: PromptId,
) -> Option<(String, Vec<Requirement>)> {
    match &flow.node(node).kind {
        NodeKind::Transfer {
            queue,
            skills,
            announce: Some(announce),
        } if *announce == prompt => Some((
            queue.clone(),
            skills
                .iter()
                .filter_map(|s| Requirement::parse(s).ok())
                .collect(),
        )),
        _ => None,
    }
}

/// Commits a promise or an opt-out before the debtor hears it confirmed.
async fn store(
    t: &mut Talk<'_>,
    contact: &Contact,
    record: &Record,
) -> Result<(), crate::store::StoreError> {
    let store = &t.ctx.store;
    match record {
        Record::Promise { date, amount, node } => {
            store
                .record_promise(&NewPromise {
                    attempt: t.record.attempt,
                    campaign_id: t.ctx.campaign_id,
                    contact_id: &contact.id,
                    phone: &contact.phone,
                    promised_date: date,
                    amount: *amount,
                    node,
                    at: Utc::now(),
                })
                .await?;
        }
        Record::OptOut { .. } => {
            store
                .add_do_not_call(
                    &contact.phone,
                    "opt_out",
                    Some((t.ctx.campaign_id, &contact.id, t.record.attempt)),
                    Utc::now(),
                )
                .await?;
        }
    }
    Ok(())
}

/// POSTs the call's data as JSON; the answer's top-level fields become variables.
fn webhook(
    t: &Talk<'_>,
    contact: &Contact,
    url: String,
    timeout: Duration,
    vars: Vars,
) -> impl std::future::Future<Output = Result<Vars, String>> + Send + 'static {
    let body = serde_json::json!({
        "attempt_id": t.record.attempt,
        "call_id": t.record.call_id,
        "campaign_id": t.ctx.campaign_id,
        "contact_id": contact.id,
        "phone": contact.phone,
        "variables": vars,
    });
    let request = t.ctx.http.post(&url).timeout(timeout).json(&body);
    async move {
        // What the operator reads in the attempt's inputs: why, not only where.
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                format!("{url}: no answer within {} s", timeout.as_secs_f64())
            } else {
                let mut why = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    why.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                why
            }
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("{url} answered {status}"));
        }
        let value: serde_json::Value = response.json().await.map_err(|e| {
            if e.is_timeout() {
                failed(e)
            } else {
                format!("{url}: not JSON: {e}")
            }
        })?;
        let serde_json::Value::Object(fields) = value else {
            return Err(format!("{url}: the answer is not a JSON object"));
        };
        Ok(fields
            .into_iter()
            .filter_map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => return None,
                };
                Some((k.to_lowercase(), text))
            })
            .collect())
    }
}
