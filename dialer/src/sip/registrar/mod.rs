//! The registrar agents' softphones REGISTER to: the SIP side.
//!
//! [`table`] decides (credentials, bindings, lockouts) without IO; this
//! module reads a REGISTER transaction into a [`RegisterRequest`] (where it
//! really came from, who it claims to be, its digest answer and contacts)
//! and sends the decided reply.

mod table;

use std::net::SocketAddr;

use rsipstack::dialog::authenticate::verify_digest;
use rsipstack::sip::headers::auth::AuthQop;
use rsipstack::sip::headers::typed::{Authorization, Contact, Via};
use rsipstack::sip::prelude::{HeadersExt, ToTypedHeader};
use rsipstack::sip::uri::Param;
use rsipstack::sip::{Header, Method, StatusCode, Transport as SipTransport};
use rsipstack::transaction::transaction::Transaction;

pub use table::{
    Binding, ContactChange, DigestAnswer, RegisterReply, RegisterRequest, Registrar,
    RegistrarEvent, RegistrarPolicy,
};

use crate::config::Transport;

/// A REGISTER that arrived, read into owned parts.
pub struct IncomingRegister {
    tx: Transaction,
    pub source: SocketAddr,
    pub transport: Transport,
    pub user: String,
    auth: Option<(Authorization, String)>,
    pub contacts: Vec<ContactChange>,
    pub expires_header: Option<u32>,
    pub user_agent: Option<String>,
}

impl IncomingRegister {
    /// Reads the parts the registrar decides on. A REGISTER we cannot make
    /// sense of is answered 400 (in the background) and `None` comes back.
    pub fn read(mut tx: Transaction) -> Option<IncomingRegister> {
        match parse(&tx.original) {
            Ok(parts) => Some(IncomingRegister {
                tx,
                source: parts.source,
                transport: parts.transport,
                user: parts.user,
                auth: parts.auth,
                contacts: parts.contacts,
                expires_header: parts.expires_header,
                user_agent: parts.user_agent,
            }),
            Err(reason) => {
                tracing::debug!(%reason, "unreadable REGISTER");
                tokio::spawn(async move {
                    let warning = format!("399 dialer \"{}\"", reason.replace('"', "'"));
                    tx.reply_with(
                        StatusCode::BadRequest,
                        vec![Header::Other("Warning".into(), warning)],
                        None,
                    )
                    .await
                    .ok();
                });
                None
            }
        }
    }

    /// Asks the registrar; returns what it decided, and the sending of the
    /// answer to run apart (a peer that stops reading must not hold up the
    /// registrar's owner).
    pub fn answer(
        mut self,
        registrar: &mut Registrar,
        now: std::time::Instant,
    ) -> (
        RegisterReply,
        impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let reply = {
            let verify = |password: &str| match &self.auth {
                Some((auth, raw)) => verify_digest(auth, password, &Method::Register, raw),
                None => false,
            };
            let request = RegisterRequest {
                source: self.source,
                transport: self.transport,
                user: &self.user,
                auth: self.auth.as_ref().map(|(auth, _)| DigestAnswer {
                    username: &auth.username,
                    realm: &auth.realm,
                    nonce: &auth.nonce,
                    nc: match &auth.qop {
                        Some(AuthQop::Auth { nc, .. } | AuthQop::AuthInt { nc, .. }) => {
                            Some(u32::from(*nc))
                        }
                        None => None,
                    },
                    verify: &verify,
                }),
                contacts: self.contacts.clone(),
                expires_header: self.expires_header,
                user_agent: self.user_agent.as_deref(),
            };
            let nonce = format!("{:032x}", rand::random::<u128>());
            registrar.handle_register(now, &request, nonce)
        };
        let realm = registrar.realm().to_owned();
        let (status, headers) = reply_headers(&reply, &realm);
        let send = async move {
            if let Err(e) = self.tx.reply_with(status, headers, None).await {
                tracing::debug!(error = %e, "could not answer REGISTER");
            }
        };
        (reply, send)
    }
}

fn reply_headers(reply: &RegisterReply, realm: &str) -> (StatusCode, Vec<Header>) {
    match reply {
        RegisterReply::Challenge { nonce, stale } => {
            let stale = if *stale { ", stale=true" } else { "" };
            let value = format!(
                r#"Digest realm="{realm}", nonce="{nonce}", algorithm=MD5, qop="auth"{stale}"#
            );
            (
                StatusCode::Unauthorized,
                vec![rsipstack::sip::headers::WwwAuthenticate::new(value).into()],
            )
        }
        RegisterReply::Forbidden { .. } => (StatusCode::Forbidden, vec![]),
        RegisterReply::IntervalTooBrief { min_expires } => (
            StatusCode::IntervalTooBrief,
            vec![Header::Other("Min-Expires".into(), min_expires.to_string())],
        ),
        RegisterReply::BadRequest(reason) => (
            StatusCode::BadRequest,
            vec![Header::Other(
                "Warning".into(),
                format!("399 dialer \"{reason}\""),
            )],
        ),
        RegisterReply::Ok { contacts } => {
            let mut headers: Vec<Header> = contacts
                .iter()
                .map(|(uri, left)| {
                    Header::Other("Contact".into(), format!("<{uri}>;expires={left}"))
                })
                .collect();
            headers.push(Header::Other(
                "Date".into(),
                chrono::Utc::now()
                    .format("%a, %d %b %Y %H:%M:%S GMT")
                    .to_string(),
            ));
            (StatusCode::OK, headers)
        }
    }
}

