//! RTP for calls: packet state (sans-IO), the media threads, a call's handle, ports.
//!
//! [`RtpSession`] decides what goes in each 20 ms packet and what a received
//! datagram means (audio, a key press, a stranger's packet). [`JitterBuffer`]
//! turns the far end's packets, as they arrive, into a steady 20 ms of audio
//! per tick. [`engine`] runs every call's session on a few media threads,
//! each owning the sockets of its calls and sending on a shared clock;
//! [`driver`] is a call's handle to its session. [`PortPool`] hands out the even
//! local ports SDP advertises.

pub mod driver;
pub mod engine;
mod jitter;
mod poll;
mod ports;
pub mod rtcp;
mod session;

pub use driver::{MediaCommand, MediaEvent, MediaReport, MediaSession};
pub use jitter::{
    Arrival, Frame, FrameKind, JitterBuffer, JitterConfig, JitterConfigError, JitterStats,
    MAX_DELAY_LIMIT, PacketHeader,
};
pub use ports::{PortPair, PortPool};
pub use rtcp::{CallQuality, FarView};
pub use session::{Latch, Received, RtpSession, RtpStats, SessionConfig};
