//! An outbound call toward a trunk, as a stream of [`LegEvent`]s.
//!
//! rsipstack runs the INVITE transaction (retransmissions, ACK, digest
//! answers to 401/407, CANCEL) and reports dialog states; this module turns
//! those into the few events a call actor decides on, and answers the
//! in-dialog requests a trunk may send mid-call.

use std::net::SocketAddr;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TerminatedReason};
use rsipstack::dialog::invitation::{InviteAsyncResult, InviteOption};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::{Header, StatusCode, StatusCodeKind, Transport as SipTransport, Uri};
use rsipstack::transport::SipAddr;
use tokio::task::JoinHandle;
use tracing::debug;

use super::SipEndpoint;
use crate::config::Transport;

/// Where and how to reach a trunk.
#[derive(Debug, Clone)]
pub struct TrunkTarget {
    pub addr: SocketAddr,
    pub transport: Transport,
    pub credentials: Option<(String, String)>,
    /// E.164 caller ID for From and P-Asserted-Identity.
    pub caller_id: String,
    pub caller_name: Option<String>,
}

/// One INVITE to place.
#[derive(Debug, Clone)]
pub struct InviteRequest {
    /// Chosen by the caller so the attempt row can carry it before sending.
    pub call_id: String,
    /// The user part of the Request-URI: the number as the trunk wants it.
    pub dialed: String,
    pub sdp_offer: String,
}

/// What happened on the call's SIP leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegEvent {
    /// 100 Trying: the trunk has the call.
    Trying,
    /// 180/183. `early_media` when the response carried SDP.
    Ringing { code: u16, early_media: bool },
    /// 200 OK (ACK already sent), with the answer SDP.
    Answered { sdp: Vec<u8> },
    /// A final failure response to the INVITE.
    Failed { code: u16, reason: String },
    /// The INVITE got no final response (transaction timeout).
    NoResponse,
    /// The request could not be sent (connection refused, DNS, ...).
    TransportError(String),
    /// The far end sent BYE.
    RemoteHangup,
    /// A key press in a SIP INFO (already answered 200).
    Dtmf(char),
    /// A 200 OK raced our CANCEL; rsipstack ACKed it and sent BYE.
    AnsweredAfterCancel,
    /// A new offer in the dialog (re-INVITE or UPDATE with SDP: hold,
    /// unhold, a new address), or a re-INVITE without SDP asking for ours
    /// (`sdp` empty). Answer it with [`CallLeg::answer_offer`].
    Reoffer { sdp: Vec<u8> },
}

enum Step {
    State(Option<DialogState>),
    InviteDone(Result<InviteAsyncResult, tokio::task::JoinError>),
}

/// A call in progress on the SIP side.
pub struct CallLeg {
    layer: std::sync::Arc<rsipstack::dialog::dialog_layer::DialogLayer>,
    dialog: InviteDialog,
    states: DialogStateReceiver,
    invite: Option<JoinHandle<InviteAsyncResult>>,
    answered: bool,
    /// CANCEL was sent: a 2xx after it is not an answer.
    cancelled: bool,
    /// A re-INVITE/UPDATE waiting for [`CallLeg::answer_offer`].
    pending_offer: Option<rsipstack::dialog::dialog::TransactionHandle>,
    states_closed: bool,
    ended: bool,
}

/// Any INVITE's destination and identity: a trunk's, or an agent's
/// registered softphone.
#[derive(Debug, Clone)]
pub struct InviteTarget {
    pub request_uri: String,
    /// Where the request is sent (for agents: where their REGISTER came from).
    pub destination: SocketAddr,
    pub transport: Transport,
    /// The From user (a number) and display name.
    pub caller_user: String,
    pub caller_name: Option<String>,
    pub credentials: Option<(String, String)>,
    /// Extra headers (P-Asserted-Identity, X-Contact-Id ...).
    pub headers: Vec<(String, String)>,
}

impl SipEndpoint {
    /// Sends an INVITE toward `trunk`. Returns once the request is handed
    /// to the transaction layer; what follows arrives as [`LegEvent`]s.
    pub fn invite(&self, trunk: &TrunkTarget, request: InviteRequest) -> Result<CallLeg, String> {
        let host = trunk.addr.to_string();
        let local = self.advertised_addr();
        let transport_param = match trunk.transport {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
        };
        let pai = match &trunk.caller_name {
            Some(name) => format!(
                "\"{}\" <sip:{}@{}>",
                name.replace('"', ""),
                trunk.caller_id,
                local.ip()
            ),
            None => format!("<sip:{}@{}>", trunk.caller_id, local.ip()),
        };
        let target = InviteTarget {
            request_uri: format!("sip:{}@{host}{transport_param}", request.dialed),
            destination: trunk.addr,
            transport: trunk.transport,
            caller_user: trunk.caller_id.clone(),
            caller_name: trunk.caller_name.clone(),
            credentials: trunk.credentials.clone(),
            headers: vec![("P-Asserted-Identity".into(), pai)],
        };
        self.invite_target(&target, request.call_id, request.sdp_offer)
    }

