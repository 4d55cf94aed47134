//! The task that owns the registrar and the router, and its timers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rsipstack::transaction::transaction::Transaction;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{AgentView, Agents, Notice, QueueEntry, QueueEvent, Request, Snapshot, WaitingView};
use crate::acd::{
    Action, AgentId, AgentRequest, AgentSpec, AgentState, OfferFailure, Overflow, QueueCallId,
    QueueId, QueueSpec, Router,
};
use crate::config::{AgentsConfig, OverflowConfig};
use crate::sip::SipEndpoint;
use crate::sip::registrar::{
    IncomingRegister, RegisterReply, Registrar, RegistrarEvent, RegistrarPolicy,
};
use crate::store::{Store, format_time};

/// What the service needs.
pub struct AgentsOptions {
    pub config: AgentsConfig,
    pub store: Store,
    pub sip: Arc<SipEndpoint>,
    /// REGISTER transactions from the SIP endpoint.
    pub registers: mpsc::Receiver<Transaction>,
    pub stop: CancellationToken,
    /// Preview dialing: told to agents with each preview.
    pub preview_timeout_s: Option<f64>,
}

/// Starts the service; the handle reaches it, the task ends at `stop`.
pub fn start(options: AgentsOptions) -> (Agents, JoinHandle<()>) {
    let (requests, request_rx) = mpsc::unbounded_channel();
    let (notices, _) = broadcast::channel(1024);
    let handle = Agents {
        requests,
        notices: notices.clone(),
    };
    let mut service = Service::new(options.config, options.store, options.sip, notices);
    service.preview_timeout_s = options.preview_timeout_s;
    let task = tokio::spawn(service.run(request_rx, options.registers, options.stop));
    (handle, task)
}

/// A state change to store.
struct AgentEventWrite {
    login: String,
    state: &'static str,
    reason: Option<String>,
    attempt: Option<i64>,
    at: DateTime<Utc>,
}

/// Writes agent state changes one after another, until the service ends.
async fn write_events(store: Store, mut writes: mpsc::UnboundedReceiver<AgentEventWrite>) {
    while let Some(w) = writes.recv().await {
        if let Err(e) = store
            .record_agent_event(&w.login, w.state, w.reason.as_deref(), w.attempt, w.at)
            .await
        {
            warn!(error = %e, agent = %w.login, "could not record agent state");
        }
    }
}

struct CallEntry {
    events: mpsc::UnboundedSender<QueueEvent>,
    pop: serde_json::Value,
}

struct Service {
    router: Router,
    registrar: Registrar,
    config: AgentsConfig,
    agent_ids: HashMap<String, AgentId>,
    queue_ids: HashMap<String, QueueId>,
    calls: HashMap<QueueCallId, CallEntry>,
    writes: mpsc::UnboundedSender<AgentEventWrite>,
    writer: Option<JoinHandle<()>>,
    notices: broadcast::Sender<Notice>,
    sip: Arc<SipEndpoint>,
    /// The same instant on both clocks, to write router instants as UTC.
    origin: (std::time::Instant, DateTime<Utc>),
    /// Previews on agents' screens, by key.
    previews: HashMap<u64, Shown>,
    /// Told to agents with each preview.
    preview_timeout_s: Option<f64>,
}

/// A preview on an agent's screen.
struct Shown {
    login: String,
    /// Where the agent's decision goes.
    decide: tokio::sync::oneshot::Sender<super::PreviewDecision>,
    /// What the agent was told, again for a desktop that connects later.
    notice: Notice,
}

