//! `records` (and what belongs to them) on PostgreSQL.
//!
//! Every statement is a round trip, so a batch is a few statements whatever its size: ids
//! go in as one array (`= ANY($n)`), new records as columns of arrays (`UNNEST`), each
//! statement prepared once per connection.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use atsbridge_model::ModelKind;
use sqlx::{PgPool, Postgres, Row as _, Transaction};

use crate::records::plan::{self, Existing, Touches};
use crate::records::query::{Bind, Dialect, Params};
use crate::records::{model_code, Along, BatchCounts, RecordInput};
use crate::runs::{Fence, RunCounts};
use crate::{db, Result};

mod read;
pub(crate) use read::{
    by_column, changed_since, counts, created_remote_ids, live_records, page, page_statement,
    summaries,
};

pub(crate) const DIALECT: Dialect = Dialect {
    numbered: true,
    plain: "",
    seq_unindexed: "seq",
    custom_field,
};

/// `Filter::custom_field` with jsonb containment: for a scalar it is equality of JSON
/// values (type included; 1 = 1.0), and a list contains a scalar it holds.
fn custom_field(
    p: &mut Params,
    key: &str,
    value: &serde_json::Value,
    binds: &mut Vec<Bind>,
) -> String {
    let (k, v) = (p.next(), p.next());
    binds.push(Bind::Text(key.to_owned()));
    binds.push(Bind::Text(value.to_string()));
    format!("(payload::jsonb -> 'custom_fields' -> {k}) @> {v}::jsonb")
}

type Tx = Transaction<'static, Postgres>;

/// No integration has this key (they start at 1): reads for an integration with no records
/// yet use it and find nothing.
const NO_KEY: i64 = 0;

/// The integration's key in `records`, if it has one.
async fn key_of<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    integration_id: &str,
) -> Result<Option<i64>> {
    sqlx::query_scalar("SELECT ikey FROM integration_keys WHERE integration_id = $1")
        .bind(integration_id)
        .fetch_optional(executor)
        .await
        .map_err(db("reading an integration's key"))
}

/// The integration's key, made on its first write (two writers making it at once get the
/// same one).
async fn key_or_new(tx: &mut Tx, integration_id: &str) -> Result<i64> {
    if let Some(ikey) = key_of(&mut **tx, integration_id).await? {
        return Ok(ikey);
    }
    sqlx::query("INSERT INTO integration_keys (integration_id) VALUES ($1) ON CONFLICT (integration_id) DO NOTHING")
        .bind(integration_id)
        .execute(&mut **tx)
        .await
        .map_err(db("making an integration's key"))?;
    key_of(&mut **tx, integration_id)
        .await?
        .ok_or_else(|| crate::StoreError::Corrupt(format!("no key for {integration_id}")))
}

/// Serializes the writers of one integration's records: a batch looks up which records
/// exist and then inserts the others, so two writers storing the same new record (a sync
/// and the API write that created it) would otherwise both insert it and one would fail on
/// the unique key. Every record writer takes this lock first, and a run's fence updates the
/// same row, so they cannot deadlock on each other.
async fn lock_integration(tx: &mut Tx, integration_id: &str) -> Result<()> {
    sqlx::query("SELECT id FROM integrations WHERE id = $1 FOR UPDATE")
        .bind(integration_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db("locking an integration's records"))?;
    Ok(())
}

