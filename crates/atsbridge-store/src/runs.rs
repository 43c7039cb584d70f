//! Sync runs and the lease that makes one run per integration at a time, across processes.

use std::collections::BTreeMap;

use atsbridge_model::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row as _, Transaction};

use crate::events::{insert_event, NewEvent};
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

impl RunCounts {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: &RunCounts) {
        for (target, source) in [
            (&mut self.inserted, &other.inserted),
            (&mut self.updated, &other.updated),
            (&mut self.deleted, &other.deleted),
            (&mut self.unchanged, &other.unchanged),
        ] {
            for (model, n) in source {
                *target.entry(model.clone()).or_default() += n;
            }
        }
    }

    /// The models with inserted, updated or deleted records (what `data-changed` names).
    pub fn changed_models(&self) -> std::collections::BTreeSet<String> {
        self.inserted
            .iter()
            .chain(&self.updated)
            .chain(&self.deleted)
            .filter(|(_, n)| **n > 0)
            .map(|(m, _)| m.clone())
            .collect()
    }
}

/// What a run's writes carry so they commit only while the run still holds its
/// integration's lease: each write extends the lease and adds its counts to the run's row in
/// the same transaction. So a worker whose lease lapsed cannot write beside the one that took
/// over, and the run row always says what was committed, which a crash cannot lose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub run_id: String,
    pub integration_id: String,
    pub owner: String,
    pub lease_ttl_ms: i64,
}

impl Fence {
    /// Inside `tx`: extends the lease (or fails with `LeaseLost`) and adds `delta` to the
    /// run's counts.
    pub(crate) async fn hold(
        &self,
        tx: &mut Transaction<'static, Any>,
        delta: &RunCounts,
        now: i64,
    ) -> Result<()> {
        let held = sqlx::query(
            "UPDATE integrations SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3",
        )
        .bind(now + self.lease_ttl_ms)
        .bind(&self.integration_id)
        .bind(&self.owner)
        .execute(&mut **tx)
        .await
        .map_err(db("extending a lease"))?;
        if held.rows_affected() != 1 {
            return Err(StoreError::LeaseLost(self.integration_id.clone()));
        }
        let stored: Option<String> =
            sqlx::query_scalar("SELECT counts FROM sync_runs WHERE id = $1")
                .bind(&self.run_id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(db("counting a run's changes"))?;
        let mut counts: RunCounts = match stored {
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?
            }
            None => return Err(StoreError::NotFound(format!("sync run {}", self.run_id))),
        };
        counts.add(delta);
        let text =
            serde_json::to_string(&counts).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query("UPDATE sync_runs SET counts = $1 WHERE id = $2")
            .bind(text)
            .bind(&self.run_id)
            .execute(&mut **tx)
            .await
            .map_err(db("counting a run's changes"))?;
        Ok(())
    }
}

