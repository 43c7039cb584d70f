//! Syncs running in the background while the integration is disabled or deleted: the
//! request stops the run before it answers, and nothing of the integration is written after.

use atsbridge_store::{RunState, Store};
use atsbridge_sync::{Engine, EngineConfig, Outcome};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

use crate::helpers::{backends, factory, send, spawn_app, Options, TestApp, INTEGRATION};

/// A server whose Sage HR answers every request slowly, so a sync lasts seconds.
async fn slow_app(database_url: Option<String>) -> TestApp {
    let app = spawn_app(Options {
        positions: 8,
        applicants: 3,
        sync: false,
        database_url,
        ..Options::default()
    })
    .await;
    app.sim
        .control(
            Method::POST,
            "faults",
            json!({"kind": "latency", "ratio": 1.0, "latency_ms": 150}),
        )
        .await;
    app
}

/// Every stored record of the integration, deleted ones included (rows, not the API's view).
async fn record_rows(store: &Store) -> i64 {
    store
        .test_i64(
            "SELECT COUNT(*) FROM records WHERE ikey IN (SELECT ikey FROM integration_keys WHERE integration_id = $1)",
            &[INTEGRATION],
        )
        .await
        .unwrap()
        .unwrap_or(0)
}

/// Waits until the run has stored a first batch (the condition, not a time).
async fn until_records_are_stored(store: &Store) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while record_rows(store).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run stored nothing"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn management(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.http
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(&app.key)
}

#[tokio::test]
async fn disabling_an_integration_stops_its_running_sync_before_answering() {
    for db in backends().await {
        let app = slow_app(db.as_ref().map(|d| d.url.clone())).await;
        let run = app.engine.spawn_run(
            INTEGRATION.into(),
            atsbridge_model::integration::SyncKind::Full,
        );
        until_records_are_stored(&app.store).await;

        let (status, body) = send(
            management(
                &app,
                Method::PUT,
                &format!("/v1/integrations/{INTEGRATION}/enabled"),
            )
            .json(&json!({"value": false})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"status": "success", "data": {}}));
        // Ended and recorded before the answer.
        let runs = app.store.runs(INTEGRATION, 10).await.unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].state, RunState::Cancelled, "{:?}", runs[0]);
        assert!(run.is_finished(), "the run's task ended before the answer");
        let rows = record_rows(&app.store).await;
        let Ok(Ok(Outcome::Ran(ran))) = run.await else {
            panic!("the run ran")
        };
        assert_eq!(ran.id, runs[0].id);
        assert_eq!(ran.state, RunState::Cancelled);
        // Nothing more is written: no later run starts (disabled), the stopped one is gone.
        app.sim.control(Method::DELETE, "faults", Value::Null).await;
        assert_eq!(
            app.engine
                .run_once(
                    INTEGRATION,
                    atsbridge_model::integration::SyncKind::Full,
                    &Default::default()
                )
                .await
                .unwrap(),
            Outcome::Skipped("the integration is disabled")
        );
        assert_eq!(record_rows(&app.store).await, rows);
        assert!(
            app.store.runs(INTEGRATION, 10).await.unwrap()[0]
                .counts
                .deleted
                .is_empty(),
            "a stopped run sweeps nothing"
        );
    }
}

#[tokio::test]
async fn deleting_an_integration_stops_its_running_sync_and_leaves_no_record_behind() {
    for db in backends().await {
        let app = slow_app(db.as_ref().map(|d| d.url.clone())).await;
        let run = app.engine.spawn_run(
            INTEGRATION.into(),
            atsbridge_model::integration::SyncKind::Full,
        );
        until_records_are_stored(&app.store).await;

        let (status, body) = send(management(
            &app,
            Method::DELETE,
            &format!("/v1/integrations/{INTEGRATION}"),
        ))
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(run.is_finished(), "the run ended before the records went");
        let Ok(Ok(Outcome::Ran(ran))) = run.await else {
            panic!("the run ran")
        };
        assert_eq!(ran.state, RunState::Cancelled, "{ran:?}");
        assert_eq!(record_rows(&app.store).await, 0, "no orphan records");
        assert!(app.store.runs(INTEGRATION, 10).await.unwrap().is_empty());
        assert!(app.store.integration(INTEGRATION).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn a_sync_on_another_node_of_a_deleted_integration_writes_nothing_more() {
    for db in backends().await {
        let app = slow_app(db.as_ref().map(|d| d.url.clone())).await;
        // Another node's engine: the server cannot stop it, only the store's fences can.
        let other = Engine::new(
            app.store.clone(),
            factory(),
            EngineConfig {
                worker_id: "another-node".into(),
                lease_ttl: Duration::from_secs(60),
            },
        );
        let remote = other.spawn_run(
            INTEGRATION.into(),
            atsbridge_model::integration::SyncKind::Full,
        );
        until_records_are_stored(&app.store).await;

        let (status, body) = send(management(
            &app,
            Method::DELETE,
            &format!("/v1/integrations/{INTEGRATION}"),
        ))
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(record_rows(&app.store).await, 0);
        // Its next write finds no lease (no integration) and fails; it writes nothing more.
        let outcome = tokio::time::timeout(Duration::from_secs(30), remote)
            .await
            .expect("the other node's run ends")
            .unwrap();
        if let Ok(Outcome::Ran(run)) = &outcome {
            assert_eq!(run.state, RunState::Failed, "{run:?}");
        }
        assert_eq!(record_rows(&app.store).await, 0, "no orphan records");
        assert!(app.store.runs(INTEGRATION, 10).await.unwrap().is_empty());
        other.shutdown().await;
    }
}
