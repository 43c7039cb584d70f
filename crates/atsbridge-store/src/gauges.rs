//! Figures read at the moment a metrics scrape asks for them: how far webhook deliveries lag
//! behind and how many integration leases are held. Read, never kept: the database is the
//! one place that knows them across every node.

use atsbridge_model::Timestamp;

use crate::{pg, sqlite, Db, Result, Store};

/// What `Store::gauges` read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gauges {
    /// When the oldest webhook delivery still pending was made (`None`: nothing pending).
    pub oldest_pending_delivery_at: Option<Timestamp>,
    /// Integrations whose sync lease has not expired at the time asked about.
    pub leases_held: u64,
}

impl Store {
    /// The gauges as of `now` (leases expired before `now` are not held).
    pub async fn gauges(&self, now: Timestamp) -> Result<Gauges> {
        let now = now.unix_millis();
        let (oldest, leases) = match &self.db {
            Db::Sqlite(s) => {
                s.read("reading gauges", move |tx| sqlite::gauges::read(tx, now))
                    .await?
            }
            Db::Postgres(p) => pg::gauges::read(p, now).await?,
        };
        Ok(Gauges {
            oldest_pending_delivery_at: oldest.and_then(|ms| Timestamp::from_unix_millis(ms).ok()),
            leases_held: u64::try_from(leases).unwrap_or(0),
        })
    }
}
