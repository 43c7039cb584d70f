//! Integrations: lifecycle, settings, credentials sealed at rest, deletion.

use atsbridge_model::integration::{Category, IntegrationStatus, SetupStatus};
use atsbridge_model::ModelKind::Application;
use atsbridge_store::{
    Credentials, IntegrationSettings, KeyRing, RunCounts, RunRow, RunState, Store, StoreError,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;

use crate::fixtures::*;
use crate::harness::{each_backend, each_database, keys};

const C: &str = "sagehr:3xKqLmN8pRtVwYz2AbCdEfGh";

async fn raw_credentials(store: &Store, id: &str) -> String {
    store
        .test_text("SELECT credentials FROM integrations WHERE id = $1", &[id])
        .await
        .expect("read the raw credentials column")
        .expect("credentials are stored")
}

async fn rows_of(store: &Store, table: &str, integration: &str) -> i64 {
    // Records name their integration by its small key.
    let owner = if table == "records" {
        "ikey = (SELECT ikey FROM integration_keys WHERE integration_id = $1)"
    } else {
        "integration_id = $1"
    };
    store
        .test_i64(
            &format!("SELECT COUNT(*) FROM {table} WHERE {owner}"),
            &[integration],
        )
        .await
        .expect("count rows")
        .expect("a count")
}

fn credentials(api_key: &str) -> Credentials {
    let mut c = Credentials::default();
    c.0.insert("subdomain".into(), json!("acme"));
    c.0.insert("api_key".into(), json!(api_key));
    c
}

fn run(id: &str, integration: &str) -> RunRow {
    RunRow {
        id: id.into(),
        integration_id: integration.into(),
        kind: atsbridge_model::integration::SyncKind::Full,
        requested_kind: atsbridge_model::integration::SyncKind::Full,
        state: RunState::Running,
        worker: "node-1".into(),
        started_at: day(2),
        ended_at: None,
        counts: RunCounts::default(),
        upstream_requests: 0,
        error: None,
    }
}

#[tokio::test]
async fn a_new_integration_is_active_with_its_first_sync_pending_and_listed_by_environment() {
    each_backend(|store| async move {
        let a = connect(&store, A, "env-1").await;
        assert_eq!(store.integration(A).await.unwrap(), Some(a.clone()));
        assert_eq!(
            (a.id.as_str(), a.tool.as_str(), a.environment_id.as_str()),
            (A, "sagehr", "env-1")
        );
        assert_eq!(
            (a.status, a.setup_status),
            (IntegrationStatus::Active, SetupStatus::FinalSyncPending)
        );
        assert_eq!(a.end_user.organization_name, "Acme");
        assert_eq!(a.end_user.creator_email.as_deref(), Some("it@acme.test"));
        assert_eq!(a.end_user.origin_id.as_deref(), Some("acme-1"));
        assert_eq!(a.settings, IntegrationSettings::default());
        assert_eq!(
            (a.credentials_version, a.invalid_credentials_version),
            (1, None)
        );
        assert_eq!(a.created_at, day(1));
        assert_eq!((a.first_synced_at, a.data_expired_at), (None, None));
        assert_eq!((a.sync_requested_at, a.last_run_started_at), (None, None));

        // C sorts before A by id but was created later: lists are oldest first.
        connect_at(&store, C, "env-1", day(2)).await;
        connect_at(&store, B, "env-2", day(3)).await;
        let ids = |rows: Vec<atsbridge_store::IntegrationRow>| -> Vec<String> {
            rows.into_iter().map(|r| r.id).collect()
        };
        assert_eq!(
            ids(store.integrations(Some("env-1")).await.unwrap()),
            [A, C]
        );
        assert_eq!(ids(store.integrations(Some("env-2")).await.unwrap()), [B]);
        assert_eq!(ids(store.integrations(None).await.unwrap()), [A, C, B]);
        assert!(store.integrations(Some("env-3")).await.unwrap().is_empty());
        assert_eq!(store.integration("sagehr:unknown").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn an_integration_keeps_its_category() {
    each_backend(|store| async move {
        let ats = connect(&store, A, "env-1").await;
        assert_eq!(ats.category, Category::Ats);
        let mut credentials = Credentials::default();
        credentials.0.insert("subdomain".into(), json!("acme"));
        let hris = store
            .create_integration(
                atsbridge_store::NewIntegration {
                    id: B.into(),
                    tool: "sagehr".into(),
                    category: Category::Hris,
                    environment_id: "env-1".into(),
                    end_user: ats.end_user.clone(),
                    settings: IntegrationSettings::default(),
                    credentials,
                },
                day(2),
            )
            .await
            .unwrap();
        assert_eq!(hris.category, Category::Hris);
        assert_eq!(
            store.integration(B).await.unwrap().map(|r| r.category),
            Some(Category::Hris)
        );
        assert_eq!(
            store
                .integrations(Some("env-1"))
                .await
                .unwrap()
                .iter()
                .map(|r| (r.id.as_str(), r.category))
                .collect::<Vec<_>>(),
            [(A, Category::Ats), (B, Category::Hris)]
        );
    })
    .await;
}

#[tokio::test]
async fn creating_an_integration_twice_is_a_conflict_that_changes_nothing() {
    each_backend(|store| async move {
        let first = connect(&store, A, "env-1").await;
        let again = store
            .create_integration(
                atsbridge_store::NewIntegration {
                    id: A.into(),
                    tool: "sagehr".into(),
                    category: Category::Ats,
                    environment_id: "env-2".into(),
                    end_user: first.end_user.clone(),
                    settings: IntegrationSettings::default(),
                    credentials: credentials("other"),
                },
                day(5),
            )
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert_eq!(store.integration(A).await.unwrap(), Some(first));
        assert_eq!(
            store.credentials(A).await.unwrap().get("api_key"),
            Some(&*format!("key-of-{A}"))
        );
    })
    .await;
}

#[tokio::test]
async fn settings_and_statuses_are_updated_in_place() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        let settings = IntegrationSettings {
            sync_only_created_applications: true,
            source_name: Some("Jobboard Inc.".into()),
        };
        store.update_settings(A, &settings).await.unwrap();
        store
            .set_integration_status(A, IntegrationStatus::Inactive)
            .await
            .unwrap();
        store
            .set_setup_status(A, SetupStatus::Incomplete)
            .await
            .unwrap();
        let row = store.integration(A).await.unwrap().unwrap();
        assert_eq!(row.settings, settings);
        assert_eq!(
            (row.status, row.setup_status),
            (IntegrationStatus::Inactive, SetupStatus::Incomplete)
        );

        let missing = "sagehr:unknown";
        let not_found = |r: Result<(), StoreError>| matches!(r, Err(StoreError::NotFound { .. }));
        assert!(not_found(store.update_settings(missing, &settings).await));
        assert!(not_found(
            store
                .set_integration_status(missing, IntegrationStatus::Active)
                .await
        ));
        assert!(not_found(
            store
                .set_setup_status(missing, SetupStatus::Completed)
                .await
        ));
        assert!(not_found(
            store.set_credentials(missing, &credentials("x")).await
        ));
        assert!(matches!(
            store.credentials(missing).await,
            Err(StoreError::NotFound { .. })
        ));
    })
    .await;
}

#[tokio::test]
async fn credentials_are_encrypted_at_rest_and_decrypt_back() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        let secret = format!("key-of-{A}");
        let raw = raw_credentials(&store, A).await;
        assert!(raw.starts_with("v1:test:"), "{raw}");
        assert!(!raw.contains(&secret) && !raw.contains("acme"), "{raw}");
        let creds = store.credentials(A).await.unwrap();
        assert_eq!(creds.get("api_key"), Some(secret.as_str()));
        assert_eq!(creds.get("subdomain"), Some("acme"));
        assert!(
            !format!("{creds:?}").contains(&secret),
            "Debug hides values"
        );
    })
    .await;
}

