//! Records of the unified models: batched upserts that detect change by a canonical hash,
//! deletion marks, nested-change propagation for `updated_after`, and filtered keyset pages.
//!
//! Every record keeps two times. `changed_at` moves only when the hash of the record's own
//! payload (`remote_data` included, nested objects excluded) changes. `updated_at` also moves
//! when something nested changes the way Kombo's `updated_after` counts it: a job's stage
//! list; a candidate's applications (added, removed or changed); an application's candidate
//! or current stage.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use atsbridge_model::connector::Record;
use atsbridge_model::{ModelKind, Timestamp};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, Row as _, Transaction};

use crate::events::NewEvent;
use crate::filter::Filter;
use crate::runs::{Fence, RunCounts};
use crate::{db, millis, opt_timestamp, timestamp, Backend, Params, Result, Store, StoreError};

/// A record ready to store: its own payload, its nested part, and the columns filters use.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordInput {
    pub model: ModelKind,
    pub id: String,
    pub remote_id: String,
    /// The record's own JSON, canonical (`canonical`): what is stored and what the hash is
    /// made from, serialized once.
    pub payload: String,
    pub hash: String,
    /// The nested part (a job's stages), canonical JSON as well.
    pub nested: Option<String>,
    pub nested_hash: Option<String>,
    pub remote_created_at: Option<i64>,
    pub parent_remote_id: Option<String>,
    pub name_lower: Option<String>,
    pub status: Option<String>,
    pub employment_type: Option<String>,
    pub visibility: Option<String>,
    pub job_code: Option<String>,
    pub post_url: Option<String>,
    pub email_lower: Option<String>,
    pub first_name_lower: Option<String>,
    pub last_name_lower: Option<String>,
    pub outcome: Option<String>,
    pub job_id: Option<String>,
    pub job_remote_id: Option<String>,
    pub current_stage_id: Option<String>,
    pub candidate_id: Option<String>,
}

