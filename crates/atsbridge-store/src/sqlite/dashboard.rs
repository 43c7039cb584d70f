//! The dashboard's reads and its redelivery on SQLite.

use rusqlite::{params, OptionalExtension as _, Transaction};

use super::sq;
use crate::connect::StoredLink;
use crate::dashboard::{AttemptRecordRow, LogRow};
use crate::runs::RunRowRaw;
use crate::webhooks::DeliveryRow;
use crate::Result;

pub(crate) fn append_log(tx: &Transaction<'_>, run_id: &str, rows: &[LogRow]) -> Result<()> {
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO run_logs (run_id, seq, at, level, message) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(sq("writing a run log"))?;
    for (seq, at, level, message) in rows {
        insert
            .execute(params![run_id, seq, at, level, message])
            .map_err(sq("writing a run log"))?;
    }
    Ok(())
}

pub(crate) fn log(tx: &Transaction<'_>, run_id: &str) -> Result<Vec<LogRow>> {
    tx.prepare_cached("SELECT seq, at, level, message FROM run_logs WHERE run_id = ?1 ORDER BY seq")
        .and_then(|mut s| {
            s.query_map([run_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect()
        })
        .map_err(sq("reading a run log"))
}

pub(crate) fn recent_runs(tx: &Transaction<'_>, limit: i64) -> Result<Vec<RunRowRaw>> {
    tx.prepare_cached(&format!(
        "SELECT {} FROM sync_runs r ORDER BY r.seq DESC LIMIT ?1",
        super::runs::RUN_COLUMNS
    ))
    .and_then(|mut s| s.query_map([limit], super::runs::run_row)?.collect())
    .map_err(sq("listing runs"))
}

pub(crate) fn recent_deliveries(tx: &Transaction<'_>, limit: i64) -> Result<Vec<DeliveryRow>> {
    tx.prepare_cached(&format!(
        "SELECT {} FROM deliveries d ORDER BY d.seq DESC LIMIT ?1",
        super::webhooks::DELIVERY_COLUMNS
    ))
    .and_then(|mut s| {
        s.query_map([limit], super::webhooks::delivery_row)?
            .collect()
    })
    .map_err(sq("listing deliveries"))
}

pub(crate) fn recent_links(tx: &Transaction<'_>, limit: i64) -> Result<Vec<StoredLink>> {
    tx.prepare_cached("SELECT token_hash, environment_id, tool, purpose, integration_id, end_user_email, organization_name, origin_id, language, link_type, redirect_url, created_at, expires_at, completed_at, completion_expires_at, failed_attempts, category FROM connect_links ORDER BY created_at DESC LIMIT ?1")
        .and_then(|mut s| s.query_map([limit], super::connect::stored)?.collect())
        .map_err(sq("listing connection links"))
}

pub(crate) fn redeliver(tx: &Transaction<'_>, id: &str, now: i64) -> Result<bool> {
    let n = tx
        .prepare_cached("UPDATE deliveries SET state = 'PENDING', next_attempt_at = ?1, lease_owner = NULL, lease_expires_at = NULL, delivered_at = NULL WHERE id = ?2")
        .and_then(|mut s| s.execute(params![now, id]))
        .map_err(sq("redelivering"))?;
    Ok(n > 0)
}

pub(crate) fn delivery(tx: &Transaction<'_>, id: &str) -> Result<Option<DeliveryRow>> {
    tx.prepare_cached(&format!(
        "SELECT {} FROM deliveries d WHERE d.id = ?1",
        super::webhooks::DELIVERY_COLUMNS
    ))
    .and_then(|mut s| s.query_row([id], super::webhooks::delivery_row).optional())
    .map_err(sq("reading a delivery"))
}

pub(crate) fn delivery_attempts(tx: &Transaction<'_>, id: &str) -> Result<Vec<AttemptRecordRow>> {
    tx.prepare_cached(
        "SELECT a.attempt, a.at, a.status, a.latency_ms, a.error FROM delivery_attempts a \
         JOIN deliveries d ON d.seq = a.delivery_seq WHERE d.id = ?1 ORDER BY a.attempt",
    )
    .and_then(|mut s| {
        s.query_map([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect()
    })
    .map_err(sq("reading a delivery's attempts"))
}
