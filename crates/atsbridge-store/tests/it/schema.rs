//! The schema status `atsbridge doctor` reports: current after an open, pending before, a
//! database written by a newer build (a migration this one does not know) named as such, and
//! a migration changed or left half-applied.

use atsbridge_store::{schema_status, Store};

use crate::harness::{each_database, keys, sqlite_url, TempDir};

#[tokio::test]
async fn a_missing_sqlite_file_has_everything_pending() {
    let dir = TempDir::new();
    let status = schema_status(&sqlite_url(&dir)).await.unwrap();
    assert!(status.missing && !status.current());
    assert!(
        status.pending.contains(&1) && status.pending.contains(&14),
        "{status:?}"
    );
    assert!(
        !dir.path().join("store.db").exists(),
        "reading creates nothing"
    );
}

#[tokio::test]
async fn an_opened_database_is_current_and_a_newer_one_is_named() {
    each_database(|url| async move {
        let store = Store::open(&url, keys()).await.unwrap();
        let status = schema_status(&url).await.unwrap();
        assert!(status.current(), "{status:?}");
        store
            .test_execute(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                 SELECT 9999, 'from the future', success, checksum, execution_time FROM _sqlx_migrations WHERE version = 1",
                &[],
            )
            .await
            .unwrap();
        store
            .test_execute("DELETE FROM _sqlx_migrations WHERE version = 2", &[])
            .await
            .unwrap();
        let status = schema_status(&url).await.unwrap();
        assert_eq!(status.unknown, [9999]);
        assert_eq!(status.pending, [2]);
        assert!(status.changed.is_empty() && !status.current());
        // Another migration's contents under version 3, and version 4 left half-applied.
        for sql in [
            "UPDATE _sqlx_migrations SET checksum = \
             (SELECT checksum FROM _sqlx_migrations WHERE version = 1) WHERE version = 3",
            "UPDATE _sqlx_migrations SET success = false WHERE version = 4",
        ] {
            store.test_execute(sql, &[]).await.unwrap();
        }
        let status = schema_status(&url).await.unwrap();
        assert_eq!(status.changed, [3, 4], "{status:?}");
        assert_eq!((status.unknown, status.pending), (vec![9999], vec![2]));
        store.close().await;
    })
    .await;
}