/// JSON with object keys sorted at every level, whatever map type serde_json was built with.
/// The output is what hashes compare, so it must never change for the same value (a test
/// pins it against the straightforward version); it is written without allocating per key
/// or per string, as it runs for every record a sync stores.
pub fn canonical(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(map) => {
                out.push('{');
                // serde_json's default map is already sorted; sort only when it is not.
                if map.keys().zip(map.keys().skip(1)).all(|(a, b)| a < b) {
                    for (i, (k, v)) in map.iter().enumerate() {
                        member(i, k, v, out);
                    }
                } else {
                    let mut sorted: Vec<(&String, &Value)> = map.iter().collect();
                    sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
                    for (i, (k, v)) in sorted.into_iter().enumerate() {
                        member(i, k, v, out);
                    }
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            Value::String(s) => string(s, out),
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(&n.to_string()),
        }
    }
    fn member(i: usize, k: &str, v: &Value, out: &mut String) {
        if i > 0 {
            out.push(',');
        }
        string(k, out);
        out.push(':');
        write(v, out);
    }
    /// A JSON string exactly as serde_json writes it: only `"`, `\` and control characters
    /// need escaping, and text without them is copied as it is.
    fn string(s: &str, out: &mut String) {
        if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
            out.push_str(&Value::String(s.to_owned()).to_string());
        } else {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn digest_text(text: &str) -> String {
    use std::fmt::Write as _;
    Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// The hash that decides whether a record changed: its own payload, and the stored columns
/// that come from beside it (an application's job remote id, a stage's job), so a change in
/// those is written too. They are not part of the served JSON.
fn own_hash(
    payload_text: &str,
    job_remote_id: Option<&str>,
    parent_remote_id: Option<&str>,
) -> String {
    if job_remote_id.is_none() && parent_remote_id.is_none() {
        return digest_text(payload_text);
    }
    // The canonical JSON of {"job_remote_id", "parent_remote_id", "payload"} (the keys in
    // canonical order), put together around the payload's canonical text instead of
    // serializing the whole payload again; a test holds it to the `canonical` of that object,
    // which the stored hashes were made with.
    let opt = |v: Option<&str>| canonical(&v.map_or(Value::Null, |s| Value::String(s.into())));
    let mut text = String::with_capacity(payload_text.len() + 80);
    text.push_str("{\"job_remote_id\":");
    text.push_str(&opt(job_remote_id));
    text.push_str(",\"parent_remote_id\":");
    text.push_str(&opt(parent_remote_id));
    text.push_str(",\"payload\":");
    text.push_str(payload_text);
    text.push('}');
    digest_text(&text)
}

fn lower(s: Option<&str>) -> Option<String> {
    s.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty())
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl RecordInput {
    /// Splits a record into what is its own (hashed for `changed_at`) and what is nested.
    pub fn from_record(record: &Record) -> Result<Self> {
        let to_value = |r: Result<Value, serde_json::Error>| {
            r.map_err(|e| StoreError::Corrupt(format!("serializing a record: {e}")))
        };
        let (model, mut payload, parent) = match record {
            Record::Job(j) => (ModelKind::Job, to_value(serde_json::to_value(j))?, None),
            Record::Candidate(c) => (
                ModelKind::Candidate,
                to_value(serde_json::to_value(c))?,
                None,
            ),
            Record::Application(a) => (
                ModelKind::Application,
                to_value(serde_json::to_value(a))?,
                None,
            ),
            Record::ApplicationStage {
                stage,
                job_remote_id,
            } => (
                ModelKind::ApplicationStage,
                to_value(serde_json::to_value(stage))?,
                Some(job_remote_id.clone()),
            ),
        };
        let object = payload
            .as_object_mut()
            .ok_or_else(|| StoreError::Corrupt("a record is not an object".into()))?;
        // The store owns these two; they are not part of what the ATS says.
        object.remove("changed_at");
        object.remove("remote_deleted_at");
        let nested = match model {
            ModelKind::Job => object.remove("stages"),
            ModelKind::Candidate => {
                object.remove("applications");
                None
            }
            ModelKind::Application => {
                for key in ["candidate", "current_stage", "job"] {
                    object.remove(key);
                }
                None
            }
            ModelKind::ApplicationStage => None,
        };
        let id =
            text(&payload, "id").ok_or_else(|| StoreError::Corrupt("a record has no id".into()))?;
        let remote_id = text(&payload, "remote_id").unwrap_or_default();
        let remote_created_at = text(&payload, "remote_created_at")
            .and_then(|t| Timestamp::parse(&t).ok())
            .map(millis);
        let payload_text = canonical(&payload);
        let nested = nested.as_ref().map(canonical);
        let first_email = payload
            .get("email_addresses")
            .and_then(|e| e.get(0))
            .and_then(|e| e.get("email_address"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(RecordInput {
            model,
            hash: own_hash(&payload_text, None, parent.as_deref()),
            nested_hash: nested.as_deref().map(digest_text),
            remote_created_at,
            parent_remote_id: parent,
            name_lower: lower(payload.get("name").and_then(Value::as_str))
                .filter(|_| model == ModelKind::Job),
            status: text(&payload, "status").filter(|_| model == ModelKind::Job),
            employment_type: text(&payload, "employment_type"),
            visibility: text(&payload, "visibility"),
            job_code: text(&payload, "job_code"),
            post_url: text(&payload, "post_url"),
            email_lower: lower(first_email.as_deref()),
            first_name_lower: lower(payload.get("first_name").and_then(Value::as_str)),
            last_name_lower: lower(payload.get("last_name").and_then(Value::as_str)),
            outcome: text(&payload, "outcome"),
            job_id: text(&payload, "job_id"),
            job_remote_id: None,
            current_stage_id: text(&payload, "current_stage_id"),
            candidate_id: text(&payload, "candidate_id"),
            id,
            remote_id,
            payload: payload_text,
            nested,
        })
    }

    /// Sets the remote id of an application's job (known to the caller, not in the record).
    pub fn with_job_remote_id(mut self, job_remote_id: Option<String>) -> Self {
        self.job_remote_id = job_remote_id;
        self.hash = own_hash(
            &self.payload,
            self.job_remote_id.as_deref(),
            self.parent_remote_id.as_deref(),
        );
        self
    }
}

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

/// What else commits in a batch's transaction.
#[derive(Debug, Clone, Copy)]
enum Along<'a> {
    Nothing,
    /// A sync run's batch: fenced by its lease, counted in its row.
    Run(&'a Fence),
    /// An API write's batch: the event that announces it.
    Event(&'a NewEvent),
}

impl Along<'_> {
    async fn commit_with(
        self,
        tx: &mut Transaction<'static, Any>,
        counts: &BatchCounts,
        now: Timestamp,
    ) -> Result<()> {
        match self {
            Along::Nothing => Ok(()),
            Along::Run(fence) => {
                let mut delta = RunCounts::default();
                for (target, source) in [
                    (&mut delta.inserted, &counts.inserted),
                    (&mut delta.updated, &counts.updated),
                    (&mut delta.unchanged, &counts.unchanged),
                ] {
                    for (model, n) in source {
                        target.insert((*model).to_owned(), *n);
                    }
                }
                fence.hold(tx, &delta, millis(now)).await
            }
            Along::Event(event) => crate::events::insert_event(tx, None, event).await,
        }
    }
}

impl BatchCounts {
    pub fn changed(&self) -> bool {
        !self.inserted.is_empty() || !self.updated.is_empty() || self.touched > 0
    }
}

const SELECT: &str = "seq, model, id, remote_id, payload, nested, changed_at, updated_at, remote_deleted_at, remote_created_at, candidate_id, job_id, current_stage_id";

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

fn model_of(s: &str) -> Result<ModelKind> {
    ModelKind::ALL
        .into_iter()
        .find(|m| m.as_str() == s)
        .ok_or_else(|| StoreError::Corrupt(format!("model `{s}`")))
}

fn stored(row: &AnyRow) -> Result<StoredRecord> {
    let r = |e| db("reading a record")(e);
    let payload: String = row.try_get("payload").map_err(r)?;
    let nested: Option<String> = row.try_get("nested").map_err(r)?;
    Ok(StoredRecord {
        seq: row.try_get("seq").map_err(r)?,
        model: model_of(&row.try_get::<String, _>("model").map_err(r)?)?,
        id: row.try_get("id").map_err(r)?,
        remote_id: row.try_get("remote_id").map_err(r)?,
        payload: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        nested: nested
            .map(|n| serde_json::from_str(&n))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        changed_at: timestamp(row.try_get("changed_at").map_err(r)?)?,
        updated_at: timestamp(row.try_get("updated_at").map_err(r)?)?,
        remote_deleted_at: opt_timestamp(row.try_get("remote_deleted_at").map_err(r)?)?,
        remote_created_at: row.try_get("remote_created_at").map_err(r)?,
        candidate_id: row.try_get("candidate_id").map_err(r)?,
        job_id: row.try_get("job_id").map_err(r)?,
        current_stage_id: row.try_get("current_stage_id").map_err(r)?,
    })
}

/// How many ids go into one `IN (...)`: well under SQLite's parameter limit.
const CHUNK: usize = 400;

struct Existing {
    hash: String,
    nested_hash: Option<String>,
    deleted: bool,
    candidate_id: Option<String>,
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
            Along::Run(fence),
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
        self.apply_batch_along(integration_id, batch, now, false, Along::Event(event))
            .await
    }

    async fn apply_batch_along(
        &self,
        integration_id: &str,
        batch: &[RecordInput],
        now: Timestamp,
        first_sync: bool,
        along: Along<'_>,
    ) -> Result<BatchCounts> {
        let mut counts = BatchCounts::default();
        if batch.is_empty() {
            return Ok(counts);
        }
        let (mut tx, _turn) = self.begin_write("starting a batch").await?;
        lock_integration(&mut tx, self.backend, integration_id).await?;
        // Who needs `updated_at` moved afterwards because something nested in them changed.
        let mut touch_candidates = BTreeSet::new();
        let mut touch_apps_of_candidates = BTreeSet::new();
        let mut touch_apps_of_stages = BTreeSet::new();
        // A record listed twice in one batch (pages that shifted under a listing) is stored
        // once, as its last version.
        let mut last: HashMap<(ModelKind, &str), usize> = HashMap::new();
        for (i, r) in batch.iter().enumerate() {
            last.insert((r.model, r.id.as_str()), i);
        }
        let mut by_model: BTreeMap<ModelKind, Vec<&RecordInput>> = BTreeMap::new();
        for (i, r) in batch.iter().enumerate() {
            if last[&(r.model, r.id.as_str())] == i {
                by_model.entry(r.model).or_default().push(r);
            }
        }
        for (model, mut records) in by_model {
            if first_sync {
                let inserted =
                    insert_new(&mut tx, self.backend, integration_id, &records, now).await?;
                if !inserted.is_empty() {
                    *counts.inserted.entry(model.as_str()).or_default() += inserted.len() as u64;
                    records.retain(|r| !inserted.contains(r.id.as_str()));
                }
                if records.is_empty() {
                    continue;
                }
            }
            let existing = existing(
                &mut tx,
                self.backend,
                integration_id,
                model,
                records.iter().map(|r| r.id.as_str()),
            )
            .await?;
            let fresh: Vec<&RecordInput> = records
                .iter()
                .copied()
                .filter(|r| !existing.contains_key(&r.id))
                .collect();
            insert(&mut tx, self.backend, integration_id, &fresh, now).await?;
            for r in records {
                let m = model.as_str();
                match existing.get(&r.id) {
                    None => {
                        *counts.inserted.entry(m).or_default() += 1;
                    }
                    Some(old) if old.hash != r.hash || old.deleted => {
                        update(&mut tx, integration_id, r, now).await?;
                        *counts.updated.entry(m).or_default() += 1;
                        if let Some(previous) = &old.candidate_id {
                            // An application that moved to another candidate changes both.
                            touch_candidates.insert(previous.clone());
                        }
                    }
                    Some(old) if old.nested_hash != r.nested_hash => {
                        set_nested(&mut tx, integration_id, r, now).await?;
                        counts.touched += 1;
                        *counts.unchanged.entry(m).or_default() += 1;
                        continue;
                    }
                    Some(_) => {
                        *counts.unchanged.entry(m).or_default() += 1;
                        continue;
                    }
                }
                match model {
                    ModelKind::Application => touch_candidates.extend(r.candidate_id.clone()),
                    ModelKind::Candidate => {
                        touch_apps_of_candidates.insert(r.id.clone());
                    }
                    ModelKind::ApplicationStage => {
                        touch_apps_of_stages.insert(r.id.clone());
                    }
                    ModelKind::Job => {}
                }
            }
        }
        if first_sync {
            along.commit_with(&mut tx, &counts, now).await?;
            tx.commit().await.map_err(db("committing a batch"))?;
            return Ok(counts);
        }
        counts.touched += touch(
            &mut tx,
            self.backend,
            integration_id,
            "ats_candidates",
            "id",
            &touch_candidates,
            now,
        )
        .await?;
        counts.touched += touch(
            &mut tx,
            self.backend,
            integration_id,
            "ats_applications",
            "candidate_id",
            &touch_apps_of_candidates,
            now,
        )
        .await?;
        counts.touched += touch(
            &mut tx,
            self.backend,
            integration_id,
            "ats_applications",
            "current_stage_id",
            &touch_apps_of_stages,
            now,
        )
        .await?;
        along.commit_with(&mut tx, &counts, now).await?;
        tx.commit().await.map_err(db("committing a batch"))?;
        Ok(counts)
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
        let sql = format!(
            "SELECT seq, id, remote_id, parent_remote_id, job_id, changed_at FROM records WHERE integration_id = $1 AND model = '{}' AND remote_deleted_at IS NULL AND seq > $2 ORDER BY seq LIMIT $3",
            model.as_str()
        );
        let rows = sqlx::query(&sql)
            .bind(integration_id)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing live records"))?;
        let e = |e| db("listing live records")(e);
        rows.iter()
            .map(|r| {
                Ok(LiveRecord {
                    seq: r.try_get("seq").map_err(e)?,
                    id: r.try_get("id").map_err(e)?,
                    remote_id: r.try_get("remote_id").map_err(e)?,
                    parent_remote_id: r.try_get("parent_remote_id").map_err(e)?,
                    job_id: r.try_get("job_id").map_err(e)?,
                    changed_at: timestamp(r.try_get("changed_at").map_err(e)?)?,
                })
            })
            .collect()
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
        let mut marked = 0;
        for chunk in ids.chunks(CHUNK) {
            let (mut tx, _turn) = self.begin_write("marking deletions").await?;
            lock_integration(&mut tx, self.backend, integration_id).await?;
            let mut p = Params::default();
            let (a, b, c) = (p.next(), p.next(), p.next());
            let list = p.list(chunk.len());
            let sql = format!(
                "UPDATE records SET remote_deleted_at = {a}, changed_at = {b}, updated_at = {c} WHERE integration_id = ${} AND model = '{}' AND remote_deleted_at IS NULL AND id IN ({list})",
                chunk.len() + 4,
                model.as_str()
            );
            let mut q = sqlx::query(&sql)
                .bind(millis(now))
                .bind(millis(now))
                .bind(millis(now));
            for id in chunk {
                q = q.bind(id);
            }
            let n = q
                .bind(integration_id)
                .execute(&mut *tx)
                .await
                .map_err(db("marking deletions"))?
                .rows_affected();
            if let Some(fence) = fence {
                let mut delta = RunCounts::default();
                delta.deleted.insert(model.as_str().to_owned(), n);
                fence.hold(&mut tx, &delta, millis(now)).await?;
            }
            marked += n;
            let set: BTreeSet<String> = chunk.iter().cloned().collect();
            match model {
                ModelKind::Application => {
                    let candidates = column_of(
                        &mut tx,
                        self.backend,
                        integration_id,
                        model,
                        "candidate_id",
                        &set,
                    )
                    .await?;
                    touch(
                        &mut tx,
                        self.backend,
                        integration_id,
                        "ats_candidates",
                        "id",
                        &candidates,
                        now,
                    )
                    .await?;
                }
                ModelKind::Candidate => {
                    touch(
                        &mut tx,
                        self.backend,
                        integration_id,
                        "ats_applications",
                        "candidate_id",
                        &set,
                        now,
                    )
                    .await?;
                }
                ModelKind::ApplicationStage => {
                    touch(
                        &mut tx,
                        self.backend,
                        integration_id,
                        "ats_applications",
                        "current_stage_id",
                        &set,
                        now,
                    )
                    .await?;
                }
                ModelKind::Job => {}
            }
            tx.commit().await.map_err(db("marking deletions"))?;
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
        self.list_pages(integration_id, model, filter, after, limit, None)
            .await
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
        self.list_pages(integration_id, model, filter, after, limit, key)
            .await
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
        let plan = self.list_plan(integration_id, model, filter).await?;
        let (inner, binds) = list_query(plan, integration_id, model, filter, after, limit, key)?;
        let sql = raw_page_sql(self.backend, &inner);
        let mut records = self.raw_page(&sql, binds, "listing records").await?;
        // The page's own order (see `list_query`), which the aggregate does not keep.
        match key {
            Some(column) => records.sort_unstable_by_key(|r| (r.order_key(column), r.seq)),
            None => records.sort_unstable_by_key(|r| r.seq),
        }
        let more = records.len() > limit as usize;
        records.truncate(limit as usize);
        Ok((records, more))
    }

    /// Runs a `raw_page_sql` statement.
    async fn raw_page(
        &self,
        sql: &str,
        binds: Vec<Bind>,
        operation: &'static str,
    ) -> Result<Vec<RawRecord>> {
        let row = with_binds(sqlx::query(sql), binds)
            .fetch_one(&self.pool)
            .await
            .map_err(db(operation))?;
        let page: Option<String> = row.try_get(0).map_err(db(operation))?;
        match page {
            Some(page) => page.split(RAW_RECORD).map(raw_from_text).collect(),
            None => Ok(Vec::new()),
        }
    }

    /// `list` (pages in `seq` order) or `list_after` (ordered by `key`, then seq).
    async fn list_pages(
        &self,
        integration_id: &str,
        model: ModelKind,
        filter: &Filter,
        after: Option<Position>,
        limit: u32,
        key: Option<&'static str>,
    ) -> Result<(Vec<StoredRecord>, bool)> {
        let (rows, more) = self
            .list_rows(integration_id, model, filter, after, limit, key)
            .await?;
        Ok((rows.iter().map(stored).collect::<Result<_>>()?, more))
    }

    async fn list_rows(
        &self,
        integration_id: &str,
        model: ModelKind,
        filter: &Filter,
        after: Option<Position>,
        limit: u32,
        key: Option<&'static str>,
    ) -> Result<(Vec<AnyRow>, bool)> {
        let plan = self.list_plan(integration_id, model, filter).await?;
        let (sql, binds) = list_query(plan, integration_id, model, filter, after, limit, key)?;
        let mut rows = with_binds(sqlx::query(&sql), binds)
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing records"))?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        Ok((rows, more))
    }
}

/// How `list_query` writes a statement, where the database's planner needs help.
#[derive(Debug, Clone, Copy)]
struct ListPlan {
    backend: Backend,
    /// Candidates filtered by `job_ids` are found by walking the candidates in page order
    /// and testing each, instead of looking up every matching candidate and sorting them.
    walk_candidates: bool,
}

/// Matching applications above which SQLite walks the candidates for a `job_ids` filter.
/// Looking the candidates up costs a row read per match plus a sort of them all; walking
/// costs about `page size ÷ share of matching candidates` row reads. At 200k records the
/// lookup took 266 ms for 100 jobs' 5,000 applications (the walk: a few ms), and the walk
/// would read every candidate for a job with a few hundred.
const WALK_CANDIDATES_ABOVE: i64 = 2_000;

impl Store {
    async fn list_plan(
        &self,
        integration_id: &str,
        model: ModelKind,
        filter: &Filter,
    ) -> Result<ListPlan> {
        let mut plan = ListPlan {
            backend: self.backend,
            walk_candidates: false,
        };
        // PostgreSQL's planner makes this choice itself (its case is within the query
        // benchmark's limit either way).
        if let (Backend::Sqlite, ModelKind::Candidate, Some(jobs)) =
            (self.backend, model, &filter.job_ids)
        {
            if !jobs.is_empty() {
                let mut p = Params::for_lists(self.backend);
                let sql = format!(
                    "SELECT COUNT(*) FROM records WHERE integration_id = {} AND model = 'ats_applications' AND job_id IN ({})",
                    p.next(),
                    p.list(jobs.len())
                );
                let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(integration_id);
                for job in jobs {
                    q = q.bind(job);
                }
                let matches = q
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db("counting applications"))?;
                plan.walk_candidates = matches > WALK_CANDIDATES_ABOVE;
            }
        }
        Ok(plan)
    }
}

/// The list statement of `list_rows` (its SELECT is `SELECT`) and its values.
fn list_query(
    plan: ListPlan,
    integration_id: &str,
    model: ModelKind,
    filter: &Filter,
    after: Option<Position>,
    limit: u32,
    key: Option<&'static str>,
) -> Result<(String, Vec<Bind>)> {
    let mut p = Params::default();
    let mut sql = format!(
        "SELECT {SELECT} FROM records WHERE integration_id = {}{} AND model = '{}'",
        plain_value(plan.backend),
        p.next(),
        model.as_str()
    );
    let mut binds: Vec<Bind> = vec![Bind::Text(integration_id.to_owned())];
    let eq_list = |sql: &mut String,
                   binds: &mut Vec<Bind>,
                   p: &mut Params,
                   column: &str,
                   values: &Option<Vec<String>>| {
        if let Some(values) = values {
            if values.is_empty() {
                sql.push_str(" AND 1 = 0");
            } else {
                sql.push_str(&format!(" AND {column} IN ({})", p.list(values.len())));
                binds.extend(values.iter().cloned().map(Bind::Text));
            }
        }
    };
    match (after, key) {
        (Some(Position { seq, key: Some(k) }), Some(column)) => {
            let (a, b, c, d) = (p.next(), p.next(), p.next(), p.next());
            // The first condition gives the index range its start; the second is the
            // exact keyset position.
            sql.push_str(&format!(
                " AND {column} >= {a} AND ({column} > {b} OR ({column} = {c} AND seq > {d}))"
            ));
            binds.extend([Bind::Int(k), Bind::Int(k), Bind::Int(k), Bind::Int(seq)]);
        }
        (Some(_), Some(_)) => {
            // A cursor made before these pages were ordered by that column: continuing
            // it by seq in the new order could skip records.
            return Err(StoreError::InvalidCursor(
                    "it predates this server's ordering of filtered pages; start again from the first page".into(),
                ));
        }
        (Some(Position { seq, .. }), None) => {
            sql.push_str(&format!(" AND seq > {}", p.next()));
            binds.push(Bind::Int(seq));
        }
        (None, _) => {}
    }
    eq_list(&mut sql, &mut binds, &mut p, "id", &filter.ids);
    eq_list(
        &mut sql,
        &mut binds,
        &mut p,
        "remote_id",
        &filter.remote_ids,
    );
    if let Some(t) = filter.updated_after {
        sql.push_str(&format!(" AND updated_at > {}", p.next()));
        binds.push(Bind::Int(t));
    }
    // Deleted rows are few; the page index serves this check without one of its own.
    if !filter.include_deleted {
        sql.push_str(" AND remote_deleted_at IS NULL");
    }
    match model {
        ModelKind::Job => {
            eq_list(&mut sql, &mut binds, &mut p, "status", &filter.statuses);
            eq_list(
                &mut sql,
                &mut binds,
                &mut p,
                "employment_type",
                &filter.employment_types,
            );
            eq_list(
                &mut sql,
                &mut binds,
                &mut p,
                "visibility",
                &filter.visibilities,
            );
            eq_list(&mut sql, &mut binds, &mut p, "job_code", &filter.job_codes);
            if let Some(url) = &filter.post_url {
                sql.push_str(&format!(" AND post_url = {}", p.next()));
                binds.push(Bind::Text(url.clone()));
            }
            if let Some(needle) = &filter.name_contains {
                // A substring match cannot use a B-tree index; it scans the integration's
                // jobs, which number in the thousands, not millions.
                sql.push_str(&format!(" AND name_lower LIKE {} ESCAPE '\\'", p.next()));
                binds.push(Bind::Text(format!(
                    "%{}%",
                    escape_like(&needle.to_lowercase())
                )));
            }
            if let Some(t) = filter.remote_created_after {
                sql.push_str(&format!(" AND remote_created_at >= {}", p.next()));
                binds.push(Bind::Int(start_of_day(t)));
            }
        }
        ModelKind::Candidate => {
            for (column, value) in [
                ("email_lower", &filter.email),
                ("first_name_lower", &filter.first_name),
                ("last_name_lower", &filter.last_name),
            ] {
                if let Some(v) = value {
                    sql.push_str(&format!(" AND {column} = {}", p.next()));
                    binds.push(Bind::Text(v.trim().to_lowercase()));
                }
            }
            if let Some(jobs) = &filter.job_ids {
                if jobs.is_empty() {
                    sql.push_str(" AND 1 = 0");
                } else {
                    let inner_integration = p.next();
                    let list = p.list(jobs.len());
                    // `+id` keeps SQLite off the id index (see `ListPlan`).
                    let id = if plan.walk_candidates { "+id" } else { "id" };
                    sql.push_str(&format!(
                            " AND {id} IN (SELECT candidate_id FROM records WHERE integration_id = {inner_integration} AND model = 'ats_applications' AND job_id IN ({list}))"
                        ));
                    binds.push(Bind::Text(integration_id.to_owned()));
                    binds.extend(jobs.iter().cloned().map(Bind::Text));
                }
            }
        }
        ModelKind::Application => {
            eq_list(&mut sql, &mut binds, &mut p, "outcome", &filter.outcomes);
            eq_list(&mut sql, &mut binds, &mut p, "job_id", &filter.job_ids);
            eq_list(
                &mut sql,
                &mut binds,
                &mut p,
                "job_remote_id",
                &filter.job_remote_ids,
            );
            eq_list(
                &mut sql,
                &mut binds,
                &mut p,
                "current_stage_id",
                &filter.current_stage_ids,
            );
            if let Some(t) = filter.remote_created_after {
                sql.push_str(&format!(" AND remote_created_at >= {}", p.next()));
                binds.push(Bind::Int(start_of_day(t)));
            }
        }
        ModelKind::ApplicationStage => {}
    }
    // With an id list the result is at most as long as the list: sorting it is cheaper than
    // walking the page index and testing every row (`+seq` keeps the planner off it).
    let order = if let Some(column) = key {
        format!("{column}, seq")
    } else if filter.ids.is_some() || filter.remote_ids.is_some() {
        "+seq".to_owned()
    } else {
        "seq".to_owned()
    };
    sql.push_str(&format!(" ORDER BY {order} LIMIT {}", p.next()));
    binds.push(Bind::Int(i64::from(limit) + 1));
    Ok((sql, binds))
}

/// What goes before a placeholder whose value should not steer the plan. With the
/// statistics `ANALYZE` writes (sqlite_stat4), SQLite plans a statement for the values bound
/// to it and prepares it again whenever a value compared with an indexed column changes: a
/// fifth of the time of every list page went to that. `+$n` is an expression rather than a
/// plain parameter, so it is planned with the average statistics and the prepared statement
/// is reused. That is what the integration id and record ids need: they select the same way
/// whatever their value (the indexes start with the integration, and ids are unique).
/// Filter values (an outcome, a job) keep their per-value plans. PostgreSQL has no unary
/// plus for text and plans differently anyway.
fn plain_value(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "+",
        Backend::Postgres => "",
    }
}

/// Records of `model` whose `column` is one of `values`, in `seq` order.
fn by_column_query(
    backend: Backend,
    integration_id: &str,
    model: ModelKind,
    column: &str,
    values: &[String],
) -> (String, Vec<Bind>) {
    let mut p = Params::for_lists(backend);
    let first = p.next();
    let plain = plain_value(backend);
    let list = (0..values.len())
        .map(|_| format!("{plain}{}", p.next()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {SELECT} FROM records WHERE integration_id = {plain}{first} AND model = '{}' AND {column} IN ({list}) ORDER BY seq",
        model.as_str()
    );
    let mut binds = vec![Bind::Text(integration_id.to_owned())];
    binds.extend(values.iter().cloned().map(Bind::Text));
    (sql, binds)
}

/// Pages served unparsed come back from the database as one text value: each record's
/// fields (`RAW_FIELDS`) joined by US (0x1F), the records joined by RS (0x1E), in page order.
/// sqlx hands every column of every row across from SQLite's worker thread as a value of its
/// own (copied, allocated, freed on the other thread under SQLite's allocator lock), which
/// cost more than the query itself: one value per page is a fraction of that on both
/// backends. Stored JSON never holds a raw control character (JSON escapes them) and ids
/// are generated, so neither separator can occur inside a field; a field count that does
/// not match is reported as corrupt data, never guessed at.
const RAW_UNIT: char = '\u{1f}';
const RAW_RECORD: char = '\u{1e}';

/// The fields of a raw record, in the order `raw_from_text` reads them. `concat` (one
/// allocation per row, where a chain of `||` copies the row so far at every step) renders
/// integers as text and NULL as the empty string, which none of these columns otherwise
/// holds.
const RAW_FIELDS: [&str; 11] = [
    "seq",
    "id",
    "changed_at",
    "updated_at",
    "remote_deleted_at",
    "remote_created_at",
    "candidate_id",
    "job_id",
    "current_stage_id",
    "nested",
    "payload",
];

/// `inner` (a statement selecting `SELECT`) as one `RAW_RECORD`-joined text value. The
/// records come in no particular order: the caller sorts them (an ORDER BY inside the
/// aggregate copied every record into a sorter once more, for what a sort of a few hundred
/// keys in memory does).
fn raw_page_sql(backend: Backend, inner: &str) -> String {
    let row = RAW_FIELDS.join(&format!(", '{RAW_UNIT}', "));
    // Both have an n-ary `concat` (SQLite since 3.44; the bundled one is newer).
    let aggregate = match backend {
        Backend::Sqlite => "group_concat",
        Backend::Postgres => "string_agg",
    };
    format!("SELECT {aggregate}(concat({row}), '{RAW_RECORD}') AS page FROM ({inner}) AS page_rows")
}

fn raw_from_text(text: &str) -> Result<RawRecord> {
    let mut fields = text.split(RAW_UNIT);
    let mut next = || {
        fields.next().ok_or_else(|| {
            StoreError::Corrupt(format!("a raw record has too few fields: {text:.80}"))
        })
    };
    let int = |s: &str| {
        s.parse::<i64>().map_err(|_| {
            StoreError::Corrupt(format!("`{s:.40}` in a raw record is not an integer"))
        })
    };
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let opt_int = |s: &str| {
        if s.is_empty() {
            Ok(None)
        } else {
            int(s).map(Some)
        }
    };
    let seq = int(next()?)?;
    let id = next()?.to_owned();
    let changed_at = timestamp(int(next()?)?)?;
    let updated_at = timestamp(int(next()?)?)?;
    let remote_deleted_at = opt_int(next()?)?.map(timestamp).transpose()?;
    let remote_created_at = opt_int(next()?)?;
    let candidate_id = opt(next()?);
    let job_id = opt(next()?);
    let current_stage_id = opt(next()?);
    let nested = opt(next()?);
    let payload = next()?.to_owned();
    let record = RawRecord {
        seq,
        id,
        payload,
        nested,
        changed_at,
        updated_at,
        remote_deleted_at,
        remote_created_at,
        candidate_id,
        job_id,
        current_stage_id,
    };
    if fields.next().is_some() {
        return Err(StoreError::Corrupt(format!(
            "a raw record has too many fields: {text:.80}"
        )));
    }
    Ok(record)
}

fn with_binds<'q>(
    mut q: sqlx::query::Query<'q, Any, AnyArguments<'q>>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'q, Any, AnyArguments<'q>> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s),
            Bind::Int(i) => q.bind(i),
        };
    }
    q
}

