//! Retention on PostgreSQL: anonymizing deleted records, purging by age, and removing every
//! row of a deleted integration (`delete_integration_data`).

use sqlx::{PgPool, Postgres, Row as _, Transaction};

use crate::retention::{Anonymized, Purge, ToAnonymize};
use crate::{db, Result};

type Tx = Transaction<'static, Postgres>;

/// The records due, locked until `tx` ends; rows a sync is writing are skipped (they are
/// taken up on the next pass, if still deleted).
pub(crate) async fn to_anonymize(
    tx: &mut Tx,
    deleted_before: i64,
    limit: i64,
) -> Result<Vec<ToAnonymize>> {
    let rows = sqlx::query(
        "SELECT seq, payload, nested FROM records \
         WHERE remote_deleted_at IS NOT NULL AND anonymized_at IS NULL AND remote_deleted_at < $1 \
         ORDER BY remote_deleted_at LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind(deleted_before)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await
    .map_err(db("reading deleted records to anonymize"))?;
    rows.into_iter()
        .map(|r| {
            Ok(ToAnonymize {
                seq: r.try_get(0)?,
                payload: r.try_get(1)?,
                nested: r.try_get(2)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db("reading deleted records to anonymize"))
}

pub(crate) async fn anonymize(tx: &mut Tx, record: &Anonymized, now: i64) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE records SET payload = $1, hash = $2, nested = $3, nested_hash = $4, anonymized_at = $5, \
         summary = NULL, parent_remote_id = NULL, name_lower = NULL, status = NULL, employment_type = NULL, \
         visibility = NULL, job_code = NULL, post_url = NULL, email_lower = NULL, first_name_lower = NULL, \
         last_name_lower = NULL, outcome = NULL, job_id = NULL, job_remote_id = NULL, current_stage_id = NULL, \
         candidate_id = NULL \
         WHERE seq = $6 AND remote_deleted_at IS NOT NULL AND anonymized_at IS NULL",
    )
    .bind(&record.payload)
    .bind(&record.hash)
    .bind(&record.nested)
    .bind(&record.nested_hash)
    .bind(now)
    .bind(record.seq)
    .execute(&mut **tx)
    .await
    .map_err(db("anonymizing a deleted record"))?;
    Ok(done.rows_affected())
}

pub(crate) async fn purge(
    pool: &PgPool,
    what: Purge,
    before: i64,
    now: i64,
    limit: i64,
) -> Result<u64> {
    const OPERATION: &str = "purging by age";
    let mut tx = pool.begin().await.map_err(db(OPERATION))?;
    let deleted = match what {
        Purge::Events => {
            let seqs: Vec<i64> = sqlx::query_scalar(
                "SELECT e.seq FROM events e WHERE e.created_at < $1 \
                 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state = 'PENDING') \
                 ORDER BY e.seq LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind(before)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await
            .map_err(db(OPERATION))?;
            sqlx::query("DELETE FROM deliveries WHERE event_seq = ANY($1)")
                .bind(&seqs)
                .execute(&mut *tx)
                .await
                .map_err(db(OPERATION))?;
            sqlx::query("DELETE FROM events WHERE seq = ANY($1)")
                .bind(&seqs)
                .execute(&mut *tx)
                .await
                .map_err(db(OPERATION))?
                .rows_affected()
        }
        Purge::Deliveries => sqlx::query(
            "DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries \
             WHERE state <> 'PENDING' AND created_at < $1 ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(before)
        .bind(limit)
        .execute(&mut *tx)
        .await
        .map_err(db(OPERATION))?
        .rows_affected(),
        Purge::IdempotencyKeys => sqlx::query(
            "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys \
             WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
        )
        .bind(before)
        .bind(limit)
        .execute(&mut *tx)
        .await
        .map_err(db(OPERATION))?
        .rows_affected(),
        Purge::ConnectLinks => sqlx::query(
            "DELETE FROM connect_links WHERE token_hash IN (SELECT token_hash FROM connect_links \
             WHERE (completed_at IS NOT NULL AND completed_at < $1 AND (completion_expires_at IS NULL OR completion_expires_at < $2)) \
             OR (completed_at IS NULL AND expires_at < $1) LIMIT $3 FOR UPDATE SKIP LOCKED)",
        )
        .bind(before)
        .bind(now)
        .bind(limit)
        .execute(&mut *tx)
        .await
        .map_err(db(OPERATION))?
        .rows_affected(),
        Purge::Runs => {
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM sync_runs WHERE ended_at IS NOT NULL AND ended_at < $1 AND state <> 'RUNNING' \
                 AND seq NOT IN (SELECT MAX(seq) FROM sync_runs GROUP BY integration_id) \
                 ORDER BY seq LIMIT $2",
            )
            .bind(before)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await
            .map_err(db(OPERATION))?;
            delete_runs(&mut tx, &ids).await?
        }
    };
    tx.commit().await.map_err(db(OPERATION))?;
    Ok(deleted)
}

/// Deletes sync runs by id. The one place runs are deleted (by age and with their
/// integration): what belongs to a run — its log lines in `run_logs` — goes here with it.
pub(crate) async fn delete_runs(tx: &mut Tx, ids: &[String]) -> Result<u64> {
    sqlx::query("DELETE FROM run_logs WHERE run_id = ANY($1)")
        .bind(ids)
        .execute(&mut **tx)
        .await
        .map_err(db("deleting run logs"))?;
    Ok(sqlx::query("DELETE FROM sync_runs WHERE id = ANY($1)")
        .bind(ids)
        .execute(&mut **tx)
        .await
        .map_err(db("deleting sync runs"))?
        .rows_affected())
}

/// Inside a transaction: every row stored for an integration besides its records and its
/// own row — its runs, outbox events and their finished deliveries (an event still waiting
/// for a delivery stays until it is delivered), idempotency answers, connection links that
/// made or relinked it, and its integer key.
pub(crate) async fn delete_integration_data(tx: &mut Tx, id: &str) -> Result<()> {
    const OPERATION: &str = "deleting an integration";
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM sync_runs WHERE integration_id = $1")
        .bind(id)
        .fetch_all(&mut **tx)
        .await
        .map_err(db(OPERATION))?;
    delete_runs(tx, &ids).await?;
    for sql in [
        // Events still waiting for a delivery stay until they are delivered (or given
        // up on), then go by age like any: the vendor was promised them, and they carry
        // no personal data. Everything else of the integration goes now.
        "DELETE FROM deliveries WHERE state <> 'PENDING' AND (integration_id = $1 OR event_seq IN (SELECT seq FROM events WHERE integration_id = $1))",
        "DELETE FROM events WHERE integration_id = $1 AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq AND d.state = 'PENDING')",
        "DELETE FROM connect_links WHERE integration_id = $1",
        "DELETE FROM integration_keys WHERE integration_id = $1",
    ] {
        sqlx::query(sql)
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(db(OPERATION))?;
    }
    Ok(())
}
