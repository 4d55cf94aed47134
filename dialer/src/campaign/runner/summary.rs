//! What a run did, as the operator reads it at its end.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;

use crate::campaign::{Contact, Disposition};

/// What a run did, for the summary.
#[derive(Debug, Default)]
pub struct RunSummary {
    pub campaign: String,
    pub contacts_in_list: usize,
    pub rows_rejected: usize,
    pub already_attempted: usize,
    pub dialed: usize,
    pub counts: BTreeMap<Disposition, usize>,
    /// Flow outcomes (tipificaciones) of answered calls.
    pub outcomes: BTreeMap<String, usize>,
    pub not_dialed: usize,
    /// Messages that could not be rendered (those contacts were not called).
    pub render_failures: usize,
    /// Contacts skipped because their number is on the do-not-call list.
    pub do_not_call: usize,
    /// Contacts the calling rules refused now (stored as deferrals).
    pub deferred: usize,
    /// The soonest instant a deferred contact may be called.
    pub soonest_retry: Option<chrono::DateTime<Utc>>,
    /// False when `compliance.enabled = false`.
    pub checked: bool,
    /// The pacer's line (agent modes).
    pub pacing: Option<String>,
    /// One line per trunk (calls, ASR) when the campaign has several.
    pub trunks: String,
    /// Contacts called again by the retry policy (or a callback) at the
    /// run's start, and during it.
    pub retries_due: usize,
    pub retries_placed: usize,
    /// Calls placed again through another trunk after one refused them.
    pub failovers: usize,
    /// Retries due after the run: how many, and the soonest.
    pub retries_later: usize,
    pub soonest_later: Option<chrono::DateTime<Utc>>,
    /// Why dialing stopped early, if it did.
    pub stopped: Option<String>,
    pub elapsed: Duration,
}

/// Deferrals printed one by one before "and N more".
const DEFERRALS_SHOWN: usize = 5;

impl RunSummary {
    /// A retry left for a later run.
    pub(super) fn later(&mut self, at: chrono::DateTime<Utc>) {
        self.retries_later += 1;
        self.soonest_later = Some(self.soonest_later.map_or(at, |s| s.min(at)));
    }

    pub(super) fn defer(
        &mut self,
        contact: &Contact,
        reason: &str,
        retry_at: Option<chrono::DateTime<Utc>>,
    ) {
        self.deferred += 1;
        if let Some(at) = retry_at {
            self.soonest_retry = Some(self.soonest_retry.map_or(at, |s| s.min(at)));
        }
        if self.deferred <= DEFERRALS_SHOWN {
            let when = retry_at.map_or(String::new(), |at| {
                format!("; may be called from {}", at.format("%Y-%m-%d %H:%M UTC"))
            });
            eprintln!(
                "not called now {} ({}): {reason}{when}",
                contact.id, contact.phone
            );
        }
    }
}

pub(super) fn counts_line(counts: &BTreeMap<Disposition, usize>) -> String {
    counts
        .iter()
        .map(|(d, n)| format!("{d} {n}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

impl RunSummary {
    /// The end-of-run summary an operator reads.
    pub fn render(&self) -> String {
        let mut out = format!(
            "Campaign '{}': {} contacts in the list, {} dialed in {:.1} s\n",
            self.campaign,
            self.contacts_in_list,
            self.dialed,
            self.elapsed.as_secs_f64()
        );
        for (disposition, count) in &self.counts {
            out.push_str(&format!("  {:<16}{count:>6}\n", disposition.as_str()));
        }
        if !self.outcomes.is_empty() {
            out.push_str("Outcomes of the answered calls:\n");
            for (outcome, count) in &self.outcomes {
                out.push_str(&format!("  {outcome:<20}{count:>6}\n"));
            }
        }
        if self.already_attempted > 0 {
            out.push_str(&format!(
                "  ({} already attempted in an earlier run, not dialed again)\n",
                self.already_attempted
            ));
        }
        if self.rows_rejected > 0 {
            out.push_str(&format!(
                "  ({} rows of the list skipped, see above)\n",
                self.rows_rejected
            ));
        }
        if self.do_not_call > 0 {
            out.push_str(&format!(
                "  (skipped, on the do-not-call list: {} contacts)\n",
                self.do_not_call
            ));
        }
        if self.retries_placed > 0 || self.retries_due > 0 {
            out.push_str(&format!(
                "  retries: {} calls again in this run ({} were due at its start)\n",
                self.retries_placed, self.retries_due
            ));
        }
        if self.failovers > 0 {
            out.push_str(&format!(
                "  failovers: {} calls placed again through another trunk\n",
                self.failovers
            ));
        }
        if self.retries_later > 0 {
            let soonest = self.soonest_later.map_or(String::new(), |at| {
                format!(", the soonest from {}", at.format("%Y-%m-%d %H:%M UTC"))
            });
            out.push_str(&format!(
                "  retries left for a later run: {} contacts{soonest}\n",
                self.retries_later
            ));
        }
        if self.deferred > 0 {
            let soonest = self.soonest_retry.map_or(String::new(), |at| {
                format!(
                    ", the soonest may be called from {}",
                    at.format("%Y-%m-%d %H:%M UTC")
                )
            });
            out.push_str(&format!(
                "  not called now, refused by the calling rules: {} contacts{soonest} (dialer report --deferrals)\n",
                self.deferred
            ));
        }
        if !self.checked {
            out.push_str("  calling rules NOT checked (compliance.enabled = false)\n");
        }
        if self.render_failures > 0 {
            out.push_str(&format!(
                "  not called, message not rendered: {} contacts\n",
                self.render_failures
            ));
        }
        if self.not_dialed > 0 {
            out.push_str(&format!("  not dialed: {} contacts\n", self.not_dialed));
        }
        if let Some(pacing) = &self.pacing {
            out.push_str(pacing);
        }
        out.push_str(&self.trunks);
        if let Some(reason) = &self.stopped {
            out.push_str(&format!("Dialing stopped early: {reason}\n"));
        }
        out
    }
}
