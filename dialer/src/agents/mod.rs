//! The agent side of a running dialer: one task owns the registrar and the
//! ACD router, and everything reaches it by message.
//!
//! Softphones' REGISTERs, agents' requests (ready, pause, log out, end
//! wrap-up) from the HTTP API, and calls transferred by their call actors
//! all arrive here; the router's decisions go out as [`QueueEvent`]s to the
//! call actor that owns the debtor (ring this agent, announce a position,
//! overflow), as rows in the store, and as [`Notice`]s to screen-pop and
//! wallboard subscribers. Nothing here blocks on a call: the SIP and RTP
//! work of a transfer happens in the call actor (`crate::call::transfer`).

pub mod report;
mod service;

use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};

pub use service::{AgentsOptions, start};

pub use crate::acd::PacingState;
use crate::acd::{AgentRequest, OfferFailure, QueueCallId, Requirement};
use crate::config::OverflowConfig;
use crate::sip::registrar::Binding;

/// What a call actor tells the ACD about its debtor.
#[derive(Debug)]
enum Request {
    Enqueue {
        entry: QueueEntry,
        events: mpsc::UnboundedSender<QueueEvent>,
        reply: oneshot::Sender<Result<(), String>>,
    },
    OfferAnswered(QueueCallId),
    OfferFailed(QueueCallId, OfferFailure),
    Abandon(QueueCallId),
    CallEnded(QueueCallId),
    Agent {
        login: String,
        request: AgentRequest,
        reply: oneshot::Sender<Result<(), String>>,
    },
    Snapshot(oneshot::Sender<Snapshot>),
    Pacing {
        queue: String,
        grace: Duration,
        reply: oneshot::Sender<Option<PacingState>>,
    },
    Preview {
        queue: String,
        key: u64,
        pop: serde_json::Value,
        reply: oneshot::Sender<Option<Previewing>>,
    },
    PreviewDecision {
        login: String,
        decision: PreviewDecision,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// A callback: reserve the best ready agent of `queue` for the debtor
    /// of `key`, tell them, and answer who (none when nobody is ready).
    Reserve {
        queue: String,
        key: u64,
        pop: serde_json::Value,
        reply: oneshot::Sender<Option<String>>,
    },
    /// The preview on this agent's screen, if any.
    Showing {
        login: String,
        reply: oneshot::Sender<Option<Notice>>,
    },
    PreviewEnd(u64),
}

/// What the agent decided about the debtor they preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewDecision {
    /// Place the call.
    Accept,
    /// Do not call this debtor now.
    Skip,
}

/// A preview on an agent's screen: who, and where their decision comes.
#[derive(Debug)]
pub struct Previewing {
    pub login: String,
    pub decision: oneshot::Receiver<PreviewDecision>,
}

/// What the ACD tells the call actor of a debtor in a queue.
#[derive(Debug, Clone)]
pub enum QueueEvent {
    /// Ring this agent's softphones (the newest registration first, the
    /// others if it cannot be reached).
    Offer {
        login: String,
        name: String,
        contacts: Vec<Binding>,
        ring_timeout: Duration,
    },
    /// Tell the debtor their place in the queue.
    Announce { position: usize },
    /// The call waited too long. `Queue` means it now waits in that queue
    /// (record it); the other actions take it out of the ACD.
    Overflow { from: String, to: OverflowConfig },
}

/// What screen pops and wallboards hear (JSON over WebSocket).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Notice {
    /// An agent's state changed.
    State {
        agent: String,
        state: String,
        reason: Option<String>,
        attempt_id: Option<i64>,
        at: String,
    },
    /// A debtor is being offered to this agent: their data, for the screen pop.
    Offer {
        agent: String,
        queue: String,
        call: serde_json::Value,
    },
    /// Preview dialing: a debtor for this agent to look at; the call is
    /// placed when they accept (POST /agents/{login}/preview).
    Preview {
        agent: String,
        queue: String,
        debtor: serde_json::Value,
        /// Seconds before the call is placed without a decision (none: never).
        timeout_s: Option<f64>,
    },
    /// A callback the queue promised is being placed for this agent: the
    /// debtor who answers is offered to them.
    Callback {
        agent: String,
        queue: String,
        debtor: serde_json::Value,
    },
}

/// An agent as the wallboard shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AgentView {
    pub login: String,
    pub name: String,
    pub state: String,
    pub reason: Option<String>,
    pub skills: Vec<String>,
    pub registered: Vec<String>,
}

/// A waiting debtor as the wallboard shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WaitingView {
    pub attempt_id: i64,
    pub queue: String,
    pub position: Option<usize>,
    pub offered_to: Option<String>,
    pub waiting_s: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Snapshot {
    pub agents: Vec<AgentView>,
    pub waiting: Vec<WaitingView>,
}

