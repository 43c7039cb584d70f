//! `dashboard_sessions` on PostgreSQL.

use sqlx::PgPool;

use crate::operators::NewSession;
use crate::{db, Result};

/// Also drops the sessions that have expired, so they do not pile up between sign-outs.
pub(crate) async fn insert_session(pool: &PgPool, row: &NewSession) -> Result<()> {
    sqlx::query("DELETE FROM dashboard_sessions WHERE expires_at <= $1")
        .bind(row.created_at)
        .execute(pool)
        .await
        .map_err(db("dropping expired dashboard sessions"))?;
    sqlx::query("INSERT INTO dashboard_sessions (id_hash, key_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&row.id_hash)
        .bind(&row.key_id)
        .bind(&row.csrf)
        .bind(row.created_at)
        .bind(row.expires_at)
        .execute(pool)
        .await
        .map_err(db("opening a dashboard session"))?;
    Ok(())
}

/// key id, key label, CSRF token, expiry.
pub(crate) async fn session(
    pool: &PgPool,
    id_hash: &str,
    now: i64,
) -> Result<Option<(String, String, String, i64)>> {
    sqlx::query_as("SELECT k.id, k.label, s.csrf, s.expires_at FROM dashboard_sessions s JOIN api_keys k ON k.id = s.key_id WHERE s.id_hash = $1 AND s.expires_at > $2 AND k.kind = 'operator' AND k.revoked_at IS NULL")
        .bind(id_hash)
        .bind(now)
        .fetch_optional(pool)
        .await
        .map_err(db("checking a dashboard session"))
}

pub(crate) async fn end_session(pool: &PgPool, id_hash: &str, now: i64) -> Result<()> {
    sqlx::query("DELETE FROM dashboard_sessions WHERE id_hash = $1 OR expires_at <= $2")
        .bind(id_hash)
        .bind(now)
        .execute(pool)
        .await
        .map_err(db("ending a dashboard session"))?;
    Ok(())
}
