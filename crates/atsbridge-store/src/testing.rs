//! Fresh, isolated stores for tests of this and other crates (feature `testing`): a temporary
//! SQLite file, or a new PostgreSQL database created from `ATSBRIDGE_TEST_PG_URL`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{KeyRing, Store};

pub fn keys() -> KeyRing {
    KeyRing::new("test", [42; 32])
}

/// A directory removed when dropped.
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
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A new SQLite store in its own temporary directory (kept alive by the returned guard).
pub async fn sqlite() -> (Store, TempDir) {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/store.db", dir.path().display());
    (Store::open(&url, keys()).await.expect("open sqlite"), dir)
}

/// The URL of a new, empty PostgreSQL database, or `None` (with a loud message) when
/// `ATSBRIDGE_TEST_PG_URL` is not set. In CI a missing server is a failure, not a skip.
pub async fn postgres_url() -> Option<String> {
    let Ok(base) = std::env::var("ATSBRIDGE_TEST_PG_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must set ATSBRIDGE_TEST_PG_URL (see scripts/pg-test-cluster)"
        );
        eprintln!("\n*** SKIPPING the PostgreSQL half of this test: ATSBRIDGE_TEST_PG_URL is not set (see README) ***\n");
        return None;
    };
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "atsb_t_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base)
        .await
        .expect("connect to ATSBRIDGE_TEST_PG_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create a test database");
    admin.close().await;
    let (prefix, _) = base.rsplit_once('/').expect("a database URL");
    Some(format!("{prefix}/{name}"))
}

pub async fn postgres() -> Option<Store> {
    let url = postgres_url().await?;
    Some(Store::open(&url, keys()).await.expect("open postgres"))
}
