//! `records` (and what belongs to them) on SQLite.
//!
//! SQLite runs in the process, so a statement costs no round trip: writes go row by row
//! through cached prepared statements (a point lookup or a one-row insert is a few
//! microseconds) instead of the long `IN (...)` lists and multi-row inserts a networked
//! database needs.

use std::collections::{BTreeSet, HashMap, HashSet};

use atsbridge_model::ModelKind;
use rusqlite::types::{ToSql, ToSqlOutput};
use rusqlite::{params, OptionalExtension as _, Transaction};
use serde_json::Value;

use super::sq;
use crate::records::plan::{self, Existing, Touches};
use crate::records::query::{Bind, Dialect, Params};
use crate::records::{model_code, Along, BatchCounts, RecordInput};
use crate::runs::{Fence, RunCounts};
use crate::Result;

mod read;
pub(crate) use read::{
    by_column, changed_since, counts, created_remote_ids, live_records, page, page_statement,
    summaries,
};

/// SQLite's planner, with the statistics `ANALYZE` writes (sqlite_stat4), plans a statement
/// for the values bound to it and prepares it again whenever a value compared with an
/// indexed column changes; `+?` is an expression rather than a plain parameter, so it is
/// planned with the average statistics and the prepared statement is reused. That is what
/// the integration id and record ids need: they select the same way whatever their value.
/// `+seq` / `+id` keep the planner off an index where walking it would be slower (see
/// `query::list_query`).
pub(crate) const DIALECT: Dialect = Dialect {
    numbered: false,
    plain: "+",
    seq_unindexed: "+seq",
    custom_field,
};

/// `Filter::custom_field` through SQLite's JSON table functions: the field's value, or
/// one element of it when it is a list, has the filter's JSON type and value. Walking
/// `custom_fields` by key (rather than a JSON path) leaves any label usable as a key.
fn custom_field(p: &mut Params, key: &str, value: &Value, binds: &mut Vec<Bind>) -> String {
    let key_param = p.next();
    binds.push(Bind::Text(key.to_owned()));
    let mut matches = |x: &str| match value {
        Value::String(s) => {
            binds.push(Bind::Text(s.clone()));
            format!("({x}.type = 'text' AND {x}.value = {})", p.next())
        }
        // Integers and reals compare as numbers (1 = 1.0), as JSON does.
        Value::Number(n) => {
            binds.push(Bind::Text(n.to_string()));
            format!(
                "({x}.type IN ('integer', 'real') AND {x}.value = CAST({} AS REAL))",
                p.next()
            )
        }
        Value::Bool(true) => format!("{x}.type = 'true'"),
        Value::Bool(false) => format!("{x}.type = 'false'"),
        Value::Null | Value::Array(_) | Value::Object(_) => format!("{x}.type = 'null'"),
    };
    let own = matches("f");
    let element = matches("g");
    format!(
        "EXISTS (SELECT 1 FROM json_each(payload, '$.custom_fields') f WHERE f.key = {key_param} \
         AND ({own} OR (f.type = 'array' AND EXISTS (SELECT 1 FROM json_each(f.value) g WHERE {element}))))"
    )
}

/// Matching applications above which a `job_ids` filter on candidates walks the candidates
/// in page order. Looking the candidates up costs a row read per match plus a sort of them
/// all; walking costs about `page size ÷ share of matching candidates` row reads. At 200k
/// records the lookup took 266 ms for 100 jobs' 5,000 applications (the walk: a few ms), and
/// the walk would read every candidate for a job with a few hundred.
const WALK_CANDIDATES_ABOVE: i64 = 2_000;

/// No integration has this key (they start at 1): reads for an integration with no records
/// yet use it and find nothing.
const NO_KEY: i64 = 0;

/// The integration's key in `records`, if it has one.
fn key_of(tx: &Transaction<'_>, integration_id: &str) -> Result<Option<i64>> {
    tx.prepare_cached("SELECT ikey FROM integration_keys WHERE integration_id = ?1")
        .and_then(|mut s| s.query_row([integration_id], |r| r.get(0)).optional())
        .map_err(sq("reading an integration's key"))
}

