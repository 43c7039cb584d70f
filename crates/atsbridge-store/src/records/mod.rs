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
mod read;
mod write;

use std::collections::BTreeMap;

use atsbridge_model::{ModelKind, Timestamp};
use serde_json::Value;

pub(crate) use input::digest_text;
pub use input::{canonical, RecordInput};

use crate::events::NewEvent;
use crate::filter::{Filter, OrderColumn};
use crate::runs::Fence;
use crate::{opt_timestamp, timestamp, Result, StoreError};

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
    pub fn order_key(&self, column: OrderColumn) -> Option<i64> {
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
    pub fn run_delta(&self) -> crate::runs::RunCounts {
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

/// A page of applications and what their nested objects are made from (`Store::applications_page`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationsPage {
    pub records: Vec<RawRecord>,
    /// Whether more records follow the page.
    pub more: bool,
    /// The summaries of the page's candidates.
    pub candidates: Vec<CandidateSummary>,
    /// The jobs the page's applications are for (any state).
    pub jobs: Vec<RawRecord>,
    /// The page's current stages (any state).
    pub stages: Vec<RawRecord>,
}

impl ApplicationsPage {
    fn new(
        rows: Vec<Row>,
        more: bool,
        candidates: Vec<CandidateSummary>,
        jobs: Vec<Row>,
        stages: Vec<Row>,
    ) -> Result<Self> {
        let raw = |rows: Vec<Row>| rows.into_iter().map(Row::raw).collect::<Result<Vec<_>>>();
        Ok(ApplicationsPage {
            records: raw(rows)?,
            more,
            candidates,
            jobs: raw(jobs)?,
            stages: raw(stages)?,
        })
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
    pub remote_id: String,
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
    pub fn order_key(&self, column: OrderColumn) -> Option<i64> {
        order_key(column, self.updated_at, self.remote_created_at)
    }
}

fn order_key(
    column: OrderColumn,
    updated_at: Timestamp,
    remote_created_at: Option<i64>,
) -> Option<i64> {
    match column {
        OrderColumn::UpdatedAt => Some(updated_at.unix_millis()),
        OrderColumn::RemoteCreatedAt => remote_created_at,
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
        ModelKind::Employee => 5,
        ModelKind::Employment => 6,
        ModelKind::Group => 7,
        ModelKind::AbsenceType => 8,
        ModelKind::Absence => 9,
        ModelKind::TimeOffBalance => 10,
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
            remote_id: self.remote_id,
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
    Event(Box<NewEvent>),
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
    pub key: Option<OrderColumn>,
}
