//! The durable record: campaigns, contacts and attempts in SQL (sqlx).
//!
//! SQLite is the embedded default: one file, created and migrated on start,
//! in WAL mode with full fsync so a committed attempt survives a crash or a
//! power cut. An attempt row is inserted *before* its INVITE leaves (the
//! Call-ID is chosen first), updated when the call rings, answers and gets
//! digits, and finished when it ends. A row left unfinished by a crash is
//! closed as `unknown` at the next start, so no attempt is lost or redialed
//! by accident.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::campaign::{Contact, Disposition, HangupBy};

mod agents;
mod pacing;
mod writer;

use writer::{Write, Writer};

pub use agents::{
    AgentAccount, AgentDispositionRow, AgentEventRow, CallSummary, CallbackRow, FinishedQueueCall,
    NewQueueCall, QueueFigures,
};
pub use pacing::PacingHistory;

/// Handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Attempt writes; none for a database opened to read reports.
    writer: Option<Writer>,
    /// Numbers put on the do-not-call list through this handle since it
    /// opened, so a running campaign checks them without a query per call.
    opted_out: Arc<Mutex<HashSet<String>>>,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database {path}: cannot open: {source}")]
    Open { path: PathBuf, source: sqlx::Error },
    #[error("database {path}: cannot migrate the schema: {source}")]
    Migrate {
        path: PathBuf,
        source: sqlx::migrate::MigrateError,
    },
    #[error("{path} is not a dialer database (no campaigns, contacts and attempts tables)")]
    NotOurs { path: PathBuf },
    #[error("database opened to read reports: it takes no writes")]
    ReadOnly,
    #[error("database: {what}: {source}")]
    Query {
        what: &'static str,
        source: sqlx::Error,
    },
}

fn query_error(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { what, source }
}

/// A contact the rules refused to call now.
#[derive(Debug, Clone)]
pub struct Deferral {
    pub contact_id: String,
    pub phone: String,
    pub decided_at: DateTime<Utc>,
    /// "refused: ..."
    pub reason: String,
    pub retry_at: Option<DateTime<Utc>>,
}

/// A trunk's calls, as `dialer report --trunks` shows them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrunkRow {
    pub campaign: String,
    pub trunk: String,
    pub calls: i64,
    pub answered: i64,
    pub busy: i64,
    pub no_answer: i64,
    pub congestion: i64,
    pub trunk_failure: i64,
    pub other: i64,
    /// Average seconds an answered call lasted (ACD).
    pub talk_s: Option<f64>,
}

impl TrunkRow {
    /// Answered (by people or machines: the trunk connected the call)
    /// over seized (the calls the trunk took: any SIP response;
    /// `trunk_failure` got none).
    pub fn asr(&self) -> Option<f64> {
        let seized = self.calls - self.trunk_failure;
        (seized > 0).then(|| self.answered as f64 / seized as f64)
    }
}

/// A deferral as `dialer report --deferrals` shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeferralRow {
    pub campaign: String,
    pub contact_id: String,
    pub name: String,
    pub phone: String,
    pub decided_at: String,
    pub reason: String,
    pub retry_at: Option<String>,
}

/// The first write of an attempt, before its INVITE leaves.
#[derive(Debug, Clone)]
pub struct NewAttempt<'a> {
    pub campaign_id: i64,
    pub contact_id: &'a str,
    pub attempt_no: u32,
    pub phone: &'a str,
    pub trunk: &'a str,
    pub call_id: &'a str,
    pub started_at: DateTime<Utc>,
    /// Why the rules allowed the call ("allowed because ...").
    pub compliance: &'a str,
}

/// The last write of an attempt.
#[derive(Debug, Clone)]
pub struct FinishedAttempt {
    pub ended_at: DateTime<Utc>,
    pub sip_code: Option<u16>,
    pub sip_reason: Option<String>,
    pub disposition: Disposition,
    pub digits: String,
    pub hangup_by: Option<HangupBy>,
    pub note: Option<String>,
    /// The flow's outcome (tipificación), for calls that ran a flow.
    pub outcome: Option<String>,
    /// Nodes visited, in order.
    pub flow_path: Vec<String>,
    /// Keys entered, per node.
    pub inputs: Vec<(String, String)>,
    /// The call recording's path.
    pub recording: Option<String>,
    /// Loss and jitter both ways, for answered calls.
    pub quality: Option<MediaQuality>,
    /// Who the answering-machine detector said answered, and when.
    pub amd: Option<AmdResult>,
}

/// An answered call's answering-machine detection, as stored with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmdResult {
    pub verdict: media::amd::Verdict,
    /// Milliseconds of the far end's audio the verdict took.
    pub at_ms: u32,
}

