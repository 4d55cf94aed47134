//! Attempt writes, group-committed.
//!
//! Every write of a call's attempt row (begun, ringing, answered, a digit,
//! finished) goes to one writer task that owns a connection. It takes every
//! write waiting, runs them in one transaction and commits once: one fsync
//! for the lot instead of one per write. A write's caller is answered only
//! after that commit, so a write that returned is as durable as before;
//! while one commit is on the disk, the next batch gathers. A write that
//! fails on its own (its statement is refused) fails alone; the others of
//! its batch still commit.

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use tracing::info;

use super::{FinishedAttempt, NewAttempt, StoreError, format_time, query_error};
use crate::campaign::HangupBy;

/// The most writes one transaction carries.
const MAX_BATCH: usize = 512;
/// How long the first write of a batch waits for others to join it. A
/// commit costs about the same for one write or fifty, so waiting a
/// millisecond at a thousand calls per second saves most of them; a quiet
/// dialer's writes wait the same millisecond, which nobody hears.
const GATHER: std::time::Duration = std::time::Duration::from_millis(1);
/// Writes queued before callers wait for room (backpressure).
const QUEUE: usize = 8192;

/// One write to an attempt row.
#[derive(Debug)]
pub(super) enum Write {
    Begin(BeginAttempt),
    Ringing {
        attempt: i64,
        at: DateTime<Utc>,
    },
    Answered {
        attempt: i64,
        at: DateTime<Utc>,
        codec: String,
    },
    Digit {
        attempt: i64,
        digit: char,
    },
    Finish {
        attempt: i64,
        finished: Box<FinishedAttempt>,
    },
}

/// [`NewAttempt`], owned, to travel to the writer.
#[derive(Debug)]
pub(super) struct BeginAttempt {
    campaign_id: i64,
    contact_id: String,
    attempt_no: u32,
    phone: String,
    trunk: String,
    call_id: String,
    started_at: DateTime<Utc>,
    compliance: String,
}

impl From<&NewAttempt<'_>> for BeginAttempt {
    fn from(a: &NewAttempt<'_>) -> BeginAttempt {
        BeginAttempt {
            campaign_id: a.campaign_id,
            contact_id: a.contact_id.to_owned(),
            attempt_no: a.attempt_no,
            phone: a.phone.to_owned(),
            trunk: a.trunk.to_owned(),
            call_id: a.call_id.to_owned(),
            started_at: a.started_at,
            compliance: a.compliance.to_owned(),
        }
    }
}

enum Job {
    Write(Write, oneshot::Sender<Result<i64, StoreError>>),
    /// Give the connection back to the pool and stop.
    Close(oneshot::Sender<()>),
}

/// Handle to the writer task; cheap to clone.
#[derive(Debug, Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Write(write, _) => write.fmt(f),
            Job::Close(_) => f.write_str("Close"),
        }
    }
}

fn closed() -> StoreError {
    StoreError::Query {
        what: "record attempt",
        source: sqlx::Error::PoolClosed,
    }
}

impl Writer {
    /// Starts the writer on a connection of its own.
    pub(super) fn start(connection: PoolConnection<Sqlite>) -> Writer {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(connection, queue));
        Writer { jobs }
    }

    /// Queues a write and waits for its commit. Returns the row id for
    /// [`Write::Begin`], 0 for the others.
    pub(super) async fn write(&self, write: Write) -> Result<i64, StoreError> {
        let (done, result) = oneshot::channel();
        self.jobs
            .send(Job::Write(write, done))
            .await
            .map_err(|_| closed())?;
        result.await.map_err(|_| closed())?
    }

    /// Finishes the writes queued so far and releases the connection.
    pub(super) async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.jobs.send(Job::Close(done)).await.is_ok() {
            let _ = closed.await;
        }
    }
}

async fn run(mut connection: PoolConnection<Sqlite>, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut results = Vec::with_capacity(MAX_BATCH);
    let mut close = None;
    let (mut commits, mut writes) = (0u64, 0u64);
    while close.is_none() {
        let Some(job) = queue.recv().await else {
            break;
        };
        let gathered_by = tokio::time::Instant::now() + GATHER;
        let mut next = Some(job);
        while let Some(job) = next.take() {
            match job {
                Job::Write(write, done) => batch.push((write, done)),
                Job::Close(done) => {
                    close = Some(done);
                    break;
                }
            }
            if batch.len() < MAX_BATCH {
                next = match queue.try_recv() {
                    Ok(job) => Some(job),
                    Err(_) => tokio::time::timeout_at(gathered_by, queue.recv())
                        .await
                        .ok()
                        .flatten(),
                };
            }
        }
        if batch.is_empty() {
            continue;
        }
        commits += 1;
        writes += batch.len() as u64;
        let committed = commit(&mut connection, &batch, &mut results).await;
        for ((_, done), result) in batch.drain(..).zip(results.drain(..)) {
            let _ = done.send(match &committed {
                Ok(()) => result,
                Err(reason) => Err(StoreError::Query {
                    what: "commit attempt writes",
                    source: sqlx::Error::Protocol(reason.clone()),
                }),
            });
        }
    }
    drop(connection);
    info!(
        writes,
        commits,
        per_commit = format!("{:.1}", writes as f64 / commits.max(1) as f64),
        "attempt writer closed"
    );
    if let Some(done) = close {
        let _ = done.send(());
    }
}

