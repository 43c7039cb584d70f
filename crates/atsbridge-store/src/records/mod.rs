//! Records of the unified models: batched upserts that detect change by a canonical hash,
//! deletion marks, nested-change propagation for `updated_after`, and filtered keyset pages.
//!
//! Every record keeps two times. `changed_at` moves only when the hash of the record's own
//! payload (`remote_data` included, nested objects excluded) changes. `updated_at` also moves
//! when something nested changes the way Kombo's `updated_after` counts it: a job's stage
//! list; a candidate's applications (added, removed or changed); an application's candidate
//! or current stage.
//!
//! This module and its children are backend-neutral (what a record is, what a batch does,
//! which statement a filter makes); `crate::sqlite::records` and `crate::pg::records` run
//! them.

mod input;
pub(crate) mod plan;
pub(crate) mod query;

use std::collections::{BTreeMap, BTreeSet};

use atsbridge_model::{ModelKind, Timestamp};
use serde_json::Value;

pub use input::{canonical, RecordInput};

use crate::events::NewEvent;
use crate::filter::Filter;
use crate::runs::Fence;
use crate::{millis, opt_timestamp, pg, sqlite, timestamp, Db, Result, Store, StoreError};

/// A stored record as the API serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub seq: i64,
    pub model: ModelKind,
    pub id: String,
    pub remote_id: String,
    pub payload: Value,
    pub nested: Option<Value>,
    pub changed_at: Timestamp,
    pub updated_at: Timestamp,
    pub remote_deleted_at: Option<Timestamp>,
    /// Unix milliseconds, as stored for the `remote_created_after` filter.
    pub remote_created_at: Option<i64>,
    pub candidate_id: Option<String>,
    pub job_id: Option<String>,
    pub current_stage_id: Option<String>,
}

impl StoredRecord {
    /// The value of a page's order column (`Filter::order_column`) for this record.
    pub fn order_key(&self, column: &str) -> Option<i64> {
        order_key(column, self.updated_at, self.remote_created_at)
    }

    /// The record's JSON with the store's `changed_at` and `remote_deleted_at` put back
    /// (nested objects are the caller's to add).
    pub fn json(&self) -> Value {
        let mut v = self.payload.clone();
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "changed_at".into(),
                Value::String(self.changed_at.to_string()),
            );
            o.insert(
                "remote_deleted_at".into(),
                self.remote_deleted_at
                    .map_or(Value::Null, |t| Value::String(t.to_string())),
            );
        }
        v
    }
}

/// Where a page starts: after the record with this `seq` (and, for pages ordered by a
/// column besides seq — see `Filter::order_column` — this value of it, Unix milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub seq: i64,
    pub key: Option<i64>,
}

/// What one batch did, per model name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub inserted: BTreeMap<&'static str, u64>,
    pub updated: BTreeMap<&'static str, u64>,
    pub unchanged: BTreeMap<&'static str, u64>,
    /// Records whose `updated_at` moved for a nested change only.
    pub touched: u64,
}

impl BatchCounts {
    pub fn changed(&self) -> bool {
        !self.inserted.is_empty() || !self.updated.is_empty() || self.touched > 0
    }

    /// As a run counts them.
    pub(crate) fn run_delta(&self) -> crate::runs::RunCounts {
        let mut delta = crate::runs::RunCounts::default();
        for (target, source) in [
            (&mut delta.inserted, &self.inserted),
            (&mut delta.updated, &self.updated),
            (&mut delta.unchanged, &self.unchanged),
        ] {
            for (model, n) in source {
                target.insert((*model).to_owned(), *n);
            }
        }
        delta
    }
}

/// A candidate as applications embed it: its summary's JSON as stored, or, for a candidate
/// written before summaries were stored, its own JSON to make the summary from.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateSummary {
    pub id: String,
    pub summary: Option<String>,
    pub payload: Option<String>,
}

/// A live record as the deletion sweep sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRecord {
    pub seq: i64,
    pub id: String,
    pub remote_id: String,
    /// The job's remote id, for stages.
    pub parent_remote_id: Option<String>,
    /// The job's (Kombo) id, for applications.
    pub job_id: Option<String>,
    pub changed_at: Timestamp,
}

/// A stored record with its JSON as stored (own fields, canonical, without `changed_at` and
/// `remote_deleted_at`), for serving it without parsing it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRecord {
    pub seq: i64,
    pub id: String,
    pub payload: String,
    /// The nested objects kept beside the record (a job's stages), as JSON text.
    pub nested: Option<String>,
    pub changed_at: Timestamp,
    pub updated_at: Timestamp,
    pub remote_deleted_at: Option<Timestamp>,
    pub remote_created_at: Option<i64>,
    pub candidate_id: Option<String>,
    pub job_id: Option<String>,
    pub current_stage_id: Option<String>,
}