struct Parts {
    source: SocketAddr,
    transport: Transport,
    user: String,
    auth: Option<(Authorization, String)>,
    contacts: Vec<ContactChange>,
    expires_header: Option<u32>,
    user_agent: Option<String>,
}

fn parse(request: &rsipstack::sip::Request) -> Result<Parts, String> {
    let via: Via = request
        .via_header()
        .map_err(|e| format!("Via: {e}"))?
        .typed()
        .map_err(|e| format!("Via: {e}"))?;
    let transport = match via.transport {
        SipTransport::Udp => Transport::Udp,
        SipTransport::Tcp => Transport::Tcp,
        other => return Err(format!("transport {other} is not supported for agents")),
    };
    // Where it really came from: the transport's stamp; the Via only when
    // there is none (a request built in-process).
    let source = match request.headers.iter().find(|h| {
        h.name()
            .eq_ignore_ascii_case(super::endpoint::SOURCE_HEADER)
    }) {
        Some(stamp) => stamp
            .value()
            .parse()
            .map_err(|_| format!("unreadable source stamp '{}'", stamp.value()))?,
        None => source_of(&via)?,
    };
    let to = request.to_header().map_err(|e| format!("To: {e}"))?;
    let to_uri = to.uri().map_err(|e| format!("To: {e}"))?;
    let user = to_uri
        .auth
        .as_ref()
        .map(|a| a.user.clone())
        .filter(|u| !u.is_empty())
        .ok_or("To has no user part (the agent's login)")?;
    let auth = request
        .headers
        .iter()
        .find(|h| h.name().eq_ignore_ascii_case("Authorization"))
        .map(|h| {
            let raw = h.value().to_string();
            Authorization::parse(&raw)
                .map(|auth| (auth, raw))
                .map_err(|e| format!("Authorization: {e}"))
        })
        .transpose()?;
    let mut contacts = Vec::new();
    for header in request
        .headers
        .iter()
        .filter(|h| h.name().eq_ignore_ascii_case("Contact") || h.name() == "m")
    {
        for contact in
            Contact::parse_header_list(header.value()).map_err(|e| format!("Contact: {e}"))?
        {
            if contact.to_string() == "*" {
                contacts.push(ContactChange::RemoveAll);
            } else {
                let expires = contact.expires();
                let mut uri = contact.uri.clone();
                uri.params.retain(|p| !matches!(p, Param::Expires(_)));
                contacts.push(ContactChange::Set {
                    contact: uri.to_string(),
                    expires,
                });
            }
        }
    }
    let expires_header = request
        .expires_header()
        .map(|e| {
            e.value()
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("Expires: '{}' is not a number of seconds", e.value()))
        })
        .transpose()?;
    let user_agent = request.user_agent_header().map(|h| h.value().to_string());
    Ok(Parts {
        source,
        transport,
        user,
        auth,
        contacts,
        expires_header,
        user_agent,
    })
}

/// Where the request really came from: the transport layer writes the
/// packet's source into the top Via as `received`/`rport` when it differs
/// from what the softphone wrote there.
fn source_of(via: &Via) -> Result<SocketAddr, String> {
    let sent_by = via.sent_by();
    let ip = match via.received() {
        Some(Ok(ip)) => ip,
        _ => match &sent_by.host {
            rsipstack::sip::uri::Host::IpAddr(ip) => *ip,
            rsipstack::sip::uri::Host::Domain(d) => {
                return Err(format!("Via sent-by '{d}' is a name, not an address"));
            }
        },
    };
    let rport = via.params.iter().find_map(|p| match p {
        Param::Rport(Some(port)) => Some(*port),
        _ => None,
    });
    let port = rport
        .or_else(|| sent_by.port.as_ref().map(|p| u16::from(*p)))
        .unwrap_or(5060);
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn via(text: &str) -> Via {
        Via::parse(text).unwrap()
    }

    #[test]
    fn calls_go_where_the_register_really_came_from() {
        // Behind NAT: the softphone wrote its private address; the transport
        // layer added where the packet came from.
        let natted =
            via("SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK1;received=203.0.113.7;rport=40000");
        assert_eq!(
            source_of(&natted).unwrap(),
            "203.0.113.7:40000".parse().unwrap()
        );
        let direct = via("SIP/2.0/UDP 192.0.2.1:5080;branch=z9hG4bK2;rport=5080");
        assert_eq!(
            source_of(&direct).unwrap(),
            "192.0.2.1:5080".parse().unwrap()
        );
        let no_port = via("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK3");
        assert_eq!(
            source_of(&no_port).unwrap(),
            "192.0.2.1:5060".parse().unwrap()
        );
        assert!(source_of(&via("SIP/2.0/UDP phone.example;branch=z9hG4bK4")).is_err());
    }
}
