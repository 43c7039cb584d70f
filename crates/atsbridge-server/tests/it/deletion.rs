//! `DELETE /v1/integrations/{id}` removes every row of the integration, in every table the
//! database's catalog lists, and leaves another integration's data as it was.

use std::collections::BTreeMap;
use std::time::Duration;

use atsbridge_model::integration::SyncKind;
use atsbridge_model::Timestamp;
use atsbridge_store::testing::TableRows;
use atsbridge_store::{Attempt, Completion, DeliveryState, LinkPurpose, NewConnectLink, Store};
use atsbridge_test_support::sagehr::{end_user, new_integration};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::helpers::{backends, send, spawn_app, Options, TestApp, ENVIRONMENT, INTEGRATION};

/// The integration the test creates, fills and deletes.
const DOOMED: &str = "sagehr:3dOoMeDiNtEgRaTiOnXyZaBc";

fn link(token: &str, purpose: LinkPurpose, integration: Option<&str>) -> NewConnectLink {
    let now = Timestamp::now();
    NewConnectLink {
        token: token.into(),
        environment_id: ENVIRONMENT.into(),
        tool: "sagehr".into(),
        category: atsbridge_model::integration::Category::Ats,
        purpose,
        integration_id: integration.map(str::to_owned),
        end_user_email: Some("it@doomed.example".into()),
        organization_name: "Doomed Ltd".into(),
        origin_id: None,
        language: "en".into(),
        link_type: "EMBEDDED".into(),
        redirect_url: None,
        created_at: now,
        expires_at: Timestamp::from_unix_millis(now.unix_millis() + 3_600_000).unwrap(),
    }
}

fn as_doomed(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.http
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(&app.key)
        .header("X-Integration-Id", DOOMED)
}

async fn tables(store: &Store, needle: &str) -> BTreeMap<String, TableRows> {
    store.test_tables(needle).await.unwrap()
}