impl Store {
    /// Records of a model by id (any state), for assembling nested objects.
    pub async fn by_ids(
        &self,
        integration_id: &str,
        model: ModelKind,
        ids: &[String],
    ) -> Result<Vec<StoredRecord>> {
        self.by_column(integration_id, model, "id", ids).await
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
        .await
    }

    /// `by_ids` with each record's JSON left as stored.
    pub async fn by_ids_raw(
        &self,
        integration_id: &str,
        model: ModelKind,
        ids: &[String],
    ) -> Result<Vec<RawRecord>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let (inner, binds) = by_column_query(self.backend, integration_id, model, "id", chunk);
            let sql = raw_page_sql(self.backend, &inner);
            let mut records = self.raw_page(&sql, binds, "reading records").await?;
            records.sort_unstable_by_key(|r| r.seq);
            out.extend(records);
        }
        Ok(out)
    }

    async fn by_column(
        &self,
        integration_id: &str,
        model: ModelKind,
        column: &str,
        values: &[String],
    ) -> Result<Vec<StoredRecord>> {
        self.by_column_rows(integration_id, model, column, values)
            .await?
            .iter()
            .map(stored)
            .collect()
    }

    async fn by_column_rows(
        &self,
        integration_id: &str,
        model: ModelKind,
        column: &str,
        values: &[String],
    ) -> Result<Vec<AnyRow>> {
        let mut out = Vec::new();
        for chunk in values.chunks(CHUNK) {
            let (sql, binds) = by_column_query(self.backend, integration_id, model, column, chunk);
            out.extend(
                with_binds(sqlx::query(&sql), binds)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db("reading records"))?,
            );
        }
        Ok(out)
    }

    /// Refreshes the query planner's statistics after a large change. Without them SQLite
    /// walks the page index for selective list filters (hundreds of milliseconds at a million
    /// records in the query benchmark). PostgreSQL's autovacuum gets there by itself, but
    /// not soon enough: in `atsbridge bench` the resync right after a first sync of 43k
    /// records took 13.8 s instead of 2 s, and list filters 87 ms instead of 7 ms, on plans
    /// made for an empty table.
    pub async fn refresh_statistics(&self) -> Result<()> {
        let sql = match self.backend {
            Backend::Sqlite => "ANALYZE",
            Backend::Postgres => "ANALYZE records",
        };
        let _turn = self.write_turn().await;
        sqlx::query(sql)
            .execute(&self.pool)
            .await
            .map_err(db("refreshing statistics"))?;
        Ok(())
    }

    /// How many live records an integration has per model.
    pub async fn counts(&self, integration_id: &str) -> Result<BTreeMap<String, i64>> {
        let rows = sqlx::query("SELECT model, COUNT(*) AS n FROM records WHERE integration_id = $1 AND remote_deleted_at IS NULL GROUP BY model")
            .bind(integration_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db("counting records"))?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("model").map_err(db("counting records"))?,
                    r.try_get("n").map_err(db("counting records"))?,
                ))
            })
            .collect()
    }

    /// Remembers that an application was created through atsbridge.
    pub async fn mark_created(
        &self,
        integration_id: &str,
        remote_id: &str,
        now: Timestamp,
    ) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO created_applications (integration_id, remote_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (integration_id, remote_id) DO NOTHING")
            .bind(integration_id)
            .bind(remote_id)
            .bind(millis(now))
            .execute(&self.pool)
            .await
            .map_err(db("remembering a created application"))?;
        Ok(())
    }

    /// Remote ids of the applications created through atsbridge.
    pub async fn created_remote_ids(&self, integration_id: &str) -> Result<BTreeSet<String>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT remote_id FROM created_applications WHERE integration_id = $1",
        )
        .bind(integration_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading created applications"))?;
        Ok(ids.into_iter().collect())
    }
}

