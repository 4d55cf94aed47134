//! `dialer run`: dial every contact of a campaign once, within the trunk's caps.
//!
//! The run loads and checks everything before the first call (message, TTS
//! engine, list, store, trunk address, SIP port). Then two things go on at
//! once: a renderer voices each contact's personal message ahead of the
//! dialing front, and the dialer launches one call actor per rendered
//! contact while holding at most `max_channels` calls up and starting at
//! most `max_cps` per second. Dialing stops early when the operator presses
//! Ctrl-C (calls in flight are ended and recorded), when the trunk looks
//! dead (several calls in a row without any SIP response), or when the TTS
//! engine keeps failing, so a broken dependency does not burn the list.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{Datelike, Local, Utc};
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use media::prompt::Prompt;
use media::prompt::template::Segment;
use media::rtp::PortPool;
use media::say::Date;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::gate::Place;
use super::message::PreparedScript;
use super::pace::{DECIDE_EVERY, LivePacer};
use super::retry::{Next, RetryPolicy};
use super::trunks::{RETRY_AFTER, TRUNK_FAILURES_TO_STOP, TrunkCaps, TrunkPool};
use super::{Contact, Disposition, acd};
use crate::call::{
    CallContext, CallError, CallOutcome, CallPlan, CallTiming, Detection, place_call,
};
use crate::compliance::Verdict;
use crate::config::Config;
use crate::ivr::interp::Vars;
use crate::sip::{InboundPolicy, SipEndpoint, TrunkTarget};
use crate::store::{Deferral, Store};

mod load;
mod render;
mod summary;

use load::{Work, load_work};
use render::{Bars, spawn_renderer};
pub use summary::RunSummary;
use summary::counts_line;

/// After this many messages in a row fail to render, stop dialing.
pub const RENDER_FAILURES_TO_STOP: usize = 3;

/// How the run talks to the operator.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Draw progress bars (only drawn when stderr is a terminal).
    pub progress: bool,
}

/// Today in the dialer's local time, for dates said "without the year when
/// it is this year".
pub fn today() -> Date {
    let now = Local::now();
    Date {
        year: now.year() as u16,
        month: now.month() as u8,
        day: now.day() as u8,
    }
}

/// A contact to call, with its values and its opening prompt resolved.
struct Dial {
    contact: Contact,
    vars: Vars,
    opening: Option<Vec<Segment>>,
    place: Place,
    /// 1 for the contact's first call in the campaign.
    attempt_no: u32,
    /// A callback promised by this queue: one of its agents takes it.
    callback: Option<String>,
}

/// A call's end, back in the dialing loop: its token, trunk, contact,
/// result, and the trunk channel it held.
type CallDone = (
    u64,
    usize,
    Contact,
    Result<CallOutcome, CallError>,
    OwnedSemaphorePermit,
);

/// A call checked and ready to go out: the contact, its rendered
/// message, the calling rules' verdict, and the trunks already tried.
struct Ready {
    dial: Dial,
    opening: Option<Arc<Prompt>>,
    /// The verdict before the first try.
    first_verdict: String,
    /// What this try's attempt records.
    compliance: String,
    tried: Vec<usize>,
    /// Preview dialing, or a callback: the reservation of the agent who
    /// takes the debtor.
    preview: Option<u64>,
    /// A callback's reserved agent.
    agent: Option<String>,
}

/// Preview dialing: where the checked call's preview is.
enum Preview {
    /// Not shown to an agent yet (nobody was ready).
    Idle,
    /// On an agent's screen, until they decide or the timeout places it.
    Shown {
        key: u64,
        login: String,
        decision: tokio::sync::oneshot::Receiver<crate::agents::PreviewDecision>,
        deadline: Option<tokio::time::Instant>,
    },
    /// Accepted (or timed out): the call may go.
    Accepted { key: u64 },
}

/// What the agent sees of a debtor in preview.
fn preview_card(contact: &Contact) -> serde_json::Value {
    serde_json::json!({
        "contact_id": contact.id,
        "name": contact.name,
        "phone": contact.phone,
        "balance": contact.balance,
        "due_date": contact.due_date,
        "vars": contact.vars,
    })
}

