//! Where a database's schema stands against the migrations this build knows, read without
//! changing anything (for `atsbridge doctor`; `Store::open` applies what is pending).
//!
//! sqlx's migrator applies every known migration missing from the database, whatever its
//! number, so numbers may have gaps and a lower one added later is still applied; it
//! refuses a database holding a migration it does not know (written by a newer build).

use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::Connection as _;

use crate::{db, redact, sqlite_file, Result, StoreError};

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// A database's migrations next to this build's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaStatus {
    /// The database does not exist yet (a SQLite file not created): everything is pending.
    pub missing: bool,
    /// Known here, not applied there: `Store::open` applies them.
    pub pending: Vec<i64>,
    /// Applied there, unknown here: the database was written by a newer atsbridge.
    pub unknown: Vec<i64>,
    /// Applied there with other contents than here (changed by hand or by another build),
    /// or left half-applied.
    pub changed: Vec<i64>,
}

impl SchemaStatus {
    pub fn current(&self) -> bool {
        !self.missing
            && self.pending.is_empty()
            && self.unknown.is_empty()
            && self.changed.is_empty()
    }
}

/// Reads the schema status of the database at `url` (as `Store::open` takes it).
pub async fn schema_status(url: &str) -> Result<SchemaStatus> {
    let (migrator, applied) = if url.starts_with("postgres://") || url.starts_with("postgresql://")
    {
        let mut conn = sqlx::PgConnection::connect(url)
            .await
            .map_err(db("connecting to the database"))?;
        let has_table: bool =
            sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                .fetch_one(&mut conn)
                .await
                .map_err(db(OPERATION))?;
        let applied = applied(&mut conn, has_table).await;
        let _ = conn.close().await;
        (&POSTGRES, applied?)
    } else {
        let path = sqlite_file(url).ok_or_else(|| {
            StoreError::Config(format!("not a SQLite database file: {}", redact(url)))
        })?;
        if !path.exists() {
            return Ok(SchemaStatus {
                missing: true,
                pending: SQLITE.iter().map(|m| m.version).collect(),
                ..SchemaStatus::default()
            });
        }
        let options = SqliteConnectOptions::new().filename(&path).read_only(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .map_err(db("opening the database"))?;
        let has_table: bool = sqlx::query_scalar(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&mut conn)
        .await
        .map_err(db(OPERATION))?;
        let applied = applied(&mut conn, has_table).await;
        let _ = conn.close().await;
        (&SQLITE, applied?)
    };
    Ok(compare(migrator, &applied))
}

const OPERATION: &str = "reading the database's migrations";

/// The migrations a database has applied (version, checksum, finished), read with the
/// queries sqlx's migrator itself runs, so the answer is what `Store::open` will see. Only
/// the table's existence differs per engine, and sqlx's way of ensuring it would create it.
async fn applied<C: Migrate>(conn: &mut C, has_table: bool) -> Result<Vec<(i64, Vec<u8>, bool)>> {
    if !has_table {
        return Ok(Vec::new());
    }
    let failed = |e: MigrateError| db(OPERATION)(e.into());
    let dirty = conn.dirty_version().await.map_err(failed)?;
    let applied = conn.list_applied_migrations().await.map_err(failed)?;
    Ok(applied
        .into_iter()
        .map(|m| (m.version, m.checksum.into_owned(), Some(m.version) != dirty))
        .collect())
}

fn compare(migrator: &Migrator, applied: &[(i64, Vec<u8>, bool)]) -> SchemaStatus {
    let mut status = SchemaStatus::default();
    for known in migrator.iter() {
        match applied.iter().find(|(v, _, _)| *v == known.version) {
            None => status.pending.push(known.version),
            Some((_, checksum, success)) => {
                if !success || checksum.as_slice() != &*known.checksum {
                    status.changed.push(known.version);
                }
            }
        }
    }
    status.unknown = applied
        .iter()
        .map(|(v, _, _)| *v)
        .filter(|v| migrator.iter().all(|m| m.version != *v))
        .collect();
    status
}
