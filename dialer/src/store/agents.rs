//! The ACD's durable record: agent state changes, calls in queues, agents'
//! dispositions, callbacks and voicemails.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, format_time, query_error};

/// A debtor entering a queue.
#[derive(Debug, Clone)]
pub struct NewQueueCall<'a> {
    pub attempt: i64,
    pub campaign_id: i64,
    pub queue: &'a str,
    pub skills: &'a str,
    pub priority: i32,
    pub at: DateTime<Utc>,
}

/// How a debtor's time in the ACD ended.
#[derive(Debug, Clone)]
pub struct FinishedQueueCall<'a> {
    /// `answered`, `abandoned`, `callback`, `voicemail`, `no_agent`, `error`.
    pub outcome: &'a str,
    pub ended_at: DateTime<Utc>,
    pub hangup_by: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// One queue's figures, as the report shows them.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct QueueFigures {
    pub queue: String,
    pub offered: i64,
    pub answered: i64,
    pub abandoned: i64,
    pub overflowed: i64,
    /// Average seconds from entering the queue to an agent's answer.
    pub avg_speed_of_answer_s: Option<f64>,
    pub max_wait_s: Option<f64>,
    /// Average seconds an agent talked, for answered calls.
    pub avg_talk_s: Option<f64>,
}

/// A state span of an agent (from one event to the next).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgentEventRow {
    pub agent: String,
    pub state: String,
    pub reason: Option<String>,
    pub attempt_id: Option<i64>,
    pub at: String,
}

/// A call an agent recorded a disposition for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgentDispositionRow {
    pub attempt_id: i64,
    pub agent: String,
    pub disposition: String,
    pub note: Option<String>,
    pub created_at: String,
}

/// A call's debtor, for the agent's screen (`Call-Info`) and for promises
/// recorded by agents.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct CallSummary {
    pub attempt_id: i64,
    pub campaign_id: i64,
    pub campaign: String,
    pub contact_id: String,
    pub name: String,
    pub phone: String,
    pub balance: String,
    pub due_date: String,
    pub started_at: String,
    pub answered_at: Option<String>,
    pub digits: String,
    pub flow_path: Option<String>,
    pub inputs: Option<String>,
}

/// A callback promised to a debtor a queue could not serve.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CallbackRow {
    pub id: i64,
    pub campaign: String,
    pub contact_id: String,
    pub name: String,
    pub phone: String,
    pub queue: String,
    pub due_at: String,
    pub attempt_id: i64,
    pub created_at: String,
}

