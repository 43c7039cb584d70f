//! Opening a database written by another version: migrated in place, or refused with what to
//! do; never read with a schema this build does not know.

use atsbridge_model::ModelKind;
use atsbridge_store::{Backend, Filter, Store, StoreError};

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

/// A record as the fixture's database held it before the upgrade.
#[derive(serde::Deserialize)]
struct Before {
    model: String,
    id: String,
    seq: i64,
    hash: String,
    changed_at: i64,
    integration_id: String,
}

/// Opens a database written with the schema before integer keys (made by the build before
/// them, from a synced simulator account) and checks that every record came across: same
/// id, seq (cursors keep their meaning), hash (nothing looks changed to the next sync) and
/// `changed_at`, readable through the store's pages in the same order.
async fn check_upgraded(url: &str, before: &[Before]) {
    let store = Store::open(url, keys())
        .await
        .expect("the old database opens");
    let integration = &before[0].integration_id;
    for b in before {
        let model = ModelKind::ALL
            .into_iter()
            .find(|m| m.as_str() == b.model)
            .unwrap();
        let found = store
            .test_text(
                "SELECT hash || ':' || CAST(changed_at AS TEXT) FROM records WHERE id = $1 AND CAST(seq AS TEXT) = $2",
                &[&b.id, &b.seq.to_string()],
            )
            .await
            .unwrap();
        assert_eq!(
            found,
            Some(format!("{}:{}", b.hash, b.changed_at)),
            "{} {}",
            b.model,
            b.id
        );
        let listed = store
            .by_ids(integration, model, std::slice::from_ref(&b.id))
            .await
            .unwrap();
        assert_eq!(listed.len(), 1, "{} {} is readable", b.model, b.id);
        assert_eq!(listed[0].seq, b.seq);
    }
    let total: usize = store
        .counts(integration)
        .await
        .unwrap()
        .values()
        .sum::<i64>() as usize;
    assert_eq!(total, before.len());
    let (jobs, _) = store
        .list(integration, ModelKind::Job, &Filter::default(), None, 250)
        .await
        .unwrap();
    let expected: Vec<i64> = before
        .iter()
        .filter(|b| b.model == "ats_jobs")
        .map(|b| b.seq)
        .collect();
    assert_eq!(jobs.iter().map(|j| j.seq).collect::<Vec<_>>(), expected);
    store.close().await;
}

#[tokio::test]
async fn a_sqlite_file_from_before_integer_keys_is_migrated_in_place() {
    let dir = crate::harness::TempDir::new();
    let path = format!("{}/store.db", dir.path().display());
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema7.sqlite"),
        &path,
    )
    .unwrap();
    let before: Vec<Before> =
        serde_json::from_str(include_str!("../fixtures/schema7.sqlite.records.json")).unwrap();
    check_upgraded(&format!("sqlite://{path}"), &before).await;
}

#[tokio::test]
async fn a_postgres_database_from_before_integer_keys_is_migrated_in_place() {
    let Some(db) = crate::harness::PgDatabase::create().await else {
        return;
    };
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::raw_sql(include_str!("../fixtures/schema10.postgres.sql"))
        .execute(&pool)
        .await
        .expect("restore the old database");
    pool.close().await;
    let before: Vec<Before> =
        serde_json::from_str(include_str!("../fixtures/schema10.postgres.records.json")).unwrap();
    check_upgraded(&db.url, &before).await;
    drop(db);
}
