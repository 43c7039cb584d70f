//! Webhooks end to end: subscriptions through the API, events from syncs and writes, signed
//! deliveries to a local receiver, retries, restarts and two deliverers on one database.
//! Each storage test runs on SQLite and, when `ATSBRIDGE_TEST_PG_URL` is set, PostgreSQL.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atsbridge_model::event::{Event, IntegrationDeleted};
use atsbridge_model::integration::{Category, EndUser};
use atsbridge_model::Timestamp;
use atsbridge_server::ServerConfig;
use atsbridge_store::testing::keys;
use atsbridge_store::{NewEvent, Store};
use atsbridge_sync::webhooks::{sign, SIGNATURE_HEADER};
use atsbridge_sync::{Deliverer, DelivererConfig};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{backends, send, spawn_app, Options, TestApp, ENVIRONMENT, INTEGRATION};

/// What the receiver got: the signature header and the raw body.
#[derive(Debug, Clone)]
struct Received {
    signature: Option<String>,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// Requests still to answer 500.
    fail: Arc<AtomicUsize>,
    delay: Duration,
    url: String,
}

impl Receiver {
    async fn start(fail: usize, delay: Duration) -> Receiver {
        let mut receiver = Receiver {
            fail: Arc::new(AtomicUsize::new(fail)),
            delay,
            ..Receiver::default()
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        receiver.url = format!("http://{}/hook", listener.local_addr().unwrap());
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    tokio::time::sleep(state.delay).await;
                    state.got.lock().unwrap().push(Received {
                        signature: headers
                            .get(SIGNATURE_HEADER)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned),
                        body,
                    });
                    let failing = state
                        .fail
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if failing {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn types(&self) -> Vec<String> {
        self.got()
            .iter()
            .map(|r| r.json()["type"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn deliverer(store: &Store, worker: &str) -> Deliverer {
    Deliverer::new(
        store.clone(),
        DelivererConfig {
            worker_id: worker.into(),
            timeout: Duration::from_secs(5),
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(4),
            allow_private_urls: true,
            ..DelivererConfig::default()
        },
    )
}

/// The deliverer's clock one step on: past the real time and past any backoff, so a
/// failed delivery is due again at once (the test's clock moves instead of waiting).
fn tick(d: &Deliverer, clock: Timestamp) -> Timestamp {
    clock
        .max(Timestamp::now())
        .plus(d.config().backoff_max + Duration::from_millis(1))
}

/// Calls `deliver_due`, a tick later each time, until `done` or a bound is reached.
async fn deliver_until(d: &Deliverer, done: impl Fn() -> bool) {
    let mut clock = Timestamp::now();
    for _ in 0..300 {
        d.deliver_due(clock).await.unwrap();
        if done() {
            return;
        }
        clock = tick(d, clock);
        // Another deliverer of the test may hold what is due: let it run.
        tokio::task::yield_now().await;
    }
}

fn options(database_url: Option<String>) -> Options {
    Options {
        config: ServerConfig {
            allow_private_webhook_urls: true,
            ..ServerConfig::default()
        },
        database_url,
        ..Options::default()
    }
}

/// Subscribes through the API; returns (id, secret).
async fn subscribe(app: &TestApp, url: &str, events: Option<&[&str]>) -> (String, String) {
    let mut body = json!({"url": url});
    if let Some(events) = events {
        body["events"] = json!(events);
    }
    let (status, answer) = send(app.request(Method::POST, "/v1/webhooks").json(&body)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["status"], "success");
    (
        answer["data"]["id"].as_str().unwrap().to_owned(),
        answer["data"]["secret"].as_str().unwrap().to_owned(),
    )
}

async fn deliveries(app: &TestApp, webhook: &str) -> Vec<Value> {
    let (status, body) = app.get(&format!("/v1/webhooks/{webhook}/deliveries")).await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().unwrap().clone()
}

async fn move_some_application(app: &TestApp) {
    let (_, body) = app.get("/v1/ats/applications?page_size=50").await;
    let application = body["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["outcome"] == "PENDING")
        .unwrap()
        .clone();
    let position: u64 = application["job"]["remote_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let current = application["current_stage"]["remote_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let target = {
        let tenant = app.sim.running.sim.tenant("acme").unwrap();
        let t = sagehr_sim::state::lock(&tenant);
        t.positions[&position]
            .stages
            .iter()
            .map(|s| s.id)
            .find(|s| s.to_string() != current)
            .unwrap()
    };
    let remote_id = application["remote_id"].as_str().unwrap();
    app.sim
        .control(
            Method::POST,
            &format!("applicants/{remote_id}/move"),
            json!({"stage_id": target}),
        )
        .await;
}

#[tokio::test]
async fn a_stage_move_sends_one_signed_data_changed_and_an_unchanged_resync_none() {
    for db in backends().await {
        let app = spawn_app(options(db.as_ref().map(|d| d.url.clone()))).await;
        let receiver = Receiver::start(0, Duration::ZERO).await;
        let (webhook, secret) = subscribe(&app, &receiver.url, None).await;
        let d = deliverer(&app.store, "node-a");

        move_some_application(&app).await;
        app.sync().await;
        assert_eq!(d.deliver_due(Timestamp::now()).await.unwrap(), 2);
        assert_eq!(receiver.types(), ["data-changed", "sync-finished"]);
        let got = receiver.got();
        for r in &got {
            assert_eq!(
                r.signature.as_deref(),
                Some(sign(&secret, &r.body).as_str()),
                "the signature verifies"
            );
        }
        let changed = got[0].json();
        assert!(changed["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(changed["data"]["integration_id"], INTEGRATION);
        assert_eq!(changed["data"]["integration_tool"], "sagehr");
        assert_eq!(changed["data"]["integration_category"], "ATS");
        // The application moved, so candidates (which embed their applications) changed
        // too; the target stage may be new to the store (Sage HR lists stages only through
        // the applicants in them), which also changes the job's stage list.
        let names: Vec<&str> = changed["data"]["changed_models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"ats_applications"), "{names:?}");
        assert!(names.contains(&"ats_candidates"), "{names:?}");
        let finished = got[1].json();
        assert_eq!(finished["data"]["sync_state"], "SUCCEEDED");
        assert_eq!(
            finished["data"]["end_user"]["organization_name"],
            "Acme Ltd"
        );
        assert!(finished["data"]["sync_duration_seconds"].is_u64());
        assert!(finished["data"].get("changed_models").is_none());
        assert_ne!(changed["id"], finished["id"]);

        // Nothing more is due; an unchanged resync is only `sync-finished`.
        assert_eq!(d.deliver_due(Timestamp::now()).await.unwrap(), 0);
        app.sync().await;
        d.deliver_due(Timestamp::now()).await.unwrap();
        assert_eq!(
            receiver.types(),
            ["data-changed", "sync-finished", "sync-finished"]
        );

        let log = deliveries(&app, &webhook).await;
        assert_eq!(log.len(), 3);
        for entry in &log {
            assert_eq!(entry["state"], "DELIVERED", "{entry}");
            assert_eq!(entry["attempts"], 1);
            assert_eq!(entry["last_status"], 200);
            assert!(entry["last_latency_ms"].is_i64());
        }
        assert_eq!(log[2]["event_id"], changed["id"]);
    }
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_same_event_three_times_then_the_next() {
    for db in backends().await {
        let app = spawn_app(options(db.as_ref().map(|d| d.url.clone()))).await;
        let receiver = Receiver::start(2, Duration::ZERO).await;
        let (webhook, _) = subscribe(&app, &receiver.url, Some(&["sync-finished"])).await;
        let d = deliverer(&app.store, "node-a");
        // Two runs: the second's event waits behind the first (in order per integration).
        app.sync().await;
        app.sync().await;
        deliver_until(&d, || receiver.got().len() >= 4).await;
        let ids: Vec<String> = receiver
            .got()
            .iter()
            .map(|r| r.json()["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 4, "{ids:?}");
        assert_eq!(ids[0], ids[1]);
        assert_eq!(ids[1], ids[2]);
        assert_ne!(ids[2], ids[3]);
        // Nothing after, however late.
        let mut clock = Timestamp::now();
        for _ in 0..5 {
            clock = tick(&d, clock);
            d.deliver_due(clock).await.unwrap();
        }
        assert_eq!(receiver.got().len(), 4);
        let log = deliveries(&app, &webhook).await;
        let first = log.iter().find(|e| e["event_id"] == ids[0]).unwrap();
        assert_eq!(first["state"], "DELIVERED");
        assert_eq!(first["attempts"], 3);
        assert_eq!(first["last_status"], 200);
        assert!(first["last_error"].is_null());
    }
}

#[tokio::test]
async fn a_delivery_outlives_a_restart_between_attempts() {
    for db in backends().await {
        let app = spawn_app(options(db.as_ref().map(|d| d.url.clone()))).await;
        let receiver = Receiver::start(1, Duration::ZERO).await;
        let (webhook, _) = subscribe(&app, &receiver.url, Some(&["sync-finished"])).await;
        app.sync().await;
        {
            let d = deliverer(&app.store, "before-restart");
            assert_eq!(d.deliver_due(Timestamp::now()).await.unwrap(), 1);
        }
        let log = deliveries(&app, &webhook).await;
        assert_eq!(log[0]["state"], "PENDING");
        assert_eq!(log[0]["last_status"], 500);
        assert_eq!(log[0]["last_error"], "answered HTTP 500");

        // A new process: its own store on the same database, its own deliverer.
        let store = Store::open(&app.store_url, keys()).await.unwrap();
        let d = deliverer(&store, "after-restart");
        deliver_until(&d, || receiver.got().len() >= 2).await;
        let got = receiver.got();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].json()["id"], got[1].json()["id"]);
        let log = deliveries(&app, &webhook).await;
        assert_eq!(log[0]["state"], "DELIVERED");
        assert_eq!(log[0]["attempts"], 2);
        store.close().await;
    }
}

#[tokio::test]
async fn deliveries_that_keep_failing_end_failed_after_the_max_age() {
    for db in backends().await {
        let app = spawn_app(options(db.as_ref().map(|d| d.url.clone()))).await;
        let receiver = Receiver::start(usize::MAX, Duration::ZERO).await;
        let (webhook, _) = subscribe(&app, &receiver.url, Some(&["sync-finished"])).await;
        app.sync().await;
        let d = Deliverer::new(
            app.store.clone(),
            DelivererConfig {
                max_age: Duration::from_millis(30),
                ..deliverer(&app.store, "node-a").config().clone()
            },
        );
        // 5 ms a tick: past the max age (30 ms) within a few attempts, without waiting.
        let mut clock = Timestamp::now();
        for _ in 0..200 {
            d.deliver_due(clock).await.unwrap();
            if deliveries(&app, &webhook).await[0]["state"] == "FAILED" {
                break;
            }
            clock = tick(&d, clock);
        }
        let log = deliveries(&app, &webhook).await;
        assert_eq!(log[0]["state"], "FAILED", "{log:?}");
        let attempts = log[0]["attempts"].as_i64().unwrap();
        assert!(attempts >= 2);
        assert_eq!(receiver.got().len() as i64, attempts);
    }
}

#[tokio::test]
async fn two_deliverers_never_send_one_delivery_twice() {
    for db in backends().await {
        let app = spawn_app(options(db.as_ref().map(|d| d.url.clone()))).await;
        let receiver = Receiver::start(0, Duration::from_millis(5)).await;
        subscribe(&app, &receiver.url, None).await;
        // 24 events of 4 integrations.
        for n in 0..24 {
            let event = Event::IntegrationDeleted(IntegrationDeleted {
                id: format!("sagehr:other{}", n % 4),
                tool: "sagehr".into(),
                category: Category::Ats,
                end_user: EndUser {
                    organization_name: "Other".into(),
                    creator_email: None,
                    origin_id: None,
                },
                deleted_at: Timestamp::now(),
            });
            // Ids in the order the events are written.
            let event = NewEvent {
                id: format!("evt_test_{n:02}"),
                ..NewEvent::new(event, Timestamp::now())
            };
            app.store
                .enqueue_event_in(ENVIRONMENT, &event)
                .await
                .unwrap();
        }
        let a = deliverer(&app.store, "node-a");
        let other = Store::open(&app.store_url, keys()).await.unwrap();
        let b = deliverer(&other, "node-b");
        let done = || receiver.got().len() >= 24;
        tokio::join!(deliver_until(&a, done), deliver_until(&b, done));
        let got = receiver.got();
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        let mut order: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in &got {
            let v = r.json();
            *count
                .entry(v["id"].as_str().unwrap().to_owned())
                .or_default() += 1;
            order
                .entry(v["data"]["id"].as_str().unwrap().to_owned())
                .or_default()
                .push(v["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(count.len(), 24);
        assert!(count.values().all(|&n| n == 1), "{count:?}");
        for (integration, ns) in order {
            let mut sorted = ns.clone();
            sorted.sort_unstable();
            assert_eq!(ns, sorted, "in order for {integration}");
        }
        other.close().await;
    }
}

#[tokio::test]
async fn subscriptions_are_validated_scoped_and_rotated() {
    let app = spawn_app(Options {
        sync: false,
        ..Options::default()
    })
    .await;
    let post = |body: Value| send(app.request(Method::POST, "/v1/webhooks").json(&body));
    // Private addresses are refused unless the server allows them.
    let (status, body) = post(json!({"url": "http://127.0.0.1:9/hook"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "PLATFORM.INPUT_INVALID");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("url:"),
        "{body}"
    );
    let (status, body) = post(json!({"url": "ftp://example.com/x"})).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("url:"));
    let (status, body) = post(json!({"url": 5})).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("url:"));
    let (status, body) = post(json!({"url": "https://93.184.215.14/x", "events": ["nope"]})).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("events:"),
        "{body}"
    );

    let (status, body) =
        post(json!({"url": "https://93.184.215.14/x", "events": ["data-changed"]})).await;
    assert_eq!(status, 200, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    let secret = body["data"]["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 43);
    assert_eq!(body["data"]["events"], json!(["data-changed"]));

    let (status, list) = app.get("/v1/webhooks").await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(list["data"][0].get("secret").is_none(), "{list}");

    // Another environment sees nothing of it.
    let (_, other_key) = app
        .store
        .create_api_key("env_other", "other", Timestamp::now())
        .await
        .unwrap();
    let (_, other) = send(
        app.http
            .get(format!("{}/v1/webhooks", app.base))
            .bearer_auth(&other_key),
    )
    .await;
    assert_eq!(other["data"], json!([]));
    let (status, _) = send(
        app.http
            .delete(format!("{}/v1/webhooks/{id}", app.base))
            .bearer_auth(&other_key),
    )
    .await;
    assert_eq!(status, 400);

    let (status, rotated) =
        send(app.request(Method::POST, &format!("/v1/webhooks/{id}/rotate-secret"))).await;
    assert_eq!(status, 200, "{rotated}");
    assert_ne!(rotated["data"]["secret"].as_str().unwrap(), secret);

    let (status, _) = send(app.request(Method::DELETE, &format!("/v1/webhooks/{id}"))).await;
    assert_eq!(status, 200);
    let (_, list) = app.get("/v1/webhooks").await;
    assert_eq!(list["data"], json!([]));
    let (status, _) = app.get(&format!("/v1/webhooks/{id}/deliveries")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn integration_events_reach_the_webhook() {
    let app = spawn_app(options(None)).await;
    let receiver = Receiver::start(0, Duration::ZERO).await;
    let (_, secret) = subscribe(&app, &receiver.url, None).await;
    let d = deliverer(&app.store, "node-a");
    let (status, _) = send(
        app.request(
            Method::PUT,
            &format!("/v1/integrations/{INTEGRATION}/enabled"),
        )
        .json(&json!({"value": false})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) =
        send(app.request(Method::DELETE, &format!("/v1/integrations/{INTEGRATION}"))).await;
    assert_eq!(status, 200);
    d.deliver_due(Timestamp::now()).await.unwrap();
    assert_eq!(
        receiver.types(),
        ["integration-state-changed", "integration-deleted"]
    );
    let got = receiver.got();
    assert_eq!(got[0].json()["data"]["state"], "INACTIVE");
    assert_eq!(got[1].json()["data"]["id"], INTEGRATION);
    assert!(got
        .iter()
        .all(|r| r.signature.as_deref() == Some(sign(&secret, &r.body).as_str())));
}

#[tokio::test]
async fn a_created_application_is_a_data_changed_event() {
    let app = spawn_app(options(None)).await;
    let receiver = Receiver::start(0, Duration::ZERO).await;
    subscribe(&app, &receiver.url, Some(&["data-changed"])).await;
    let (_, jobs) = app.get("/v1/ats/jobs?page_size=250").await;
    let job = jobs["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["status"] == "OPEN")
        .unwrap()
        .clone();
    let job_id = job["id"].as_str().unwrap();
    let (status, answer) = send(
        app.request(Method::POST, &format!("/v1/ats/jobs/{job_id}/applications"))
            .json(&json!({"candidate": {"first_name": "Ada", "last_name": "Lovelace", "email_address": "ada@example.com"}})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    deliverer(&app.store, "node-a")
        .deliver_due(Timestamp::now())
        .await
        .unwrap();
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    let v = got[0].json();
    assert_eq!(v["type"], "data-changed");
    assert_eq!(v["data"]["integration_id"], INTEGRATION);
    assert_eq!(
        v["data"]["changed_models"],
        json!([{"name": "ats_applications"}, {"name": "ats_candidates"}])
    );
}

/// An outbox row and its deliveries as the version before the typed events wrote them (a run's
/// `sync-finished` with its changed models, here without an end) are delivered after an
/// upgrade, with the bodies that version sent.
#[tokio::test]
async fn an_outbox_row_of_the_previous_version_is_delivered() {
    for db in backends().await {
        let app = spawn_app(Options {
            sync: false,
            ..options(db.as_ref().map(|d| d.url.clone()))
        })
        .await;
        let receiver = Receiver::start(0, Duration::ZERO).await;
        let (webhook, secret) = subscribe(&app, &receiver.url, None).await;
        let made_at = 1_700_000_000_000_i64; // 2023-11-14T22:13:20.000Z
        let payload = json!({
            "sync_id": "sync_00000000000000a1",
            "sync_state": "PARTIALLY_FAILED",
            "sync_started_at": "2023-11-14T22:13:10.000Z",
            "sync_ended_at": null,
            "sync_duration_seconds": 10,
            "integration_id": INTEGRATION,
            "integration_tool": "sagehr",
            "integration_category": "ATS",
            "end_user": {"organization_name": "Acme Ltd", "creator_email": null, "origin_id": "o-1"},
            "changed_models": ["ats_applications"],
        });
        app.store
            .test_execute(
                "INSERT INTO events (id, integration_id, type, payload, created_at, environment_id) \
                 VALUES ($1, $2, 'sync-finished', $3, CAST($4 AS BIGINT), $5)",
                &[
                    "evt_00000000000000a1",
                    INTEGRATION,
                    &payload.to_string(),
                    &made_at.to_string(),
                    ENVIRONMENT,
                ],
            )
            .await
            .unwrap();
        let seq = app
            .store
            .test_i64(
                "SELECT seq FROM events WHERE id = $1",
                &["evt_00000000000000a1"],
            )
            .await
            .unwrap()
            .unwrap();
        // The derived id the previous version computed for the data-changed webhook.
        let derived = "evt_bbb42dbfc2d74fa63ac67bf2";
        for (n, (id, ty)) in [
            (derived, "data-changed"),
            ("evt_00000000000000a1", "sync-finished"),
        ]
        .into_iter()
        .enumerate()
        {
            app.store
                .test_execute(
                    "INSERT INTO deliveries (id, event_seq, event_id, event_type, webhook_id, integration_id, state, attempts, next_attempt_at, created_at) \
                     VALUES ($1, CAST($2 AS BIGINT), $3, $4, $5, $6, 'PENDING', 0, CAST($7 AS BIGINT), CAST($7 AS BIGINT))",
                    &[
                        &format!("dlv_old{n}"),
                        &seq.to_string(),
                        id,
                        ty,
                        &webhook,
                        INTEGRATION,
                        &made_at.to_string(),
                    ],
                )
                .await
                .unwrap();
        }
        deliverer(&app.store, "node-a")
            .deliver_due(Timestamp::now())
            .await
            .unwrap();
        let got = receiver.got();
        let bodies: Vec<Value> = got.iter().map(Received::json).collect();
        assert_eq!(
            bodies,
            [
                json!({
                    "id": derived,
                    "type": "data-changed",
                    "data": {
                        "integration_id": INTEGRATION,
                        "integration_tool": "sagehr",
                        "integration_category": "ATS",
                        "changed_models": [{"name": "ats_applications"}, {"name": "ats_candidates"}],
                    },
                }),
                json!({
                    "id": "evt_00000000000000a1",
                    "type": "sync-finished",
                    "data": {
                        "sync_id": "sync_00000000000000a1",
                        "sync_state": "PARTIALLY_FAILED",
                        "sync_started_at": "2023-11-14T22:13:10.000Z",
                        "sync_ended_at": "2023-11-14T22:13:20.000Z",
                        "sync_duration_seconds": 10,
                        "integration_id": INTEGRATION,
                        "integration_tool": "sagehr",
                        "integration_category": "ATS",
                        "end_user": {"organization_name": "Acme Ltd", "creator_email": null, "origin_id": "o-1"},
                        "log_url": "",
                    },
                }),
            ]
        );
        assert!(got
            .iter()
            .all(|r| r.signature.as_deref() == Some(sign(&secret, &r.body).as_str())));
        let states: Vec<Value> = deliveries(&app, &webhook)
            .await
            .into_iter()
            .map(|d| d["state"].clone())
            .collect();
        assert_eq!(states, [json!("DELIVERED"), json!("DELIVERED")]);
    }
}