/// The integration's key, made on its first write.
fn key_or_new(tx: &Transaction<'_>, integration_id: &str) -> Result<i64> {
    if let Some(ikey) = key_of(tx, integration_id)? {
        return Ok(ikey);
    }
    tx.prepare_cached("INSERT INTO integration_keys (integration_id) VALUES (?1)")
        .and_then(|mut s| s.execute([integration_id]))
        .map_err(sq("making an integration's key"))?;
    Ok(tx.last_insert_rowid())
}

impl ToSql for Bind {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Bind::Text(s) => s.to_sql(),
            Bind::Int(i) => i.to_sql(),
        }
    }
}

/// The one-record insert (27 values), and the same leaving a stored record alone. Spelled
/// out once: a batch runs it for every record.
const INSERT: &str = "INSERT INTO records (ikey, model, id, remote_id, payload, hash, changed_at, updated_at, remote_created_at, nested, nested_hash, parent_remote_id, name_lower, status, employment_type, visibility, job_code, post_url, email_lower, first_name_lower, last_name_lower, outcome, job_id, job_remote_id, current_stage_id, candidate_id, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)";
const INSERT_NEW: &str = "INSERT INTO records (ikey, model, id, remote_id, payload, hash, changed_at, updated_at, remote_created_at, nested, nested_hash, parent_remote_id, name_lower, status, employment_type, visibility, job_code, post_url, email_lower, first_name_lower, last_name_lower, outcome, job_id, job_remote_id, current_stage_id, candidate_id, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27) ON CONFLICT (ikey, model, id) DO NOTHING";

/// Inserts one record; false when `or_ignore` and it was stored already.
fn insert(
    tx: &Transaction<'_>,
    ikey: i64,
    r: &RecordInput,
    now: i64,
    or_ignore: bool,
) -> Result<bool> {
    let mut statement = tx
        .prepare_cached(if or_ignore { INSERT_NEW } else { INSERT })
        .map_err(sq("inserting records"))?;
    let n = statement
        .execute(params![
            ikey,
            model_code(r.model),
            r.id,
            r.remote_id,
            r.payload,
            r.hash,
            now,
            now,
            r.remote_created_at,
            r.nested,
            r.nested_hash,
            r.parent_remote_id,
            r.name_lower,
            r.status,
            r.employment_type,
            r.visibility,
            r.job_code,
            r.post_url,
            r.email_lower,
            r.first_name_lower,
            r.last_name_lower,
            r.outcome,
            r.job_id,
            r.job_remote_id,
            r.current_stage_id,
            r.candidate_id,
            r.summary,
        ])
        .map_err(sq("inserting records"))?;
    Ok(n == 1)
}

fn update(tx: &Transaction<'_>, ikey: i64, r: &RecordInput, now: i64) -> Result<()> {
    let mut statement = tx
        .prepare_cached(
            "UPDATE records SET remote_id = ?1, payload = ?2, hash = ?3, changed_at = ?4, updated_at = ?4, remote_created_at = ?5, remote_deleted_at = NULL, anonymized_at = NULL, nested = ?6, nested_hash = ?7, parent_remote_id = ?8, name_lower = ?9, status = ?10, employment_type = ?11, visibility = ?12, job_code = ?13, post_url = ?14, email_lower = ?15, first_name_lower = ?16, last_name_lower = ?17, outcome = ?18, job_id = ?19, job_remote_id = ?20, current_stage_id = ?21, candidate_id = ?22, summary = ?26 WHERE ikey = ?23 AND model = ?24 AND id = +?25",
        )
        .map_err(sq("updating a record"))?;
    statement
        .execute(params![
            r.remote_id,
            r.payload,
            r.hash,
            now,
            r.remote_created_at,
            r.nested,
            r.nested_hash,
            r.parent_remote_id,
            r.name_lower,
            r.status,
            r.employment_type,
            r.visibility,
            r.job_code,
            r.post_url,
            r.email_lower,
            r.first_name_lower,
            r.last_name_lower,
            r.outcome,
            r.job_id,
            r.job_remote_id,
            r.current_stage_id,
            r.candidate_id,
            ikey,
            model_code(r.model),
            r.id,
            r.summary,
        ])
        .map_err(sq("updating a record"))?;
    Ok(())
}

