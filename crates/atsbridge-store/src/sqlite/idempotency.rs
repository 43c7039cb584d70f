//! `idempotency_keys` on SQLite.

use rusqlite::{params, OptionalExtension as _, Transaction};

use super::sq;
use crate::idempotency::{Claim, StoredKey};
use crate::Result;

/// Forgets expired keys, takes over a stale claim of this key and claims it if it is free.
/// `true` when this claim took the key.
pub(crate) fn claim(tx: &Transaction<'_>, claim: &Claim) -> Result<bool> {
    tx.prepare_cached("DELETE FROM idempotency_keys WHERE created_at < ?1")
        .and_then(|mut s| s.execute([claim.expired_before]))
        .map_err(sq("forgetting expired idempotency keys"))?;
    tx.prepare_cached(
        "DELETE FROM idempotency_keys WHERE integration_id = ?1 AND idem_key = ?2 AND state = 'PENDING' AND created_at < ?3",
    )
    .and_then(|mut s| s.execute(params![claim.integration_id, claim.key, claim.stale_before]))
    .map_err(sq("taking over a stale idempotency key"))?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO idempotency_keys (integration_id, idem_key, request_hash, state, created_at) VALUES (?1, ?2, ?3, 'PENDING', ?4) ON CONFLICT (integration_id, idem_key) DO NOTHING",
        )
        .and_then(|mut s| {
            s.execute(params![
                claim.integration_id,
                claim.key,
                claim.request_hash,
                claim.now
            ])
        })
        .map_err(sq("claiming an idempotency key"))?;
    Ok(inserted == 1)
}

pub(crate) fn get(
    tx: &Transaction<'_>,
    integration_id: &str,
    key: &str,
) -> Result<Option<StoredKey>> {
    tx.prepare_cached(
        "SELECT request_hash, state, status, response FROM idempotency_keys WHERE integration_id = ?1 AND idem_key = ?2",
    )
    .and_then(|mut s| {
        s.query_row([integration_id, key], |r| {
            Ok(StoredKey {
                request_hash: r.get(0)?,
                state: r.get(1)?,
                status: r.get(2)?,
                response: r.get(3)?,
            })
        })
        .optional()
    })
    .map_err(sq("reading an idempotency key"))
}

pub(crate) fn complete(
    tx: &Transaction<'_>,
    integration_id: &str,
    key: &str,
    status: i64,
    response: &str,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE idempotency_keys SET state = 'DONE', status = ?1, response = ?2 WHERE integration_id = ?3 AND idem_key = ?4",
    )
    .and_then(|mut s| s.execute(params![status, response, integration_id, key]))
    .map_err(sq("completing an idempotency key"))?;
    Ok(())
}

pub(crate) fn release(tx: &Transaction<'_>, integration_id: &str, key: &str) -> Result<()> {
    tx.prepare_cached(
        "DELETE FROM idempotency_keys WHERE integration_id = ?1 AND idem_key = ?2 AND state = 'PENDING'",
    )
    .and_then(|mut s| s.execute([integration_id, key]))
    .map_err(sq("releasing an idempotency key"))?;
    Ok(())
}

/// Inside a write: removes every key of an integration (which the caller deletes).
pub(crate) fn delete_all(tx: &Transaction<'_>, integration_id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM idempotency_keys WHERE integration_id = ?1")
        .and_then(|mut s| s.execute([integration_id]))
        .map_err(sq("deleting an integration"))?;
    Ok(())
}

#[cfg(feature = "testing")]
pub(crate) fn age(tx: &Transaction<'_>, by_ms: i64) -> Result<()> {
    tx.prepare_cached("UPDATE idempotency_keys SET created_at = created_at - ?1")
        .and_then(|mut s| s.execute([by_ms]))
        .map_err(sq("ageing idempotency keys"))?;
    Ok(())
}
