//! The retention worker: anonymizes records deleted in the tool and purges old outbox
//! events, deliveries, idempotency answers, connection links and sync runs, by the ages of
//! a `RetentionPolicy`. `purge_once` is one full pass (tests call it with the time they
//! want); `run` repeats it on an interval until shutdown.

use std::collections::BTreeMap;
use std::time::Duration;

use atsbridge_model::Timestamp;
use atsbridge_store::{Purge, Store, StoreError};
use tokio_util::sync::CancellationToken;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Rows a single statement anonymizes or deletes: a pass is many short transactions, so the
/// SQLite writer is never held for long and PostgreSQL locks few rows at a time.
const BATCH: i64 = 500;

/// How long each kind of data is kept; `None` keeps it forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// After `remote_deleted_at`, before a deleted record is anonymized (Kombo: 14 days).
    pub anonymize_deleted_after: Option<Duration>,
    /// Age of an outbox event (by creation) once none of its deliveries is pending.
    pub events: Option<Duration>,
    /// Age of a delivered or failed webhook delivery (by creation).
    pub deliveries: Option<Duration>,
    /// Age of an idempotency answer. Below the 24 hours an answer is replayed for, a retry
    /// would run its request again.
    pub idempotency_keys: Option<Duration>,
    /// Time since a connection link was used or expired.
    pub connect_links: Option<Duration>,
    /// Time since a sync run ended (each integration's latest run is always kept).
    pub runs: Option<Duration>,
    /// Between passes.
    pub interval: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            anonymize_deleted_after: Some(14 * DAY),
            events: Some(30 * DAY),
            deliveries: Some(30 * DAY),
            idempotency_keys: Some(2 * DAY),
            connect_links: Some(30 * DAY),
            runs: Some(90 * DAY),
            interval: Duration::from_secs(60 * 60),
        }
    }
}

impl RetentionPolicy {
    fn age(&self, what: Purge) -> Option<Duration> {
        match what {
            Purge::Events => self.events,
            Purge::Deliveries => self.deliveries,
            Purge::IdempotencyKeys => self.idempotency_keys,
            Purge::ConnectLinks => self.connect_links,
            Purge::Runs => self.runs,
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    pub anonymized: u64,
    /// Rows deleted, by `Purge::as_str`.
    pub purged: BTreeMap<&'static str, u64>,
}

impl PurgeCounts {
    pub fn purged(&self, what: Purge) -> u64 {
        self.purged.get(what.as_str()).copied().unwrap_or(0)
    }
}

#[derive(Debug, Clone)]
pub struct Retention {
    store: Store,
    policy: RetentionPolicy,
}

/// `now - age`, or `None` when that is before the epoch (nothing is that old).
fn cutoff(now: Timestamp, age: Duration) -> Option<Timestamp> {
    let age = i64::try_from(age.as_millis()).ok()?;
    Timestamp::from_unix_millis(now.unix_millis().checked_sub(age)?).ok()
}

impl Retention {
    pub fn new(store: Store, policy: RetentionPolicy) -> Self {
        Retention { store, policy }
    }

    pub fn policy(&self) -> &RetentionPolicy {
        &self.policy
    }

    /// One pass at time `now`: everything due is anonymized or purged, batch by batch.
    pub async fn purge_once(&self, now: Timestamp) -> Result<PurgeCounts, StoreError> {
        let mut counts = PurgeCounts::default();
        if let Some(before) = self
            .policy
            .anonymize_deleted_after
            .and_then(|age| cutoff(now, age))
        {
            loop {
                let done = self.store.anonymize_deleted(before, now, BATCH).await?;
                counts.anonymized += done;
                if done < BATCH as u64 {
                    break;
                }
            }
        }
        for what in Purge::ALL {
            let Some(before) = self.policy.age(what).and_then(|age| cutoff(now, age)) else {
                continue;
            };
            let mut total = 0;
            loop {
                let done = self.store.purge(what, before, now, BATCH).await?;
                total += done;
                if done < BATCH as u64 {
                    break;
                }
            }
            counts.purged.insert(what.as_str(), total);
        }
        Ok(counts)
    }

    /// Passes every `interval` (the first at once) until `shutdown`; a failed pass is
    /// logged and tried again at the next.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                r = self.purge_once(Timestamp::now()) => match r {
                    Ok(counts) if counts.anonymized > 0 || counts.purged.values().any(|&n| n > 0) => {
                        tracing::info!(anonymized = counts.anonymized, purged = ?counts.purged, "retention pass");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = ?e, "retention pass failed"),
                },
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(self.policy.interval) => {}
            }
        }
        tracing::info!("retention worker stopped");
    }
}