/// A RUNNING run is abandoned when its worker no longer holds the integration's lease: the
/// lease lapsed (the worker died or hung) or another worker holds it now. `now` is the
/// placeholder of the current time.
fn abandoned(now: &str) -> String {
    format!("r.state = 'RUNNING' AND NOT EXISTS (SELECT 1 FROM integrations i WHERE i.id = r.integration_id AND i.lease_owner = r.worker AND i.lease_expires_at >= {now})")
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
    /// one, `owner` included: two runs of one process (a force-sync and a scheduler tick)
    /// must not both win either. One conditional UPDATE on both backends.
    pub async fn try_lease(
        &self,
        integration_id: &str,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        self.lease(integration_id, owner, now, until, None).await
    }

    /// `try_lease`, only if the integration is still due: a sync was requested, it never ran,
    /// or its last run started at or before `due_before`. Checked in the same UPDATE, so a
    /// scheduler that read the integration list a while ago does not run an integration that
    /// another node has just synced.
    pub async fn try_lease_if_due(
        &self,
        integration_id: &str,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
        due_before: Timestamp,
    ) -> Result<bool> {
        self.lease(integration_id, owner, now, until, Some(due_before))
            .await
    }

    async fn lease(
        &self,
        integration_id: &str,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
        due_before: Option<Timestamp>,
    ) -> Result<bool> {
        let due = if due_before.is_some() {
            " AND (sync_requested_at IS NOT NULL OR last_run_started_at IS NULL OR last_run_started_at <= $5)"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE integrations SET lease_owner = $1, lease_expires_at = $2 WHERE id = $3 AND (lease_owner IS NULL OR lease_expires_at < $4){due}"
        );
        let mut q = sqlx::query(&sql)
            .bind(owner)
            .bind(millis(until))
            .bind(integration_id)
            .bind(millis(now));
        if let Some(before) = due_before {
            q = q.bind(millis(before));
        }
        let _turn = self.write_turn().await;
        let done = q.execute(&self.pool).await.map_err(db("taking a lease"))?;
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

    /// Records how a run ended and writes the event that announces it, in one transaction:
    /// a run is never recorded finished without its event, nor announced twice. Only a run
    /// still RUNNING is recorded; false if it had already ended (recorded as abandoned by
    /// another worker after its lease lapsed).
    pub async fn finish_run(&self, run: &RunRow, event: Option<&NewEvent>) -> Result<bool> {
        let counts =
            serde_json::to_string(&run.counts).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let (mut tx, _turn) = self.begin_write("finishing a run").await?;
        let done = sqlx::query("UPDATE sync_runs SET state = $1, ended_at = $2, counts = $3, upstream_requests = $4, error = $5 WHERE id = $6 AND state = 'RUNNING'")
            .bind(run.state.as_str())
            .bind(run.ended_at.map(millis))
            .bind(counts)
            .bind(run.upstream_requests)
            .bind(&run.error)
            .bind(&run.id)
            .execute(&mut *tx)
            .await
            .map_err(db("finishing a run"))?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(event) = event {
            insert_event(&mut tx, None, event).await?;
        }
        tx.commit().await.map_err(db("finishing a run"))?;
        Ok(true)
    }

    /// RUNNING runs whose worker no longer holds the lease (see `ABANDONED`), of one
    /// integration or of all, oldest first.
    pub async fn abandoned_runs(
        &self,
        integration_id: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<RunRow>> {
        let sql = match integration_id {
            Some(_) => format!(
                "SELECT r.* FROM sync_runs r WHERE {} AND r.integration_id = $2 ORDER BY r.seq",
                abandoned("$1")
            ),
            None => format!(
                "SELECT r.* FROM sync_runs r WHERE {} ORDER BY r.seq",
                abandoned("$1")
            ),
        };
        let mut q = sqlx::query(&sql).bind(millis(now));
        if let Some(id) = integration_id {
            q = q.bind(id);
        }
        let rows = q
            .fetch_all(&self.pool)
            .await
            .map_err(db("finding abandoned runs"))?;
        rows.iter().map(run).collect()
    }

    /// Records an abandoned run as ended (`run` carries the state, end and error to record;
    /// its counts stay what its batches committed), writes `event`, and queues a run to
    /// replace it, all in one transaction and only if the run is still abandoned at `now`.
    /// False if it was not (it finished, or another node recorded it first).
    pub async fn end_abandoned_run(
        &self,
        run: &RunRow,
        event: &NewEvent,
        now: Timestamp,
    ) -> Result<bool> {
        let (mut tx, _turn) = self.begin_write("ending an abandoned run").await?;
        let sql = format!(
            "UPDATE sync_runs SET state = $1, ended_at = $2, error = $3 WHERE id = $4 AND EXISTS (SELECT 1 FROM sync_runs r WHERE r.id = $5 AND {})",
            abandoned("$6")
        );
        let done = sqlx::query(&sql)
            .bind(run.state.as_str())
            .bind(run.ended_at.map(millis))
            .bind(&run.error)
            .bind(&run.id)
            .bind(&run.id)
            .bind(millis(now))
            .execute(&mut *tx)
            .await
            .map_err(db("ending an abandoned run"))?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        insert_event(&mut tx, None, event).await?;
        sqlx::query("UPDATE integrations SET sync_requested_at = COALESCE(sync_requested_at, $1), sync_requested_kind = COALESCE(sync_requested_kind, $2) WHERE id = $3")
            .bind(millis(now))
            .bind(&run.requested_kind)
            .bind(&run.integration_id)
            .execute(&mut *tx)
            .await
            .map_err(db("queueing a replacement run"))?;
        tx.commit().await.map_err(db("ending an abandoned run"))?;
        Ok(true)
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
