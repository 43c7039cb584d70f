//! Management endpoints (API key check, integrations, force sync, passthrough) and the
//! middleware around every route (rate limits, request ids, gzip, body limit, panics).

use atsbridge_model::integration::IntegrationStatus;
use atsbridge_model::{ErrorCode, Timestamp};
use atsbridge_server::{limits, AppState, ServerConfig};
use atsbridge_store::RunState;
use atsbridge_sync::{Engine, EngineConfig};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use atsbridge_test_support::assert::{code, header, message};
use atsbridge_test_support::sagehr::{self, end_user, new_integration};

use crate::helpers::{
    factory, send, spawn_app, Options, TestApp, ENVIRONMENT, INTEGRATION, SIM_KEY,
};

/// An integration of another environment, invisible to the test key.
const FOREIGN: &str = "sagehr:2wXyZaBcDeFgHjKmNpQrStUv";
/// An integration of the test environment whose Sage HR cannot be reached.
const UNREACHABLE: &str = "sagehr:9xYzAbCdEfGhJkLmNpQrStUv";

fn assert_error(status: u16, body: &Value, expected: ErrorCode) {
    assert_eq!(code(body), expected.as_str(), "{body}");
    assert_eq!(status, expected.http_status(), "{body}");
    assert_eq!(body["status"], "error", "{body}");
    assert!(body["error"]["title"].is_string(), "{body}");
}

/// A general endpoint's answer for a situation Kombo codes outside the general set
/// (`original`): `PLATFORM.INPUT_INVALID`, naming `original`, with the status kept.
fn assert_general(status: u16, body: &Value, expected_status: u16, original: &str) {
    assert_eq!(
        code(body),
        ErrorCode::PlatformInputInvalid.as_str(),
        "{body}"
    );
    assert_eq!(status, expected_status, "{body}");
    assert!(message(body).contains(original), "{body}");
}

/// A request with the API key but no `X-Integration-Id`.
fn keyed(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.http
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(&app.key)
}

fn anonymous(app: &TestApp, method: Method, path: &str) -> RequestBuilder {
    app.http.request(method, format!("{}{path}", app.base))
}

async fn add_integration(app: &TestApp, id: &str, environment: &str, base_url: &str) {
    let credentials = sagehr::credentials("acme", SIM_KEY, base_url);
    let integration = new_integration(id, environment, end_user("Other Ltd"), credentials);
    sagehr::add_integration(&app.store, integration).await;
}

async fn add_foreign(app: &TestApp) {
    add_integration(
        app,
        FOREIGN,
        "env_other",
        &format!("{}/{{subdomain}}/api", app.sim.url()),
    )
    .await;
}

/// The run `id` once the engine's background runs of the integration have ended (awaited,
/// not polled).
async fn wait_for_run_end(app: &TestApp, id: &str) -> atsbridge_store::RunRow {
    app.engine.settled(INTEGRATION).await;
    let run = app
        .store
        .run(id)
        .await
        .unwrap()
        .expect("the run is recorded");
    assert_ne!(run.state, RunState::Running, "{run:?}");
    run
}

/// The integration's `status` as `GET /integrations/{id}` reports it.
async fn status_of(app: &TestApp) -> String {
    let (_, body) = send(keyed(
        app,
        Method::GET,
        &format!("/v1/integrations/{INTEGRATION}"),
    ))
    .await;
    body["data"]["status"].as_str().unwrap().to_owned()
}

async fn events_of_kind(app: &TestApp, kind: &str) -> Vec<Value> {
    app.store
        .events(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.payload)
        .collect()
}

// ---------------------------------------------------------------------------------------
// GET /check-api-key
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn check_api_key_answers_the_environment() {
    let app = spawn_app(Options {
        sync: false,
        ..Default::default()
    })
    .await;
    let (status, body) = send(keyed(&app, Method::GET, "/v1/check-api-key")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"status": "success", "data": {"environment_id": ENVIRONMENT}})
    );

    let (status, body) = send(anonymous(&app, Method::GET, "/v1/check-api-key")).await;
    assert_error(status, &body, ErrorCode::PlatformAuthenticationInvalid);
    let (status, body) =
        send(anonymous(&app, Method::GET, "/v1/check-api-key").bearer_auth("atsb_not-a-key")).await;
    assert_error(status, &body, ErrorCode::PlatformAuthenticationInvalid);
    let (status, body) = send(
        anonymous(&app, Method::GET, "/v1/check-api-key")
            .header("Authorization", format!("Basic {}", app.key)),
    )
    .await;
    assert_error(status, &body, ErrorCode::PlatformAuthenticationInvalid);
}

