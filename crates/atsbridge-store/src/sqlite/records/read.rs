//! Reading `records` on SQLite: pages, records by id or candidate, candidates' summaries,
//! counts. Each runs on a reader connection, in one read transaction.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use atsbridge_model::ModelKind;
use rusqlite::{params, params_from_iter, OptionalExtension as _, Transaction};

use super::{key_of, DIALECT, NO_KEY, WALK_CANDIDATES_ABOVE};
use crate::records::query::{self, Bind, ListPlan};
use crate::records::{model_code, model_from_code, CandidateSummary, LiveRecord, PageQuery, Row};
use crate::sqlite::sq;
use crate::{timestamp, Result};

pub(crate) fn live_records(
    tx: &Transaction<'_>,
    integration_id: &str,
    model: ModelKind,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<LiveRecord>> {
    let ikey = key_of(tx, integration_id)?.unwrap_or(NO_KEY);
    let mut statement = tx
        .prepare_cached("SELECT seq, id, remote_id, parent_remote_id, job_id, changed_at FROM records WHERE ikey = ?1 AND model = ?2 AND remote_deleted_at IS NULL AND seq > ?3 ORDER BY seq LIMIT ?4")
        .map_err(sq("listing live records"))?;
    let rows = statement
        .query_map(params![ikey, model_code(model), after_seq, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(sq("listing live records"))?;
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

fn rows(
    tx: &Transaction<'_>,
    sql: &str,
    binds: &[Bind],
    operation: &'static str,
) -> Result<Vec<Row>> {
    let mut statement = tx.prepare_cached(sql).map_err(sq(operation))?;
    let rows = statement
        .query_map(params_from_iter(binds.iter()), |r| {
            Ok(Row {
                seq: r.get(0)?,
                model: r.get(1)?,
                id: r.get(2)?,
                remote_id: r.get(3)?,
                payload: r.get(4)?,
                nested: r.get(5)?,
                changed_at: r.get(6)?,
                updated_at: r.get(7)?,
                remote_deleted_at: r.get(8)?,
                remote_created_at: r.get(9)?,
                candidate_id: r.get(10)?,
                job_id: r.get(11)?,
                current_stage_id: r.get(12)?,
            })
        })
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(sq(operation))?;
    Ok(rows)
}

/// A list page's statement and values, with the `walk_candidates` choice made on `tx`: what
/// `page` runs and `diagnostics` explains.
pub(crate) fn page_statement(tx: &Transaction<'_>, q: &PageQuery) -> Result<(String, Vec<Bind>)> {
    let ikey = key_of(tx, &q.integration_id)?.unwrap_or(NO_KEY);
    let mut plan = ListPlan {
        dialect: DIALECT,
        walk_candidates: false,
    };
    if let (ModelKind::Candidate, Some(jobs)) = (q.model, &q.filter.job_ids) {
        if !jobs.is_empty() {
            let (sql, binds) = query::applications_of_jobs_count(DIALECT, ikey, jobs);
            let matches: i64 = tx
                .prepare_cached(&sql)
                .and_then(|mut s| s.query_row(params_from_iter(binds.iter()), |r| r.get(0)))
                .map_err(sq("counting applications"))?;
            plan.walk_candidates = matches > WALK_CANDIDATES_ABOVE;
        }
    }
    query::list_query(plan, ikey, q.model, &q.filter, q.after, q.limit, q.key)
}

/// A list page (one more row than asked, to tell whether more follow).
pub(crate) fn page(tx: &Transaction<'_>, q: &PageQuery) -> Result<Vec<Row>> {
    let (sql, binds) = page_statement(tx, q)?;
    rows(tx, &sql, &binds, "listing records")
}

/// Records of `model` whose `column` is one of `values`, in `seq` order: one indexed lookup
/// per value through one cached statement. (A long `IN (...)` list, besides being a new
/// statement for every length, let SQLite walk all of a model's records testing each.)
pub(crate) fn by_column(
    tx: &Transaction<'_>,
    integration_id: &str,
    model: ModelKind,
    column: &str,
    values: &[String],
) -> Result<Vec<Row>> {
    let ikey = key_of(tx, integration_id)?.unwrap_or(NO_KEY);
    let sql = format!(
        "SELECT {} FROM records WHERE ikey = ?1 AND model = {} AND {column} = ?2",
        query::SELECT,
        model_code(model)
    );
    let mut out = Vec::with_capacity(values.len());
    let mut seen = HashSet::with_capacity(values.len());
    for value in values {
        if !seen.insert(value.as_str()) {
            continue;
        }
        let binds = [Bind::Int(ikey), Bind::Text(value.clone())];
        out.extend(rows(tx, &sql, &binds, "reading records")?);
    }
    out.sort_unstable_by_key(|r| r.seq);
    Ok(out)
}

/// Candidates' summaries by id; the candidate's JSON for one written before summaries were
/// stored.
pub(crate) fn summaries(
    tx: &Transaction<'_>,
    integration_id: &str,
    ids: &[String],
) -> Result<Vec<CandidateSummary>> {
    let ikey = key_of(tx, integration_id)?.unwrap_or(NO_KEY);
    let mut statement = tx
        .prepare_cached("SELECT summary, CASE WHEN summary IS NULL THEN payload END FROM records WHERE ikey = ?1 AND model = 2 AND id = ?2")
        .map_err(sq("reading candidates' summaries"))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let found: Option<(Option<String>, Option<String>)> = statement
            .query_row(params![ikey, id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(sq("reading candidates' summaries"))?;
        if let Some((summary, payload)) = found {
            out.push(CandidateSummary {
                id: id.clone(),
                summary,
                payload,
            });
        }
    }
    Ok(out)
}

pub(crate) fn counts(tx: &Transaction<'_>, integration_id: &str) -> Result<BTreeMap<String, i64>> {
    let ikey = key_of(tx, integration_id)?.unwrap_or(NO_KEY);
    let mut statement = tx
        .prepare_cached("SELECT model, COUNT(*) FROM records WHERE ikey = ?1 AND remote_deleted_at IS NULL GROUP BY model")
        .map_err(sq("counting records"))?;
    let counts = statement
        .query_map([ikey], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
        .map_err(sq("counting records"))?;
    counts
        .into_iter()
        .map(|(model, n)| Ok((model_from_code(model)?.as_str().to_owned(), n)))
        .collect()
}

pub(crate) fn changed_since(tx: &Transaction<'_>, integration_id: &str, since: i64) -> Result<u64> {
    let ikey = key_of(tx, integration_id)?.unwrap_or(NO_KEY);
    let n: i64 = tx
        .prepare_cached("SELECT COUNT(*) FROM records WHERE ikey = ?1 AND (updated_at >= ?2 OR changed_at >= ?2)")
        .and_then(|mut s| s.query_row(params![ikey, since], |r| r.get(0)))
        .map_err(sq("counting changed records"))?;
    Ok(n as u64)
}

pub(crate) fn created_remote_ids(
    tx: &Transaction<'_>,
    integration_id: &str,
) -> Result<BTreeSet<String>> {
    let mut statement = tx
        .prepare_cached("SELECT remote_id FROM created_applications WHERE integration_id = ?1")
        .map_err(sq("reading created applications"))?;
    let ids = statement
        .query_map([integration_id], |r| r.get(0))
        .and_then(Iterator::collect::<rusqlite::Result<BTreeSet<String>>>)
        .map_err(sq("reading created applications"))?;
    Ok(ids)
}
