//! `records` (and what belongs to them) on SQLite.

use rusqlite::Transaction;

use super::sq;
use crate::Result;

/// Inside a write: removes every record of an integration, with its created-application
/// marks (the integration itself is deleted by the caller).
pub(crate) fn delete_all(tx: &Transaction<'_>, integration_id: &str) -> Result<()> {
    for sql in [
        "DELETE FROM records WHERE integration_id = ?1",
        "DELETE FROM created_applications WHERE integration_id = ?1",
    ] {
        tx.prepare_cached(sql)
            .and_then(|mut s| s.execute([integration_id]))
            .map_err(sq("deleting an integration's records"))?;
    }
    Ok(())
}