impl RawRecord {
    /// The value of a page's order column (`Filter::order_column`) for this record.
    pub fn order_key(&self, column: &str) -> Option<i64> {
        order_key(column, self.updated_at, self.remote_created_at)
    }
}

fn order_key(column: &str, updated_at: Timestamp, remote_created_at: Option<i64>) -> Option<i64> {
    match column {
        "updated_at" => Some(updated_at.unix_millis()),
        "remote_created_at" => remote_created_at,
        _ => None,
    }
}

/// A model as `records` stores it: a small number rather than its name, in every row and
/// index entry (the numbers are the schema's; never change one).
pub(crate) fn model_code(model: ModelKind) -> i64 {
    match model {
        ModelKind::Job => 1,
        ModelKind::Candidate => 2,
        ModelKind::Application => 3,
        ModelKind::ApplicationStage => 4,
    }
}

pub(crate) fn model_from_code(code: i64) -> Result<ModelKind> {
    ModelKind::ALL
        .into_iter()
        .find(|m| model_code(*m) == code)
        .ok_or_else(|| StoreError::Corrupt(format!("model number {code}")))
}

/// A record row as the engines read it (`query::SELECT`, in that order).
#[derive(Debug)]
pub(crate) struct Row {
    pub seq: i64,
    pub model: i64,
    pub id: String,
    pub remote_id: String,
    pub payload: String,
    pub nested: Option<String>,
    pub changed_at: i64,
    pub updated_at: i64,
    pub remote_deleted_at: Option<i64>,
    pub remote_created_at: Option<i64>,
    pub candidate_id: Option<String>,
    pub job_id: Option<String>,
    pub current_stage_id: Option<String>,
}

impl Row {
    fn stored(self) -> Result<StoredRecord> {
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
        Ok(StoredRecord {
            seq: self.seq,
            model: model_from_code(self.model)?,
            payload: serde_json::from_str(&self.payload).map_err(corrupt)?,
            nested: self
                .nested
                .map(|n| serde_json::from_str(&n))
                .transpose()
                .map_err(corrupt)?,
            id: self.id,
            remote_id: self.remote_id,
            changed_at: timestamp(self.changed_at)?,
            updated_at: timestamp(self.updated_at)?,
            remote_deleted_at: opt_timestamp(self.remote_deleted_at)?,
            remote_created_at: self.remote_created_at,
            candidate_id: self.candidate_id,
            job_id: self.job_id,
            current_stage_id: self.current_stage_id,
        })
    }

    fn raw(self) -> Result<RawRecord> {
        Ok(RawRecord {
            seq: self.seq,
            id: self.id,
            payload: self.payload,
            nested: self.nested,
            changed_at: timestamp(self.changed_at)?,
            updated_at: timestamp(self.updated_at)?,
            remote_deleted_at: opt_timestamp(self.remote_deleted_at)?,
            remote_created_at: self.remote_created_at,
            candidate_id: self.candidate_id,
            job_id: self.job_id,
            current_stage_id: self.current_stage_id,
        })
    }
}

/// What else commits in a batch's transaction.
#[derive(Debug, Clone)]
pub(crate) enum Along {
    Nothing,
    /// A sync run's batch: fenced by its lease, counted in its row.
    Run(Fence),
    /// An API write's batch: the event that announces it.
    Event(NewEvent),
}

/// A page query: what `list_after` and friends ask an engine for.
#[derive(Debug, Clone)]
pub(crate) struct PageQuery {
    pub integration_id: String,
    pub model: ModelKind,
    pub filter: Filter,
    pub after: Option<Position>,
    pub limit: u32,
    /// The order column besides seq (`Filter::order_column`), if any.
    pub key: Option<&'static str>,
}

impl Store {
    /// Stores a batch of records in one transaction. A record whose own payload hashes the
    /// same as what is stored (and is not deleted) is not written at all.
    pub async fn apply_batch(
        &self,
        integration_id: &str,
        batch: &[RecordInput],
        now: Timestamp,
    ) -> Result<BatchCounts> {
        self.apply_batch_with(integration_id, batch, now, false)
            .await
    }