enum Bind {
    Text(String),
    Int(i64),
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Kombo's `remote_created_after` counts whole days.
fn start_of_day(ms: i64) -> i64 {
    ms - ms.rem_euclid(86_400_000)
}

async fn existing<'a>(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    integration_id: &str,
    model: ModelKind,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, Existing>> {
    let ids: Vec<&str> = ids.collect();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let mut p = Params::for_lists(backend);
        let first = p.next();
        let list = p.list(chunk.len());
        let sql = format!(
            "SELECT id, hash, nested_hash, remote_deleted_at, candidate_id FROM records WHERE integration_id = {first} AND model = '{}' AND id IN ({list})",
            model.as_str()
        );
        let mut q = sqlx::query(&sql).bind(integration_id);
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q
            .fetch_all(&mut **tx)
            .await
            .map_err(db("reading stored hashes"))?
        {
            let r = |e| db("reading stored hashes")(e);
            out.insert(
                row.try_get("id").map_err(r)?,
                Existing {
                    hash: row.try_get("hash").map_err(r)?,
                    nested_hash: row.try_get("nested_hash").map_err(r)?,
                    deleted: row
                        .try_get::<Option<i64>, _>("remote_deleted_at")
                        .map_err(r)?
                        .is_some(),
                    candidate_id: row.try_get("candidate_id").map_err(r)?,
                },
            );
        }
    }
    Ok(out)
}

