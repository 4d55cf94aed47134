//! `dialer run`: dial every contact of a campaign once, within the trunk's caps.
//!
//! The run loads and checks everything before the first call (prompt, list,
//! store, trunk address, SIP port), then launches one call actor per contact
//! while holding at most `max_channels` calls up and starting at most
//! `max_cps` per second. It stops launching when the operator presses
//! Ctrl-C (calls in flight are ended and recorded) or when the trunk looks
//! dead (several calls in a row without any SIP response), so a broken trunk
//! does not burn through the list.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use governor::{Quota, RateLimiter};
use indicatif::{ProgressBar, ProgressStyle};
use media::prompt::Prompt;
use media::rtp::PortPool;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use super::{Contact, Disposition, contacts};
use crate::call::{CallContext, CallError, CallOutcome, CallTiming, place_call};
use crate::config::Config;
use crate::sip::{InboundPolicy, SipEndpoint, TrunkTarget};
use crate::store::Store;

/// After this many attempts in a row end in `trunk_failure`, stop dialing.
pub const TRUNK_FAILURES_TO_STOP: usize = 3;

/// What a run did, for the summary.
#[derive(Debug, Default)]
pub struct RunSummary {
    pub campaign: String,
    pub contacts_in_list: usize,
    pub rows_rejected: usize,
    pub already_attempted: usize,
    pub dialed: usize,
    pub counts: BTreeMap<Disposition, usize>,
    pub not_dialed: usize,
    /// Why dialing stopped early, if it did.
    pub stopped: Option<String>,
    pub elapsed: Duration,
}

/// How the run talks to the operator.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Draw a progress bar (only drawn when stderr is a terminal).
    pub progress: bool,
}