/// Runs the batch in one transaction. Each write's own result goes to
/// `results`; the commit's failure, if any, is returned.
///
/// A call waits for each of its writes, so a batch holds at most one write
/// per attempt and the writes are independent: those of one kind go in one
/// statement. When a grouped statement is refused, its writes run one by
/// one, so only the bad write fails.
async fn commit(
    connection: &mut SqliteConnection,
    batch: &[(Write, oneshot::Sender<Result<i64, StoreError>>)],
    results: &mut Vec<Result<i64, StoreError>>,
) -> Result<(), String> {
    results.clear();
    results.resize_with(batch.len(), || Ok(0));
    let mut tx = connection.begin().await.map_err(|e| e.to_string())?;
    for kind in 0..5 {
        let group: Vec<usize> = (0..batch.len())
            .filter(|&i| batch[i].0.kind() == kind)
            .collect();
        if group.is_empty() {
            continue;
        }
        let writes: Vec<&Write> = group.iter().map(|&i| &batch[i].0).collect();
        match apply_group(&mut tx, &writes).await {
            Ok(ids) => {
                for (&i, id) in group.iter().zip(ids) {
                    results[i] = Ok(id);
                }
            }
            Err(_) => {
                for &i in &group {
                    results[i] = apply(&mut tx, &batch[i].0).await;
                }
            }
        }
    }
    tx.commit().await.map_err(|e| e.to_string())
}

impl Write {
    /// What the write does, for its error.
    fn what(&self) -> &'static str {
        match self {
            Write::Begin(_) => "record attempt",
            Write::Ringing { .. } => "record ringing",
            Write::Answered { .. } => "record answer",
            Write::Digit { .. } => "record digit",
            Write::Finish { .. } => "finish attempt",
        }
    }

    fn kind(&self) -> usize {
        match self {
            Write::Begin(_) => 0,
            Write::Ringing { .. } => 1,
            Write::Answered { .. } => 2,
            Write::Digit { .. } => 3,
            Write::Finish { .. } => 4,
        }
    }
}

/// `n` rows of `width` placeholders: `(?, ?), (?, ?)`.
fn rows(n: usize, width: usize) -> String {
    let row = format!("({})", vec!["?"; width].join(", "));
    vec![row; n].join(", ")
}