fn values(r: &RecordInput) -> Vec<Option<String>> {
    vec![
        r.nested.clone(),
        r.nested_hash.clone(),
        r.parent_remote_id.clone(),
        r.name_lower.clone(),
        r.status.clone(),
        r.employment_type.clone(),
        r.visibility.clone(),
        r.job_code.clone(),
        r.post_url.clone(),
        r.email_lower.clone(),
        r.first_name_lower.clone(),
        r.last_name_lower.clone(),
        r.outcome.clone(),
        r.job_id.clone(),
        r.job_remote_id.clone(),
        r.current_stage_id.clone(),
        r.candidate_id.clone(),
    ]
}

const TEXT_COLUMNS: [&str; 17] = [
    "nested",
    "nested_hash",
    "parent_remote_id",
    "name_lower",
    "status",
    "employment_type",
    "visibility",
    "job_code",
    "post_url",
    "email_lower",
    "first_name_lower",
    "last_name_lower",
    "outcome",
    "job_id",
    "job_remote_id",
    "current_stage_id",
    "candidate_id",
];

/// Rows per INSERT statement, per backend. PostgreSQL gains from few, large statements
/// (each one is a round trip and a plan). On SQLite, which runs in-process, a first sync of
/// 50k applicants took about the same at 64 and at 200 rows (15–16 s; 16.5 s at 16).
fn insert_rows_per_statement(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 64,
        Backend::Postgres => 200,
    }
}

