//! RTP for one call: packet state (sans-IO), the tokio driver, and ports.
//!
//! [`RtpSession`] decides what goes in each 20 ms packet and what a received
//! datagram means (audio, a key press, a stranger's packet). [`JitterBuffer`]
//! turns the far end's packets, as they arrive, into a steady 20 ms of audio
//! per tick. [`driver`] owns the UDP socket and the clock and runs one
//! session per call until the call ends. [`PortPool`] hands out the even
//! local ports SDP advertises.

pub mod driver;
mod jitter;
mod ports;
mod session;

pub use driver::{MediaCommand, MediaEvent, MediaReport, MediaSession};
pub use jitter::{
    Arrival, Frame, FrameKind, JitterBuffer, JitterConfig, JitterConfigError, JitterStats,
    MAX_DELAY_LIMIT, PacketHeader,
};
pub use ports::PortPool;
pub use session::{Received, RtpSession, RtpStats, SessionConfig};