    /// `apply_batch`, tuned for an integration's first sync when `first_sync` is set:
    /// records are inserted first (`ON CONFLICT DO NOTHING`) and only those already stored
    /// (a first sync that was interrupted) are compared, instead of looking every id up;
    /// and the `updated_at` of records that embed a changed one is not moved. Nobody can
    /// read the data before the first sync completes (reads answer
    /// `INTEGRATION.SETUP_SYNC_PENDING`), so the ordering those updates keep is unobservable.
    pub async fn apply_batch_with(
        &self,
        integration_id: &str,
        batch: &[RecordInput],
        now: Timestamp,
        first_sync: bool,
    ) -> Result<BatchCounts> {
        self.apply_batch_along(integration_id, batch, now, first_sync, Along::Nothing)
            .await
    }

    /// A sync run's batch: `apply_batch_with`, committed only while the run holds its lease
    /// and with its counts added to the run's row in the same transaction (see `Fence`).
    pub async fn apply_run_batch(
        &self,
        fence: &Fence,
        batch: &[RecordInput],
        now: Timestamp,
        first_sync: bool,
    ) -> Result<BatchCounts> {
        self.apply_batch_along(
            &fence.integration_id,
            batch,
            now,
            first_sync,
            Along::Run(fence.clone()),
        )
        .await
    }

    /// `apply_batch` with the event that announces it, in the same transaction: stored and
    /// announced, or neither. The event is written even when the records were stored already
    /// (a sync got there first): it announces the write, not the rows.
    pub async fn apply_batch_announced(
        &self,
        integration_id: &str,
        batch: &[RecordInput],
        now: Timestamp,
        event: &NewEvent,
    ) -> Result<BatchCounts> {
        self.apply_batch_along(
            integration_id,
            batch,
            now,
            false,
            Along::Event(event.clone()),
        )
        .await
    }

    async fn apply_batch_along(
        &self,
        integration_id: &str,
        batch: &[RecordInput],
        now: Timestamp,
        first_sync: bool,
        along: Along,
    ) -> Result<BatchCounts> {
        if batch.is_empty() {
            return Ok(BatchCounts::default());
        }
        let now = millis(now);
        match &self.db {
            Db::Sqlite(s) => {
                // The writer thread needs its own copy; it is small next to the writing.
                let batch = batch.to_vec();
                let integration_id = integration_id.to_owned();
                s.write("storing a batch", move |tx| {
                    sqlite::records::apply_batch(
                        tx,
                        &integration_id,
                        &batch,
                        now,
                        first_sync,
                        &along,
                    )
                })
                .await
            }
            Db::Postgres(p) => {
                pg::records::apply_batch(p, integration_id, batch, now, first_sync, &along).await
            }
        }
    }

    /// Live (not deleted) record ids of a model after `after_seq`, a page at a time, with the
    /// parent's remote id for stages. The sync engine pages through these to find records a
    /// complete run did not see.
    pub async fn live_ids(
        &self,
        integration_id: &str,
        model: ModelKind,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, Option<String>)>> {
        Ok(self
            .live_records(integration_id, model, after_seq, limit)
            .await?
            .into_iter()
            .map(|r| (r.seq, r.id, r.parent_remote_id))
            .collect())
    }

