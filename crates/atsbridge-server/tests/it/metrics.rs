//! `GET /metrics`: scraped before and after a sync, a write and a webhook delivery, each
//! value that should move moves by exactly what happened. On SQLite and, when
//! `ATSBRIDGE_TEST_PG_URL` is set, PostgreSQL.

use std::collections::BTreeMap;
use std::time::Duration;

use atsbridge_model::integration::SyncKind;
use atsbridge_model::Timestamp;
use atsbridge_server::{serve, AppState, ServerConfig};
use atsbridge_sync::{Deliverer, DelivererConfig, Outcome};
use axum::http::StatusCode;
use axum::routing::post;
use reqwest::Method;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::{backends, factory, send, spawn_app, Options, TestApp, INTEGRATION};

/// Every sample of a scrape, `name{labels}` → value.
fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("{l}"));
            (
                series.to_owned(),
                value.parse().unwrap_or_else(|_| panic!("{l}")),
            )
        })
        .collect()
}

async fn scrape(app: &TestApp) -> BTreeMap<String, f64> {
    let response = app.request(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("application/openmetrics-text"));
    parse(&response.text().await.unwrap())
}

/// How much `series` grew from `before` to `after` (absent counts as 0).
fn delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, series: &str) -> f64 {
    after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0)
}

