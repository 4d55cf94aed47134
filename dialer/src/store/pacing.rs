//! What earlier runs of a campaign tell its pacer, so a run that starts
//! again (the next morning, or after a stop) paces from its first call
//! instead of dialing progressively while it learns.

use chrono::{DateTime, Timelike, Utc};

use super::{Store, StoreError, format_time, query_error};

/// Earlier calls of a campaign and its queue, as the pacer observes them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PacingHistory {
    /// Calls whose ringing ended, oldest first: seconds rung, whether a
    /// person answered, and the trunk's name.
    pub rings: Vec<(f64, bool, Option<String>)>,
    /// Debtors an agent talked to, oldest first: seconds talking.
    pub talks: Vec<f64>,
    /// Waits for an agent that ended, oldest first: seconds waited, and
    /// whether the debtor hung up waiting.
    pub waits: Vec<(f64, bool)>,
    /// The campaign's calls over the same two weeks by the hour of the day
    /// (UTC) they were placed in: how many rang out their outcome, and on
    /// how many a person answered.
    pub by_hour: [(u64, u64); 24],
}

/// Calls, agent calls and waits read back, at most (the pacer's models
/// remember about as many).
const HISTORY_CALLS: i64 = 1_000;
const HISTORY_TALKS: i64 = 400;
const HISTORY_WAITS: i64 = 400;
/// The longest ring learned (s): the ring model's span.
const MAX_RING_S: f64 = 180.0;
/// How far back the history reaches.
const HISTORY_DAYS: i64 = 14;

/// SQL: whether an attempt was a person's, as the pacer counts it live:
/// answered, and neither its disposition nor the answering-machine
/// detector said a machine. Both queries of the campaign's calls use it,
/// so the hours' rates and the ring model count the same people.
macro_rules! person_answered {
    () => {
        "(answered_at IS NOT NULL AND disposition IS NOT 'machine' AND amd IS NOT 'machine')"
    };
}

/// SQL: the campaign's (`?1`) calls that ended, placed since `?2`, without
/// those a stopped run left open (closed with disposition 'unknown' at the
/// next start: their "ring" is the downtime).
macro_rules! ended_calls {
    () => {
        "campaign_id = ?1 AND ended_at IS NOT NULL AND started_at > ?2
               AND disposition IS NOT 'unknown'"
    };
}

