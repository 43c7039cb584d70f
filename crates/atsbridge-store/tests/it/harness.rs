//! Fresh, isolated stores for tests: a temporary SQLite file, or a new PostgreSQL database
//! created from `ATSBRIDGE_TEST_PG_URL`.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use atsbridge_store::{KeyRing, Store};

pub fn keys() -> KeyRing {
    KeyRing::new("test", [42; 32])
}

/// A new SQLite store in its own temporary directory (kept alive by the returned guard).
pub async fn sqlite() -> (Store, tempdir::Guard) {
    let dir = tempdir::Guard::new();
    let url = sqlite_url(&dir);
    (Store::open(&url, keys()).await.expect("open sqlite"), dir)
}

/// The URL of a new SQLite database file in `dir`.
pub fn sqlite_url(dir: &tempdir::Guard) -> String {
    format!("sqlite://{}/store.db", dir.path())
}

/// A fresh PostgreSQL database created for one test, dropped again by [`PgDatabase::drop`].
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    /// A new database, or `None` (with a loud message) when no server is configured.
    /// In CI a missing server is a failure, not a skip.
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

    /// Drops the database (closing whatever connections are still open to it). Only reached
    /// when the test passed: a failed test leaves its database behind for inspection.
    pub async fn drop(self) {
        let admin = sqlx::PgPool::connect(&self.admin_url)
            .await
            .expect("connect to ATSBRIDGE_TEST_PG_URL");
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&admin)
        .await
        .expect("drop a test database");
        admin.close().await;
    }
}

/// Runs `test` against each available backend.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let (store, _dir) = sqlite().await;
    test(store).await;
    if let Some(db) = PgDatabase::create().await {
        let store = Store::open(&db.url, keys()).await.expect("open postgres");
        test(store.clone()).await;
        store.close().await;
        db.drop().await;
    }
}

/// Runs `test` with the URL of a fresh, empty database of each available backend, for tests
/// that open several stores on one database (other key rings, several nodes).
pub async fn each_database<F, Fut>(test: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempdir::Guard::new();
    test(sqlite_url(&dir)).await;
    if let Some(db) = PgDatabase::create().await {
        test(db.url.clone()).await;
        db.drop().await;
    }
}

pub mod tempdir {
    use std::path::PathBuf;

    /// A directory removed when dropped.
    pub struct Guard(PathBuf);

    impl Guard {
        pub fn new() -> Self {
            static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("atsbridge-test-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("create a temporary directory");
            Guard(dir)
        }

        pub fn path(&self) -> String {
            self.0.display().to_string()
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