#[tokio::test]
async fn new_credentials_bump_the_version_and_clear_a_rejection() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        assert!(store.mark_credentials_invalid(A, 1).await.unwrap());
        let rejected = store.integration(A).await.unwrap().unwrap();
        assert_eq!(
            (rejected.status, rejected.invalid_credentials_version),
            (IntegrationStatus::Invalid, Some(1))
        );

        let before = raw_credentials(&store, A).await;
        store
            .set_credentials(A, &credentials("fresh-key"))
            .await
            .unwrap();
        let row = store.integration(A).await.unwrap().unwrap();
        assert_eq!(
            (row.credentials_version, row.invalid_credentials_version),
            (2, None)
        );
        assert_eq!(row.status, IntegrationStatus::Active);
        assert_eq!(
            store.credentials(A).await.unwrap(),
            credentials("fresh-key")
        );
        let after = raw_credentials(&store, A).await;
        assert!(after != before && after.starts_with("v1:") && !after.contains("fresh-key"));
    })
    .await;
}

#[tokio::test]
async fn only_the_current_credentials_version_can_be_marked_invalid() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        store
            .set_credentials(A, &credentials("second"))
            .await
            .unwrap();
        // A sync that started with version 1 fails after the user replaced the credentials.
        assert!(!store.mark_credentials_invalid(A, 1).await.unwrap());
        let row = store.integration(A).await.unwrap().unwrap();
        assert_eq!(
            (row.status, row.invalid_credentials_version),
            (IntegrationStatus::Active, None)
        );
        assert!(store.mark_credentials_invalid(A, 2).await.unwrap());
        let row = store.integration(A).await.unwrap().unwrap();
        assert_eq!(
            (row.status, row.invalid_credentials_version),
            (IntegrationStatus::Invalid, Some(2))
        );
        assert!(!store
            .mark_credentials_invalid("sagehr:unknown", 1)
            .await
            .unwrap());
    })
    .await;
}

