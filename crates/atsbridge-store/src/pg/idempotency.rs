//! `idempotency_keys` on PostgreSQL.

use sqlx::{PgPool, Postgres, Transaction};

use crate::idempotency::{Claim, StoredKey};
use crate::{db, Result};

/// Forgets expired keys, takes over a stale claim of this key and claims it if it is free.
/// `true` when this claim took the key.
pub(crate) async fn claim(pool: &PgPool, claim: &Claim) -> Result<bool> {
    sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(claim.expired_before)
        .execute(pool)
        .await
        .map_err(db("forgetting expired idempotency keys"))?;
    sqlx::query("DELETE FROM idempotency_keys WHERE integration_id = $1 AND idem_key = $2 AND state = 'PENDING' AND created_at < $3")
        .bind(&claim.integration_id)
        .bind(&claim.key)
        .bind(claim.stale_before)
        .execute(pool)
        .await
        .map_err(db("taking over a stale idempotency key"))?;
    let inserted = sqlx::query("INSERT INTO idempotency_keys (integration_id, idem_key, request_hash, state, created_at) VALUES ($1, $2, $3, 'PENDING', $4) ON CONFLICT (integration_id, idem_key) DO NOTHING")
        .bind(&claim.integration_id)
        .bind(&claim.key)
        .bind(&claim.request_hash)
        .bind(claim.now)
        .execute(pool)
        .await
        .map_err(db("claiming an idempotency key"))?;
    Ok(inserted.rows_affected() == 1)
}

pub(crate) async fn get(
    pool: &PgPool,
    integration_id: &str,
    key: &str,
) -> Result<Option<StoredKey>> {
    let row: Option<(String, String, Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT request_hash, state, status, response FROM idempotency_keys WHERE integration_id = $1 AND idem_key = $2",
    )
    .bind(integration_id)
    .bind(key)
    .fetch_optional(pool)
    .await
    .map_err(db("reading an idempotency key"))?;
    Ok(
        row.map(|(request_hash, state, status, response)| StoredKey {
            request_hash,
            state,
            status,
            response,
        }),
    )
}

pub(crate) async fn complete(
    pool: &PgPool,
    integration_id: &str,
    key: &str,
    status: i64,
    response: &str,
) -> Result<()> {
    sqlx::query("UPDATE idempotency_keys SET state = 'DONE', status = $1, response = $2 WHERE integration_id = $3 AND idem_key = $4")
        .bind(status)
        .bind(response)
        .bind(integration_id)
        .bind(key)
        .execute(pool)
        .await
        .map_err(db("completing an idempotency key"))?;
    Ok(())
}

pub(crate) async fn release(pool: &PgPool, integration_id: &str, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE integration_id = $1 AND idem_key = $2 AND state = 'PENDING'")
        .bind(integration_id)
        .bind(key)
        .execute(pool)
        .await
        .map_err(db("releasing an idempotency key"))?;
    Ok(())
}

/// Inside a transaction: removes every key of an integration (which the caller deletes).
pub(crate) async fn delete_all(
    tx: &mut Transaction<'static, Postgres>,
    integration_id: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE integration_id = $1")
        .bind(integration_id)
        .execute(&mut **tx)
        .await
        .map_err(db("deleting an integration"))?;
    Ok(())
}

#[cfg(feature = "testing")]
pub(crate) async fn age(pool: &PgPool, by_ms: i64) -> Result<()> {
    sqlx::query("UPDATE idempotency_keys SET created_at = created_at - $1")
        .bind(by_ms)
        .execute(pool)
        .await
        .map_err(db("ageing idempotency keys"))?;
    Ok(())
}
