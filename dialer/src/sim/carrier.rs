//! The simulated carrier: a SIP UAS and RTP endpoint that plays debtors.
//!
//! Each INVITE is served by its own task following the plan for the dialed
//! number. Answered calls send RTP (silence, and the planned key presses as
//! RFC 4733 events) and record what the caller sent; every call ends as a
//! [`CallLog`] line in `calls.jsonl` of the record folder, with the audio in
//! a WAV file next to it, so tests can check what the dialer really did.

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use media::Codec;
use media::rtp::{MediaSession, PortPool, RtpSession, SessionConfig};
use media::sdp::{DEFAULT_DTMF_PAYLOAD_TYPE, LocalAudio};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until};
use tracing::{debug, info, warn};

use super::plan::{Action, Behaviour, CarrierPlan, ChallengeKind};
use crate::sip::uas::{AuthCheck, Challenge, InboundCall, IncomingInvite, UasEvent};
use crate::sip::{InboundPolicy, SipEndpoint};

/// Where the carrier listens and keeps its recordings.
#[derive(Debug, Clone)]
pub struct CarrierOptions {
    pub listen: SocketAddr,
    pub rtp_ip: IpAddr,
    pub rtp_port_min: u16,
    pub rtp_port_max: u16,
    /// `calls.jsonl` and one WAV per answered call go here.
    pub record_dir: Option<PathBuf>,
}

/// What happened on one call, as the carrier saw it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CallLog {
    pub call_id: String,
    pub dialed: String,
    pub from: String,
    pub p_asserted_identity: Option<String>,
    /// `answered`, `busy`, `rejected`, `cancelled`, `unanswered`, `auth_failed`, `error`.
    pub outcome: String,
    pub code: u16,
    /// Whether the INVITE carried valid digest credentials.
    pub authenticated: bool,
    pub codec: Option<String>,
    pub digits_sent: String,
    /// `caller` or `carrier` for answered calls.
    pub hangup_by: Option<String>,
    pub received_rtp_packets: u64,
    pub received_audio_s: f64,
    /// Of the dialer's RTP packets, those that never came (by sequence).
    pub received_rtp_lost: Option<i64>,
    /// RTCP reports received from the dialer.
    pub rtcp_reports_received: u64,
    /// Root mean square level of the received audio (0-32767).
    pub received_rms: f64,
    pub recording: Option<String>,
    /// When the greeting (and the beep) the carrier played ended, in
    /// seconds after the answer.
    pub greeting_ended_s: Option<f64>,
    pub note: Option<String>,
}

/// A greeting's voice and text.
type Spoken = (String, String);

struct Shared {
    plan: CarrierPlan,
    options: CarrierOptions,
    endpoint: Arc<SipEndpoint>,
    ports: PortPool,
    /// Nonces issued per Call-ID, for the digest challenge.
    nonces: Mutex<HashMap<String, String>>,
    calls: AtomicU64,
    /// Calls answered with a behaviour so far, per dialed number.
    per_number: Mutex<HashMap<String, usize>>,
    /// Greetings spoken so far, by voice and text.
    greetings: tokio::sync::Mutex<HashMap<Spoken, Arc<[i16]>>>,
}

/// A running simulated carrier.
pub struct Carrier {
    shared: Arc<Shared>,
}

impl Carrier {
    pub async fn start(plan: CarrierPlan, options: CarrierOptions) -> anyhow::Result<Carrier> {
        if let Some(dir) = &options.record_dir {
            std::fs::create_dir_all(dir)?;
        }
        let (tx, mut invites) = mpsc::unbounded_channel();
        let endpoint = SipEndpoint::start(
            options.listen,
            None,
            "dialer-sim-carrier",
            InboundPolicy::Deliver(tx),
        )
        .await?;
        let ports = PortPool::new(options.rtp_ip, options.rtp_port_min, options.rtp_port_max)?;
        let shared = Arc::new(Shared {
            plan,
            options,
            endpoint: Arc::new(endpoint),
            ports,
            nonces: Mutex::new(HashMap::new()),
            calls: AtomicU64::new(0),
            per_number: Mutex::new(HashMap::new()),
            greetings: tokio::sync::Mutex::new(HashMap::new()),
        });
        let worker = shared.clone();
        tokio::spawn(async move {
            while let Some(tx) = invites.recv().await {
                let shared = worker.clone();
                tokio::spawn(async move { serve(shared, IncomingInvite::from(tx)).await });
            }
        });
        info!(addr = %shared.endpoint.local_addr(), "simulated carrier listening");
        Ok(Carrier { shared })
    }