impl Service {
    fn new(
        config: AgentsConfig,
        store: Store,
        sip: Arc<SipEndpoint>,
        notices: broadcast::Sender<Notice>,
    ) -> Service {
        let mut router = Router::new();
        let mut agent_ids = HashMap::new();
        for a in &config.agents {
            let id = router.add_agent(AgentSpec {
                login: a.login.clone(),
                skills: a.skills.clone(),
            });
            agent_ids.insert(a.login.clone(), id);
        }
        // Queues are added in config order, so an overflow target's id is its index.
        let index_of = |name: &str| {
            config
                .queues
                .iter()
                .position(|q| q.name == name)
                .expect("validated: overflow targets exist")
        };
        let mut queue_ids = HashMap::new();
        for q in &config.queues {
            let id = router.add_queue(QueueSpec {
                name: q.name.clone(),
                skills: q.skills.clone(),
                wrap_up: Duration::from_secs_f64(q.wrap_up_s),
                max_wait: Duration::from_secs_f64(q.max_wait_s),
                announce_every: q.announce_every_s.map(Duration::from_secs_f64),
                overflow: match &q.overflow {
                    OverflowConfig::Queue(name) => Overflow::Queue(QueueId(index_of(name))),
                    OverflowConfig::Callback => Overflow::Callback,
                    OverflowConfig::Voicemail => Overflow::Voicemail,
                    OverflowConfig::Hangup => Overflow::Hangup,
                },
            });
            queue_ids.insert(q.name.clone(), id);
        }
        let r = &config.registrar;
        let registrar = Registrar::new(
            RegistrarPolicy {
                realm: r.realm.clone(),
                default_expires: r.default_expires_s,
                min_expires: r.min_expires_s,
                max_expires: r.max_expires_s,
                lockout_failures: r.lockout_failures,
                lockout_window: Duration::from_secs_f64(r.lockout_window_s),
                lockout_for: Duration::from_secs_f64(r.lockout_s),
                ..RegistrarPolicy::default()
            },
            config
                .agents
                .iter()
                .map(|a| (a.login.clone(), a.password.clone())),
        );
        let (writes, write_rx) = mpsc::unbounded_channel();
        let writer = Some(tokio::spawn(write_events(store, write_rx)));
        Service {
            router,
            registrar,
            config,
            agent_ids,
            queue_ids,
            calls: HashMap::new(),
            writes,
            writer,
            notices,
            sip,
            origin: (std::time::Instant::now(), Utc::now()),
            previews: HashMap::new(),
            preview_timeout_s: None,
        }
    }

