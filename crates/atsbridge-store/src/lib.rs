//! Persistence: integrations (credentials encrypted at rest), hashed API keys, records of the
//! unified models with change tracking, sync runs and the event outbox, behind one interface
//! with a SQLite backend (the embedded default) and a PostgreSQL backend (for several nodes).
//!
//! Owns: migrations per backend, keyset pagination and opaque cursors, storage errors.
//! Must not import: the connector, the sync engine or the server; it depends on
//! `atsbridge-model` only.
//!
//! Empty until the store and sync issue fills it.
#![forbid(unsafe_code)]