    /// Sends an INVITE to any target.
    pub fn invite_target(
        &self,
        target: &InviteTarget,
        call_id: String,
        sdp_offer: String,
    ) -> Result<CallLeg, String> {
        let transport = match target.transport {
            Transport::Udp => SipTransport::Udp,
            Transport::Tcp => SipTransport::Tcp,
        };
        let local = self.advertised_addr();
        let uri = |text: String| {
            Uri::try_from(text.as_str()).map_err(|e| format!("bad SIP URI {text}: {e}"))
        };
        let transport_param = match target.transport {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
        };
        let callee = uri(target.request_uri.clone())?;
        let caller = uri(format!("sip:{}@{}", target.caller_user, local.ip()))?;
        let contact = uri(format!("sip:dialer@{local}{transport_param}"))?;
        let option = InviteOption {
            caller_display_name: target.caller_name.clone(),
            caller,
            callee,
            destination: Some(SipAddr::new(transport, target.destination.into())),
            content_type: Some("application/sdp".into()),
            offer: Some(sdp_offer.into_bytes()),
            contact,
            credential: target
                .credentials
                .as_ref()
                .map(|(username, password)| Credential {
                    username: username.clone(),
                    password: password.clone(),
                    realm: None,
                    auth_username: None,
                }),
            headers: Some(
                target
                    .headers
                    .iter()
                    .map(|(name, value)| Header::Other(name.clone(), value.clone()))
                    .collect(),
            ),
            call_id: Some(call_id),
            ..InviteOption::default()
        };
        let (state_tx, states) = self.dialogs.new_dialog_state_channel();
        let (dialog, invite) = self
            .dialogs
            .do_invite_async(option, state_tx)
            .map_err(|e| e.to_string())?;
        Ok(CallLeg {
            layer: self.dialogs.clone(),
            dialog,
            states,
            invite: Some(invite),
            answered: false,
            cancelled: false,
            pending_offer: None,
            states_closed: false,
            ended: false,
        })
    }
}

impl CallLeg {
    /// The next thing that happened; pending forever once the leg has ended.
    pub async fn next_event(&mut self) -> LegEvent {
        loop {
            if self.ended {
                return std::future::pending().await;
            }
            let invite_pending = self.invite.is_some();
            let step = if self.states_closed {
                match self.invite.as_mut() {
                    Some(invite) => Step::InviteDone(invite.await),
                    None => {
                        self.ended = true;
                        continue;
                    }
                }
            } else {
                let (states, invite) = (&mut self.states, &mut self.invite);
                tokio::select! {
                    biased;
                    state = states.recv() => Step::State(state),
                    result = async { invite.as_mut().expect("guarded by invite_pending").await }, if invite_pending => {
                        Step::InviteDone(result)
                    }
                }
            };
            let event = match step {
                Step::State(None) => {
                    self.states_closed = true;
                    None
                }
                Step::State(Some(state)) => self.on_state(state).await,
                Step::InviteDone(result) => {
                    self.invite = None;
                    self.on_invite_done(result)
                }
            };
            if let Some(event) = event {
                return event;
            }
        }
    }

