//! Fresh, isolated stores for tests of this and other crates (feature `testing`): a temporary
//! SQLite file, or a new PostgreSQL database created from `ATSBRIDGE_TEST_PG_URL`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{KeyRing, Store};

pub fn keys() -> KeyRing {
    KeyRing::new("test", [42; 32])
}

/// A directory removed when dropped, unless the thread is panicking: a failed test keeps its
/// files for inspection, and says where they are.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        // The time as well as the pid: pids are reused across test processes.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "atsbridge-store-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "keeping the directory {} of the failed test",
                self.0.display()
            );
            return;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new SQLite store in its own temporary directory (kept alive by the returned guard).
pub async fn sqlite() -> (Store, TempDir) {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/store.db", dir.path().display());
    (Store::open(&url, keys()).await.expect("open sqlite"), dir)
}

/// A fresh PostgreSQL database for one test, made from `ATSBRIDGE_TEST_PG_URL`. Dropping the
/// guard drops the database (closing connections still open to it), unless the thread is
/// panicking: a failed test keeps its database for inspection, and says which it is.
#[derive(Debug)]
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    /// A new, empty database, or `None` (with a loud message) when `ATSBRIDGE_TEST_PG_URL`
    /// is not set. In CI a missing server is a failure, not a skip.
    pub async fn create() -> Option<Self> {
        let Ok(base) = std::env::var("ATSBRIDGE_TEST_PG_URL") else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI must set ATSBRIDGE_TEST_PG_URL (see scripts/pg-test-cluster)"
            );
            eprintln!("\n*** SKIPPING the PostgreSQL half of this test: ATSBRIDGE_TEST_PG_URL is not set (see README) ***\n");
            return None;
        };
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        // The time as well as the pid: pids are reused, and a failed test keeps its database.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "atsb_t_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let admin = sqlx::PgPool::connect(&base)
            .await
            .expect("connect to ATSBRIDGE_TEST_PG_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create a test database");
        admin.close().await;
        let (prefix, _) = base.rsplit_once('/').expect("a database URL");
        Some(PgDatabase {
            url: format!("{prefix}/{name}"),
            admin_url: base,
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("keeping the database {} of the failed test", self.name);
            return;
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop cannot await, and the test's runtime may be a current-thread one that is busy
        // running this very drop: the database is dropped from a thread with its own runtime.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop a test database");
            runtime.block_on(async {
                let admin = sqlx::PgPool::connect(&admin_url).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&admin)
                    .await?;
                admin.close().await;
                Ok::<_, sqlx::Error>(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop the test database {}: {e}", self.name),
            Err(_) => eprintln!("dropping the test database {} panicked", self.name),
        }
    }
}

/// Statements of tests that look at or tamper with stored rows directly (to prove what is
/// stored, or that damage is detected). `$1, $2, …` placeholders, bound in order; text
/// values only.
impl Store {
    pub async fn test_execute(&self, sql: &str, binds: &[&str]) -> crate::Result<u64> {
        let binds: Vec<String> = binds.iter().map(|b| (*b).to_owned()).collect();
        match &self.db {
            crate::Db::Sqlite(s) => {
                let sql = sql.to_owned();
                s.write("a test's statement", move |tx| {
                    tx.execute(&sql, rusqlite::params_from_iter(binds.iter()))
                        .map(|n| n as u64)
                        .map_err(crate::sqlite::sq("a test's statement"))
                })
                .await
            }
            crate::Db::Postgres(p) => {
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = q.bind(b);
                }
                Ok(q.execute(p)
                    .await
                    .map_err(crate::db("a test's statement"))?
                    .rows_affected())
            }
        }
    }

    /// The first column of the first row, as text (`None` for no row or NULL).
    pub async fn test_text(&self, sql: &str, binds: &[&str]) -> crate::Result<Option<String>> {
        let binds: Vec<String> = binds.iter().map(|b| (*b).to_owned()).collect();
        match &self.db {
            crate::Db::Sqlite(s) => {
                let sql = sql.to_owned();
                s.read("a test's query", move |tx| {
                    use rusqlite::OptionalExtension as _;
                    tx.query_row(&sql, rusqlite::params_from_iter(binds.iter()), |r| {
                        let v: rusqlite::types::Value = r.get(0)?;
                        Ok(match v {
                            rusqlite::types::Value::Null => None,
                            rusqlite::types::Value::Integer(i) => Some(i.to_string()),
                            rusqlite::types::Value::Real(f) => Some(f.to_string()),
                            rusqlite::types::Value::Text(t) => Some(t),
                            rusqlite::types::Value::Blob(b) => {
                                Some(String::from_utf8_lossy(&b).into_owned())
                            }
                        })
                    })
                    .optional()
                    .map(Option::flatten)
                    .map_err(crate::sqlite::sq("a test's query"))
                })
                .await
            }
            crate::Db::Postgres(p) => {
                use sqlx::Row as _;
                // As a scalar subquery, whatever the column's type reads as text.
                let sql = format!("SELECT ({sql})::text");
                let mut q = sqlx::query(&sql);
                for b in binds {
                    q = q.bind(b);
                }
                let row = q
                    .fetch_optional(p)
                    .await
                    .map_err(crate::db("a test's query"))?;
                row.map(|r| r.try_get::<Option<String>, _>(0))
                    .transpose()
                    .map(Option::flatten)
                    .map_err(crate::db("a test's query"))
            }
        }
    }

    /// `test_text` read as an integer.
    pub async fn test_i64(&self, sql: &str, binds: &[&str]) -> crate::Result<Option<i64>> {
        Ok(self
            .test_text(sql, binds)
            .await?
            .map(|t| t.parse().expect("an integer")))
    }
}

