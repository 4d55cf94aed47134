//! A run's start: the list loaded and checked, each contact's message
//! resolved, who is due now and who later by the retry policy.

use anyhow::bail;
use chrono::Utc;

use super::{Dial, RunSummary, deferral, today};
use crate::call::Detection;
use crate::campaign::feed::{Entry, Feed};
use crate::campaign::gate::{self, Gate};
use crate::campaign::message::PreparedScript;
use crate::campaign::retry::Next;
use crate::campaign::{Contact, RowError, contacts};
use crate::compliance::Verdict;
use crate::config::Config;
use crate::store::Store;

/// What a run starts from: its store and campaign, the calling rules, the
/// contacts due (now and later in the run), and the summary so far.
pub(super) struct Work {
    pub(super) store: Store,
    pub(super) campaign_id: i64,
    pub(super) gate: Gate,
    pub(super) feed: Feed<Dial>,
    pub(super) summary: RunSummary,
}

/// Loads the list, resolves every contact's message (unreadable values skip
/// the row), stores the contacts and picks those not attempted yet and not
/// on the do-not-call list.
pub(super) async fn load_work(
    config: &Config,
    script: &PreparedScript,
    detection: Option<&Detection>,
) -> anyhow::Result<Work> {
    let campaign = &config.campaign;
    let list = contacts::load(&campaign.contacts, campaign.default_region)?;
    if list.encoding == contacts::TextEncoding::Windows1252 {
        eprintln!(
            "note: {} is not UTF-8; read as Windows-1252 (Latin-1)",
            campaign.contacts.display()
        );
    }
    script.check_columns(&campaign.contacts, &list.columns)?;
    if let Some(message) = detection.and_then(|d| d.message) {
        script.check_extra_columns(message, "amd.message", &campaign.contacts, &list.columns)?;
    }
    for (key, column) in [
        ("campaign.order_by", &campaign.order_by),
        ("campaign.segment_by", &campaign.segment_by),
    ] {
        if let Some(column) = column
            && !list.columns.contains(column)
        {
            bail!(
                "{}: {key}: the list {} has no column '{column}' (found: {})",
                config.path.display(),
                campaign.contacts.display(),
                list.columns.join(",")
            );
        }
    }
    let gate = Gate::new(&config.compliance, &campaign.contacts, &list.columns)
        .map_err(|e| anyhow::anyhow!("{}: {e}", config.path.display()))?;
    let campaign_do_not_call =
        gate::read_do_not_call(&campaign.do_not_call, campaign.default_region)?;
    let mut rejected = list.rejected;
    let today = today();
    let mut resolved = Vec::with_capacity(list.contacts.len());
    for contact in list.contacts {
        let place = match gate.locate(&campaign.contacts, &contact) {
            Ok(place) => place,
            Err(row) => {
                rejected.push(row);
                continue;
            }
        };
        let vars = script.contact_vars(&contact, today);
        match script.resolve(&vars, today) {
            Ok(opening) => resolved.push(Dial {
                contact,
                vars,
                opening,
                place,
                attempt_no: 1,
                callback: None,
            }),
            Err(e) => rejected.push(RowError {
                path: campaign.contacts.clone(),
                line: contact.line,
                field: e.variable,
                reason: e.reason,
            }),
        }
    }
    rejected.sort_by_key(|r| r.line);
    for row in &rejected {
        eprintln!("skipped {row}");
    }

    let store = Store::open(&config.database.path).await?;
    let closed = store.close_unfinished(Utc::now()).await?;
    store.close_unfinished_queue_calls(Utc::now()).await?;
    if closed > 0 {
        eprintln!("note: {closed} attempt(s) left open by an earlier run were closed as 'unknown'");
    }
    let campaign_id = store.ensure_campaign(&campaign.name, Utc::now()).await?;
    let gate = gate.for_run(campaign_id, Utc::now(), config.pacing.mode.overdials());
    let contacts: Vec<Contact> = resolved.iter().map(|d| d.contact.clone()).collect();
    store.save_contacts(campaign_id, &contacts).await?;
    // Who is due: never called, or (with a retry policy) called before
    // and due again by how the last call ended.
    let history = store.attempt_history(campaign_id).await?;
    let in_list = resolved.len();
    let now = Utc::now();
    let mut due_now = Vec::new();
    let mut due_later: Vec<(Dial, chrono::DateTime<Utc>)> = Vec::new();
    let mut already_attempted = 0;
    for mut dial in resolved {
        let Some(past) = history.get(&dial.contact.id) else {
            due_now.push(dial);
            continue;
        };
        match config.retry.as_ref().map(|policy| policy.next(past)) {
            None | Some(Next::Done(_)) => already_attempted += 1,
            Some(next @ (Next::Due(_) | Next::Callback { .. })) => {
                dial.attempt_no = past.len() as u32 + 1;
                let at = match next {
                    Next::Callback { at, queue } => {
                        dial.callback = Some(queue);
                        at
                    }
                    Next::Due(at) => at,
                    Next::Done(_) => unreachable!("matched above"),
                };
                if at <= now {
                    due_now.push(dial);
                } else {
                    due_later.push((dial, at));
                }
            }
        }
    }
    let retries_due_now = due_now.iter().filter(|d| d.attempt_no > 1).count();
    let phones: Vec<&str> = due_now
        .iter()
        .chain(due_later.iter().map(|(d, _)| d))
        .map(|d| d.contact.phone.as_str())
        .collect();
    let blocked = store.do_not_call_among(&phones).await?;
    let listed = |d: &Dial| {
        blocked.contains(&d.contact.phone) || campaign_do_not_call.contains(&d.contact.phone)
    };
    let before = due_now.len() + due_later.len();
    due_now.retain(|d| !listed(d));
    due_later.retain(|(d, _)| !listed(d));
    let mut to_dial = due_now;
    let do_not_call = before - to_dial.len() - due_later.len();
    let mut summary = RunSummary {
        campaign: campaign.name.clone(),
        contacts_in_list: in_list,
        rows_rejected: rejected.len(),
        already_attempted,
        do_not_call,
        checked: gate.enabled(),
        retries_due: retries_due_now,
        ..RunSummary::default()
    };
    if !gate.enabled() {
        eprintln!(
            "note: {}: calling hours, holidays and calls per debt are NOT checked ({})",
            config.path.display(),
            gate::CHECKS_OFF
        );
    }
    // Who may not be called at this hour is left out before any message
    // is rendered for them; the whole check runs again before each dial.
    let mut deferrals = Vec::new();
    to_dial.retain(|d| match gate.hours(&d.place, &d.contact, now) {
        Verdict::Allowed(_) => true,
        Verdict::Refused { reason, retry_at } => {
            summary.defer(&d.contact, &reason, retry_at);
            deferrals.push(deferral(&d.contact, reason, retry_at));
            false
        }
    });
    store.defer(campaign_id, &deferrals).await?;
    let entries = to_dial
        .into_iter()
        .map(|d| {
            let segment = campaign
                .segment_by
                .as_deref()
                .and_then(|c| d.contact.value(c))
                .unwrap_or("")
                .trim()
                .to_string();
            let order = campaign
                .order_by
                .as_deref()
                .and_then(|c| d.contact.value(c))
                .and_then(|v| v.trim().replace(',', ".").parse::<f64>().ok());
            Entry {
                item: d,
                segment,
                order,
            }
        })
        .collect();
    let mut feed = Feed::new(entries, &campaign.segment_weights);
    // Retries due while this run lasts wait in it; later ones are for a
    // later run.
    let within = config
        .retry
        .as_ref()
        .map_or(0.0, |policy| policy.within_run_s);
    for (dial, at) in due_later {
        let wait = (at - now).to_std().unwrap_or_default();
        if wait.as_secs_f64() <= within {
            feed.schedule(dial, tokio::time::Instant::now() + wait);
        } else {
            summary.later(at);
        }
    }
    Ok(Work {
        store,
        campaign_id,
        gate,
        feed,
        summary,
    })
}
