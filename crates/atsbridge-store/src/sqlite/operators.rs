//! `dashboard_sessions` on SQLite.

use rusqlite::{params, OptionalExtension as _, Transaction};

use super::sq;
use crate::operators::NewSession;
use crate::Result;

/// Also drops the sessions that have expired, so they do not pile up between sign-outs.
pub(crate) fn insert_session(tx: &Transaction<'_>, row: &NewSession) -> Result<()> {
    tx.prepare_cached("DELETE FROM dashboard_sessions WHERE expires_at <= ?1")
        .and_then(|mut s| s.execute([row.created_at]))
        .map_err(sq("dropping expired dashboard sessions"))?;
    tx.prepare_cached("INSERT INTO dashboard_sessions (id_hash, key_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)")
        .and_then(|mut s| s.execute(params![row.id_hash, row.key_id, row.csrf, row.created_at, row.expires_at]))
        .map_err(sq("opening a dashboard session"))?;
    Ok(())
}

/// key id, key label, CSRF token, expiry.
pub(crate) fn session(
    tx: &Transaction<'_>,
    id_hash: &str,
    now: i64,
) -> Result<Option<(String, String, String, i64)>> {
    tx.prepare_cached("SELECT k.id, k.label, s.csrf, s.expires_at FROM dashboard_sessions s JOIN api_keys k ON k.id = s.key_id WHERE s.id_hash = ?1 AND s.expires_at > ?2 AND k.kind = 'operator' AND k.revoked_at IS NULL")
        .and_then(|mut s| {
            s.query_row(params![id_hash, now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()
        })
        .map_err(sq("checking a dashboard session"))
}

pub(crate) fn end_session(tx: &Transaction<'_>, id_hash: &str, now: i64) -> Result<()> {
    tx.prepare_cached("DELETE FROM dashboard_sessions WHERE id_hash = ?1 OR expires_at <= ?2")
        .and_then(|mut s| s.execute(params![id_hash, now]))
        .map_err(sq("ending a dashboard session"))?;
    Ok(())
}
