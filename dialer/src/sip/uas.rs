//! The answering side of a call, for the simulated carrier.
//!
//! A carrier trunk receives INVITEs, may challenge them for digest
//! credentials, rings, answers or rejects, and may hang up. This wraps
//! rsipstack's server transactions and dialogs in those verbs.

use std::sync::Arc;

use rsipstack::dialog::authenticate::verify_digest;
use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TerminatedReason};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::headers::{ProxyAuthenticate, WwwAuthenticate};
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Method, StatusCode, Uri};
use rsipstack::transaction::transaction::Transaction;

use super::SipEndpoint;

/// A new INVITE, before we decide what to do with it.
pub struct IncomingInvite {
    tx: Transaction,
}

/// Which digest challenge a UAS sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// 401 with WWW-Authenticate, answered with Authorization.
    Server,
    /// 407 with Proxy-Authenticate, answered with Proxy-Authorization.
    Proxy,
}

/// Outcome of checking an INVITE's digest credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthCheck {
    /// No Authorization header: challenge it.
    Missing,
    Valid,
    /// Wrong user, stale nonce or wrong response.
    Invalid(String),
}

/// What happened on an answered (or ringing) inbound call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UasEvent {
    /// The caller ACKed our 200: media may flow.
    Acked,
    /// The caller gave up while we rang (CANCEL; we answered 487).
    Cancelled,
    /// The caller sent BYE.
    CallerHangup,
    /// The dialog ended another way (our BYE, a timeout).
    Ended,
}

/// A dialog we are the answering side of.
pub struct InboundCall {
    layer: Arc<DialogLayer>,
    dialog: InviteDialog,
    states: DialogStateReceiver,
    ended: bool,
}

impl From<Transaction> for IncomingInvite {
    fn from(tx: Transaction) -> Self {
        IncomingInvite { tx }
    }
}

impl IncomingInvite {
    /// The user part of the Request-URI: the number being called.
    pub fn dialed(&self) -> String {
        self.tx
            .original
            .uri
            .auth
            .as_ref()
            .map(|a| a.user.clone())
            .unwrap_or_default()
    }

    pub fn call_id(&self) -> String {
        self.tx
            .original
            .call_id_header()
            .map(|h| h.value().to_string())
            .unwrap_or_default()
    }

    /// The SDP offer.
    pub fn body(&self) -> &[u8] {
        &self.tx.original.body
    }

    /// A header's value, for checks of what the caller sent.
    pub fn header(&self, name: &str) -> Option<String> {
        self.tx
            .original
            .headers
            .iter()
            .find(|h| h.name().eq_ignore_ascii_case(name))
            .map(|h| h.value().to_string())
    }

    /// Checks the credentials (the Authorization header, or
    /// Proxy-Authorization when we challenged as a proxy) against
    /// `user`/`password` and the nonce we issued.
    pub fn check_auth(
        &self,
        kind: Challenge,
        user: &str,
        password: &str,
        nonce: &str,
    ) -> AuthCheck {
        let wanted = match kind {
            Challenge::Server => "Authorization",
            Challenge::Proxy => "Proxy-Authorization",
        };
        let Some(raw) = self.header(wanted) else {
            return AuthCheck::Missing;
        };
        let auth = match rsipstack::sip::typed::Authorization::parse(&raw) {
            Ok(auth) => auth,
            Err(e) => return AuthCheck::Invalid(format!("unreadable Authorization: {e}")),
        };
        if auth.username != user {
            return AuthCheck::Invalid(format!("unknown user '{}'", auth.username));
        }
        if auth.nonce != nonce {
            return AuthCheck::Invalid("nonce was not issued for this call".into());
        }
        if !verify_digest(&auth, password, &Method::Invite, &raw) {
            return AuthCheck::Invalid("wrong digest response".into());
        }
        AuthCheck::Valid
    }

    /// Answers 401 (or 407 as a proxy) with a digest challenge.
    pub async fn challenge(mut self, kind: Challenge, realm: &str, nonce: &str) {
        let value =
            format!(r#"Digest realm="{realm}", nonce="{nonce}", algorithm=MD5, qop="auth""#);
        let (status, header) = match kind {
            Challenge::Server => (StatusCode::Unauthorized, WwwAuthenticate::new(value).into()),
            Challenge::Proxy => (
                StatusCode::ProxyAuthenticationRequired,
                ProxyAuthenticate::new(value).into(),
            ),
        };
        if self.tx.reply_with(status, vec![header], None).await.is_ok() {
            // The server transaction absorbs the ACK of the 401.
            while self.tx.receive().await.is_some() {}
        }
    }

    /// Answers with a final failure, no dialog.
    pub async fn refuse(mut self, code: u16) {
        if self.tx.reply(StatusCode::from(code)).await.is_ok() {
            while self.tx.receive().await.is_some() {}
        }
    }

    /// Creates the dialog and starts serving its transaction.
    pub fn into_call(self, endpoint: &SipEndpoint) -> Result<InboundCall, String> {
        let layer = endpoint.dialogs.clone();
        let contact = Uri::try_from(format!("sip:carrier@{}", endpoint.advertised_addr()).as_str())
            .map_err(|e| e.to_string())?;
        let (state_tx, states) = layer.new_dialog_state_channel();
        let dialog = layer
            .get_or_create_server_invite(&self.tx, state_tx, None, Some(contact))
            .map_err(|e| e.to_string())?;
        let mut served = dialog.clone();
        let mut tx = self.tx;
        tokio::spawn(async move {
            served.handle(&mut tx).await.ok();
        });
        Ok(InboundCall {
            layer,
            dialog,
            states,
            ended: false,
        })
    }
}

impl InboundCall {
    /// 180 Ringing.
    pub fn ring(&self) -> Result<(), String> {
        self.dialog.ringing(None, None).map_err(|e| e.to_string())
    }

    /// 200 OK with our SDP answer.
    pub fn answer(&self, sdp: String) -> Result<(), String> {
        let content_type = rsipstack::sip::Header::ContentType("application/sdp".into());
        self.dialog
            .accept(Some(vec![content_type]), Some(sdp.into_bytes()))
            .map_err(|e| e.to_string())
    }

    /// A final failure while ringing.
    pub fn reject(&self, code: u16) -> Result<(), String> {
        self.dialog
            .reject(Some(StatusCode::from(code)), None)
            .map_err(|e| e.to_string())
    }

    /// BYE toward the caller.
    pub async fn hangup(&mut self) -> Result<(), String> {
        self.ended = true;
        self.dialog.bye().await.map_err(|e| e.to_string())
    }

    /// The next event; pending forever after the dialog ended.
    pub async fn next_event(&mut self) -> UasEvent {
        loop {
            if self.ended {
                return std::future::pending().await;
            }
            let Some(state) = self.states.recv().await else {
                self.ended = true;
                return UasEvent::Ended;
            };
            match state {
                DialogState::Confirmed(..) => return UasEvent::Acked,
                DialogState::Terminated(_, reason) => {
                    self.ended = true;
                    return match reason {
                        TerminatedReason::UacCancel => UasEvent::Cancelled,
                        TerminatedReason::UacBye => UasEvent::CallerHangup,
                        _ => UasEvent::Ended,
                    };
                }
                DialogState::Info(_, _, handle)
                | DialogState::Options(_, _, handle)
                | DialogState::Updated(_, _, handle) => {
                    handle.reply(StatusCode::OK).await.ok();
                }
                _ => {}
            }
        }
    }
}

impl Drop for InboundCall {
    fn drop(&mut self) {
        self.layer.remove_dialog(&self.dialog.id());
    }
}
