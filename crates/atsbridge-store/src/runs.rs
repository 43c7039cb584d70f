//! Sync runs and the lease that makes one run per integration at a time, across processes.

use std::collections::BTreeMap;

use atsbridge_model::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row as _;

use crate::{db, millis, opt_timestamp, timestamp, Result, Store, StoreError};

/// How a run ended (Kombo's `sync_state` values that apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunState {
    Running,
    Succeeded,
    Failed,
    PartiallyFailed,
    AuthenticationFailed,
    Cancelled,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "RUNNING",
            RunState::Succeeded => "SUCCEEDED",
            RunState::Failed => "FAILED",
            RunState::PartiallyFailed => "PARTIALLY_FAILED",
            RunState::AuthenticationFailed => "AUTHENTICATION_FAILED",
            RunState::Cancelled => "CANCELLED",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            RunState::Running,
            RunState::Succeeded,
            RunState::Failed,
            RunState::PartiallyFailed,
            RunState::AuthenticationFailed,
            RunState::Cancelled,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// Per-model counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunCounts {
    pub inserted: BTreeMap<String, u64>,
    pub updated: BTreeMap<String, u64>,
    pub deleted: BTreeMap<String, u64>,
    pub unchanged: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub id: String,
    pub integration_id: String,
    /// What ran (`FULL`; Sage HR has no delta API) and what was asked for.
    pub kind: String,
    pub requested_kind: String,
    pub state: RunState,
    pub worker: String,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub counts: RunCounts,
    pub upstream_requests: i64,
    pub error: Option<String>,
}

fn run(row: &AnyRow) -> Result<RunRow> {
    let r = |e| db("reading a sync run")(e);
    let state: String = row.try_get("state").map_err(r)?;
    let counts: String = row.try_get("counts").map_err(r)?;
    Ok(RunRow {
        id: row.try_get("id").map_err(r)?,
        integration_id: row.try_get("integration_id").map_err(r)?,
        kind: row.try_get("kind").map_err(r)?,
        requested_kind: row.try_get("requested_kind").map_err(r)?,
        state: RunState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("run state `{state}`")))?,
        worker: row.try_get("worker").map_err(r)?,
        started_at: timestamp(row.try_get("started_at").map_err(r)?)?,
        ended_at: opt_timestamp(row.try_get("ended_at").map_err(r)?)?,
        counts: serde_json::from_str(&counts).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        upstream_requests: row.try_get("upstream_requests").map_err(r)?,
        error: row.try_get("error").map_err(r)?,
    })
}

impl Store {
    /// Takes the integration's lease for `owner` until `until`, if nobody holds an unexpired
    /// one. One conditional UPDATE on both backends, so two processes can never both win.
    pub async fn try_lease(
        &self,
        integration_id: &str,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE integrations SET lease_owner = $1, lease_expires_at = $2 WHERE id = $3 AND (lease_owner IS NULL OR lease_expires_at < $4 OR lease_owner = $5)",
        )
        .bind(owner)
        .bind(millis(until))
        .bind(integration_id)
        .bind(millis(now))
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(db("taking a lease"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Extends a lease still held by `owner`; false if it was lost (expired and taken).
    pub async fn renew_lease(
        &self,
        integration_id: &str,
        owner: &str,
        until: Timestamp,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE integrations SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3",
        )
        .bind(millis(until))
        .bind(integration_id)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(db("renewing a lease"))?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn release_lease(&self, integration_id: &str, owner: &str) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE integrations SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2")
            .bind(integration_id)
            .bind(owner)
            .execute(&self.pool)
            .await
            .map_err(db("releasing a lease"))?;
        Ok(())
    }

    /// Queues a sync of `kind` (`FULL` or `DELTA`); returns false if one was already queued
    /// (at most one queued run per integration).
    pub async fn request_sync(
        &self,
        integration_id: &str,
        kind: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("UPDATE integrations SET sync_requested_at = $1, sync_requested_kind = $2 WHERE id = $3 AND sync_requested_at IS NULL")
            .bind(millis(now))
            .bind(kind)
            .bind(integration_id)
            .execute(&self.pool)
            .await
            .map_err(db("queueing a sync"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Records the start of a run (clearing the queued request it serves).
    pub async fn start_run(&self, run: &RunRow) -> Result<()> {
        let (mut tx, _turn) = self.begin_write("starting a run").await?;
        sqlx::query(
            "INSERT INTO sync_runs (id, integration_id, kind, requested_kind, state, worker, started_at, counts, upstream_requests) VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', 0)",
        )
        .bind(&run.id)
        .bind(&run.integration_id)
        .bind(&run.kind)
        .bind(&run.requested_kind)
        .bind(run.state.as_str())
        .bind(&run.worker)
        .bind(millis(run.started_at))
        .execute(&mut *tx)
        .await
        .map_err(db("starting a run"))?;
        sqlx::query("UPDATE integrations SET sync_requested_at = NULL, sync_requested_kind = NULL, last_run_started_at = $1 WHERE id = $2")
            .bind(millis(run.started_at))
            .bind(&run.integration_id)
            .execute(&mut *tx)
            .await
            .map_err(db("starting a run"))?;
        tx.commit().await.map_err(db("starting a run"))?;
        Ok(())
    }

    pub async fn finish_run(&self, run: &RunRow) -> Result<()> {
        let counts =
            serde_json::to_string(&run.counts).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE sync_runs SET state = $1, ended_at = $2, counts = $3, upstream_requests = $4, error = $5 WHERE id = $6")
            .bind(run.state.as_str())
            .bind(run.ended_at.map(millis))
            .bind(counts)
            .bind(run.upstream_requests)
            .bind(&run.error)
            .bind(&run.id)
            .execute(&self.pool)
            .await
            .map_err(db("finishing a run"))?;
        Ok(())
    }

    /// The newest runs of an integration first.
    pub async fn runs(&self, integration_id: &str, limit: i64) -> Result<Vec<RunRow>> {
        let rows = sqlx::query(
            "SELECT * FROM sync_runs WHERE integration_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(integration_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db("listing runs"))?;
        rows.iter().map(run).collect()
    }

    pub async fn run(&self, id: &str) -> Result<Option<RunRow>> {
        let row = sqlx::query("SELECT * FROM sync_runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a run"))?;
        row.as_ref().map(run).transpose()
    }
}