/// A handle to the agents service; cheap to clone.
#[derive(Debug, Clone)]
pub struct Agents {
    requests: mpsc::UnboundedSender<Request>,
    notices: broadcast::Sender<Notice>,
}

/// The service is gone (the run is ending).
const GONE: &str = "the agents service has stopped";

/// A debtor entering a queue.
#[derive(Debug)]
pub struct QueueEntry {
    pub call: QueueCallId,
    pub queue: String,
    pub skills: Vec<Requirement>,
    /// From the debtor's segment ([`crate::config::QueueConfig::priority_of`]).
    pub priority: i32,
    /// The screen pop.
    pub pop: serde_json::Value,
    /// Preview dialing: the key of the agent's reservation.
    pub preview: Option<u64>,
}

impl Agents {
    /// Sends the service a request made around its reply channel, and
    /// waits for the reply.
    async fn ask<T>(
        &self,
        request: impl FnOnce(oneshot::Sender<T>) -> Request,
    ) -> Result<T, String> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(request(reply))
            .map_err(|_| GONE.to_string())?;
        answer.await.map_err(|_| GONE.to_string())
    }

    /// Puts a debtor in a queue. The events for this call arrive on `events`.
    pub async fn enqueue(
        &self,
        entry: QueueEntry,
        events: mpsc::UnboundedSender<QueueEvent>,
    ) -> Result<(), String> {
        self.ask(|reply| Request::Enqueue {
            entry,
            events,
            reply,
        })
        .await?
    }

    pub fn offer_answered(&self, call: QueueCallId) {
        let _ = self.requests.send(Request::OfferAnswered(call));
    }

    pub fn offer_failed(&self, call: QueueCallId, why: OfferFailure) {
        let _ = self.requests.send(Request::OfferFailed(call, why));
    }

    /// The debtor hung up before an agent answered.
    pub fn abandon(&self, call: QueueCallId) {
        let _ = self.requests.send(Request::Abandon(call));
    }

    /// The bridged call ended.
    pub fn call_ended(&self, call: QueueCallId) {
        let _ = self.requests.send(Request::CallEnded(call));
    }

    /// An agent asks for a state change (HTTP API, CLI).
    pub async fn request(&self, login: &str, request: AgentRequest) -> Result<(), String> {
        self.ask(|reply| Request::Agent {
            login: login.to_owned(),
            request,
            reply,
        })
        .await?
    }

    pub async fn snapshot(&self) -> Result<Snapshot, String> {
        self.ask(Request::Snapshot).await
    }

    /// The agents who serve `queue` and what they did since the last ask
    /// (for the campaign's pacer); `None` for a queue that does not exist.
    pub async fn pacing(
        &self,
        queue: &str,
        grace: Duration,
    ) -> Result<Option<PacingState>, String> {
        self.ask(|reply| Request::Pacing {
            queue: queue.to_owned(),
            grace,
            reply,
        })
        .await
    }

    /// Preview dialing: reserves the best ready agent of `queue` for the
    /// debtor of `key` and shows them `debtor`; `None` when nobody is ready.
    pub async fn preview(
        &self,
        queue: &str,
        key: u64,
        debtor: serde_json::Value,
    ) -> Result<Option<Previewing>, String> {
        self.ask(|reply| Request::Preview {
            queue: queue.to_owned(),
            key,
            pop: debtor,
            reply,
        })
        .await
    }

    /// A callback due: reserves the best ready agent of `queue` for the
    /// debtor of `key` before the call is placed (the debtor who answers
    /// is offered to them, like a previewed one) and tells them who they
    /// call back; answers their login, `None` when nobody is ready. The
    /// reservation ends with [`Agents::preview_end`].
    pub async fn reserve(
        &self,
        queue: &str,
        key: u64,
        debtor: serde_json::Value,
    ) -> Result<Option<String>, String> {
        self.ask(|reply| Request::Reserve {
            queue: queue.to_owned(),
            key,
            pop: debtor,
            reply,
        })
        .await
    }

    /// The agent's decision on the debtor they preview.
    pub async fn preview_decision(
        &self,
        login: &str,
        decision: PreviewDecision,
    ) -> Result<(), String> {
        self.ask(|reply| Request::PreviewDecision {
            login: login.to_lowercase(),
            decision,
            reply,
        })
        .await?
    }

    /// The preview waiting for this agent's decision (what their desktop
    /// is told on connecting, when it missed the notice).
    pub async fn showing(&self, login: &str) -> Result<Option<Notice>, String> {
        self.ask(|reply| Request::Showing {
            login: login.to_lowercase(),
            reply,
        })
        .await
    }

    /// The preview's call is over without reaching the agent (skipped, not
    /// answered): the agent is free again. Harmless after the debtor
    /// reached them.
    pub fn preview_end(&self, key: u64) {
        let _ = self.requests.send(Request::PreviewEnd(key));
    }

    /// Screen pops and state changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }
}
