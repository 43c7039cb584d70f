//! Where a run's records go: batched into the store under the run's lease, with what was
//! seen remembered for the deletion sweep.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};

use atsbridge_model::connector::{
    BoxFuture, ConnectorError, ConnectorErrorKind, Record, RecordSink,
};
use atsbridge_model::ModelKind;
use atsbridge_store::{Fence, RecordInput, RunCounts, Store, StoreError};
use tokio_util::sync::CancellationToken;

use crate::engine::Clock;

/// Ids seen in a run, as 64-bit hashes: about 8 bytes a record instead of the id string. A
/// collision could only make a deleted record look seen (a missed deletion, caught by the
/// next run), never a false deletion.
#[derive(Debug, Default)]
pub(crate) struct Seen(HashMap<ModelKind, HashSet<u64>>);

pub(crate) fn key(id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

impl Seen {
    fn insert(&mut self, model: ModelKind, id: &str) {
        self.0.entry(model).or_default().insert(key(id));
    }

    pub(crate) fn contains(&self, model: ModelKind, id: &str) -> bool {
        self.0.get(&model).is_some_and(|s| s.contains(&key(id)))
    }
}

/// Owns what it needs (no borrows), so it can run as its own task beside the reading.
pub(crate) struct StoreSink {
    pub store: Store,
    /// The run's lease: every batch commits under it and adds its counts to the run's row.
    pub fence: Fence,
    /// In "sync only created applications" mode: the remote ids to keep.
    pub only: Option<BTreeSet<String>>,
    pub seen: Seen,
    /// Remote ids of the jobs seen, for the stage sweep and for applications' job filter.
    pub job_remote_ids: HashMap<String, String>,
    /// What this run's batches committed.
    pub counts: RunCounts,
    pub cancel: CancellationToken,
    pub progress: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Whether this is the integration's first sync (see `Store::apply_batch_with`).
    pub first_sync: bool,
    /// The engine's clock: when each batch is written.
    pub clock: Clock,
    /// Why storing stopped, kept as it is: the connector only sees a `ConnectorError`.
    pub failure: Option<StoreError>,
}

impl StoreSink {
    pub(crate) fn new(
        store: Store,
        fence: Fence,
        only: Option<BTreeSet<String>>,
        cancel: CancellationToken,
        progress: std::sync::Arc<std::sync::atomic::AtomicU64>,
        first_sync: bool,
        clock: Clock,
    ) -> Self {
        StoreSink {
            store,
            fence,
            only,
            seen: Seen::default(),
            job_remote_ids: HashMap::new(),
            counts: RunCounts::default(),
            cancel,
            progress,
            first_sync,
            clock,
            failure: None,
        }
    }

    async fn store(&mut self, batch: Vec<Record>) -> Result<(), StoreError> {
        let prepared = self.prepare(batch)?;
        let written = self.start(prepared).await;
        self.finish(written)
    }

    /// A batch in the store's form: what converting records costs happens here, apart from
    /// the write, so the next batch can be converted while one is written.
    pub(crate) fn prepare(&mut self, batch: Vec<Record>) -> Result<Prepared, StoreError> {
        self.progress
            .fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
        let mut inputs = Vec::with_capacity(batch.len());
        let mut seen = Vec::with_capacity(batch.len());
        for record in batch {
            if let Record::Job(job) = &record {
                self.job_remote_ids
                    .insert(job.id.clone(), job.remote_id.clone());
            }
            let remote_id = match &record {
                Record::Candidate(c) => Some(&c.profile.remote_id),
                Record::Application(a) => a.core.remote_id.as_ref(),
                _ => None,
            };
            if let (Some(only), Some(remote_id)) = (&self.only, remote_id) {
                if !only.contains(remote_id) {
                    continue;
                }
            }
            seen.push((record.model(), record.id().to_owned()));
            let job_remote = match &record {
                Record::Application(a) => Some(
                    a.core
                        .job_id
                        .as_ref()
                        .and_then(|j| self.job_remote_ids.get(j))
                        .cloned(),
                ),
                _ => None,
            };
            // The batch is the sink's to give away: the records' raw payloads move into the
            // stored form instead of being copied.
            let mut input = RecordInput::from_owned(record)?;
            if let Some(job_remote) = job_remote {
                input = input.with_job_remote_id(job_remote);
            }
            inputs.push(input);
        }
        Ok(Prepared { inputs, seen })
    }

    /// Writes a prepared batch under the run's lease, as a task of its own: it goes on while
    /// the caller prepares the next one. Batches are written one at a time and in order (the
    /// caller awaits one before starting the next), so a record listed twice keeps its last
    /// version.
    pub(crate) fn start(&self, prepared: Prepared) -> tokio::task::JoinHandle<Written> {
        let (store, fence, first_sync) = (self.store.clone(), self.fence.clone(), self.first_sync);
        let now = self.clock.now();
        tokio::spawn(async move {
            let counts = store
                .apply_run_batch(&fence, &prepared.inputs, now, first_sync)
                .await?;
            Ok((counts, prepared.seen))
        })
    }

    /// Takes in what a started write did.
    pub(crate) fn finish(
        &mut self,
        written: Result<Written, tokio::task::JoinError>,
    ) -> Result<(), StoreError> {
        let (counts, seen) =
            written.map_err(|e| StoreError::Corrupt(format!("a batch's write failed: {e}")))??;
        // Seen once stored, not before: only what the store holds may shield a row from
        // the sweep.
        for (model, id) in seen {
            self.seen.insert(model, &id);
        }
        self.counts.add(&counts.run_delta());
        Ok(())
    }
}

/// A batch converted for the store, with the ids it holds.
pub(crate) struct Prepared {
    inputs: Vec<RecordInput>,
    seen: Vec<(ModelKind, String)>,
}

/// What a batch's write did: its counts and the ids it stored.
pub(crate) type Written =
    Result<(atsbridge_store::BatchCounts, Vec<(ModelKind, String)>), StoreError>;

impl RecordSink for StoreSink {
    fn accept(&mut self, batch: Vec<Record>) -> BoxFuture<'_, Result<(), ConnectorError>> {
        Box::pin(async move {
            if self.cancel.is_cancelled() {
                return Err(cancelled());
            }
            self.store(batch).await.map_err(|e| self.failed(e))
        })
    }
}

