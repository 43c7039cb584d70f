//! The sync engine: one run per integration at a time (leases), streaming records from a
//! connector, canonical hashing so unchanged records write nothing, batched upserts, deletion
//! sweeps only after a complete run, run logs and events.
//!
//! Owns: scheduling, diffing and deletion detection.
//! Must not import: the server, the CLI or a concrete connector; it sees connectors only
//! through the trait in `atsbridge-model` and storage only through `atsbridge-store`.
//!
//! Empty until the store and sync issue fills it.
#![forbid(unsafe_code)]