fn set_nested(tx: &Transaction<'_>, ikey: i64, r: &RecordInput, now: i64) -> Result<()> {
    tx.prepare_cached("UPDATE records SET nested = ?1, nested_hash = ?2, updated_at = ?3 WHERE ikey = ?4 AND model = ?5 AND id = +?6")
        .and_then(|mut s| {
            s.execute(params![r.nested, r.nested_hash, now, ikey, model_code(r.model), r.id])
        })
        .map_err(sq("updating nested data"))?;
    Ok(())
}

fn existing<'a>(
    tx: &Transaction<'_>,
    ikey: i64,
    model: ModelKind,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<String, Existing>> {
    let mut statement = tx
        .prepare_cached("SELECT hash, nested_hash, remote_deleted_at, candidate_id, summary IS NULL FROM records WHERE ikey = ?1 AND model = ?2 AND id = +?3")
        .map_err(sq("reading stored hashes"))?;
    let mut out = HashMap::new();
    for id in ids {
        let found = statement
            .query_row(params![ikey, model_code(model), id], |row| {
                Ok(Existing {
                    hash: row.get(0)?,
                    nested_hash: row.get(1)?,
                    deleted: row.get::<_, Option<i64>>(2)?.is_some(),
                    candidate_id: row.get(3)?,
                    summary_missing: row.get(4)?,
                })
            })
            .optional()
            .map_err(sq("reading stored hashes"))?;
        if let Some(found) = found {
            out.insert(id.to_owned(), found);
        }
    }
    Ok(out)
}

/// Moves `updated_at` to `now` for the records that embed a changed one. (`updated_at + 0`
/// keeps the planner off the `updated_at` index: a range scan over every older record of
/// the model would make each batch slower than the one before.)
fn touch(tx: &Transaction<'_>, ikey: i64, touches: &Touches, now: i64) -> Result<u64> {
    let mut touched = 0;
    for (model, column, values) in touches.each() {
        if values.is_empty() {
            continue;
        }
        let sql = format!("UPDATE records SET updated_at = ?1 WHERE ikey = ?2 AND model = {} AND updated_at + 0 < ?1 AND anonymized_at IS NULL AND {column} = ?3", model_code(model));
        let mut statement = tx.prepare_cached(&sql).map_err(sq("moving updated_at"))?;
        for v in values {
            touched += statement
                .execute(params![now, ikey, v])
                .map_err(sq("moving updated_at"))? as u64;
        }
    }
    Ok(touched)
}

/// Inside the writer's transaction: a batch (see `Store::apply_batch_with`).
pub(crate) fn apply_batch(
    tx: &Transaction<'_>,
    integration_id: &str,
    batch: &[RecordInput],
    now: i64,
    first_sync: bool,
    along: &Along,
) -> Result<BatchCounts> {
    let ikey = key_or_new(tx, integration_id)?;
    let mut counts = BatchCounts::default();
    let mut touches = Touches::default();
    for (model, mut records) in plan::latest_by_model(batch) {
        if first_sync {
            let mut inserted = HashSet::new();
            for r in &records {
                if insert(tx, ikey, r, now, true)? {
                    inserted.insert(r.id.as_str());
                }
            }
            if !inserted.is_empty() {
                *counts.inserted.entry(model.as_str()).or_default() += inserted.len() as u64;
                records.retain(|r| !inserted.contains(r.id.as_str()));
            }
            if records.is_empty() {
                continue;
            }
        }
        let stored = existing(tx, ikey, model, records.iter().map(|r| r.id.as_str()))?;
        let writes = plan::decide(model, &records, &stored, &mut counts, &mut touches);
        for r in writes.insert {
            insert(tx, ikey, r, now, false)?;
        }
        for r in writes.update {
            update(tx, ikey, r, now)?;
        }
        for r in writes.nested {
            set_nested(tx, ikey, r, now)?;
        }
        for r in writes.summary {
            tx.prepare_cached(
                "UPDATE records SET summary = ?1 WHERE ikey = ?2 AND model = ?3 AND id = +?4",
            )
            .and_then(|mut s| s.execute(params![r.summary, ikey, model_code(r.model), r.id]))
            .map_err(sq("storing a summary"))?;
        }
    }
    if !first_sync {
        counts.touched += touch(tx, ikey, &touches, now)?;
    }
    match along {
        Along::Nothing => {}
        Along::Run(fence) => super::runs::hold_fence(tx, fence, &counts.run_delta(), now)?,
        Along::Event(event) => super::events::insert_event(tx, None, event)?,
    }
    Ok(counts)
}