/// Inserts records as columns of arrays; with `or_ignore`, those stored already are left
/// alone and the ids of the inserted ones come back.
async fn insert(
    tx: &mut Tx,
    ikey: i64,
    model: ModelKind,
    records: &[&RecordInput],
    now: i64,
    or_ignore: bool,
) -> Result<HashSet<String>> {
    if records.is_empty() {
        return Ok(HashSet::new());
    }
    // Columns of arrays borrowed from the records: the payloads are not copied again.
    let text = |f: fn(&RecordInput) -> &Option<String>| -> Vec<Option<&str>> {
        records.iter().map(|r| f(r).as_deref()).collect()
    };
    let sql = format!(
        "INSERT INTO records (ikey, model, changed_at, updated_at, id, remote_id, payload, hash, remote_created_at, nested, nested_hash, parent_remote_id, name_lower, status, employment_type, visibility, job_code, post_url, email_lower, first_name_lower, last_name_lower, outcome, job_id, job_remote_id, current_stage_id, candidate_id, summary) \
         SELECT $1, $2, $3, $3, t.* FROM UNNEST($4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[], $24::text[], $25::text[], $26::text[]) AS t{}",
        if or_ignore {
            " ON CONFLICT (ikey, model, id) DO NOTHING RETURNING id"
        } else {
            ""
        }
    );
    let q = sqlx::query(&sql)
        .bind(ikey)
        .bind(model_code(model))
        .bind(now)
        .bind(records.iter().map(|r| r.id.as_str()).collect::<Vec<_>>())
        .bind(
            records
                .iter()
                .map(|r| r.remote_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(
            records
                .iter()
                .map(|r| r.payload.clone())
                .collect::<Vec<_>>(),
        )
        .bind(records.iter().map(|r| r.hash.as_str()).collect::<Vec<_>>())
        .bind(
            records
                .iter()
                .map(|r| r.remote_created_at)
                .collect::<Vec<_>>(),
        )
        .bind(text(|r| &r.nested))
        .bind(text(|r| &r.nested_hash))
        .bind(text(|r| &r.parent_remote_id))
        .bind(text(|r| &r.name_lower))
        .bind(text(|r| &r.status))
        .bind(text(|r| &r.employment_type))
        .bind(text(|r| &r.visibility))
        .bind(text(|r| &r.job_code))
        .bind(text(|r| &r.post_url))
        .bind(text(|r| &r.email_lower))
        .bind(text(|r| &r.first_name_lower))
        .bind(text(|r| &r.last_name_lower))
        .bind(text(|r| &r.outcome))
        .bind(text(|r| &r.job_id))
        .bind(text(|r| &r.job_remote_id))
        .bind(text(|r| &r.current_stage_id))
        .bind(text(|r| &r.candidate_id))
        .bind(text(|r| &r.summary));
    if or_ignore {
        let rows = q
            .fetch_all(&mut **tx)
            .await
            .map_err(db("inserting records"))?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(db("inserting records")))
            .collect()
    } else {
        q.execute(&mut **tx)
            .await
            .map_err(db("inserting records"))?;
        Ok(HashSet::new())
    }
}

async fn update(tx: &mut Tx, ikey: i64, r: &RecordInput, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE records SET remote_id = $1, payload = $2, hash = $3, changed_at = $4, updated_at = $4, remote_created_at = $5, remote_deleted_at = NULL, anonymized_at = NULL, nested = $6, nested_hash = $7, parent_remote_id = $8, name_lower = $9, status = $10, employment_type = $11, visibility = $12, job_code = $13, post_url = $14, email_lower = $15, first_name_lower = $16, last_name_lower = $17, outcome = $18, job_id = $19, job_remote_id = $20, current_stage_id = $21, candidate_id = $22, summary = $26 WHERE ikey = $23 AND model = $24 AND id = $25",
    )
    .bind(&r.remote_id)
    .bind(&r.payload)
    .bind(&r.hash)
    .bind(now)
    .bind(r.remote_created_at)
    .bind(&r.nested)
    .bind(&r.nested_hash)
    .bind(&r.parent_remote_id)
    .bind(&r.name_lower)
    .bind(&r.status)
    .bind(&r.employment_type)
    .bind(&r.visibility)
    .bind(&r.job_code)
    .bind(&r.post_url)
    .bind(&r.email_lower)
    .bind(&r.first_name_lower)
    .bind(&r.last_name_lower)
    .bind(&r.outcome)
    .bind(&r.job_id)
    .bind(&r.job_remote_id)
    .bind(&r.current_stage_id)
    .bind(&r.candidate_id)
    .bind(ikey)
    .bind(model_code(r.model))
    .bind(&r.id)
    .bind(&r.summary)
    .execute(&mut **tx)
    .await
    .map_err(db("updating a record"))?;
    Ok(())
}

async fn set_nested(tx: &mut Tx, ikey: i64, r: &RecordInput, now: i64) -> Result<()> {
    sqlx::query("UPDATE records SET nested = $1, nested_hash = $2, updated_at = $3 WHERE ikey = $4 AND model = $5 AND id = $6")
        .bind(&r.nested)
        .bind(&r.nested_hash)
        .bind(now)
        .bind(ikey)
        .bind(model_code(r.model))
        .bind(&r.id)
        .execute(&mut **tx)
        .await
        .map_err(db("updating nested data"))?;
    Ok(())
}

async fn existing(
    tx: &mut Tx,
    ikey: i64,
    model: ModelKind,
    ids: Vec<String>,
) -> Result<HashMap<String, Existing>> {
    let rows = sqlx::query("SELECT id, hash, nested_hash, remote_deleted_at, candidate_id, summary IS NULL FROM records WHERE ikey = $1 AND model = $2 AND id = ANY($3)")
        .bind(ikey)
        .bind(model_code(model))
        .bind(ids)
        .fetch_all(&mut **tx)
        .await
        .map_err(db("reading stored hashes"))?;
    let e = |e| db("reading stored hashes")(e);
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        out.insert(
            row.try_get(0).map_err(e)?,
            Existing {
                hash: row.try_get(1).map_err(e)?,
                nested_hash: row.try_get(2).map_err(e)?,
                deleted: row.try_get::<Option<i64>, _>(3).map_err(e)?.is_some(),
                candidate_id: row.try_get(4).map_err(e)?,
                summary_missing: row.try_get(5).map_err(e)?,
            },
        );
    }
    Ok(out)
}

