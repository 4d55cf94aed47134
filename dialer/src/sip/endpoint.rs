//! One SIP endpoint: transports, the transaction layer, and the dispatcher
//! for requests that arrive on their own.
//!
//! Requests inside a known dialog (BYE, INFO, re-INVITE, OPTIONS) go to the
//! dialog. New INVITEs go to the application only when it asked for them
//! (the simulated carrier); the dialer itself refuses them with 403, so
//! nobody can place calls through it. OPTIONS keep-alives get 200.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::{Method, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::{TcpListenerConnection, TransportLayer, udp::UdpConnection};
use rsipstack::{EndpointBuilder, transaction::endpoint::Endpoint};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

/// What to do with a new INVITE that belongs to no dialog.
pub enum InboundPolicy {
    /// 403 Forbidden: the dialer places calls, it does not take them.
    Refuse,
    /// Hand the transaction to the application.
    Deliver(mpsc::UnboundedSender<Transaction>),
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SipError {
    #[error("cannot listen for SIP on {addr} ({transport}): {reason}")]
    Bind {
        addr: SocketAddr,
        transport: &'static str,
        reason: String,
    },
    #[error("SIP stack: {0}")]
    Stack(String),
}

/// A running SIP endpoint (UDP and TCP on one port).
pub struct SipEndpoint {
    pub(super) endpoint: Endpoint,
    pub(crate) dialogs: Arc<DialogLayer>,
    local: SocketAddr,
    advertised: IpAddr,
    cancel: CancellationToken,
}

impl SipEndpoint {
    /// Binds `bind` (port 0 picks one) for UDP and TCP and starts serving.
    /// `advertised` is the address put in Via and Contact.
    pub async fn start(
        bind: SocketAddr,
        advertised: Option<IpAddr>,
        user_agent: &str,
        inbound: InboundPolicy,
    ) -> Result<SipEndpoint, SipError> {
        SipEndpoint::start_with_registrar(bind, advertised, user_agent, inbound, None).await
    }

