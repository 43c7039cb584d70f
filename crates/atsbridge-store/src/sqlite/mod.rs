//! SQLite through rusqlite: one writer connection owned by one thread, a few reader
//! connections beside it (WAL lets them read while it writes).
//!
//! Every write of the process is a job sent to the writer thread, which runs it in a
//! `BEGIN IMMEDIATE` transaction: writers queue in order instead of meeting SQLite's
//! `database is locked`, and no write ever upgrades a read lock (the case SQLite cannot wait
//! for). Other processes on the same file still meet `busy_timeout`.
//!
//! Statements are prepared through each connection's cache (`prepare_cached`), so a
//! statement run per batch or per page is parsed once per connection.

pub(crate) mod connect;
pub(crate) mod dashboard;
pub(crate) mod diagnostics;
pub(crate) mod events;
pub(crate) mod gauges;
pub(crate) mod idempotency;
pub(crate) mod integrations;
pub(crate) mod keys;
pub(crate) mod operators;
pub(crate) mod records;
pub(crate) mod retention;
pub(crate) mod runs;
pub(crate) mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tokio::sync::{oneshot, Semaphore};

use crate::{DbError, Result, StoreError};

/// Reader connections: pages are served by at most this many at once (more would only
/// queue for the 2 cores a node is sized for, and each holds its own page cache).
const READERS: usize = 4;

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Wraps a rusqlite error with the operation that failed.
pub(crate) fn sq(operation: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Database {
        operation,
        source: DbError::Sqlite(source),
    }
}

/// The SQLite backend. Cheap to clone; clones share the writer and the readers.
#[derive(Debug, Clone)]
pub(crate) struct Sqlite {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    /// `None` once closed: writes after `close` fail instead of queueing forever.
    writer: Mutex<Option<std::sync::mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    readers: Mutex<Vec<Connection>>,
    reader_slots: Semaphore,
}

fn connect(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, flags)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_timeout(std::time::Duration::from_secs(60))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -16384;",
    )?;
    Ok(conn)
}