#[tokio::test]
async fn mark_synced_completes_setup_and_keeps_the_first_sync_time() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        store.mark_synced(A, day(2)).await.unwrap();
        let row = store.integration(A).await.unwrap().unwrap();
        assert_eq!(
            (row.setup_status, row.first_synced_at),
            (SetupStatus::Completed, Some(day(2)))
        );
        store.mark_synced(A, day(3)).await.unwrap();
        let row = store.integration(A).await.unwrap().unwrap();
        assert_eq!(
            (row.setup_status, row.first_synced_at),
            (SetupStatus::Completed, Some(day(2)))
        );
        assert_eq!(row.data_expired_at, None);
    })
    .await;
}

#[tokio::test]
async fn deleting_an_integration_removes_its_records_runs_events_and_created_marks_only() {
    each_backend(|store| async move {
        for i in [A, B] {
            connect(&store, i, "env").await;
            apply(&store, i, seed(i), day(1)).await;
            let mut r = run(&format!("run-{i}"), i);
            store.start_run(&r).await.unwrap();
            r.state = RunState::Succeeded;
            store.finish_run(&r, None).await.unwrap();
            store.mark_created(i, "a1", day(2)).await.unwrap();
            store
                .enqueue_event(&state_changed(
                    &format!("ev-{i}"),
                    i,
                    IntegrationStatus::Active,
                    day(2),
                ))
                .await
                .unwrap();
        }
        assert!(store.delete_integration(A).await.unwrap());
        assert_eq!(store.integration(A).await.unwrap(), None);
        for table in ["records", "sync_runs", "created_applications"] {
            assert_eq!(rows_of(&store, table, A).await, 0, "{table} of A");
            assert!(rows_of(&store, table, B).await > 0, "{table} of B");
        }
        assert!(store.created_remote_ids(A).await.unwrap().is_empty());
        assert!(store.runs(A, 10).await.unwrap().is_empty());
        assert!(store
            .by_ids(A, Application, &[id(A, Application, "a1")])
            .await
            .unwrap()
            .is_empty());
        assert_eq!(store.runs(B, 10).await.unwrap().len(), 1);
        assert!(store.integration(B).await.unwrap().is_some());
        let events: Vec<String> = store
            .events(0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(events, [format!("ev-{B}")], "A's events go with it");
        assert!(
            !store.delete_integration(A).await.unwrap(),
            "the second time"
        );
    })
    .await;
}

#[tokio::test]
async fn a_store_with_another_key_ring_cannot_decrypt_but_a_rotated_ring_can() {
    each_database(|url| async move {
        let store = Store::open(&url, keys()).await.unwrap();
        connect(&store, A, "env").await;
        let expected = store.credentials(A).await.unwrap();

        // Same key id, other key: the value does not authenticate.
        let impostor = Store::open(&url, KeyRing::new("test", [7; 32]))
            .await
            .unwrap();
        let r = impostor.credentials(A).await;
        assert!(matches!(r, Err(StoreError::Crypto(_))), "{r:?}");
        // Another key id altogether.
        let stranger = Store::open(&url, KeyRing::new("other", [42; 32]))
            .await
            .unwrap();
        assert!(matches!(
            stranger.credentials(A).await,
            Err(StoreError::Crypto(_))
        ));

        // A rotated ring reads old values and seals new ones with its current key.
        let spec = format!(
            "{},test:{}",
            KeyRing::generate_spec("new"),
            STANDARD.encode([42u8; 32])
        );
        let rotated = Store::open(&url, KeyRing::parse(&spec).unwrap())
            .await
            .unwrap();
        assert_eq!(rotated.credentials(A).await.unwrap(), expected);
        rotated
            .set_credentials(A, &credentials("rotated"))
            .await
            .unwrap();
        assert!(raw_credentials(&store, A).await.starts_with("v1:new:"));
        assert!(matches!(
            store.credentials(A).await,
            Err(StoreError::Crypto(_))
        ));

        // A tampered value is an error too, never garbage.
        store
            .test_execute(
                "UPDATE integrations SET credentials = $1 WHERE id = $2",
                &["v1:new:AAAAAAAAAAAAAAAA:AAAA", A],
            )
            .await
            .unwrap();
        assert!(matches!(
            rotated.credentials(A).await,
            Err(StoreError::Crypto(_))
        ));
        for s in [store, impostor, stranger, rotated] {
            s.close().await;
        }
    })
    .await;
}