fn deferral(
    contact: &Contact,
    reason: String,
    retry_at: Option<chrono::DateTime<Utc>>,
) -> Deferral {
    Deferral {
        contact_id: contact.id.clone(),
        phone: contact.phone.clone(),
        decided_at: Utc::now(),
        reason,
        retry_at,
    }
}

/// Starts the media threads with `[media]`'s settings before the first
/// call. A system that refuses the real-time priority gets a warning, not a
/// stopped campaign: the calls go on at the ordinary priority.
fn start_media(config: &Config) {
    use media::rtp::engine::{self, EngineSettings, StartError};
    let settings = EngineSettings {
        realtime_priority: config.media.realtime_priority,
    };
    match engine::start(settings) {
        Ok(()) => {
            if let Some(priority) = settings.realtime_priority {
                tracing::info!("media threads run under SCHED_FIFO at priority {priority}");
            }
        }
        Err(StartError::Started(running)) if running == settings => {}
        Err(e) => eprintln!(
            "warning: {}: media.realtime_priority: {e}",
            config.path.display()
        ),
    }
}

/// Runs the configured campaign to its end. `stop` ends it early.
pub async fn run(
    config: &Config,
    options: RunOptions,
    stop: CancellationToken,
) -> anyhow::Result<RunSummary> {
    let begun = Instant::now();
    let campaign = &config.campaign;
    // The queues' prompts, then the message for answering machines.
    let mut extra = acd::queue_templates(config);
    let amd_message = config
        .amd
        .as_ref()
        .and_then(|a| a.message.clone())
        .map(|message| {
            extra.push(message);
            extra.len() - 1
        });
    let script =
        Arc::new(PreparedScript::prepare_with(&campaign.script, &config.tts, &extra).await?);
    let detection = config.amd.as_ref().map(|amd| {
        Arc::new(Detection {
            config: amd.clone(),
            message: amd_message.map(|i| script.extra_base() + i),
        })
    });
    acd::check_transfers(config, &script)?;
    acd::check_pacing(config, &script)?;
    let Work {
        store,
        campaign_id,
        gate,
        mut feed,
        mut summary,
    } = load_work(config, &script, detection.as_deref()).await?;
    if feed.fresh_left() == 0 && feed.retries_left() == 0 {
        summary.elapsed = begun.elapsed();
        store.close().await;
        return Ok(summary);
    }

    let trunks = config.campaign_trunks();
    let mut trunk_addrs = Vec::with_capacity(trunks.len());
    for t in &trunks {
        let addr = tokio::net::lookup_host(&t.address)
            .await
            .ok()
            .and_then(|mut addrs| addrs.next())
            .with_context(|| {
                format!(
                    "{}: trunk '{}': cannot resolve address '{}'",
                    config.path.display(),
                    t.name,
                    t.address
                )
            })?;
        trunk_addrs.push(addr);
    }
    let (registers_tx, registers) = acd::register_channel(config);
    let sip = Arc::new(
        SipEndpoint::start_with_registrar(
            config.sip.bind,
            config.sip.advertised_ip,
            &config.sip.user_agent,
            InboundPolicy::Refuse,
            registers_tx,
        )
        .await
        .with_context(|| format!("{}: sip.bind", config.path.display()))?,
    );
    let running_acd = acd::start(config, &script, sip.clone(), store.clone(), registers).await?;
    let ports = PortPool::new(
        config.media.ip,
        config.media.rtp_port_min,
        config.media.rtp_port_max,
    )
    .with_context(|| format!("{}: media.rtp_port_min/max", config.path.display()))?;
    start_media(config);
    let ports = Arc::new(ports);
    let http = {
        // reqwest's rustls needs a process-wide crypto provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    };
    let calls_stop = stop.child_token();
    // One writer thread records every call, whichever its trunk.
    let recorder = campaign.recordings.as_ref().map(|dir| {
        (
            media::record::Recorder::start(),
            dir.join(file_name(&campaign.name)),
        )
    });
    // One context per trunk: what differs is the trunk's address, caller
    // ID, codecs, number format, DTMF and RTP habits.
    let ctxs: Vec<Arc<CallContext>> = trunks
        .iter()
        .zip(&trunk_addrs)
        .map(|(trunk, addr)| {
            Arc::new(CallContext {
                sip: sip.clone(),
                store: store.clone(),
                ports: ports.clone(),
                campaign_id,
                trunk_name: trunk.name.clone(),
                trunk: TrunkTarget {
                    addr: *addr,
                    transport: trunk.transport,
                    credentials: trunk
                        .credentials
                        .as_ref()
                        .map(|c| (c.username.clone(), c.password.clone())),
                    caller_id: trunk.caller_id.clone(),
                    caller_name: trunk.caller_name.clone(),
                },
                codecs: trunk.codecs.clone(),
                dial_prefix: trunk.dial_prefix.clone(),
                strip_plus: trunk.strip_plus,
                timing: CallTiming {
                    response_timeout: Duration::from_secs_f64(trunk.response_timeout_s),
                    ring_timeout: Duration::from_secs_f64(campaign.ring_timeout_s),
                    wait_for_digits: Duration::from_secs_f64(campaign.wait_for_digits_s),
                    max_call: Duration::from_secs_f64(campaign.max_call_s),
                    rtp_timeout: (trunk.rtp_timeout_s > 0.0)
                        .then(|| Duration::from_secs_f64(trunk.rtp_timeout_s)),
                },
                script: script.clone(),
                today: today(),
                http: http.clone(),
                stop: calls_stop.clone(),
                acd: running_acd.as_ref().map(|a| a.context.clone()),
                dtmf: trunk.dtmf.clone(),
                latch: trunk.symmetric_rtp,
                recordings: recorder.clone(),
                overdials: config.pacing.mode.overdials(),
                amd: detection.clone(),
            })
        })
        .collect();
    let total = feed.fresh_left() + feed.retries_left();
    let trunk_names: Vec<&str> = trunks.iter().map(|t| t.name.as_str()).collect();
    info!(campaign = %campaign.name, contacts = total, trunks = ?trunk_names, "dialing");

    let bars = Bars::new(options.progress, total);
    // Render ahead of the dialing front, by as many messages as could be
    // needed before the renderer catches up again.
    // One second of calls at the trunk's rate is enough: rendered prompts
    // are big (a 10 s message is ~200 KB), and the renderer only has to
    // stay ahead, not run the whole list into memory.
    let max_cps: f64 = trunks.iter().map(|t| t.max_cps).sum();
    let max_channels: usize = trunks.iter().map(|t| t.max_channels as usize).sum();
    let lookahead = (max_cps.ceil() as usize).min(max_channels * 2).max(16);
    // The feed hands contacts to the renderer as it has room: fresh ones
    // by segment and order, retries when they are due.
    let (to_render, render_input) = mpsc::channel::<Dial>(lookahead);
    let mut to_render = Some(to_render);
    let mut rendered = spawn_renderer(script.clone(), render_input, lookahead, bars.render.clone());
    // Contacts handed to the renderer and not yet taken back from it.
    let mut rendering = 0usize;
    // Calls up, with what a retry or a failover needs to dial them again.
    let policy: Option<&RetryPolicy> = config.retry.as_ref();
    let mut in_flight: std::collections::HashMap<u64, Ready> = std::collections::HashMap::new();
    // Preview dialing: the checked call waits for an agent's accept.
    let preview_queue = (config.pacing.mode == crate::config::PacingMode::Preview)
        .then(|| config.pacing.queue.clone())
        .flatten();
    let preview_timeout = (config.pacing.preview_timeout_s > 0.0)
        .then(|| Duration::from_secs_f64(config.pacing.preview_timeout_s));
    let mut preview = Preview::Idle;
    let mut preview_keys: u64 = 0;
    let keep_in_flight = policy.is_some() || trunks.len() > 1 || preview_queue.is_some();
    // The next call, checked and waiting for a trunk; calls to place again
    // on another trunk (the first answered 503 or nothing).
    let mut held: Option<Ready> = None;
    let mut failovers: std::collections::VecDeque<Ready> = std::collections::VecDeque::new();
    // Callbacks due, waiting for a ready agent of their queue (reserved
    // before the call is placed), and since when.
    let callback_wait = policy.map_or(Duration::ZERO, |p| {
        Duration::from_secs_f64(p.callback_agent_wait_s)
    });
    let mut awaiting_agent: std::collections::VecDeque<(Ready, tokio::time::Instant)> =
        std::collections::VecDeque::new();

    let mut pool = TrunkPool::new(
        &trunks
            .iter()
            .map(|t| TrunkCaps::from(*t))
            .collect::<Vec<_>>(),
    );
    // A call's channel permit travels back with its outcome, so the slot
    // frees only once the loop has counted the outcome (and maybe stopped).
    let mut running: JoinSet<CallDone> = JoinSet::new();
    // Agent modes: the pacer says how many calls may be placed, from the
    // queue's agents and the calls ringing.
    let mut pacer = LivePacer::new(&config.pacing, pool.slots.len());
    let agents = running_acd.as_ref().map(|a| a.context.agents.clone());
    if let Some(p) = pacer.as_mut() {
        // The cap holds over the legal window, earlier runs included.
        let (answered, abandoned) = store
            .abandons_since(
                campaign_id,
                p.queue(),
                p.window_start(),
                crate::config::PacingConfig::GRACE_S,
            )
            .await?;
        p.carry_over(answered, abandoned);
        // Earlier runs' calls: a run that starts again paces from its
        // first call instead of learning it all again.
        let read_at = Utc::now();
        let history = match store.pacing_history(campaign_id, p.queue(), read_at).await {
            Ok(history) => history,
            Err(e) => {
                // Only a head start: the run learns as it goes without it.
                warn!(error = %e, "earlier calls not read: the pacer learns from this run's");
                Default::default()
            }
        };
        let wrap_s = config.agents.queue(p.queue()).map_or(0.0, |q| q.wrap_up_s);
        let trunks: Vec<&str> = pool.slots.iter().map(|s| s.name.as_str()).collect();
        let (calls, agent_calls) = p.remember(&history, wrap_s, &trunks, read_at);
        info!(
            pacing = %p.name(), queue = %p.queue(), answered, abandoned,
            earlier_calls = calls, earlier_agent_calls = agent_calls,
            "pacing by agents"
        );
    }
    let mut answers = FuturesUnordered::new();
    // The pacer decides, or a preview is offered, on this tick (a campaign
    // has one or the other, never both).
    let mut decide = tokio::time::interval(DECIDE_EVERY);
    decide.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut render_failures_in_a_row = 0;
    let mut renderer_done = false;
    // Calls placed, failovers included: each call's token.
    let mut dialed_calls: u64 = 0;
    loop {
        // Nothing left to hand out and nothing that could still bring a
        // retry: the renderer's input closes, and it ends once drained.
        if to_render.is_some()
            && (summary.stopped.is_some()
                || (feed.fresh_left() == 0
                    && feed.retries_left() == 0
                    && running.is_empty()
                    && rendering == 0
                    && held.is_none()
                    && failovers.is_empty()
                    && awaiting_agent.is_empty()))
        {
            to_render = None;
        }
        let work_left =
            !renderer_done || held.is_some() || !failovers.is_empty() || !awaiting_agent.is_empty();
        let may_launch = summary.stopped.is_none() && work_left;
        if !may_launch && running.is_empty() {
            break;
        }
        let feed_now = tokio::time::Instant::now();
        let feed_ready = to_render.is_some() && feed.has_ready(feed_now);
        let next_due = feed
            .next_due()
            .filter(|_| to_render.is_some() && !feed_ready);
        tokio::select! {
            biased;
            _ = stop.cancelled(), if summary.stopped.is_none() => {
                summary.stopped = Some("stopped by the operator".into());
            }
            Some(done) = running.join_next() => {
                let (token, trunk, contact, result, permit) = done.expect("call tasks do not panic");
                if let Some(p) = pacer.as_mut() {
                    p.ended(token);
                }
                let again = in_flight.remove(&token);
                if let Ok(outcome) = &result {
                    *summary.counts.entry(outcome.disposition).or_default() += 1;
                    if let Some(result) = &outcome.outcome {
                        *summary.outcomes.entry(result.clone()).or_default() += 1;
                    }
                    if pool.ended(trunk, outcome.disposition) {
                        let t = trunks[trunk];
                        let why = format!(
                            "trunk '{}' at {} ({}) failed {TRUNK_FAILURES_TO_STOP} calls in a row without a SIP response; check its address and transport",
                            t.name, trunk_addrs[trunk], t.transport
                        );
                        if pool.all_out() {
                            summary.stopped.get_or_insert(why);
                        } else {
                            warn!(trunk = %t.name, "trunk taken out of the rotation");
                            eprintln!("{why}; its calls go to the other trunks");
                        }
                    }
                }
                // The network refused the call (503, no response): the same
                // call again at once through another trunk, if there is one.
                let failed_over = match (&result, again) {
                    (Ok(outcome), Some(mut ready))
                        if matches!(outcome.disposition, Disposition::Congestion | Disposition::TrunkFailure)
                            && summary.stopped.is_none()
                            && pool.has_other(&ready.tried) =>
                    {
                        ready.dial.attempt_no += 1;
                        ready.compliance = format!(
                            "{}; placed again through another trunk after trunk '{}' answered {}",
                            ready.first_verdict,
                            trunks[trunk].name,
                            outcome.disposition
                        );
                        failovers.push_back(ready);
                        bars.calls.inc_length(1);
                        None
                    }
                    (_, again) => {
                        // The preview's agent is free again if the debtor
                        // never reached them (harmless if they did).
                        if let (Some(key), Some(agents)) = (again.as_ref().and_then(|r| r.preview), agents.as_ref()) {
                            agents.preview_end(key);
                        }
                        again
                    }
                };
                // How the call ended says whether the contact is called again.
                if let (Some(policy), Some(ready), Ok(outcome)) = (policy, failed_over, result.as_ref())
                    && let Some((at, callback)) = retry_at(policy, &store, campaign_id, &contact, outcome).await
                {
                    let wait = (at - Utc::now()).to_std().unwrap_or_default();
                    if summary.stopped.is_none() && wait.as_secs_f64() <= policy.within_run_s {
                        let mut dial = ready.dial;
                        dial.attempt_no += 1;
                        dial.callback = callback;
                        feed.schedule(dial, tokio::time::Instant::now() + wait);
                        bars.calls.inc_length(1);
                    } else {
                        summary.later(at);
                    }
                }
                match result {
                    Ok(_) => {}
                    Err(CallError::NoPort(e)) => {
                        error!(contact = %contact.id, error = %e, "call not placed");
                        summary.not_dialed += 1;
                    }
                    Err(e @ CallError::Store(_)) => {
                        // Without a record there must be no more calls.
                        summary.stopped.get_or_insert_with(|| format!("cannot record attempts: {e}"));
                        error!(contact = %contact.id, error = %e, "attempt not recorded");
                    }
                }
                bars.calls.inc(1);
                bars.calls.set_message(counts_line(&summary.counts));
                drop(permit);
            }
            reserved = async {
                to_render.as_ref().expect("guarded").reserve().await
            }, if feed_ready => {
                let Ok(slot) = reserved else {
                    continue;
                };
                if let Some(dial) = feed.next(tokio::time::Instant::now()) {
                    rendering += 1;
                    slot.send(dial);
                }
            }
            _ = tokio::time::sleep_until(next_due.unwrap_or(feed_now)), if next_due.is_some() => {}
            Some((token, answered)) = answers.next(), if !answers.is_empty() => {
                if let Some(p) = pacer.as_mut() {
                    p.rang(token, answered);
                }
            }
            // Callbacks due get their agents; the pacer decides; or, in
            // preview dialing, the checked call is shown to a ready agent.
            _ = decide.tick(), if (pacer.is_some() && may_launch)
                || (summary.stopped.is_none() && !awaiting_agent.is_empty())
                || (summary.stopped.is_none()
                    && preview_queue.is_some()
                    && held.as_ref().is_some_and(|r| r.preview.is_none())
                    && matches!(preview, Preview::Idle)) => {
                if let Some(agents) = agents.as_ref()
                    && summary.stopped.is_none()
                {
                    reserve_callbacks(agents, &mut awaiting_agent, &mut failovers, &mut preview_keys, callback_wait).await;
                }
                if let Some(p) = pacer.as_mut() {
                    if let Some(agents) = agents.as_ref()
                        && let Err(e) = p.decide(agents, pool.free_channels(), &pool.mix()).await
                    {
                        warn!(error = %e, "the pacer could not ask the ACD");
                    }
                    continue;
                }
                let (Some(queue), Some(agents), Some(ready)) = (preview_queue.as_deref(), agents.as_ref(), held.as_ref().filter(|r| r.preview.is_none())) else {
                    continue;
                };
                if !matches!(preview, Preview::Idle) {
                    continue;
                }
                preview_keys += 1;
                match agents.preview(queue, preview_keys, preview_card(&ready.dial.contact)).await {
                    Ok(Some(shown)) => {
                        preview = Preview::Shown {
                            key: preview_keys,
                            login: shown.login,
                            decision: shown.decision,
                            deadline: preview_timeout.map(|t| tokio::time::Instant::now() + t),
                        };
                    }
                    Ok(None) => {}
                    Err(e) => warn!(error = %e, "the ACD cannot take a preview"),
                }
            }
            // The next contact from the renderer (or a call to place again
            // on another trunk), checked: rendered, not opted out, allowed
            // by the calling rules. It then waits for a trunk.
            next = async {
                match failovers.pop_front() {
                    Some(again) => Some(Err(again)),
                    None => rendered.recv().await.map(Ok),
                }
            }, if summary.stopped.is_none() && held.is_none() && (!renderer_done || !failovers.is_empty()) => {
                let (dial, opening) = match next {
                    None => {
                        renderer_done = true;
                        continue;
                    }
                    Some(Err(again)) => {
                        held = Some(again);
                        continue;
                    }
                    Some(Ok(rendered)) => rendered,
                };
                rendering -= 1;
                let contact = &dial.contact;
                let opening = match opening {
                    Ok(opening) => {
                        render_failures_in_a_row = 0;
                        opening
                    }
                    Err(e) => {
                        warn!(contact = %contact.id, error = %e, "message not rendered; contact not called");
                        eprintln!("not called {} ({}): the message could not be rendered: {e}", contact.id, contact.phone);
                        summary.render_failures += 1;
                        render_failures_in_a_row += 1;
                        if render_failures_in_a_row >= RENDER_FAILURES_TO_STOP {
                            summary.stopped.get_or_insert_with(|| format!(
                                "{RENDER_FAILURES_TO_STOP} messages in a row could not be rendered; the last error: {e}"
                            ));
                        }
                        bars.calls.inc(1);
                        continue;
                    }
                };
                // An opt-out on another call may have come in since the list
                // loaded (a debtor with two debts, one phone).
                if store.opted_out_since_open(&contact.phone) {
                    summary.do_not_call += 1;
                    bars.calls.inc(1);
                    continue;
                }
                let verdict = match gate.judge(&store, &dial.place, contact, Utc::now()).await {
                    Ok(verdict) => verdict,
                    Err(e) => {
                        // Without the debtor's earlier calls the caps cannot be kept.
                        summary.stopped.get_or_insert_with(|| format!("cannot read a debtor's earlier calls: {e}"));
                        summary.not_dialed += 1;
                        bars.calls.inc(1);
                        continue;
                    }
                };
                match verdict {
                    Verdict::Allowed(because) => {
                        let ready = Ready {
                            dial,
                            opening,
                            first_verdict: because.clone(),
                            compliance: because,
                            tried: Vec::new(),
                            preview: None,
                            agent: None,
                        };
                        if ready.dial.callback.is_some() && agents.is_some() && !callback_wait.is_zero() {
                            awaiting_agent.push_back((ready, tokio::time::Instant::now()));
                        } else {
                            held = Some(ready);
                        }
                    }
                    Verdict::Refused { reason, retry_at } => {
                        summary.defer(contact, &reason, retry_at);
                        if let Err(e) = store.defer(campaign_id, &[deferral(contact, reason, retry_at)]).await {
                            summary.stopped.get_or_insert_with(|| format!("cannot record deferrals: {e}"));
                        }
                        bars.calls.inc(1);
                    }
                }
            }
            decided = async {
                let Preview::Shown { decision, deadline, .. } = &mut preview else {
                    unreachable!("guarded");
                };
                match deadline {
                    Some(at) => tokio::time::timeout_at(*at, decision)
                        .await
                        .unwrap_or(Ok(crate::agents::PreviewDecision::Accept)),
                    None => decision.await,
                }
            }, if matches!(preview, Preview::Shown { .. }) => {
                let Preview::Shown { key, login, .. } = std::mem::replace(&mut preview, Preview::Idle) else {
                    unreachable!("guarded");
                };
                match decided {
                    Ok(crate::agents::PreviewDecision::Accept) => preview = Preview::Accepted { key },
                    Ok(crate::agents::PreviewDecision::Skip) => {
                        if let Some(agents) = agents.as_ref() {
                            agents.preview_end(key);
                        }
                        if let Some(ready) = held.take() {
                            let contact = &ready.dial.contact;
                            let reason = format!("skipped in preview by agent {login}");
                            summary.defer(contact, &reason, None);
                            if let Err(e) = store.defer(campaign_id, &[deferral(contact, reason, None)]).await {
                                summary.stopped.get_or_insert_with(|| format!("cannot record deferrals: {e}"));
                            }
                            bars.calls.inc(1);
                        }
                    }
                    // The reservation went away (the agent logged out): show it again.
                    Err(_) => {
                        if let Some(agents) = agents.as_ref() {
                            agents.preview_end(key);
                        }
                    }
                }
            }
            // The checked call goes out through the next trunk with room.
            taken_trunk = async {
                let tried = held.as_ref().map_or(&[][..], |r| r.tried.as_slice());
                loop {
                    if let Some(trunk) = pool.take(tried) {
                        return trunk;
                    }
                    tokio::time::sleep(RETRY_AFTER).await;
                }
            }, if summary.stopped.is_none()
                && held.is_some()
                // A callback's reserved agent waits for it: the pacer
                // need not allow it.
                && (pacer.as_ref().is_none_or(LivePacer::may_place)
                    || held.as_ref().is_some_and(|r| r.agent.is_some()))
                && (preview_queue.is_none()
                    || matches!(preview, Preview::Accepted { .. })
                    || held.as_ref().is_some_and(|r| r.preview.is_some())) => {
                let (trunk, permit) = taken_trunk;
                let mut ready = held.take().expect("guarded");
                if let Preview::Accepted { key } = preview {
                    ready.preview = Some(key);
                    preview = Preview::Idle;
                }
                if !ready.tried.is_empty() {
                    summary.failovers += 1;
                } else if ready.dial.attempt_no > 1 {
                    summary.retries_placed += 1;
                }
                ready.tried.push(trunk);
                summary.dialed += 1;
                let token = dialed_calls;
                dialed_calls += 1;
                let attempt_no = ready.dial.attempt_no;
                let contact = ready.dial.contact.clone();
                let compliance = ready.compliance.clone();
                let plan = match (&ready.agent, &ready.dial.callback, script.flow(), ready.opening.clone()) {
                    (Some(agent), Some(queue), _, _) => CallPlan::Callback {
                        queue: queue.clone(),
                        agent: agent.clone(),
                        vars: ready.dial.vars.clone(),
                    },
                    (_, _, Some(_), opening) => CallPlan::Flow { opening, vars: ready.dial.vars.clone() },
                    (_, _, None, Some(prompt)) => CallPlan::Message(prompt),
                    (_, _, None, None) => unreachable!("a message always has its opening"),
                };
                if keep_in_flight {
                    in_flight.insert(token, ready);
                }
                let on_answer = pacer.as_mut().map(|p| {
                    p.placed(token, trunk);
                    let (answered, told) = tokio::sync::oneshot::channel();
                    answers.push(told.map(move |r| (token, r == Ok(true))));
                    answered
                });
                let preview_key = in_flight.get(&token).and_then(|r| r.preview);
                let ctx = ctxs[trunk].clone();
                running.spawn(async move {
                    let result = place_call(&ctx, &contact, plan, attempt_no, &compliance, on_answer, preview_key).await;
                    (token, trunk, contact, result, permit)
                });
            }
        }
    }
    // Whatever the renderer had not handed over was not dialed, nor what
    // the feed still held; retries it held are for a later run.
    drop(to_render);
    rendered.close();
    while rendered.recv().await.is_some() {
        summary.not_dialed += 1;
    }
    summary.not_dialed += feed.fresh_left();
    match &held {
        Some(r) if r.dial.attempt_no == 1 => summary.not_dialed += 1,
        Some(_) => summary.retries_later += 1,
        None => {}
    }
    summary.retries_later += feed.retries_left() + awaiting_agent.len();
    // Agents reserved for calls that were not placed are free again.
    let unplaced = held
        .iter()
        .chain(&failovers)
        .chain(awaiting_agent.iter().map(|(r, _)| r));
    if let Some(agents) = agents.as_ref() {
        for key in unplaced.filter_map(|r| r.preview) {
            agents.preview_end(key);
        }
    }
    if let (Preview::Shown { key, .. } | Preview::Accepted { key }, Some(agents)) =
        (&preview, agents.as_ref())
    {
        agents.preview_end(*key);
    }
    // The last calls' connections and abandons, before the ACD stops.
    if let (Some(p), Some(agents)) = (pacer.as_mut(), agents.as_ref()) {
        let _ = p.decide(agents, 0, &[]).await;
    }
    summary.pacing = pacer.as_ref().map(LivePacer::render);
    summary.trunks = pool.render();
    bars.finish();
    if let Some(running) = running_acd {
        let longest_wrap_up = config
            .agents
            .queues
            .iter()
            .map(|q| q.wrap_up_s)
            .fold(0.0, f64::max);
        running
            .shutdown(Duration::from_secs_f64(longest_wrap_up + 1.0))
            .await;
    }
    sip.shutdown();
    store.close().await;
    summary.elapsed = begun.elapsed();
    if let Some(reason) = summary
        .stopped
        .as_ref()
        .filter(|r| r.starts_with("cannot record"))
    {
        bail!("{reason}");
    }
    Ok(summary)
}

/// When the contact of a call that just ended is due again, by the
/// policy and the campaign's attempts on it (the store has the one that
/// just ended), and the queue that promised it a callback, if one did.
async fn retry_at(
    policy: &RetryPolicy,
    store: &Store,
    campaign_id: i64,
    contact: &Contact,
    outcome: &CallOutcome,
) -> Option<(chrono::DateTime<Utc>, Option<String>)> {
    // An answered call ends the contact's calls unless it was abandoned or
    // a callback was promised: no need to read the store.
    if outcome.disposition == Disposition::Answered
        && outcome.outcome.as_deref() != Some(crate::call::transfer::outcome::PACER_ABANDONED)
        && outcome.outcome.as_deref() != Some(crate::call::transfer::outcome::CALLBACK)
    {
        return None;
    }
    let history = match store.contact_history(campaign_id, &contact.id).await {
        Ok(history) => history,
        Err(e) => {
            warn!(contact = %contact.id, error = %e, "cannot read the contact's attempts; no retry in this run");
            return None;
        }
    };
    match policy.next(&history) {
        Next::Due(at) => Some((at, None)),
        Next::Callback { at, queue } => Some((at, Some(queue))),
        Next::Done(_) => None,
    }
}

/// Callbacks due get a ready agent of their queue reserved, in the order
/// they came due, and go to `to_place`; one that waited `wait` with
/// nobody ready goes through the flow like any call.
async fn reserve_callbacks(
    agents: &crate::agents::Agents,
    awaiting: &mut std::collections::VecDeque<(Ready, tokio::time::Instant)>,
    to_place: &mut std::collections::VecDeque<Ready>,
    keys: &mut u64,
    wait: Duration,
) {
    for _ in 0..awaiting.len() {
        let Some((mut ready, since)) = awaiting.pop_front() else {
            break;
        };
        let queue = ready.dial.callback.clone().expect("only callbacks wait");
        *keys += 1;
        let reserved = agents
            .reserve(&queue, *keys, preview_card(&ready.dial.contact))
            .await;
        match reserved {
            Ok(Some(login)) => {
                ready.preview = Some(*keys);
                ready.agent = Some(login);
                to_place.push_back(ready);
            }
            _ if since.elapsed() >= wait => {
                let contact = &ready.dial.contact;
                warn!(contact = %contact.id, %queue, "no agent for a callback; dialed through the flow");
                eprintln!(
                    "callback {} ({}): no agent of queue {queue} was ready within {} s; dialed through the flow",
                    contact.id,
                    contact.phone,
                    wait.as_secs()
                );
                ready.dial.callback = None;
                to_place.push_back(ready);
            }
            _ => awaiting.push_back((ready, since)),
        }
    }
}

/// A campaign's name as one safe directory name: letters (accents
/// included), digits, `-` and `_` kept, everything else `_`.
fn file_name(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