    /// `live_ids` with each record's remote id and when its payload last changed.
    pub async fn live_records(
        &self,
        integration_id: &str,
        model: ModelKind,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<LiveRecord>> {
        match &self.db {
            Db::Sqlite(s) => {
                let integration_id = integration_id.to_owned();
                s.read("listing live records", move |tx| {
                    sqlite::records::live_records(tx, &integration_id, model, after_seq, limit)
                })
                .await
            }
            Db::Postgres(p) => {
                pg::records::live_records(p, integration_id, model, after_seq, limit).await
            }
        }
    }

    /// Marks records deleted (`remote_deleted_at` and `changed_at` = now) and moves the
    /// `updated_at` of what they are nested in. Returns how many were marked.
    pub async fn mark_deleted(
        &self,
        integration_id: &str,
        model: ModelKind,
        ids: &[String],
        now: Timestamp,
    ) -> Result<u64> {
        self.mark_deleted_along(integration_id, model, ids, now, None)
            .await
    }

    /// A sync run's deletions: `mark_deleted`, fenced by the run's lease and counted in its
    /// row in the same transactions (see `Fence`).
    pub async fn mark_deleted_in_run(
        &self,
        fence: &Fence,
        model: ModelKind,
        ids: &[String],
        now: Timestamp,
    ) -> Result<u64> {
        self.mark_deleted_along(&fence.integration_id, model, ids, now, Some(fence))
            .await
    }

    async fn mark_deleted_along(
        &self,
        integration_id: &str,
        model: ModelKind,
        ids: &[String],
        now: Timestamp,
        fence: Option<&Fence>,
    ) -> Result<u64> {
        let now = millis(now);
        let mut marked = 0;
        for chunk in ids.chunks(query::CHUNK) {
            marked += match &self.db {
                Db::Sqlite(s) => {
                    let (integration_id, chunk) = (integration_id.to_owned(), chunk.to_vec());
                    let fence = fence.cloned();
                    s.write("marking deletions", move |tx| {
                        sqlite::records::mark_deleted(
                            tx,
                            &integration_id,
                            model,
                            &chunk,
                            now,
                            fence.as_ref(),
                        )
                    })
                    .await?
                }
                Db::Postgres(p) => {
                    pg::records::mark_deleted(p, integration_id, model, chunk, now, fence).await?
                }
            };
        }
        Ok(marked)
    }

    /// One page of a model's records matching `filter`, in `seq` order after `after_seq`.
    /// Returns at most `limit` records and whether more follow.
    pub async fn list(
        &self,
        integration_id: &str,
        model: ModelKind,
        filter: &Filter,
        after_seq: Option<i64>,
        limit: u32,
    ) -> Result<(Vec<StoredRecord>, bool)> {
        let after = after_seq.map(|seq| Position { seq, key: None });
        let (rows, more) = self
            .page_rows(integration_id, model, filter, after, limit, None)
            .await?;
        Ok((
            rows.into_iter().map(Row::stored).collect::<Result<_>>()?,
            more,
        ))
    }

    /// A page of records after `after` (the last record of the previous page); what the API
    /// serves.
    ///
    /// With `updated_after` the page is ordered by `(updated_at, seq)` and continues after
    /// the position's `updated_at`, so the filter walks only the matching rows on the
    /// `updated_at` index however many older rows there are. A record updated while a
    /// client pages moves behind the cursor and is served again: incremental readers see
    /// every change, none is skipped. `remote_created_after` orders by `remote_created_at`
    /// the same way (matches are usually the newest rows, which a walk in `seq` order
    /// reaches last). Other pages are ordered by `seq`.
    pub async fn list_after(
        &self,
        integration_id: &str,
        model: ModelKind,
        filter: &Filter,
        after: Option<Position>,
        limit: u32,
    ) -> Result<(Vec<StoredRecord>, bool)> {
        let key = filter.order_column(model);
        let (rows, more) = self
            .page_rows(integration_id, model, filter, after, limit, key)
            .await?;
        Ok((
            rows.into_iter().map(Row::stored).collect::<Result<_>>()?,
            more,
        ))
    }

    /// `list_after` with each record's JSON left as stored, for serving it unparsed.
    pub async fn list_raw_after(
        &self,
        integration_id: &str,
        model: ModelKind,
        filter: &Filter,
        after: Option<Position>,
        limit: u32,
    ) -> Result<(Vec<RawRecord>, bool)> {
        let key = filter.order_column(model);
        let (rows, more) = self
            .page_rows(integration_id, model, filter, after, limit, key)
            .await?;
        Ok((rows.into_iter().map(Row::raw).collect::<Result<_>>()?, more))
    }

    async fn page_rows(
        &self,
        integration_id: &str,
        model: ModelKind,
        filter: &Filter,
        after: Option<Position>,
        limit: u32,
        key: Option<&'static str>,
    ) -> Result<(Vec<Row>, bool)> {
        let q = PageQuery {
            integration_id: integration_id.to_owned(),
            model,
            filter: filter.clone(),
            after,
            limit,
            key,
        };
        let mut rows = match &self.db {
            Db::Sqlite(s) => {
                s.read("listing records", move |tx| sqlite::records::page(tx, &q))
                    .await?
            }
            Db::Postgres(p) => pg::records::page(p, &q).await?,
        };
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Ok((rows, more))
    }

    /// Records of a model by id (any state), for assembling nested objects.
    pub async fn by_ids(
        &self,
        integration_id: &str,
        model: ModelKind,
        ids: &[String],
    ) -> Result<Vec<StoredRecord>> {
        self.by_column(integration_id, model, "id", ids)
            .await?
            .into_iter()
            .map(Row::stored)
            .collect()
    }

    /// Applications of the given candidates (any state).
    pub async fn applications_of(
        &self,
        integration_id: &str,
        candidate_ids: &[String],
    ) -> Result<Vec<StoredRecord>> {
        self.by_column(
            integration_id,
            ModelKind::Application,
            "candidate_id",
            candidate_ids,
        )
        .await?
        .into_iter()
        .map(Row::stored)
        .collect()
    }

    /// `by_ids` with each record's JSON left as stored.
    pub async fn by_ids_raw(
        &self,
        integration_id: &str,
        model: ModelKind,
        ids: &[String],
    ) -> Result<Vec<RawRecord>> {
        self.by_column(integration_id, model, "id", ids)
            .await?
            .into_iter()
            .map(Row::raw)
            .collect()
    }

    /// Records of `model` whose `column` is one of `values`, in `seq` order per chunk of
    /// values.
    async fn by_column(
        &self,
        integration_id: &str,
        model: ModelKind,
        column: &'static str,
        values: &[String],
    ) -> Result<Vec<Row>> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        match &self.db {
            Db::Sqlite(s) => {
                let (integration_id, values) = (integration_id.to_owned(), values.to_vec());
                s.read("reading records", move |tx| {
                    sqlite::records::by_column(tx, &integration_id, model, column, &values)
                })
                .await
            }
            Db::Postgres(p) => {
                pg::records::by_column(p, integration_id, model, column, values).await
            }
        }
    }

