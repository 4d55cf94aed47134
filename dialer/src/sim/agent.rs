//! Simulated agents' softphones for `dialer demo`: real SIP UAs on loopback.
//!
//! Each agent has its own SIP endpoint that REGISTERs to the dialer with
//! digest authentication (and refreshes), answers the calls the ACD sends
//! after a ring, "speaks" a greeting (TTS) and then listens, hangs up after
//! a while if the debtor has not, and records its tipificación (and a
//! promise to pay) through the dialer's HTTP API, the way an agent's
//! desktop would. They use the same SIP/RTP stack as the dialer, over real
//! sockets, so the demo exercises the whole path: registrar, ACD, INVITE
//! with the debtor's data, bridge, API.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use media::Codec;
use media::prompt::Prompt;
use media::rtp::{MediaSession, PortPool, RtpSession, SessionConfig};
use media::sdp::{DEFAULT_DTMF_PAYLOAD_TYPE, LocalAudio};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, sleep_until};
use tracing::{info, warn};

use crate::sip::uas::{IncomingInvite, UasEvent};
use crate::sip::{InboundPolicy, SipEndpoint};

/// What one simulated agent does.
#[derive(Debug, Clone)]
pub struct AgentPlan {
    pub login: String,
    pub password: String,
    /// Rings this long before answering.
    pub answer_after_s: f64,
    /// Hangs up this long after answering, unless the debtor did first.
    pub talk_s: f64,
    /// What the agent says on answering.
    pub greeting: Option<Arc<Prompt>>,
    /// The tipificación recorded after each call, and a promise (days from
    /// today, amount) when there is one.
    pub disposition: Option<(String, Option<(i64, u64)>)>,
}

/// Where the agents register and report.
#[derive(Debug, Clone)]
pub struct AgentsSetup {
    pub registrar: SocketAddr,
    /// The dialer's HTTP API (`http://host:port`), for dispositions.
    pub api: Option<String>,
    pub rtp_port_min: u16,
    pub rtp_port_max: u16,
}

/// The running simulated agents; they stop when this is dropped or shut down.
pub struct SimAgents {
    endpoints: Vec<Arc<SipEndpoint>>,
    tasks: Vec<JoinHandle<()>>,
}

impl SimAgents {
    pub async fn start(plans: Vec<AgentPlan>, setup: AgentsSetup) -> anyhow::Result<SimAgents> {
        let ports = Arc::new(PortPool::new(
            "127.0.0.1".parse().expect("a valid address"),
            setup.rtp_port_min,
            setup.rtp_port_max,
        )?);
        let mut endpoints = Vec::new();
        let mut tasks = Vec::new();
        for plan in plans {
            let (invites, incoming) = mpsc::unbounded_channel();
            let endpoint = Arc::new(
                SipEndpoint::start(
                    "127.0.0.1:0".parse().expect("a valid address"),
                    None,
                    "dialer-sim-agent",
                    InboundPolicy::Deliver(invites),
                )
                .await?,
            );
            let plan = Arc::new(plan);
            tasks.push(tokio::spawn(keep_registered(
                endpoint.clone(),
                plan.clone(),
                setup.registrar,
            )));
            tasks.push(tokio::spawn(answer_calls(
                endpoint.clone(),
                plan,
                incoming,
                ports.clone(),
                setup.api.clone(),
            )));
            endpoints.push(endpoint);
        }
        Ok(SimAgents { endpoints, tasks })
    }

    pub fn shutdown(&self) {
        for task in &self.tasks {
            task.abort();
        }
        for endpoint in &self.endpoints {
            endpoint.shutdown();
        }
    }
}