    /// The SIP address to point a trunk at.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.endpoint.local_addr()
    }

    /// Calls finished so far (each is a line of `calls.jsonl`).
    pub fn call_count(&self) -> u64 {
        self.shared.calls.load(Ordering::Relaxed)
    }

    pub fn shutdown(&self) {
        self.shared.endpoint.shutdown();
    }
}

async fn serve(shared: Arc<Shared>, invite: IncomingInvite) {
    let mut log = CallLog {
        call_id: invite.call_id(),
        dialed: invite.dialed(),
        from: invite.header("From").unwrap_or_default(),
        p_asserted_identity: invite.header("P-Asserted-Identity"),
        outcome: String::new(),
        code: 0,
        authenticated: false,
        codec: None,
        digits_sent: String::new(),
        hangup_by: None,
        received_rtp_packets: 0,
        received_audio_s: 0.0,
        received_rtp_lost: None,
        rtcp_reports_received: 0,
        received_rms: 0.0,
        recording: None,
        greeting_ended_s: None,
        note: None,
    };
    if let Some(auth) = &shared.plan.auth {
        let kind = match auth.challenge {
            ChallengeKind::Server => Challenge::Server,
            ChallengeKind::Proxy => Challenge::Proxy,
        };
        let issued = shared
            .nonces
            .lock()
            .expect("nonce lock is never poisoned")
            .get(&log.call_id)
            .cloned();
        let nonce = match issued {
            Some(nonce) => nonce,
            None => {
                let nonce = format!("{:032x}", rand::random::<u128>());
                shared
                    .nonces
                    .lock()
                    .expect("nonce lock is never poisoned")
                    .insert(log.call_id.clone(), nonce.clone());
                debug!(call_id = %log.call_id, "challenging INVITE");
                // A challenge that is never answered must not be kept forever.
                let (forget, call_id) = (shared.clone(), log.call_id.clone());
                tokio::spawn(async move {
                    sleep(Duration::from_secs(64)).await;
                    forget
                        .nonces
                        .lock()
                        .expect("nonce lock is never poisoned")
                        .remove(&call_id);
                });
                invite.challenge(kind, &auth.realm, &nonce).await;
                return;
            }
        };
        match invite.check_auth(kind, &auth.username, &auth.password, &nonce) {
            AuthCheck::Valid => log.authenticated = true,
            AuthCheck::Missing => {
                invite.challenge(kind, &auth.realm, &nonce).await;
                return;
            }
            AuthCheck::Invalid(why) => {
                shared
                    .nonces
                    .lock()
                    .expect("nonce lock is never poisoned")
                    .remove(&log.call_id);
                log.outcome = "auth_failed".into();
                log.code = 403;
                log.note = Some(why);
                finish(&shared, log);
                invite.refuse(403).await;
                return;
            }
        }
        shared
            .nonces
            .lock()
            .expect("nonce lock is never poisoned")
            .remove(&log.call_id);
    }
    let nth = {
        let mut per_number = shared
            .per_number
            .lock()
            .expect("call count lock is never poisoned");
        let count = per_number
            .entry(log.dialed.trim_start_matches('+').to_owned())
            .or_default();
        *count += 1;
        *count - 1
    };
    let behaviour = shared.plan.behaviour_at(&log.dialed, nth).clone();
    let offer = invite.body().to_vec();
    let mut call = match invite.into_call(&shared.endpoint) {
        Ok(call) => call,
        Err(e) => {
            log.outcome = "error".into();
            log.note = Some(e);
            finish(&shared, log);
            return;
        }
    };
    if let Err(e) = play_behaviour(&shared, &mut call, &behaviour, &offer, &mut log).await {
        log.outcome = "error".into();
        log.note = Some(e);
    }
    finish(&shared, log);
}

/// Rings for `ring_s`; false when the caller cancelled meanwhile.
async fn ring(call: &mut InboundCall, seconds: f64) -> Result<bool, String> {
    call.ring()?;
    tokio::select! {
        _ = sleep(Duration::from_secs_f64(seconds)) => Ok(true),
        event = call.next_event() => Ok(event != UasEvent::Cancelled && event != UasEvent::Ended),
    }
}