/// Writes of one kind in one statement; the row ids for `Begin`, in order.
async fn apply_group(
    connection: &mut SqliteConnection,
    writes: &[&Write],
) -> Result<Vec<i64>, sqlx::Error> {
    match writes[0] {
        Write::Begin(_) => {
            let sql = format!(
                "INSERT INTO attempts (campaign_id, contact_id, attempt_no, phone, trunk, call_id, started_at, compliance)
                 VALUES {} RETURNING id, call_id",
                rows(writes.len(), 8)
            );
            let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
            for write in writes {
                let Write::Begin(a) = write else {
                    unreachable!("grouped by kind")
                };
                query = query
                    .bind(a.campaign_id)
                    .bind(&a.contact_id)
                    .bind(a.attempt_no)
                    .bind(&a.phone)
                    .bind(&a.trunk)
                    .bind(&a.call_id)
                    .bind(format_time(a.started_at))
                    .bind(&a.compliance);
            }
            let returned: std::collections::HashMap<String, i64> = query
                .fetch_all(&mut *connection)
                .await?
                .into_iter()
                .map(|(id, call_id)| (call_id, id))
                .collect();
            writes
                .iter()
                .map(|write| match write {
                    Write::Begin(a) => returned.get(&a.call_id).copied(),
                    _ => None,
                })
                .collect::<Option<Vec<i64>>>()
                .ok_or_else(|| sqlx::Error::Protocol("an inserted attempt's id is missing".into()))
        }
        Write::Ringing { .. } => {
            let sql = format!(
                "UPDATE attempts SET ringing_at = COALESCE(ringing_at, v.column2)
                 FROM (VALUES {}) AS v WHERE attempts.id = v.column1",
                rows(writes.len(), 2)
            );
            let mut query = sqlx::query(&sql);
            for write in writes {
                if let Write::Ringing { attempt, at } = write {
                    query = query.bind(attempt).bind(format_time(*at));
                }
            }
            query.execute(connection).await?;
            Ok(vec![0; writes.len()])
        }
        Write::Answered { .. } => {
            let sql = format!(
                "UPDATE attempts SET answered_at = v.column2, codec = v.column3
                 FROM (VALUES {}) AS v WHERE attempts.id = v.column1",
                rows(writes.len(), 3)
            );
            let mut query = sqlx::query(&sql);
            for write in writes {
                if let Write::Answered { attempt, at, codec } = write {
                    query = query.bind(attempt).bind(format_time(*at)).bind(codec);
                }
            }
            query.execute(connection).await?;
            Ok(vec![0; writes.len()])
        }
        Write::Digit { .. } => {
            let sql = format!(
                "UPDATE attempts SET digits = digits || v.column2
                 FROM (VALUES {}) AS v WHERE attempts.id = v.column1",
                rows(writes.len(), 2)
            );
            let mut query = sqlx::query(&sql);
            for write in writes {
                if let Write::Digit { attempt, digit } = write {
                    query = query.bind(attempt).bind(digit.to_string());
                }
            }
            query.execute(connection).await?;
            Ok(vec![0; writes.len()])
        }
        Write::Finish { .. } => {
            let sql = format!(
                "UPDATE attempts SET ended_at = v.column2, sip_code = v.column3,
                   sip_reason = v.column4, disposition = v.column5, digits = v.column6,
                   hangup_by = v.column7, note = v.column8, outcome = v.column9,
                   flow_path = v.column10, inputs = v.column11, recording = v.column12,
                   rtp_received = v.column13, rtp_lost = v.column14, rtp_jitter_ms = v.column15,
                   far_lost = v.column16, far_jitter_ms = v.column17, rtt_ms = v.column18,
                   amd = v.column19, amd_ms = v.column20
                 FROM (VALUES {}) AS v WHERE attempts.id = v.column1",
                rows(writes.len(), 20)
            );
            let mut query = sqlx::query(&sql);
            for write in writes {
                if let Write::Finish { attempt, finished } = write {
                    let columns = FinishColumns::of(finished);
                    query = query
                        .bind(attempt)
                        .bind(columns.ended_at)
                        .bind(finished.sip_code)
                        .bind(&finished.sip_reason)
                        .bind(finished.disposition.as_str())
                        .bind(&finished.digits)
                        .bind(finished.hangup_by.map(HangupBy::as_str))
                        .bind(&finished.note)
                        .bind(&finished.outcome)
                        .bind(columns.flow_path)
                        .bind(columns.inputs)
                        .bind(&finished.recording)
                        .bind(columns.rtp_received)
                        .bind(columns.rtp_lost)
                        .bind(columns.rtp_jitter_ms)
                        .bind(columns.far_lost)
                        .bind(columns.far_jitter_ms)
                        .bind(columns.rtt_ms)
                        .bind(finished.amd.map(|a| a.verdict.as_str()))
                        .bind(finished.amd.map(|a| i64::from(a.at_ms)));
                }
            }
            query.execute(connection).await?;
            Ok(vec![0; writes.len()])
        }
    }
}

/// A finished attempt's derived column values.
struct FinishColumns {
    ended_at: String,
    flow_path: Option<String>,
    inputs: Option<String>,
    rtp_received: Option<i64>,
    rtp_lost: Option<i64>,
    rtp_jitter_ms: Option<f64>,
    far_lost: Option<i64>,
    far_jitter_ms: Option<f64>,
    rtt_ms: Option<f64>,
}

impl FinishColumns {
    fn of(f: &FinishedAttempt) -> FinishColumns {
        FinishColumns {
            ended_at: format_time(f.ended_at),
            flow_path: (!f.flow_path.is_empty()).then(|| f.flow_path.join(" > ")),
            inputs: (!f.inputs.is_empty())
                .then(|| serde_json::to_string(&f.inputs).expect("pairs of strings serialize")),
            rtp_received: f
                .quality
                .map(|q| i64::try_from(q.received).unwrap_or(i64::MAX)),
            rtp_lost: f.quality.map(|q| q.lost),
            rtp_jitter_ms: f.quality.map(|q| q.jitter_ms),
            far_lost: f.quality.and_then(|q| q.far_lost).map(i64::from),
            far_jitter_ms: f.quality.and_then(|q| q.far_jitter_ms),
            rtt_ms: f.quality.and_then(|q| q.rtt_ms),
        }
    }
}

/// One write alone (when its group was refused): the same statement, one row.
async fn apply(connection: &mut SqliteConnection, write: &Write) -> Result<i64, StoreError> {
    apply_group(connection, &[write])
        .await
        .map(|ids| ids[0])
        .map_err(query_error(write.what()))
}
