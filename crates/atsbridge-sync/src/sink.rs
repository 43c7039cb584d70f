//! Where a run's records go: batched into the store, with what was seen remembered for the
//! deletion sweep.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::time::Instant;

use atsbridge_model::connector::{
    BoxFuture, ConnectorError, ConnectorErrorKind, Record, RecordSink,
};
use atsbridge_model::{ModelKind, Timestamp};
use atsbridge_store::{RecordInput, Store};
use tokio_util::sync::CancellationToken;

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
    pub integration_id: String,
    /// In "sync only created applications" mode: the remote ids to keep.
    pub only: Option<BTreeSet<String>>,
    pub seen: Seen,
    /// Remote ids of the jobs seen, for the stage sweep and for applications' job filter.
    pub job_remote_ids: HashMap<String, String>,
    pub inserted: BTreeMap<String, u64>,
    pub updated: BTreeMap<String, u64>,
    pub unchanged: BTreeMap<String, u64>,
    pub touched: u64,
    pub cancel: CancellationToken,
    /// The run keeps its lease alive as batches arrive.
    pub owner: String,
    pub lease_ttl: std::time::Duration,
    pub last_renewal: Instant,
    pub progress: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Whether this is the integration's first sync (see `Store::apply_batch_with`).
    pub first_sync: bool,
}

impl StoreSink {
    pub(crate) fn changed_models(&self) -> BTreeSet<String> {
        self.inserted
            .keys()
            .chain(self.updated.keys())
            .cloned()
            .collect()
    }
}

fn store_error(e: atsbridge_store::StoreError) -> ConnectorError {
    ConnectorError::new(
        ConnectorErrorKind::Unknown,
        format!("storing records failed: {e}"),
    )
}

impl RecordSink for StoreSink {
    fn accept(&mut self, batch: Vec<Record>) -> BoxFuture<'_, Result<(), ConnectorError>> {
        Box::pin(async move {
            if self.cancel.is_cancelled() {
                return Err(ConnectorError::new(
                    ConnectorErrorKind::Unknown,
                    "the run was cancelled",
                ));
            }
            if self.last_renewal.elapsed() >= self.lease_ttl / 3 {
                let until = crate::engine::later(Timestamp::now(), self.lease_ttl);
                let kept = self
                    .store
                    .renew_lease(&self.integration_id, &self.owner, until)
                    .await
                    .map_err(store_error)?;
                if !kept {
                    return Err(ConnectorError::new(
                        ConnectorErrorKind::Unknown,
                        "the run lost its lease to another worker",
                    ));
                }
                self.last_renewal = Instant::now();
            }
            self.progress
                .fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
            let mut inputs = Vec::with_capacity(batch.len());
            for record in &batch {
                if let Record::Job(job) = record {
                    self.job_remote_ids
                        .insert(job.id.clone(), job.remote_id.clone());
                }
                let remote_id = match record {
                    Record::Candidate(c) => Some(&c.profile.remote_id),
                    Record::Application(a) => a.core.remote_id.as_ref(),
                    _ => None,
                };
                if let (Some(only), Some(remote_id)) = (&self.only, remote_id) {
                    if !only.contains(remote_id) {
                        continue;
                    }
                }
                self.seen.insert(record.model(), record.id());
                let mut input = RecordInput::from_record(record).map_err(store_error)?;
                if let Record::Application(a) = record {
                    let job_remote = a
                        .core
                        .job_id
                        .as_ref()
                        .and_then(|j| self.job_remote_ids.get(j))
                        .cloned();
                    input = input.with_job_remote_id(job_remote);
                }
                inputs.push(input);
            }
            let counts = self
                .store
                .apply_batch_with(
                    &self.integration_id,
                    &inputs,
                    Timestamp::now(),
                    self.first_sync,
                )
                .await
                .map_err(store_error)?;
            for (target, source) in [
                (&mut self.inserted, &counts.inserted),
                (&mut self.updated, &counts.updated),
                (&mut self.unchanged, &counts.unchanged),
            ] {
                for (model, n) in source {
                    *target.entry((*model).to_owned()).or_default() += n;
                }
            }
            self.touched += counts.touched;
            Ok(())
        })
    }
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