/// Rows of one table (`Store::test_tables`): how many there are, and how many mention a
/// given text in any column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableRows {
    pub total: i64,
    pub mentioning: i64,
}

impl Store {
    /// Every table of the schema as the database's catalog lists it (not a list written
    /// here, so a table added later is included), with its row count and how many of its
    /// rows hold `needle` in any column (as text). The migrations' own bookkeeping is left
    /// out.
    pub async fn test_tables(
        &self,
        needle: &str,
    ) -> crate::Result<std::collections::BTreeMap<String, TableRows>> {
        let needle = needle.to_owned();
        match &self.db {
            crate::Db::Sqlite(s) => {
                s.read("a test's look at every table", move |tx| {
                    let op = crate::sqlite::sq("a test's look at every table");
                    let tables: Vec<String> = tx
                        .prepare(
                            "SELECT name FROM sqlite_master WHERE type = 'table' \
                             AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
                        )
                        .and_then(|mut s| {
                            s.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()
                        })
                        .map_err(op)?;
                    let mut out = std::collections::BTreeMap::new();
                    for table in tables {
                        let op = crate::sqlite::sq("a test's look at every table");
                        let columns: Vec<String> = tx
                            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                            .and_then(|mut s| {
                                s.query_map([], |r| r.get(0))?
                                    .collect::<rusqlite::Result<_>>()
                            })
                            .map_err(op)?;
                        let text = columns
                            .iter()
                            .map(|c| format!("COALESCE(CAST(\"{c}\" AS TEXT), '')"))
                            .collect::<Vec<_>>()
                            .join(" || '|' || ");
                        let (total, mentioning) = tx
                            .query_row(
                                &format!(
                                    "SELECT COUNT(*), COALESCE(SUM(instr({text}, ?1) > 0), 0) FROM \"{table}\""
                                ),
                                [&needle],
                                |r| Ok((r.get(0)?, r.get(1)?)),
                            )
                            .map_err(crate::sqlite::sq("a test's look at every table"))?;
                        out.insert(table, TableRows { total, mentioning });
                    }
                    Ok(out)
                })
                .await
            }
            crate::Db::Postgres(p) => {
                let op = "a test's look at every table";
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
                     AND tablename <> '_sqlx_migrations' ORDER BY tablename",
                )
                .fetch_all(p)
                .await
                .map_err(crate::db(op))?;
                let mut out = std::collections::BTreeMap::new();
                for table in tables {
                    let (total, mentioning): (i64, i64) = sqlx::query_as(&format!(
                        "SELECT COUNT(*), COUNT(*) FILTER (WHERE strpos(t::text, $1) > 0) FROM \"{table}\" t"
                    ))
                    .bind(&needle)
                    .fetch_one(p)
                    .await
                    .map_err(crate::db(op))?;
                    out.insert(table, TableRows { total, mentioning });
                }
                Ok(out)
            }
        }
    }
}