/// Moves `updated_at` to `now` for the records that embed a changed one. (`updated_at + 0`
/// keeps the planner off the `updated_at` index: a range scan over every older record of
/// the model would make each batch slower than the one before.)
async fn touch(tx: &mut Tx, ikey: i64, touches: &Touches, now: i64) -> Result<u64> {
    let mut touched = 0;
    for (model, column, values) in touches.each() {
        if values.is_empty() {
            continue;
        }
        let sql = format!("UPDATE records SET updated_at = $1 WHERE ikey = $2 AND model = {} AND updated_at + 0 < $1 AND anonymized_at IS NULL AND {column} = ANY($3)", model_code(model));
        touched += sqlx::query(&sql)
            .bind(now)
            .bind(ikey)
            .bind(values.iter().cloned().collect::<Vec<_>>())
            .execute(&mut **tx)
            .await
            .map_err(db("moving updated_at"))?
            .rows_affected();
    }
    Ok(touched)
}

async fn begin(pool: &PgPool, operation: &'static str) -> Result<Tx> {
    pool.begin().await.map_err(db(operation))
}

/// A batch in one transaction (see `Store::apply_batch_with`).
pub(crate) async fn apply_batch(
    pool: &PgPool,
    integration_id: &str,
    batch: &[RecordInput],
    now: i64,
    first_sync: bool,
    along: &Along,
) -> Result<BatchCounts> {
    let mut tx = begin(pool, "storing a batch").await?;
    lock_integration(&mut tx, integration_id).await?;
    let ikey = key_or_new(&mut tx, integration_id).await?;
    let mut counts = BatchCounts::default();
    let mut touches = Touches::default();
    for (model, mut records) in plan::latest_by_model(batch) {
        if first_sync {
            let inserted = insert(&mut tx, ikey, model, &records, now, true).await?;
            if !inserted.is_empty() {
                *counts.inserted.entry(model.as_str()).or_default() += inserted.len() as u64;
                records.retain(|r| !inserted.contains(&r.id));
            }
            if records.is_empty() {
                continue;
            }
        }
        let ids = records.iter().map(|r| r.id.clone()).collect();
        let stored = existing(&mut tx, ikey, model, ids).await?;
        let writes = plan::decide(model, &records, &stored, &mut counts, &mut touches);
        insert(&mut tx, ikey, model, &writes.insert, now, false).await?;
        for r in writes.update {
            update(&mut tx, ikey, r, now).await?;
        }
        for r in writes.nested {
            set_nested(&mut tx, ikey, r, now).await?;
        }
        for r in writes.summary {
            sqlx::query(
                "UPDATE records SET summary = $1 WHERE ikey = $2 AND model = $3 AND id = $4",
            )
            .bind(&r.summary)
            .bind(ikey)
            .bind(model_code(r.model))
            .bind(&r.id)
            .execute(&mut *tx)
            .await
            .map_err(db("storing a summary"))?;
        }
    }
    if !first_sync {
        counts.touched += touch(&mut tx, ikey, &touches, now).await?;
    }
    match along {
        Along::Nothing => {}
        Along::Run(fence) => {
            super::runs::hold_fence(&mut tx, fence, &counts.run_delta(), now).await?;
        }
        Along::Event(event) => super::events::insert_event(&mut tx, None, event).await?,
    }
    tx.commit().await.map_err(db("committing a batch"))?;
    Ok(counts)
}

/// Marks `ids` (one chunk) deleted in one transaction and moves the `updated_at` of what
/// embeds them; fenced and counted when a run does it.
pub(crate) async fn mark_deleted(
    pool: &PgPool,
    integration_id: &str,
    model: ModelKind,
    ids: &[String],
    now: i64,
    fence: Option<&Fence>,
) -> Result<u64> {
    let mut tx = begin(pool, "marking deletions").await?;
    lock_integration(&mut tx, integration_id).await?;
    let ikey = key_of(&mut *tx, integration_id).await?.unwrap_or(NO_KEY);
    let marked = sqlx::query("UPDATE records SET remote_deleted_at = $1, changed_at = $1, updated_at = $1 WHERE ikey = $2 AND model = $3 AND remote_deleted_at IS NULL AND id = ANY($4)")
        .bind(now)
        .bind(ikey)
        .bind(model_code(model))
        .bind(ids.to_vec())
        .execute(&mut *tx)
        .await
        .map_err(db("marking deletions"))?
        .rows_affected();
    if let Some(fence) = fence {
        let mut delta = RunCounts::default();
        delta.deleted.insert(model.as_str().to_owned(), marked);
        super::runs::hold_fence(&mut tx, fence, &delta, now).await?;
    }
    let mut touches = Touches::default();
    if Touches::moves_owner(model) {
        let candidates: Vec<Option<String>> = sqlx::query_scalar(&format!(
            "SELECT candidate_id FROM records WHERE ikey = $1 AND model = {} AND id = ANY($2)",
            model_code(model)
        ))
        .bind(ikey)
        .bind(ids.to_vec())
        .fetch_all(&mut *tx)
        .await
        .map_err(db("reading records"))?;
        for candidate in candidates.iter().flatten() {
            touches.embedders_of(model, "", Some(candidate));
        }
    } else {
        for id in ids {
            touches.embedders_of(model, id, None);
        }
    }
    touch(&mut tx, ikey, &touches, now).await?;
    tx.commit().await.map_err(db("marking deletions"))?;
    Ok(marked)
}

