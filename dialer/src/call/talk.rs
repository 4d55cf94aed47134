//! An answered call as the talk loops (message, flow, transfer, bridge)
//! see it: the debtor's SIP leg and media, the record being built, and the
//! debtor's side reduced to what those loops decide on ([`Input`]).
//!
//! Key presses come from RFC 4733 events in the media, from SIP INFO and
//! from tones in the audio (in-band), each counted only when the trunk is
//! expected to send that way (its `dtmf` setting); a press that arrives
//! several ways counts once.

use std::net::SocketAddr;

use media::Codec;
use media::dtmf::{DtmfSource, KeyMerger};
use media::rtp::{MediaEvent, MediaSession};
use tokio::time::Instant;
use tracing::warn;

use super::{CallContext, Record, log_store};
use crate::campaign::HangupBy;
use crate::sip::LegEvent;

/// How long the dialer waits after its last audio before it hangs up (see
/// [`Talk::play_out`]): more than a far end's jitter buffer holds.
pub const PLAY_OUT: std::time::Duration = std::time::Duration::from_millis(300);

/// What the debtor's side did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Input {
    /// A new key press (record it with [`Talk::digit`]).
    Key(char),
    /// The debtor hung up (BYE).
    Hangup,
    /// The playback with this id reached its end.
    PlaybackFinished(u64),
    /// The far end sent no RTP for the trunk's `rtp_timeout_s`: the line is
    /// dead, end the call (the attempt becomes `media_timeout`).
    Lost,
}

pub(super) struct Talk<'a> {
    pub ctx: &'a CallContext,
    pub leg: &'a mut crate::sip::CallLeg,
    pub media: &'a mut MediaSession,
    pub record: &'a mut Record,
    pub codec: Codec,
    pub remote: SocketAddr,
    /// The first stranger that sent RTP, if any.
    pub foreign: Option<SocketAddr>,
    pub max_deadline: Instant,
    pub keys: KeyMerger,
    /// Set when the far end went silent ([`Input::Lost`]).
    pub lost: Option<std::time::Duration>,
    /// Hold, unhold and moves the far end asks for by re-INVITE.
    pub offers: super::reoffer::Offers,
}

impl Talk<'_> {
    /// The next thing the debtor's side did. Cancel-safe: it can be one
    /// branch of a `select!`.
    pub async fn next_input(&mut self) -> Input {
        loop {
            tokio::select! {
                event = self.leg.next_event() => match event {
                    LegEvent::RemoteHangup => return Input::Hangup,
                    LegEvent::Dtmf(key) if self.accept(key, DtmfSource::Info) => {
                        return Input::Key(key);
                    }
                    LegEvent::Reoffer { sdp } => {
                        self.offers.answer(self.leg, self.media, &sdp, Instant::now()).await;
                    }
                    _ => {}
                },
                event = self.media.event() => match event {
                    MediaEvent::Digit(key) if self.accept(key, DtmfSource::Rfc4733) => {
                        return Input::Key(key);
                    }
                    MediaEvent::InbandDigit(key) if self.accept(key, DtmfSource::InBand) => {
                        return Input::Key(key);
                    }
                    MediaEvent::Digit(_) | MediaEvent::InbandDigit(_) => {}
                    MediaEvent::PlaybackFinished(id) => return Input::PlaybackFinished(id),
                    MediaEvent::Silent(limit) => {
                        self.lost = Some(limit);
                        return Input::Lost;
                    }
                    MediaEvent::ForeignSource(addr) => self.stranger(addr),
                },
            }
        }
    }

    /// Waits while the far end plays out what we sent last, before we hang
    /// up: its jitter buffer holds some tens of milliseconds of our audio,
    /// and a BYE right after a message's last packet cuts its last word
    /// off. Says who ended the call (the debtor may hang up meanwhile).
    pub async fn play_out(&mut self) -> HangupBy {
        let until = Instant::now() + PLAY_OUT;
        loop {
            tokio::select! {
                input = self.next_input() => match input {
                    Input::Hangup => return HangupBy::Callee,
                    Input::Lost => return HangupBy::Dialer,
                    Input::Key(key) => self.digit(key).await,
                    Input::PlaybackFinished(_) => {}
                },
                _ = tokio::time::sleep_until(until) => return HangupBy::Dialer,
            }
        }
    }

    /// Whether a key heard from `source` is a new press to act on.
    fn accept(&mut self, key: char, source: DtmfSource) -> bool {
        self.ctx.dtmf.contains(&source) && self.keys.handle(Instant::now().into_std(), key, source)
    }

    /// Notes a key press the moment it is heard.
    pub async fn digit(&mut self, key: char) {
        self.record.digits.push(key);
        log_store(self.ctx.store.add_digit(self.record.attempt, key).await);
    }

    pub fn stranger(&mut self, addr: SocketAddr) {
        warn!(%addr, expected = %self.remote, "RTP from an unexpected source ignored");
        self.foreign = Some(addr);
    }
}
