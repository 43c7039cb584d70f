//! Persistence: integrations (credentials encrypted at rest), hashed API keys, records of the
//! unified models with change tracking, sync runs with leases, and the event outbox.
//!
//! Two backends, each through its own driver: SQLite (a file in the data directory, WAL; the
//! embedded default) through rusqlite with one writer thread (`sqlite`), and PostgreSQL (a
//! `postgres://` URL, for several nodes) through sqlx's native driver (`pg`). The modules
//! named after what they store hold the types and the backend-neutral logic and dispatch to
//! the engine module of the same name, which holds its SQL. Each backend has its own
//! migrations; times are Unix milliseconds on both.
//!
//! Owns: the schema, migrations, keyset pagination and opaque cursors, storage errors.
//! Must not import: the connector, the sync engine or the server; it depends on
//! `atsbridge-model` only.
#![forbid(unsafe_code)]

pub mod connect;
pub mod crypto;
pub mod dashboard;
pub mod diagnostics;
pub mod events;
pub mod filter;
pub mod gauges;
pub mod idempotency;
pub mod integrations;
pub mod keys;
pub mod operators;
mod pg;
pub mod records;
pub mod retention;
pub mod runs;
pub mod schema;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{Connection as _, PgPool, SqliteConnection};

pub use connect::{Completion, ConnectLink, LinkPurpose, NewConnectLink};
pub use crypto::KeyRing;
pub use dashboard::{AttemptRecord, LogLevel, LogLine};
pub use diagnostics::{PageOrder, PagePlan};
pub use events::NewEvent;
pub use filter::{Cursor, Filter, OrderColumn};
pub use gauges::Gauges;
pub use idempotency::IdempotencyClaim;
pub use integrations::{Credentials, IntegrationRow, IntegrationSettings, NewIntegration};
pub use operators::OperatorSession;
pub use records::{
    ApplicationsPage, BatchCounts, CandidateSummary, LiveRecord, Position, RawRecord, RecordInput,
    StoredRecord,
};
pub use retention::Purge;
pub use runs::{Fence, RunCounts, RunRow, RunState};
pub use schema::{schema_status, SchemaStatus};
pub use webhooks::{Attempt, ClaimedDelivery, Delivery, DeliveryState, Webhook};

/// What a `StoreError::NotFound` did not find: the API answers each differently (a missing
/// integration is the caller's `PLATFORM.INTEGRATION_NOT_FOUND`; a missing sync run is ours).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Integration,
    SyncRun,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Missing::Integration => "integration",
            Missing::SyncRun => "sync run",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} {id} not found")]
    NotFound { what: Missing, id: String },
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
        source: DbError,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A run's write was refused because its worker no longer holds the integration's lease
    /// (it lapsed and another worker may have taken over).
    #[error("the lease of integration {0} is no longer held by this run")]
    LeaseLost(String),
}

/// What a database driver reported.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Postgres(#[from] sqlx::Error),
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// `NotFound` for the integration `id`.
    pub fn integration_not_found(id: impl Into<String>) -> Self {
        StoreError::NotFound {
            what: Missing::Integration,
            id: id.into(),
        }
    }
}

/// Wraps a sqlx error with the operation that failed.
pub(crate) fn db(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database {
        operation,
        source: DbError::Postgres(source),
    }
}