impl Store {
    /// The debtors of `campaign_id` who entered `queue` since `since` and
    /// whose wait ended: how many, and how many got no agent within
    /// `grace_s` (abandoned, for the cap on abandoned calls).
    pub async fn abandons_since(
        &self,
        campaign_id: i64,
        queue: &str,
        since: DateTime<Utc>,
        grace_s: f64,
    ) -> Result<(u64, u64), StoreError> {
        let (answered, abandoned): (i64, Option<i64>) = sqlx::query_as(
            "SELECT count(*),
                    sum(CASE WHEN answered_at IS NOT NULL
                              AND (julianday(answered_at) - julianday(enqueued_at)) * 86400.0 <= ?4
                        THEN 0 ELSE 1 END)
             FROM queue_calls
             WHERE campaign_id = ?1 AND queue = ?2 AND enqueued_at > ?3 AND ended_at IS NOT NULL",
        )
        .bind(campaign_id)
        .bind(queue)
        .bind(format_time(since))
        .bind(grace_s)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("count abandoned calls"))?;
        Ok((answered as u64, abandoned.unwrap_or(0) as u64))
    }

    /// The callbacks to make, soonest first.
    pub async fn callbacks(&self) -> Result<Vec<CallbackRow>, StoreError> {
        sqlx::query_as(
            "SELECT b.id, g.name AS campaign, b.contact_id, c.name, b.phone, b.queue, b.due_at,
                    b.attempt_id, b.created_at
             FROM callbacks b
             JOIN campaigns g ON g.id = b.campaign_id
             JOIN contacts c ON c.campaign_id = b.campaign_id AND c.contact_id = b.contact_id
             ORDER BY b.due_at, b.id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("callbacks"))
    }

    pub async fn call_summary(&self, attempt: i64) -> Result<Option<CallSummary>, StoreError> {
        sqlx::query_as(
            "SELECT a.id AS attempt_id, a.campaign_id, g.name AS campaign, a.contact_id, c.name,
                    a.phone, c.balance, c.due_date, a.started_at, a.answered_at, a.digits,
                    a.flow_path, a.inputs
             FROM attempts a
             JOIN campaigns g ON g.id = a.campaign_id
             JOIN contacts c ON c.campaign_id = a.campaign_id AND c.contact_id = a.contact_id
             WHERE a.id = ?",
        )
        .bind(attempt)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("call summary"))
    }

    pub async fn record_agent_event(
        &self,
        agent: &str,
        state: &str,
        reason: Option<&str>,
        attempt: Option<i64>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO agent_events (agent, state, reason, attempt_id, at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(agent)
        .bind(state)
        .bind(reason)
        .bind(attempt)
        .bind(format_time(at))
        .execute(&self.pool)
        .await
        .map_err(query_error("record agent state"))?;
        Ok(())
    }

    /// Writes the queue row when the debtor enters the queue; returns its id.
    pub async fn begin_queue_call(&self, c: &NewQueueCall<'_>) -> Result<i64, StoreError> {
        let done = sqlx::query(
            "INSERT INTO queue_calls (attempt_id, campaign_id, queue, skills, priority, enqueued_at, final_queue)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(c.attempt)
        .bind(c.campaign_id)
        .bind(c.queue)
        .bind(c.skills)
        .bind(c.priority)
        .bind(format_time(c.at))
        .bind(c.queue)
        .execute(&self.pool)
        .await
        .map_err(query_error("record queue call"))?;
        Ok(done.last_insert_rowid())
    }

    /// Counts one more agent rung for the call.
    pub async fn queue_offered(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE queue_calls SET offers = offers + 1 WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error("record queue offer"))?;
        Ok(())
    }

    pub async fn queue_answered(
        &self,
        id: i64,
        agent: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE queue_calls SET agent = ?, answered_at = ? WHERE id = ?")
            .bind(agent)
            .bind(format_time(at))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error("record agent answer"))?;
        Ok(())
    }

    /// The call overflowed into another queue.
    pub async fn queue_moved(&self, id: i64, queue: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE queue_calls SET final_queue = ? WHERE id = ?")
            .bind(queue)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(query_error("record queue overflow"))?;
        Ok(())
    }

    pub async fn finish_queue_call(
        &self,
        id: i64,
        f: &FinishedQueueCall<'_>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE queue_calls SET outcome = ?, ended_at = ?, hangup_by = ?, note = ? WHERE id = ?",
        )
        .bind(f.outcome)
        .bind(format_time(f.ended_at))
        .bind(f.hangup_by)
        .bind(f.note)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(query_error("finish queue call"))?;
        Ok(())
    }

    /// Queue rows a crash left open are closed as `error`; returns how many.
    pub async fn close_unfinished_queue_calls(
        &self,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE queue_calls SET ended_at = ?, outcome = 'error',
               note = 'the dialer stopped during this call' WHERE ended_at IS NULL",
        )
        .bind(format_time(now))
        .execute(&self.pool)
        .await
        .map_err(query_error("close unfinished queue calls"))?;
        Ok(done.rows_affected())
    }

    /// Whether this agent took (answered) this call.
    pub async fn agent_took_call(&self, attempt: i64, agent: &str) -> Result<bool, StoreError> {
        let took: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM queue_calls WHERE attempt_id = ? AND agent = ?",
        )
        .bind(attempt)
        .bind(agent)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("check the agent's call"))?;
        Ok(took > 0)
    }

    /// The agent's tipificación of a call they took, with the promise to
    /// pay they noted, in one transaction (both or neither). Refused
    /// (false) when the agent did not take that call. The latest
    /// disposition of a call is the one reports show.
    pub async fn record_agent_disposition(
        &self,
        attempt: i64,
        agent: &str,
        disposition: &str,
        note: Option<&str>,
        promise: Option<&super::NewPromise<'_>>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if !self.agent_took_call(attempt, agent).await? {
            return Ok(false);
        }
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(query_error("record agent disposition"))?;
        sqlx::query(
            "INSERT INTO agent_dispositions (attempt_id, agent, disposition, note, created_at)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(attempt)
        .bind(agent)
        .bind(disposition)
        .bind(note)
        .bind(format_time(at))
        .execute(&mut *tx)
        .await
        .map_err(query_error("record agent disposition"))?;
        if let Some(p) = promise {
            sqlx::query(
                "INSERT INTO promises (attempt_id, campaign_id, contact_id, phone, promised_date, amount, node, created_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(p.attempt)
            .bind(p.campaign_id)
            .bind(p.contact_id)
            .bind(p.phone)
            .bind(p.promised_date)
            .bind(p.amount.map(|a| i64::try_from(a).unwrap_or(i64::MAX)))
            .bind(p.node)
            .bind(format_time(p.at))
            .execute(&mut *tx)
            .await
            .map_err(query_error("record promise"))?;
        }
        tx.commit()
            .await
            .map_err(query_error("record agent disposition"))?;
        Ok(true)
    }

    #[allow(clippy::too_many_arguments)] // one row's columns
    pub async fn schedule_callback(
        &self,
        campaign_id: i64,
        contact_id: &str,
        phone: &str,
        attempt: i64,
        queue: &str,
        due_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO callbacks (campaign_id, contact_id, phone, attempt_id, queue, due_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(campaign_id)
        .bind(contact_id)
        .bind(phone)
        .bind(attempt)
        .bind(queue)
        .bind(format_time(due_at))
        .bind(format_time(at))
        .execute(&self.pool)
        .await
        .map_err(query_error("schedule callback"))?;
        Ok(())
    }

    pub async fn record_voicemail(
        &self,
        attempt: i64,
        queue: &str,
        path: &str,
        seconds: f64,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO voicemails (attempt_id, queue, path, seconds, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(attempt)
        .bind(queue)
        .bind(path)
        .bind(seconds)
        .bind(format_time(at))
        .execute(&self.pool)
        .await
        .map_err(query_error("record voicemail"))?;
        Ok(())
    }

    /// Offered, answered, abandoned, overflowed, speed of answer and talk
    /// time per queue (the queue first entered).
    pub async fn queue_figures(&self) -> Result<Vec<QueueFigures>, StoreError> {
        sqlx::query_as(
            "SELECT queue,
                    count(*) AS offered,
                    sum(outcome = 'answered') AS answered,
                    sum(outcome = 'abandoned') AS abandoned,
                    sum(outcome IN ('callback', 'voicemail', 'no_agent')) AS overflowed,
                    avg(CASE WHEN answered_at IS NOT NULL
                        THEN (julianday(answered_at) - julianday(enqueued_at)) * 86400 END) AS avg_speed_of_answer_s,
                    max((julianday(COALESCE(answered_at, ended_at)) - julianday(enqueued_at)) * 86400) AS max_wait_s,
                    avg(CASE WHEN answered_at IS NOT NULL AND ended_at IS NOT NULL
                        THEN (julianday(ended_at) - julianday(answered_at)) * 86400 END) AS avg_talk_s
             FROM queue_calls GROUP BY queue ORDER BY queue",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("queue figures"))
    }

    /// Every agent state change, in order.
    pub async fn agent_events(&self) -> Result<Vec<AgentEventRow>, StoreError> {
        sqlx::query_as(
            "SELECT agent, state, reason, attempt_id, at FROM agent_events ORDER BY agent, at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("agent events"))
    }

    pub async fn agent_dispositions(&self) -> Result<Vec<AgentDispositionRow>, StoreError> {
        sqlx::query_as(
            "SELECT attempt_id, agent, disposition, note, created_at FROM agent_dispositions ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("agent dispositions"))
    }
}

/// An agent kept in the store (`dialer agents add`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AgentAccount {
    pub login: String,
    pub name: String,
    pub password: String,
    /// JSON array of `name:level` skills.
    pub skills: String,
    pub login_on_register: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl Store {
    /// Adds an agent, or replaces the one with the same login.
    pub async fn save_agent_account(&self, a: &AgentAccount) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO agent_accounts (login, name, password, skills, login_on_register, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(login) DO UPDATE SET name = excluded.name, password = excluded.password,
               skills = excluded.skills, login_on_register = excluded.login_on_register,
               updated_at = excluded.updated_at",
        )
        .bind(&a.login)
        .bind(&a.name)
        .bind(&a.password)
        .bind(&a.skills)
        .bind(a.login_on_register)
        .bind(&a.created_at)
        .bind(&a.updated_at)
        .execute(&self.pool)
        .await
        .map_err(query_error("save agent"))?;
        Ok(())
    }

    /// Removes an agent; false when there was none with that login.
    pub async fn remove_agent_account(&self, login: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM agent_accounts WHERE login = ?")
            .bind(login)
            .execute(&self.pool)
            .await
            .map_err(query_error("remove agent"))?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn agent_accounts(&self) -> Result<Vec<AgentAccount>, StoreError> {
        sqlx::query_as(
            "SELECT login, name, password, skills, login_on_register, created_at, updated_at
             FROM agent_accounts ORDER BY login",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("agents"))
    }
}
