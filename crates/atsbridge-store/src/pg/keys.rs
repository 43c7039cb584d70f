//! `api_keys` on PostgreSQL.

use sqlx::PgPool;

use crate::keys::{ApiKeyRow, NewKey};
use crate::{db, timestamp, Result};

pub(crate) async fn insert(pool: &PgPool, key: &NewKey, or_ignore: bool) -> Result<()> {
    let sql = if or_ignore {
        "INSERT INTO api_keys (id, environment_id, label, secret_hash, created_at, kind) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (secret_hash) DO NOTHING"
    } else {
        "INSERT INTO api_keys (id, environment_id, label, secret_hash, created_at, kind) VALUES ($1, $2, $3, $4, $5, $6)"
    };
    sqlx::query(sql)
        .bind(&key.id)
        .bind(&key.environment_id)
        .bind(&key.label)
        .bind(&key.secret_hash)
        .bind(key.created_at)
        .bind(key.kind)
        .execute(pool)
        .await
        .map_err(db("storing an API key"))?;
    Ok(())
}

pub(crate) async fn by_hash(
    pool: &PgPool,
    secret_hash: &str,
    kind: &str,
) -> Result<Option<ApiKeyRow>> {
    let row: Option<(String, String, String, i64)> = sqlx::query_as(
        "SELECT id, environment_id, label, created_at FROM api_keys WHERE secret_hash = $1 AND kind = $2 AND revoked_at IS NULL",
    )
    .bind(secret_hash)
    .bind(kind)
    .fetch_optional(pool)
    .await
    .map_err(db("checking an API key"))?;
    row.map(|(id, environment_id, label, created_at)| {
        Ok(ApiKeyRow {
            id,
            environment_id,
            label,
            created_at: timestamp(created_at)?,
        })
    })
    .transpose()
}

pub(crate) async fn revoke(pool: &PgPool, id: &str, now: i64) -> Result<bool> {
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map_err(db("revoking an API key"))?;
    Ok(done.rows_affected() > 0)
}
