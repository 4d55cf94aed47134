//! The agent's leg of a transferred call: the INVITE to the agent's
//! softphone, and the bridge once they answer.
//!
//! The agent leg is a call of its own (Call-ID, RTP port, codec), placed by
//! the dialer acting as a B2BUA: the softphone sees the debtor's number and
//! name as the caller, and their data in `X-` headers for softphones and
//! CRMs that can show them. Media stays anchored in the dialer: each leg
//! keeps its socket, the two are joined by `MediaSession::bridge` (PCMU and
//! PCMA transcoded as needed), and the debtor's key presses are passed on
//! to the agent as RFC 4733 events.

use std::time::Duration;

use media::Codec;
use media::rtp::PortPair;
use media::rtp::{MediaSession, RtpSession, SessionConfig};
use media::sdp::{DEFAULT_DTMF_PAYLOAD_TYPE, LocalAudio};
use tokio::time::{Instant, sleep_until};

use super::Talk;
use super::talk::Input;
use crate::acd::OfferFailure;
use crate::campaign::{Contact, HangupBy};
use crate::sip::registrar::Binding;
use crate::sip::{CallLeg, InviteTarget, LegEvent};

/// One of the agent's softphones, ringing.
struct Phone {
    leg: CallLeg,
    socket: PortPair,
    local: LocalAudio,
}

/// An agent's softphones, all ringing at once: the first to answer takes
/// the call and the others are cancelled.
pub(super) struct AgentLeg {
    pub login: String,
    phones: Vec<Phone>,
    /// Why the softphones that gave up did (what the offer failed with,
    /// once none is left).
    failures: Vec<(OfferFailure, String)>,
    pub deadline: Instant,
    pub ring_timeout: Duration,
}

/// What the agent's leg did.
pub(super) enum AgentOutcome {
    Pending,
    Failed(OfferFailure, String),
    /// This softphone answered, with this SDP.
    Answered(usize, Vec<u8>),
}

