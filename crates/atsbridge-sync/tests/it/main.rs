//! The sync engine against the Sage HR simulator, on SQLite and (when configured) PostgreSQL.

mod campaign;
mod helpers;
mod reliability;
mod requests;
mod retention;
mod scheduling;
mod scripted;
mod sync;
