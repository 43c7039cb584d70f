//! Fresh, isolated stores for tests: a temporary SQLite file, or a new PostgreSQL database
//! created from `ATSBRIDGE_TEST_PG_URL`.

use std::future::Future;

pub use atsbridge_store::testing::{keys, sqlite, PgDatabase, TempDir};
use atsbridge_store::Store;

/// The URL of a new SQLite database file in `dir`.
pub fn sqlite_url(dir: &TempDir) -> String {
    format!("sqlite://{}/store.db", dir.path().display())
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
        drop(db);
    }
}

/// Runs `test` with the URL of a fresh, empty database of each available backend, for tests
/// that open several stores on one database (other key rings, several nodes).
pub async fn each_database<F, Fut>(test: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = TempDir::new();
    test(sqlite_url(&dir)).await;
    if let Some(db) = PgDatabase::create().await {
        test(db.url.clone()).await;
        drop(db);
    }
}

/// A passing test's database is gone once its guard is dropped; a failing one's stays for
/// inspection (the guard is dropped while the test panics).
#[tokio::test]
async fn test_databases_are_dropped_after_passing_tests_and_kept_after_failing_ones() {
    let Some(admin_url) = std::env::var("ATSBRIDGE_TEST_PG_URL").ok() else {
        return;
    };
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    let exists = |name: String| {
        let admin = admin.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
                .bind(name)
                .fetch_one(&admin)
                .await
                .unwrap()
                == 1
        }
    };
    let name_of = |db: &PgDatabase| db.url.rsplit('/').next().unwrap().to_owned();

    let passing = PgDatabase::create().await.unwrap();
    let name = name_of(&passing);
    let store = Store::open(&passing.url, keys()).await.unwrap();
    assert!(exists(name.clone()).await);
    // Still connected when the guard goes: the drop closes the connections.
    drop(passing);
    assert!(!exists(name).await, "a passing test's database is dropped");
    store.close().await;

    let failing = PgDatabase::create().await.unwrap();
    let name = name_of(&failing);
    let panicked = std::thread::spawn(move || {
        let _guard = failing;
        panic!("a failing test");
    })
    .join();
    assert!(panicked.is_err());
    assert!(
        exists(name.clone()).await,
        "a failing test's database is kept"
    );
    sqlx::query(&format!("DROP DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
}