/// A call's media quality, as stored with its attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MediaQuality {
    /// The far end's packets that reached us, and those that never did.
    pub received: u64,
    pub lost: i64,
    pub jitter_ms: f64,
    /// From the far end's RTCP: our packets it lost, its jitter, the round trip.
    pub far_lost: Option<u32>,
    pub far_jitter_ms: Option<f64>,
    pub rtt_ms: Option<f64>,
}

/// A promise to pay (promesa de pago) made on a call.
#[derive(Debug, Clone)]
pub struct NewPromise<'a> {
    pub attempt: i64,
    pub campaign_id: i64,
    pub contact_id: &'a str,
    pub phone: &'a str,
    pub promised_date: &'a str,
    pub amount: Option<u64>,
    pub node: &'a str,
    pub at: DateTime<Utc>,
}

/// A promise as the promises export shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PromiseRow {
    pub id: i64,
    pub campaign: String,
    pub contact_id: String,
    pub name: String,
    pub phone: String,
    pub promised_date: String,
    pub amount: Option<i64>,
    pub balance: String,
    pub call_id: String,
    pub attempt_id: i64,
    pub node: String,
    pub created_at: String,
}

/// One attempt as reports show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub id: i64,
    pub campaign: String,
    pub contact_id: String,
    pub attempt_no: i64,
    pub name: String,
    pub phone: String,
    pub trunk: String,
    pub call_id: String,
    pub started_at: String,
    pub ringing_at: Option<String>,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
    pub sip_code: Option<i64>,
    pub sip_reason: Option<String>,
    pub disposition: Option<String>,
    pub digits: String,
    pub codec: Option<String>,
    pub hangup_by: Option<String>,
    pub note: Option<String>,
    pub compliance: Option<String>,
    pub outcome: Option<String>,
    pub flow_path: Option<String>,
    pub inputs: Option<String>,
    /// The queue the debtor was transferred to, the agent who took the
    /// call, and the agent's tipificación.
    pub queue: Option<String>,
    pub agent: Option<String>,
    pub agent_disposition: Option<String>,
    /// The call recording's path, when recorded.
    pub recording: Option<String>,
    /// Media quality (see [`MediaQuality`]).
    pub rtp_received: Option<i64>,
    pub rtp_lost: Option<i64>,
    pub rtp_jitter_ms: Option<f64>,
    pub far_lost: Option<i64>,
    pub far_jitter_ms: Option<f64>,
    pub rtt_ms: Option<f64>,
    /// Answering-machine detection: `person`, `machine` or `unsure`, and
    /// the milliseconds it took.
    pub amd: Option<String>,
    pub amd_ms: Option<i64>,
}

/// The schema's migrations, embedded once: `Store::open` applies them,
/// `Store::open_existing` counts them.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Held while a process migrates the database at `path` (an exclusive
/// lock on `PATH.migrating` next to it; released when dropped). Taken at
/// start-up, before any call: waiting for it blocks nobody.
fn migration_lock(path: &Path) -> std::io::Result<std::fs::File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".migrating");
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(PathBuf::from(name))?;
    file.lock()?;
    Ok(file)
}

