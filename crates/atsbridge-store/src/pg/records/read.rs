//! Reading `records` on PostgreSQL: pages, records by id or candidate, candidates'
//! summaries, counts.

use std::collections::{BTreeMap, BTreeSet};

use atsbridge_model::ModelKind;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row as _};

use super::{key_of, LiveRow, DIALECT, NO_KEY};
use crate::records::query::{self, Bind, ListPlan};
use crate::records::{model_code, model_from_code, CandidateSummary, LiveRecord, PageQuery, Row};
use crate::{db, timestamp, Result};

pub(crate) async fn live_records(
    pool: &PgPool,
    integration_id: &str,
    model: ModelKind,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<LiveRecord>> {
    let sql = format!(
        "SELECT seq, id, remote_id, parent_remote_id, job_id, changed_at FROM records WHERE ikey = $1 AND model = {} AND remote_deleted_at IS NULL AND seq > $2 ORDER BY seq LIMIT $3",
        model_code(model)
    );
    let ikey = key_of(pool, integration_id).await?.unwrap_or(NO_KEY);
    let rows: Vec<LiveRow> = sqlx::query_as(&sql)
        .bind(ikey)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(db("listing live records"))?;
    rows.into_iter()
        .map(
            |(seq, id, remote_id, parent_remote_id, job_id, changed_at)| {
                Ok(LiveRecord {
                    seq,
                    id,
                    remote_id,
                    parent_remote_id,
                    job_id,
                    changed_at: timestamp(changed_at)?,
                })
            },
        )
        .collect()
}

fn row(r: &PgRow) -> std::result::Result<Row, sqlx::Error> {
    Ok(Row {
        seq: r.try_get(0)?,
        model: i64::from(r.try_get::<i16, _>(1)?),
        id: r.try_get(2)?,
        remote_id: r.try_get(3)?,
        payload: r.try_get(4)?,
        nested: r.try_get(5)?,
        changed_at: r.try_get(6)?,
        updated_at: r.try_get(7)?,
        remote_deleted_at: r.try_get(8)?,
        remote_created_at: r.try_get(9)?,
        candidate_id: r.try_get(10)?,
        job_id: r.try_get(11)?,
        current_stage_id: r.try_get(12)?,
    })
}

async fn rows(
    pool: &PgPool,
    sql: &str,
    binds: Vec<Bind>,
    operation: &'static str,
) -> Result<Vec<Row>> {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s),
            Bind::Int(i) => q.bind(i),
        };
    }
    let rows = q.fetch_all(pool).await.map_err(db(operation))?;
    rows.iter().map(|r| row(r).map_err(db(operation))).collect()
}

/// A list page (one more row than asked, to tell whether more follow). PostgreSQL's
/// planner chooses how to find candidates by job itself.
pub(crate) async fn page(pool: &PgPool, q: &PageQuery) -> Result<Vec<Row>> {
    let (sql, binds) = page_statement(pool, q).await?;
    rows(pool, &sql, binds, "listing records").await
}

/// The statement `page` runs for `q` (also what `diagnostics` explains).
pub(crate) async fn page_statement(pool: &PgPool, q: &PageQuery) -> Result<(String, Vec<Bind>)> {
    let ikey = key_of(pool, &q.integration_id).await?.unwrap_or(NO_KEY);
    let plan = ListPlan {
        dialect: DIALECT,
        walk_candidates: false,
    };
    query::list_query(plan, ikey, q.model, &q.filter, q.after, q.limit, q.key)
}

/// Records of `model` whose `column` is one of `values`, in `seq` order: one statement
/// whatever the number of values.
pub(crate) async fn by_column(
    pool: &PgPool,
    integration_id: &str,
    model: ModelKind,
    column: &str,
    values: &[String],
) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT {} FROM records WHERE ikey = $1 AND model = {} AND {column} = ANY($2) ORDER BY seq",
        query::SELECT,
        model_code(model)
    );
    let ikey = key_of(pool, integration_id).await?.unwrap_or(NO_KEY);
    let rows = sqlx::query(&sql)
        .bind(ikey)
        .bind(values)
        .fetch_all(pool)
        .await
        .map_err(db("reading records"))?;
    rows.iter()
        .map(|r| row(r).map_err(db("reading records")))
        .collect()
}

/// Candidates' summaries by id; the candidate's JSON for one written before summaries were
/// stored.
pub(crate) async fn summaries(
    pool: &PgPool,
    integration_id: &str,
    ids: &[String],
) -> Result<Vec<CandidateSummary>> {
    let ikey = key_of(pool, integration_id).await?.unwrap_or(NO_KEY);
    let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as("SELECT id, summary, CASE WHEN summary IS NULL THEN payload END FROM records WHERE ikey = $1 AND model = 2 AND id = ANY($2)")
        .bind(ikey)
        .bind(ids)
        .fetch_all(pool)
        .await
        .map_err(db("reading candidates' summaries"))?;
    Ok(rows
        .into_iter()
        .map(|(id, summary, payload)| CandidateSummary {
            id,
            summary,
            payload,
        })
        .collect())
}

pub(crate) async fn counts(pool: &PgPool, integration_id: &str) -> Result<BTreeMap<String, i64>> {
    let ikey = key_of(pool, integration_id).await?.unwrap_or(NO_KEY);
    let rows: Vec<(i16, i64)> = sqlx::query_as("SELECT model, COUNT(*) FROM records WHERE ikey = $1 AND remote_deleted_at IS NULL GROUP BY model")
        .bind(ikey)
        .fetch_all(pool)
        .await
        .map_err(db("counting records"))?;
    rows.into_iter()
        .map(|(model, n)| Ok((model_from_code(i64::from(model))?.as_str().to_owned(), n)))
        .collect()
}

pub(crate) async fn changed_since(pool: &PgPool, integration_id: &str, since: i64) -> Result<u64> {
    let ikey = key_of(pool, integration_id).await?.unwrap_or(NO_KEY);
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM records WHERE ikey = $1 AND (updated_at >= $2 OR changed_at >= $2)",
    )
    .bind(ikey)
    .bind(since)
    .fetch_one(pool)
    .await
    .map_err(db("counting changed records"))?;
    Ok(n as u64)
}

pub(crate) async fn created_remote_ids(
    pool: &PgPool,
    integration_id: &str,
) -> Result<BTreeSet<String>> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT remote_id FROM created_applications WHERE integration_id = $1")
            .bind(integration_id)
            .fetch_all(pool)
            .await
            .map_err(db("reading created applications"))?;
    Ok(ids.into_iter().collect())
}