    async fn run(
        mut self,
        mut requests: mpsc::UnboundedReceiver<Request>,
        mut registers: mpsc::Receiver<Transaction>,
        stop: CancellationToken,
    ) {
        let keepalive_every = self.config.registrar.keepalive_s;
        let mut keepalive = (keepalive_every > 0.0).then(|| {
            let mut t = tokio::time::interval(Duration::from_secs_f64(keepalive_every));
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        let (unreachable_tx, mut unreachable) = mpsc::unbounded_channel::<(String, String)>();
        loop {
            let due = [self.router.poll_timeout(), self.registrar.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
                .map(Instant::from_std);
            tokio::select! {
                _ = stop.cancelled() => break,
                Some(tx) = registers.recv() => {
                    if let Some(register) = IncomingRegister::read(tx) {
                        self.register(register);
                    }
                }
                Some(request) = requests.recv() => self.handle(request),
                _ = sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    let now = std::time::Instant::now();
                    self.registrar.handle_timeout(now);
                    self.router.handle_timeout(now);
                }
                _ = async { keepalive.as_mut().expect("guarded").tick().await }, if keepalive.is_some() => {
                    self.ping_all(&unreachable_tx);
                }
                Some((user, contact)) = unreachable.recv() => {
                    warn!(agent = %user, %contact, "softphone stopped answering keep-alive OPTIONS; binding removed");
                    self.registrar.handle_unreachable(&user, &contact);
                }
            }
            self.drain();
        }
        // The run is over: agents' sessions end with it.
        let now = std::time::Instant::now();
        for i in 0..self.router.agent_count() {
            let _ = self
                .router
                .handle_request(now, AgentId(i), AgentRequest::Logout);
            // Busy agents' logouts wait for calls that are ending anyway.
        }
        self.drain();
        let writer = self.writer.take();
        drop(self);
        if let Some(writer) = writer {
            let _ = writer.await;
        }
    }

    fn register(&mut self, register: IncomingRegister) {
        let source = register.source;
        let user = register.user.clone();
        let agent_ua = register.user_agent.clone().unwrap_or_default();
        let (reply, send) = register.answer(&mut self.registrar, std::time::Instant::now());
        tokio::spawn(send);
        match &reply {
            RegisterReply::Forbidden { reason } => {
                warn!(%source, %user, user_agent = %agent_ua, %reason, "REGISTER refused");
            }
            RegisterReply::Ok { contacts } => {
                info!(%source, %user, contacts = contacts.len(), "REGISTER accepted");
            }
            _ => {}
        }
    }

    fn ping_all(&self, unreachable: &mpsc::UnboundedSender<(String, String)>) {
        for (user, binding) in self.registrar.all_bindings() {
            let sip = self.sip.clone();
            let (user, binding) = (user.to_owned(), binding.clone());
            let unreachable = unreachable.clone();
            tokio::spawn(async move {
                let answer = sip
                    .ping(&binding.contact, binding.source, binding.transport)
                    .await;
                // No answer at all, or the transport is gone (a closed TCP connection).
                if matches!(answer, Ok(None) | Err(_)) {
                    let _ = unreachable.send((user, binding.contact));
                }
            });
        }
    }

    fn handle(&mut self, request: Request) {
        let now = std::time::Instant::now();
        match request {
            Request::Enqueue {
                entry:
                    QueueEntry {
                        call,
                        queue,
                        skills,
                        priority,
                        pop,
                        preview,
                    },
                events,
                reply,
            } => {
                let Some(&queue_id) = self.queue_ids.get(&queue) else {
                    let _ = reply.send(Err(format!("no queue is named '{queue}'")));
                    return;
                };
                let entered = match preview {
                    Some(key) => {
                        self.previews.remove(&key);
                        self.router
                            .handle_enqueue_previewed(now, call, queue_id, skills, priority, key)
                    }
                    None => self
                        .router
                        .handle_enqueue(now, call, queue_id, skills, priority),
                };
                match entered {
                    Ok(()) => {
                        self.calls.insert(call, CallEntry { events, pop });
                        let _ = reply.send(Ok(()));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e.to_string()));
                    }
                }
            }
            Request::OfferAnswered(call) => self.router.handle_offer_answered(now, call),
            Request::OfferFailed(call, why) => self.router.handle_offer_failed(now, call, why),
            Request::Abandon(call) => {
                self.router.handle_abandon(now, call);
                self.calls.remove(&call);
            }
            Request::CallEnded(call) => {
                self.router.handle_call_ended(now, call);
                self.calls.remove(&call);
            }
            Request::Agent {
                login,
                request,
                reply,
            } => {
                let result = match self.agent_ids.get(&login.to_lowercase()) {
                    Some(&id) => self
                        .router
                        .handle_request(now, id, request)
                        .map_err(|e| e.to_string()),
                    None => Err(format!("no agent logs in as '{login}'")),
                };
                let _ = reply.send(result);
            }
            Request::Snapshot(reply) => {
                let _ = reply.send(self.snapshot(now));
            }
            Request::Reserve {
                queue,
                key,
                pop,
                reply,
            } => {
                let login = self.reserve(now, &queue, key);
                if let Some(agent) = &login {
                    let _ = self.notices.send(Notice::Callback {
                        agent: agent.clone(),
                        queue,
                        debtor: pop,
                    });
                }
                let _ = reply.send(login);
            }
            Request::Preview {
                queue,
                key,
                pop,
                reply,
            } => {
                let Some(login) = self.reserve(now, &queue, key) else {
                    let _ = reply.send(None);
                    return;
                };
                let (decide, decision) = tokio::sync::oneshot::channel();
                let notice = Notice::Preview {
                    agent: login.clone(),
                    queue,
                    debtor: pop,
                    timeout_s: self.preview_timeout_s,
                };
                let _ = self.notices.send(notice.clone());
                self.previews.insert(
                    key,
                    Shown {
                        login: login.clone(),
                        decide,
                        notice,
                    },
                );
                let _ = reply.send(Some(super::Previewing { login, decision }));
            }
            Request::PreviewDecision {
                login,
                decision,
                reply,
            } => {
                let key = self
                    .previews
                    .iter()
                    .find(|(_, shown)| shown.login == login)
                    .map(|(key, _)| *key);
                let result = match key.and_then(|key| self.previews.remove(&key)) {
                    Some(shown) => {
                        let _ = shown.decide.send(decision);
                        Ok(())
                    }
                    None => Err(format!("no debtor is waiting for {login}'s decision")),
                };
                let _ = reply.send(result);
            }
            Request::Showing { login, reply } => {
                let shown = self.previews.values().find(|shown| shown.login == login);
                let _ = reply.send(shown.map(|shown| shown.notice.clone()));
            }
            Request::PreviewEnd(key) => {
                self.previews.remove(&key);
                self.router.handle_preview_end(now, key);
            }
            Request::Pacing {
                queue,
                grace,
                reply,
            } => {
                let state = self
                    .queue_ids
                    .get(&queue)
                    .map(|id| self.router.pacing(now, *id, grace));
                let _ = reply.send(state);
            }
        }
    }

