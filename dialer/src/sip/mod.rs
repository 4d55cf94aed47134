//! The SIP edge: rsipstack behind a small API in the dialer's own words.
//!
//! Nothing outside this module names an rsipstack type. [`SipEndpoint`]
//! binds UDP and TCP on one port and answers what arrives outside our
//! calls; [`uac`] places an outbound call toward a trunk and reports it as
//! [`LegEvent`]s; [`uas`] gives the simulated carrier the other side.

mod endpoint;
mod register;
pub mod registrar;
pub mod uac;
pub mod uas;

pub use endpoint::{InboundPolicy, SipEndpoint, SipError};
pub use uac::{CallLeg, InviteRequest, InviteTarget, LegEvent, TrunkTarget};

/// The stack's own SIP types, for the few places (the simulated carrier)
/// that build messages by hand.
pub use rsipstack::sip as message;