/// Each engine through its own driver.
#[derive(Debug, Clone)]
pub(crate) enum Db {
    Sqlite(sqlite::Sqlite),
    Postgres(PgPool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The store. Cheap to clone; all clones share the engine's connections.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    key_cache: Arc<keys::KeyCache>,
    /// PostgreSQL: how much `records` grew since its statistics were refreshed.
    pg_growth: Arc<pg::records::Growth>,
    keys: KeyRing,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    /// `sqlite://path/to/file.db` or `postgres://user:pass@host/db`.
    pub async fn open(url: &str, keys: KeyRing) -> Result<Self> {
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
        // A database is never read with a schema this version does not know: one written by
        // a newer atsbridge (a migration this build lacks) or changed by hand is refused
        // with what to do, before anything else touches it.
        let migrated = |e: sqlx::migrate::MigrateError| {
            match e {
            sqlx::migrate::MigrateError::VersionMissing(version) => StoreError::Config(format!(
                "the database has schema version {version}, which this atsbridge does not know: it was written by a newer version; run that version (or a newer one) against it, or restore a backup made before the upgrade"
            )),
            sqlx::migrate::MigrateError::VersionMismatch(version) => StoreError::Config(format!(
                "the database's schema migration {version} differs from this atsbridge's: the database was changed by hand or by an unreleased build; restore a backup or use the build that wrote it"
            )),
            e => StoreError::Database {
                operation: "applying migrations",
                source: DbError::Postgres(e.into()),
            },
        }
        };
        let db = match backend {
            Backend::Sqlite => {
                let path = sqlite_file(url).ok_or_else(|| {
                    StoreError::Config(
                        "SQLite needs a file: an in-memory database cannot be shared by the writer and the readers".into(),
                    )
                })?;
                #[cfg(unix)]
                let file = private_file::before_open(&path)?;
                // Migrations through sqlx's SQLite driver, once, before the store's own
                // connections open: its bookkeeping (`_sqlx_migrations`) is what every
                // database written so far carries.
                let options = SqliteConnectOptions::new()
                    .filename(&path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(60));
                let mut conn = SqliteConnection::connect_with(&options)
                    .await
                    .map_err(db("opening the database"))?;
                sqlx::migrate!("./migrations/sqlite")
                    .run(&mut conn)
                    .await
                    .map_err(migrated)?;
                conn.close().await.map_err(db("opening the database"))?;
                let sqlite = sqlite::Sqlite::open(&path)?;
                #[cfg(unix)]
                file.after_open();
                Db::Sqlite(sqlite)
            }
            Backend::Postgres => {
                let pool = pg::open(url).await?;
                sqlx::migrate!("./migrations/postgres")
                    .run(&pool)
                    .await
                    .map_err(migrated)?;
                Db::Postgres(pool)
            }
        };
        Ok(Store {
            db,
            key_cache: Arc::default(),
            pg_growth: Arc::default(),
            keys,
        })
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(s) => s.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// The file a SQLite URL names, or `None` for an in-memory database.
pub(crate) fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let memory =
        path.is_empty() || path == ":memory:" || query.split('&').any(|p| p == "mode=memory");
    (!memory).then(|| std::path::PathBuf::from(path))
}

/// The SQLite files hold candidates' personal data: only their owner may read them. New
/// ones are made so (mode 0600); existing ones more open are reported, not changed, since an
/// operator may have opened them on purpose.
#[cfg(unix)]
mod private_file {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    use std::path::{Path, PathBuf};

    use crate::{Result, StoreError};

    /// What SQLite keeps beside the database file.
    const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

    /// The database file of a SQLite URL and which of its files existed before the open.
    #[derive(Debug)]
    pub(crate) struct SqliteFile {
        path: PathBuf,
        existed: Vec<bool>,
    }

    /// Creates the database file with mode 0600 if it does not exist yet (SQLite then gives
    /// its -wal and -shm files the same mode), and warns about existing files others can
    /// read or write.
    pub(crate) fn before_open(path: &Path) -> Result<SqliteFile> {
        let path = path.to_owned();
        let files = files(&path);
        let existed: Vec<bool> = files.iter().map(|f| f.exists()).collect();
        if !existed[0] {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| {
                    StoreError::Config(format!(
                        "creating the database file {}: {e}",
                        path.display()
                    ))
                })?;
        }
        for (file, _) in files.iter().zip(&existed).filter(|(_, existed)| **existed) {
            warn_if_open(file);
        }
        Ok(SqliteFile { path, existed })
    }

    impl SqliteFile {
        /// Files this open created are made private whatever the umask; files that were
        /// there already were reported by `before_open`.
        pub(crate) fn after_open(&self) {
            for (file, existed) in files(&self.path).iter().zip(&self.existed) {
                if *existed {
                    continue;
                }
                if let Err(e) =
                    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        tracing::warn!(path = %file.display(), error = %e, "could not make a database file private");
                    }
                }
            }
        }
    }

    fn files(path: &Path) -> Vec<PathBuf> {
        let mut files = vec![path.to_owned()];
        for suffix in COMPANIONS {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            files.push(PathBuf::from(name));
        }
        files
    }

    /// Whether `mode` lets anyone but the owner read or write.
    pub(crate) fn too_open(mode: u32) -> bool {
        mode & 0o077 != 0
    }

    fn warn_if_open(file: &Path) {
        let Ok(meta) = std::fs::metadata(file) else {
            return;
        };
        let mode = meta.permissions().mode() & 0o777;
        if too_open(mode) {
            tracing::warn!(
                path = %file.display(),
                mode = format!("{mode:o}"),
                "the database file can be read or written by other users of this machine, and it holds candidates' personal data; `chmod 600` it"
            );
        }
    }
}

/// Creates the empty PostgreSQL database `name` (letters, digits and `_`) on the server of
/// `server_url` (a `postgres://` URL whose role may create databases) and returns its URL.
/// For benchmarks and tools that need a fresh database per run.
pub async fn create_postgres_database(server_url: &str, name: &str) -> Result<String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Config(format!("database name `{name}`")));
    }
    let admin = PgPool::connect(server_url)
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
    let admin = PgPool::connect(server_url)
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
    #[cfg(unix)]
    #[tokio::test]
    async fn new_sqlite_files_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!(
            "atsbridge-permissions-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("store.db");
        let store = super::Store::open(
            &format!("sqlite://{}", path.display()),
            crate::KeyRing::new("test", [42; 32]),
        )
        .await
        .unwrap();
        // A write, so that the WAL and its index exist while the store is open.
        store
            .create_api_key("env", "permissions", atsbridge_model::Timestamp::now())
            .await
            .unwrap();
        let modes: Vec<(String, u32)> = ["", "-wal", "-shm"]
            .iter()
            .map(|suffix| {
                let file = dir.join(format!("store.db{suffix}"));
                let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
                (suffix.to_string(), mode)
            })
            .collect();
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
        for (suffix, mode) in modes {
            assert_eq!(mode, 0o600, "store.db{suffix}: {mode:o}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn sqlite_urls_name_their_file() {
        use super::private_file::too_open;
        use super::sqlite_file as sqlite_path;
        use std::path::PathBuf;
        assert_eq!(
            sqlite_path("sqlite://data/a.db?mode=rwc"),
            Some(PathBuf::from("data/a.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///abs/a.db"),
            Some(PathBuf::from("/abs/a.db"))
        );
        assert_eq!(sqlite_path("sqlite:a.db"), Some(PathBuf::from("a.db")));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("sqlite://x.db?mode=memory&cache=shared"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
        assert!(too_open(0o644) && too_open(0o604) && too_open(0o620));
        assert!(!too_open(0o600) && !too_open(0o400));
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            super::redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact("sqlite://data/a.db"), "sqlite://data/a.db");
    }
}
