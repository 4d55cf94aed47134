//! One call actor per attempt: from the attempt row to the last BYE.
//!
//! The actor owns the call's SIP leg, its RTP session and its timers. It
//! writes the attempt row before the INVITE leaves, notes ringing, answer
//! and each key press as they happen, and finishes the row with a
//! disposition whatever happens: a failure response, a silent trunk, an
//! unusable answer, an operator's stop.

mod amd;
mod bridge;
mod flow;
mod message;
mod reoffer;
mod talk;
pub mod transfer;
mod voicemail;

pub use amd::Detection;
use talk::Talk;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use media::rtp::{MediaSession, PortPool, RtpSession, SessionConfig};
use media::sdp::{DEFAULT_DTMF_PAYLOAD_TYPE, LocalAudio};
use media::{Codec, prompt::Prompt};
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::campaign::message::PreparedScript;
use crate::campaign::{Contact, Disposition, HangupBy};
use crate::ivr::interp::Vars;
use crate::sip::{InviteRequest, LegEvent, SipEndpoint, TrunkTarget};
use crate::store::{FinishedAttempt, NewAttempt, Store, StoreError};

/// Everything the calls of one campaign run share.
pub struct CallContext {
    pub sip: Arc<SipEndpoint>,
    pub store: Store,
    pub ports: Arc<PortPool>,
    pub campaign_id: i64,
    pub trunk_name: String,
    pub trunk: TrunkTarget,
    pub codecs: Vec<Codec>,
    pub dial_prefix: String,
    pub strip_plus: bool,
    pub timing: CallTiming,
    /// What answered calls say; flows render their later prompts with it.
    pub script: Arc<PreparedScript>,
    /// The dialer's date, for promises and spoken dates.
    pub today: media::say::Date,
    /// For flow webhooks.
    pub http: reqwest::Client,
    /// Cancelled when the operator stops the run.
    pub stop: CancellationToken,
    /// Agents and queues, when the campaign has them.
    pub acd: Option<Arc<AcdContext>>,
    /// How the trunk sends key presses (others are ignored).
    pub dtmf: Vec<media::dtmf::DtmfSource>,
    /// The trunk's `symmetric_rtp`.
    pub latch: media::rtp::Latch,
    /// Record answered calls: the writer and the campaign's directory.
    pub recordings: Option<(media::record::Recorder, std::path::PathBuf)>,
    /// The pacer places more calls than there are free agents (power,
    /// predictive): a debtor who gets no agent is an abandoned call.
    pub overdials: bool,
    /// Answering-machine detection (`[amd]`).
    pub amd: Option<Arc<Detection>>,
}

/// What transfers to agents need.
pub struct AcdContext {
    pub agents: crate::agents::Agents,
    pub queues: Vec<(crate::config::QueueConfig, transfer::QueuePrompts)>,
    /// Where voicemails are written.
    pub voicemail_dir: std::path::PathBuf,
    /// The HTTP API's base URL, for `Call-Info` toward agents' softphones.
    pub api_base: Option<String>,
}

impl AcdContext {
    pub fn queue(&self, name: &str) -> Option<&crate::config::QueueConfig> {
        self.queues
            .iter()
            .find(|(q, _)| q.name == name)
            .map(|(q, _)| q)
    }

    pub fn prompts(&self, name: &str) -> Option<transfer::QueuePrompts> {
        self.queues
            .iter()
            .find(|(q, _)| q.name == name)
            .map(|(_, p)| p.clone())
    }
}

/// What one answered call does.
#[derive(Debug, Clone)]
pub enum CallPlan {
    /// Play the message, wait for keys, hang up.
    Message(Arc<Prompt>),
    /// Run the campaign's flow with the contact's values; its first prompt
    /// is already rendered.
    Flow {
        opening: Option<Arc<Prompt>>,
        vars: Vars,
    },
    /// A callback the queue promised, with an agent of it reserved: the
    /// debtor who answers goes straight to them, past the flow.
    Callback {
        queue: String,
        /// Who was reserved (for the attempt's note).
        agent: String,
        vars: Vars,
    },
}

/// The clocks of a call.
#[derive(Debug, Clone, Copy)]
pub struct CallTiming {
    /// No response at all (not even 100 Trying) after this: the trunk is down.
    pub response_timeout: Duration,
    /// Ringing longer than this: CANCEL, recorded as no answer.
    pub ring_timeout: Duration,
    /// After the prompt, wait this long for (more) key presses.
    pub wait_for_digits: Duration,
    pub max_call: Duration,
    /// An answered call with no RTP from the far end this long is hung up
    /// as `media_timeout` (`None`: never).
    pub rtp_timeout: Option<Duration>,
}

