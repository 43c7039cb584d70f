//! One sync run, start to finish: `Engine::run_once`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use atsbridge_model::connector::{Connector, ConnectorError, ConnectorErrorKind, RecordSink as _};
use atsbridge_model::integration::IntegrationStatus;
use atsbridge_model::{ModelKind, Timestamp};
use atsbridge_store::{
    Credentials, IntegrationRow, RunCounts, RunRow, RunState, Store, StoreError,
};
use rand::Rng as _;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::sink::{Forward, Seen, StoreSink, COALESCE_RECORDS, PIPELINE_BATCHES};

/// Builds the connector of an integration from its row and decrypted credentials.
pub type ConnectorFactory = Arc<
    dyn Fn(&IntegrationRow, &Credentials) -> Result<Box<dyn Connector>, ConnectorError>
        + Send
        + Sync,
>;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Who this process is, in leases and run logs.
    pub worker_id: String,
    /// How long a lease lasts without renewal; a crashed worker's lease expires after it.
    pub lease_ttl: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        let suffix: u32 = rand::rng().random();
        EngineConfig {
            worker_id: format!("worker-{}-{suffix:08x}", std::process::id()),
            lease_ttl: Duration::from_secs(300),
        }
    }
}

/// What `run_once` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A run happened (whatever its state).
    Ran(Box<RunRow>),
    /// Another worker holds the integration's lease.
    Busy,
    /// The integration is disabled, or its credentials were rejected and not replaced since.
    Skipped(&'static str),
}

#[derive(Clone)]
pub struct Engine {
    store: Store,
    factory: ConnectorFactory,
    config: EngineConfig,
    /// Records received by runs of this engine so far, for progress displays.
    progress: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

pub(crate) fn later(t: Timestamp, d: Duration) -> Timestamp {
    Timestamp::from_unix_millis(t.unix_millis().saturating_add(d.as_millis() as i64)).unwrap_or(t)
}

fn run_id() -> String {
    let n: u64 = rand::rng().random();
    format!("sync_{n:016x}")
}

/// Rows a run must insert or delete before planner statistics are refreshed.
const STATISTICS_AFTER: u64 = 5_000;

/// How many live ids are read per page during the sweep.
const SWEEP_PAGE: i64 = 5_000;

impl Engine {
    pub fn new(store: Store, factory: ConnectorFactory, config: EngineConfig) -> Self {
        Engine {
            store,
            factory,
            config,
            progress: Arc::default(),
        }
    }

