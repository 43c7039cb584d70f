//! Sync runs and the lease that makes one run per integration at a time, across processes.

use std::collections::BTreeMap;

use atsbridge_model::event::SyncState;
use atsbridge_model::integration::SyncKind;
use atsbridge_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::events::NewEvent;
use crate::{millis, opt_timestamp, pg, sqlite, timestamp, Db, Result, Store, StoreError};

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

    /// What `sync-finished` says of a run that ended so. A run is announced once it ended;
    /// one still `RUNNING` (never announced) would be a run that did not finish: `FAILED`.
    pub fn sync_state(self) -> SyncState {
        match self {
            RunState::Running | RunState::Failed => SyncState::Failed,
            RunState::Succeeded => SyncState::Succeeded,
            RunState::PartiallyFailed => SyncState::PartiallyFailed,
            RunState::AuthenticationFailed => SyncState::AuthenticationFailed,
            RunState::Cancelled => SyncState::Cancelled,
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
    pub kind: SyncKind,
    pub requested_kind: SyncKind,
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
    /// The run's counts as stored (`None`: the run is gone) plus `delta`, as stored.
    pub(crate) fn counts_plus(&self, stored: Option<String>, delta: &RunCounts) -> Result<String> {
        let mut counts: RunCounts = match stored {
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?
            }
            None => {
                return Err(StoreError::NotFound {
                    what: crate::Missing::SyncRun,
                    id: self.run_id.clone(),
                })
            }
        };
        counts.add(delta);
        serde_json::to_string(&counts).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// A `sync_runs` row as both drivers read it: id, integration_id, kind, requested_kind,
/// state, worker, started_at, ended_at, counts, upstream_requests, error.
pub(crate) type RunRowRaw = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    String,
    i64,
    Option<String>,
);

pub(crate) fn run_from_row(
    (
        id,
        integration_id,
        kind,
        requested_kind,
        state,
        worker,
        started_at,
        ended_at,
        counts,
        upstream_requests,
        error,
    ): RunRowRaw,
) -> Result<RunRow> {
    let kind_of = |k: String| {
        SyncKind::parse(&k).ok_or_else(|| StoreError::Corrupt(format!("sync kind `{k}`")))
    };
    Ok(RunRow {
        id,
        integration_id,
        kind: kind_of(kind)?,
        requested_kind: kind_of(requested_kind)?,
        state: RunState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("run state `{state}`")))?,
        worker,
        started_at: timestamp(started_at)?,
        ended_at: opt_timestamp(ended_at)?,
        counts: serde_json::from_str(&counts).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        upstream_requests,
        error,
    })
}

/// How a run ended, as `finish_run` and `end_abandoned_run` write it.
#[derive(Debug, Clone)]
pub(crate) struct RunEnd {
    pub id: String,
    pub integration_id: String,
    pub requested_kind: &'static str,
    pub state: &'static str,
    pub ended_at: Option<i64>,
    /// The counts as serialized, when the end replaces them (`finish_run`).
    pub counts: String,
    pub upstream_requests: i64,
    pub error: Option<String>,
}

