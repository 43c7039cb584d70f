//! The dashboard's reads and its redelivery on PostgreSQL.

use sqlx::PgPool;

use crate::connect::StoredLink;
use crate::dashboard::{AttemptRecordRow, LogRow};
use crate::runs::RunRowRaw;
use crate::webhooks::DeliveryRow;
use crate::{db, Result};

pub(crate) async fn append_log(pool: &PgPool, run_id: &str, rows: &[LogRow]) -> Result<()> {
    let seqs: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let ats: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let levels: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    let messages: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
    sqlx::query("INSERT INTO run_logs (run_id, seq, at, level, message) SELECT $1, * FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[])")
        .bind(run_id)
        .bind(&seqs)
        .bind(&ats)
        .bind(&levels)
        .bind(&messages)
        .execute(pool)
        .await
        .map_err(db("writing a run log"))?;
    Ok(())
}

pub(crate) async fn log(pool: &PgPool, run_id: &str) -> Result<Vec<LogRow>> {
    sqlx::query_as("SELECT seq, at, level, message FROM run_logs WHERE run_id = $1 ORDER BY seq")
        .bind(run_id)
        .fetch_all(pool)
        .await
        .map_err(db("reading a run log"))
}

pub(crate) async fn recent_runs(pool: &PgPool, limit: i64) -> Result<Vec<RunRowRaw>> {
    sqlx::query_as(&format!(
        "SELECT {} FROM sync_runs r ORDER BY r.seq DESC LIMIT $1",
        super::runs::RUN_COLUMNS
    ))
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(db("listing runs"))
}

pub(crate) async fn recent_deliveries(pool: &PgPool, limit: i64) -> Result<Vec<DeliveryRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM deliveries d ORDER BY d.seq DESC LIMIT $1",
        super::webhooks::DELIVERY_COLUMNS
    ))
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(db("listing deliveries"))?;
    rows.iter()
        .map(|r| super::webhooks::delivery_row(r).map_err(db("reading a delivery")))
        .collect()
}

pub(crate) async fn recent_links(pool: &PgPool, limit: i64) -> Result<Vec<StoredLink>> {
    let rows = sqlx::query("SELECT token_hash, environment_id, tool, purpose, integration_id, end_user_email, organization_name, origin_id, language, link_type, redirect_url, created_at, expires_at, completed_at, completion_expires_at, failed_attempts, category FROM connect_links ORDER BY created_at DESC LIMIT $1")
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(db("listing connection links"))?;
    rows.iter().map(super::connect::stored).collect()
}

pub(crate) async fn redeliver(pool: &PgPool, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE deliveries SET state = 'PENDING', next_attempt_at = $1, lease_owner = NULL, lease_expires_at = NULL, delivered_at = NULL WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map_err(db("redelivering"))?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn delivery(pool: &PgPool, id: &str) -> Result<Option<DeliveryRow>> {
    let row = sqlx::query(&format!(
        "SELECT {} FROM deliveries d WHERE d.id = $1",
        super::webhooks::DELIVERY_COLUMNS
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db("reading a delivery"))?;
    row.map(|r| super::webhooks::delivery_row(&r).map_err(db("reading a delivery")))
        .transpose()
}

pub(crate) async fn delivery_attempts(pool: &PgPool, id: &str) -> Result<Vec<AttemptRecordRow>> {
    sqlx::query_as(
        "SELECT a.attempt, a.at, a.status, a.latency_ms, a.error FROM delivery_attempts a \
         JOIN deliveries d ON d.seq = a.delivery_seq WHERE d.id = $1 ORDER BY a.attempt",
    )
    .bind(id)
    .fetch_all(pool)
    .await
    .map_err(db("reading a delivery's attempts"))
}
