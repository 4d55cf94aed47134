//! Audio for the dialer: everything that touches samples or RTP packets.
//!
//! The dialer crate decides *what* a call should hear and when; this crate
//! knows *how*: G.711 coding, prompt loading and resampling to 8 kHz, the SDP
//! offer/answer for an audio stream, RTP packetization and the RFC 4733
//! telephone-event path that turns key presses into digits. It knows nothing
//! of campaigns, SIP dialogs or the store.
//!
//! Decision logic (`rtp::RtpSession`, `dtmf::DigitCollector`,
//! `dtmf::InbandDetector`) is sans-IO: it is fed datagrams, samples and
//! instants and returns what happened. The tokio driver in `rtp::driver`
//! owns the socket and the 20 ms clock.

// Drivers read the clock; the pure cores below deny it (clippy.toml).
#![allow(clippy::disallowed_methods)]

pub mod amd;
pub mod codec;
pub mod dtmf;
pub mod prompt;
pub mod record;
pub mod rtp;
pub mod say;
pub mod sdp;
pub mod tts;

pub use codec::Codec;