/// How an attempt ended, as the run's summary counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    pub disposition: Disposition,
    pub sip_code: Option<u16>,
    pub digits: String,
    /// The flow's outcome (tipificación), for calls that ran one.
    pub outcome: Option<String>,
}

/// Why a call could not even be attempted.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Nothing was sent and nothing written: the contact stays undialed.
    #[error("no RTP port for the call: {0}")]
    NoPort(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The finished record being built as the call goes.
struct Record {
    attempt: i64,
    call_id: String,
    sip_code: Option<u16>,
    sip_reason: Option<String>,
    disposition: Disposition,
    digits: String,
    hangup_by: Option<HangupBy>,
    notes: Vec<String>,
    outcome: Option<String>,
    flow_path: Vec<String>,
    inputs: Vec<(String, String)>,
    /// The call recording, once written.
    recording: Option<String>,
    /// Loss and jitter both ways, once the media has ended.
    quality: Option<crate::store::MediaQuality>,
    /// Told the moment the debtor answers (the campaign's pacer): true for
    /// a person, false for an answering machine (told with the verdict).
    on_answer: Option<tokio::sync::oneshot::Sender<bool>>,
    /// Who the answering-machine detector said answered, and why.
    amd: Option<crate::store::AmdResult>,
    amd_note: Option<String>,
    /// Preview dialing: the reservation of the agent who accepted the
    /// debtor, for the transfer.
    preview: Option<u64>,
}

impl CallContext {
    /// The number as this trunk wants it in the Request-URI.
    fn dialed(&self, e164: &str) -> String {
        let number = if self.strip_plus {
            e164.trim_start_matches('+')
        } else {
            e164
        };
        format!("{}{number}", self.dial_prefix)
    }
}

/// Calls one contact once, follows `plan` when answered, and records the attempt.
pub async fn place_call(
    ctx: &CallContext,
    contact: &Contact,
    plan: CallPlan,
    attempt_no: u32,
    compliance: &str,
    on_answer: Option<tokio::sync::oneshot::Sender<bool>>,
    preview: Option<u64>,
) -> Result<CallOutcome, CallError> {
    let socket = ctx.ports.bind().map_err(CallError::NoPort)?;
    let rtp_port = socket.port();
    let call_id = format!("{:032x}@dialer", rand::random::<u128>());
    let started = Instant::now();
    let attempt = ctx
        .store
        .begin_attempt(&NewAttempt {
            campaign_id: ctx.campaign_id,
            contact_id: &contact.id,
            attempt_no,
            phone: &contact.phone,
            trunk: &ctx.trunk_name,
            call_id: &call_id,
            started_at: Utc::now(),
            compliance,
        })
        .await?;
    let local = LocalAudio {
        ip: ctx.ports.ip(),
        port: rtp_port,
        codecs: ctx.codecs.clone(),
        dtmf_payload_type: DEFAULT_DTMF_PAYLOAD_TYPE,
        session_id: rand::random::<u32>().into(),
    };
    let mut record = Record {
        attempt,
        call_id: call_id.clone(),
        sip_code: None,
        sip_reason: None,
        disposition: Disposition::Error,
        digits: String::new(),
        hangup_by: None,
        notes: Vec::new(),
        outcome: None,
        flow_path: Vec::new(),
        inputs: Vec::new(),
        recording: None,
        quality: None,
        on_answer,
        amd: None,
        amd_note: None,
        preview,
    };
    let request = InviteRequest {
        call_id,
        dialed: ctx.dialed(&contact.phone),
        sdp_offer: local.offer(),
    };
    match ctx.sip.invite(&ctx.trunk, request) {
        Ok(leg) => {
            run_leg(
                ctx,
                contact,
                leg,
                &local,
                socket,
                plan,
                started,
                &mut record,
            )
            .await
        }
        Err(reason) => {
            record.disposition = Disposition::TrunkFailure;
            record.notes.push(format!("INVITE not sent: {reason}"));
        }
    }
    record.notes.extend(record.amd_note.take());
    let outcome = CallOutcome {
        disposition: record.disposition,
        sip_code: record.sip_code,
        digits: record.digits.clone(),
        outcome: record.outcome.clone(),
    };
    ctx.store
        .finish_attempt(
            record.attempt,
            &FinishedAttempt {
                ended_at: Utc::now(),
                sip_code: record.sip_code,
                sip_reason: record.sip_reason,
                disposition: record.disposition,
                digits: record.digits,
                hangup_by: record.hangup_by,
                note: (!record.notes.is_empty()).then(|| record.notes.join("; ")),
                outcome: record.outcome,
                flow_path: record.flow_path,
                inputs: record.inputs,
                recording: record.recording,
                quality: record.quality,
                amd: record.amd,
            },
        )
        .await?;
    Ok(outcome)
}

/// A store write in the middle of a call that fails is logged; the final
/// write (which repeats the digits) is the one that must succeed.
fn log_store(result: Result<(), StoreError>) {
    if let Err(e) = result {
        warn!(error = %e, "could not record call progress");
    }
}

#[allow(clippy::too_many_arguments)] // one call's whole setup, passed once
async fn run_leg(
    ctx: &CallContext,
    contact: &Contact,
    mut leg: crate::sip::CallLeg,
    local: &LocalAudio,
    socket: media::rtp::PortPair,
    plan: CallPlan,
    started: Instant,
    record: &mut Record,
) {
    let trunk = format!(
        "trunk {} ({} {})",
        ctx.trunk_name, ctx.trunk.transport, ctx.trunk.addr
    );
    // With `[amd]` the call listens first (a callback's debtor, who asked
    // for the call, is taken for a person); the pacer hears of the answer
    // with the verdict.
    let detection = ctx
        .amd
        .clone()
        .filter(|_| !matches!(plan, CallPlan::Callback { .. }));
    let response_deadline = started + ctx.timing.response_timeout;
    let ring_deadline = started + ctx.timing.ring_timeout;
    let mut responded = false;
    let mut rang = false;
    // A 183 with SDP came: its audio waits in the socket until the answer.
    let mut early_media_offered = false;
    let mut cancelled_for = None::<Disposition>;
    // After CANCEL the 487 normally follows at once; give up waiting after
    // a transaction's lifetime.
    let mut cancel_guard = None::<Instant>;
    let answer_sdp = loop {
        tokio::select! {
            event = leg.next_event() => match event {
                LegEvent::Trying => responded = true,
                LegEvent::Ringing { code, early_media } => {
                    responded = true;
                    early_media_offered |= early_media;
                    if !rang {
                        rang = true;
                        log_store(ctx.store.mark_ringing(record.attempt, Utc::now()).await);
                        if early_media {
                            debug!(code, "early media offered; set aside until the answer");
                        }
                    }
                }
                LegEvent::Answered { sdp } => {
                    if detection.is_none()
                        && let Some(answered) = record.on_answer.take()
                    {
                        let _ = answered.send(true);
                    }
                    break sdp;
                }
                LegEvent::Failed { code, reason } => {
                    record.sip_code = Some(code);
                    record.sip_reason = Some(reason.clone());
                    record.disposition = match cancelled_for {
                        Some(why) if code == 487 => why,
                        _ => Disposition::from_failure_code(code),
                    };
                    match record.disposition {
                        Disposition::NoAnswer if cancelled_for.is_some() => record.notes.push(format!(
                            "rang {:.0} s without answer; CANCEL sent",
                            ctx.timing.ring_timeout.as_secs_f64()
                        )),
                        Disposition::Congestion => record.notes.push(format!("{trunk}: {code} {reason}")),
                        _ => {}
                    }
                    return;
                }
                LegEvent::NoResponse => {
                    record.disposition = cancelled_for.unwrap_or(Disposition::TrunkFailure);
                    record.notes.push(format!("{trunk}: no final response to the INVITE"));
                    return;
                }
                LegEvent::TransportError(e) => {
                    record.disposition = Disposition::TrunkFailure;
                    record.notes.push(format!("{trunk}: {e}"));
                    return;
                }
                LegEvent::AnsweredAfterCancel => {
                    record.sip_code = Some(200);
                    record.disposition = cancelled_for.unwrap_or(Disposition::NoAnswer);
                    record.notes.push("answered just after our CANCEL; hung up at once".into());
                    return;
                }
                // Not before the answer.
                LegEvent::RemoteHangup | LegEvent::Dtmf(_) | LegEvent::Reoffer { .. } => {}
            },
            _ = sleep_until(response_deadline), if !responded => {
                leg.abandon();
                record.disposition = Disposition::TrunkFailure;
                record.notes.push(format!(
                    "{trunk}: no response within {:.1} s",
                    ctx.timing.response_timeout.as_secs_f64()
                ));
                return;
            }
            _ = sleep_until(ring_deadline), if responded && cancelled_for.is_none() => {
                cancelled_for = Some(Disposition::NoAnswer);
                cancel_guard = Some(Instant::now() + Duration::from_secs(32));
                if let Err(e) = leg.cancel().await {
                    record.notes.push(format!("CANCEL failed: {e}"));
                }
            }
            _ = ctx.stop.cancelled(), if cancelled_for != Some(Disposition::Interrupted) => {
                record.notes.push("stopped by the operator while ringing".into());
                if !responded {
                    leg.abandon();
                    record.disposition = Disposition::Interrupted;
                    return;
                }
                let already_sent = cancelled_for.is_some();
                cancelled_for = Some(Disposition::Interrupted);
                cancel_guard = Some(Instant::now() + Duration::from_secs(32));
                if !already_sent && let Err(e) = leg.cancel().await {
                    record.notes.push(format!("CANCEL failed: {e}"));
                }
            }
            _ = sleep_until(cancel_guard.unwrap_or(started)), if cancel_guard.is_some() => {
                leg.abandon();
                record.disposition = cancelled_for.unwrap_or(Disposition::NoAnswer);
                record.notes.push("no 487 after CANCEL".into());
                return;
            }
        }
    };

    // Answered: the message starts before anything else is done, so the
    // first packet leaves within a packet time of the 200 OK.
    let answered_at = Instant::now();
    let answered_utc = Utc::now();
    record.sip_code = Some(200);
    record.sip_reason = Some("OK".into());
    let agreed = match local.accept_answer(&answer_sdp) {
        Ok(agreed) => agreed,
        Err(e) => {
            log_store(
                ctx.store
                    .mark_answered(record.attempt, answered_utc, "")
                    .await,
            );
            record.disposition = Disposition::Error;
            record.hangup_by = Some(HangupBy::Dialer);
            record
                .notes
                .push(format!("unusable SDP answer: {e}; hung up"));
            if let Err(e) = leg.hangup().await {
                record.notes.push(format!("BYE failed: {e}"));
            }
            return;
        }
    };
    let mut session = RtpSession::new(SessionConfig {
        codec: agreed.codec,
        dtmf_payload_type: agreed.dtmf_payload_type,
        offered_dtmf_payload_type: Some(local.dtmf_payload_type),
        remote_ip: agreed.remote.ip(),
        record_limit: None,
        ssrc: rand::random(),
        inband_dtmf: ctx.dtmf.contains(&media::dtmf::DtmfSource::InBand),
        ptime_ms: agreed.ptime_ms,
    });
    // The opening is queued on the session before its task starts, so the
    // very first packet carries it.
    let opening = match &plan {
        CallPlan::Message(prompt) => Some(prompt.clone()),
        CallPlan::Flow { opening, .. } => opening.clone(),
        CallPlan::Callback { .. } => None,
    };
    session.set_latch(ctx.latch);
    if session.packet_ms() != agreed.ptime_ms {
        record.notes.push(format!(
            "the trunk asked for {} ms packets; we sent {} ms (packets of 20-120 ms in steps of 20 are sent as asked)",
            agreed.ptime_ms,
            session.packet_ms()
        ));
    }
    if let Some(prompt) = opening.as_ref().filter(|_| detection.is_none()) {
        session.play(prompt.encoded(agreed.codec), OPENING_PLAYBACK);
    }
    if ctx.recordings.is_some() {
        // From the very first packet, the opening included.
        session.start_tape();
    }
    // Early media (a 183's ringback or announcement) waits in the socket
    // unread: it is not the debtor, and a key tone in it is not a key.
    let early = drain(&socket.rtp);
    let mut media = MediaSession::start_pair(socket, agreed.remote, session);
    let tap = detection.as_ref().map(|_| amd::Tap::take(&media));
    // (A packet or two of the answered call itself may go too: 20 ms
    // of a start that only the message plays over.)
    if early_media_offered && early > 0 {
        record.notes.push(format!(
            "{early} RTP packets of early media before the answer, set aside"
        ));
    }
    let recording = ctx.recordings.as_ref().map(|(recorder, dir)| {
        let (tap, written) = recorder.open(dir.join(format!("{}.wav", record.attempt)));
        media.record(tap);
        written
    });
    if let Some(limit) = ctx.timing.rtp_timeout {
        media.watch_silence(limit);
    }
    record.disposition = Disposition::Answered;
    log_store(
        ctx.store
            .mark_answered(record.attempt, answered_utc, agreed.codec.name())
            .await,
    );
    let offers = reoffer::Offers::new(local, &agreed, &media, Instant::now());
    let mut talk = Talk {
        ctx,
        leg: &mut leg,
        media: &mut media,
        record,
        codec: agreed.codec,
        remote: agreed.remote,
        foreign: None,
        max_deadline: answered_at + ctx.timing.max_call,
        keys: media::dtmf::KeyMerger::new(),
        lost: None,
        offers,
    };
    let heard = match (&detection, tap) {
        (Some(detection), Some(tap)) => amd::listen(&mut talk, detection, contact, tap).await,
        _ => amd::Heard::Person,
    };
    if let (amd::Heard::Person, Some(_), Some(prompt)) = (&heard, &detection, &opening) {
        talk.media.send(media::rtp::MediaCommand::Play(
            prompt.encoded(agreed.codec),
            OPENING_PLAYBACK,
        ));
    }
    let hangup_by = match heard {
        amd::Heard::Ended(by) => by,
        amd::Heard::Person => run_plan(&mut talk, contact, plan).await,
    };
    let foreign = talk.foreign;
    let offer_notes = talk.offers.notes(Instant::now());
    let lost = talk.lost;
    record.notes.extend(offer_notes);
    if let Some(silent) = lost {
        // A machine known for one stays one (its retry rule, the pacer's
        // history); the note says the line went dead.
        if record.disposition != Disposition::Machine {
            record.disposition = Disposition::MediaTimeout;
        }
        record.notes.push(format!(
            "no RTP from {} for {:.0} s; hung up",
            agreed.remote,
            silent.as_secs_f64()
        ));
    }
    record.hangup_by = Some(hangup_by);
    if hangup_by == HangupBy::Dialer
        && let Err(e) = leg.hangup().await
    {
        record.notes.push(format!("BYE failed: {e}"));
    }
    let report = media.finish().await;
    record.quality = report.quality.map(|q| crate::store::MediaQuality {
        received: q.received,
        lost: q.lost,
        jitter_ms: q.jitter_ms,
        far_lost: q.far.map(|f| f.lost),
        far_jitter_ms: q.far.map(|f| f.jitter_ms),
        rtt_ms: q.rtt_ms,
    });
    if let Some(written) = recording {
        match written.await {
            Ok(w) if w.error.is_none() => {
                record.recording = Some(w.path.display().to_string());
                if report.recording_gaps > 0 {
                    record.notes.push(format!(
                        "recording has {} gaps of 20 ms (the disk was behind)",
                        report.recording_gaps
                    ));
                }
            }
            Ok(w) => record.notes.push(format!(
                "recording {} not written: {}",
                w.path.display(),
                w.error.unwrap_or_default()
            )),
            Err(_) => record
                .notes
                .push("recording not written: the recorder was too far behind".into()),
        }
    }
    if let Some(addr) = report.latched {
        record.notes.push(format!(
            "RTP came from {addr}, not {} as the SDP said: sent there (symmetric RTP)",
            agreed.remote
        ));
    }
    if let Some(addr) = foreign {
        record.notes.push(format!(
            "ignored {} RTP packets from unexpected source {addr} (expected {})",
            report.stats.foreign, agreed.remote
        ));
    }
    if let Some(e) = report.first_send_error {
        record
            .notes
            .push(format!("{} RTP sends failed: {e}", report.send_errors));
    }
}

/// The answered call's plan, once a person is on the line.
async fn run_plan(talk: &mut Talk<'_>, contact: &Contact, plan: CallPlan) -> HangupBy {
    match plan {
        CallPlan::Message(_) => message::talk(talk).await,
        CallPlan::Flow { opening, vars } => {
            flow::talk(talk, contact, opening.is_some(), vars).await
        }
        CallPlan::Callback { queue, agent, vars } => {
            talk.record.notes.push(format!(
                "callback promised by queue {queue}: agent {agent} reserved before the call"
            ));
            talk.record.flow_path = vec!["callback".into()];
            let request = transfer::TransferRequest {
                contact,
                queue,
                skills: Vec::new(),
                vars,
                path: talk.record.flow_path.clone(),
                inputs: Vec::new(),
                announcement: None,
            };
            transfer::transfer(talk, request).await
        }
    }
}

/// Reads and drops what waits on a non-blocking socket; how many datagrams.
fn drain(socket: &std::net::UdpSocket) -> usize {
    let mut buf = [0u8; 2048];
    // Bounded: a socket buffer holds a few thousand at most.
    (0..100_000)
        .take_while(|_| socket.recv_from(&mut buf).is_ok())
        .count()
}

/// Resolves when the dialer must end an answered call: it reached
/// `max_call_s`, or the operator stopped the run. Gives the note to record.
async fn must_end(ctx: &CallContext, deadline: Instant) -> String {
    tokio::select! {
        _ = sleep_until(deadline) => format!("reached max_call_s ({:.0} s)", ctx.timing.max_call.as_secs_f64()),
        _ = ctx.stop.cancelled() => "stopped by the operator during the call".into(),
    }
}

/// The playback id of the prompt queued before the media task starts.
const OPENING_PLAYBACK: u64 = 0;
