//! One sync run, start to finish: `Engine::run_once`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use atsbridge_model::connector::{
    Confirmed, Connector, ConnectorError, ConnectorErrorKind, Missing, Observer,
};
use atsbridge_model::event::{Event, IntegrationStateChanged, QaStatus, SyncFinished};
use atsbridge_model::integration::{Category, IntegrationStatus, SyncKind};
use atsbridge_model::{ModelKind, Timestamp};
use atsbridge_store::{
    Credentials, Fence, IntegrationRow, LiveRecord, LogLevel, NewEvent, RunCounts, RunRow,
    RunState, Store, StoreError,
};
use rand::Rng as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics::Metrics;
use crate::run_log::RunLog;
use crate::sink::{cancelled, Forward, StoreSink, COALESCE_RECORDS, PIPELINE_BATCHES};

/// Builds the connector of an integration from its row and decrypted credentials; the
/// connector reports its upstream attempts to the observer (the app's metrics).
pub type ConnectorFactory = Arc<
    dyn Fn(&IntegrationRow, &Credentials, &Observer) -> Result<Box<dyn Connector>, ConnectorError>
        + Send
        + Sync,
>;

/// Where an engine reads the time: the wall clock, unless a test gives it its own
/// (`Engine::with_clock`), e.g. one ahead by a lease's TTL to see that lease lapsed without
/// waiting for it. The store takes every time it writes or compares from here.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl Clock {
    pub fn new(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        Clock(Arc::new(now))
    }

    pub fn now(&self) -> Timestamp {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new(Timestamp::now)
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Who this process is, in leases and run logs.
    pub worker_id: String,
    /// How long a lease lasts without renewal. A run renews it every third of this and with
    /// every batch it stores, so a worker that died is noticed and replaced within this time
    /// plus a scheduler tick.
    pub lease_ttl: Duration,
}

/// 30 s: a dead worker's integration is taken over within about half a minute, while a
/// live one has two renewals' slack for a slow database or a paused process.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);

impl Default for EngineConfig {
    fn default() -> Self {
        let suffix: u32 = rand::rng().random();
        EngineConfig {
            worker_id: format!("worker-{}-{suffix:08x}", std::process::id()),
            lease_ttl: DEFAULT_LEASE_TTL,
        }
    }
}

/// What `run_once` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A run happened (whatever its state).
    Ran(Box<RunRow>),
    /// Another worker holds the integration's lease (or, for `run_if_due`, the integration
    /// is no longer due: another worker has just synced it).
    Busy,
    /// The integration is disabled, or its credentials were rejected and not replaced since.
    Skipped(&'static str),
}

#[derive(Clone)]
pub struct Engine {
    store: Store,
    factory: ConnectorFactory,
    config: EngineConfig,
    clock: Clock,
    /// Records received by runs of this engine so far, for progress displays.
    progress: Arc<std::sync::atomic::AtomicU64>,
    /// Runs started in the background (`spawn_run`), awaited by `shutdown`.
    tasks: TaskTracker,
    /// Cancelled by `shutdown`: background runs end as CANCELLED and release their leases.
    stopping: CancellationToken,
    /// The runs of this engine in progress, by integration: what `stop` cancels and awaits.
    active: Arc<Active>,
    /// Where the dashboard is served (`https://host`), for `log_url` in `sync-finished`.
    log_base: Option<Arc<str>>,
    /// The app's metrics: runs, records, and (through connectors) upstream requests.
    metrics: Metrics,
}

/// Runs in progress by integration. An attempt registers before it reads the integration, so
/// `stop` either finds it or the attempt reads the state `stop`'s caller wrote before.
#[derive(Default)]
struct Active {
    runs: std::sync::Mutex<HashMap<String, Vec<Slot>>>,
    next: std::sync::atomic::AtomicU64,
}

struct Slot {
    key: u64,
    cancel: CancellationToken,
    /// Closed when the attempt ends (its sender is dropped).
    ended: tokio::sync::watch::Receiver<()>,
}

/// An attempt's registration in `Active`; dropping it (the attempt ended, or its future was
/// dropped) removes it and wakes whoever `stop`s the integration.
struct Registered {
    active: Arc<Active>,
    integration_id: String,
    key: u64,
    _ended: tokio::sync::watch::Sender<()>,
}