/// Stored time format: UTC, milliseconds, sortable as text.
pub fn format_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Store {
    /// Opens (creating if needed) and migrates the SQLite database at `path`.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.to_owned(),
                source: sqlx::Error::Io(e),
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // One connection is the attempt writer's.
        let pool = SqlitePoolOptions::new()
            .max_connections(5)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.to_owned(),
                source,
            })?;
        // Two processes that open one database at once (a run starting
        // while a report upgrades it) must not both apply a migration: the
        // second would find its columns there and fail.
        let lock = migration_lock(path).map_err(|e| StoreError::Open {
            path: path.to_owned(),
            source: sqlx::Error::Io(e),
        })?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                path: path.to_owned(),
                source,
            })?;
        drop(lock);
        let writer = pool.acquire().await.map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        Ok(Store {
            pool,
            writer: Some(Writer::start(writer)),
            opted_out: Arc::default(),
        })
    }

    /// Opens a database that `dialer run` made, for reading reports: never
    /// creates anything, so pointing it at the wrong file changes nothing.
    /// A database an older dialer made (ours: it has our tables) is
    /// brought up to date first, so its reports have the newest columns.
    pub async fn open_existing(path: &Path) -> Result<Store, StoreError> {
        let mut pool = Store::read_only(path).await?;
        let applied: i64 =
            sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&pool)
                .await
                .unwrap_or(0);
        if applied < MIGRATOR.iter().count() as i64 {
            pool.close().await;
            Store::open(path).await?.close().await;
            pool = Store::read_only(path).await?;
        }
        Ok(Store {
            pool,
            writer: None,
            opted_out: Arc::default(),
        })
    }

    /// A read-only connection to a database with our tables.
    async fn read_only(path: &Path) -> Result<SqlitePool, StoreError> {
        let not_ours = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        if !path.is_file() {
            return Err(not_ours(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such database file",
            ))));
        }
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(not_ours)?
            .filename(path)
            .read_only(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(not_ours)?;
        let tables: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('campaigns', 'contacts', 'attempts')",
        )
        .fetch_one(&pool)
        .await
        .map_err(not_ours)?;
        if tables != 3 {
            return Err(StoreError::NotOurs {
                path: path.to_owned(),
            });
        }
        Ok(pool)
    }

    /// The id of the campaign called `name`, creating it on first use.
    pub async fn ensure_campaign(&self, name: &str, now: DateTime<Utc>) -> Result<i64, StoreError> {
        sqlx::query(
            "INSERT INTO campaigns (name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
        )
        .bind(name)
        .bind(format_time(now))
        .execute(&self.pool)
        .await
        .map_err(query_error("create campaign"))?;
        sqlx::query_scalar("SELECT id FROM campaigns WHERE name = ?")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error("find campaign"))
    }

    /// Stores (or refreshes) the campaign's contacts in one transaction.
    pub async fn save_contacts(
        &self,
        campaign_id: i64,
        contacts: &[Contact],
    ) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(query_error("save contacts"))?;
        for c in contacts {
            let vars = serde_json::to_string(&c.vars).expect("a string map always serializes");
            sqlx::query(
                "INSERT INTO contacts (campaign_id, contact_id, phone, name, balance, due_date, vars, source_line)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT(campaign_id, contact_id) DO UPDATE SET
                   phone = excluded.phone, name = excluded.name, balance = excluded.balance,
                   due_date = excluded.due_date, vars = excluded.vars, source_line = excluded.source_line",
            )
            .bind(campaign_id)
            .bind(&c.id)
            .bind(&c.phone)
            .bind(&c.name)
            .bind(&c.balance)
            .bind(&c.due_date)
            .bind(vars)
            .bind(c.line as i64)
            .execute(&mut *tx)
            .await
            .map_err(query_error("save contact"))?;
        }
        tx.commit().await.map_err(query_error("save contacts"))
    }

    /// Closes attempts a crash left open, as `unknown`. Returns how many.
    pub async fn close_unfinished(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE attempts SET ended_at = ?, disposition = 'unknown',
               note = 'the dialer stopped during this call; its outcome is unknown'
             WHERE ended_at IS NULL",
        )
        .bind(format_time(now))
        .execute(&self.pool)
        .await
        .map_err(query_error("close unfinished attempts"))?;
        Ok(done.rows_affected())
    }

    /// Writes an attempt before its INVITE leaves; returns its id.
    pub async fn begin_attempt(&self, a: &NewAttempt<'_>) -> Result<i64, StoreError> {
        self.write(Write::Begin(a.into())).await
    }

    /// Notes the first ring (180/183); later rings keep the first time.
    pub async fn mark_ringing(&self, attempt: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(Write::Ringing { attempt, at }).await.map(drop)
    }

    pub async fn mark_answered(
        &self,
        attempt: i64,
        at: DateTime<Utc>,
        codec: &str,
    ) -> Result<(), StoreError> {
        self.write(Write::Answered {
            attempt,
            at,
            codec: codec.to_owned(),
        })
        .await
        .map(drop)
    }

    /// Appends a key press the moment it is heard.
    pub async fn add_digit(&self, attempt: i64, digit: char) -> Result<(), StoreError> {
        self.write(Write::Digit { attempt, digit }).await.map(drop)
    }

    pub async fn finish_attempt(
        &self,
        attempt: i64,
        f: &FinishedAttempt,
    ) -> Result<(), StoreError> {
        self.write(Write::Finish {
            attempt,
            finished: Box::new(f.clone()),
        })
        .await
        .map(drop)
    }

    /// An attempt write, group-committed (see [`writer`]); durable once it returns.
    async fn write(&self, write: Write) -> Result<i64, StoreError> {
        match &self.writer {
            Some(writer) => writer.write(write).await,
            None => Err(StoreError::ReadOnly),
        }
    }

    /// Every attempt, oldest first, optionally of one campaign.
    pub async fn attempts(&self, campaign: Option<&str>) -> Result<Vec<AttemptRow>, StoreError> {
        sqlx::query_as(
            "SELECT a.id, k.name AS campaign, a.contact_id, a.attempt_no, c.name, a.phone, a.trunk,
                    a.call_id, a.started_at, a.ringing_at, a.answered_at, a.ended_at, a.sip_code,
                    a.sip_reason, a.disposition, a.digits, a.codec, a.hangup_by, a.note, a.compliance,
                    a.outcome, a.flow_path, a.inputs, a.recording, a.rtp_received, a.rtp_lost,
                    a.rtp_jitter_ms, a.far_lost, a.far_jitter_ms, a.rtt_ms, a.amd, a.amd_ms,
                    (SELECT q.queue FROM queue_calls q WHERE q.attempt_id = a.id ORDER BY q.id DESC LIMIT 1) AS queue,
                    (SELECT q.agent FROM queue_calls q WHERE q.attempt_id = a.id ORDER BY q.id DESC LIMIT 1) AS agent,
                    (SELECT d.disposition FROM agent_dispositions d WHERE d.attempt_id = a.id ORDER BY d.id DESC LIMIT 1) AS agent_disposition
             FROM attempts a
             JOIN campaigns k ON k.id = a.campaign_id
             JOIN contacts c ON c.campaign_id = a.campaign_id AND c.contact_id = a.contact_id
             WHERE ?1 IS NULL OR k.name = ?1
             ORDER BY a.id",
        )
        .bind(campaign)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read attempts"))
    }

    /// Stores a promise to pay; the debtor hears the confirmation only after.
    pub async fn record_promise(&self, p: &NewPromise<'_>) -> Result<i64, StoreError> {
        let done = sqlx::query(
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
        .execute(&self.pool)
        .await
        .map_err(query_error("record promise"))?;
        Ok(done.last_insert_rowid())
    }

    /// Puts a number on the do-not-call list, for every campaign. The first
    /// entry of a number is kept.
    pub async fn add_do_not_call(
        &self,
        phone: &str,
        reason: &str,
        source: Option<(i64, &str, i64)>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO do_not_call (phone, reason, campaign_id, contact_id, attempt_id, created_at)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(phone) DO NOTHING",
        )
        .bind(phone)
        .bind(reason)
        .bind(source.map(|s| s.0))
        .bind(source.map(|s| s.1))
        .bind(source.map(|s| s.2))
        .bind(format_time(at))
        .execute(&self.pool)
        .await
        .map_err(query_error("add to do-not-call list"))?;
        self.opted_out
            .lock()
            .expect("never poisoned: no panics while held")
            .insert(phone.to_owned());
        Ok(())
    }

    /// Puts numbers on the do-not-call list (a registry's export, a
    /// client's list) in one transaction; how many were not on it yet.
    pub async fn import_do_not_call(
        &self,
        phones: &[String],
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(query_error("import do-not-call numbers"))?;
        let mut added = 0;
        for phone in phones {
            added += sqlx::query(
                "INSERT INTO do_not_call (phone, reason, created_at) VALUES (?, ?, ?)
                 ON CONFLICT(phone) DO NOTHING",
            )
            .bind(phone)
            .bind(reason)
            .bind(format_time(at))
            .execute(&mut *tx)
            .await
            .map_err(query_error("import a do-not-call number"))?
            .rows_affected() as usize;
        }
        tx.commit()
            .await
            .map_err(query_error("import do-not-call numbers"))?;
        Ok(added)
    }

    /// Whether this handle put the number on the do-not-call list since it
    /// opened (no query: see [`Store::do_not_call_among`] for the rest).
    pub fn opted_out_since_open(&self, phone: &str) -> bool {
        self.opted_out
            .lock()
            .expect("never poisoned: no panics while held")
            .contains(phone)
    }

    /// Which of these numbers are on the do-not-call list (a few hundred
    /// per query, so a long list takes a few queries, not one per number).
    pub async fn do_not_call_among(&self, phones: &[&str]) -> Result<HashSet<String>, StoreError> {
        let mut found = HashSet::new();
        for chunk in phones.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!("SELECT phone FROM do_not_call WHERE phone IN ({marks})");
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            for phone in chunk {
                query = query.bind(*phone);
            }
            found.extend(
                query
                    .fetch_all(&self.pool)
                    .await
                    .map_err(query_error("check do-not-call list"))?,
            );
        }
        Ok(found)
    }

    /// Every contact's attempts in the campaign, oldest first, as the
    /// retry policy reads them (with the callback promised on each).
    pub async fn attempt_history(
        &self,
        campaign_id: i64,
    ) -> Result<std::collections::HashMap<String, Vec<crate::campaign::retry::Past>>, StoreError>
    {
        self.history_of(campaign_id, None).await
    }

    /// One contact's attempts in the campaign, oldest first.
    pub async fn contact_history(
        &self,
        campaign_id: i64,
        contact_id: &str,
    ) -> Result<Vec<crate::campaign::retry::Past>, StoreError> {
        Ok(self
            .history_of(campaign_id, Some(contact_id))
            .await?
            .remove(contact_id)
            .unwrap_or_default())
    }

    async fn history_of(
        &self,
        campaign_id: i64,
        contact_id: Option<&str>,
    ) -> Result<std::collections::HashMap<String, Vec<crate::campaign::retry::Past>>, StoreError>
    {
        type Row = (
            String,
            Option<String>,
            Option<String>,
            String,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT a.contact_id, a.disposition, a.outcome, coalesce(a.ended_at, a.started_at),
                    b.due_at, b.queue
             FROM attempts a
             LEFT JOIN callbacks b ON b.id =
                 (SELECT max(c.id) FROM callbacks c WHERE c.attempt_id = a.id)
             WHERE a.campaign_id = ?1 AND (?2 IS NULL OR a.contact_id = ?2)
             ORDER BY a.id",
        )
        .bind(campaign_id)
        .bind(contact_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read the campaign's attempts"))?;
        let time = |t: &str| {
            DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .ok()
        };
        let mut history: std::collections::HashMap<String, Vec<crate::campaign::retry::Past>> =
            std::collections::HashMap::new();
        for (contact, disposition, outcome, ended, due, queue) in rows {
            history
                .entry(contact)
                .or_default()
                .push(crate::campaign::retry::Past {
                    disposition: disposition.and_then(|d| d.parse().ok()),
                    outcome,
                    ended_at: time(&ended).unwrap_or(DateTime::<Utc>::MIN_UTC),
                    callback: due.as_deref().and_then(time).zip(queue),
                });
        }
        Ok(history)
    }

    /// When the debtor was called since `since`, by number or by debt, in
    /// any campaign (the caps are the debtor's, not a campaign's), leaving
    /// out the calls of the `run` (campaign id, began at) in progress,
    /// which counts its own. Calls that never reached the carrier (`trunk_failure`) do
    /// not count.
    pub async fn calls_to(
        &self,
        phone: &str,
        contact_id: &str,
        since: DateTime<Utc>,
        run: Option<(i64, DateTime<Utc>)>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let (campaign_id, run_began) = run.unzip();
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, started_at FROM attempts
             WHERE phone = ?1 AND started_at > ?3 AND disposition IS NOT 'trunk_failure'
               AND (?4 IS NULL OR NOT (campaign_id = ?4 AND started_at >= ?5))
             UNION
             SELECT id, started_at FROM attempts
             WHERE contact_id = ?2 AND started_at > ?3 AND disposition IS NOT 'trunk_failure'
               AND (?4 IS NULL OR NOT (campaign_id = ?4 AND started_at >= ?5))",
        )
        .bind(phone)
        .bind(contact_id)
        .bind(format_time(since))
        .bind(campaign_id)
        .bind(run_began.map(format_time))
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read a debtor's recent calls"))?;
        Ok(rows
            .iter()
            .filter_map(|(_, t)| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .collect())
    }

    /// The debtor's latest abandoned call (outcome `abandoned`: a pacer's
    /// call no agent took in time) since `since`, by number or by debt.
    pub async fn abandoned_since(
        &self,
        phone: &str,
        contact_id: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let latest: Option<String> = sqlx::query_scalar(
            "SELECT max(started_at) FROM attempts
             WHERE (phone = ?1 OR contact_id = ?2) AND started_at > ?3 AND outcome = 'abandoned'",
        )
        .bind(phone)
        .bind(contact_id)
        .bind(format_time(since))
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("read a debtor's abandoned calls"))?;
        Ok(latest
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)))
    }

    /// Records that the rules refused to call these contacts now.
    pub async fn defer(&self, campaign_id: i64, deferrals: &[Deferral]) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(query_error("record deferrals"))?;
        for d in deferrals {
            sqlx::query(
                "INSERT INTO deferrals (campaign_id, contact_id, phone, decided_at, reason, retry_at)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(campaign_id)
            .bind(&d.contact_id)
            .bind(&d.phone)
            .bind(format_time(d.decided_at))
            .bind(&d.reason)
            .bind(d.retry_at.map(format_time))
            .execute(&mut *tx)
            .await
            .map_err(query_error("record a deferral"))?;
        }
        tx.commit().await.map_err(query_error("record deferrals"))
    }

    /// The latest refusal of each contact not attempted since, soonest
    /// `retry_at` first, optionally of one campaign.
    pub async fn deferrals(&self, campaign: Option<&str>) -> Result<Vec<DeferralRow>, StoreError> {
        sqlx::query_as(
            "SELECT k.name AS campaign, d.contact_id, c.name, d.phone, d.decided_at, d.reason, d.retry_at
             FROM deferrals d
             JOIN campaigns k ON k.id = d.campaign_id
             JOIN contacts c ON c.campaign_id = d.campaign_id AND c.contact_id = d.contact_id
             WHERE (?1 IS NULL OR k.name = ?1)
               AND d.id = (SELECT max(e.id) FROM deferrals e
                           WHERE e.campaign_id = d.campaign_id AND e.contact_id = d.contact_id)
               AND NOT EXISTS (SELECT 1 FROM attempts a
                               WHERE a.campaign_id = d.campaign_id AND a.contact_id = d.contact_id
                                 AND a.started_at > d.decided_at)
             ORDER BY d.retry_at IS NULL, d.retry_at, d.id",
        )
        .bind(campaign)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read deferrals"))
    }

    /// Each trunk's calls and how they ended, per campaign.
    pub async fn trunks(&self, campaign: Option<&str>) -> Result<Vec<TrunkRow>, StoreError> {
        sqlx::query_as(
            "SELECT k.name AS campaign, a.trunk, count(*) AS calls,
                    sum(a.disposition IN ('answered', 'machine')) AS answered,
                    sum(a.disposition = 'busy') AS busy,
                    sum(a.disposition = 'no_answer') AS no_answer,
                    sum(a.disposition = 'congestion') AS congestion,
                    sum(a.disposition = 'trunk_failure') AS trunk_failure,
                    sum(a.disposition IS NULL OR a.disposition NOT IN
                        ('answered', 'machine', 'busy', 'no_answer', 'congestion', 'trunk_failure')) AS other,
                    avg(CASE WHEN a.disposition = 'answered'
                        THEN (julianday(a.ended_at) - julianday(a.answered_at)) * 86400.0 END) AS talk_s
             FROM attempts a JOIN campaigns k ON k.id = a.campaign_id
             WHERE ?1 IS NULL OR k.name = ?1
             GROUP BY k.name, a.trunk ORDER BY k.name, a.trunk",
        )
        .bind(campaign)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read trunk figures"))
    }

    /// Every promise, oldest first, optionally of one campaign.
    pub async fn promises(&self, campaign: Option<&str>) -> Result<Vec<PromiseRow>, StoreError> {
        sqlx::query_as(
            "SELECT p.id, k.name AS campaign, p.contact_id, c.name, p.phone, p.promised_date, p.amount,
                    c.balance, a.call_id, p.attempt_id, p.node, p.created_at
             FROM promises p
             JOIN campaigns k ON k.id = p.campaign_id
             JOIN contacts c ON c.campaign_id = p.campaign_id AND c.contact_id = p.contact_id
             JOIN attempts a ON a.id = p.attempt_id
             WHERE ?1 IS NULL OR k.name = ?1
             ORDER BY p.id",
        )
        .bind(campaign)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read promises"))
    }

    pub async fn close(&self) {
        if let Some(writer) = &self.writer {
            writer.close().await;
        }
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn contact(id: &str) -> Contact {
        Contact {
            id: id.into(),
            phone: "+525512345678".into(),
            name: "Juan Pérez".into(),
            balance: "1234.50".into(),
            due_date: "2026-12-15".into(),
            vars: BTreeMap::from([("segmento".into(), "temprana".into())]),
            line: 2,
        }
    }

    #[tokio::test]
    async fn an_attempt_is_written_first_and_finished_later_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/dialer.db");
        let now = Utc::now();
        let store = Store::open(&path).await.unwrap();
        let campaign = store.ensure_campaign("recordatorio", now).await.unwrap();
        assert_eq!(
            store.ensure_campaign("recordatorio", now).await.unwrap(),
            campaign
        );
        store
            .save_contacts(campaign, &[contact("C1"), contact("C2")])
            .await
            .unwrap();
        let id = store
            .begin_attempt(&NewAttempt {
                campaign_id: campaign,
                contact_id: "C1",
                attempt_no: 1,
                phone: "+525512345678",
                trunk: "carrier",
                call_id: "abc@dialer",
                started_at: now,
                compliance: "allowed because of a test",
            })
            .await
            .unwrap();
        let row = &store.attempts(None).await.unwrap()[0];
        assert_eq!(
            (row.call_id.as_str(), row.ended_at.as_deref()),
            ("abc@dialer", None)
        );
        store.mark_ringing(id, now).await.unwrap();
        store.mark_answered(id, now, "PCMU").await.unwrap();
        store.add_digit(id, '1').await.unwrap();
        store.add_digit(id, '#').await.unwrap();
        assert_eq!(store.attempts(None).await.unwrap()[0].digits, "1#");
        store
            .finish_attempt(
                id,
                &FinishedAttempt {
                    ended_at: now,
                    sip_code: Some(200),
                    sip_reason: Some("OK".into()),
                    disposition: Disposition::Answered,
                    digits: "1#".into(),
                    hangup_by: Some(HangupBy::Callee),
                    note: None,
                    outcome: Some("promise_to_pay".into()),
                    flow_path: vec!["saludo".into(), "menu".into()],
                    inputs: vec![("menu".into(), "2".into())],
                    recording: Some("grabaciones/1.wav".into()),
                    quality: Some(MediaQuality {
                        received: 480,
                        lost: 3,
                        jitter_ms: 1.25,
                        far_lost: Some(0),
                        far_jitter_ms: None,
                        rtt_ms: Some(12.5),
                    }),
                    amd: Some(AmdResult {
                        verdict: media::amd::Verdict::Person,
                        at_ms: 1_660,
                    }),
                },
            )
            .await
            .unwrap();
        store.close().await;

        let store = Store::open(&path).await.unwrap();
        let rows = store.attempts(Some("recordatorio")).await.unwrap();
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.disposition.as_deref(), Some("answered"));
        assert_eq!(row.sip_code, Some(200));
        assert_eq!(row.name, "Juan Pérez");
        assert_eq!(row.hangup_by.as_deref(), Some("callee"));
        assert_eq!(row.outcome.as_deref(), Some("promise_to_pay"));
        assert_eq!(row.flow_path.as_deref(), Some("saludo > menu"));
        assert_eq!(row.inputs.as_deref(), Some(r#"[["menu","2"]]"#));
        assert_eq!(row.recording.as_deref(), Some("grabaciones/1.wav"));
        assert_eq!((row.rtp_received, row.rtp_lost), (Some(480), Some(3)));
        assert_eq!(
            (row.amd.as_deref(), row.amd_ms),
            (Some("person"), Some(1_660))
        );
        assert_eq!((row.rtp_jitter_ms, row.far_lost), (Some(1.25), Some(0)));
        assert_eq!((row.far_jitter_ms, row.rtt_ms), (None, Some(12.5)));
        store
            .record_promise(&NewPromise {
                attempt: id,
                campaign_id: campaign,
                contact_id: "C1",
                phone: "+525512345678",
                promised_date: "2026-12-15",
                amount: Some(500),
                node: "promesa",
                at: now,
            })
            .await
            .unwrap();
        let promises = store.promises(Some("recordatorio")).await.unwrap();
        assert_eq!(
            (
                promises[0].promised_date.as_str(),
                promises[0].amount,
                promises[0].call_id.as_str()
            ),
            ("2026-12-15", Some(500), "abc@dialer")
        );
        assert!(
            store
                .do_not_call_among(&["+525512345678"])
                .await
                .unwrap()
                .is_empty()
        );
        assert!(!store.opted_out_since_open("+525512345678"));
        store
            .add_do_not_call("+525512345678", "opt_out", Some((campaign, "C1", id)), now)
            .await
            .unwrap();
        store
            .add_do_not_call("+525512345678", "opt_out", None, now)
            .await
            .unwrap();
        assert_eq!(
            store
                .do_not_call_among(&["+525500000000", "+525512345678"])
                .await
                .unwrap(),
            HashSet::from(["+525512345678".to_string()])
        );
        assert!(store.opted_out_since_open("+525512345678"));
        assert!(row.answered_at.as_deref().unwrap().ends_with('Z'));
        let attempted: HashSet<String> = store
            .attempt_history(campaign)
            .await
            .unwrap()
            .into_keys()
            .collect();
        assert_eq!(attempted, HashSet::from(["C1".to_string()]));
        assert!(store.attempts(Some("other")).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn reports_never_touch_a_file_that_is_not_ours() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nada.db");
        let err = Store::open_existing(&missing)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("nada.db") && err.contains("no such database file"),
            "{err}"
        );
        assert!(!missing.exists());
        let other = dir.path().join("otra.db");
        std::fs::write(&other, b"").unwrap();
        let err = Store::open_existing(&other).await.unwrap_err().to_string();
        assert!(err.contains("is not a dialer database"), "{err}");
        assert_eq!(
            std::fs::read(&other).unwrap(),
            b"",
            "the file was not changed"
        );
    }

    /// A database an older dialer made (here: without the last migration
    /// and its index) is brought up to date when a report opens it.
    #[tokio::test]
    async fn reports_bring_an_older_dialers_database_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dialer.db");
        let store = Store::open(&path).await.unwrap();
        let latest: i64 = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        for statement in [
            "DROP INDEX attempts_by_campaign".to_string(),
            format!("DELETE FROM _sqlx_migrations WHERE version = {latest}"),
        ] {
            sqlx::query(&statement).execute(&store.pool).await.unwrap();
        }
        store.close().await;
        let store = Store::open_existing(&path).await.unwrap();
        assert!(store.attempts(None).await.unwrap().is_empty());
        let applied: i64 = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(applied, latest);
        let index: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'attempts_by_campaign'",
        )
        .fetch_one(&store.pool)
        .await
        .unwrap();
        assert_eq!(index, 1, "the last migration applied again");
        assert!(store.writer.is_none(), "still a read-only store");
    }

    #[tokio::test]
    async fn attempts_left_open_by_a_crash_are_closed_as_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dialer.db");
        let now = Utc::now();
        let store = Store::open(&path).await.unwrap();
        let campaign = store.ensure_campaign("c", now).await.unwrap();
        store
            .save_contacts(campaign, &[contact("C1")])
            .await
            .unwrap();
        let attempt = NewAttempt {
            campaign_id: campaign,
            contact_id: "C1",
            attempt_no: 1,
            phone: "+525512345678",
            trunk: "t",
            call_id: "x",
            started_at: now,
            compliance: "allowed because of a test",
        };
        store.begin_attempt(&attempt).await.unwrap();
        // The same attempt number of the same contact cannot be written twice.
        assert!(
            store
                .begin_attempt(&NewAttempt {
                    call_id: "y",
                    ..attempt
                })
                .await
                .is_err()
        );
        drop(store);
        let store = Store::open(&path).await.unwrap();
        assert_eq!(store.close_unfinished(now).await.unwrap(), 1);
        let row = &store.attempts(None).await.unwrap()[0];
        assert_eq!(row.disposition.as_deref(), Some("unknown"));
        assert!(row.ended_at.is_some());
        assert_eq!(store.close_unfinished(now).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn writes_made_together_commit_together_and_a_bad_one_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let store = Store::open(&dir.path().join("dialer.db")).await.unwrap();
        let campaign = store.ensure_campaign("c", now).await.unwrap();
        let contacts: Vec<Contact> = (0..40).map(|i| contact(&format!("C{i}"))).collect();
        store.save_contacts(campaign, &contacts).await.unwrap();
        let call_ids: Vec<String> = (0..41).map(|i| format!("call-{i}")).collect();
        // 40 attempts and, among them, a second attempt 1 of C7: refused.
        let begins = (0..41).map(|i| {
            let store = store.clone();
            let contact_id = format!("C{}", if i == 40 { 7 } else { i });
            let call_id = call_ids[i].clone();
            async move {
                store
                    .begin_attempt(&NewAttempt {
                        campaign_id: campaign,
                        contact_id: &contact_id,
                        attempt_no: 1,
                        phone: "+525512345678",
                        trunk: "t",
                        call_id: &call_id,
                        started_at: now,
                        compliance: "allowed because of a test",
                    })
                    .await
            }
        });
        let ids = futures::future::join_all(begins).await;
        assert!(ids[..40].iter().all(Result::is_ok), "{ids:?}");
        assert!(ids[40].is_err());
        let ids: Vec<i64> = ids[..40].iter().map(|r| *r.as_ref().unwrap()).collect();
        let distinct: HashSet<i64> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), 40);
        let progress = ids.iter().enumerate().map(|(i, &id)| {
            let store = store.clone();
            async move {
                match i % 3 {
                    0 => store.mark_ringing(id, now).await,
                    1 => store.mark_answered(id, now, "PCMA").await,
                    _ => store.add_digit(id, '5').await,
                }
            }
        });
        assert!(
            futures::future::join_all(progress)
                .await
                .iter()
                .all(Result::is_ok)
        );
        let finishes = ids.iter().enumerate().map(|(i, &id)| {
            let store = store.clone();
            async move {
                store
                    .finish_attempt(
                        id,
                        &FinishedAttempt {
                            ended_at: now,
                            sip_code: Some(200),
                            sip_reason: Some("OK".into()),
                            disposition: Disposition::Answered,
                            digits: "5".repeat(i % 3 / 2),
                            hangup_by: Some(HangupBy::Dialer),
                            note: Some(format!("call {i}")),
                            outcome: None,
                            flow_path: vec!["inicio".into()],
                            inputs: Vec::new(),
                            recording: None,
                            quality: Some(MediaQuality {
                                received: i as u64,
                                lost: 1,
                                jitter_ms: 0.5,
                                far_lost: None,
                                far_jitter_ms: None,
                                rtt_ms: Some(1.5),
                            }),
                            amd: None,
                        },
                    )
                    .await
            }
        });
        assert!(
            futures::future::join_all(finishes)
                .await
                .iter()
                .all(Result::is_ok)
        );
        let rows = store.attempts(None).await.unwrap();
        assert_eq!(rows.len(), 40);
        for row in &rows {
            let i = ids.iter().position(|&id| id == row.id).unwrap();
            assert_eq!(row.call_id, call_ids[i]);
            assert_eq!(row.contact_id, format!("C{i}"));
            assert_eq!(row.ringing_at.is_some(), i % 3 == 0, "{row:?}");
            assert_eq!(row.codec.as_deref(), (i % 3 == 1).then_some("PCMA"));
            assert_eq!(row.digits, "5".repeat(i % 3 / 2));
            assert_eq!(row.note.as_deref(), Some(format!("call {i}").as_str()));
            assert_eq!(row.disposition.as_deref(), Some("answered"));
            assert_eq!(row.rtp_received, Some(i as i64));
            assert_eq!(row.rtt_ms, Some(1.5));
            assert_eq!(row.flow_path.as_deref(), Some("inicio"));
        }
        store.close().await;
    }
}