impl RunEnd {
    fn of(run: &RunRow) -> Result<Self> {
        Ok(RunEnd {
            id: run.id.clone(),
            integration_id: run.integration_id.clone(),
            requested_kind: run.requested_kind.as_str(),
            state: run.state.as_str(),
            ended_at: run.ended_at.map(millis),
            counts: serde_json::to_string(&run.counts)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            upstream_requests: run.upstream_requests,
            error: run.error.clone(),
        })
    }
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
        let (now, until, due_before) = (millis(now), millis(until), due_before.map(millis));
        match &self.db {
            Db::Sqlite(s) => {
                let (integration_id, owner) = (integration_id.to_owned(), owner.to_owned());
                s.write("taking a lease", move |tx| {
                    sqlite::runs::lease(tx, &integration_id, &owner, now, until, due_before)
                })
                .await
            }
            Db::Postgres(p) => {
                pg::runs::lease(p, integration_id, owner, now, until, due_before).await
            }
        }
    }

    /// Extends a lease still held by `owner`; false if it was lost (expired and taken).
    pub async fn renew_lease(
        &self,
        integration_id: &str,
        owner: &str,
        until: Timestamp,
    ) -> Result<bool> {
        let until = millis(until);
        match &self.db {
            Db::Sqlite(s) => {
                let (integration_id, owner) = (integration_id.to_owned(), owner.to_owned());
                s.write("renewing a lease", move |tx| {
                    sqlite::runs::renew_lease(tx, &integration_id, &owner, until)
                })
                .await
            }
            Db::Postgres(p) => pg::runs::renew_lease(p, integration_id, owner, until).await,
        }
    }

    pub async fn release_lease(&self, integration_id: &str, owner: &str) -> Result<()> {
        match &self.db {
            Db::Sqlite(s) => {
                let (integration_id, owner) = (integration_id.to_owned(), owner.to_owned());
                s.write("releasing a lease", move |tx| {
                    sqlite::runs::release_lease(tx, &integration_id, &owner)
                })
                .await
            }
            Db::Postgres(p) => pg::runs::release_lease(p, integration_id, owner).await,
        }
    }

    /// Queues a sync of `kind` (`FULL` or `DELTA`); returns false if one was already queued
    /// (at most one queued run per integration).
    pub async fn request_sync(
        &self,
        integration_id: &str,
        kind: SyncKind,
        now: Timestamp,
    ) -> Result<bool> {
        let now = millis(now);
        match &self.db {
            Db::Sqlite(s) => {
                let (integration_id, kind) = (integration_id.to_owned(), kind.as_str());
                s.write("queueing a sync", move |tx| {
                    sqlite::runs::request_sync(tx, &integration_id, kind, now)
                })
                .await
            }
            Db::Postgres(p) => pg::runs::request_sync(p, integration_id, kind.as_str(), now).await,
        }
    }

    /// Records the start of a run (clearing the queued request it serves).
    pub async fn start_run(&self, run: &RunRow) -> Result<()> {
        match &self.db {
            Db::Sqlite(s) => {
                let run = run.clone();
                s.write("starting a run", move |tx| sqlite::runs::start(tx, &run))
                    .await
            }
            Db::Postgres(p) => pg::runs::start(p, run).await,
        }
    }

    /// Records how a run ended and writes the event that announces it, in one transaction:
    /// a run is never recorded finished without its event, nor announced twice. Only a run
    /// still RUNNING is recorded; false if it had already ended (recorded as abandoned by
    /// another worker after its lease lapsed).
    pub async fn finish_run(&self, run: &RunRow, event: Option<&NewEvent>) -> Result<bool> {
        let end = RunEnd::of(run)?;
        match &self.db {
            Db::Sqlite(s) => {
                let event = event.cloned();
                s.write("finishing a run", move |tx| {
                    sqlite::runs::finish(tx, &end, event.as_ref())
                })
                .await
            }
            Db::Postgres(p) => pg::runs::finish(p, &end, event).await,
        }
    }

    /// RUNNING runs whose worker no longer holds the lease (the lease lapsed: the worker
    /// died or hung; or another worker holds it now), of one integration or of all, oldest
    /// first.
    pub async fn abandoned_runs(
        &self,
        integration_id: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<RunRow>> {
        let now = millis(now);
        let rows = match &self.db {
            Db::Sqlite(s) => {
                let integration_id = integration_id.map(str::to_owned);
                s.read("finding abandoned runs", move |tx| {
                    sqlite::runs::abandoned(tx, integration_id.as_deref(), now)
                })
                .await?
            }
            Db::Postgres(p) => pg::runs::abandoned(p, integration_id, now).await?,
        };
        rows.into_iter().map(run_from_row).collect()
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
        let end = RunEnd::of(run)?;
        let now = millis(now);
        match &self.db {
            Db::Sqlite(s) => {
                let event = event.clone();
                s.write("ending an abandoned run", move |tx| {
                    sqlite::runs::end_abandoned(tx, &end, &event, now)
                })
                .await
            }
            Db::Postgres(p) => pg::runs::end_abandoned(p, &end, event, now).await,
        }
    }

    /// The newest runs of an integration first.
    pub async fn runs(&self, integration_id: &str, limit: i64) -> Result<Vec<RunRow>> {
        let rows = match &self.db {
            Db::Sqlite(s) => {
                let integration_id = integration_id.to_owned();
                s.read("listing runs", move |tx| {
                    sqlite::runs::newest(tx, &integration_id, limit)
                })
                .await?
            }
            Db::Postgres(p) => pg::runs::newest(p, integration_id, limit).await?,
        };
        rows.into_iter().map(run_from_row).collect()
    }

    pub async fn run(&self, id: &str) -> Result<Option<RunRow>> {
        let row = match &self.db {
            Db::Sqlite(s) => {
                let id = id.to_owned();
                s.read("reading a run", move |tx| sqlite::runs::by_id(tx, &id))
                    .await?
            }
            Db::Postgres(p) => pg::runs::by_id(p, id).await?,
        };
        row.map(run_from_row).transpose()
    }
}
