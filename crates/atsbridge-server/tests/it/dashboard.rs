//! The operator dashboard over real HTTP: sign-in and its refusals, each page against what the
//! store holds, and each action's effect, on both backends.

use std::time::Duration;

use atsbridge_model::event::Event;
use atsbridge_model::integration::{IntegrationStatus, SyncKind};
use atsbridge_model::Timestamp;
use atsbridge_server::ServerConfig;
use atsbridge_store::{Attempt, DeliveryState};
use atsbridge_sync::{Engine, EngineConfig, Outcome};
use reqwest::{redirect, Method, StatusCode};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::{backends, factory, send, spawn_app, Options, TestApp, INTEGRATION};

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
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

/// A signed-in session: its cookie header and its CSRF token (read from a page's form).
struct Session {
    cookie: String,
    csrf: String,
}

async fn operator_key(app: &TestApp) -> String {
    app.store
        .create_operator_key("tests", Timestamp::now())
        .await
        .unwrap()
        .1
}

async fn sign_in(app: &TestApp, key: &str) -> reqwest::Response {
    client()
        .post(format!("{}/dashboard/sign-in", app.base))
        .form(&[("key", key)])
        .send()
        .await
        .unwrap()
}

async fn session(app: &TestApp) -> Session {
    let key = operator_key(app).await;
    let answer = sign_in(app, &key).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let set_cookie = answer.headers()["set-cookie"].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let (_, page) = get(app, &cookie, "/dashboard").await;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    Session { cookie, csrf }
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let answer = client()
        .get(format!("{}{path}", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (answer.status(), answer.text().await.unwrap())
}

async fn post(
    app: &TestApp,
    s: &Session,
    path: &str,
    csrf: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(extra);
    client()
        .post(format!("{}{path}", app.base))
        .header("cookie", &s.cookie)
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn only_a_signed_in_operator_sees_the_dashboard() {
    for db in backends().await {
        let app = spawn_app(options(db.as_ref().map(|d| d.url.clone()))).await;
        // No session: to the sign-in page.
        let (status, _) = get(&app, "", "/dashboard").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let answer = client()
            .get(format!("{}/dashboard/runs/x", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.headers()["location"], "/dashboard/sign-in");
        let (status, _) = get(&app, "atsb_dashboard=made-up", "/dashboard").await;
        assert_eq!(status, StatusCode::SEE_OTHER);

        // An API key cannot sign in.
        let refused = sign_in(&app, &app.key).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert!(refused.headers().get("set-cookie").is_none());

        // An operator key can, into a strict cookie; it cannot call /v1.
        let key = operator_key(&app).await;
        let answer = sign_in(&app, &key).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        let cookie = answer.headers()["set-cookie"].to_str().unwrap().to_owned();
        for part in ["HttpOnly", "SameSite=Strict", "Path=/dashboard"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(!cookie.contains("Secure"), "plain http: {cookie}");
        let (status, body) = send(
            app.http
                .get(format!("{}/v1/integrations/{INTEGRATION}", app.base))
                .bearer_auth(&key),
        )
        .await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"]["code"], "PLATFORM.AUTHENTICATION_INVALID");

        // A cross-site sign-in post is refused.
        let answer = client()
            .post(format!("{}/dashboard/sign-in", app.base))
            .header("sec-fetch-site", "cross-site")
            .form(&[("key", key.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN);

        let s = session(&app).await;
        let answer = client()
            .get(format!("{}/dashboard", app.base))
            .header("cookie", &s.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        let csp = answer.headers()["content-security-policy"]
            .to_str()
            .unwrap();
        for part in [
            "default-src 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "style-src 'self'",
        ] {
            assert!(csp.contains(part), "{csp}");
        }
        assert!(!csp.contains("script-src"), "{csp}");
        let html = answer.text().await.unwrap();
        assert!(!html.contains("<script"), "no script on the pages");

        // Sign-out needs the CSRF token, then ends the session.
        let refused = post(&app, &s, "/dashboard/sign-out", "wrong", &[]).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(get(&app, &s.cookie, "/dashboard").await.0, StatusCode::OK);
        let out = post(&app, &s, "/dashboard/sign-out", &s.csrf.clone(), &[]).await;
        assert_eq!(out.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            get(&app, &s.cookie, "/dashboard").await.0,
            StatusCode::SEE_OTHER
        );
    }
}

#[tokio::test]
async fn pages_show_what_the_store_holds() {
    for db in backends().await {
        let app = spawn_app(options(db.as_ref().map(|d| d.url.clone()))).await;
        let (status, hook) = send(
            app.request(Method::POST, "/v1/webhooks")
                .json(&json!({"url": "http://127.0.0.1:9/hook"})),
        )
        .await;
        assert_eq!(status, 200, "{hook}");
        app.sync().await;
        let (status, link) = send(
            app.http
                .post(format!("{}/v1/connect/create-link", app.base))
                .bearer_auth(&app.key)
                .json(&json!({
                    "end_user_email": "it@globex.example",
                    "end_user_organization_name": "Globex Link Co",
                    "integration_category": "ATS",
                    "integration_tool": "sagehr",
                })),
        )
        .await;
        assert_eq!(status, 200, "{link}");
        let s = session(&app).await;

        // Integrations: state, counts per model, the last run.
        let (status, page) = get(&app, &s.cookie, "/dashboard").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(INTEGRATION) && page.contains("Acme Ltd"),
            "{page}"
        );
        let counts = app.store.counts(INTEGRATION).await.unwrap();
        assert!(!counts.is_empty());
        for (model, n) in &counts {
            assert!(
                page.contains(&format!("{model}</span>: {n}")),
                "{model} {n}: {page}"
            );
        }
        let runs = app.store.runs(INTEGRATION, 10).await.unwrap();
        assert_eq!(runs.len(), 2);
        assert!(page.contains(&format!("/dashboard/runs/{}", runs[0].id)));
        assert!(
            page.contains("<svg") && page.matches("class=\"bar\"").count() == 2,
            "{page}"
        );

        // An integration: its runs and settings.
        let (_, page) = get(
            &app,
            &s.cookie,
            &format!("/dashboard/integrations/{INTEGRATION}"),
        )
        .await;
        for run in &runs {
            assert!(page.contains(&format!("data-run=\"{}\"", run.id)), "{page}");
        }
        assert!(page.contains("id=\"settings\""));
        assert!(page.contains("id=\"sync-now\""));
        let (status, _) = get(&app, &s.cookie, "/dashboard/integrations/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // A run: its log as the engine wrote it.
        let first = &runs[1];
        let log = app.store.run_log(&first.id).await.unwrap();
        let jobs = first.counts.inserted.get("ats_jobs").copied().unwrap_or(0);
        assert!(jobs > 0);
        assert!(
            log.iter().any(|l| l.message
                == format!("read {jobs} ats_jobs: {jobs} inserted, 0 updated, 0 unchanged")),
            "{log:?}"
        );
        assert!(
            log.iter().any(|l| l.message.starts_with("ended SUCCEEDED")),
            "{log:?}"
        );
        let (_, page) = get(&app, &s.cookie, &format!("/dashboard/runs/{}", first.id)).await;
        for line in &log {
            assert!(page.contains(&line.message), "{}: {page}", line.message);
        }
        let second = app.store.run_log(&runs[0].id).await.unwrap();
        assert!(
            second.iter().any(|l| l.message
                == format!("read {jobs} ats_jobs: 0 inserted, 0 updated, {jobs} unchanged")),
            "{second:?}"
        );

        // Deliveries, with their attempts and a redeliver button each.
        let deliveries = app.store.recent_deliveries(100).await.unwrap();
        assert!(!deliveries.is_empty());
        let (_, page) = get(&app, &s.cookie, "/dashboard/deliveries").await;
        for d in &deliveries {
            assert!(
                page.contains(&format!("data-delivery=\"{}\"", d.id)),
                "{page}"
            );
            assert!(page.contains(&format!("/dashboard/deliveries/{}/redeliver", d.id)));
            assert!(page.contains(&format!("href=\"/dashboard/deliveries/{}\"", d.id)));
        }
        // One delivery's page: every attempt, as the deliverer recorded it.
        let now = Timestamp::now();
        let claimed = app
            .store
            .claim_deliveries("it-deliverer", now, now.plus(Duration::from_secs(60)), 1)
            .await
            .unwrap()
            .remove(0);
        let refused = Attempt {
            status: None,
            latency_ms: 7,
            error: Some("could not connect: connection refused".into()),
            at: now,
            state: DeliveryState::Pending,
            next_attempt_at: now,
        };
        assert!(app
            .store
            .record_attempt(claimed.delivery.seq, "it-deliverer", &refused)
            .await
            .unwrap());
        let path = format!("/dashboard/deliveries/{}", claimed.delivery.id);
        let (status, page) = get(&app, &s.cookie, &path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("data-attempt=\"1\""), "{page}");
        assert!(!page.contains("data-attempt=\"2\""), "{page}");
        assert!(
            page.contains("could not connect: connection refused") && page.contains("no answer"),
            "{page}"
        );
        assert!(page.contains(&format!("{path}/redeliver")));
        let (status, _) = get(&app, &s.cookie, "/dashboard/deliveries/dlv_nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Links with their state.
        let (_, page) = get(&app, &s.cookie, "/dashboard/links").await;
        assert!(page.contains("Globex Link Co"), "{page}");
        assert!(page.contains("data-link-state=\"open\""), "{page}");
    }
}

#[tokio::test]
async fn actions_change_the_store_and_need_the_csrf_token() {
    for db in backends().await {
        let app = spawn_app(options(db.as_ref().map(|d| d.url.clone()))).await;
        let s = session(&app).await;
        let sync_path = format!("/dashboard/integrations/{INTEGRATION}/sync");
        let enabled_path = format!("/dashboard/integrations/{INTEGRATION}/enabled");

        // Without the right token nothing happens.
        for token in ["", "wrong"] {
            let refused = post(&app, &s, &sync_path, token, &[]).await;
            assert_eq!(refused.status(), StatusCode::FORBIDDEN);
            let refused = post(&app, &s, &enabled_path, token, &[("value", "false")]).await;
            assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        }
        assert_eq!(app.store.runs(INTEGRATION, 10).await.unwrap().len(), 1);
        let row = app.store.integration(INTEGRATION).await.unwrap().unwrap();
        assert_eq!(row.status, IntegrationStatus::Active);

        // Sync now: a second run, and back to the integration's page.
        let answer = post(&app, &s, &sync_path, &s.csrf, &[]).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            answer.headers()["location"].to_str().unwrap(),
            format!("/dashboard/integrations/{INTEGRATION}")
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let runs = app.store.runs(INTEGRATION, 10).await.unwrap();
            if runs.len() == 2 && runs[0].ended_at.is_some() {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no second run: {runs:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // Disable, then enable.
        let answer = post(&app, &s, &enabled_path, &s.csrf, &[("value", "false")]).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        let row = app.store.integration(INTEGRATION).await.unwrap().unwrap();
        assert_eq!(row.status, IntegrationStatus::Inactive);
        let (_, page) = get(
            &app,
            &s.cookie,
            &format!("/dashboard/integrations/{INTEGRATION}"),
        )
        .await;
        assert!(page.contains(">Enable</button>"), "{page}");
        let refused = post(&app, &s, &sync_path, &s.csrf, &[]).await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        post(&app, &s, &enabled_path, &s.csrf, &[("value", "true")]).await;
        let row = app.store.integration(INTEGRATION).await.unwrap().unwrap();
        assert_eq!(row.status, IntegrationStatus::Active);

        // Redeliver a failed delivery: pending and due again.
        let (status, hook) = send(
            app.request(Method::POST, "/v1/webhooks")
                .json(&json!({"url": "http://127.0.0.1:9/hook"})),
        )
        .await;
        assert_eq!(status, 200, "{hook}");
        app.sync().await;
        let delivery = app.store.recent_deliveries(1).await.unwrap().remove(0);
        app.store
            .test_execute(
                "UPDATE deliveries SET state = 'FAILED', next_attempt_at = 0 WHERE id = $1",
                &[&delivery.id],
            )
            .await
            .unwrap();
        let before = Timestamp::now();
        let path = format!("/dashboard/deliveries/{}/redeliver", delivery.id);
        assert_eq!(
            post(&app, &s, &path, "wrong", &[]).await.status(),
            StatusCode::FORBIDDEN
        );
        let answer = post(&app, &s, &path, &s.csrf, &[]).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        assert_eq!(answer.headers()["location"], "/dashboard/deliveries");
        let again = app.store.recent_deliveries(1).await.unwrap().remove(0);
        assert_eq!(again.id, delivery.id);
        assert_eq!(again.state.as_str(), "PENDING");
        assert!(again.next_attempt_at >= before);
        let missing = post(
            &app,
            &s,
            "/dashboard/deliveries/dlv_nope/redeliver",
            &s.csrf,
            &[],
        )
        .await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn sync_finished_points_to_the_runs_page() {
    let app = spawn_app(Options::default()).await;
    let engine = Engine::new(
        app.store.clone(),
        factory(),
        EngineConfig {
            worker_id: "log-url".into(),
            lease_ttl: Duration::from_secs(60),
        },
    )
    .with_log_url("https://ats.example/");
    let Outcome::Ran(run) = engine
        .run_once(INTEGRATION, SyncKind::Full, &CancellationToken::new())
        .await
        .unwrap()
    else {
        panic!("the run did not happen");
    };
    let events = app.store.events(0, 1000).await.unwrap();
    let finished = events
        .iter()
        .filter_map(|e| match e.typed() {
            Ok(Event::SyncFinished(f)) if f.sync_id == run.id => Some(f),
            _ => None,
        })
        .next()
        .expect("a sync-finished event of the run");
    let url = format!("https://ats.example/dashboard/runs/{}", run.id);
    assert_eq!(finished.log_url, url);
    assert_eq!(finished.webhook_data(Timestamp::now()).log_url, url);
}
