//! The loop around `Engine::run_once`: periodic full syncs, queued force syncs, graceful
//! shutdown. All decisions are in `run_due`, which tests call directly.

use std::time::Duration;

use atsbridge_model::integration::IntegrationStatus;
use atsbridge_model::Timestamp;
use atsbridge_store::StoreError;
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, Outcome};

#[derive(Debug, Clone)]
pub struct Scheduler {
    engine: Engine,
    /// Time between full syncs of one integration.
    pub interval: Duration,
    /// How often the loop looks for due work.
    pub tick: Duration,
}

impl Scheduler {
    pub fn new(engine: Engine, interval: Duration) -> Self {
        Scheduler {
            engine,
            interval,
            tick: Duration::from_secs(5),
        }
    }

    /// Runs every integration that is due: never synced, asked for (force sync), or last
    /// started more than `interval` ago. Runs whose worker died are recorded first (and a
    /// replacement queued), so they are replaced at once. Whether an integration is still
    /// due is checked again when its lease is taken: another node may have synced it since
    /// the list was read. Returns what each run did.
    pub async fn run_due(
        &self,
        cancel: &CancellationToken,
    ) -> Result<Vec<(String, Outcome)>, StoreError> {
        self.engine.reap_abandoned(None).await?;
        let mut done = Vec::new();
        for integration in self.engine.store().integrations(None).await? {
            if cancel.is_cancelled() {
                break;
            }
            if integration.status == IntegrationStatus::Inactive {
                continue;
            }
            let now = Timestamp::now();
            let due_before =
                Timestamp::from_unix_millis(now.unix_millis() - self.interval.as_millis() as i64)
                    .unwrap_or(now);
            let requested = integration.sync_requested_at.is_some();
            let due = match integration.last_run_started_at {
                None => true,
                Some(last) => last.unix_millis() <= due_before.unix_millis(),
            };
            if !(requested || due) {
                continue;
            }
            let kind = integration
                .sync_requested_kind
                .as_deref()
                .filter(|_| requested)
                .unwrap_or("FULL");
            let outcome = self
                .engine
                .run_if_due(&integration.id, kind, due_before, cancel)
                .await?;
            done.push((integration.id, outcome));
        }
        Ok(done)
    }

    /// Runs until `shutdown` is cancelled. A run in progress sees the cancellation at its
    /// next batch and ends as CANCELLED without sweeping anything.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if let Err(e) = self.run_due(&shutdown).await {
                tracing::error!(error = %e, "scheduling syncs failed");
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(self.tick) => {}
            }
        }
        tracing::info!("sync scheduler stopped");
    }
}