    /// As [`SipEndpoint::start`], handing REGISTER requests to `registers`
    /// (the agents' registrar) instead of refusing them.
    pub async fn start_with_registrar(
        bind: SocketAddr,
        advertised: Option<IpAddr>,
        user_agent: &str,
        inbound: InboundPolicy,
        registers: Option<mpsc::Sender<Transaction>>,
    ) -> Result<SipEndpoint, SipError> {
        let cancel = CancellationToken::new();
        let advertised = advertised.unwrap_or_else(|| bind.ip());
        let transport_layer = TransportLayer::new(cancel.child_token());
        let bind_error = |transport, e: rsipstack::Error| SipError::Bind {
            addr: bind,
            transport,
            reason: e.to_string(),
        };
        let udp_probe = UdpConnection::create_connection(bind, None, Some(cancel.child_token()))
            .await
            .map_err(|e| bind_error("udp", e))?;
        let port = udp_probe
            .get_addr()
            .addr
            .port
            .map(u16::from)
            .ok_or_else(|| SipError::Stack("UDP socket has no port".into()))?;
        let local = SocketAddr::new(bind.ip(), port);
        let external = (advertised != bind.ip()).then(|| SocketAddr::new(advertised, port));
        // Re-create with the advertised address when it differs from the bind address.
        let udp = match external {
            Some(_) => {
                drop(udp_probe);
                UdpConnection::create_connection(local, external, Some(cancel.child_token()))
                    .await
                    .map_err(|e| bind_error("udp", e))?
            }
            None => udp_probe,
        };
        transport_layer.add_transport(udp.into());
        // rsipstack binds TCP only once serving; try the port now so a
        // clash is reported here, with the address, not lost in a task.
        drop(
            std::net::TcpListener::bind(local).map_err(|e| SipError::Bind {
                addr: local,
                transport: "tcp",
                reason: e.to_string(),
            })?,
        );
        let tcp = TcpListenerConnection::new(local, external)
            .await
            .map_err(|e| bind_error("tcp", e))?;
        transport_layer.add_transport(tcp.into());

        let endpoint = EndpointBuilder::new()
            .with_inspector(Box::new(SourceStamp))
            .with_user_agent(user_agent)
            .with_transport_layer(transport_layer)
            .with_cancel_token(cancel.child_token())
            .build();
        let incoming = endpoint
            .incoming_transactions()
            .map_err(|e| SipError::Stack(e.to_string()))?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let inner = endpoint.inner.clone();
        tokio::spawn(async move {
            if let Err(e) = inner.serve().await {
                warn!(error = %e, "SIP endpoint stopped");
            }
        });
        tokio::spawn(dispatch(dialogs.clone(), incoming, inbound, registers));
        info!(%local, %advertised, "SIP listening on UDP and TCP");
        Ok(SipEndpoint {
            endpoint,
            dialogs,
            local,
            advertised,
            cancel,
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The address peers should reach us at.
    pub fn advertised_addr(&self) -> SocketAddr {
        SocketAddr::new(self.advertised, self.local.port())
    }

    /// Sends an out-of-dialog OPTIONS (a keep-alive) to `uri` at
    /// `destination`; the status code of the answer, or `None` when nothing
    /// came back within the transaction's lifetime.
    pub async fn ping(
        &self,
        uri: &str,
        destination: SocketAddr,
        transport: crate::config::Transport,
    ) -> Result<Option<u16>, String> {
        use rsipstack::sip::SipMessage;
        use rsipstack::transaction::key::{TransactionKey, TransactionRole};
        let sip_transport = match transport {
            crate::config::Transport::Udp => rsipstack::sip::Transport::Udp,
            crate::config::Transport::Tcp => rsipstack::sip::Transport::Tcp,
        };
        let target = rsipstack::sip::Uri::try_from(uri).map_err(|e| e.to_string())?;
        let me = rsipstack::sip::Uri::try_from(
            format!("sip:dialer@{}", self.advertised_addr()).as_str(),
        )
        .map_err(|e| e.to_string())?;
        let inner = &self.endpoint.inner;
        let via = inner.get_via(None, None).map_err(|e| e.to_string())?;
        let from = rsipstack::sip::typed::From {
            display_name: None,
            uri: me,
            params: vec![rsipstack::sip::Param::Tag(rsipstack::sip::uri::Tag::new(
                format!("{:016x}", rand::random::<u64>()),
            ))],
        };
        let to = rsipstack::sip::typed::To {
            display_name: None,
            uri: target.clone(),
            params: vec![],
        };
        let request = inner.make_request(Method::Options, target, via, from, to, 1, None);
        let key = TransactionKey::from_request(&request, TransactionRole::Client)
            .map_err(|e| e.to_string())?;
        let mut tx = Transaction::new_client(key, request, inner.clone(), None);
        tx.destination = Some(rsipstack::transport::SipAddr::new(
            sip_transport,
            destination.into(),
        ));
        tx.send().await.map_err(|e| e.to_string())?;
        while let Some(message) = tx.receive().await {
            if let SipMessage::Response(response) = message {
                let code = response.status_code.code();
                if code >= 200 {
                    return Ok(Some(code));
                }
            }
        }
        Ok(None)
    }

    /// Stops every transport and transaction.
    pub fn shutdown(&self) {
        self.endpoint.shutdown();
        self.cancel.cancel();
    }
}

impl Drop for SipEndpoint {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The header every received request carries with the address it really
/// came from (transport level), written by [`SourceStamp`]. Whatever a
/// sender writes in Via (`received=`) can be forged; this cannot.
pub const SOURCE_HEADER: &str = "X-Dialer-Source";

/// Stamps received requests with [`SOURCE_HEADER`], first removing any
/// copy the sender put there. Responses are built from Via, From, To,
/// Call-ID and CSeq only, so the stamp never leaves the dialer.
struct SourceStamp;

impl rsipstack::transaction::endpoint::MessageInspector for SourceStamp {
    fn before_send(
        &self,
        msg: rsipstack::sip::SipMessage,
        _dest: Option<&rsipstack::transport::SipAddr>,
    ) -> rsipstack::sip::SipMessage {
        msg
    }

    fn after_received(
        &self,
        msg: rsipstack::sip::SipMessage,
        from: Option<&rsipstack::transport::SipAddr>,
    ) -> rsipstack::sip::SipMessage {
        let rsipstack::sip::SipMessage::Request(mut request) = msg else {
            return msg;
        };
        request
            .headers
            .retain(|h| !h.name().eq_ignore_ascii_case(SOURCE_HEADER));
        if let Some(addr) = from.and_then(|f| SocketAddr::try_from(f.addr.clone()).ok()) {
            request.headers.push(rsipstack::sip::Header::Other(
                SOURCE_HEADER.into(),
                addr.to_string(),
            ));
        }
        rsipstack::sip::SipMessage::Request(request)
    }
}

async fn dispatch(
    dialogs: Arc<DialogLayer>,
    mut incoming: rsipstack::transaction::TransactionReceiver,
    inbound: InboundPolicy,
    registers: Option<mpsc::Sender<Transaction>>,
) {
    while let Some(mut tx) = incoming.recv().await {
        let method = tx.original.method;
        if let Some(mut dialog) = dialogs.match_dialog(&tx) {
            tokio::spawn(async move {
                if let Err(e) = dialog.handle(&mut tx).await {
                    debug!(error = %e, %method, "in-dialog request failed");
                }
            });
            continue;
        }
        let has_to_tag = tx
            .original
            .to_header()
            .ok()
            .and_then(|to| to.tag().ok().flatten())
            .is_some();
        let reply = match method {
            Method::Ack => continue,
            Method::Invite if has_to_tag => StatusCode::CallTransactionDoesNotExist,
            Method::Invite => match &inbound {
                InboundPolicy::Deliver(sender) => {
                    if let Err(refused) = sender.send(tx) {
                        let mut tx = refused.0;
                        tokio::spawn(async move {
                            tx.reply(StatusCode::ServiceUnavailable).await.ok();
                        });
                    }
                    continue;
                }
                InboundPolicy::Refuse => StatusCode::Forbidden,
            },
            Method::Register => match &registers {
                Some(registrar) => {
                    // A flood of REGISTERs waits in a bounded queue; beyond
                    // it they get 503 instead of growing memory.
                    if let Err(refused) = registrar.try_send(tx) {
                        let mut tx = match refused {
                            mpsc::error::TrySendError::Full(tx)
                            | mpsc::error::TrySendError::Closed(tx) => tx,
                        };
                        tokio::spawn(async move {
                            tx.reply(StatusCode::ServiceUnavailable).await.ok();
                        });
                    }
                    continue;
                }
                None => StatusCode::MethodNotAllowed,
            },
            Method::Options => StatusCode::OK,
            Method::Bye | Method::Cancel | Method::Info | Method::Update | Method::PRack => {
                StatusCode::CallTransactionDoesNotExist
            }
            _ => StatusCode::MethodNotAllowed,
        };
        tokio::spawn(async move {
            if let Err(e) = tx.reply(reply).await {
                debug!(error = %e, %method, "reply to out-of-dialog request failed");
            }
        });
    }
}

use rsipstack::sip::prelude::HeadersExt as _;
