//! Persistence: integrations (credentials encrypted at rest), hashed API keys, records of the
//! unified models with change tracking, sync runs with leases, and the event outbox.
//!
//! One implementation serves two backends through sqlx's `Any` driver: SQLite (a file in the
//! data directory, WAL; the embedded default) and PostgreSQL (a `postgres://` URL, for several
//! nodes). Each backend has its own migrations; queries are written once in the SQL both
//! understand (`$n` placeholders numbered in order of appearance, `ON CONFLICT`, Unix
//! milliseconds for time).
//!
//! Owns: the schema, migrations, keyset pagination and opaque cursors, storage errors.
//! Must not import: the connector, the sync engine or the server; it depends on
//! `atsbridge-model` only.
#![forbid(unsafe_code)]

pub mod connect;
pub mod crypto;
pub mod events;
pub mod filter;
pub mod idempotency;
pub mod integrations;
pub mod keys;
pub mod records;
pub mod runs;
#[cfg(feature = "testing")]
pub mod testing;
pub mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use connect::{Completion, ConnectLink, LinkPurpose, NewConnectLink};
pub use crypto::KeyRing;
pub use events::NewEvent;
pub use filter::{Cursor, Filter};
pub use idempotency::IdempotencyClaim;
pub use integrations::{Credentials, IntegrationRow, IntegrationSettings, NewIntegration};
pub use records::{BatchCounts, LiveRecord, Position, RawRecord, RecordInput, StoredRecord};
pub use runs::{Fence, RunCounts, RunRow, RunState};
pub use webhooks::{Attempt, ClaimedDelivery, Delivery, DeliveryState, Webhook};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("credentials: {0}")]
    Crypto(String),
    #[error("database error during {operation}")]
    Database {
        operation: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A run's write was refused because its worker no longer holds the integration's lease
    /// (it lapsed and another worker may have taken over).
    #[error("the lease of integration {0} is no longer held by this run")]
    LeaseLost(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Wraps a sqlx error with the operation that failed.
pub(crate) fn db(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { operation, source }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The store. Cheap to clone; all clones share one pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    keys: KeyRing,
    /// SQLite's one write lock, taken in this process first: writers queue here in order
    /// instead of polling SQLite's busy handler (and never hold a pooled connection while
    /// they wait). Other processes on the same file still meet `busy_timeout`.
    write_turn: Arc<Mutex<()>>,
}

/// A write transaction and, on SQLite, the turn that lets it write. Dropped together.
pub(crate) type WriteTx = (Transaction<'static, Any>, Option<OwnedMutexGuard<()>>);

impl Store {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    /// `sqlite://path/to/file.db` or `postgres://user:pass@host/db`.
    pub async fn open(url: &str, keys: KeyRing) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Config(format!(
                "unsupported database URL (want sqlite:// or postgres://): {}",
                redact(url)
            )));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains('?') && !url.contains(":memory:") => {
                format!("{url}?mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).map_err(db("parsing the database URL"))?;
        let mut pool_options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        pool_options = match backend {
            // One writer at a time in SQLite anyway; a few readers beside it.
            Backend::Sqlite => pool_options.max_connections(4).after_connect(|conn, _| {
                Box::pin(async move {
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA synchronous = NORMAL",
                        "PRAGMA busy_timeout = 60000",
                        "PRAGMA foreign_keys = ON",
                        "PRAGMA cache_size = -16384",
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            }),
            Backend::Postgres => pool_options.max_connections(10),
        };
        let pool = pool_options
            .connect_with(options)
            .await
            .map_err(db("connecting to the database"))?;
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        migrator
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database {
                operation: "applying migrations",
                source: e.into(),
            })?;
        Ok(Store {
            pool,
            backend,
            keys,
            write_turn: Arc::new(Mutex::new(())),
        })
    }

    /// Waits for this process's turn to write (SQLite only; PostgreSQL locks rows).
    pub(crate) async fn write_turn(&self) -> Option<OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_turn.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at its start
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes cannot wait
    /// for the lock and fails at once with `database is locked` when another writer got in
    /// between.
    pub(crate) async fn begin_write(&self, operation: &'static str) -> Result<WriteTx> {
        let turn = self.write_turn().await;
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
        .map_err(db(operation))?;
        Ok((tx, turn))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates the empty PostgreSQL database `name` (letters, digits and `_`) on the server of
/// `server_url` (a `postgres://` URL whose role may create databases) and returns its URL.
/// For benchmarks and tools that need a fresh database per run.
pub async fn create_postgres_database(server_url: &str, name: &str) -> Result<String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Config(format!("database name `{name}`")));
    }
    sqlx::any::install_default_drivers();
    let admin = AnyPool::connect(server_url)
        .await
        .map_err(db("connecting to the PostgreSQL server"))?;
    let created = sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .map_err(db("creating a database"));
    admin.close().await;
    created?;
    let (prefix, _) = server_url
        .split('?')
        .next()
        .unwrap_or(server_url)
        .rsplit_once('/')
        .ok_or_else(|| StoreError::Config(format!("not a database URL: {}", redact(server_url))))?;
    Ok(format!("{prefix}/{name}"))
}

/// Drops a database made by `create_postgres_database`, closing its open connections.
pub async fn drop_postgres_database(server_url: &str, name: &str) -> Result<()> {
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Config(format!("database name `{name}`")));
    }
    let admin = AnyPool::connect(server_url)
        .await
        .map_err(db("connecting to the PostgreSQL server"))?;
    let dropped = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .map_err(db("dropping a database"));
    admin.close().await;
    dropped.map(|_| ())
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Numbers `$n` placeholders in order of appearance, which both backends then bind by
/// position. Never reuse a placeholder: bind the value twice instead.
#[derive(Debug, Default)]
pub(crate) struct Params {
    n: usize,
    anonymous: bool,
}

impl Params {
    /// Placeholders for statements with many values: on SQLite anonymous `?`s, which sqlx
    /// binds by position, where it looks every numbered one up by name (SQLite's lookup
    /// walks the list, so binding costs the square of the number of values: a fifth of a
    /// first sync's CPU at 416 values per statement). Only for statements whose placeholders
    /// appear in the SQL in the order they were made.
    pub(crate) fn for_lists(backend: Backend) -> Self {
        Params {
            n: 0,
            anonymous: backend == Backend::Sqlite,
        }
    }

    pub(crate) fn next(&mut self) -> String {
        self.n += 1;
        if self.anonymous {
            "?".to_owned()
        } else {
            format!("${}", self.n)
        }
    }

    /// `$a, $b, $c` for a list of `n` values.
    pub(crate) fn list(&mut self, n: usize) -> String {
        (0..n).map(|_| self.next()).collect::<Vec<_>>().join(", ")
    }
}

pub(crate) fn millis(t: atsbridge_model::Timestamp) -> i64 {
    t.unix_millis()
}

pub(crate) fn timestamp(ms: i64) -> Result<atsbridge_model::Timestamp> {
    atsbridge_model::Timestamp::from_unix_millis(ms).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn opt_timestamp(ms: Option<i64>) -> Result<Option<atsbridge_model::Timestamp>> {
    ms.map(timestamp).transpose()
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            super::redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact("sqlite://data/a.db"), "sqlite://data/a.db");
    }
}
