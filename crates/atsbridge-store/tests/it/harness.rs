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
    let url = format!("sqlite://{}/store.db", dir.path());
    (Store::open(&url, keys()).await.expect("open sqlite"), dir)
}

/// A new PostgreSQL database, or `None` (with a loud message) when no server is configured.
/// In CI a missing server is a failure, not a skip.
pub async fn postgres() -> Option<Store> {
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
    Some(
        Store::open(&format!("{prefix}/{name}"), keys())
            .await
            .expect("open postgres"),
    )
}

/// Runs `test` against each available backend.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let (store, _dir) = sqlite().await;
    test(store).await;
    if let Some(store) = postgres().await {
        test(store).await;
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