impl StoreSink {
    /// Keeps a storing failure as the run's cause (the connector only sees a
    /// `ConnectorError`) and says it to the connector's side.
    pub(crate) fn failed(&mut self, e: StoreError) -> ConnectorError {
        let message = format!("storing records failed: {e}");
        self.failure = Some(e);
        ConnectorError::new(ConnectorErrorKind::Unknown, message)
    }
}

pub(crate) fn cancelled() -> ConnectorError {
    ConnectorError::new(ConnectorErrorKind::Unknown, "the run was cancelled")
}

/// The connector's side of the pipeline: hands batches to the task that stores them, so the
/// next pages are fetched and parsed while earlier ones are written. The bounded channel
/// keeps at most `PIPELINE_BATCHES` batches in memory.
pub(crate) struct Forward(pub tokio::sync::mpsc::Sender<Vec<Record>>);

/// Batches (about one position each) that may wait between reading and storing.
pub(crate) const PIPELINE_BATCHES: usize = 16;

/// The storing task joins the batches waiting for it up to this many records per
/// transaction: fewer, larger statements when storing is what holds the run back.
pub(crate) const COALESCE_RECORDS: usize = 2000;

impl RecordSink for Forward {
    fn accept(&mut self, batch: Vec<Record>) -> BoxFuture<'_, Result<(), ConnectorError>> {
        Box::pin(async move {
            self.0.send(batch).await.map_err(|_| {
                // The storing task ended early; its own error is what the run reports.
                ConnectorError::new(ConnectorErrorKind::Unknown, "storing stopped")
            })
        })
    }
}
