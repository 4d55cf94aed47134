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
        call: QueueCallId,
        queue: String,
        skills: Vec<Requirement>,
        /// From the debtor's segment ([`crate::config::QueueConfig::priority_of`]).
        priority: i32,
        pop: serde_json::Value,
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

impl Agents {
    /// Puts a debtor in `queue`. The events for this call arrive on `events`.
    pub async fn enqueue(
        &self,
        call: QueueCallId,
        queue: &str,
        skills: Vec<Requirement>,
        priority: i32,
        pop: serde_json::Value,
        events: mpsc::UnboundedSender<QueueEvent>,
    ) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Enqueue {
                call,
                queue: queue.to_owned(),
                skills,
                priority,
                pop,
                events,
                reply,
            })
            .map_err(|_| GONE.to_string())?;
        answer.await.map_err(|_| GONE.to_string())?
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
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Agent {
                login: login.to_owned(),
                request,
                reply,
            })
            .map_err(|_| GONE.to_string())?;
        answer.await.map_err(|_| GONE.to_string())?
    }

    pub async fn snapshot(&self) -> Result<Snapshot, String> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Snapshot(reply))
            .map_err(|_| GONE.to_string())?;
        answer.await.map_err(|_| GONE.to_string())
    }

    /// The agents who serve `queue` and what they did since the last ask
    /// (for the campaign's pacer); `None` for a queue that does not exist.
    pub async fn pacing(
        &self,
        queue: &str,
        grace: Duration,
    ) -> Result<Option<PacingState>, String> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Pacing {
                queue: queue.to_owned(),
                grace,
                reply,
            })
            .map_err(|_| GONE.to_string())?;
        answer.await.map_err(|_| GONE.to_string())
    }

    /// Screen pops and state changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }
}