/// The sum of every series of metric `name` whose labels contain `with`.
fn sum(samples: &BTreeMap<String, f64>, name: &str, with: &str) -> f64 {
    samples
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{name}{{")) && k.contains(with))
        .map(|(_, v)| v)
        .sum()
}

/// A webhook receiver answering 200 to everything.
async fn receiver() -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/hook", post(|| async { StatusCode::OK }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn metrics_move_by_what_a_sync_a_write_and_a_delivery_did() {
    for db in backends().await {
        let app = spawn_app(Options {
            sync: false,
            config: ServerConfig {
                allow_private_webhook_urls: true,
                ..ServerConfig::default()
            },
            database_url: db.as_ref().map(|d| d.url.clone()),
            ..Options::default()
        })
        .await;

        // Without an API key the main listener refuses.
        let refused = app
            .http
            .get(format!("{}/metrics", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);

        let (status, hook) = send(
            app.request(Method::POST, "/v1/webhooks")
                .json(&json!({"url": receiver().await})),
        )
        .await;
        assert_eq!(status, 200, "{hook}");

        // A sync.
        let before = scrape(&app).await;
        let outcome = app
            .engine
            .run_once(INTEGRATION, SyncKind::Full, &CancellationToken::new())
            .await
            .unwrap();
        let Outcome::Ran(run) = outcome else {
            panic!("{outcome:?}")
        };
        let after = scrape(&app).await;
        let runs = r#"atsbridge_sync_runs_total{tool="sagehr",category="ATS",state="SUCCEEDED"}"#;
        assert_eq!(delta(&before, &after, runs), 1.0);
        assert_eq!(
            delta(
                &before,
                &after,
                r#"atsbridge_sync_run_duration_seconds_count{tool="sagehr"}"#
            ),
            1.0
        );
        assert!(!run.counts.inserted.is_empty());
        for (model, n) in &run.counts.inserted {
            let series =
                format!(r#"atsbridge_sync_records_total{{model="{model}",change="inserted"}}"#);
            assert_eq!(delta(&before, &after, &series), *n as f64, "{series}");
        }
        let requests = sum(&after, "atsbridge_upstream_requests_total", "sagehr")
            - sum(&before, "atsbridge_upstream_requests_total", "sagehr");
        assert!(run.upstream_requests > 0);
        assert_eq!(requests, run.upstream_requests as f64);
        let endpoints: Vec<&String> = after
            .keys()
            .filter(|k| k.starts_with("atsbridge_upstream_requests_total{"))
            .collect();
        assert!(
            endpoints
                .iter()
                .any(|k| k.contains(r#"endpoint="GET /recruitment/positions""#)),
            "{endpoints:?}"
        );
        for k in &endpoints {
            assert!(!k.chars().any(|c| c.is_ascii_digit()), "an id in {k}");
        }

        // A write that succeeds and one that is refused.
        let (_, jobs) = app.get("/v1/ats/jobs?page_size=250").await;
        let job = jobs["data"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["status"] == "OPEN")
            .expect("an open job")
            .clone();
        let before = scrape(&app).await;
        let body = json!({
            "candidate": {"first_name": "Ada", "last_name": "Lovelace", "email_address": "ada@example.com"},
            "application": {"job_id": job["id"]},
        });
        let (status, answer) =
            send(app.request(Method::POST, "/v1/ats/candidates").json(&body)).await;
        assert_eq!(status, 200, "{answer}");
        let (status, _) = send(
            app.request(Method::POST, "/v1/ats/candidates")
                .json(&json!({"candidate": {}})),
        )
        .await;
        assert_eq!(status, 400);
        let after = scrape(&app).await;
        let write = |outcome: &str| {
            format!(
                r#"atsbridge_write_actions_total{{action="create_candidate",outcome="{outcome}"}}"#
            )
        };
        assert_eq!(delta(&before, &after, &write("succeeded")), 1.0);
        assert_eq!(
            delta(&before, &after, &write("PLATFORM.INPUT_INVALID")),
            1.0
        );
        let route = |status: u16| {
            format!(
                r#"atsbridge_api_requests_total{{method="POST",route="/v1/ats/candidates",status="{status}"}}"#
            )
        };
        assert_eq!(delta(&before, &after, &route(200)), 1.0);
        assert_eq!(delta(&before, &after, &route(400)), 1.0);
        assert_eq!(
            delta(
                &before,
                &after,
                r#"atsbridge_api_request_duration_seconds_count{method="POST",route="/v1/ats/candidates"}"#
            ),
            2.0
        );
        // Routes are templates: the job's id in a path is never a label.
        let job_id = job["id"].as_str().unwrap();
        assert!(after.keys().all(|k| !k.contains(job_id)));
        let (status, _) = app
            .get(&format!("/v1/ats/jobs/{job_id}/applications"))
            .await;
        assert!(status >= 400, "GET on a POST-only route");
        assert!(scrape(&app).await.keys().all(|k| !k.contains(job_id)));
        // Methods are the client's choice too: unknown ones are `other`, never a label.
        let odd = Method::from_bytes(b"FROBNICATE").unwrap();
        let before = scrape(&app).await;
        app.request(odd, "/v1/ats/jobs").send().await.unwrap();
        let after = scrape(&app).await;
        assert_eq!(
            sum(&after, "atsbridge_api_requests_total", r#"method="other""#)
                - sum(&before, "atsbridge_api_requests_total", r#"method="other""#),
            1.0
        );
        assert!(after.keys().all(|k| !k.contains("FROBNICATE")));

        // Webhook deliveries: the sync and the write left events pending.
        assert!(after["atsbridge_outbox_lag_seconds"] >= 0.0);
        assert_eq!(after["atsbridge_leases_held"], 0.0);
        let before = scrape(&app).await;
        let deliverer = Deliverer::new(
            app.store.clone(),
            DelivererConfig {
                worker_id: "metrics-test".into(),
                timeout: Duration::from_secs(5),
                allow_private_urls: true,
                ..DelivererConfig::default()
            },
        )
        .with_metrics(app.engine.metrics().clone());
        let sent = deliverer.deliver_due(Timestamp::now()).await.unwrap();
        assert!(sent > 0);
        let after = scrape(&app).await;
        assert_eq!(
            delta(
                &before,
                &after,
                r#"atsbridge_webhook_deliveries_total{outcome="delivered"}"#
            ),
            sent as f64
        );
        assert_eq!(
            after["atsbridge_outbox_lag_seconds"], 0.0,
            "nothing pending"
        );

        // Leases are read from the store at scrape time.
        let now = Timestamp::now();
        assert!(app
            .store
            .try_lease(
                INTEGRATION,
                "elsewhere",
                now,
                now.plus(Duration::from_secs(600))
            )
            .await
            .unwrap());
        assert_eq!(scrape(&app).await["atsbridge_leases_held"], 1.0);
        app.store
            .release_lease(INTEGRATION, "elsewhere")
            .await
            .unwrap();
        assert_eq!(scrape(&app).await["atsbridge_leases_held"], 0.0);

        // The separate listener serves the same registry, without a key.
        let state = AppState::new(
            app.store.clone(),
            factory(),
            atsbridge_test_support::sagehr::tools(),
            app.engine.clone(),
            ServerConfig::default(),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let address = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(serve(
            listener,
            atsbridge_server::metrics::standalone(state),
            async move { stopped.cancelled().await },
        ));
        let open = app
            .http
            .get(format!("http://{address}/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(open.status(), 200);
        let open = parse(&open.text().await.unwrap());
        assert_eq!(open[runs], scrape(&app).await[runs]);
        let other = app
            .http
            .get(format!("http://{address}/v1/ats/jobs"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            other.status(),
            404,
            "the metrics listener serves nothing else"
        );
        stop.cancel();
    }
}
