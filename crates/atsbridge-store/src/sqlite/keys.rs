//! `api_keys` on SQLite.

use rusqlite::{params, OptionalExtension as _, Transaction};

use super::sq;
use crate::keys::{ApiKeyRow, NewKey};
use crate::{timestamp, Result};

pub(crate) fn insert(tx: &Transaction<'_>, key: &NewKey, or_ignore: bool) -> Result<()> {
    let sql = if or_ignore {
        "INSERT INTO api_keys (id, environment_id, label, secret_hash, created_at, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (secret_hash) DO NOTHING"
    } else {
        "INSERT INTO api_keys (id, environment_id, label, secret_hash, created_at, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    };
    tx.prepare_cached(sql)
        .and_then(|mut s| {
            s.execute(params![
                key.id,
                key.environment_id,
                key.label,
                key.secret_hash,
                key.created_at,
                key.kind
            ])
        })
        .map_err(sq("storing an API key"))?;
    Ok(())
}

pub(crate) fn by_hash(
    tx: &Transaction<'_>,
    secret_hash: &str,
    kind: &str,
) -> Result<Option<ApiKeyRow>> {
    let row = tx
        .prepare_cached("SELECT id, environment_id, label, created_at FROM api_keys WHERE secret_hash = ?1 AND kind = ?2 AND revoked_at IS NULL")
        .and_then(|mut s| {
            s.query_row([secret_hash, kind], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
            })
            .optional()
        })
        .map_err(sq("checking an API key"))?;
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

pub(crate) fn revoke(tx: &Transaction<'_>, id: &str, now: i64) -> Result<bool> {
    let n = tx
        .prepare_cached("UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL")
        .and_then(|mut s| s.execute(params![now, id]))
        .map_err(sq("revoking an API key"))?;
    Ok(n > 0)
}
