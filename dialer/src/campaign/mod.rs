//! Campaigns: the debtor list, the attempts made on it, and the run that dials it.

pub mod acd;
pub mod attempt;
pub mod contacts;
pub mod feed;
pub mod gate;
pub mod message;
pub mod pace;
pub mod retry;
pub mod runner;
pub mod trunks;

pub use attempt::{Disposition, HangupBy};
pub use contacts::{Contact, ContactList, RowError};
