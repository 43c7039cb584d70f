//! What the operator dashboard reads and changes beyond the API's own queries: the log lines
//! of sync runs (`run_logs`), the newest runs, deliveries and connection links across every
//! integration, a delivery's attempts (`delivery_attempts`), and redelivering a webhook
//! delivery.

use atsbridge_model::Timestamp;

use crate::connect::{ConnectLink, StoredLink};
use crate::runs::run_from_row;
use crate::webhooks::{Delivery, DeliveryRow};
use crate::{millis, pg, sqlite, timestamp, Db, Result, RunRow, Store, StoreError};

/// How much a log line matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "INFO" => Some(LogLevel::Info),
            "WARN" => Some(LogLevel::Warn),
            "ERROR" => Some(LogLevel::Error),
            _ => None,
        }
    }
}

/// One line of a run's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub at: Timestamp,
    pub level: LogLevel,
    pub message: String,
}

/// A log line as both drivers read and write it: seq, at, level, message.
pub(crate) type LogRow = (i64, i64, String, String);

/// One attempt of a webhook delivery, as it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// 1 for the first; a redelivery continues the count.
    pub attempt: i64,
    pub at: Timestamp,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// An attempt as both drivers read it: attempt, at, status, latency_ms, error.
pub(crate) type AttemptRecordRow = (i64, i64, Option<i64>, i64, Option<String>);

impl Store {
    /// Appends `lines` to a run's log, numbered from `first_seq` on.
    pub async fn append_run_log(
        &self,
        run_id: &str,
        first_seq: i64,
        lines: &[LogLine],
    ) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let rows: Vec<LogRow> = lines
            .iter()
            .zip(first_seq..)
            .map(|(l, seq)| {
                (
                    seq,
                    millis(l.at),
                    l.level.as_str().to_owned(),
                    l.message.clone(),
                )
            })
            .collect();
        match &self.db {
            Db::Sqlite(s) => {
                let run_id = run_id.to_owned();
                s.write("writing a run log", move |tx| {
                    sqlite::dashboard::append_log(tx, &run_id, &rows)
                })
                .await
            }
            Db::Postgres(p) => pg::dashboard::append_log(p, run_id, &rows).await,
        }
    }

    /// A run's log, in order.
    pub async fn run_log(&self, run_id: &str) -> Result<Vec<LogLine>> {
        let rows = match &self.db {
            Db::Sqlite(s) => {
                let run_id = run_id.to_owned();
                s.read("reading a run log", move |tx| {
                    sqlite::dashboard::log(tx, &run_id)
                })
                .await?
            }
            Db::Postgres(p) => pg::dashboard::log(p, run_id).await?,
        };
        rows.into_iter()
            .map(|(_, at, level, message)| {
                Ok(LogLine {
                    at: timestamp(at)?,
                    level: LogLevel::parse(&level)
                        .ok_or_else(|| StoreError::Corrupt(format!("log level `{level}`")))?,
                    message,
                })
            })
            .collect()
    }

    /// The newest runs of every integration, newest first.
    pub async fn recent_runs(&self, limit: i64) -> Result<Vec<RunRow>> {
        let rows = match &self.db {
            Db::Sqlite(s) => {
                s.read("listing runs", move |tx| {
                    sqlite::dashboard::recent_runs(tx, limit)
                })
                .await?
            }
            Db::Postgres(p) => pg::dashboard::recent_runs(p, limit).await?,
        };
        rows.into_iter().map(run_from_row).collect()
    }

    /// The newest deliveries of every webhook, newest first.
    pub async fn recent_deliveries(&self, limit: i64) -> Result<Vec<Delivery>> {
        let rows = match &self.db {
            Db::Sqlite(s) => {
                s.read("listing deliveries", move |tx| {
                    sqlite::dashboard::recent_deliveries(tx, limit)
                })
                .await?
            }
            Db::Postgres(p) => pg::dashboard::recent_deliveries(p, limit).await?,
        };
        rows.into_iter().map(DeliveryRow::into_delivery).collect()
    }

    /// One delivery with every attempt made so far, oldest first; `None` when there is no
    /// such delivery.
    pub async fn delivery_with_attempts(
        &self,
        delivery_id: &str,
    ) -> Result<Option<(Delivery, Vec<AttemptRecord>)>> {
        let (row, attempts) = match &self.db {
            Db::Sqlite(s) => {
                let id = delivery_id.to_owned();
                s.read("reading a delivery", move |tx| {
                    Ok((
                        sqlite::dashboard::delivery(tx, &id)?,
                        sqlite::dashboard::delivery_attempts(tx, &id)?,
                    ))
                })
                .await?
            }
            Db::Postgres(p) => (
                pg::dashboard::delivery(p, delivery_id).await?,
                pg::dashboard::delivery_attempts(p, delivery_id).await?,
            ),
        };
        let Some(row) = row else {
            return Ok(None);
        };
        let attempts = attempts
            .into_iter()
            .map(|(attempt, at, status, latency_ms, error)| {
                Ok(AttemptRecord {
                    attempt,
                    at: timestamp(at)?,
                    status,
                    latency_ms,
                    error,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Some((row.into_delivery()?, attempts)))
    }

    /// The newest connection links, newest first.
    pub async fn recent_connect_links(&self, limit: i64) -> Result<Vec<ConnectLink>> {
        let rows = match &self.db {
            Db::Sqlite(s) => {
                s.read("listing connection links", move |tx| {
                    sqlite::dashboard::recent_links(tx, limit)
                })
                .await?
            }
            Db::Postgres(p) => pg::dashboard::recent_links(p, limit).await?,
        };
        rows.into_iter().map(StoredLink::into_link).collect()
    }

    /// Sends a delivery again: it becomes pending and due at `now`, whatever its state, and
    /// its lease is dropped. Its attempts so far stay counted. False when there is no such
    /// delivery.
    pub async fn redeliver(&self, delivery_id: &str, now: Timestamp) -> Result<bool> {
        let now = millis(now);
        match &self.db {
            Db::Sqlite(s) => {
                let id = delivery_id.to_owned();
                s.write("redelivering", move |tx| {
                    sqlite::dashboard::redeliver(tx, &id, now)
                })
                .await
            }
            Db::Postgres(p) => pg::dashboard::redeliver(p, delivery_id, now).await,
        }
    }
}
