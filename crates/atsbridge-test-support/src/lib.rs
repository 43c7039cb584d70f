//! What the workspace's tests share, so each crate's `tests/it/helpers.rs` keeps only what is
//! its own (a `TestApp`, an `Env`): fresh stores on each backend (re-exported from
//! `atsbridge_store::testing`, whose PostgreSQL databases are dropped once a test passes), a
//! simulated Sage HR account and its control calls, integrations connected to it, a connector
//! that retries fast, log output switched on by `TEST_LOG`, and assertions on JSON answers.
//!
//! A dev-dependency only (`publish = false`): nothing here is fit for production.

pub mod assert;
mod log;
pub mod sagehr;
pub mod sim;

pub use atsbridge_store::testing::{keys, sqlite, PgDatabase, TempDir};
pub use log::init_test_log;
pub use sim::Sim;

/// An HTTP client for loopback: no proxy from the environment gets in the way.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("an HTTP client")
}

/// The URL of a SQLite store in `dir`.
pub fn sqlite_url(dir: &TempDir) -> String {
    format!("sqlite://{}/store.db", dir.path().display())
}

/// The backends a test runs on: SQLite (`None`), then a fresh PostgreSQL database when
/// `ATSBRIDGE_TEST_PG_URL` is set, dropped when its guard goes after a passing run.
pub async fn backends() -> Vec<Option<PgDatabase>> {
    let mut out = vec![None];
    if let Some(db) = PgDatabase::create().await {
        out.push(Some(db));
    }
    out
}