/// Creates DOOMED through a connection link, syncs it, writes through it with an
/// idempotency key and hands out a relink link for it: a row in every kind of table.
async fn fill_doomed(app: &TestApp) {
    let store = &app.store;
    store
        .create_connect_link(&link("doomed-connect", LinkPurpose::Connect, None))
        .await
        .unwrap();
    let integration = new_integration(
        DOOMED,
        ENVIRONMENT,
        end_user("Doomed Ltd"),
        app.sim.credentials(),
    );
    let completion = Completion {
        token: "doomed-completion".into(),
        expires_at: Timestamp::now(),
    };
    store
        .complete_connect_link(
            &atsbridge_store::connect::token_digest("doomed-connect"),
            &integration,
            &completion,
            Timestamp::now(),
        )
        .await
        .unwrap();
    store
        .create_connect_link(&link("doomed-relink", LinkPurpose::Relink, Some(DOOMED)))
        .await
        .unwrap();
    app.engine
        .run_once(DOOMED, SyncKind::Full, &CancellationToken::new())
        .await
        .unwrap();
    let (status, jobs) = send(as_doomed(app, Method::GET, "/v1/ats/jobs?page_size=50")).await;
    assert_eq!(status, 200, "{jobs}");
    let job = jobs["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["status"] == "OPEN")
        .cloned()
        .unwrap_or(Value::Null);
    let remote = job["remote_id"].as_str().expect("an open job");
    let body = json!({
        "candidate": {"first_name": "Doomed", "last_name": "Candidate", "email_address": "doomed@example.com"},
        "application": {"job_id": format!("remote:{remote}")},
    });
    let (status, answer) = send(
        as_doomed(app, Method::POST, "/v1/ats/candidates")
            .header("Idempotency-Key", "doomed-write")
            .json(&body),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn deleting_an_integration_leaves_no_row_of_it_in_any_table_and_keeps_the_others() {
    for db in backends().await {
        let app = spawn_app(Options {
            database_url: db.as_ref().map(|d| d.url.clone()),
            ..Options::default()
        })
        .await;
        let store = &app.store;
        // Every event is delivered somewhere, so deliveries are made for DOOMED's.
        store
            .create_webhook(
                ENVIRONMENT,
                "http://127.0.0.1:9/hook",
                None,
                "s",
                Timestamp::now(),
            )
            .await
            .unwrap();
        let before = tables(store, DOOMED).await;
        let others_before = tables(store, INTEGRATION).await;
        let records_before = store.counts(INTEGRATION).await.unwrap();
        assert!(before.values().all(|t| t.mentioning == 0), "{before:?}");
        assert!(before.contains_key("records") && before.contains_key("integration_keys"));

        fill_doomed(&app).await;
        // One of DOOMED's deliveries made and delivered: it goes with its attempt (and its
        // event, unless that waits for another delivery); the rest stay pending.
        let now = Timestamp::now();
        let claimed = store
            .claim_deliveries("it-deliverer", now, now.plus(Duration::from_secs(60)), 50)
            .await
            .unwrap();
        let doomed = claimed
            .iter()
            .find(|c| c.delivery.integration_id.as_deref() == Some(DOOMED))
            .expect("a delivery of DOOMED's events");
        let delivered = Attempt {
            status: Some(200),
            latency_ms: 5,
            error: None,
            at: now,
            state: DeliveryState::Delivered,
            next_attempt_at: now,
        };
        assert!(store
            .record_attempt(doomed.delivery.seq, "it-deliverer", &delivered)
            .await
            .unwrap());
        let during = tables(store, DOOMED).await;
        let count = |sql: &'static str| async move {
            store.test_i64(sql, &[DOOMED]).await.unwrap().unwrap()
        };
        let waiting_deliveries = count(
            "SELECT COUNT(*) FROM deliveries WHERE integration_id = $1 AND state = 'PENDING'",
        )
        .await;
        let waiting_events = count(
            "SELECT COUNT(*) FROM events e WHERE e.integration_id = $1 AND EXISTS \
             (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state = 'PENDING')",
        )
        .await;
        assert!(waiting_deliveries < during["deliveries"].mentioning);
        // (Its event may still wait for another webhook event it became.)
        assert!(waiting_events <= during["events"].mentioning);
        assert!(during["delivery_attempts"].total > before["delivery_attempts"].total);
        // The test sees DOOMED's rows wherever they are (records name it by its key).
        for table in [
            "integrations",
            "integration_keys",
            "sync_runs",
            "events",
            "deliveries",
            "idempotency_keys",
            "connect_links",
        ] {
            assert!(during[table].mentioning > 0, "{table}: {during:?}");
        }
        assert!(
            during["records"].total > before["records"].total,
            "{during:?}"
        );
        assert!(during["created_applications"].total > before["created_applications"].total);

        let (status, body) = send(
            app.http
                .request(
                    Method::DELETE,
                    format!("{}/v1/integrations/{DOOMED}", app.base),
                )
                .bearer_auth(&app.key),
        )
        .await;
        assert_eq!(status, 200, "{body}");

        let after = tables(store, DOOMED).await;
        assert_eq!(
            after.keys().collect::<Vec<_>>(),
            before.keys().collect::<Vec<_>>()
        );
        // What is left is what the webhook has not received yet (its address never answers,
        // so every delivery of DOOMED's events but the one delivered above is still
        // pending) and the `integration-deleted` event that announces the deletion, with
        // its delivery. The delivered one's attempt is gone with it.
        let announced = store
            .events(0, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "integration-deleted")
            .count();
        assert_eq!(announced, 1);
        for (table, rows) in &after {
            let (extra, mentions) = match table.as_str() {
                "events" => (waiting_events + 1, waiting_events + 1),
                "deliveries" => (waiting_deliveries + 1, waiting_deliveries + 1),
                _ => (0, 0),
            };
            assert_eq!(
                (rows.total, rows.mentioning),
                (before[table].total + extra, mentions),
                "{table}: before {:?}, during {:?}, after {rows:?}",
                before[table],
                during[table]
            );
        }
        // The other integration's rows are all still there.
        let others_after = tables(store, INTEGRATION).await;
        for (table, rows) in &others_before {
            assert_eq!(
                others_after[table].mentioning, rows.mentioning,
                "{table}: rows of {INTEGRATION}"
            );
        }
        assert_eq!(store.counts(INTEGRATION).await.unwrap(), records_before);
        let (status, jobs) = app.get("/v1/ats/jobs").await;
        assert_eq!(status, 200, "{jobs}");
        assert!(!jobs["data"]["results"].as_array().unwrap().is_empty());
        drop(app);
        drop(db);
    }
}
