//! Opening a database written by another version: migrated in place, or refused with what to
//! do; never read with a schema this build does not know.

use atsbridge_store::{Backend, Store, StoreError};

use crate::harness::{each_database, keys};

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused_with_what_to_do() {
    each_database(|url| async move {
        let store = Store::open(&url, keys()).await.unwrap();
        // What a newer atsbridge leaves behind: a migration this build does not have.
        let checksum = match store.backend() {
            Backend::Sqlite => "X'00'",
            Backend::Postgres => "decode('00', 'hex')",
        };
        store
            .test_execute(
                &format!("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'from the future', TRUE, {checksum}, 0)"),
                &[],
            )
            .await
            .unwrap();
        store.close().await;
        let reopened = Store::open(&url, keys()).await;
        match reopened {
            Err(StoreError::Config(message)) => {
                assert!(message.contains("9999") && message.contains("newer"), "{message}");
            }
            other => panic!("opened a database from a newer version: {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn reopening_a_current_database_keeps_its_data() {
    each_database(|url| async move {
        let store = Store::open(&url, keys()).await.unwrap();
        let (key, secret) = store
            .create_api_key("env", "kept", atsbridge_model::Timestamp::now())
            .await
            .unwrap();
        store.close().await;
        let reopened = Store::open(&url, keys()).await.unwrap();
        assert_eq!(
            reopened.api_key_by_secret(&secret).await.unwrap(),
            Some(key)
        );
        reopened.close().await;
    })
    .await;
}