impl Sqlite {
    /// Opens the database file (which must exist: `Store::open` creates it private) and
    /// starts the writer thread.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut conn = connect(path, flags).map_err(sq("opening the database"))?;
        // The writer checkpoints (it commits). Index pages change in every batch of a sync;
        // checkpointing every 32 MiB of WAL instead of SQLite's 4 MiB copies each of them
        // into the database file once per checkpoint, not once per few batches.
        conn.execute_batch("PRAGMA wal_autocheckpoint = 8192;")
            .map_err(sq("opening the database"))?;
        let (send, receive) = std::sync::mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("atsbridge-sqlite-writer".into())
            .spawn(move || {
                // Ends when the last sender is gone (`close`, or every store dropped), after
                // the jobs already queued.
                while let Ok(job) = receive.recv() {
                    job(&mut conn);
                }
            })
            .map_err(|e| StoreError::Config(format!("starting the SQLite writer: {e}")))?;
        Ok(Sqlite {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(Some(send)),
                thread: Mutex::new(Some(thread)),
                readers: Mutex::new(Vec::new()),
                reader_slots: Semaphore::new(READERS),
            }),
        })
    }

    /// Runs `f` on the writer thread in a `BEGIN IMMEDIATE` transaction, committed when `f`
    /// returns `Ok` and rolled back otherwise (also when it panics: the panic is reported as
    /// an error and the writer goes on with the next job).
    pub(crate) async fn write<T, F>(&self, operation: &'static str, f: F) -> Result<T>
    where
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn: &mut Connection| {
            let run = std::panic::AssertUnwindSafe(|| -> Result<T> {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(sq(operation))?;
                let value = f(&tx)?;
                tx.commit().map_err(sq(operation))?;
                Ok(value)
            });
            let result = std::panic::catch_unwind(run).unwrap_or_else(|_| {
                Err(StoreError::Database {
                    operation,
                    source: DbError::Other("the write panicked; it was rolled back".into()),
                })
            });
            let _ = answer.send(result);
        });
        let sent = match &*self.inner.writer.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(writer) => writer.send(job).is_ok(),
            None => false,
        };
        if !sent {
            return Err(closed(operation));
        }
        answered.await.map_err(|_| closed(operation))?
    }

    /// Runs `f` on a reader connection, in a read transaction (one snapshot for all its
    /// statements), on a blocking thread.
    pub(crate) async fn read<T, F>(&self, operation: &'static str, f: F) -> Result<T>
    where
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let _slot = self
            .inner
            .reader_slots
            .acquire()
            .await
            .map_err(|_| closed(operation))?;
        let pooled = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop();
        let path = self.inner.path.clone();
        let (result, conn) = tokio::task::spawn_blocking(move || {
            let mut conn = match pooled {
                Some(conn) => conn,
                None => match connect(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE
                        | OpenFlags::SQLITE_OPEN_NO_MUTEX
                        | OpenFlags::SQLITE_OPEN_URI,
                ) {
                    Ok(conn) => conn,
                    Err(e) => return (Err(sq("opening a reader")(e)), None),
                },
            };
            let result = (|| {
                let tx = conn.transaction().map_err(sq(operation))?;
                let value = f(&tx)?;
                // Nothing was written; ending the snapshot either way is the same.
                tx.finish().map_err(sq(operation))?;
                Ok(value)
            })();
            (result, Some(conn))
        })
        .await
        .map_err(|e| StoreError::Database {
            operation,
            source: DbError::Other(format!("the read failed: {e}")),
        })?;
        if let Some(conn) = conn {
            self.inner
                .readers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
        }
        result
    }

    /// Stops taking writes, lets the queued ones finish and closes the connections.
    pub(crate) async fn close(&self) {
        self.inner.reader_slots.close();
        self.inner
            .readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        drop(
            self.inner
                .writer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        let thread = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn closed(operation: &'static str) -> StoreError {
    StoreError::Database {
        operation,
        source: DbError::Other("the store is closed".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db() -> (PathBuf, Sqlite) {
        let dir = std::env::temp_dir().join(format!(
            "atsbridge-sqlite-writer-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.db");
        let _ = std::fs::remove_file(&path);
        let db = Sqlite::open(&path).unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn a_panicking_write_is_rolled_back_and_the_writer_goes_on() {
        let (dir, db) = temp_db();
        db.write("creating", |tx| {
            tx.execute_batch("CREATE TABLE t (v INTEGER)")
                .map_err(sq("creating"))
        })
        .await
        .unwrap();
        let panicked = db
            .write("panicking", |tx| -> Result<()> {
                tx.execute("INSERT INTO t VALUES (1)", [])
                    .map_err(sq("inserting"))?;
                panic!("a bug in a write");
            })
            .await;
        assert!(
            matches!(panicked, Err(StoreError::Database { .. })),
            "{panicked:?}"
        );
        db.write("inserting", |tx| {
            tx.execute("INSERT INTO t VALUES (2)", [])
                .map_err(sq("inserting"))
        })
        .await
        .unwrap();
        let values: Vec<i64> = db
            .read("reading", |tx| {
                let mut s = tx
                    .prepare("SELECT v FROM t ORDER BY v")
                    .map_err(sq("reading"))?;
                let rows = s
                    .query_map([], |r| r.get(0))
                    .and_then(Iterator::collect)
                    .map_err(sq("reading"));
                rows
            })
            .await
            .unwrap();
        assert_eq!(values, [2], "the panicking write left nothing behind");
        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn concurrent_writes_all_land_and_writes_after_close_fail_clearly() {
        let (dir, db) = temp_db();
        db.write("creating", |tx| {
            tx.execute_batch("CREATE TABLE t (v INTEGER)")
                .map_err(sq("creating"))
        })
        .await
        .unwrap();
        // Many writers at once: each waits for its turn on the writer thread; none fails.
        let writes: Vec<_> = (0..200)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.write("inserting", move |tx| {
                        tx.execute("INSERT INTO t VALUES (?1)", [i])
                            .map_err(sq("inserting"))
                    })
                    .await
                })
            })
            .collect();
        for write in writes {
            write.await.unwrap().unwrap();
        }
        let n: i64 = db
            .read("counting", |tx| {
                tx.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
                    .map_err(sq("counting"))
            })
            .await
            .unwrap();
        assert_eq!(n, 200);
        db.close().await;
        let after = db
            .write("inserting", |tx| {
                tx.execute("INSERT INTO t VALUES (0)", [])
                    .map_err(sq("inserting"))
            })
            .await;
        match after {
            Err(StoreError::Database { source, .. }) => {
                assert!(source.to_string().contains("closed"), "{source}");
            }
            other => panic!("a write after close: {other:?}"),
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