impl Active {
    fn register(self: &Arc<Self>, integration_id: &str, cancel: CancellationToken) -> Registered {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        let (sender, ended) = tokio::sync::watch::channel(());
        self.lock()
            .entry(integration_id.to_owned())
            .or_default()
            .push(Slot { key, cancel, ended });
        Registered {
            active: self.clone(),
            integration_id: integration_id.to_owned(),
            key,
            _ended: sender,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Slot>>> {
        // A panic while holding this lock leaves the map consistent (every change is one
        // call), so a poisoned lock is still usable.
        self.runs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut runs = self.active.lock();
        if let Some(slots) = runs.get_mut(&self.integration_id) {
            slots.retain(|s| s.key != self.key);
            if slots.is_empty() {
                runs.remove(&self.integration_id);
            }
        }
    }
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

/// A new run id, for a caller that names a run before it starts (`spawn_run_as`).
pub fn new_run_id() -> String {
    let n: u64 = rand::rng().random();
    format!("sync_{n:016x}")
}

/// The id of the run that serves a sync request made at `requested_at`. Derived from the
/// request instead of drawn at random, so that `POST /v1/force-sync` can answer with it
/// while the request still waits (behind another node's run, say), and the run that
/// eventually serves the request, on whichever node, carries that id. A request is cleared
/// when a run starts, and a new one has its own time, so no two runs share an id.
pub fn requested_run_id(integration_id: &str, requested_at: Timestamp) -> String {
    use sha2::{Digest as _, Sha256};
    let digest =
        Sha256::digest(format!("{integration_id}\n{}", requested_at.unix_millis()).as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sync_{hex}")
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
            clock: Clock::default(),
            progress: Arc::default(),
            tasks: TaskTracker::new(),
            stopping: CancellationToken::new(),
            active: Arc::default(),
            log_base: None,
            metrics: Metrics::default(),
        }
    }

    /// This engine pointing `log_url` of `sync-finished` at the run's dashboard page under
    /// `base` (the server's public URL).
    pub fn with_log_url(mut self, base: &str) -> Self {
        self.log_base = Some(base.trim_end_matches('/').into());
        self
    }

    /// The dashboard page of a run, when the engine knows where the dashboard is.
    pub fn log_url(&self, run_id: &str) -> Option<String> {
        self.log_base
            .as_ref()
            .map(|base| format!("{base}/dashboard/runs/{run_id}"))
    }

    /// This engine recording into `metrics` (the app's, shared with its server and
    /// deliverer) instead of metrics of its own.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// This engine reading the time from `clock` instead of the wall clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The time by this engine's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Stops this engine's runs of `integration_id`: each ends as CANCELLED (recorded,
    /// announced, its lease released) at its next step, and this returns once all have. An
    /// attempt that starts later reads whatever the caller stored before calling this (a
    /// disabled integration is skipped; a deleted one is not found). Runs of other nodes
    /// notice a disabled integration at their next lease renewal, and a deleted one at their
    /// next write, which fails.
    pub async fn stop(&self, integration_id: &str) {
        let slots = self.slots(integration_id);
        for (cancel, _) in &slots {
            cancel.cancel();
        }
        Self::ended(slots).await;
    }

    /// Waits, without cancelling anything, until every run of `integration_id` this engine
    /// had started or spawned (`spawn_run`, e.g. by a force-sync or a completed connection)
    /// when it was called has ended. What a caller awaits instead of polling the run log.
    pub async fn settled(&self, integration_id: &str) {
        Self::ended(self.slots(integration_id)).await;
    }

    fn slots(
        &self,
        integration_id: &str,
    ) -> Vec<(CancellationToken, tokio::sync::watch::Receiver<()>)> {
        self.active
            .lock()
            .get(integration_id)
            .map(|slots| {
                slots
                    .iter()
                    .map(|s| (s.cancel.clone(), s.ended.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn ended(slots: Vec<(CancellationToken, tokio::sync::watch::Receiver<()>)>) {
        for (_, mut ended) in slots {
            // Err once the attempt's sender is dropped: it has ended.
            while ended.changed().await.is_ok() {}
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

    /// Cancelled when the engine shuts down; callers running syncs of their own (the
    /// scheduler) stop with it.
    pub fn stopping(&self) -> CancellationToken {
        self.stopping.clone()
    }

    /// Runs `run_once` in the background, owned by the engine: `shutdown` cancels it and
    /// waits for it to record its end and release its lease.
    pub fn spawn_run(
        &self,
        integration_id: String,
        requested_kind: SyncKind,
    ) -> JoinHandle<Result<Outcome, StoreError>> {
        self.spawn(integration_id, requested_kind, None)
    }

    /// `spawn_run`, the run (if it happens) with id `run_id`, so the caller can name it
    /// before it starts.
    pub fn spawn_run_as(
        &self,
        integration_id: String,
        requested_kind: SyncKind,
        run_id: String,
    ) -> JoinHandle<Result<Outcome, StoreError>> {
        self.spawn(integration_id, requested_kind, Some(run_id))
    }

    fn spawn(
        &self,
        integration_id: String,
        requested_kind: SyncKind,
        run_id: Option<String>,
    ) -> JoinHandle<Result<Outcome, StoreError>> {
        let engine = self.clone();
        let cancel = self.stopping.child_token();
        // Registered now, not when the task first runs: `stop` and `settled` called right
        // after this returns must find the run.
        let registered = self.active.register(&integration_id, cancel.clone());
        self.tasks.spawn(async move {
            let _registered = registered;
            engine
                .claim_and_run(&integration_id, requested_kind, None, run_id, &cancel)
                .await
        })
    }

    /// Stops background runs: each ends as CANCELLED (recorded, announced, its lease
    /// released) at its next step; returns once all have. Call before closing the store.
    pub async fn shutdown(&self) {
        self.stopping.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }

    /// Runs one full sync of `integration_id` if it is enabled, valid and not leased by
    /// another worker. `requested_kind` is what the caller asked for (`FULL` or `DELTA`);
    /// Sage HR has no delta API, so every run is FULL and the run says so.
    pub async fn run_once(
        &self,
        integration_id: &str,
        requested_kind: SyncKind,
        cancel: &CancellationToken,
    ) -> Result<Outcome, StoreError> {
        self.claim_and_run(integration_id, requested_kind, None, None, cancel)
            .await
    }

    /// `run_once`, only if the integration is still due when the lease is taken: a sync was
    /// requested, it never ran, or its last run started at or before `due_before`.
    pub async fn run_if_due(
        &self,
        integration_id: &str,
        requested_kind: SyncKind,
        due_before: Timestamp,
        cancel: &CancellationToken,
    ) -> Result<Outcome, StoreError> {
        self.claim_and_run(
            integration_id,
            requested_kind,
            Some(due_before),
            None,
            cancel,
        )
        .await
    }

    async fn claim_and_run(
        &self,
        integration_id: &str,
        requested_kind: SyncKind,
        due_before: Option<Timestamp>,
        run_id: Option<String>,
        cancel: &CancellationToken,
    ) -> Result<Outcome, StoreError> {
        // Registered before the integration is read: see `Active`.
        let cancel = &cancel.child_token();
        let _registered = self.active.register(integration_id, cancel.clone());
        let Some(integration) = self.store.integration(integration_id).await? else {
            return Err(StoreError::integration_not_found(integration_id));
        };
        if integration.status == IntegrationStatus::Inactive {
            return Ok(Outcome::Skipped("the integration is disabled"));
        }
        if integration.invalid_credentials_version == Some(integration.credentials_version) {
            return Ok(Outcome::Skipped(
                "the integration's credentials were rejected; waiting for new ones",
            ));
        }
        if cancel.is_cancelled() {
            return Ok(Outcome::Skipped("the worker is stopping"));
        }
        let now = self.clock.now();
        let until = later(now, self.config.lease_ttl);
        let owner = &self.config.worker_id;
        let leased = match due_before {
            None => {
                self.store
                    .try_lease(integration_id, owner, now, until)
                    .await?
            }
            Some(before) => {
                self.store
                    .try_lease_if_due(integration_id, owner, now, until, before)
                    .await?
            }
        };
        if !leased {
            return Ok(Outcome::Busy);
        }
        let result = async {
            // Holding the lease, any run of this integration still marked RUNNING is dead.
            self.reap_abandoned(Some(integration_id)).await?;
            self.run_leased(&integration, requested_kind, run_id, cancel)
                .await
        }
        .await;
        // Released whatever happened, so the next run need not wait for the lease to expire.
        let released = self.store.release_lease(integration_id, owner).await;
        let run = result?;
        released?;
        Ok(Outcome::Ran(Box::new(run)))
    }

    /// Records every RUNNING run whose worker no longer holds its lease as FAILED, announces
    /// it (`sync-finished`, and `data-changed` for what its batches committed), and queues a
    /// run to replace it. Of one integration, or of all.
    pub async fn reap_abandoned(
        &self,
        integration_id: Option<&str>,
    ) -> Result<Vec<RunRow>, StoreError> {
        let now = self.clock.now();
        let mut ended = Vec::new();
        for mut run in self.store.abandoned_runs(integration_id, now).await? {
            let Some(integration) = self.store.integration(&run.integration_id).await? else {
                continue;
            };
            run.state = RunState::Failed;
            run.ended_at = Some(now);
            run.error = Some(format!(
                "abandoned: worker {} stopped renewing the integration's lease (it stopped, crashed or lost the database); a new run replaces it",
                run.worker
            ));
            let elapsed = Duration::from_millis(
                (now.unix_millis() - run.started_at.unix_millis()).max(0) as u64,
            );
            let event = Self::finished_event(
                &integration,
                &run,
                elapsed,
                now,
                self.log_url(&run.id).unwrap_or_default(),
            );
            if self.store.end_abandoned_run(&run, &event, now).await? {
                self.metrics.run_ended(
                    &integration.tool,
                    integration.category.as_str(),
                    &run,
                    elapsed,
                );
                tracing::warn!(run_id = %run.id, integration_id = %run.integration_id, worker = %run.worker, "recorded an abandoned sync run as failed; a new run is queued");
                ended.push(run);
            }
        }
        Ok(ended)
    }

    async fn run_leased(
        &self,
        integration: &IntegrationRow,
        requested_kind: SyncKind,
        run_id: Option<String>,
        cancel: &CancellationToken,
    ) -> Result<RunRow, StoreError> {
        let started = Instant::now();
        let mut run = RunRow {
            // A run that serves a queued request takes the request's id (see
            // `requested_run_id`); others, unless their caller named them, a random one.
            id: run_id
                .or_else(|| {
                    integration
                        .sync_requested_at
                        .map(|at| requested_run_id(&integration.id, at))
                })
                .unwrap_or_else(new_run_id),
            integration_id: integration.id.clone(),
            // Sage HR has no change feed: every run reads everything.
            kind: SyncKind::Full,
            requested_kind,
            state: RunState::Running,
            worker: self.config.worker_id.clone(),
            started_at: self.clock.now(),
            ended_at: None,
            counts: RunCounts::default(),
            upstream_requests: 0,
            error: None,
        };
        self.store.start_run(&run).await?;
        tracing::info!(run_id = %run.id, integration_id = %integration.id, "sync run started");
        let mut log = RunLog::new(self.clock.clone());
        log.info(format!(
            "{} sync started (asked for {}) by {}",
            run.kind.as_str(),
            run.requested_kind.as_str(),
            run.worker
        ));
        log.flush(&self.store, &run.id).await;

        let run_cancel = cancel.child_token();
        let lost = Arc::new(AtomicBool::new(false));
        let beat = CancellationToken::new();
        // Also when this future is dropped mid-run (its task aborted): a run that no longer
        // exists must not keep its lease alive.
        let _stop_beat = beat.clone().drop_guard();
        let heartbeat = tokio::spawn(heartbeat(
            self.clone(),
            integration.id.clone(),
            run_cancel.clone(),
            lost.clone(),
            beat.clone(),
        ));
        let outcome = self
            .read(integration, &mut run, &mut log, &run_cancel)
            .await;
        beat.cancel();
        let _ = heartbeat.await;
        log.flush(&self.store, &run.id).await;
        let lost = lost.load(Ordering::SeqCst)
            || matches!(outcome, Err(RunError::Store(StoreError::LeaseLost(_))));
        match outcome {
            Ok(()) => {}
            Err(_) if lost => {
                run.state = RunState::Failed;
                run.error = Some("the run lost its lease (it could not renew it in time) and stopped; another worker may have taken over".into());
            }
            Err(RunError::Store(e)) => {
                run.state = RunState::Failed;
                run.error = Some(format!("storing failed: {e}"));
            }
            Err(RunError::Cancelled) => {
                run.state = RunState::Cancelled;
                run.error = Some("cancelled before it completed (the worker is stopping, or the integration was disabled or deleted); nothing was marked deleted".into());
            }
            Err(RunError::Connector(e)) if e.kind == ConnectorErrorKind::AuthInvalid => {
                run.state = RunState::AuthenticationFailed;
                run.error = Some(format!("{} ({})", e.message, e.code()));
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
                run.state = RunState::Failed;
                run.error = Some(format!("{} ({})", e.message, e.code()));
            }
        }
        run.ended_at = Some(self.clock.now());
        let elapsed = started.elapsed();
        log.counts(&run.counts);
        if run.state == RunState::Succeeded {
            log.deleted(&run.counts.deleted);
        }
        if let Some(error) = &run.error {
            let level = if run.state == RunState::Cancelled {
                LogLevel::Warn
            } else {
                LogLevel::Error
            };
            log.line(level, format!("{}: {error}", run.state.as_str()));
        }
        log.info(format!(
            "ended {} after {:.1} s with {} upstream requests",
            run.state.as_str(),
            elapsed.as_secs_f64(),
            run.upstream_requests
        ));
        log.flush(&self.store, &run.id).await;
        let log_url = self.log_url(&run.id).unwrap_or_default();
        let event = Self::finished_event(integration, &run, elapsed, self.clock.now(), log_url);
        if !self.store.finish_run(&run, Some(&event)).await? {
            tracing::warn!(run_id = %run.id, integration_id = %integration.id, "the run had already been recorded as abandoned by another worker");
        }
        self.metrics.run_ended(
            &integration.tool,
            integration.category.as_str(),
            &run,
            elapsed,
        );
        tracing::info!(run_id = %run.id, integration_id = %integration.id, state = run.state.as_str(), upstream_requests = run.upstream_requests, elapsed_ms = elapsed.as_millis() as u64, error = run.error.as_deref().unwrap_or(""), "sync run finished");
        Ok(run)
    }

    /// Reads everything, stores it, confirms and applies deletions. Records the upstream
    /// requests made whatever happens.
    async fn read(
        &self,
        integration: &IntegrationRow,
        run: &mut RunRow,
        log: &mut RunLog,
        cancel: &CancellationToken,
    ) -> Result<(), RunError> {
        let credentials = self.store.credentials(&integration.id).await?;
        let connector = (self.factory)(integration, &credentials, &self.metrics.observer())?;
        let before = connector.requests_sent();
        let retries_before = connector.retries();
        let result = self
            .read_with(&*connector, integration, run, log, cancel)
            .await;
        run.upstream_requests = connector.requests_sent().saturating_sub(before) as i64;
        let retried = connector.retries().saturating_sub(retries_before);
        if retried > 0 {
            log.line(
                LogLevel::Warn,
                format!(
                    "retried {retried} upstream requests (rate limits, server errors or timeouts)"
                ),
            );
        } else {
            log.info("no upstream request had to be retried");
        }
        result
    }

    async fn read_with(
        &self,
        connector: &dyn Connector,
        integration: &IntegrationRow,
        run: &mut RunRow,
        log: &mut RunLog,
        cancel: &CancellationToken,
    ) -> Result<(), RunError> {
        let only = if integration.settings.sync_only_created_applications {
            Some(self.store.created_remote_ids(&integration.id).await?)
        } else {
            None
        };
        let fence = Fence {
            run_id: run.id.clone(),
            integration_id: integration.id.clone(),
            owner: self.config.worker_id.clone(),
            lease_ttl_ms: self.config.lease_ttl.as_millis() as i64,
        };
        let sink = StoreSink::new(
            self.store.clone(),
            fence,
            only,
            cancel.clone(),
            self.progress.clone(),
            integration.first_synced_at.is_none(),
            self.clock.clone(),
        );
        // Reading and storing run side by side: the connector fetches and parses the next
        // pages while this task's earlier batches are written.
        let (sender, mut receiver) =
            tokio::sync::mpsc::channel::<Vec<atsbridge_model::connector::Record>>(PIPELINE_BATCHES);
        // Within the storing task, converting a batch to the store's form overlaps with
        // writing the one before it (one write in flight, in order).
        let writer = tokio::spawn(async move {
            let mut sink = sink;
            let mut in_flight = None;
            let result = loop {
                let Some(mut batch) = receiver.recv().await else {
                    break Ok(());
                };
                while batch.len() < COALESCE_RECORDS {
                    match receiver.try_recv() {
                        Ok(more) => batch.extend(more),
                        Err(_) => break,
                    }
                }
                if sink.cancel.is_cancelled() {
                    break Err(cancelled());
                }
                let prepared = match sink.prepare(batch) {
                    Ok(prepared) => prepared,
                    Err(e) => break Err(sink.failed(e)),
                };
                if let Some(write) = in_flight.take() {
                    if let Err(e) = sink.finish(write.await) {
                        break Err(sink.failed(e));
                    }
                }
                in_flight = Some(sink.start(prepared));
            };
            // The last write, or the one still running when something failed: awaited
            // either way, so nothing writes after the run has moved on.
            let result = match (in_flight, result) {
                (Some(write), Ok(())) => sink.finish(write.await).map_err(|e| sink.failed(e)),
                (Some(write), Err(e)) => {
                    let _ = write.await;
                    Err(e)
                }
                (None, result) => result,
            };
            (sink, result)
        });
        let mut forward = Forward(sender);
        // A cancelled run stops waiting for upstream at once (a backoff can last minutes);
        // what was stored stays stored.
        let read = tokio::select! {
            read = connector.read_all(&mut forward) => Some(read),
            () = cancel.cancelled() => None,
        };
        drop(forward);
        let (mut sink, stored) = writer.await.map_err(|e| {
            RunError::Store(StoreError::Corrupt(format!("the storing task failed: {e}")))
        })?;
        run.counts = sink.counts.clone();
        // A storing failure is the cause when both failed (reading then only saw the
        // channel close).
        if let Some(e) = sink.failure.take() {
            return Err(RunError::Store(e));
        }
        let Some(read) = read else {
            return Err(RunError::Cancelled);
        };
        if cancel.is_cancelled() {
            return Err(RunError::Cancelled);
        }
        stored?;
        let summary = read?;
        if !summary.stable {
            tracing::info!(run_id = %run.id, "a listing changed while it was read; every record it did not deliver is confirmed with Sage HR before it is marked deleted");
            log.info("a listing changed while it was read: every record it did not deliver is asked about before it is marked deleted");
        }
        let deleted = if integration.category == Category::Hris {
            self.sweep_hris(connector, run, &mut sink, &summary, log, cancel)
                .await
        } else {
            self.sweep(connector, run, &mut sink, log, cancel).await
        };
        run.counts = sink.counts.clone();
        let deleted = deleted?;
        run.counts.deleted = deleted;
        run.state = RunState::Succeeded;
        self.store
            .mark_synced(&integration.id, self.clock.now())
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

    /// Marks deleted what a complete run did not see and the connector confirms is gone.
    ///
    /// Not being listed proves nothing by itself: a listing paged while the ATS changed can
    /// skip a live record (one delete before it, one create after it), and a record written
    /// through the API after the run began was never the run's to see. So records changed
    /// after the run started are left alone, and every other unseen record is asked about (`Connector::confirm_missing`); only those the ATS says do not exist are marked.
    /// The ones that exist come back through `sink` and are stored. Stages go only with their
    /// job: Sage HR lists no stages, so a stage nobody is in right now still exists.
    async fn sweep(
        &self,
        connector: &dyn Connector,
        run: &RunRow,
        sink: &mut StoreSink,
        log: &mut RunLog,
        cancel: &CancellationToken,
    ) -> Result<BTreeMap<String, u64>, RunError> {
        let unseen = self.unseen(run, &ModelKind::ATS, sink).await?;
        // In "sync only created applications" mode, candidates and applications not created
        // through atsbridge are out of scope: they leave the store whatever the ATS holds
        // (as they always have in that mode), without asking about each.
        let only = sink.only.clone();
        let out_of_scope = |r: &LiveRecord| {
            only.as_ref()
                .is_some_and(|only| !only.contains(&r.remote_id))
        };
        let of = |model| unseen.get(&model).map(Vec::as_slice).unwrap_or_default();
        let mut missing = Missing::default();
        missing
            .jobs
            .extend(of(ModelKind::Job).iter().map(|r| r.remote_id.clone()));
        // An application's job by remote id, so the connector can re-read the few positions
        // involved instead of asking for every applicant.
        let mut job_remote: HashMap<&str, &str> = sink
            .job_remote_ids
            .iter()
            .map(|(id, remote)| (id.as_str(), remote.as_str()))
            .collect();
        for r in of(ModelKind::Job) {
            job_remote.insert(&r.id, &r.remote_id);
        }
        for r in of(ModelKind::Application)
            .iter()
            .filter(|r| !out_of_scope(r))
        {
            let job = r
                .job_id
                .as_deref()
                .and_then(|j| job_remote.get(j))
                .map(|j| (*j).to_owned());
            missing.applications.insert(r.remote_id.clone(), job);
        }
        for r in of(ModelKind::Candidate).iter().filter(|r| !out_of_scope(r)) {
            missing.applications.entry(r.remote_id.clone()).or_default();
        }
        let confirmed = if missing.is_empty() {
            Confirmed::default()
        } else {
            let confirmed = Self::ask(connector, &missing, sink, cancel).await?;
            tracing::info!(
                run_id = %run.id,
                jobs_unseen = missing.jobs.len(),
                jobs_gone = confirmed.jobs_gone.len(),
                applications_unseen = missing.applications.len(),
                applications_gone = confirmed.applications_gone.len(),
                "unseen records confirmed with the ATS"
            );
            log.info(format!(
                "asked about {} unseen jobs and {} unseen applications: {} and {} are gone",
                missing.jobs.len(),
                missing.applications.len(),
                confirmed.jobs_gone.len(),
                confirmed.applications_gone.len()
            ));
            confirmed
        };
        if cancel.is_cancelled() {
            return Err(RunError::Cancelled);
        }
        let seen_jobs: BTreeSet<&String> = sink.job_remote_ids.values().collect();
        let live_unseen_jobs: BTreeSet<&String> = of(ModelKind::Job)
            .iter()
            .map(|r| &r.remote_id)
            .filter(|id| !confirmed.jobs_gone.contains(*id))
            .collect();
        let mut deleted = BTreeMap::new();
        for model in ModelKind::ATS {
            let gone: Vec<String> = of(model)
                .iter()
                .filter(|r| !sink.seen.contains(model, &r.id))
                .filter(|r| match model {
                    ModelKind::Job => confirmed.jobs_gone.contains(&r.remote_id),
                    ModelKind::Candidate | ModelKind::Application => {
                        out_of_scope(r) || confirmed.applications_gone.contains(&r.remote_id)
                    }
                    ModelKind::ApplicationStage => match &r.parent_remote_id {
                        Some(job) => !seen_jobs.contains(job) && !live_unseen_jobs.contains(job),
                        None => true,
                    },
                    // Not in this loop: it sweeps the ATS models.
                    ModelKind::Employee
                    | ModelKind::Employment
                    | ModelKind::Group
                    | ModelKind::AbsenceType
                    | ModelKind::Absence
                    | ModelKind::TimeOffBalance => false,
                })
                .map(|r| r.id.clone())
                .collect();
            if gone.is_empty() {
                continue;
            }
            let n = self
                .store
                .mark_deleted_in_run(&sink.fence, model, &gone, self.clock.now())
                .await?;
            if n > 0 {
                deleted.insert(model.as_str().to_owned(), n);
            }
        }
        Ok(deleted)
    }

    /// The live stored records of `models` a run did not see, leaving out those written
    /// after it began (an API create): those were never the run's to judge.
    async fn unseen(
        &self,
        run: &RunRow,
        models: &[ModelKind],
        sink: &StoreSink,
    ) -> Result<BTreeMap<ModelKind, Vec<LiveRecord>>, RunError> {
        let cutoff = run.started_at.unix_millis();
        let mut unseen: BTreeMap<ModelKind, Vec<LiveRecord>> = BTreeMap::new();
        for &model in models {
            let mut after = 0;
            loop {
                let page = self
                    .store
                    .live_records(&run.integration_id, model, after, SWEEP_PAGE)
                    .await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                unseen
                    .entry(model)
                    .or_default()
                    .extend(page.into_iter().filter(|r| {
                        !sink.seen.contains(model, &r.id) && r.changed_at.unix_millis() < cutoff
                    }));
            }
        }
        Ok(unseen)
    }

    /// `Connector::confirm_missing`, stopped by `cancel`; a storing failure of what it handed
    /// back is the run's error.
    async fn ask(
        connector: &dyn Connector,
        missing: &Missing,
        sink: &mut StoreSink,
        cancel: &CancellationToken,
    ) -> Result<Confirmed, RunError> {
        let asked = tokio::select! {
            c = connector.confirm_missing(missing, sink) => Some(c),
            () = cancel.cancelled() => None,
        };
        if let Some(e) = sink.failure.take() {
            return Err(RunError::Store(e));
        }
        let Some(asked) = asked.filter(|_| !cancel.is_cancelled()) else {
            return Err(RunError::Cancelled);
        };
        Ok(asked?)
    }

    /// `sweep` for an HRIS integration: every HRIS record a complete run did not see, and
    /// that was not written after the run began, is asked about (`Connector::confirm_missing`)
    /// and marked deleted only when the tool says it does not exist. Absences are read by
    /// date window, so only those stored with days inside the run's window are asked about;
    /// the others were not the run's to judge.
    async fn sweep_hris(
        &self,
        connector: &dyn Connector,
        run: &RunRow,
        sink: &mut StoreSink,
        summary: &atsbridge_model::connector::ReadSummary,
        log: &mut RunLog,
        cancel: &CancellationToken,
    ) -> Result<BTreeMap<String, u64>, RunError> {
        let unseen = self.unseen(run, &ModelKind::HRIS, sink).await?;
        let mut missing = Missing::default();
        for (model, records) in &unseen {
            if *model == ModelKind::Absence {
                continue;
            }
            missing
                .hris
                .entry(*model)
                .or_default()
                .extend(records.iter().map(|r| r.remote_id.clone()));
        }
        if let (Some((from, to)), Some(absences)) =
            (summary.absences_window, unseen.get(&ModelKind::Absence))
        {
            let ids: Vec<String> = absences.iter().map(|r| r.id.clone()).collect();
            for r in self
                .store
                .by_ids_raw(&run.integration_id, ModelKind::Absence, &ids)
                .await?
            {
                let payload: serde_json::Value = serde_json::from_str(&r.payload)
                    .map_err(|e| StoreError::Corrupt(format!("record {}: {e}", r.id)))?;
                let day = |k: &str| {
                    payload
                        .get(k)
                        .and_then(serde_json::Value::as_str)
                        .and_then(atsbridge_model::hris::PlainDate::parse)
                };
                // Inside the window: it starts before the window ends and ends after it
                // starts. An absence without days cannot be placed, so it is not asked about.
                if let (Some(first), Some(last)) = (day("start_date"), day("end_date")) {
                    if first <= to && last >= from {
                        missing.absences.insert(r.remote_id.clone(), (first, last));
                    }
                }
            }
        }
        if missing.is_empty() {
            return Ok(BTreeMap::new());
        }
        let confirmed = Self::ask(connector, &missing, sink, cancel).await?;
        tracing::info!(
            run_id = %run.id,
            unseen = unseen.values().map(Vec::len).sum::<usize>(),
            gone = confirmed.hris_gone.values().map(BTreeSet::len).sum::<usize>(),
            "unseen HRIS records confirmed with the tool"
        );
        log.info(format!(
            "asked about {} unseen records: {} are gone",
            unseen.values().map(Vec::len).sum::<usize>(),
            confirmed
                .hris_gone
                .values()
                .map(BTreeSet::len)
                .sum::<usize>()
        ));
        let mut deleted = BTreeMap::new();
        for (model, records) in &unseen {
            let Some(gone_remote) = confirmed.hris_gone.get(model) else {
                continue;
            };
            let gone: Vec<String> = records
                .iter()
                .filter(|r| gone_remote.contains(&r.remote_id))
                .map(|r| r.id.clone())
                .collect();
            if gone.is_empty() {
                continue;
            }
            let n = self
                .store
                .mark_deleted_in_run(&sink.fence, *model, &gone, self.clock.now())
                .await?;
            if n > 0 {
                deleted.insert(model.as_str().to_owned(), n);
            }
        }
        Ok(deleted)
    }

    /// One event per run: its state, timing and the models whose data changed (what its
    /// batches and deletions committed).
    fn finished_event(
        integration: &IntegrationRow,
        run: &RunRow,
        elapsed: Duration,
        now: Timestamp,
        log_url: String,
    ) -> NewEvent {
        let event = Event::SyncFinished(SyncFinished {
            sync_id: run.id.clone(),
            sync_state: run.state.sync_state(),
            sync_started_at: run.started_at,
            sync_ended_at: run.ended_at,
            sync_duration_seconds: elapsed.as_secs(),
            integration_id: integration.id.clone(),
            integration_tool: integration.tool.clone(),
            integration_category: integration.category,
            end_user: integration.end_user.clone(),
            changed_models: run.counts.changed_models(),
            log_url,
        });
        NewEvent::new(event, now)
    }

    async fn state_changed_event(
        &self,
        integration: &IntegrationRow,
        state: IntegrationStatus,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let event = Event::IntegrationStateChanged(IntegrationStateChanged {
            integration_tool: integration.tool.clone(),
            integration_id: integration.id.clone(),
            integration_category: integration.category,
            end_user: integration.end_user.clone(),
            qa_status: QaStatus::Passed,
            setup_status: integration.setup_status,
            state,
            updated_at: now,
        });
        self.store.enqueue_event(&NewEvent::new(event, now)).await
    }
}

/// Keeps the integration's lease while a run works, also when no batch arrives for a while
/// (a long backoff). When the lease is lost, the run is cancelled: another worker may own it.
async fn heartbeat(
    engine: Engine,
    integration_id: String,
    run: CancellationToken,
    lost: Arc<AtomicBool>,
    stop: CancellationToken,
) {
    let (store, owner, ttl) = (
        &engine.store,
        &engine.config.worker_id,
        engine.config.lease_ttl,
    );
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(ttl / 3) => {}
        }
        match store
            .renew_lease(&integration_id, owner, later(engine.now(), ttl))
            .await
        {
            // A run of another node is stopped by disabling through here, at its next beat.
            Ok(true) => {
                if let Ok(Some(row)) = store.integration(&integration_id).await {
                    if row.status == IntegrationStatus::Inactive {
                        tracing::info!(%integration_id, "the integration was disabled; stopping its run");
                        run.cancel();
                        return;
                    }
                }
            }
            Ok(false) => {
                tracing::warn!(%integration_id, "the run's lease was taken by another worker; stopping the run");
                lost.store(true, Ordering::SeqCst);
                run.cancel();
                return;
            }
            // The next beat tries again; the batches' own renewals may also keep it.
            Err(e) => tracing::warn!(error = %e, %integration_id, "renewing a lease failed"),
        }
    }
}

enum RunError {
    Store(StoreError),
    Connector(ConnectorError),
    Cancelled,
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

#[cfg(test)]
mod tests {
    use atsbridge_model::Timestamp;

    use super::requested_run_id;

    #[test]
    fn requested_run_ids_are_stable_per_request() {
        let t = Timestamp::from_unix_millis(1_700_000_000_123).unwrap();
        let later = Timestamp::from_unix_millis(1_700_000_000_124).unwrap();
        assert_eq!(
            requested_run_id("sagehr:a", t),
            requested_run_id("sagehr:a", t)
        );
        assert_ne!(
            requested_run_id("sagehr:a", t),
            requested_run_id("sagehr:b", t)
        );
        assert_ne!(
            requested_run_id("sagehr:a", t),
            requested_run_id("sagehr:a", later)
        );
        assert_eq!(requested_run_id("sagehr:a", t).len(), "sync_".len() + 16);
    }
}