async fn insert(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    integration_id: &str,
    records: &[&RecordInput],
    now: Timestamp,
) -> Result<()> {
    insert_rows(tx, backend, integration_id, records, now, false)
        .await
        .map(|_| ())
}

/// Serializes the writers of one integration's records on PostgreSQL (SQLite has one writer
/// anyway): a batch looks up which records exist and then inserts the others, so two writers
/// storing the same new record (a sync and the API write that created it) would otherwise
/// both insert it and one would fail on the unique key. Every record writer takes this lock
/// first, and a run's fence updates the same row, so they cannot deadlock on each other.
async fn lock_integration(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    integration_id: &str,
) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT id FROM integrations WHERE id = $1 FOR UPDATE")
            .bind(integration_id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(db("locking an integration's records"))?;
    }
    Ok(())
}

/// Inserts the records that are not stored yet and returns their ids; the others are left
/// as they are.
async fn insert_new(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    integration_id: &str,
    records: &[&RecordInput],
    now: Timestamp,
) -> Result<HashSet<String>> {
    insert_rows(tx, backend, integration_id, records, now, true).await
}

async fn insert_rows(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    integration_id: &str,
    records: &[&RecordInput],
    now: Timestamp,
    skip_stored: bool,
) -> Result<HashSet<String>> {
    let mut inserted = HashSet::new();
    let fixed = [
        "integration_id",
        "model",
        "id",
        "remote_id",
        "payload",
        "hash",
        "changed_at",
        "updated_at",
        "remote_created_at",
    ];
    let names: Vec<&str> = fixed.iter().chain(TEXT_COLUMNS.iter()).copied().collect();
    for chunk in records.chunks(insert_rows_per_statement(backend)) {
        let mut p = Params::for_lists(backend);
        let rows: Vec<String> = chunk
            .iter()
            .map(|_| format!("({})", p.list(names.len())))
            .collect();
        let sql = format!(
            "INSERT INTO records ({}) VALUES {}{}",
            names.join(", "),
            rows.join(", "),
            if skip_stored {
                " ON CONFLICT (integration_id, model, id) DO NOTHING RETURNING id"
            } else {
                ""
            }
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(integration_id)
                .bind(r.model.as_str())
                .bind(&r.id)
                .bind(&r.remote_id)
                .bind(&r.payload)
                .bind(&r.hash)
                .bind(millis(now))
                .bind(millis(now))
                .bind(r.remote_created_at);
            for v in values(r) {
                q = q.bind(v);
            }
        }
        if skip_stored {
            for row in q
                .fetch_all(&mut **tx)
                .await
                .map_err(db("inserting records"))?
            {
                inserted.insert(row.try_get("id").map_err(db("inserting records"))?);
            }
        } else {
            q.execute(&mut **tx)
                .await
                .map_err(db("inserting records"))?;
        }
    }
    Ok(inserted)
}