    async fn on_state(&mut self, state: DialogState) -> Option<LegEvent> {
        match state {
            DialogState::Trying(_) => Some(LegEvent::Trying),
            DialogState::Early(_, resp) if !self.answered => Some(LegEvent::Ringing {
                code: resp.status_code.code(),
                early_media: !resp.body.is_empty(),
            }),
            DialogState::Confirmed(_, resp) if !self.answered => {
                self.answered = true;
                Some(LegEvent::Answered { sdp: resp.body })
            }
            DialogState::Terminated(_, reason) if self.answered => {
                self.ended = true;
                match reason {
                    TerminatedReason::UasBye => Some(LegEvent::RemoteHangup),
                    // Our own BYE/CANCEL, or a timeout after answer: the call
                    // actor already knows.
                    other => {
                        debug!(?other, "answered leg ended");
                        None
                    }
                }
            }
            // In-dialog requests from the trunk. rsipstack waits for our
            // answer on the handle.
            DialogState::Info(_, request, handle) => {
                let content_type = request
                    .headers
                    .iter()
                    .find(|h| h.name().eq_ignore_ascii_case("Content-Type") || h.name() == "c")
                    .map(|h| h.value().to_string());
                match media::dtmf::parse_info(content_type.as_deref(), &request.body) {
                    media::dtmf::InfoDtmf::Key { key, .. } => {
                        handle.reply(StatusCode::OK).await.ok();
                        Some(LegEvent::Dtmf(key))
                    }
                    media::dtmf::InfoDtmf::Unreadable(reason) => {
                        debug!(%reason, "unreadable DTMF INFO");
                        handle.reply(StatusCode::BadRequest).await.ok();
                        None
                    }
                    // Other INFO packages: acknowledged, not acted on.
                    media::dtmf::InfoDtmf::NotDtmf => {
                        handle.reply(StatusCode::OK).await.ok();
                        None
                    }
                }
            }
            DialogState::Options(_, _, handle)
            | DialogState::Notify(_, _, handle)
            | DialogState::Message(_, _, handle) => {
                handle.reply(StatusCode::OK).await.ok();
                None
            }
            DialogState::Updated(_, request, handle) => {
                let is_invite = request.method == rsipstack::sip::Method::Invite;
                if request.body.is_empty() && !is_invite {
                    // A session refresh by UPDATE without SDP: nothing changes.
                    handle.reply(StatusCode::OK).await.ok();
                    return None;
                }
                // An offer to answer: held until the call says what to.
                // Every talk loop answers at once, so an earlier offer still
                // here was left by a moment with nobody to answer it (the
                // call ending); it gets 500 rather than block this one.
                if let Some(earlier) = self.pending_offer.replace(handle) {
                    earlier.reply(StatusCode::ServerInternalError).await.ok();
                }
                Some(LegEvent::Reoffer { sdp: request.body })
            }
            DialogState::Refer(_, _, handle) | DialogState::Publish(_, _, handle) => {
                handle.reply(StatusCode::MethodNotAllowed).await.ok();
                None
            }
            _ => None,
        }
    }

    fn on_invite_done(
        &mut self,
        result: Result<InviteAsyncResult, tokio::task::JoinError>,
    ) -> Option<LegEvent> {
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                self.ended = true;
                return Some(LegEvent::TransportError(format!("INVITE task failed: {e}")));
            }
        };
        match result {
            Ok((_, Some(resp))) if resp.status_code.kind() == StatusCodeKind::Successful => {
                if self.answered {
                    None
                } else if self.cancelled {
                    self.ended = true;
                    Some(LegEvent::AnsweredAfterCancel)
                } else {
                    // The INVITE's result can come before the dialog's
                    // Confirmed state: it is the answer all the same.
                    self.answered = true;
                    Some(LegEvent::Answered { sdp: resp.body })
                }
            }
            Ok((_, Some(resp))) => {
                self.ended = true;
                let reason = resp
                    .wire_reason
                    .clone()
                    .unwrap_or_else(|| resp.status_code.text().to_string());
                Some(LegEvent::Failed {
                    code: resp.status_code.code(),
                    reason,
                })
            }
            Ok((_, None)) => {
                self.ended = true;
                Some(LegEvent::NoResponse)
            }
            Err(e) => {
                self.ended = true;
                Some(LegEvent::TransportError(e.to_string()))
            }
        }
    }

    /// Sends CANCEL for a call that rings too long; the INVITE's 487 follows
    /// as [`LegEvent::Failed`].
    pub async fn cancel(&mut self) -> Result<(), String> {
        self.cancelled = true;
        self.dialog.cancel().await.map_err(|e| e.to_string())
    }

    /// Gives up on an INVITE that got no response at all. rsipstack keeps the
    /// transaction until a response could still arrive and CANCELs (or BYEs
    /// a late 200) on its own.
    pub fn abandon(&mut self) {
        if let Some(invite) = self.invite.take() {
            invite.abort();
        }
        self.ended = true;
    }

    /// Answers the offer of the last [`LegEvent::Reoffer`]: 200 OK with our
    /// SDP, or a refusal (488 Not Acceptable Here: the call goes on as it
    /// was, RFC 3264 §8).
    pub async fn answer_offer(&mut self, answer: Result<String, StatusCode>) {
        let Some(handle) = self.pending_offer.take() else {
            return;
        };
        let sent = match answer {
            Ok(sdp) => {
                handle
                    .respond(
                        StatusCode::OK,
                        Some(vec![Header::ContentType("application/sdp".into())]),
                        Some(sdp.into_bytes()),
                    )
                    .await
            }
            Err(status) => handle.reply(status).await,
        };
        if let Err(e) = sent {
            debug!(error = %e, "answer to a re-INVITE not sent");
        }
    }

    /// Ends an answered call with BYE.
    pub async fn hangup(&mut self) -> Result<(), String> {
        self.ended = true;
        self.dialog.bye().await.map_err(|e| e.to_string())
    }
}

impl Drop for CallLeg {
    fn drop(&mut self) {
        if let Some(invite) = self.invite.take() {
            invite.abort();
        }
        // A finished call must not stay in the dialog table.
        self.layer.remove_dialog(&self.dialog.id());
    }
}