/// `seq, id, remote_id, parent_remote_id, job_id, changed_at`.
type LiveRow = (i64, String, String, Option<String>, Option<String>, i64);

pub(crate) async fn refresh_statistics(pool: &PgPool, growth: &Growth) -> Result<()> {
    sqlx::query("ANALYZE records")
        .execute(pool)
        .await
        .map_err(db("refreshing statistics"))?;
    let rows: i64 =
        sqlx::query_scalar("SELECT reltuples::bigint FROM pg_class WHERE relname = 'records'")
            .fetch_one(pool)
            .await
            .map_err(db("refreshing statistics"))?;
    growth.refreshed(u64::try_from(rows).unwrap_or(0));
    Ok(())
}

/// Rows this process inserted outside first syncs since PostgreSQL's statistics of `records`
/// were last refreshed, and the table's size then. With statistics made while the table was
/// small, the planner finds records by id through whatever index of the integration looks
/// smallest and filters the whole model (a batch of 1,000 lookups on a table grown to 100k
/// records by such writes took 0.2 s instead of a few ms, and kept growing); autovacuum
/// refreshes them, but minutes late. So a writer refreshes them itself once the table has
/// grown by a fifth (at least `GROWTH_MIN` rows). A first sync does not count: it inserts
/// without looking anything up, and the engine refreshes the statistics after it.
#[derive(Debug, Default)]
pub(crate) struct Growth {
    since: AtomicU64,
    at_last: AtomicU64,
}

const GROWTH_MIN: u64 = 10_000;

impl Growth {
    /// Adds `inserted` rows; true when the statistics should be refreshed now.
    pub(crate) fn add(&self, inserted: u64) -> bool {
        let since = self.since.fetch_add(inserted, Ordering::Relaxed) + inserted;
        since >= GROWTH_MIN.max(self.at_last.load(Ordering::Relaxed) / 5)
    }

    fn refreshed(&self, rows: u64) {
        self.since.store(0, Ordering::Relaxed);
        self.at_last.store(rows, Ordering::Relaxed);
    }
}

pub(crate) async fn mark_created(
    pool: &PgPool,
    integration_id: &str,
    remote_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO created_applications (integration_id, remote_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (integration_id, remote_id) DO NOTHING")
        .bind(integration_id)
        .bind(remote_id)
        .bind(now)
        .execute(pool)
        .await
        .map_err(db("remembering a created application"))?;
    Ok(())
}

/// Inside a transaction: removes every record of an integration, with its created-
/// application marks (the integration itself is deleted by the caller).
pub(crate) async fn delete_all(tx: &mut Tx, integration_id: &str) -> Result<()> {
    // The key itself goes afterwards with the rest of the integration
    // (`retention::delete_integration_data`). A key freed so is never met by a later
    // write for another integration holding it: every write looks its key up in its own
    // transaction, and the records under it are gone in this one.
    if let Some(ikey) = key_of(&mut **tx, integration_id).await? {
        sqlx::query("DELETE FROM records WHERE ikey = $1")
            .bind(ikey)
            .execute(&mut **tx)
            .await
            .map_err(db("deleting an integration's records"))?;
    }
    sqlx::query("DELETE FROM created_applications WHERE integration_id = $1")
        .bind(integration_id)
        .execute(&mut **tx)
        .await
        .map_err(db("deleting an integration's records"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Growth;

    #[test]
    fn statistics_are_refreshed_once_the_table_grew_by_a_fifth() {
        let g = Growth::default();
        assert!(!g.add(9_999), "small tables wait for the minimum");
        assert!(g.add(1));
        g.refreshed(100_000);
        assert!(!g.add(10_000), "a fifth of 100k is 20k");
        assert!(g.add(10_000));
        g.refreshed(1_000);
        assert!(!g.add(5_000), "never under the minimum");
    }
}