async fn update(
    tx: &mut Transaction<'_, Any>,
    integration_id: &str,
    r: &RecordInput,
    now: Timestamp,
) -> Result<()> {
    let mut p = Params::default();
    let mut sets = vec![
        format!("remote_id = {}", p.next()),
        format!("payload = {}", p.next()),
        format!("hash = {}", p.next()),
        format!("changed_at = {}", p.next()),
        format!("updated_at = {}", p.next()),
        format!("remote_created_at = {}", p.next()),
        "remote_deleted_at = NULL".to_owned(),
    ];
    sets.extend(TEXT_COLUMNS.iter().map(|c| format!("{c} = {}", p.next())));
    let sql = format!(
        "UPDATE records SET {} WHERE integration_id = {} AND model = '{}' AND id = {}",
        sets.join(", "),
        p.next(),
        r.model.as_str(),
        p.next()
    );
    let mut q = sqlx::query(&sql)
        .bind(&r.remote_id)
        .bind(&r.payload)
        .bind(&r.hash)
        .bind(millis(now))
        .bind(millis(now))
        .bind(r.remote_created_at);
    for v in values(r) {
        q = q.bind(v);
    }
    q.bind(integration_id)
        .bind(&r.id)
        .execute(&mut **tx)
        .await
        .map_err(db("updating a record"))?;
    Ok(())
}