async fn play_behaviour(
    shared: &Shared,
    call: &mut InboundCall,
    behaviour: &Behaviour,
    offer: &[u8],
    log: &mut CallLog,
) -> Result<(), String> {
    let cancelled = |log: &mut CallLog| {
        log.outcome = "cancelled".into();
        log.code = 487;
    };
    match behaviour.action {
        Action::Busy | Action::Reject => {
            let code = if behaviour.action == Action::Busy {
                486
            } else {
                behaviour.code
            };
            if behaviour.ring_s > 0.0 && !ring(call, behaviour.ring_s).await? {
                cancelled(log);
                return Ok(());
            }
            call.reject(code)?;
            log.outcome = if code == 486 { "busy" } else { "rejected" }.into();
            log.code = code;
            Ok(())
        }
        Action::NoAnswer => {
            call.ring()?;
            let guard = behaviour.give_up_s;
            tokio::select! {
                event = call.next_event() => {
                    if event == UasEvent::Cancelled {
                        cancelled(log);
                    } else {
                        log.outcome = "error".into();
                        log.note = Some(format!("{event:?} while ringing"));
                    }
                }
                _ = sleep(Duration::from_secs_f64(guard)) => {
                    call.reject(480)?;
                    log.outcome = "unanswered".into();
                    log.code = 480;
                }
            }
            Ok(())
        }
        Action::Answer => answer(shared, call, behaviour, offer, log).await,
    }
}

async fn answer(
    shared: &Shared,
    call: &mut InboundCall,
    behaviour: &Behaviour,
    offer: &[u8],
    log: &mut CallLog,
) -> Result<(), String> {
    let greeting = greeting(shared, behaviour).await?;
    if behaviour.ring_s > 0.0 && !ring(call, behaviour.ring_s).await? {
        log.outcome = "cancelled".into();
        log.code = 487;
        return Ok(());
    }
    let socket = shared.ports.bind().map_err(|e| e.to_string())?;
    let local = LocalAudio {
        ip: behaviour.sdp_address.unwrap_or(shared.ports.ip()),
        // Behind a NAT, the SDP names a port nobody listens on.
        port: if behaviour.behind_nat {
            socket.port().wrapping_add(10_000)
        } else {
            socket.port()
        },
        codecs: Codec::ALL.to_vec(),
        dtmf_payload_type: DEFAULT_DTMF_PAYLOAD_TYPE,
        session_id: rand::random::<u32>().into(),
    };
    let (agreed, sdp) = match local.answer_offer(offer) {
        Ok(answer) => answer,
        Err(e) => {
            call.reject(488)?;
            log.outcome = "rejected".into();
            log.code = 488;
            log.note = Some(format!("offer refused: {e}"));
            return Ok(());
        }
    };
    call.answer(sdp)?;
    log.code = 200;
    log.codec = Some(agreed.codec.name().into());
    match tokio::time::timeout(Duration::from_secs(32), call.next_event()).await {
        Ok(UasEvent::Acked) => {}
        other => {
            log.outcome = "error".into();
            log.note = Some(format!("no ACK for our 200 OK ({other:?})"));
            return Ok(());
        }
    }
    log.outcome = "answered".into();
    let acked = Instant::now();
    let mut media = MediaSession::start_pair(
        socket,
        agreed.remote,
        RtpSession::new(SessionConfig {
            codec: agreed.codec,
            dtmf_payload_type: agreed.dtmf_payload_type,
            offered_dtmf_payload_type: agreed.dtmf_payload_type,
            remote_ip: agreed.remote.ip(),
            record_limit: Some(8_000 * 600),
            ssrc: rand::random(),
            inband_dtmf: false,
            ptime_ms: agreed.ptime_ms,
        }),
    );
    if let Some(n) = behaviour.drop_one_in {
        media.drop_one_in(n);
    }
    let mut presses = behaviour.digits.clone();
    presses.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    let mut presses = presses.into_iter().peekable();
    let hangup_at = behaviour
        .hangup_after_s
        .map(|s| acked + Duration::from_secs_f64(s));
    if let Some((pcm, ended_s)) = &greeting {
        let mut coded = Vec::with_capacity(pcm.len());
        agreed.codec.encode(pcm, &mut coded);
        media.play(coded.into());
        log.greeting_ended_s = Some(*ended_s);
    }
    let mut tone_at = behaviour
        .tone_hz
        .map(|hz| (acked + Duration::from_secs_f64(behaviour.tone_at_s), hz));
    let hangup_by = loop {
        let next_press = presses
            .peek()
            .map(|p| acked + Duration::from_secs_f64(p.at_s));
        tokio::select! {
            event = call.next_event() => match event {
                UasEvent::CallerHangup | UasEvent::Ended | UasEvent::Cancelled => break "caller",
                UasEvent::Acked => {}
            },
            _ = media.event() => {}
            _ = sleep_until(next_press.unwrap_or(acked)), if next_press.is_some() => {
                let press = presses.next().expect("peeked");
                media.press(press.key, press.duration_ms);
                log.digits_sent.push(press.key);
            }
            _ = sleep_until(tone_at.map(|(at, _)| at).unwrap_or(acked)), if tone_at.is_some() => {
                let (_, hz) = tone_at.take().expect("guarded");
                media.play(tone(hz, behaviour.tone_s, agreed.codec));
            }
            _ = sleep_until(hangup_at.unwrap_or(acked)), if hangup_at.is_some() => {
                if let Err(e) = call.hangup().await {
                    warn!(error = %e, "carrier BYE failed");
                }
                break "carrier";
            }
        }
    };
    log.hangup_by = Some(hangup_by.into());
    let report = media.finish().await;
    log.received_rtp_packets = report.stats.received;
    if let Some(q) = report.quality {
        log.received_rtp_lost = Some(q.lost);
        log.rtcp_reports_received = q.reports_received;
    }
    if let Some(audio) = report.recording {
        log.received_audio_s = audio.len() as f64 / 8_000.0;
        let energy: f64 = audio.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        log.received_rms = if audio.is_empty() {
            0.0
        } else {
            (energy / audio.len() as f64).sqrt()
        };
        if let Some(dir) = &shared.options.record_dir {
            let safe: String = log
                .call_id
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let path = dir.join(format!("{safe}.wav"));
            write_wav(&path, &audio).map_err(|e| format!("{}: {e}", path.display()))?;
            log.recording = Some(path.display().to_string());
        }
    }
    Ok(())
}