impl Store {
    /// The latest calls of `campaign_id` placed in `now`'s hour of the day
    /// (UTC) or the hours either side over the last two weeks (answer
    /// rates change with the hour: the morning's are not the evening's),
    /// and the latest calls and waits of `queue` for the campaign.
    pub async fn pacing_history(
        &self,
        campaign_id: i64,
        queue: &str,
        now: DateTime<Utc>,
    ) -> Result<PacingHistory, StoreError> {
        let since = format_time(now - chrono::Duration::days(HISTORY_DAYS));
        // As live, a call is known for a person's (or not) when the
        // answering-machine detector said so.
        let rings: Vec<(Option<f64>, bool, Option<String>)> = sqlx::query_as(concat!(
            "SELECT (julianday(coalesce(answered_at, ended_at)) - julianday(started_at)) * 86400.0
                      + coalesce(amd_ms, 0) / 1000.0, ",
            person_answered!(),
            ", trunk
             FROM attempts
             WHERE ",
            ended_calls!(),
            "
               AND (CAST(strftime('%H', started_at) AS INTEGER) - ?3 + 24) % 24 IN (0, 1, 23)
             ORDER BY id DESC LIMIT ?4",
        ))
        .bind(campaign_id)
        .bind(&since)
        .bind(i64::from(now.hour()))
        .bind(HISTORY_CALLS)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read the campaign's earlier calls"))?;
        // Calls cut by a stop were closed as 'error' at the next start.
        let talks: Vec<(Option<f64>,)> = sqlx::query_as(
            "SELECT (julianday(ended_at) - julianday(answered_at)) * 86400.0
             FROM queue_calls
             WHERE campaign_id = ?1 AND queue = ?2 AND outcome = 'answered'
               AND answered_at IS NOT NULL AND ended_at IS NOT NULL AND enqueued_at > ?3
             ORDER BY id DESC LIMIT ?4",
        )
        .bind(campaign_id)
        .bind(queue)
        .bind(&since)
        .bind(HISTORY_TALKS)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read the queue's earlier calls"))?;
        let waits: Vec<(Option<f64>, Option<String>)> = sqlx::query_as(
            "SELECT (julianday(coalesce(answered_at, ended_at)) - julianday(enqueued_at)) * 86400.0,
                    outcome
             FROM queue_calls
             WHERE campaign_id = ?1 AND queue = ?2 AND ended_at IS NOT NULL AND enqueued_at > ?3
               AND outcome IS NOT 'error'
             ORDER BY id DESC LIMIT ?4",
        )
        .bind(campaign_id)
        .bind(queue)
        .bind(&since)
        .bind(HISTORY_WAITS)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read the queue's earlier waits"))?;
        // A time the database cannot read (NULL) is left out.
        let hours: Vec<(i64, i64, i64)> = sqlx::query_as(concat!(
            "SELECT CAST(strftime('%H', started_at) AS INTEGER), count(*), coalesce(sum(",
            person_answered!(),
            "), 0)
             FROM attempts
             WHERE ",
            ended_calls!(),
            "
               AND strftime('%H', started_at) IS NOT NULL
             GROUP BY 1",
        ))
        .bind(campaign_id)
        .bind(&since)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("count the campaign's earlier answers by hour"))?;
        let mut by_hour = [(0, 0); 24];
        for (hour, calls, people) in hours {
            if let Some(slot) = usize::try_from(hour).ok().and_then(|h| by_hour.get_mut(h)) {
                *slot = (calls.max(0) as u64, people.max(0) as u64);
            }
        }
        // A time the database cannot read (NULL) is left out.
        Ok(PacingHistory {
            by_hour,
            rings: rings
                .into_iter()
                .rev()
                .filter_map(|(s, person, trunk)| Some((s?.clamp(0.0, MAX_RING_S), person, trunk)))
                .collect(),
            talks: talks
                .into_iter()
                .rev()
                .filter_map(|(s,)| Some(s?.max(0.0)))
                .collect(),
            waits: waits
                .into_iter()
                .rev()
                .filter_map(|(s, o)| Some((s?.max(0.0), o.as_deref() == Some("abandoned"))))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::campaign::{Contact, Disposition};
    use crate::store::{AmdResult, FinishedAttempt, FinishedQueueCall, NewAttempt, NewQueueCall};

    fn finished(ended_at: DateTime<Utc>, disposition: Disposition) -> FinishedAttempt {
        FinishedAttempt {
            ended_at,
            sip_code: None,
            sip_reason: None,
            disposition,
            digits: String::new(),
            hangup_by: None,
            note: None,
            outcome: None,
            flow_path: Vec::new(),
            inputs: Vec::new(),
            recording: None,
            quality: None,
            amd: None,
        }
    }

    /// The history is the campaign's calls at this hour of the day, the
    /// queue's agent calls and waits, oldest first; what a stopped run
    /// left open (closed at the next start) is not in it.
    #[tokio::test]
    async fn earlier_calls_at_this_hour_are_read_back_without_what_a_stop_left_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("dialer.db")).await.unwrap();
        let now = Utc::now();
        let campaign = store.ensure_campaign("cobranza", now).await.unwrap();
        let s = chrono::Duration::milliseconds;
        // (placed, ring ms, answered, agent talk ms or a hang-up waiting)
        let calls = [
            (now - chrono::Duration::days(1), 8_000, true, Some(60_000)),
            (now - chrono::Duration::days(1) + s(1), 25_000, false, None),
            (now - chrono::Duration::hours(6), 5_000, false, None),
            (now - chrono::Duration::days(15), 5_000, false, None),
            (now - s(120_000), 4_000, true, None),
        ];
        let contacts: Vec<Contact> = (0..=calls.len())
            .map(|i| Contact {
                id: format!("C{i}"),
                phone: format!("+5255123400{i:02}"),
                name: "Deudor".into(),
                balance: "100".into(),
                due_date: "2026-12-15".into(),
                vars: BTreeMap::new(),
                line: i as u64 + 2,
            })
            .collect();
        store.save_contacts(campaign, &contacts).await.unwrap();
        for (i, &(placed, ring_ms, answered, talk)) in calls.iter().enumerate() {
            let id = store
                .begin_attempt(&NewAttempt {
                    campaign_id: campaign,
                    contact_id: &contacts[i].id,
                    attempt_no: 1,
                    phone: &contacts[i].phone,
                    trunk: "sipp",
                    call_id: &format!("{i}@dialer"),
                    started_at: placed,
                    compliance: "allowed because of a test",
                })
                .await
                .unwrap();
            let rang = placed + s(ring_ms);
            if !answered {
                store
                    .finish_attempt(id, &finished(rang, Disposition::NoAnswer))
                    .await
                    .unwrap();
                continue;
            }
            store.mark_answered(id, rang, "PCMU").await.unwrap();
            let queued = store
                .begin_queue_call(&NewQueueCall {
                    attempt: id,
                    campaign_id: campaign,
                    queue: "cobranza",
                    skills: "cobranza",
                    priority: 0,
                    at: rang,
                })
                .await
                .unwrap();
            let (outcome, ended) = match talk {
                Some(talk_ms) => {
                    store
                        .queue_answered(queued, "agent1001", rang + s(500))
                        .await
                        .unwrap();
                    ("answered", rang + s(500 + talk_ms))
                }
                None => ("abandoned", rang + s(1_500)),
            };
            let end = FinishedQueueCall {
                outcome,
                ended_at: ended,
                hangup_by: None,
                note: None,
            };
            store.finish_queue_call(queued, &end).await.unwrap();
            store
                .finish_attempt(id, &finished(ended, Disposition::Answered))
                .await
                .unwrap();
        }
        // An answering machine, answered after 3 s and told for one 2.5 s
        // later: no person, known at 5.5 s.
        let machine = store
            .begin_attempt(&NewAttempt {
                campaign_id: campaign,
                contact_id: &contacts[0].id,
                attempt_no: 2,
                phone: &contacts[0].phone,
                trunk: "carrier-b",
                call_id: "machine@dialer",
                started_at: now - s(100_000),
                compliance: "allowed because of a test",
            })
            .await
            .unwrap();
        store
            .mark_answered(machine, now - s(97_000), "PCMU")
            .await
            .unwrap();
        let told = FinishedAttempt {
            amd: Some(AmdResult {
                verdict: media::amd::Verdict::Machine,
                at_ms: 2_500,
            }),
            ..finished(now - s(80_000), Disposition::Machine)
        };
        store.finish_attempt(machine, &told).await.unwrap();
        // A call ringing when the run stopped: closed at the next start.
        store
            .begin_attempt(&NewAttempt {
                campaign_id: campaign,
                contact_id: &contacts[calls.len()].id,
                attempt_no: 1,
                phone: &contacts[calls.len()].phone,
                trunk: "sipp",
                call_id: "open@dialer",
                started_at: now - s(60_000),
                compliance: "allowed because of a test",
            })
            .await
            .unwrap();
        store
            .close_unfinished(now + chrono::Duration::hours(10))
            .await
            .unwrap();

        let history = store
            .pacing_history(campaign, "cobranza", now)
            .await
            .unwrap();
        let round = |v: f64| (v * 10.0).round() / 10.0;
        let rings: Vec<(f64, bool, &str)> = history
            .rings
            .iter()
            .map(|(r, p, t)| (round(*r), *p, t.as_deref().unwrap_or("")))
            .collect();
        assert_eq!(
            rings,
            vec![
                (8.0, true, "sipp"),
                (25.0, false, "sipp"),
                (4.0, true, "sipp"),
                (5.5, false, "carrier-b")
            ]
        );
        let talks: Vec<f64> = history.talks.iter().map(|&t| round(t)).collect();
        assert_eq!(talks, vec![60.0]);
        let waits: Vec<(f64, bool)> = history.waits.iter().map(|&(w, h)| (round(w), h)).collect();
        assert_eq!(waits, vec![(0.5, false), (1.5, true)]);
        // By the hour of the day: every call of the two weeks, this hour's
        // or not (the one a stop left open and the one 15 days old are
        // out); a person on the first and the latest, not on the machine.
        let mut by_hour = [(0, 0); 24];
        for (placed, person) in [
            (now - chrono::Duration::days(1), true),
            (now - chrono::Duration::days(1) + s(1), false),
            (now - chrono::Duration::hours(6), false),
            (now - s(120_000), true),
            (now - s(100_000), false),
        ] {
            let slot = &mut by_hour[placed.hour() as usize];
            slot.0 += 1;
            slot.1 += u64::from(person);
        }
        assert_eq!(history.by_hour, by_hour);
        // Another queue's calls are not this queue's.
        let other = store.pacing_history(campaign, "ventas", now).await.unwrap();
        assert!(other.talks.is_empty() && other.waits.is_empty());
    }
}
