//! The sync engine against the Sage HR simulator, on SQLite and (when configured) PostgreSQL.

mod helpers;
mod sync;