    /// The summaries of the given candidates (see `CandidateSummary`), for a page of
    /// applications.
    pub async fn candidate_summaries(
        &self,
        integration_id: &str,
        ids: &[String],
    ) -> Result<Vec<CandidateSummary>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        match &self.db {
            Db::Sqlite(s) => {
                let (integration_id, ids) = (integration_id.to_owned(), ids.to_vec());
                s.read("reading candidates' summaries", move |tx| {
                    sqlite::records::summaries(tx, &integration_id, &ids)
                })
                .await
            }
            Db::Postgres(p) => pg::records::summaries(p, integration_id, ids).await,
        }
    }

    /// Refreshes the query planner's statistics after a large change. Without them SQLite
    /// walks the page index for selective list filters (hundreds of milliseconds at a million
    /// records in the query benchmark). PostgreSQL's autovacuum gets there by itself, but
    /// not soon enough: in `atsbridge bench` the resync right after a first sync of 43k
    /// records took 13.8 s instead of 2 s, and list filters 87 ms instead of 7 ms, on plans
    /// made for an empty table.
    pub async fn refresh_statistics(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite(s) => {
                s.write("refreshing statistics", sqlite::records::refresh_statistics)
                    .await
            }
            Db::Postgres(p) => pg::records::refresh_statistics(p).await,
        }
    }

    /// How many live records an integration has per model.
    pub async fn counts(&self, integration_id: &str) -> Result<BTreeMap<String, i64>> {
        match &self.db {
            Db::Sqlite(s) => {
                let integration_id = integration_id.to_owned();
                s.read("counting records", move |tx| {
                    sqlite::records::counts(tx, &integration_id)
                })
                .await
            }
            Db::Postgres(p) => pg::records::counts(p, integration_id).await,
        }
    }

    /// How many records of an integration were written (`changed_at`) or moved
    /// (`updated_at`) at or after `since`: what a run touched.
    pub async fn records_changed_since(
        &self,
        integration_id: &str,
        since: Timestamp,
    ) -> Result<u64> {
        let since = millis(since);
        match &self.db {
            Db::Sqlite(s) => {
                let integration_id = integration_id.to_owned();
                s.read("counting changed records", move |tx| {
                    sqlite::records::changed_since(tx, &integration_id, since)
                })
                .await
            }
            Db::Postgres(p) => pg::records::changed_since(p, integration_id, since).await,
        }
    }

    /// Remembers that an application was created through atsbridge.
    pub async fn mark_created(
        &self,
        integration_id: &str,
        remote_id: &str,
        now: Timestamp,
    ) -> Result<()> {
        let now = millis(now);
        match &self.db {
            Db::Sqlite(s) => {
                let (integration_id, remote_id) = (integration_id.to_owned(), remote_id.to_owned());
                s.write("remembering a created application", move |tx| {
                    sqlite::records::mark_created(tx, &integration_id, &remote_id, now)
                })
                .await
            }
            Db::Postgres(p) => pg::records::mark_created(p, integration_id, remote_id, now).await,
        }
    }

    /// Remote ids of the applications created through atsbridge.
    pub async fn created_remote_ids(&self, integration_id: &str) -> Result<BTreeSet<String>> {
        match &self.db {
            Db::Sqlite(s) => {
                let integration_id = integration_id.to_owned();
                s.read("reading created applications", move |tx| {
                    sqlite::records::created_remote_ids(tx, &integration_id)
                })
                .await
            }
            Db::Postgres(p) => pg::records::created_remote_ids(p, integration_id).await,
        }
    }
}
