//! Simulated peers over real loopback SIP and RTP, for the demo and tests.
//!
//! The simulated carrier is a real SIP UAS with real RTP: it answers,
//! rings, refuses, challenges for digest credentials, presses keys and
//! records what it hears, per dialed number, as a plan file says. It runs
//! inside `dialer demo` and as `dialer carrier` for tests.
//!
//! The campaign simulator ([`shift`]) is the other kind: agents and
//! debtors in virtual time, with no packets, to judge a pacer over a
//! whole shift in seconds (`dialer simulate`).

pub mod agent;
pub mod carrier;
pub mod plan;
pub mod shift;

pub use agent::{AgentPlan, AgentsSetup, SimAgents};
pub use carrier::{CallLog, Carrier, CarrierOptions};
pub use plan::{Action, Behaviour, CarrierPlan};