async fn set_nested(
    tx: &mut Transaction<'_, Any>,
    integration_id: &str,
    r: &RecordInput,
    now: Timestamp,
) -> Result<()> {
    let sql = format!("UPDATE records SET nested = $1, nested_hash = $2, updated_at = $3 WHERE integration_id = $4 AND model = '{}' AND id = $5", r.model.as_str());
    sqlx::query(&sql)
        .bind(&r.nested)
        .bind(&r.nested_hash)
        .bind(millis(now))
        .bind(integration_id)
        .bind(&r.id)
        .execute(&mut **tx)
        .await
        .map_err(db("updating nested data"))?;
    Ok(())
}

/// Moves `updated_at` to `now` for the `model` records whose `column` is in `values`.
/// (`updated_at + 0` keeps the planner off the `updated_at` index: a range scan over every
/// older record of the model would make each batch slower than the one before.)
async fn touch(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    integration_id: &str,
    model: &str,
    column: &str,
    values: &BTreeSet<String>,
    now: Timestamp,
) -> Result<u64> {
    let values: Vec<&String> = values.iter().collect();
    let mut touched = 0;
    for chunk in values.chunks(CHUNK) {
        let mut p = Params::for_lists(backend);
        let (a, b, c) = (p.next(), p.next(), p.next());
        let list = p.list(chunk.len());
        let sql = format!("UPDATE records SET updated_at = {a} WHERE integration_id = {b} AND model = '{model}' AND updated_at + 0 < {c} AND {column} IN ({list})");
        let mut q = sqlx::query(&sql)
            .bind(millis(now))
            .bind(integration_id)
            .bind(millis(now));
        for v in chunk {
            q = q.bind(*v);
        }
        touched += q
            .execute(&mut **tx)
            .await
            .map_err(db("moving updated_at"))?
            .rows_affected();
    }
    Ok(touched)
}

/// The values of `column` of the given records.
async fn column_of(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    integration_id: &str,
    model: ModelKind,
    column: &str,
    ids: &BTreeSet<String>,
) -> Result<BTreeSet<String>> {
    let ids: Vec<&String> = ids.iter().collect();
    let mut out = BTreeSet::new();
    for chunk in ids.chunks(CHUNK) {
        let mut p = Params::for_lists(backend);
        let first = p.next();
        let list = p.list(chunk.len());
        let sql = format!("SELECT {column} AS v FROM records WHERE integration_id = {first} AND model = '{}' AND id IN ({list})", model.as_str());
        let mut q = sqlx::query(&sql).bind(integration_id);
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q
            .fetch_all(&mut **tx)
            .await
            .map_err(db("reading records"))?
        {
            if let Some(v) = row
                .try_get::<Option<String>, _>("v")
                .map_err(db("reading records"))?
            {
                out.insert(v);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{json, Value};

    use super::{canonical, digest_text, own_hash, raw_from_text, RAW_UNIT};
    use crate::StoreError;

    fn digest(v: &Value) -> String {
        digest_text(&canonical(v))
    }

    /// The hash with a job's or parent's remote id is put together around the payload's
    /// canonical text; it must be the digest of the object it was first made from, or every
    /// stored record would look changed after an upgrade.
    #[test]
    fn own_hash_is_the_digest_of_the_object_with_the_remote_ids() {
        let payload = json!({"id": "a\"1", "nested": {"z": [1, {"y": null}], "a": "ü"}});
        let text = canonical(&payload);
        for (job, parent) in [
            (Some("j-1"), None),
            (None, Some("p\"2")),
            (Some("j"), Some("p")),
        ] {
            assert_eq!(
                own_hash(&text, job, parent),
                digest(
                    &json!({"payload": payload, "job_remote_id": job, "parent_remote_id": parent})
                ),
                "{job:?} {parent:?}"
            );
        }
        assert_eq!(own_hash(&text, None, None), digest(&payload));
    }

    #[test]
    fn raw_records_with_a_wrong_field_count_or_a_bad_number_are_corrupt() {
        let fields = |n: usize| vec!["1"; n].join(&RAW_UNIT.to_string());
        // seq, id, changed_at, updated_at, 5 optional fields left empty, nested, payload.
        let good =
            ["7", "id", "1000", "2000", "", "", "", "", "", "", "{}"].join(&RAW_UNIT.to_string());
        let r = raw_from_text(&good).expect("eleven fields");
        assert_eq!((r.seq, r.id.as_str(), r.payload.as_str()), (7, "id", "{}"));
        assert_eq!(
            (r.nested, r.candidate_id, r.remote_deleted_at),
            (None, None, None)
        );
        for bad in [fields(10), fields(12), good.replacen('7', "x", 1)] {
            assert!(
                matches!(raw_from_text(&bad), Err(StoreError::Corrupt(_))),
                "{bad:?} is corrupt"
            );
        }
    }

    /// The straightforward version `canonical` was first written as; stored hashes were made
    /// with it, so the fast one must agree byte for byte.
    fn reference(v: &Value) -> String {
        match v {
            Value::Object(map) => {
                let sorted: BTreeMap<&String, &Value> = map.iter().collect();
                let members: Vec<String> = sorted
                    .into_iter()
                    .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), reference(v)))
                    .collect();
                format!("{{{}}}", members.join(","))
            }
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(reference).collect();
                format!("[{}]", items.join(","))
            }
            other => other.to_string(),
        }
    }

    #[test]
    fn canonical_json_is_what_the_stored_hashes_were_made_with() {
        let values = [
            json!({"b": 1, "a": [true, null, 2.5, -7], "c": {"z": "x", "y": ""}}),
            json!({"quote\"d": "line\nbreak\ttab \\ slash", "ctl": "\u{1}\u{1f}", "del": "\u{7f}"}),
            json!({"ümlaut": "Zoë 😀", "id": "22usoyrftUwUcjavdDLURyWE", "n": 12345678901234_i64}),
            json!([{"k": []}, {}, "", 0, 1e300]),
            json!("plain"),
        ];
        for v in &values {
            assert_eq!(canonical(v), reference(v), "{v}");
        }
        assert_eq!(
            canonical(&json!({"b": "x\"y", "a": [1, null]})),
            r#"{"a":[1,null],"b":"x\"y"}"#
        );
    }
}
