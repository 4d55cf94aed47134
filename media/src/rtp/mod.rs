//! RTP for one call: packet state (sans-IO), the tokio driver, and ports.
//!
//! [`RtpSession`] decides what goes in each 20 ms packet and what a received
//! datagram means (audio, a key press, a stranger's packet). [`driver`] owns
//! the UDP socket and the clock and runs one session per call until the
//! call ends. [`PortPool`] hands out the even local ports SDP advertises.

pub mod driver;
mod ports;
mod session;

pub use driver::{MediaCommand, MediaEvent, MediaReport, MediaSession};
pub use ports::PortPool;
pub use session::{Received, RtpSession, RtpStats, SessionConfig};
