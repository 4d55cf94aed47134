//! What earlier runs of a campaign tell its pacer, so a run that starts
//! again (the next morning, or after a stop) paces from its first call
//! instead of dialing progressively while it learns.

use chrono::{DateTime, Timelike, Utc};

use super::{Store, StoreError, format_time, query_error};

/// Earlier calls of a campaign and its queue, as the pacer observes them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PacingHistory {
    /// Calls whose ringing ended, oldest first: seconds rung, and whether
    /// a person answered.
    pub rings: Vec<(f64, bool)>,
    /// Debtors an agent talked to, oldest first: seconds talking.
    pub talks: Vec<f64>,
    /// Waits for an agent that ended, oldest first: seconds waited, and
    /// whether the debtor hung up waiting.
    pub waits: Vec<(f64, bool)>,
}

/// Calls, agent calls and waits read back, at most.
const HISTORY_CALLS: i64 = 1_000;
const HISTORY_TALKS: i64 = 400;
/// How far back the history reaches.
const HISTORY_DAYS: i64 = 14;

impl Store {
    /// The latest calls of `campaign_id` placed within an hour of `now`'s
    /// time of day over the last two weeks (answer rates change with the
    /// hour: the morning's are not the evening's), and the latest calls
    /// and waits of `queue` for the campaign.
    pub async fn pacing_history(
        &self,
        campaign_id: i64,
        queue: &str,
        now: DateTime<Utc>,
    ) -> Result<PacingHistory, StoreError> {
        let since = format_time(now - chrono::Duration::days(HISTORY_DAYS));
        let rings: Vec<(f64, Option<String>)> = sqlx::query_as(
            "SELECT (julianday(coalesce(answered_at, ended_at)) - julianday(started_at)) * 86400.0,
                    disposition
             FROM attempts
             WHERE campaign_id = ?1 AND ended_at IS NOT NULL AND started_at > ?2
               AND (CAST(strftime('%H', started_at) AS INTEGER) - ?3 + 24) % 24 IN (0, 1, 23)
             ORDER BY id DESC LIMIT ?4",
        )
        .bind(campaign_id)
        .bind(&since)
        .bind(i64::from(now.hour()))
        .bind(HISTORY_CALLS)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read the campaign's earlier calls"))?;
        let talks: Vec<(f64,)> = sqlx::query_as(
            "SELECT (julianday(ended_at) - julianday(answered_at)) * 86400.0
             FROM queue_calls
             WHERE campaign_id = ?1 AND queue = ?2 AND answered_at IS NOT NULL
               AND ended_at IS NOT NULL AND enqueued_at > ?3
             ORDER BY id DESC LIMIT ?4",
        )
        .bind(campaign_id)
        .bind(queue)
        .bind(&since)
        .bind(HISTORY_TALKS)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read the queue's earlier calls"))?;
        let waits: Vec<(f64, Option<String>)> = sqlx::query_as(
            "SELECT (julianday(coalesce(answered_at, ended_at)) - julianday(enqueued_at)) * 86400.0,
                    outcome
             FROM queue_calls
             WHERE campaign_id = ?1 AND queue = ?2 AND ended_at IS NOT NULL AND enqueued_at > ?3
             ORDER BY id DESC LIMIT ?4",
        )
        .bind(campaign_id)
        .bind(queue)
        .bind(&since)
        .bind(HISTORY_CALLS)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read the queue's earlier waits"))?;
        Ok(PacingHistory {
            rings: rings
                .into_iter()
                .rev()
                .map(|(s, d)| (s.max(0.0), d.as_deref() == Some("answered")))
                .collect(),
            talks: talks.into_iter().rev().map(|(s,)| s.max(0.0)).collect(),
            waits: waits
                .into_iter()
                .rev()
                .map(|(s, o)| (s.max(0.0), o.as_deref() == Some("abandoned")))
                .collect(),
        })
    }
}