/// What the call says on answering: the lead-in silence, the greeting and
/// the beep, and when they end (seconds after the answer).
async fn greeting(shared: &Shared, b: &Behaviour) -> Result<Option<(Vec<i16>, f64)>, String> {
    if b.greeting.is_none() && b.beep_hz.is_none() {
        return Ok(None);
    }
    let mut pcm = vec![0i16; (b.greeting_at_s * 8_000.0) as usize];
    if let Some(text) = &b.greeting {
        let key = (b.voice.clone(), text.clone());
        let mut spoken = shared.greetings.lock().await;
        let speech = match spoken.get(&key) {
            Some(speech) => speech.clone(),
            None => {
                let tts = media::tts::Tts::new(
                    media::tts::TtsEngine::Espeak(media::tts::Espeak::new("espeak-ng", 150)),
                    None,
                );
                let speech = tts
                    .render(text, &b.voice)
                    .await
                    .map_err(|e| format!("greeting not spoken: {e}"))?;
                spoken.insert(key, speech.clone());
                speech
            }
        };
        pcm.extend_from_slice(&speech);
    }
    if let Some(hz) = b.beep_hz {
        pcm.extend(std::iter::repeat_n(0, 2_400));
        pcm.extend(
            (0..4_800).map(|i| {
                ((i as f64 * hz * std::f64::consts::TAU / 8_000.0).sin() * 8_000.0) as i16
            }),
        );
    }
    let ended_s = pcm.len() as f64 / 8_000.0;
    Ok(Some((pcm, ended_s)))
}

/// A sine tone at a talking level, coded for the call.
fn tone(hz: f64, seconds: f64, codec: Codec) -> std::sync::Arc<[u8]> {
    let pcm: Vec<i16> = (0..(seconds * 8_000.0) as usize)
        .map(|i| ((i as f64 * hz * std::f64::consts::TAU / 8_000.0).sin() * 8_000.0) as i16)
        .collect();
    let mut coded = Vec::with_capacity(pcm.len());
    codec.encode(&pcm, &mut coded);
    coded.into()
}

fn write_wav(path: &std::path::Path, samples: &[i16]) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec)?;
    for &s in samples {
        writer.write_sample(s)?;
    }
    writer.finalize()
}

fn finish(shared: &Shared, log: CallLog) {
    debug!(call_id = %log.call_id, outcome = %log.outcome, "carrier call finished");
    if let Some(dir) = &shared.options.record_dir {
        let line = serde_json::to_string(&log).expect("a call log always serializes");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("calls.jsonl"))
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            warn!(error = %e, "cannot write calls.jsonl");
        }
    }
    shared.calls.fetch_add(1, Ordering::Relaxed);
}
