//! The sync engine: one run per integration at a time (leases), streaming records from a
//! connector, canonical hashing so unchanged records write nothing, batched upserts, deletion
//! sweeps only after a complete run, run logs and outbox events; and the scheduler that runs
//! it periodically and on request.
//!
//! Owns: scheduling, diffing and deletion detection.
//! Must not import: the server, the CLI or a concrete connector; it sees connectors only
//! through the trait in `atsbridge-model` (built by a factory the caller supplies) and
//! storage only through `atsbridge-store`. Also delivers the outbox's events as signed
//! webhooks (`webhooks`), and owns the one guarded client for URLs someone else chose
//! (`outbound`: webhook URLs here, attachment downloads in the server), and removes what
//! may no longer be kept (`retention`).
#![forbid(unsafe_code)]

mod engine;
pub mod metrics;
pub mod outbound;
pub mod retention;
mod run_log;
mod scheduler;
mod sink;
pub mod webhooks;

pub use engine::{
    new_run_id, requested_run_id, Clock, ConnectorFactory, Engine, EngineConfig, Outcome,
};
pub use metrics::Metrics;
pub use retention::{PurgeCounts, Retention, RetentionPolicy};
pub use scheduler::{Scheduler, DEFAULT_CONCURRENCY};
pub use webhooks::{Deliverer, DelivererConfig};
