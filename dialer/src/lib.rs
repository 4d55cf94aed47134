//! The dialer: campaigns over SIP trunks, for collections contact centers.
//!
//! `dialer run CONFIG.toml` loads a debtor list, calls every debtor through
//! a trunk within its channel and calls-per-second caps, plays the
//! campaign's prompt, hears key presses, and stores every attempt. The
//! simulated carrier in [`sim`] is a real SIP/RTP peer for the demo and the
//! tests.

// Drivers read the clock; the pure cores below deny it (clippy.toml).
#![allow(clippy::disallowed_methods)]

pub mod acd;
pub mod agents;
pub mod api;
pub mod call;
pub mod campaign;
pub mod cli;
pub mod compliance;
pub mod config;
pub mod ivr;
pub mod pacing;
pub mod report;
pub mod sim;
pub mod sip;
pub mod store;