/// Headers carry one line of text; a name with a line break must not
/// become a header of its own.
fn header_text(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A display name goes between quotes in From: no quotes or backslashes
/// of its own, or the softphone gets a header it cannot read (and the
/// agent would be paused for a debtor's name).
fn display_name(value: &str) -> String {
    header_text(value).replace(['"', '\\'], "")
}

/// INVITEs every registered softphone of the agent.
pub(super) fn ring_agent(
    t: &Talk<'_>,
    contact: &Contact,
    login: &str,
    name: &str,
    contacts: &[Binding],
    ring_timeout: Duration,
) -> Result<AgentLeg, String> {
    let ctx = t.ctx;
    if contacts.is_empty() {
        return Err("no softphone registered".into());
    }
    let mut headers = vec![
        ("X-Attempt-Id".to_owned(), t.record.attempt.to_string()),
        ("X-Campaign-Id".to_owned(), ctx.campaign_id.to_string()),
        ("X-Contact-Id".to_owned(), header_text(&contact.id)),
        ("X-Debtor-Name".to_owned(), header_text(&contact.name)),
        ("X-Debtor-Balance".to_owned(), header_text(&contact.balance)),
        (
            "X-Debtor-Due-Date".to_owned(),
            header_text(&contact.due_date),
        ),
        ("X-Agent".to_owned(), login.to_owned()),
    ];
    if let Some(api) = ctx.acd.as_ref().and_then(|a| a.api_base.as_ref()) {
        headers.push((
            "Call-Info".to_owned(),
            format!(
                "<{api}/calls/{}?agent={login}>;purpose=info",
                t.record.attempt
            ),
        ));
    }
    let mut phones = Vec::new();
    let mut problems = Vec::new();
    for binding in contacts {
        let phone = (|| -> Result<Phone, String> {
            let socket = ctx.ports.bind().map_err(|e| format!("no RTP port: {e}"))?;
            let port = socket.port();
            let local = LocalAudio {
                ip: ctx.ports.ip(),
                port,
                // G.711 first (no transcoding state, as the trunks speak);
                // G.722 for a softphone that takes nothing else.
                codecs: Codec::ALL.to_vec(),
                dtmf_payload_type: DEFAULT_DTMF_PAYLOAD_TYPE,
                session_id: rand::random::<u32>().into(),
            };
            let target = InviteTarget {
                request_uri: binding.contact.clone(),
                destination: binding.source,
                transport: binding.transport,
                caller_user: contact.phone.clone(),
                caller_name: Some(display_name(&contact.name)),
                credentials: None,
                headers: headers.clone(),
            };
            let call_id = format!("{:032x}@dialer", rand::random::<u128>());
            tracing::info!(agent = %login, %name, contact = %binding.contact, to = %binding.source, "ringing agent");
            let leg = ctx.sip.invite_target(&target, call_id, local.offer())?;
            Ok(Phone { leg, socket, local })
        })();
        match phone {
            Ok(phone) => phones.push(phone),
            Err(e) => problems.push(format!("{}: {e}", binding.contact)),
        }
    }
    if phones.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(AgentLeg {
        login: login.to_owned(),
        phones,
        failures: Vec::new(),
        deadline: Instant::now() + ring_timeout,
        ring_timeout,
    })
}

impl AgentLeg {
    /// The next thing one of the softphones did, and which one.
    pub(super) async fn next_event(&mut self) -> (usize, LegEvent) {
        let events = self.phones.iter_mut().map(|p| Box::pin(p.leg.next_event()));
        let (event, index, _) = futures::future::select_all(events).await;
        (index, event)
    }

    pub(super) fn on_event(&mut self, index: usize, event: LegEvent) -> AgentOutcome {
        let login = &self.login;
        let failure = match event {
            LegEvent::Trying
            | LegEvent::Ringing { .. }
            | LegEvent::RemoteHangup
            | LegEvent::Dtmf(_)
            | LegEvent::Reoffer { .. } => return AgentOutcome::Pending,
            LegEvent::Answered { sdp } => return AgentOutcome::Answered(index, sdp),
            LegEvent::Failed { code, reason } => {
                let why = match code {
                    403 | 486 | 600 | 603 => OfferFailure::Rejected,
                    _ => OfferFailure::NoAnswer,
                };
                (why, format!("agent {login} answered {code} {reason}"))
            }
            LegEvent::NoResponse => (
                OfferFailure::Unreachable,
                format!("agent {login}'s softphone did not respond"),
            ),
            LegEvent::TransportError(e) => (
                OfferFailure::Unreachable,
                format!("agent {login}'s softphone unreachable: {e}"),
            ),
            LegEvent::AnsweredAfterCancel => (
                OfferFailure::NoAnswer,
                format!("agent {login} answered after the offer was withdrawn"),
            ),
        };
        self.phones.remove(index);
        self.failures.push(failure);
        if !self.phones.is_empty() {
            return AgentOutcome::Pending;
        }
        // Every softphone gave up: a decline anywhere is the agent declining.
        let why = [
            OfferFailure::Rejected,
            OfferFailure::NoAnswer,
            OfferFailure::Unreachable,
        ]
        .into_iter()
        .find(|w| self.failures.iter().any(|(f, _)| f == w))
        .unwrap_or(OfferFailure::Unreachable);
        let notes: Vec<String> = self.failures.drain(..).map(|(_, note)| note).collect();
        AgentOutcome::Failed(why, notes.join("; "))
    }

    /// Withdraws the offer (CANCEL to every softphone) in the background:
    /// a softphone gone silent must not hold up the debtor's call.
    pub(super) fn cancel(self) {
        let login = self.login;
        for mut phone in self.phones {
            let login = login.clone();
            tokio::spawn(async move {
                if let Err(e) = phone.leg.cancel().await {
                    tracing::debug!(error = %e, agent = %login, "CANCEL to agent failed");
                }
                let _ = tokio::time::timeout(Duration::from_secs(5), phone.leg.next_event()).await;
            });
        }
    }

    /// Softphone `index` answered: cancel the others, start its media and
    /// bridge it to the debtor's.
    pub(super) fn connect(
        mut self,
        index: usize,
        t: &mut Talk<'_>,
        sdp: &[u8],
    ) -> Result<Bridge, String> {
        let phone = self.phones.remove(index);
        let login = self.login.clone();
        self.cancel();
        let agreed = match phone.local.accept_answer(sdp) {
            Ok(agreed) => agreed,
            Err(e) => {
                let mut leg = phone.leg;
                tokio::spawn(async move {
                    leg.hangup().await.ok();
                });
                return Err(format!("agent {login}'s answer is unusable: {e}; hung up"));
            }
        };
        let session = RtpSession::new(SessionConfig {
            codec: agreed.codec,
            dtmf_payload_type: agreed.dtmf_payload_type,
            offered_dtmf_payload_type: Some(phone.local.dtmf_payload_type),
            remote_ip: agreed.remote.ip(),
            record_limit: None,
            ssrc: rand::random(),
            inband_dtmf: false,
            ptime_ms: agreed.ptime_ms,
        });
        let media = MediaSession::start_pair(phone.socket, agreed.remote, session);
        let offers = super::reoffer::Offers::new(&phone.local, &agreed, &media, Instant::now());
        t.media.stop_playback();
        MediaSession::bridge(t.media, &media);
        tracing::info!(agent = %login, codec = agreed.codec.name(), debtor_codec = t.codec.name(), "bridged");
        Ok(Bridge {
            login,
            leg: phone.leg,
            media,
            offers,
        })
    }
}

/// Debtor and agent talking.
pub(super) struct Bridge {
    pub login: String,
    leg: CallLeg,
    media: MediaSession,
    /// The agent's softphone may hold (its hold key) and unhold.
    offers: super::reoffer::Offers,
}

impl Bridge {
    /// Runs until either side hangs up (or the limit, or the operator's
    /// stop); the other side gets BYE from the caller of this function
    /// (the debtor) or from here (the agent). Says who ended the call and
    /// whether it was the agent.
    pub(super) async fn talk(mut self, t: &mut Talk<'_>, limit: Duration) -> (HangupBy, bool) {
        let deadline = Instant::now() + limit;
        let stop = t.ctx.stop.clone();
        let result = loop {
            tokio::select! {
                input = t.next_input() => match input {
                    Input::Hangup => break (HangupBy::Callee, false),
                    // The debtor's line went dead: both legs end.
                    Input::Lost => break (HangupBy::Dialer, false),
                    Input::Key(key) => {
                        t.digit(key).await;
                        self.media.press(key, 100);
                    }
                    Input::PlaybackFinished(_) => {}
                },
                event = self.leg.next_event() => match event {
                    LegEvent::RemoteHangup => {
                        t.record.notes.push(format!("agent {} hung up", self.login));
                        break (HangupBy::Dialer, true);
                    }
                    LegEvent::Reoffer { sdp } => {
                        self.offers.answer(&mut self.leg, &self.media, &sdp, Instant::now()).await;
                    }
                    _ => {}
                },
                _ = self.media.event() => {}
                _ = sleep_until(deadline) => {
                    t.record.notes.push(format!("agent talk reached {:.0} s; hung up", limit.as_secs_f64()));
                    break (HangupBy::Dialer, false);
                }
                _ = stop.cancelled() => {
                    t.record.notes.push("stopped by the operator while talking to an agent".into());
                    break (HangupBy::Dialer, false);
                }
            }
        };
        let login = &self.login;
        t.record.notes.extend(
            self.offers
                .notes(Instant::now())
                .into_iter()
                .map(|n| format!("agent {login}'s softphone: {n}")),
        );
        t.media.disconnect();
        if !result.1
            && let Err(e) = self.leg.hangup().await
        {
            t.record.notes.push(format!("BYE to agent failed: {e}"));
        }
        let report = self.media.finish().await;
        if let Some(e) = report.first_send_error {
            t.record.notes.push(format!(
                "{} RTP sends to the agent failed: {e}",
                report.send_errors
            ));
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_break_the_headers_they_go_in() {
        assert_eq!(display_name("José \"Pepe\" Muñoz"), "José Pepe Muñoz");
        assert_eq!(display_name("a\\b\r\nVia: x"), "ab  Via: x");
        assert_eq!(header_text("Calle 5\r\nX-Evil: 1"), "Calle 5  X-Evil: 1");
        assert_eq!(header_text("María \"Pepa\""), "María \"Pepa\"");
    }
}