// ---------------------------------------------------------------------------------------
// GET /integrations/{id}
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn integration_object_has_kombos_shape_and_coverage() {
    let app = spawn_app(Options::default()).await;
    let (status, body) = send(keyed(
        &app,
        Method::GET,
        &format!("/v1/integrations/{INTEGRATION}"),
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "success");
    let data = &body["data"];
    assert_eq!(data["id"], INTEGRATION);
    assert_eq!(data["tool"]["id"], "sagehr");
    assert_eq!(data["tool"]["label"], "Sage HR");
    assert_eq!(data["tool"]["internal_label"], Value::Null);
    assert_eq!(data["category"], "ATS");
    assert_eq!(data["status"], "ACTIVE");
    assert_eq!(data["setup_status"], "COMPLETED");
    assert_eq!(
        data["end_user"],
        json!({"organization_name": "Acme Ltd", "creator_email": "it@acme.example", "origin_id": "acme-1"})
    );
    assert_eq!(
        data["scope_config"],
        json!({"id": "default", "name": "Default"})
    );
    assert_eq!(data["data_expired_at"], Value::Null);
    assert_eq!(data["beta"], false);
    let created = data["created_at"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && created.len() == "2026-01-02T03:04:05.678Z".len(),
        "{created}"
    );

    let models = data["read_models"].as_array().unwrap();
    let model = |id: &str| {
        models
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("no read model {id}"))
    };
    for id in [
        "ats_jobs",
        "ats_candidates",
        "ats_applications",
        "ats_application_stages",
    ] {
        let m = model(id);
        assert_eq!(m["coverage_status"], "SUPPORTED", "{id}");
        assert_eq!(m["is_available"], true, "{id}");
        assert_eq!(m["scope_config_setting"], "ENABLED", "{id}");
        assert_eq!(m["opted_out_by_customer"], false, "{id}");
        assert!(m["label"].is_string());
        assert!(!m["fields"].as_array().unwrap().is_empty(), "{id}");
    }
    let field = |model_id: &str, field_id: &str| {
        model(model_id)["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == field_id)
            .cloned()
            .unwrap_or_else(|| panic!("no field {model_id}.{field_id}"))
    };
    assert_eq!(field("ats_jobs", "name")["coverage_status"], "SUPPORTED");
    assert_eq!(field("ats_jobs", "name")["is_available"], true);
    assert_eq!(
        field("ats_jobs", "salary_amount")["coverage_status"],
        "UNSUPPORTED"
    );
    assert_eq!(field("ats_jobs", "salary_amount")["is_available"], false);
    assert_eq!(
        field("ats_jobs", "hiring_team")["coverage_status"],
        "SUPPORTED"
    );
    assert_eq!(
        field("ats_candidates", "email_addresses")["coverage_status"],
        "SUPPORTED"
    );
    assert_eq!(
        field("ats_applications", "outcome")["coverage_status"],
        "SUPPORTED"
    );
    assert_eq!(
        field("ats_application_stages", "name")["coverage_status"],
        "SUPPORTED"
    );
    for f in model("ats_jobs")["fields"].as_array().unwrap() {
        for key in [
            "id",
            "is_available",
            "coverage_status",
            "scope_config_setting",
            "opted_out_by_customer",
        ] {
            assert!(f.get(key).is_some(), "{f} lacks {key}");
        }
    }
    for id in [
        "ats_users",
        "ats_tags",
        "ats_interviews",
        "ats_offers",
        "ats_job_postings",
    ] {
        let m = model(id);
        assert_eq!(m["coverage_status"], "UNSUPPORTED", "{id}");
        assert_eq!(m["is_available"], false, "{id}");
    }

    let actions = data["write_actions"].as_array().unwrap();
    for id in ["ats_create_application", "ats_create_candidate"] {
        let a = actions
            .iter()
            .find(|a| a["id"] == id)
            .unwrap_or_else(|| panic!("no write action {id}"));
        assert_eq!(a["coverage_status"], "SUPPORTED");
        assert_eq!(a["is_available"], true);
        let fields = a["fields"].as_array().unwrap();
        for f in [
            "candidate.first_name",
            "candidate.last_name",
            "candidate.email_address",
            "candidate.phone_number",
            "candidate.title",
            "candidate.location.street_1",
            "candidate.location.zip_code",
            "candidate.location.city",
            "candidate.location.state",
            "candidate.location.country",
            "attachments",
            "source",
        ] {
            let f = fields
                .iter()
                .find(|x| x["id"] == f)
                .unwrap_or_else(|| panic!("{id} lacks {f}"));
            assert_eq!(f["coverage_status"], "SUPPORTED");
            assert_eq!(f.as_object().unwrap().len(), 3, "{f}");
        }
        let stage = if id == "ats_create_application" {
            "stage_id"
        } else {
            "application.stage_id"
        };
        assert_eq!(
            fields.iter().find(|x| x["id"] == stage).unwrap()["coverage_status"],
            "UNSUPPORTED"
        );
    }

    // The logos are served by us, at the host the caller used.
    for key in ["logo_url", "icon_url"] {
        let url = data["tool"][key].as_str().unwrap();
        assert!(url.starts_with(&app.base), "{url}");
        let response = app.http.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-type"), Some("image/svg+xml"));
        assert!(response.text().await.unwrap().starts_with("<svg"));
    }
}

#[tokio::test]
async fn integration_lookups_are_scoped_to_the_environment() {
    let app = spawn_app(Options {
        sync: false,
        ..Default::default()
    })
    .await;
    add_foreign(&app).await;
    for id in ["sagehr:doesNotExist1234567890abc", FOREIGN] {
        let (status, body) =
            send(keyed(&app, Method::GET, &format!("/v1/integrations/{id}"))).await;
        assert_error(status, &body, ErrorCode::PlatformIntegrationNotFound);
        assert!(message(&body).contains(id), "{body}");
    }
    let (status, body) = send(anonymous(
        &app,
        Method::GET,
        &format!("/v1/integrations/{INTEGRATION}"),
    ))
    .await;
    assert_error(status, &body, ErrorCode::PlatformAuthenticationInvalid);
    // A fresh integration is pending its first sync.
    let (_, body) = send(keyed(
        &app,
        Method::GET,
        &format!("/v1/integrations/{INTEGRATION}"),
    ))
    .await;
    assert_eq!(body["data"]["setup_status"], "FINAL_SYNC_PENDING");
}

// ---------------------------------------------------------------------------------------
// DELETE /integrations/{id}
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn delete_removes_everything_and_emits_an_event() {
    let app = spawn_app(Options::default()).await;
    add_foreign(&app).await;
    let before = app.store.counts(INTEGRATION).await.unwrap();
    assert!(before.values().sum::<i64>() > 0, "{before:?}");

    // Another environment's integration cannot be deleted (nor seen).
    let (status, body) = send(keyed(
        &app,
        Method::DELETE,
        &format!("/v1/integrations/{FOREIGN}"),
    ))
    .await;
    assert_error(status, &body, ErrorCode::PlatformIntegrationNotFound);
    assert!(app.store.integration(FOREIGN).await.unwrap().is_some());
    let (status, body) = send(anonymous(
        &app,
        Method::DELETE,
        &format!("/v1/integrations/{INTEGRATION}"),
    ))
    .await;
    assert_error(status, &body, ErrorCode::PlatformAuthenticationInvalid);

    let (status, body) = send(keyed(
        &app,
        Method::DELETE,
        &format!("/v1/integrations/{INTEGRATION}"),
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"status": "success", "data": {}}));
    assert!(app
        .store
        .counts(INTEGRATION)
        .await
        .unwrap()
        .values()
        .all(|&n| n == 0));
    assert!(app.store.integration(INTEGRATION).await.unwrap().is_none());
    assert!(app.store.credentials(INTEGRATION).await.is_err());
    assert!(app.store.runs(INTEGRATION, 10).await.unwrap().is_empty());

    let events = events_of_kind(&app, "integration-deleted").await;
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e["id"], INTEGRATION);
    assert_eq!(e["tool"], "sagehr");
    assert_eq!(e["category"], "ATS");
    assert_eq!(e["end_user"]["organization_name"], "Acme Ltd");
    assert!(
        Timestamp::parse(e["deleted_at"].as_str().unwrap()).is_ok(),
        "{e}"
    );

    for method in [Method::GET, Method::DELETE] {
        let (status, body) = send(keyed(
            &app,
            method,
            &format!("/v1/integrations/{INTEGRATION}"),
        ))
        .await;
        assert_error(status, &body, ErrorCode::PlatformIntegrationNotFound);
    }
    // Integration-scoped routes no longer know it either.
    let (status, body) = send(app.request(Method::POST, "/v1/force-sync")).await;
    assert_error(status, &body, ErrorCode::PlatformIntegrationNotFound);
}