    /// A counter of the records this engine's runs have received, for progress bars.
    pub fn progress(&self) -> Arc<std::sync::atomic::AtomicU64> {
        self.progress.clone()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn worker_id(&self) -> &str {
        &self.config.worker_id
    }

    /// Runs one full sync of `integration_id` if it is enabled, valid and not leased by
    /// another worker. `requested_kind` is what the caller asked for (`FULL` or `DELTA`);
    /// Sage HR has no delta API, so every run is FULL and the run says so.
    pub async fn run_once(
        &self,
        integration_id: &str,
        requested_kind: &str,
        cancel: &CancellationToken,
    ) -> Result<Outcome, StoreError> {
        let Some(integration) = self.store.integration(integration_id).await? else {
            return Err(StoreError::NotFound(format!(
                "integration {integration_id}"
            )));
        };
        if integration.status == IntegrationStatus::Inactive {
            return Ok(Outcome::Skipped("the integration is disabled"));
        }
        if integration.invalid_credentials_version == Some(integration.credentials_version) {
            return Ok(Outcome::Skipped(
                "the integration's credentials were rejected; waiting for new ones",
            ));
        }
        let now = Timestamp::now();
        if !self
            .store
            .try_lease(
                integration_id,
                &self.config.worker_id,
                now,
                later(now, self.config.lease_ttl),
            )
            .await?
        {
            return Ok(Outcome::Busy);
        }
        let result = self.run_leased(&integration, requested_kind, cancel).await;
        // Released whatever happened, so the next run need not wait for the lease to expire.
        let released = self
            .store
            .release_lease(integration_id, &self.config.worker_id)
            .await;
        let run = result?;
        released?;
        Ok(Outcome::Ran(Box::new(run)))
    }

    async fn run_leased(
        &self,
        integration: &IntegrationRow,
        requested_kind: &str,
        cancel: &CancellationToken,
    ) -> Result<RunRow, StoreError> {
        let started = Instant::now();
        let mut run = RunRow {
            id: run_id(),
            integration_id: integration.id.clone(),
            kind: "FULL".into(),
            requested_kind: requested_kind.to_owned(),
            state: RunState::Running,
            worker: self.config.worker_id.clone(),
            started_at: Timestamp::now(),
            ended_at: None,
            counts: RunCounts::default(),
            upstream_requests: 0,
            error: None,
        };
        self.store.start_run(&run).await?;
        tracing::info!(run_id = %run.id, integration_id = %integration.id, "sync run started");

        let mut changed_models = BTreeSet::new();
        let outcome = self
            .read(integration, &mut run, &mut changed_models, cancel)
            .await;
        match outcome {
            Ok(()) => {}
            Err(RunError::Store(e)) => {
                run.state = RunState::Failed;
                run.error = Some(format!("storage failed: {e}"));
            }
            Err(RunError::Connector(e)) if e.kind == ConnectorErrorKind::AuthInvalid => {
                run.state = RunState::AuthenticationFailed;
                run.error = Some(e.message.clone());
                if self
                    .store
                    .mark_credentials_invalid(&integration.id, integration.credentials_version)
                    .await?
                {
                    self.state_changed_event(integration, IntegrationStatus::Invalid)
                        .await?;
                }
            }
            Err(RunError::Connector(e)) => {
                run.state = if cancel.is_cancelled() {
                    RunState::Cancelled
                } else {
                    RunState::Failed
                };
                run.error = Some(format!("{} ({})", e.message, e.code()));
            }
        }
        run.ended_at = Some(Timestamp::now());
        self.store.finish_run(&run).await?;
        let elapsed = started.elapsed();
        tracing::info!(run_id = %run.id, integration_id = %integration.id, state = run.state.as_str(), elapsed_ms = elapsed.as_millis() as u64, "sync run finished");
        self.finished_event(integration, &run, &changed_models, elapsed)
            .await?;
        Ok(run)
    }

    async fn read(
        &self,
        integration: &IntegrationRow,
        run: &mut RunRow,
        changed: &mut BTreeSet<String>,
        cancel: &CancellationToken,
    ) -> Result<(), RunError> {
        let credentials = self.store.credentials(&integration.id).await?;
        let connector = (self.factory)(integration, &credentials)?;
        let only = if integration.settings.sync_only_created_applications {
            Some(self.store.created_remote_ids(&integration.id).await?)
        } else {
            None
        };
        let sink = StoreSink {
            store: self.store.clone(),
            integration_id: integration.id.clone(),
            only,
            seen: Seen::default(),
            job_remote_ids: Default::default(),
            inserted: BTreeMap::new(),
            updated: BTreeMap::new(),
            unchanged: BTreeMap::new(),
            touched: 0,
            cancel: cancel.clone(),
            owner: self.config.worker_id.clone(),
            lease_ttl: self.config.lease_ttl,
            last_renewal: Instant::now(),
            progress: self.progress.clone(),
            first_sync: integration.first_synced_at.is_none(),
        };
        // Reading and storing run side by side: the connector fetches and parses the next
        // pages while this task's earlier batches are written.
        let (sender, mut receiver) =
            tokio::sync::mpsc::channel::<Vec<atsbridge_model::connector::Record>>(PIPELINE_BATCHES);
        let writer = tokio::spawn(async move {
            let mut sink = sink;
            while let Some(mut batch) = receiver.recv().await {
                while batch.len() < COALESCE_RECORDS {
                    match receiver.try_recv() {
                        Ok(more) => batch.extend(more),
                        Err(_) => break,
                    }
                }
                if let Err(e) = sink.accept(batch).await {
                    return (sink, Err(e));
                }
            }
            (sink, Ok(()))
        });
        let mut forward = Forward(sender);
        let read = connector.read_all(&mut forward).await;
        drop(forward);
        let (sink, stored) = writer.await.map_err(|e| {
            RunError::Connector(ConnectorError::new(
                ConnectorErrorKind::Unknown,
                format!("the storing task failed: {e}"),
            ))
        })?;
        run.counts.inserted = sink.inserted.clone();
        run.counts.updated = sink.updated.clone();
        run.counts.unchanged = sink.unchanged.clone();
        changed.extend(sink.changed_models());
        // A storing failure is the cause when both failed (reading then only saw the
        // channel close).
        stored?;
        let summary = read?;
        run.upstream_requests = summary.requests as i64;
        if cancel.is_cancelled() {
            return Err(RunError::Connector(ConnectorError::new(
                ConnectorErrorKind::Unknown,
                "the run was cancelled",
            )));
        }
        if summary.stable {
            let deleted = self.sweep(&integration.id, &sink).await?;
            for (model, n) in deleted {
                if n > 0 {
                    changed.insert(model.to_owned());
                    run.counts.deleted.insert(model.to_owned(), n);
                }
            }
            run.state = RunState::Succeeded;
        } else {
            run.state = RunState::PartiallyFailed;
            run.error = Some("a listing changed while it was read, so records may have shifted between pages unseen; no deletions were inferred from this run".into());
        }
        self.store
            .mark_synced(&integration.id, Timestamp::now())
            .await?;
        // A run that wrote many rows changes the data's shape; fresh planner statistics keep
        // the list filters on their indexes.
        let written: u64 = run
            .counts
            .inserted
            .values()
            .chain(run.counts.deleted.values())
            .sum();
        if written >= STATISTICS_AFTER {
            self.store.refresh_statistics().await?;
        }
        Ok(())
    }

    /// Marks what a complete run did not see as deleted. Stages go only with their job:
    /// Sage HR lists no stages, so a stage nobody is in right now still exists.
    async fn sweep(
        &self,
        integration_id: &str,
        sink: &StoreSink,
    ) -> Result<BTreeMap<&'static str, u64>, StoreError> {
        let seen_jobs: BTreeSet<&String> = sink.job_remote_ids.values().collect();
        let mut deleted = BTreeMap::new();
        for model in [
            ModelKind::Job,
            ModelKind::Candidate,
            ModelKind::Application,
            ModelKind::ApplicationStage,
        ] {
            let mut gone = Vec::new();
            let mut after = 0;
            loop {
                let page = self
                    .store
                    .live_ids(integration_id, model, after, SWEEP_PAGE)
                    .await?;
                let Some(last) = page.last() else { break };
                after = last.0;
                for (_, id, parent) in page {
                    if sink.seen.contains(model, &id) {
                        continue;
                    }
                    if model == ModelKind::ApplicationStage
                        && parent.as_ref().is_some_and(|p| seen_jobs.contains(p))
                    {
                        continue;
                    }
                    gone.push(id);
                }
            }
            let n = self
                .store
                .mark_deleted(integration_id, model, &gone, Timestamp::now())
                .await?;
            deleted.insert(model.as_str(), n);
        }
        Ok(deleted)
    }