/// Runs the configured campaign to its end. `stop` ends it early.
pub async fn run(
    config: &Config,
    options: RunOptions,
    stop: CancellationToken,
) -> anyhow::Result<RunSummary> {
    let begun = Instant::now();
    let campaign = &config.campaign;
    let trunk = config.campaign_trunk();
    let prompt = Prompt::load(&campaign.prompt)?;
    let list = contacts::load(&campaign.contacts, campaign.default_region)?;
    if list.encoding == contacts::TextEncoding::Windows1252 {
        eprintln!(
            "note: {} is not UTF-8; read as Windows-1252 (Latin-1)",
            campaign.contacts.display()
        );
    }
    for rejected in &list.rejected {
        eprintln!("skipped {rejected}");
    }

    let store = Store::open(&config.database.path).await?;
    let closed = store.close_unfinished(Utc::now()).await?;
    if closed > 0 {
        eprintln!("note: {closed} attempt(s) left open by an earlier run were closed as 'unknown'");
    }
    let campaign_id = store.ensure_campaign(&campaign.name, Utc::now()).await?;
    store.save_contacts(campaign_id, &list.contacts).await?;
    let attempted = store.attempted_contacts(campaign_id).await?;
    let to_dial: Vec<Contact> = list
        .contacts
        .iter()
        .filter(|c| !attempted.contains(&c.id))
        .cloned()
        .collect();

    let mut summary = RunSummary {
        campaign: campaign.name.clone(),
        contacts_in_list: list.contacts.len(),
        rows_rejected: list.rejected.len(),
        already_attempted: list.contacts.len() - to_dial.len(),
        ..RunSummary::default()
    };
    if to_dial.is_empty() {
        summary.elapsed = begun.elapsed();
        store.close().await;
        return Ok(summary);
    }

    let trunk_addr = tokio::net::lookup_host(&trunk.address)
        .await
        .ok()
        .and_then(|mut addrs| addrs.next())
        .with_context(|| {
            format!(
                "{}: trunk '{}': cannot resolve address '{}'",
                config.path.display(),
                trunk.name,
                trunk.address
            )
        })?;
    let sip = SipEndpoint::start(
        config.sip.bind,
        config.sip.advertised_ip,
        &config.sip.user_agent,
        InboundPolicy::Refuse,
    )
    .await
    .with_context(|| format!("{}: sip.bind", config.path.display()))?;
    let ports = PortPool::new(
        config.media.ip,
        config.media.rtp_port_min,
        config.media.rtp_port_max,
    )
    .with_context(|| format!("{}: media.rtp_port_min/max", config.path.display()))?;
    let ctx = Arc::new(CallContext {
        sip: Arc::new(sip),
        store: store.clone(),
        ports: Arc::new(ports),
        campaign_id,
        trunk_name: trunk.name.clone(),
        trunk: TrunkTarget {
            addr: trunk_addr,
            transport: trunk.transport,
            credentials: trunk
                .credentials
                .as_ref()
                .map(|c| (c.username.clone(), c.password.clone())),
            caller_id: trunk.caller_id.clone(),
            caller_name: trunk.caller_name.clone(),
        },
        codecs: trunk.codecs.clone(),
        dial_prefix: trunk.dial_prefix.clone(),
        strip_plus: trunk.strip_plus,
        prompt,
        timing: CallTiming {
            response_timeout: Duration::from_secs_f64(trunk.response_timeout_s),
            ring_timeout: Duration::from_secs_f64(campaign.ring_timeout_s),
            wait_for_digits: Duration::from_secs_f64(campaign.wait_for_digits_s),
            max_call: Duration::from_secs_f64(campaign.max_call_s),
        },
        stop: stop.child_token(),
    });
    info!(campaign = %campaign.name, contacts = to_dial.len(), trunk = %trunk.name, %trunk_addr, "dialing");

    let bar = progress_bar(options.progress, to_dial.len());
    let channels = Arc::new(Semaphore::new(trunk.max_channels as usize));
    let limiter = RateLimiter::direct(cps_quota(trunk.max_cps));
    let mut pending = to_dial.into_iter().peekable();
    // A call's channel permit travels back with its outcome, so the slot
    // frees only once the loop has counted the outcome (and maybe stopped).
    let mut running: JoinSet<(
        Contact,
        Result<CallOutcome, CallError>,
        OwnedSemaphorePermit,
    )> = JoinSet::new();
    let mut trunk_failures_in_a_row = 0;
    loop {
        let may_launch = summary.stopped.is_none() && pending.peek().is_some();
        if !may_launch && running.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            _ = stop.cancelled(), if summary.stopped.is_none() => {
                summary.stopped = Some("stopped by the operator".into());
            }
            Some(done) = running.join_next() => {
                let (contact, result, permit) = done.expect("call tasks do not panic");
                match result {
                    Ok(outcome) => {
                        *summary.counts.entry(outcome.disposition).or_default() += 1;
                        if outcome.disposition == Disposition::TrunkFailure {
                            trunk_failures_in_a_row += 1;
                        } else {
                            trunk_failures_in_a_row = 0;
                        }
                        if trunk_failures_in_a_row >= TRUNK_FAILURES_TO_STOP && summary.stopped.is_none() {
                            summary.stopped = Some(format!(
                                "trunk '{}' at {} ({}) failed {TRUNK_FAILURES_TO_STOP} calls in a row without a SIP response; check its address and transport",
                                trunk.name, trunk_addr, trunk.transport
                            ));
                        }
                    }
                    Err(CallError::NoPort(e)) => {
                        error!(contact = %contact.id, error = %e, "call not placed");
                        summary.not_dialed += 1;
                    }
                    Err(e @ CallError::Store(_)) => {
                        // Without a record there must be no more calls.
                        summary.stopped.get_or_insert_with(|| format!("cannot record attempts: {e}"));
                        error!(contact = %contact.id, error = %e, "attempt not recorded");
                    }
                }
                bar.inc(1);
                bar.set_message(counts_line(&summary.counts));
                drop(permit);
            }
            permit = async {
                let permit = channels.clone().acquire_owned().await.expect("the semaphore is never closed");
                limiter.until_ready().await;
                permit
            }, if may_launch => {
                let contact = pending.next().expect("may_launch checked there is one");
                summary.dialed += 1;
                let ctx = ctx.clone();
                running.spawn(async move {
                    let result = place_call(&ctx, &contact, 1).await;
                    (contact, result, permit)
                });
            }
        }
    }
    summary.not_dialed += pending.count();
    bar.finish_and_clear();
    ctx.sip.shutdown();
    store.close().await;
    summary.elapsed = begun.elapsed();
    if let Some(reason) = summary
        .stopped
        .as_ref()
        .filter(|r| r.starts_with("cannot record"))
    {
        bail!("{reason}");
    }
    Ok(summary)
}

/// One call every `1 / max_cps` seconds, no bursts: calls spread evenly.
fn cps_quota(max_cps: f64) -> Quota {
    Quota::with_period(Duration::from_secs_f64(1.0 / max_cps))
        .expect("validated: max_cps is positive")
}

fn progress_bar(enabled: bool, total: usize) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} calls  {msg}",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn counts_line(counts: &BTreeMap<Disposition, usize>) -> String {
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
        if self.not_dialed > 0 {
            out.push_str(&format!("  not dialed: {} contacts\n", self.not_dialed));
        }
        if let Some(reason) = &self.stopped {
            out.push_str(&format!("Dialing stopped early: {reason}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_spreads_calls() {
        assert_eq!(
            cps_quota(5.0).replenish_interval(),
            Duration::from_millis(200)
        );
        assert_eq!(cps_quota(0.5).replenish_interval(), Duration::from_secs(2));
        assert_eq!(cps_quota(5.0).burst_size().get(), 1);
    }
}