impl Drop for SimAgents {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Registers, retrying every second until the dialer answers, then
/// refreshes before the registration runs out.
async fn keep_registered(endpoint: Arc<SipEndpoint>, plan: Arc<AgentPlan>, registrar: SocketAddr) {
    const EXPIRES: u32 = 300;
    let mut announced = false;
    loop {
        let wait = match endpoint
            .register_to(registrar, &plan.login, &plan.password, EXPIRES)
            .await
        {
            Ok(200) => {
                if !announced {
                    info!(agent = %plan.login, "simulated agent registered");
                    announced = true;
                }
                Duration::from_secs(u64::from(EXPIRES) * 4 / 5)
            }
            Ok(code) => {
                warn!(agent = %plan.login, code, "simulated agent's REGISTER refused");
                Duration::from_secs(5)
            }
            Err(_) => Duration::from_secs(1),
        };
        sleep(wait).await;
    }
}

async fn answer_calls(
    endpoint: Arc<SipEndpoint>,
    plan: Arc<AgentPlan>,
    mut incoming: mpsc::UnboundedReceiver<rsipstack::transaction::transaction::Transaction>,
    ports: Arc<PortPool>,
    api: Option<String>,
) {
    while let Some(tx) = incoming.recv().await {
        let invite = IncomingInvite::from(tx);
        let (endpoint, plan, ports, api) =
            (endpoint.clone(), plan.clone(), ports.clone(), api.clone());
        tokio::spawn(async move {
            if let Err(e) = take_call(&endpoint, &plan, invite, &ports, api.as_deref()).await {
                warn!(agent = %plan.login, error = %e, "simulated agent's call failed");
            }
        });
    }
}

async fn take_call(
    endpoint: &SipEndpoint,
    plan: &AgentPlan,
    invite: IncomingInvite,
    ports: &PortPool,
    api: Option<&str>,
) -> Result<(), String> {
    let debtor = invite.header("X-Debtor-Name").unwrap_or_default();
    let attempt = invite.header("X-Attempt-Id");
    let offer = invite.body().to_vec();
    let mut call = invite.into_call(endpoint)?;
    call.ring()?;
    let answer_at = Instant::now() + Duration::from_secs_f64(plan.answer_after_s);
    tokio::select! {
        _ = sleep_until(answer_at) => {}
        event = call.next_event() => {
            info!(agent = %plan.login, %debtor, ?event, "the offer was withdrawn while ringing");
            return Ok(());
        }
    }
    let socket = ports.bind().map_err(|e| e.to_string())?;
    let local = LocalAudio {
        ip: ports.ip(),
        port: socket.port(),
        codecs: Codec::ALL.to_vec(),
        dtmf_payload_type: DEFAULT_DTMF_PAYLOAD_TYPE,
        session_id: rand::random::<u32>().into(),
    };
    let (agreed, sdp) = local.answer_offer(&offer).map_err(|e| e.to_string())?;
    call.answer(sdp)?;
    match tokio::time::timeout(Duration::from_secs(32), call.next_event()).await {
        Ok(UasEvent::Acked) => {}
        other => return Err(format!("no ACK for the agent's 200 OK ({other:?})")),
    }
    let answered = Instant::now();
    let mut media = MediaSession::start_pair(
        socket,
        agreed.remote,
        RtpSession::new(SessionConfig {
            codec: agreed.codec,
            dtmf_payload_type: agreed.dtmf_payload_type,
            offered_dtmf_payload_type: agreed.dtmf_payload_type,
            remote_ip: agreed.remote.ip(),
            record_limit: None,
            ssrc: rand::random(),
            inband_dtmf: false,
            ptime_ms: agreed.ptime_ms,
        }),
    );
    if let Some(greeting) = &plan.greeting {
        media.play(greeting.encoded(agreed.codec));
    }
    info!(agent = %plan.login, %debtor, "simulated agent answered");
    let hang_up_at = answered + Duration::from_secs_f64(plan.talk_s);
    let hung_up_by = loop {
        tokio::select! {
            event = call.next_event() => match event {
                UasEvent::CallerHangup | UasEvent::Ended | UasEvent::Cancelled => break "debtor",
                UasEvent::Acked => {}
            },
            _ = media.event() => {}
            _ = sleep_until(hang_up_at) => {
                call.hangup().await.ok();
                break "agent";
            }
        }
    };
    media.finish().await;
    info!(agent = %plan.login, %debtor, hung_up_by, talk_s = answered.elapsed().as_secs_f64(), "simulated agent's call ended");
    if let (Some(api), Some(attempt), Some((code, promise))) = (api, attempt, &plan.disposition) {
        record_disposition(api, plan, &attempt, code, promise).await;
    }
    Ok(())
}

/// POSTs the agent's tipificación like an agent desktop would.
async fn record_disposition(
    api: &str,
    plan: &AgentPlan,
    attempt: &str,
    code: &str,
    promise: &Option<(i64, u64)>,
) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut body = serde_json::json!({
        "agent": plan.login,
        "disposition": code,
        "note": "registrado por el agente simulado",
    });
    if let Some((days, amount)) = promise {
        let date = chrono::Local::now().date_naive() + chrono::Duration::days(*days);
        body["promise"] = serde_json::json!({
            "date": date.format("%Y-%m-%d").to_string(),
            "amount": amount,
        });
    }
    let sent = reqwest::Client::new()
        .post(format!("{api}/calls/{attempt}/disposition"))
        .basic_auth(&plan.login, Some(&plan.password))
        .json(&body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => warn!(agent = %plan.login, status = %r.status(), "disposition refused"),
        Err(e) => warn!(agent = %plan.login, error = %e, "disposition not sent"),
    }
}
