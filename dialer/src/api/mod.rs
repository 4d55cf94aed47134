//! The HTTP API of a running dialer: agents' states, screen pops, and the
//! agent's disposition (tipificación) of a call.
//!
//! Agents authenticate with HTTP Basic (their login and softphone
//! password); supervisors' views need the bearer token `api.token`
//! ([`auth`]). Wrong credentials lock the client's address out for a while.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/agents` | every agent's state, registrations, waiting debtors (supervisor) |
//! | GET | `/agents/{login}` | the agent's own state |
//! | POST | `/agents/{login}/state` | `{"state": "ready" \| "paused" \| "logged_out", "reason": ...}` |
//! | POST | `/agents/{login}/wrap-up/end` | end wrap-up now |
//! | GET | `/agents/{login}/events` | WebSocket: this agent's screen pops and state changes |
//! | GET | `/events` | WebSocket: every agent's (wallboard; supervisor) |
//! | GET | `/calls/{attempt}` | the call's debtor, for `Call-Info` (the agent who took it, or a supervisor) |
//! | POST | `/calls/{attempt}/disposition` | `{"disposition": ..., "note": ..., "promise": {"date": "YYYY-MM-DD", "amount": N}}` |

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::acd::AgentRequest;
use crate::agents::{Agents, Notice};
use crate::store::{NewPromise, Store};

mod auth;

pub use auth::Guard;

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub agents: Agents,
    pub store: Store,
    pub guard: Arc<Guard>,
}

/// The client's address (for the lockout).
type Peer = ConnectInfo<SocketAddr>;

/// The API as a router (tested without a socket).
pub fn app(state: ApiState) -> Router {
    Router::new()
        .route("/agents", get(list_agents))
        .route("/agents/{login}", get(agent_view))
        .route("/agents/{login}/state", post(set_state))
        .route("/agents/{login}/wrap-up/end", post(end_wrap_up))
        .route("/agents/{login}/preview", post(preview_decision))
        .route("/agents/{login}/events", get(agent_events))
        .route("/events", get(all_events))
        .route("/calls/{attempt}", get(call_info))
        .route("/calls/{attempt}/disposition", post(disposition))
        .with_state(state)
}

/// Binds `bind` and serves until `stop`; returns the bound address.
pub async fn serve(
    bind: SocketAddr,
    agents: Agents,
    store: Store,
    guard: Guard,
    stop: CancellationToken,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let router = app(ApiState {
        agents,
        store,
        guard: Arc::new(guard),
    });
    let task = tokio::spawn(async move {
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "HTTP API stopped");
        }
    });
    tracing::info!(%addr, "HTTP API listening");
    Ok((addr, task))
}

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

async fn list_agents(
    State(state): State<ApiState>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
) -> Response {
    if let Some(denied) = state.guard.supervisor(&headers, peer.ip()) {
        return denied;
    }
    match state.agents.snapshot().await {
        Ok(snapshot) => Json(snapshot).into_response(),
        Err(e) => problem(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn agent_view(
    State(state): State<ApiState>,
    Path(login): Path<String>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
) -> Response {
    if let Some(denied) = state.guard.agent(&headers, peer.ip(), &login) {
        return denied;
    }
    list_agent(&state, &login).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateChange {
    state: String,
    reason: Option<String>,
}

async fn set_state(
    State(state): State<ApiState>,
    Path(login): Path<String>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Json(change): Json<StateChange>,
) -> Response {
    if let Some(denied) = state.guard.agent(&headers, peer.ip(), &login) {
        return denied;
    }
    let request = match change.state.as_str() {
        "ready" => AgentRequest::Ready,
        "paused" => AgentRequest::Pause(
            change
                .reason
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| "break".into()),
        ),
        "logged_out" => AgentRequest::Logout,
        "logged_in" => AgentRequest::Login,
        other => {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("state '{other}' is not ready, paused, logged_in or logged_out"),
            );
        }
    };
    match state.agents.request(&login, request).await {
        Ok(()) => list_agent(&state, &login).await,
        Err(e) => problem(StatusCode::CONFLICT, e),
    }
}

async fn end_wrap_up(
    State(state): State<ApiState>,
    Path(login): Path<String>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
) -> Response {
    if let Some(denied) = state.guard.agent(&headers, peer.ip(), &login) {
        return denied;
    }
    match state.agents.request(&login, AgentRequest::EndWrapUp).await {
        Ok(()) => list_agent(&state, &login).await,
        Err(e) => problem(StatusCode::CONFLICT, e),
    }
}

#[derive(Deserialize)]
struct PreviewAnswer {
    /// `accept` (place the call) or `skip` (not this debtor now).
    decision: String,
}

/// Preview dialing: the agent's decision on the debtor on their screen.
async fn preview_decision(
    State(state): State<ApiState>,
    Path(login): Path<String>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Json(answer): Json<PreviewAnswer>,
) -> Response {
    if let Some(denied) = state.guard.agent(&headers, peer.ip(), &login) {
        return denied;
    }
    let decision = match answer.decision.as_str() {
        "accept" => crate::agents::PreviewDecision::Accept,
        "skip" => crate::agents::PreviewDecision::Skip,
        other => {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("decision '{other}' is not accept or skip"),
            );
        }
    };
    match state.agents.preview_decision(&login, decision).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => problem(StatusCode::CONFLICT, e),
    }
}