    fn end_user(integration: &IntegrationRow) -> serde_json::Value {
        json!({
            "organization_name": integration.end_user.organization_name,
            "creator_email": integration.end_user.creator_email,
            "origin_id": integration.end_user.origin_id,
        })
    }

    /// One event per run: its state, timing and the models whose data changed.
    async fn finished_event(
        &self,
        integration: &IntegrationRow,
        run: &RunRow,
        changed: &BTreeSet<String>,
        elapsed: Duration,
    ) -> Result<(), StoreError> {
        let payload = json!({
            "sync_id": run.id,
            "sync_state": run.state.as_str(),
            "sync_started_at": run.started_at.to_string(),
            "sync_ended_at": run.ended_at.map(|t| t.to_string()),
            "sync_duration_seconds": elapsed.as_secs(),
            "integration_id": integration.id,
            "integration_tool": integration.tool,
            "integration_category": "ATS",
            "end_user": Self::end_user(integration),
            "changed_models": changed.iter().collect::<Vec<_>>(),
        });
        self.store
            .enqueue_event(
                &format!("evt_{}", &run.id[5..]),
                Some(&integration.id),
                "sync-finished",
                &payload,
                Timestamp::now(),
            )
            .await
    }

    async fn state_changed_event(
        &self,
        integration: &IntegrationRow,
        state: IntegrationStatus,
    ) -> Result<(), StoreError> {
        let payload = json!({
            "integration_tool": integration.tool,
            "integration_id": integration.id,
            "integration_category": "ATS",
            "end_user": Self::end_user(integration),
            "qa_status": "PASSED",
            "setup_status": integration.setup_status.as_str(),
            "state": state.as_str(),
            "updated_at": Timestamp::now().to_string(),
        });
        let n: u64 = rand::rng().random();
        self.store
            .enqueue_event(
                &format!("evt_{n:016x}"),
                Some(&integration.id),
                "integration-state-changed",
                &payload,
                Timestamp::now(),
            )
            .await
    }
}

enum RunError {
    Store(StoreError),
    Connector(ConnectorError),
}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> Self {
        RunError::Store(e)
    }
}

impl From<ConnectorError> for RunError {
    fn from(e: ConnectorError) -> Self {
        RunError::Connector(e)
    }
}
