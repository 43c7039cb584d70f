//! `records` (and what belongs to them) on PostgreSQL.

use sqlx::{Postgres, Transaction};

use crate::{db, Result};

/// Inside a transaction: removes every record of an integration, with its created-
/// application marks (the integration itself is deleted by the caller).
pub(crate) async fn delete_all(
    tx: &mut Transaction<'static, Postgres>,
    integration_id: &str,
) -> Result<()> {
    for sql in [
        "DELETE FROM records WHERE integration_id = $1",
        "DELETE FROM created_applications WHERE integration_id = $1",
    ] {
        sqlx::query(sql)
            .bind(integration_id)
            .execute(&mut **tx)
            .await
            .map_err(db("deleting an integration's records"))?;
    }
    Ok(())
}