// ---------------------------------------------------------------------------------------
// PUT /integrations/{id}/enabled
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn enabling_and_disabling() {
    let app = spawn_app(Options::default()).await;
    add_foreign(&app).await;
    let path = format!("/v1/integrations/{INTEGRATION}/enabled");

    let (status, body) = send(keyed(&app, Method::PUT, &path).json(&json!({"value": false}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"status": "success", "data": {}}));
    assert_eq!(status_of(&app).await, "INACTIVE");
    let changed = events_of_kind(&app, "integration-state-changed").await;
    assert_eq!(changed.last().unwrap()["state"], "INACTIVE");

    // A disabled integration neither syncs nor passes requests through (general endpoints:
    // a general code, the original one in the message, the status kept).
    let (status, body) = send(app.request(Method::POST, "/v1/force-sync")).await;
    assert_general(status, &body, 403, "INTEGRATION.INACTIVE");
    let (status, body) = send(
        app.request(Method::POST, "/v1/passthrough/sagehr/api")
            .json(&json!({"method": "GET", "path": "/recruitment/positions"})),
    )
    .await;
    assert_general(status, &body, 403, "INTEGRATION.INACTIVE");

    let (status, body) = send(keyed(&app, Method::PUT, &path).json(&json!({"value": true}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(status_of(&app).await, "ACTIVE");
    // Setting the same state twice is fine and emits nothing new.
    let n = events_of_kind(&app, "integration-state-changed")
        .await
        .len();
    let (status, _) = send(keyed(&app, Method::PUT, &path).json(&json!({"value": true}))).await;
    assert_eq!(status, 200);
    assert_eq!(
        events_of_kind(&app, "integration-state-changed")
            .await
            .len(),
        n
    );

    // Enabling does not make rejected credentials valid.
    assert!(app
        .store
        .mark_credentials_invalid(INTEGRATION, 1)
        .await
        .unwrap());
    let (status, _) = send(keyed(&app, Method::PUT, &path).json(&json!({"value": true}))).await;
    assert_eq!(status, 200);
    assert_eq!(status_of(&app).await, "INVALID");
    let (status, _) = send(keyed(&app, Method::PUT, &path).json(&json!({"value": false}))).await;
    assert_eq!(status, 200);
    assert_eq!(status_of(&app).await, "INACTIVE");
    let (status, _) = send(keyed(&app, Method::PUT, &path).json(&json!({"value": true}))).await;
    assert_eq!(status, 200);
    assert_eq!(status_of(&app).await, "INVALID");
    assert_eq!(
        app.store
            .integration(INTEGRATION)
            .await
            .unwrap()
            .unwrap()
            .status,
        IntegrationStatus::Invalid
    );
    // … and an INVALID integration cannot be force-synced until new credentials arrive.
    let (status, body) = send(app.request(Method::POST, "/v1/force-sync")).await;
    assert_general(status, &body, 403, "INTEGRATION.AUTHENTICATION_INVALID");

    // Bad bodies name the field.
    for (raw, field) in [
        (r#"{}"#, "`value`"),
        (r#"{"value": "yes"}"#, "value:"),
        (r#"{"value": null}"#, "value:"),
        (r#"{"value": tr"#, "body: malformed JSON"),
        (r#"[true]"#, "body:"),
        ("", "body:"),
    ] {
        let (status, body) = send(
            keyed(&app, Method::PUT, &path)
                .header("content-type", "application/json")
                .body(raw),
        )
        .await;
        assert_error(status, &body, ErrorCode::PlatformInputInvalid);
        assert!(message(&body).contains(field), "{raw}: {body}");
    }
    // The id in the path is checked against the caller's environment.
    let (status, body) = send(
        keyed(
            &app,
            Method::PUT,
            &format!("/v1/integrations/{FOREIGN}/enabled"),
        )
        .json(&json!({"value": false})),
    )
    .await;
    assert_error(status, &body, ErrorCode::PlatformIntegrationNotFound);
    assert_eq!(
        app.store
            .integration(FOREIGN)
            .await
            .unwrap()
            .unwrap()
            .status,
        IntegrationStatus::Active
    );
    let (status, body) =
        send(anonymous(&app, Method::PUT, &path).json(&json!({"value": false}))).await;
    assert_error(status, &body, ErrorCode::PlatformAuthenticationInvalid);
}

// ---------------------------------------------------------------------------------------
// POST /force-sync
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn force_sync_runs_a_sync_whose_id_it_answers() {
    let app = spawn_app(Options {
        sync: false,
        ..Default::default()
    })
    .await;
    assert!(app.store.runs(INTEGRATION, 10).await.unwrap().is_empty());

    // An empty body is allowed.
    let (status, body) = send(app.request(Method::POST, "/v1/force-sync")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "success");
    assert_eq!(body["data"]["already_queued"], false);
    assert_eq!(body["data"]["type"], "FULL");
    let sync_id = body["data"]["sync_id"].as_str().unwrap().to_owned();
    let run = wait_for_run_end(&app, &sync_id).await;
    assert_eq!(run.state, RunState::Succeeded, "{run:?}");
    assert_eq!(
        run.requested_kind,
        atsbridge_model::integration::SyncKind::Full
    );
    assert!(
        app.store
            .counts(INTEGRATION)
            .await
            .unwrap()
            .get("ats_jobs")
            .copied()
            .unwrap_or(0)
            > 0
    );
    let (_, body) = send(keyed(
        &app,
        Method::GET,
        &format!("/v1/integrations/{INTEGRATION}"),
    ))
    .await;
    assert_eq!(body["data"]["setup_status"], "COMPLETED");

    // A slow Sage HR keeps the next run going while a second call arrives: that call is
    // told the sync is already queued, with the same id.
    app.sim
        .control(
            Method::POST,
            "faults",
            json!({"kind": "latency", "latency_ms": 250, "count": 7}),
        )
        .await;
    let (status, first) = send(
        app.request(Method::POST, "/v1/force-sync")
            .json(&json!({"type": "DELTA"})),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["data"]["already_queued"], false);
    assert_eq!(first["data"]["type"], "FULL", "Sage HR has no delta API");
    let (status, second) = send(app.request(Method::POST, "/v1/force-sync").json(&json!({}))).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["data"]["already_queued"], true, "{second}");
    assert_eq!(second["data"]["sync_id"], first["data"]["sync_id"]);
    let run = wait_for_run_end(&app, first["data"]["sync_id"].as_str().unwrap()).await;
    assert_eq!(run.state, RunState::Succeeded, "{run:?}");
    assert_eq!(
        (run.kind.as_str(), run.requested_kind.as_str()),
        ("FULL", "DELTA")
    );
    app.sim.control(Method::DELETE, "faults", Value::Null).await;
    assert_eq!(app.store.runs(INTEGRATION, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn force_sync_after_a_crashed_run_replaces_it_instead_of_pointing_at_it() {
    let app = spawn_app(Options {
        sync: false,
        ..Default::default()
    })
    .await;
    // A worker took the lease, recorded its run, and died: its lease has lapsed.
    let past = Timestamp::from_unix_millis(1_000).unwrap();
    assert!(app
        .store
        .try_lease(INTEGRATION, "dead-worker", past, past)
        .await
        .unwrap());
    let dead = atsbridge_store::RunRow {
        id: "sync_00000000000000d1".into(),
        integration_id: INTEGRATION.into(),
        kind: atsbridge_model::integration::SyncKind::Full,
        requested_kind: atsbridge_model::integration::SyncKind::Full,
        state: RunState::Running,
        worker: "dead-worker".into(),
        started_at: Timestamp::now(),
        ended_at: None,
        counts: Default::default(),
        upstream_requests: 0,
        error: None,
    };
    app.store.start_run(&dead).await.unwrap();

    let (status, body) = send(app.request(Method::POST, "/v1/force-sync")).await;
    assert_eq!(status, 200, "{body}");
    // The dead run's replacement was queued when it was found dead; this call serves it at
    // once and answers the new run's id, never the dead one's.
    let sync_id = body["data"]["sync_id"].as_str().unwrap().to_owned();
    assert_ne!(sync_id, dead.id);
    let run = wait_for_run_end(&app, &sync_id).await;
    assert_eq!(run.state, RunState::Succeeded, "{run:?}");
    let dead = app.store.run(&dead.id).await.unwrap().unwrap();
    assert_eq!(dead.state, RunState::Failed);
    assert!(dead.error.unwrap().contains("abandoned"));
}

#[tokio::test]
async fn force_sync_rejects_bad_requests() {
    let app = spawn_app(Options {
        sync: false,
        ..Default::default()
    })
    .await;
    add_foreign(&app).await;
    for (raw, field) in [
        (r#"{"type": "WEEKLY"}"#, "type:"),
        (r#"{"type": 5}"#, "type:"),
        (r#"{"type": "FULL""#, "body: malformed JSON"),
        (r#""FULL""#, "body:"),
    ] {
        let (status, body) = send(
            app.request(Method::POST, "/v1/force-sync")
                .header("content-type", "application/json")
                .body(raw),
        )
        .await;
        assert_error(status, &body, ErrorCode::PlatformInputInvalid);
        assert!(message(&body).contains(field), "{raw}: {body}");
    }
    let (status, body) = send(keyed(&app, Method::POST, "/v1/force-sync")).await;
    assert_error(status, &body, ErrorCode::PlatformInputInvalid);
    assert!(message(&body).contains("X-Integration-Id"), "{body}");
    let (status, body) =
        send(keyed(&app, Method::POST, "/v1/force-sync").header("X-Integration-Id", FOREIGN)).await;
    assert_error(status, &body, ErrorCode::PlatformIntegrationNotFound);
    let (status, body) = send(
        anonymous(&app, Method::POST, "/v1/force-sync").header("X-Integration-Id", INTEGRATION),
    )
    .await;
    assert_error(status, &body, ErrorCode::PlatformAuthenticationInvalid);
    // Nothing was queued by the refused calls.
    let row = app.store.integration(INTEGRATION).await.unwrap().unwrap();
    assert!(
        row.sync_requested_at.is_none() && app.store.runs(INTEGRATION, 1).await.unwrap().is_empty()
    );
}

// ---------------------------------------------------------------------------------------
// POST /passthrough/sagehr/api
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn passthrough_calls_sage_hr_with_the_integrations_credentials() {
    let app = spawn_app(Options {
        sync: false,
        ..Default::default()
    })
    .await;
    let call = |body: Value| {
        send(
            app.request(Method::POST, "/v1/passthrough/sagehr/api")
                .json(&body),
        )
    };

    let (status, body) = call(json!({"method": "GET", "path": "/recruitment/positions"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "success");
    assert_eq!(body["warnings"], json!([]));
    let data = &body["data"];
    assert_eq!(data["status"], 200);
    let url = data["url"].as_str().unwrap();
    assert!(
        url.starts_with(&app.sim.url()) && url.ends_with("/acme/api/recruitment/positions"),
        "{url}"
    );
    assert_eq!(data["data"]["data"].as_array().unwrap().len(), 6, "{data}");
    assert!(data["headers"].is_object());
    assert!(data["headers"]
        .as_object()
        .unwrap()
        .keys()
        .all(|k| !k.eq_ignore_ascii_case("x-auth-token")));
    assert!(
        !body.to_string().contains(SIM_KEY),
        "the Sage HR key leaked: {body}"
    );

    // Parameters, including a query written into the path; lowercase methods are accepted.
    let (status, body) = call(
        json!({"method": "get", "path": "recruitment/positions?page=1", "params": {"per_page": 2}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["data"]["data"].as_array().unwrap().len(),
        2,
        "{body}"
    );
    assert!(body["data"]["url"].as_str().unwrap().contains("per_page=2"));

    // The remote status passes through: a Sage HR 404 is a successful passthrough.
    let (status, body) =
        call(json!({"method": "GET", "path": "/recruitment/positions/987654321"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], 404, "{body}");
    assert_eq!(body["data"]["data"]["error_code"], "not_found", "{body}");

    // `response_as_base64`: the body byte for byte, base64-encoded.
    let (status, plain) =
        call(json!({"method": "GET", "path": "/recruitment/positions", "params": {"per_page": 3}}))
            .await;
    assert_eq!(status, 200, "{plain}");
    let (status, body) = call(json!({"method": "GET", "path": "/recruitment/positions",
        "params": {"per_page": 3}, "response_as_base64": true}))
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["warnings"].as_array().unwrap().is_empty(), "{body}");
    let bytes = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        body["data"]["data"].as_str().expect("a base64 string"),
    )
    .unwrap();
    let decoded: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(decoded, plain["data"]["data"]);
}

#[tokio::test]
async fn passthrough_rejects_bad_requests_and_reports_connector_errors() {
    let app = spawn_app(Options {
        sync: false,
        ..Default::default()
    })
    .await;
    add_foreign(&app).await;
    for (raw, field) in [
        (json!({"path": "/recruitment/positions"}).to_string(), "`method`"),
        (json!({"method": "GET"}).to_string(), "`path`"),
        (json!({"method": "FETCH", "path": "/x"}).to_string(), "method:"),
        (json!({"method": 1, "path": "/x"}).to_string(), "method:"),
        (json!({"method": "GET", "path": "/../admin"}).to_string(), "path:"),
        (json!({"method": "GET", "path": ""}).to_string(), "path:"),
        (json!({"method": "GET", "path": "/x", "headers": {"X-A": {"b": 1}}}).to_string(), "headers.X-A:"),
        (json!({"method": "GET", "path": "/x", "headers": "X-A: 1"}).to_string(), "headers:"),
        (json!({"method": "GET", "path": "/x", "params": {"ids": [1, 2]}}).to_string(), "params.ids:"),
        (json!({"method": "POST", "path": "/x", "multipart_form_data": [{"name": "a", "value": "b"}]}).to_string(), "multipart_form_data:"),
        ("{\"method\": ".to_owned(), "body: malformed JSON"),
        (String::new(), "body:"),
    ] {
        let (status, body) = send(app.request(Method::POST, "/v1/passthrough/sagehr/api").header("content-type", "application/json").body(raw.clone())).await;
        assert_error(status, &body, ErrorCode::PlatformInputInvalid);
        assert!(message(&body).contains(field), "{raw}: {body}");
    }
    // Another tool's passthrough is not this integration's.
    let (status, body) = send(
        app.request(Method::POST, "/v1/passthrough/greenhouse/harvest")
            .json(&json!({"method": "GET", "path": "/jobs"})),
    )
    .await;
    assert_error(status, &body, ErrorCode::PlatformInputInvalid);
    let (status, body) = send(
        keyed(&app, Method::POST, "/v1/passthrough/sagehr/api")
            .json(&json!({"method": "GET", "path": "/x"})),
    )
    .await;
    assert_error(status, &body, ErrorCode::PlatformInputInvalid);
    assert!(message(&body).contains("X-Integration-Id"));
    let (status, body) = send(
        keyed(&app, Method::POST, "/v1/passthrough/sagehr/api")
            .header("X-Integration-Id", FOREIGN)
            .json(&json!({"method": "GET", "path": "/x"})),
    )
    .await;
    assert_error(status, &body, ErrorCode::PlatformIntegrationNotFound);

    // Sage HR cannot be reached: 503 with a general code naming the connector's code and
    // keeping its message.
    add_integration(
        &app,
        UNREACHABLE,
        ENVIRONMENT,
        "http://127.0.0.1:1/{subdomain}/api",
    )
    .await;
    let (status, body) = send(
        keyed(&app, Method::POST, "/v1/passthrough/sagehr/api")
            .header("X-Integration-Id", UNREACHABLE)
            .json(&json!({"method": "GET", "path": "/recruitment/positions"})),
    )
    .await;
    assert_eq!(
        code(&body),
        ErrorCode::PlatformUnknownError.as_str(),
        "{body}"
    );
    assert_eq!(status, 503, "{body}");
    assert!(
        message(&body).contains("REMOTE.SERVICE_UNAVAILABLE"),
        "{body}"
    );
    assert!(!message(&body).is_empty());
    assert!(!body.to_string().contains(SIM_KEY));
}

#[tokio::test]
async fn passthrough_never_leaves_the_accounts_api_whatever_the_encoding() {
    let app = spawn_app(Options {
        sync: false,
        ..Default::default()
    })
    .await;
    // The simulator serves its control API (with every tenant's keys) on the same host as
    // the account's API: the target of an escape.
    for path in [
        "/%2e%2e/%2e%2e/_sim/acme/stats",
        "/%2E%2E/%2E%2E/_sim/tenants",
        "/.%2e/.%2e/_sim/tenants",
        "/%252e%252e/%252e%252e/_sim/tenants",
        "/..%2f..%2f_sim/tenants",
        "/..%5c..%5c_sim/tenants",
        "/..\\..\\_sim/tenants",
        "/..;/..;/_sim/tenants",
        "/x/..;/_sim",
        "//127.0.0.1/_sim/tenants",
        "///_sim/tenants",
        "/recruitment//positions",
        "http://127.0.0.1/_sim/tenants",
        "/recruitment/positions;jsessionid=1",
    ] {
        let (status, body) = send(
            app.request(Method::POST, "/v1/passthrough/sagehr/api")
                .json(&json!({"method": "GET", "path": path})),
        )
        .await;
        assert_error(status, &body, ErrorCode::PlatformInputInvalid);
        assert!(message(&body).contains("path"), "{path}: {body}");
    }
}

// ---------------------------------------------------------------------------------------
// Middleware
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn rate_limit_per_key_with_headers_and_429() {
    let config = ServerConfig {
        rate_limit_per_minute: 3,
        ..Default::default()
    };
    let app = spawn_app(Options {
        sync: false,
        config,
        ..Default::default()
    })
    .await;

    // Requests without a valid key are not counted and carry no rate limit headers.
    let response = anonymous(&app, Method::GET, "/v1/check-api-key")
        .bearer_auth("atsb_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(header(&response, "ratelimit-limit").is_none());

    for remaining in [2, 1, 0] {
        let response = keyed(&app, Method::GET, "/v1/check-api-key")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "ratelimit-limit"), Some("3"));
        assert_eq!(
            header(&response, "ratelimit-remaining").unwrap(),
            remaining.to_string()
        );
        let reset: u64 = header(&response, "ratelimit-reset")
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&reset), "{reset}");
    }
    let response = keyed(&app, Method::GET, "/v1/check-api-key")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = header(&response, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(header(&response, "ratelimit-remaining"), Some("0"));
    assert_eq!(header(&response, "ratelimit-limit"), Some("3"));
    let body: Value = response.json().await.unwrap();
    assert_error(429, &body, ErrorCode::PlatformRateLimitExceeded);

    // Every route is limited for that key; others are not.
    let (status, body) = send(app.request(Method::POST, "/v1/force-sync")).await;
    assert_error(status, &body, ErrorCode::PlatformRateLimitExceeded);
    let (other, other_key) = app
        .store
        .create_api_key(ENVIRONMENT, "other", Timestamp::now())
        .await
        .unwrap();
    assert_ne!(other.id, "");
    let response = anonymous(&app, Method::GET, "/v1/check-api-key")
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "ratelimit-remaining"), Some("2"));
    assert_eq!(
        anonymous(&app, Method::GET, "/health")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn gzip_when_asked() {
    let app = spawn_app(Options {
        sync: false,
        ..Default::default()
    })
    .await;
    let path = format!("/v1/integrations/{INTEGRATION}");
    let response = keyed(&app, Method::GET, &path)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-encoding"), Some("gzip"));
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
    let response = keyed(&app, Method::GET, &path).send().await.unwrap();
    assert!(header(&response, "content-encoding").is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["id"], INTEGRATION);
}

#[tokio::test]
async fn every_response_has_a_request_id() {
    let app = spawn_app(Options {
        sync: false,
        ..Default::default()
    })
    .await;
    let response = anonymous(&app, Method::GET, "/health")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let id = header(&response, "x-request-id").unwrap().to_owned();
    assert!(
        id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
    assert_eq!(response.text().await.unwrap(), "ok");
    let again = anonymous(&app, Method::GET, "/health")
        .send()
        .await
        .unwrap();
    assert_ne!(header(&again, "x-request-id").unwrap(), id);
    // Errors carry one too, and a caller's own id is kept.
    let response = anonymous(&app, Method::GET, "/v1/check-api-key")
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(header(&response, "x-request-id"), Some("trace-abc-123"));
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_in_the_envelope() {
    let config = ServerConfig {
        body_limit_bytes: 1024,
        ..Default::default()
    };
    let app = spawn_app(Options {
        sync: false,
        config,
        ..Default::default()
    })
    .await;
    let big = json!({"type": "FULL", "padding": "x".repeat(4096)});
    let (status, body) = send(app.request(Method::POST, "/v1/force-sync").json(&big)).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(code(&body), "PLATFORM.INPUT_INVALID", "{body}");
    assert!(message(&body).contains("1024"), "{body}");
    let (status, body) = send(
        app.request(Method::POST, "/v1/passthrough/sagehr/api")
            .json(&json!({"method": "POST", "path": "/x", "data": big})),
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["status"], "error");
    // A body under the limit is fine.
    let (status, body) = send(
        app.request(Method::POST, "/v1/force-sync")
            .json(&json!({"type": "FULL"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn health_and_framework_errors_in_the_envelope() {
    let app = spawn_app(Options {
        sync: false,
        ..Default::default()
    })
    .await;
    let (status, body) = send(anonymous(&app, Method::GET, "/health")).await;
    assert_eq!((status, body), (200, Value::String("ok".into())));
    // A wrong method on a known route answers in the envelope, not axum's empty 405.
    let (status, body) = send(app.request(Method::GET, "/v1/force-sync")).await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(code(&body), "PLATFORM.INPUT_INVALID", "{body}");
    let (status, body) = send(keyed(
        &app,
        Method::PATCH,
        &format!("/v1/integrations/{INTEGRATION}"),
    ))
    .await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(body["status"], "error");
}

async fn boom() -> &'static str {
    panic!("boom")
}

#[tokio::test]
async fn a_panicking_handler_answers_500_in_the_envelope_and_the_server_lives_on() {
    let (store, _dir) = atsbridge_store::testing::sqlite().await;
    let engine = Engine::new(store.clone(), factory(), EngineConfig::default());
    let state = AppState::new(
        store,
        factory(),
        sagehr::tools(),
        engine,
        ServerConfig::default(),
    );
    let router = axum::Router::new()
        .route("/boom", axum::routing::get(boom))
        .route("/fine", axum::routing::get(|| async { "fine" }));
    let app = limits::layers(router, state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(atsbridge_server::serve(listener, app, async move {
        stop.cancelled().await;
    }));
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..2 {
        let response = http.get(format!("{base}/boom")).send().await.unwrap();
        assert_eq!(response.status(), 500);
        assert!(header(&response, "x-request-id").is_some());
        let body: Value = response.json().await.unwrap();
        assert_error(500, &body, ErrorCode::PlatformUnknownError);
        assert!(
            !body.to_string().contains("boom"),
            "panic messages stay in the log: {body}"
        );
    }
    assert_eq!(
        http.get(format!("{base}/fine"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "fine"
    );
    shutdown.cancel();
}

#[tokio::test]
async fn tools_lists_sage_hr_with_its_coverage_for_ats() {
    let app = spawn_app(Options {
        sync: false,
        ..Default::default()
    })
    .await;
    let (status, body) = send(keyed(&app, Method::GET, "/v1/tools/ats")).await;
    assert_eq!(status, 200, "{body}");
    let tools = body["data"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1);
    let t = &tools[0];
    assert_eq!(t["id"], "sagehr");
    assert_eq!(t["label"], "Sage HR");
    assert!(t["assets"]["logo_url"]
        .as_str()
        .unwrap()
        .ends_with("/assets/sagehr-logo.svg"));
    let models = t["coverage"]["read_models"].as_array().unwrap();
    let jobs = models.iter().find(|m| m["id"] == "ats_jobs").unwrap();
    assert_eq!(jobs["coverage_status"], "SUPPORTED");
    assert!(models
        .iter()
        .any(|m| m["id"] == "ats_users" && m["coverage_status"] == "UNSUPPORTED"));
    assert!(t["coverage"]["write_actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == "ats_create_application"));
    // HRIS lists Sage HR's second descriptor; a category without tools lists none.
    let (status, body) = send(keyed(&app, Method::GET, "/v1/tools/hris")).await;
    assert_eq!(status, 200, "{body}");
    let hris = &body["data"]["tools"][0];
    assert_eq!(hris["id"], "sagehr", "{body}");
    assert!(hris["coverage"]["read_models"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == "hris_employees" && m["coverage_status"] == "SUPPORTED"));
    assert!(hris["coverage"]["write_actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == "hris_create_absence" && a["coverage_status"] == "UNSUPPORTED"));
    let (status, body) = send(keyed(&app, Method::GET, "/v1/tools/lms")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["tools"], json!([]));
    let (status, body) = send(keyed(&app, Method::GET, "/v1/tools/crm")).await;
    assert_error(status, &body, ErrorCode::PlatformInputInvalid);
    assert!(message(&body).contains("category"));
    let (status, body) = send(anonymous(&app, Method::GET, "/v1/tools/ats")).await;
    assert_error(status, &body, ErrorCode::PlatformAuthenticationInvalid);
}

/// A tool no part of the server names, registered as the CLI registers Sage HR.
const FAKE: atsbridge_model::tool::ToolDescriptor = atsbridge_model::tool::ToolDescriptor {
    slug: "faketool",
    label: "Fake Tool",
    category: atsbridge_model::integration::Category::Ats,
    logo_svg: "<svg>fake logo</svg>",
    icon_svg: "<svg>fake icon</svg>",
    read_models: &[atsbridge_model::tool::Coverage {
        id: "ats_jobs",
        label: "Jobs",
        status: atsbridge_model::integration::CoverageStatus::Supported,
        fields: &[(
            "id",
            atsbridge_model::integration::CoverageStatus::Supported,
        )],
    }],
    missing_models: &[("ats_tags", "Tags")],
    write_actions: &[],
    unsupported_filters: &[],
    connect: &FAKE_CONNECT,
};

/// One field, named nothing like Sage HR's, with its own guide.
const FAKE_CONNECT: atsbridge_model::tool::ConnectGuide = atsbridge_model::tool::ConnectGuide {
    fields: &[atsbridge_model::tool::CredentialField {
        key: "fake_token",
        secret: true,
        max_len: 40,
        suffix: None,
        normalize: |s| s.starts_with("ft-").then(|| s.to_owned()),
        account_host: None,
    }],
    texts: &[atsbridge_model::tool::GuideTexts {
        lang: "en",
        intro_connect: "{app} would like {org}'s Fake Tool.",
        intro_relink: "Reconnect {org}.",
        prerequisites: &["Be a fake admin."],
        create_credentials: "Make a fake token",
        steps: &["Open Fake Tool.", "Copy the token."],
        steps_note: None,
        find_account: None,
        fields: &[atsbridge_model::tool::FieldTexts {
            label: "Fake token",
            hint: "It starts with ft-.",
            err_missing: "Enter the fake token.",
            err_format: "A fake token starts with ft-.",
        }],
        privacy: "Sent encrypted.",
        privacy_plain: "Stored encrypted.",
        err_other_account: "Another account.",
        err_rejected: "Fake Tool refused the token.",
        err_account_unknown: "No such fake account.",
    }],
};

/// The server knows tools only through the registry it is given: the tools list, the logos
/// and the connection links follow it, and a tool it was not given is not served.
#[tokio::test]
async fn tools_are_served_from_the_registry_the_server_is_given() {
    let app = spawn_app(Options {
        sync: false,
        tools: Some(atsbridge_model::tool::Tools::new([&FAKE])),
        ..Options::default()
    })
    .await;
    let (status, body) = send(app.request(Method::GET, "/v1/tools/ats")).await;
    assert_eq!(status, 200, "{body}");
    let tools = body["data"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 1, "{body}");
    assert_eq!(tools[0]["id"], "faketool");
    assert_eq!(tools[0]["label"], "Fake Tool");
    let models: Vec<&str> = tools[0]["coverage"]["read_models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["ats_jobs", "ats_tags"]);
    let logo = tools[0]["assets"]["logo_url"].as_str().unwrap();
    assert!(logo.ends_with("/assets/faketool-logo.svg"), "{logo}");
    let svg = app
        .http
        .get(format!("{}/assets/faketool-logo.svg", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(svg, "<svg>fake logo</svg>");
    let sage = app
        .http
        .get(format!("{}/assets/sagehr-logo.svg", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(sage.status(), 400, "Sage HR is not registered here");

    // A link defaults to the only registered tool; Sage HR is refused.
    let link = |tool: Option<&str>| {
        let mut body = json!({
            "end_user_email": "it@globex.example",
            "end_user_organization_name": "Globex",
            "integration_category": "ATS",
        });
        if let Some(tool) = tool {
            body["integration_tool"] = json!(tool);
        }
        app.request(Method::POST, "/v1/connect/create-link")
            .json(&body)
    };
    let (status, body) = send(link(None)).await;
    assert_eq!(status, 200, "{body}");
    // Its page asks for its own field, with its own guide and logo, and checks the field
    // with its own rule.
    let url = body["data"]["link"].as_str().unwrap().to_owned();
    let page = app
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "Connect your Fake Tool account",
        "would like Globex's Fake Tool.",
        "Make a fake token",
        "Copy the token.",
        r#"name="fake_token" type="password""#,
        r#"src="/assets/faketool-logo.svg" alt="Fake Tool""#,
        "Candidates that this application sends to Fake Tool",
    ] {
        assert!(page.contains(expected), "{expected} missing in {page}");
    }
    for absent in ["Sage HR", "subdomain", "api_key"] {
        assert!(!page.contains(absent), "{absent} in {page}");
    }
    let posted = app
        .http
        .post(&url)
        .form(&[("fake_token", "nope"), ("subdomain", "acme")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 422);
    let page = posted.text().await.unwrap();
    assert!(page.contains("A fake token starts with ft-."), "{page}");
    let (status, body) = send(link(Some("sagehr"))).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        message(&body).contains("the available tool is `faketool`"),
        "{body}"
    );
}
