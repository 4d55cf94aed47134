//! New offers in an answered call (re-INVITE or UPDATE with SDP, RFC 3264
//! §8): the far end puts the call on hold (`a=sendonly`, `a=inactive` or
//! the old `c=0.0.0.0`), takes it back, or moves its audio.
//!
//! The answer mirrors the offer's direction and keeps the call's codec; an
//! offer without it is refused with 488 and the call goes on as it was.
//! While held, nothing is sent and the message waits where it was, so the
//! debtor hears all of it once back; the far end's silence is not counted
//! against `rtp_timeout_s`. A re-INVITE without SDP gets our current SDP as
//! its offer.

use std::net::SocketAddr;
use std::time::Duration;

use media::Codec;
use media::rtp::MediaSession;
use media::sdp::{Direction, LocalAudio, NegotiatedAudio};
use rsipstack::sip::StatusCode;
use tokio::time::Instant;
use tracing::info;

use crate::sip::CallLeg;

/// One leg's side of the offer/answer after the call's first answer.
pub(super) struct Offers {
    local: LocalAudio,
    codec: Codec,
    /// The telephone-event payload type in use, for an offer of ours.
    dtmf: u8,
    /// Our last SDP's `o=` version (the INVITE's offer was 1).
    version: u64,
    remote: SocketAddr,
    held_since: Option<Instant>,
    held_for: Duration,
    holds: u32,
    moves: Vec<SocketAddr>,
    refused: Vec<String>,
}

impl Offers {
    /// After the first answer, `agreed`. An answer that already holds the
    /// call (it only sends, or is inactive) starts it held.
    pub fn new(
        local: &LocalAudio,
        agreed: &NegotiatedAudio,
        media: &MediaSession,
        now: Instant,
    ) -> Offers {
        let mut offers = Offers {
            local: local.clone(),
            codec: agreed.codec,
            dtmf: agreed.dtmf_payload_type.unwrap_or(local.dtmf_payload_type),
            version: 1,
            remote: agreed.remote,
            held_since: None,
            held_for: Duration::ZERO,
            holds: 0,
            moves: Vec::new(),
            refused: Vec::new(),
        };
        if !agreed.wants_our_audio() {
            offers.set_held(true, media, now);
        }
        offers
    }

    /// Answers the offer of a [`crate::sip::LegEvent::Reoffer`] on `leg` and
    /// makes `media` follow it.
    pub async fn answer(
        &mut self,
        leg: &mut CallLeg,
        media: &MediaSession,
        offer: &[u8],
        now: Instant,
    ) {
        if offer.is_empty() {
            // A re-INVITE asking for our offer: the SDP we have.
            self.version += 1;
            let direction = if self.held_since.is_some() {
                Direction::RecvOnly
            } else {
                Direction::SendRecv
            };
            let sdp =
                self.local
                    .to_sdp_directed(&[self.codec], Some(self.dtmf), self.version, direction);
            leg.answer_offer(Ok(sdp)).await;
            return;
        }
        match self
            .local
            .answer_reoffer(offer, self.codec, self.version + 1)
        {
            Ok((agreed, sdp)) => {
                self.version += 1;
                if !agreed.remote.ip().is_unspecified() && agreed.remote != self.remote {
                    info!(from = %self.remote, to = %agreed.remote, "far end moved its audio");
                    self.remote = agreed.remote;
                    self.moves.push(agreed.remote);
                    media.retarget(agreed.remote);
                }
                self.set_held(!agreed.wants_our_audio(), media, now);
                leg.answer_offer(Ok(sdp)).await;
            }
            Err(e) => {
                self.refused.push(e.to_string());
                leg.answer_offer(Err(StatusCode::NotAcceptableHere)).await;
            }
        }
    }

    fn set_held(&mut self, held: bool, media: &MediaSession, now: Instant) {
        match (held, self.held_since) {
            (true, None) => {
                self.holds += 1;
                self.held_since = Some(now);
                media.hold(true);
            }
            (false, Some(since)) => {
                self.held_for += now - since;
                self.held_since = None;
                media.hold(false);
            }
            _ => {}
        }
    }

    /// What happened, for the attempt's note (nothing if nothing did).
    pub fn notes(&self, now: Instant) -> Vec<String> {
        let mut notes = Vec::new();
        if self.holds > 0 {
            let held = self.held_for + self.held_since.map_or(Duration::ZERO, |s| now - s);
            notes.push(format!(
                "put on hold by the far end {} time(s), {:.1} s in all (the audio waited)",
                self.holds,
                held.as_secs_f64()
            ));
        }
        if let Some(last) = self.moves.last() {
            notes.push(format!("the far end moved its audio to {last} (re-INVITE)"));
        }
        for reason in &self.refused {
            notes.push(format!("a re-INVITE refused with 488: {reason}"));
        }
        notes
    }
}