async fn list_agent(state: &ApiState, login: &str) -> Response {
    match state.agents.snapshot().await {
        Ok(snapshot) => match snapshot
            .agents
            .into_iter()
            .find(|a| a.login.eq_ignore_ascii_case(login))
        {
            Some(agent) => Json(agent).into_response(),
            None => problem(StatusCode::NOT_FOUND, format!("no agent '{login}'")),
        },
        Err(e) => problem(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}

async fn agent_events(
    State(state): State<ApiState>,
    Path(login): Path<String>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // Credentials first: a stranger learns nothing, not even that this is a WebSocket.
    if let Some(denied) = state.guard.agent(&headers, peer.ip(), &login) {
        return denied;
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let login = login.to_lowercase();
    upgrade.on_upgrade(move |socket| stream(socket, state.agents, Some(login)))
}

async fn all_events(
    State(state): State<ApiState>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if let Some(denied) = state.guard.supervisor(&headers, peer.ip()) {
        return denied;
    }
    match upgrade {
        Ok(upgrade) => upgrade.on_upgrade(move |socket| stream(socket, state.agents, None)),
        Err(rejection) => rejection.into_response(),
    }
}

/// Sends notices (for one agent, or all) until the client goes away. An
/// agent's desktop first gets the preview waiting for their decision, if
/// it was shown before they connected.
async fn stream(mut socket: WebSocket, agents: Agents, agent: Option<String>) {
    let mut notices = agents.subscribe();
    // Subscribed first, so nothing falls between; a preview both waiting
    // and heard since is sent once.
    let mut sent_on_connect = None;
    if let Some(login) = &agent
        && let Ok(Some(waiting)) = agents.showing(login).await
    {
        let text = serde_json::to_string(&waiting).expect("notices serialize");
        if socket
            .send(Message::Text(text.clone().into()))
            .await
            .is_err()
        {
            return;
        }
        sent_on_connect = Some(text);
    }
    loop {
        tokio::select! {
            notice = notices.recv() => match notice {
                Ok(notice) => {
                    let for_agent = match &notice {
                        Notice::State { agent, .. }
                        | Notice::Offer { agent, .. }
                        | Notice::Preview { agent, .. }
                        | Notice::Callback { agent, .. } => agent,
                    };
                    if agent.as_ref().is_some_and(|a| a != for_agent) {
                        continue;
                    }
                    let text = serde_json::to_string(&notice).expect("notices serialize");
                    if sent_on_connect.as_ref() == Some(&text) {
                        sent_on_connect = None;
                        continue;
                    }
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            },
        }
    }
}

#[derive(Deserialize)]
struct AsAgent {
    /// The agent asking (HTTP Basic), when not a supervisor.
    agent: Option<String>,
}

async fn call_info(
    State(state): State<ApiState>,
    Path(attempt): Path<i64>,
    Query(who): Query<AsAgent>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
) -> Response {
    // A supervisor, or the agent who took the call.
    if Guard::offers_token(&headers) {
        if let Some(denied) = state.guard.supervisor(&headers, peer.ip()) {
            return denied;
        }
    } else {
        let Some(login) = who.agent.map(|a| a.to_lowercase()) else {
            return problem(
                StatusCode::UNAUTHORIZED,
                "say which agent asks (?agent=LOGIN, with HTTP Basic), or give the supervisor token",
            );
        };
        if let Some(denied) = state.guard.agent(&headers, peer.ip(), &login) {
            return denied;
        }
        match state.store.agent_took_call(attempt, &login).await {
            Ok(true) => {}
            Ok(false) => {
                return problem(
                    StatusCode::FORBIDDEN,
                    format!("agent '{login}' did not take call {attempt}"),
                );
            }
            Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
    match state.store.call_summary(attempt).await {
        Ok(Some(call)) => Json(call).into_response(),
        Ok(None) => problem(StatusCode::NOT_FOUND, format!("no call {attempt}")),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Disposition {
    agent: String,
    disposition: String,
    note: Option<String>,
    promise: Option<PromiseBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromiseBody {
    date: String,
    amount: Option<u64>,
}

async fn disposition(
    State(state): State<ApiState>,
    Path(attempt): Path<i64>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Json(body): Json<Disposition>,
) -> Response {
    if let Some(denied) = state.guard.agent(&headers, peer.ip(), &body.agent) {
        return denied;
    }
    let word = body.disposition.trim();
    if word.is_empty() || word.len() > 64 {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "disposition: a code of 1-64 characters",
        );
    }
    if let Some(p) = &body.promise {
        if chrono::NaiveDate::parse_from_str(&p.date, "%Y-%m-%d").is_err() {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("promise.date: '{}' is not YYYY-MM-DD", p.date),
            );
        }
        if p.amount.is_some_and(|a| a > MAX_PROMISE_AMOUNT) {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("promise.amount: at most {MAX_PROMISE_AMOUNT}"),
            );
        }
    }
    let login = body.agent.to_lowercase();
    let call = match state.store.call_summary(attempt).await {
        Ok(Some(call)) => call,
        Ok(None) => return problem(StatusCode::NOT_FOUND, format!("no call {attempt}")),
        Err(e) => return problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let node = format!("agent:{login}");
    let promise = body.promise.as_ref().map(|p| NewPromise {
        attempt,
        campaign_id: call.campaign_id,
        contact_id: &call.contact_id,
        phone: &call.phone,
        promised_date: &p.date,
        amount: p.amount,
        node: &node,
        at: Utc::now(),
    });
    let recorded = state
        .store
        .record_agent_disposition(
            attempt,
            &login,
            word,
            body.note.as_deref(),
            promise.as_ref(),
            Utc::now(),
        )
        .await;
    match recorded {
        Ok(true) => (
            StatusCode::CREATED,
            Json(serde_json::json!({ "attempt_id": attempt, "disposition": word })),
        )
            .into_response(),
        Ok(false) => problem(
            StatusCode::FORBIDDEN,
            format!("agent '{login}' did not take call {attempt}"),
        ),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Largest promised amount accepted (whole units).
const MAX_PROMISE_AMOUNT: u64 = 1_000_000_000_000;
