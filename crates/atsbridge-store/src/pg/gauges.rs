//! Scrape-time gauges (`crate::gauges`) on PostgreSQL.

use sqlx::PgPool;

use crate::{db, Result};

/// The oldest pending delivery's `created_at` and the leases held at `now` (ms).
pub(crate) async fn read(pool: &PgPool, now: i64) -> Result<(Option<i64>, i64)> {
    let op = "reading gauges";
    let oldest: Option<i64> =
        sqlx::query_scalar("SELECT MIN(created_at) FROM deliveries WHERE state = 'PENDING'")
            .fetch_one(pool)
            .await
            .map_err(db(op))?;
    let leases: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM integrations WHERE lease_owner IS NOT NULL AND lease_expires_at > $1",
    )
    .bind(now)
    .fetch_one(pool)
    .await
    .map_err(db(op))?;
    Ok((oldest, leases))
}