    /// Reserves the best ready agent of `queue` for the call of `key`
    /// (preview, callback); their login.
    fn reserve(&mut self, now: std::time::Instant, queue: &str, key: u64) -> Option<String> {
        let id = *self.queue_ids.get(queue)?;
        let agent = self.router.handle_preview(now, id, key)?;
        Some(
            self.router
                .agent_spec(agent)
                .map(|a| a.login.clone())
                .unwrap_or_default(),
        )
    }

    /// Carries out the router's and registrar's decisions.
    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(event) = self.registrar.poll_event() {
                progressed = true;
                self.registrar_event(event);
            }
            while let Some(action) = self.router.poll_action() {
                progressed = true;
                self.action(action);
            }
            if !progressed {
                return;
            }
        }
    }

    fn registrar_event(&mut self, event: RegistrarEvent) {
        let now = std::time::Instant::now();
        match event {
            RegistrarEvent::Online { user } => {
                info!(agent = %user, "softphone registered");
                if let Some((id, true)) = self.agent(&user) {
                    let _ = self.router.handle_request(now, id, AgentRequest::Login);
                }
            }
            RegistrarEvent::Offline { user, expired } => {
                info!(agent = %user, expired, "no softphone registered any more");
                if let Some((id, true)) = self.agent(&user) {
                    let _ = self.router.handle_request(now, id, AgentRequest::Logout);
                }
            }
            RegistrarEvent::LockedOut { source, failures } => {
                warn!(%source, failures, lockout_s = self.config.registrar.lockout_s,
                    "source locked out after repeated failed REGISTER authentications");
            }
        }
    }

    /// The agent's id and whether registering logs them in.
    fn agent(&self, login: &str) -> Option<(AgentId, bool)> {
        let id = *self.agent_ids.get(login)?;
        let auto = self
            .config
            .agents
            .iter()
            .find(|a| a.login == login)
            .is_some_and(|a| a.login_on_register);
        Some((id, auto))
    }

    fn action(&mut self, action: Action) {
        let now = std::time::Instant::now();
        match action {
            Action::Offer { call, agent } => {
                let login = self.login(agent);
                let contacts = self.registrar.contacts(&login, now);
                let Some(entry) = self.calls.get(&call) else {
                    self.router.handle_abandon(now, call);
                    return;
                };
                if contacts.is_empty() {
                    warn!(agent = %login, "offered a call but no softphone is registered");
                    self.router
                        .handle_offer_failed(now, call, OfferFailure::Unreachable);
                    return;
                }
                let queue = self.queue_of(call);
                let ring_timeout = self
                    .config
                    .queue(&queue)
                    .map(|q| Duration::from_secs_f64(q.agent_ring_timeout_s))
                    .unwrap_or(Duration::from_secs(15));
                let name = self
                    .config
                    .agents
                    .iter()
                    .find(|a| a.login == login)
                    .map(|a| a.name.clone())
                    .unwrap_or_else(|| login.clone());
                let offered = entry.events.send(QueueEvent::Offer {
                    login: login.clone(),
                    name,
                    contacts,
                    ring_timeout,
                });
                if offered.is_err() {
                    // The call actor is gone: the debtor is too.
                    self.calls.remove(&call);
                    self.router.handle_abandon(now, call);
                    return;
                }
                let _ = self.notices.send(Notice::Offer {
                    agent: login,
                    queue,
                    call: entry.pop.clone(),
                });
            }
            Action::Announce { call, position } => {
                if let Some(entry) = self.calls.get(&call) {
                    let _ = entry.events.send(QueueEvent::Announce { position });
                }
            }
            Action::Overflow { call, from, to } => {
                let from = self
                    .router
                    .queue(from)
                    .map(|q| q.name.clone())
                    .unwrap_or_default();
                let to = match to {
                    Overflow::Queue(q) => OverflowConfig::Queue(
                        self.router
                            .queue(q)
                            .map(|q| q.name.clone())
                            .unwrap_or_default(),
                    ),
                    Overflow::Callback => OverflowConfig::Callback,
                    Overflow::Voicemail => OverflowConfig::Voicemail,
                    Overflow::Hangup => OverflowConfig::Hangup,
                };
                let leaves = !matches!(to, OverflowConfig::Queue(_));
                if let Some(entry) = self.calls.get(&call) {
                    let _ = entry.events.send(QueueEvent::Overflow { from, to });
                }
                if leaves {
                    self.calls.remove(&call);
                }
            }
            Action::AgentChanged { agent, state, at } => {
                let login = self.login(agent);
                let attempt = match &state {
                    AgentState::Reserved(call) | AgentState::OnCall(call) => Some(call.0 as i64),
                    _ => None,
                };
                let at = self.utc(at);
                info!(agent = %login, state = state.name(), reason = state.reason().unwrap_or(""), "agent state");
                let (name, reason) = (state.name(), state.reason().map(str::to_owned));
                let notice = Notice::State {
                    agent: login.clone(),
                    state: name.to_owned(),
                    reason: reason.clone(),
                    attempt_id: attempt,
                    at: format_time(at),
                };
                let _ = self.notices.send(notice);
                // One writer keeps the rows in the order they happened.
                let _ = self.writes.send(AgentEventWrite {
                    login,
                    state: name,
                    reason,
                    attempt,
                    at,
                });
            }
        }
    }

    fn login(&self, agent: AgentId) -> String {
        self.router
            .agent_spec(agent)
            .map(|s| s.login.clone())
            .unwrap_or_default()
    }

    fn queue_of(&self, call: QueueCallId) -> String {
        self.router
            .waiting()
            .into_iter()
            .find(|w| w.call == call)
            .and_then(|w| self.router.queue(w.queue))
            .map(|q| q.name.clone())
            .unwrap_or_default()
    }

    fn utc(&self, at: std::time::Instant) -> DateTime<Utc> {
        let (instant, utc) = self.origin;
        let offset = at.saturating_duration_since(instant);
        utc + chrono::Duration::from_std(offset).unwrap_or_default()
    }

    fn snapshot(&self, now: std::time::Instant) -> Snapshot {
        let agents = self
            .config
            .agents
            .iter()
            .map(|a| {
                let state = self
                    .agent_ids
                    .get(&a.login)
                    .and_then(|id| self.router.agent_state(*id))
                    .cloned()
                    .unwrap_or(AgentState::LoggedOut);
                AgentView {
                    login: a.login.clone(),
                    name: a.name.clone(),
                    state: state.name().to_owned(),
                    reason: state.reason().map(str::to_owned),
                    skills: a
                        .skills
                        .iter()
                        .map(|s| format!("{}:{}", s.name, s.level))
                        .collect(),
                    registered: self
                        .registrar
                        .contacts(&a.login, now)
                        .into_iter()
                        .map(|b| b.contact)
                        .collect(),
                }
            })
            .collect();
        let waiting = self
            .router
            .waiting()
            .into_iter()
            .map(|w| WaitingView {
                attempt_id: w.call.0 as i64,
                queue: self
                    .router
                    .queue(w.queue)
                    .map(|q| q.name.clone())
                    .unwrap_or_default(),
                position: w.position,
                offered_to: w.offered_to.map(|a| self.login(a)),
                waiting_s: now.saturating_duration_since(w.enqueued_at).as_secs_f64(),
            })
            .collect();
        Snapshot { agents, waiting }
    }
}