/// Inside the writer's transaction: marks `ids` (one chunk) deleted and moves the
/// `updated_at` of what embeds them; fenced and counted when a run does it.
pub(crate) fn mark_deleted(
    tx: &Transaction<'_>,
    integration_id: &str,
    model: ModelKind,
    ids: &[String],
    now: i64,
    fence: Option<&Fence>,
) -> Result<u64> {
    let ikey = key_of(tx, integration_id)?.unwrap_or(NO_KEY);
    let mut statement = tx
        .prepare_cached("UPDATE records SET remote_deleted_at = ?1, changed_at = ?1, updated_at = ?1 WHERE ikey = ?2 AND model = ?3 AND remote_deleted_at IS NULL AND id = +?4")
        .map_err(sq("marking deletions"))?;
    let mut marked = 0;
    for id in ids {
        marked += statement
            .execute(params![now, ikey, model_code(model), id])
            .map_err(sq("marking deletions"))? as u64;
    }
    if let Some(fence) = fence {
        let mut delta = RunCounts::default();
        delta.deleted.insert(model.as_str().to_owned(), marked);
        super::runs::hold_fence(tx, fence, &delta, now)?;
    }
    let set: BTreeSet<&String> = ids.iter().collect();
    let mut touches = Touches::default();
    let mut lookup = tx
        .prepare_cached(&format!(
            "SELECT candidate_id FROM records WHERE ikey = ?1 AND model = {} AND id = +?2",
            model_code(model)
        ))
        .map_err(sq("reading records"))?;
    for id in set {
        let candidate: Option<String> = if Touches::moves_owner(model) {
            lookup
                .query_row(params![ikey, id], |r| r.get(0))
                .optional()
                .map_err(sq("reading records"))?
                .flatten()
        } else {
            None
        };
        touches.embedders_of(model, id, candidate.as_deref());
    }
    touch(tx, ikey, &touches, now)?;
    Ok(marked)
}

pub(crate) fn refresh_statistics(tx: &Transaction<'_>) -> Result<()> {
    tx.execute_batch("ANALYZE")
        .map_err(sq("refreshing statistics"))
}

pub(crate) fn mark_created(
    tx: &Transaction<'_>,
    integration_id: &str,
    remote_id: &str,
    now: i64,
) -> Result<()> {
    tx.prepare_cached("INSERT INTO created_applications (integration_id, remote_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (integration_id, remote_id) DO NOTHING")
        .and_then(|mut s| s.execute(params![integration_id, remote_id, now]))
        .map_err(sq("remembering a created application"))?;
    Ok(())
}

/// Inside a write: removes every record of an integration, with its created-application
/// marks (the integration itself is deleted by the caller).
pub(crate) fn delete_all(tx: &Transaction<'_>, integration_id: &str) -> Result<()> {
    // The key itself goes afterwards with the rest of the integration
    // (`retention::delete_integration_data`). A key freed so is never met by a later
    // write for another integration holding it: every write looks its key up in its own
    // transaction, and the records under it are gone in this one.
    if let Some(ikey) = key_of(tx, integration_id)? {
        tx.prepare_cached("DELETE FROM records WHERE ikey = ?1")
            .and_then(|mut s| s.execute([ikey]))
            .map_err(sq("deleting an integration's records"))?;
    }
    tx.prepare_cached("DELETE FROM created_applications WHERE integration_id = ?1")
        .and_then(|mut s| s.execute([integration_id]))
        .map_err(sq("deleting an integration's records"))?;
    Ok(())
}
