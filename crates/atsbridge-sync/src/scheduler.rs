//! The loop around `Engine::run_once`: periodic full syncs, queued force syncs, graceful
//! shutdown. A node runs up to `concurrency` integrations at once; which node runs which is
//! decided by the integrations' leases, taken one at a time. All decisions are in `due` and
//! `run_due`, which tests call directly.

use std::collections::HashMap;
use std::time::Duration;

use atsbridge_model::integration::{IntegrationStatus, SyncKind};
use atsbridge_model::Timestamp;
use atsbridge_store::{IntegrationRow, StoreError};
use futures_util::StreamExt as _;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, Outcome};

/// Four runs at once: a run mostly waits on the ATS and the database, so two cores keep
/// four busy, while the node's share of a large fleet's work stays small enough for the
/// other nodes to take theirs.
pub const DEFAULT_CONCURRENCY: usize = 4;

#[derive(Debug, Clone)]
pub struct Scheduler {
    engine: Engine,
    /// Time between full syncs of one integration.
    pub interval: Duration,
    /// How often the loop looks for due work.
    pub tick: Duration,
    /// How many runs this node has in progress at most.
    pub concurrency: usize,
}

/// An integration that is due, and the kind of run asked for.
#[derive(Debug, Clone)]
struct Due {
    integration_id: String,
    kind: SyncKind,
    due_before: Timestamp,
}

impl Scheduler {
    pub fn new(engine: Engine, interval: Duration) -> Self {
        Scheduler {
            engine,
            interval,
            tick: Duration::from_secs(5),
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// This scheduler with up to `n` runs at once (at least one).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The integrations due now: never synced, asked for (force sync), or last started more
    /// than `interval` ago; requested ones first, then the longest waiting. Runs whose worker
    /// died are recorded first (and a replacement queued), so they are replaced at once.
    async fn due(&self) -> Result<Vec<Due>, StoreError> {
        self.engine.reap_abandoned(None).await?;
        let now = self.engine.now();
        let due_before =
            Timestamp::from_unix_millis(now.unix_millis() - self.interval.as_millis() as i64)
                .unwrap_or(now);
        let mut due: Vec<IntegrationRow> = self
            .engine
            .store()
            .integrations(None)
            .await?
            .into_iter()
            .filter(|i| i.status != IntegrationStatus::Inactive)
            .filter(|i| {
                i.sync_requested_at.is_some()
                    || i.last_run_started_at
                        .is_none_or(|last| last.unix_millis() <= due_before.unix_millis())
            })
            .collect();
        // Waiting longest first, so nothing starves behind integrations that are due again
        // and again; every node orders alike and the leases share the list out.
        due.sort_by_key(|i| {
            (
                i.sync_requested_at.is_none(),
                i.last_run_started_at.map(Timestamp::unix_millis),
            )
        });
        Ok(due
            .into_iter()
            .map(|i| Due {
                kind: i
                    .sync_requested_kind
                    .filter(|_| i.sync_requested_at.is_some())
                    .unwrap_or(SyncKind::Full),
                integration_id: i.id,
                due_before,
            })
            .collect())
    }

    /// Runs every integration that is due, up to `concurrency` at once, and returns what each
    /// attempt did. Whether an integration is still due is checked again when its lease is
    /// taken: another node may have synced it since the list was read (`Outcome::Busy`).
    pub async fn run_due(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Vec<(String, Outcome)>, StoreError> {
        let due = self.due().await?;
        let results: Vec<_> = futures_util::stream::iter(due)
            .take_while(|_| std::future::ready(!cancel.is_cancelled()))
            .map(|d| async move {
                let outcome = self
                    .engine
                    .run_if_due(&d.integration_id, d.kind, d.due_before, cancel)
                    .await;
                (d.integration_id, outcome)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut done = Vec::with_capacity(results.len());
        for (id, outcome) in results {
            done.push((id, outcome?));
        }
        Ok(done)
    }

    /// Runs until `shutdown` is cancelled. Each tick fills this node's free slots with due
    /// integrations it is not already running, so a long run holds one slot, not the node.
    /// On shutdown, runs in progress see the cancellation at their next step and end as
    /// CANCELLED without sweeping anything; this returns once they all have.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut running: JoinSet<()> = JoinSet::new();
        // The integration each task runs, by task: a slot is free again when its task ends,
        // whether it returned or panicked.
        let mut busy: HashMap<tokio::task::Id, String> = HashMap::new();
        loop {
            let free = self.concurrency.saturating_sub(running.len());
            if free > 0 && !shutdown.is_cancelled() {
                match self.due().await {
                    Ok(due) => {
                        let due: Vec<Due> = due
                            .into_iter()
                            .filter(|d| !busy.values().any(|id| *id == d.integration_id))
                            .take(free)
                            .collect();
                        for d in due {
                            let integration_id = d.integration_id.clone();
                            let engine = self.engine.clone();
                            let cancel = shutdown.clone();
                            let task = running.spawn(async move {
                                let outcome = engine
                                    .run_if_due(&d.integration_id, d.kind, d.due_before, &cancel)
                                    .await;
                                if let Err(e) = outcome {
                                    tracing::error!(error = %e, integration_id = %d.integration_id, "a scheduled sync failed");
                                }
                            });
                            busy.insert(task.id(), integration_id);
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "scheduling syncs failed"),
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(self.tick) => {}
                Some(ended) = running.join_next_with_id() => {
                    let task = match ended {
                        Ok((task, ())) => task,
                        Err(e) => {
                            tracing::error!(error = %e, "a scheduled sync task failed");
                            e.id()
                        }
                    };
                    busy.remove(&task);
                }
            }
        }
        while let Some(ended) = running.join_next().await {
            if let Err(e) = ended {
                tracing::error!(error = %e, "a scheduled sync task failed");
            }
        }
        tracing::info!("sync scheduler stopped");
    }
}
