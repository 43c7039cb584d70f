//! Retention on SQLite: anonymizing deleted records, purging by age, and removing every row
//! of a deleted integration (`delete_integration_data`).

use rusqlite::{params, Transaction};

use super::sq;
use crate::retention::{Anonymized, Purge, ToAnonymize};
use crate::Result;

pub(crate) fn to_anonymize(
    tx: &Transaction<'_>,
    deleted_before: i64,
    limit: i64,
) -> Result<Vec<ToAnonymize>> {
    const OPERATION: &str = "reading deleted records to anonymize";
    let mut statement = tx
        .prepare_cached(
            "SELECT seq, payload, nested FROM records \
             WHERE remote_deleted_at IS NOT NULL AND anonymized_at IS NULL AND remote_deleted_at < ?1 \
             ORDER BY remote_deleted_at LIMIT ?2",
        )
        .map_err(sq(OPERATION))?;
    let rows = statement
        .query_map(params![deleted_before, limit], |r| {
            Ok(ToAnonymize {
                seq: r.get(0)?,
                payload: r.get(1)?,
                nested: r.get(2)?,
            })
        })
        .map_err(sq(OPERATION))?;
    rows.collect::<rusqlite::Result<_>>().map_err(sq(OPERATION))
}

/// Writes an anonymized record; 0 when it was written whole again meanwhile.
pub(crate) fn anonymize(tx: &Transaction<'_>, record: &Anonymized, now: i64) -> Result<u64> {
    let n = tx
        .prepare_cached(
            "UPDATE records SET payload = ?1, hash = ?2, nested = ?3, nested_hash = ?4, anonymized_at = ?5, \
             summary = NULL, parent_remote_id = NULL, name_lower = NULL, status = NULL, employment_type = NULL, \
             visibility = NULL, job_code = NULL, post_url = NULL, email_lower = NULL, first_name_lower = NULL, \
             last_name_lower = NULL, outcome = NULL, job_id = NULL, job_remote_id = NULL, current_stage_id = NULL, \
             candidate_id = NULL \
             WHERE seq = ?6 AND remote_deleted_at IS NOT NULL AND anonymized_at IS NULL",
        )
        .and_then(|mut s| {
            s.execute(params![
                record.payload,
                record.hash,
                record.nested,
                record.nested_hash,
                now,
                record.seq
            ])
        })
        .map_err(sq("anonymizing a deleted record"))?;
    Ok(n as u64)
}

pub(crate) fn purge(
    tx: &Transaction<'_>,
    what: Purge,
    before: i64,
    now: i64,
    limit: i64,
) -> Result<u64> {
    const OPERATION: &str = "purging by age";
    let execute = |sql: &str, values: &[&dyn rusqlite::ToSql]| -> Result<u64> {
        tx.prepare_cached(sql)
            .and_then(|mut s| s.execute(values))
            .map(|n| n as u64)
            .map_err(sq(OPERATION))
    };
    match what {
        Purge::Events => {
            let seqs = select_i64(
                tx,
                "SELECT e.seq FROM events e WHERE e.created_at < ?1 \
                 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state = 'PENDING') \
                 ORDER BY e.seq LIMIT ?2",
                before,
                limit,
            )?;
            for seq in &seqs {
                execute("DELETE FROM deliveries WHERE event_seq = ?1", &[seq])?;
                execute("DELETE FROM events WHERE seq = ?1", &[seq])?;
            }
            Ok(seqs.len() as u64)
        }
        Purge::Deliveries => execute(
            "DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries \
             WHERE state <> 'PENDING' AND created_at < ?1 ORDER BY seq LIMIT ?2)",
            &[&before, &limit],
        ),
        Purge::IdempotencyKeys => execute(
            "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys \
             WHERE created_at < ?1 LIMIT ?2)",
            &[&before, &limit],
        ),
        Purge::ConnectLinks => execute(
            "DELETE FROM connect_links WHERE token_hash IN (SELECT token_hash FROM connect_links \
             WHERE (completed_at IS NOT NULL AND completed_at < ?1 AND (completion_expires_at IS NULL OR completion_expires_at < ?2)) \
             OR (completed_at IS NULL AND expires_at < ?1) LIMIT ?3)",
            &[&before, &now, &limit],
        ),
        Purge::Runs => {
            let mut statement = tx
                .prepare_cached(
                    "SELECT id FROM sync_runs WHERE ended_at IS NOT NULL AND ended_at < ?1 AND state <> 'RUNNING' \
                     AND seq NOT IN (SELECT MAX(seq) FROM sync_runs GROUP BY integration_id) \
                     ORDER BY seq LIMIT ?2",
                )
                .map_err(sq(OPERATION))?;
            let ids = statement
                .query_map(params![before, limit], |r| r.get::<_, String>(0))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(sq(OPERATION))?;
            delete_runs(tx, &ids)
        }
    }
}

fn select_i64(tx: &Transaction<'_>, sql: &str, a: i64, b: i64) -> Result<Vec<i64>> {
    const OPERATION: &str = "purging by age";
    let mut statement = tx.prepare_cached(sql).map_err(sq(OPERATION))?;
    let rows = statement
        .query_map(params![a, b], |r| r.get(0))
        .map_err(sq(OPERATION))?;
    rows.collect::<rusqlite::Result<_>>().map_err(sq(OPERATION))
}

/// Deletes sync runs by id. The one place runs are deleted (by age and with their
/// integration): what belongs to a run — its log lines in `run_logs` — goes here with it.
pub(crate) fn delete_runs(tx: &Transaction<'_>, ids: &[String]) -> Result<u64> {
    let mut logs = tx
        .prepare_cached("DELETE FROM run_logs WHERE run_id = ?1")
        .map_err(sq("deleting run logs"))?;
    let mut statement = tx
        .prepare_cached("DELETE FROM sync_runs WHERE id = ?1")
        .map_err(sq("deleting sync runs"))?;
    let mut deleted = 0;
    for id in ids {
        logs.execute([id]).map_err(sq("deleting run logs"))?;
        deleted += statement.execute([id]).map_err(sq("deleting sync runs"))? as u64;
    }
    Ok(deleted)
}

/// Inside a write: every row stored for an integration besides its records and its own
/// row — its runs, outbox events and their finished deliveries (an event still waiting for
/// a delivery stays until it is delivered), idempotency answers, connection links that made
/// or relinked it, and its integer key.
pub(crate) fn delete_integration_data(tx: &Transaction<'_>, id: &str) -> Result<()> {
    const OPERATION: &str = "deleting an integration";
    let mut runs = tx
        .prepare_cached("SELECT id FROM sync_runs WHERE integration_id = ?1")
        .map_err(sq(OPERATION))?;
    let ids = runs
        .query_map([id], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(sq(OPERATION))?;
    delete_runs(tx, &ids)?;
    for sql in [
        // Events still waiting for a delivery stay until they are delivered (or given
        // up on), then go by age like any: the vendor was promised them, and they carry
        // no personal data. Everything else of the integration goes now.
        "DELETE FROM deliveries WHERE state <> 'PENDING' AND (integration_id = ?1 OR event_seq IN (SELECT seq FROM events WHERE integration_id = ?1))",
        "DELETE FROM events WHERE integration_id = ?1 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq AND d.state = 'PENDING')",
        "DELETE FROM connect_links WHERE integration_id = ?1",
        "DELETE FROM integration_keys WHERE integration_id = ?1",
    ] {
        tx.prepare_cached(sql)
            .and_then(|mut s| s.execute([id]))
            .map_err(sq(OPERATION))?;
    }
    Ok(())
}
