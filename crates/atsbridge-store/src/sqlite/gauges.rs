//! Scrape-time gauges (`crate::gauges`) on SQLite.

use rusqlite::Transaction;

use super::sq;
use crate::Result;

/// The oldest pending delivery's `created_at` and the leases held at `now` (ms).
pub(crate) fn read(tx: &Transaction<'_>, now: i64) -> Result<(Option<i64>, i64)> {
    let op = "reading gauges";
    let oldest = tx
        .prepare_cached("SELECT MIN(created_at) FROM deliveries WHERE state = 'PENDING'")
        .and_then(|mut s| s.query_row([], |r| r.get::<_, Option<i64>>(0)))
        .map_err(sq(op))?;
    let leases = tx
        .prepare_cached(
            "SELECT COUNT(*) FROM integrations WHERE lease_owner IS NOT NULL AND lease_expires_at > ?1",
        )
        .and_then(|mut s| s.query_row([now], |r| r.get::<_, i64>(0)))
        .map_err(sq(op))?;
    Ok((oldest, leases))
}
