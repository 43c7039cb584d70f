//! The write actions against the simulator: validation, job resolution, the upload (inline
//! and downloaded), upstream errors, source writing, warnings, read-back, "only created"
//! mode, idempotency and the concurrency cap.

use std::time::Duration;

use atsbridge_server::ServerConfig;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use atsbridge_test_support::assert::{code, message};
use atsbridge_test_support::sagehr;

use crate::helpers::*;

const CREATE: &str = "POST /recruitment/positions/{id}/applicants";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn candidate(email: &str) -> Value {
    json!({"first_name": "Ada", "last_name": "Lovelace", "email_address": email})
}

async fn post(app: &TestApp, path: &str, body: &Value) -> (u16, Value, reqwest::header::HeaderMap) {
    post_with(app, path, body, None).await
}

async fn post_with(
    app: &TestApp,
    path: &str,
    body: &Value,
    key: Option<&str>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut r = app.request(Method::POST, path).json(body);
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let response = r.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
        headers,
    )
}

/// Open jobs from the API, and the number of applicant creates the simulator saw.
async fn open_jobs(app: &TestApp) -> Vec<Value> {
    let (status, body) = app.get("/v1/ats/jobs?page_size=250").await;
    assert_eq!(status, 200, "{body}");
    body["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["status"] == "OPEN")
        .cloned()
        .collect()
}

async fn creates_seen(app: &TestApp) -> u64 {
    let stats = app.sim.control(Method::GET, "stats", json!(null)).await;
    stats["data"]["by_endpoint"][CREATE].as_u64().unwrap_or(0)
}

async fn sim_files(app: &TestApp, remote_id: &str) -> Vec<Value> {
    let v = app
        .sim
        .control(
            Method::GET,
            &format!("applicants/{remote_id}/files"),
            json!(null),
        )
        .await;
    v["data"].as_array().unwrap().clone()
}

fn allow_loopback() -> Options {
    Options {
        config: ServerConfig {
            allow_private_attachment_urls: true,
            ..Default::default()
        },
        ..Options::default()
    }
}

/// A little file server on loopback: `/cv.pdf` (the given bytes), `/big` (11 MiB),
/// `/redirect` (to `/cv.pdf`) and `/missing` (404).
async fn file_server(bytes: Vec<u8>) -> String {
    use axum::routing::get;
    let big = vec![7u8; 11 * 1024 * 1024];
    let router = axum::Router::new()
        .route(
            "/cv.pdf",
            get(move || {
                let bytes = bytes.clone();
                async move { ([("content-type", "application/pdf")], bytes) }
            }),
        )
        .route(
            "/big",
            get(move || {
                let big = big.clone();
                async move { big }
            }),
        )
        .route(
            "/redirect",
            get(|| async { (StatusCode::FOUND, [("location", "/cv.pdf")]).into_response() }),
        );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

#[tokio::test]
async fn create_application_uploads_one_file_warns_and_reads_back() {
    let app = spawn_app(Options::default()).await;
    let job = open_jobs(&app).await.remove(0);
    let job_id = job["id"].as_str().unwrap();
    let cv = b"%PDF-1.4 the CV of Ada Lovelace\n\x00\x01\x02\xff".to_vec();
    let body = json!({
        "candidate": {
            "first_name": "Ada", "last_name": "Lovelace", "email_address": "ada@example.com",
            "phone_number": "+44 20 1234", "title": "Analyst", "company": "Engines Ltd",
            "gender": "FEMALE", "availability_date": "2026-03-01",
            "salary_expectations": {"period": "YEAR", "amount": 90000},
            "social_links": [{"url": "https://example.com/ada"}],
            "additional_email_addresses": [{"type": "WORK", "email_address": "ada@work.example"}],
            "additional_phone_numbers": [{"type": "WORK", "phone_number": "+44 1"}],
            "location": {"country": "GB", "city": "London", "zip_code": "N1", "street_1": "1 Main St"}
        },
        "stage_id": "whatever",
        "attachments": [
            {"name": "letter.txt", "type": "COVER_LETTER", "content_type": "text/plain", "data": b64(b"Dear")},
            {"name": "ada-cv.pdf", "type": "CV", "content_type": "application/pdf", "data": b64(&cv)}
        ],
        "source": {"name": "Example Job Board", "id": "x"},
        "sourced_by": {"user_id": "remote:1"},
        "gdpr_consent": {"given": true},
        "remote_fields": {"greenhouse": {"a": 1}},
        "screening_question_answers": [{"question_id": "q1", "answer": "yes"}]
    });
    let (status, answer, headers) =
        post(&app, &format!("/v1/ats/jobs/{job_id}/applications"), &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(headers["concurrency-remaining"], "29");
    assert_eq!(answer["status"], "success");
    let data = &answer["data"];
    let remote_id = data["remote_id"].as_str().unwrap();
    assert_eq!(data["job_id"], job_id);
    assert_eq!(data["job"]["id"], job_id);
    assert_eq!(data["outcome"], "PENDING");
    assert!(data["current_stage"]["id"].is_string(), "{data}");
    let c = &data["candidate"];
    assert_eq!(c["first_name"], "Ada");
    assert_eq!(c["last_name"], "Lovelace");
    assert_eq!(c["source"], "Example Job Board");
    assert_eq!(c["email_addresses"][0]["email_address"], "ada@example.com");
    assert_eq!(c["phone_numbers"][0]["phone_number"], "+44 20 1234");
    assert_eq!(c["location"]["raw"], "1 Main St, N1 London, GB");
    // Sage HR keeps one address string; the parts written are read back from it.
    assert_eq!(c["location"]["street_1"], "1 Main St");
    assert_eq!(c["location"]["zip_code"], "N1");
    assert_eq!(c["location"]["city"], "London");
    assert_eq!(c["location"]["country"], "GB");
    assert!(c.get("applications").is_none(), "{c}");
    assert_eq!(data["candidate_id"], c["id"]);

    // Every input Sage HR cannot store has a warning.
    let warnings: Vec<String> = answer["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap().to_owned())
        .collect();
    // In the order clients have seen since the first release: the candidate's fields, the
    // other inputs, the source, the files. The connector words them; the server keeps them.
    let dropped = |path: &str, why: &str| format!("`{path}` was not stored: {why}.");
    let no_field = "Sage HR applicants have no such field";
    assert_eq!(
        warnings,
        [
            dropped("candidate.company", "Sage HR applicants have no company field"),
            dropped(
                "candidate.additional_email_addresses",
                "Sage HR keeps one email address per applicant"
            ),
            dropped(
                "candidate.additional_phone_numbers",
                "Sage HR keeps one phone number per applicant"
            ),
            dropped("candidate.gender", no_field),
            dropped("candidate.availability_date", no_field),
            dropped("candidate.salary_expectations", no_field),
            dropped("candidate.social_links", no_field),
            dropped(
                "stage_id",
                "Sage HR always places a new applicant in the position's first stage"
            ),
            dropped(
                "sourced_by",
                "Sage HR records the API key's owner as the one who added the applicant"
            ),
            dropped("gdpr_consent", "Sage HR's API has no consent field"),
            dropped("remote_fields", "there are no remote fields for Sage HR"),
            dropped(
                "screening_question_answers",
                "Sage HR's API has no screening questions"
            ),
            dropped("source.id", "Sage HR takes a source by name only"),
            "`attachments[0]` (letter.txt) was not uploaded: Sage HR takes one file per applicant, and the first CV (else the first attachment) was uploaded.".to_owned(),
        ]
    );
    assert!(!warnings.iter().any(|w| w.contains("attachments[1]")));

    // The CV (not the first attachment) reached Sage HR byte for byte.
    let files = sim_files(&app, remote_id).await;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["name"], "ada-cv.pdf");
    assert_eq!(files[0]["content_type"], "application/pdf");
    assert_eq!(files[0]["size"], cv.len());
    assert_eq!(files[0]["sha256"], sha(&cv));

    // Readable at once, before any sync; and the candidate lists the application.
    let id = data["id"].as_str().unwrap();
    let (_, listed) = app.get(&format!("/v1/ats/applications?ids={id}")).await;
    let listed = &listed["data"]["results"][0];
    assert_eq!(listed["remote_id"], remote_id);
    assert_eq!(listed["candidate"]["source"], "Example Job Board");
    let (_, cands) = app
        .get(&format!(
            "/v1/ats/candidates?ids={}",
            c["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(cands["data"]["results"][0]["applications"][0]["id"], id);
    // A sync afterwards finds nothing changed: the create stored exactly what the sync
    // stores, so no `changed_at` moves and `updated_after` does not list it again.
    let candidate_id = c["id"].as_str().unwrap().to_owned();
    let (_, cand_before) = app
        .get(&format!("/v1/ats/candidates?ids={candidate_id}"))
        .await;
    app.sync().await;
    let (_, again) = app.get(&format!("/v1/ats/applications?ids={id}")).await;
    assert_eq!(
        again["data"]["results"][0], *listed,
        "the application, byte for byte"
    );
    let (_, cand_after) = app
        .get(&format!("/v1/ats/candidates?ids={candidate_id}"))
        .await;
    assert_eq!(
        cand_after["data"]["results"][0]["changed_at"],
        cand_before["data"]["results"][0]["changed_at"]
    );
    assert_eq!(
        cand_after["data"]["results"][0]["remote_data"],
        cand_before["data"]["results"][0]["remote_data"]
    );
    let since = listed["changed_at"].as_str().unwrap();
    let (_, updated) = app
        .get(&format!(
            "/v1/ats/applications?updated_after={since}&ids={id}"
        ))
        .await;
    assert_eq!(
        updated["data"]["results"].as_array().unwrap().len(),
        0,
        "{updated}"
    );
}

#[tokio::test]
async fn create_candidate_answers_the_candidate_with_its_application() {
    let app = spawn_app(Options::default()).await;
    let job = open_jobs(&app).await.remove(0);
    let remote = job["remote_id"].as_str().unwrap();
    let body = json!({
        "candidate": candidate("grace@example.com"),
        "application": {"job_id": format!("remote:{remote}"), "stage_id": "s"},
        "attachments": [{"name": "cv.txt", "type": "OTHER", "content_type": "text/plain", "data": b64(b"hello")}]
    });
    let (status, answer, _) = post(&app, "/v1/ats/candidates", &body).await;
    assert_eq!(status, 200, "{answer}");
    let data = &answer["data"];
    assert_eq!(data["first_name"], "Ada");
    assert_eq!(data["source"], "api", "Sage HR's default source");
    assert_eq!(data["applications"].as_array().unwrap().len(), 1);
    assert_eq!(data["applications"][0]["job"]["id"], job["id"]);
    assert!(answer["warnings"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("`application.stage_id`"));
    let files = sim_files(&app, data["remote_id"].as_str().unwrap()).await;
    assert_eq!(files[0]["sha256"], sha(b"hello"));
}

#[tokio::test]
async fn bad_input_names_every_field_and_never_reaches_sage_hr() {
    let app = spawn_app(Options::default()).await;
    let job = open_jobs(&app).await.remove(0);
    let path = format!("/v1/ats/jobs/{}/applications", job["id"].as_str().unwrap());
    let body = json!({
        "candidate": {"first_name": "A", "email_address": "not-an-email", "location": {"country": "de"}},
        "attachments": [
            {"name": "a.pdf", "type": "CV", "data": "AAAA", "data_url": "https://example.com/a.pdf"},
            {"name": "b.pdf", "type": "RESUME", "data": "***"},
            {"type": "CV", "data_url": "ftp://example.com/x"}
        ]
    });
    let (status, answer, _) = post(&app, &path, &body).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(code(&answer), "PLATFORM.INPUT_INVALID");
    for field in [
        "candidate.last_name",
        "candidate.email_address",
        "candidate.location.country",
        "attachments[0]",
        "attachments[1].type",
        "attachments[1].content_type",
        "attachments[1].data",
        "attachments[2].name",
        "attachments[2].data_url",
    ] {
        assert!(message(&answer).contains(field), "{field} not in {answer}");
    }
    // Over 10 MiB in total.
    let big = b64(&vec![0u8; 6 * 1024 * 1024]);
    let body = json!({"candidate": candidate("x@example.com"), "attachments": [
        {"name": "a", "type": "CV", "content_type": "application/pdf", "data": big},
        {"name": "b", "type": "OTHER", "content_type": "application/pdf", "data": big}]});
    let (status, answer, _) = post(&app, &path, &body).await;
    assert_eq!(status, 400);
    assert!(message(&answer).contains("attachments:"), "{answer}");
    // Malformed and mistyped bodies, and a create-candidate body without a job.
    for raw in [
        "",
        "{",
        "[]",
        "{\"candidate\": 5}",
        "{\"attachments\": \"x\"}",
    ] {
        let r = app
            .request(Method::POST, &path)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{raw}");
    }
    let r = app
        .request(Method::POST, &path)
        .body(vec![0xff, 0xfe, b'{'])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let (status, answer, _) = post(
        &app,
        "/v1/ats/candidates",
        &json!({"candidate": candidate("y@example.com")}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(message(&answer).contains("application"), "{answer}");
    let (status, answer, _) = post(
        &app,
        "/v1/ats/jobs/remote:/applications",
        &json!({"candidate": candidate("y@example.com")}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(message(&answer).contains("job_id"), "{answer}");
    assert_eq!(creates_seen(&app).await, 0);
}

#[tokio::test]
async fn jobs_resolve_and_closed_or_unknown_jobs_are_refused() {
    let app = spawn_app(Options::default()).await;
    let jobs = open_jobs(&app).await;
    assert!(jobs.len() >= 2);
    // Close one in Sage HR and sync.
    let closed = &jobs[1];
    app.sim
        .control(
            Method::PATCH,
            &format!("positions/{}", closed["remote_id"].as_str().unwrap()),
            json!({"status": "completed"}),
        )
        .await;
    app.sync().await;
    let body = json!({"candidate": candidate("c@example.com")});
    for path in [
        format!(
            "/v1/ats/jobs/{}/applications",
            closed["id"].as_str().unwrap()
        ),
        format!(
            "/v1/ats/jobs/remote:{}/applications",
            closed["remote_id"].as_str().unwrap()
        ),
    ] {
        let (status, answer, _) = post(&app, &path, &body).await;
        assert_eq!(status, 409, "{answer}");
        assert_eq!(code(&answer), "ATS.JOB_CLOSED");
    }
    assert_eq!(
        creates_seen(&app).await,
        0,
        "closed jobs never reach Sage HR"
    );

    // An unknown atsbridge id.
    let (status, answer, _) = post(
        &app,
        "/v1/ats/jobs/NoSuchJob111111111111111/applications",
        &body,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(code(&answer), "PLATFORM.INPUT_INVALID");
    assert!(message(&answer).starts_with("job_id:"), "{answer}");
    // A remote id the store does not know goes to Sage HR, which does not know it either.
    let (status, answer, _) = post(&app, "/v1/ats/jobs/remote:987654/applications", &body).await;
    assert_eq!(status, 400, "{answer}");
    assert!(message(&answer).contains("987654"), "{answer}");
    assert_eq!(creates_seen(&app).await, 1);
    let (status, answer, _) = post(&app, "/v1/ats/jobs/remote:..%2Fx/applications", &body).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(creates_seen(&app).await, 1);

    // A remote id of an open job works.
    let (status, answer, _) = post(
        &app,
        &format!(
            "/v1/ats/jobs/remote:{}/applications",
            jobs[0]["remote_id"].as_str().unwrap()
        ),
        &body,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["job"]["id"], jobs[0]["id"]);
}

#[tokio::test]
async fn upstream_errors_map_to_kombo_codes() {
    let app = spawn_app(Options::default()).await;
    let job = open_jobs(&app).await.remove(0);
    let path = format!("/v1/ats/jobs/{}/applications", job["id"].as_str().unwrap());
    let body = json!({"candidate": candidate("dup@example.com")});
    let (status, answer, _) = post(&app, &path, &body).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer, _) = post(&app, &path, &body).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(code(&answer), "ATS.APPLICATION_ALREADY_EXISTS");

    // 5xx and 429 are retried (4 attempts), then reported.
    let fault = |kind: &str, count: u32| json!({"kind": kind, "count": count, "endpoint": CREATE, "retry_after": 0});
    app.sim
        .control(Method::POST, "faults", fault("server_error", 2))
        .await;
    let (status, answer, _) = post(
        &app,
        &path,
        &json!({"candidate": candidate("retry@example.com")}),
    )
    .await;
    assert_eq!(status, 200, "two 500s are retried: {answer}");
    app.sim
        .control(Method::POST, "faults", fault("server_error", 10))
        .await;
    let (status, answer, _) = post(
        &app,
        &path,
        &json!({"candidate": candidate("e5@example.com")}),
    )
    .await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(code(&answer), "REMOTE.SERVICE_UNAVAILABLE");
    app.sim.control(Method::DELETE, "faults", json!(null)).await;
    app.sim
        .control(Method::POST, "faults", fault("rate_limit", 10))
        .await;
    let (status, answer, _) = post(
        &app,
        &path,
        &json!({"candidate": candidate("e4@example.com")}),
    )
    .await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(code(&answer), "REMOTE.RATE_LIMIT_EXCEEDED");
    app.sim.control(Method::DELETE, "faults", json!(null)).await;

    // Any other 422 is REMOTE.INPUT_INVALID with Sage HR's text: a stand-in Sage HR that
    // rejects every create.
    let router = axum::Router::new().fallback(|| async {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(
                json!({"error_code": "validation_failed", "errors": ["Phone number is invalid"]}),
            ),
        )
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let stand_in = format!(
        "http://{}/{{subdomain}}/api",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let credentials = sagehr::credentials("acme", SIM_KEY, &stand_in);
    app.store
        .set_credentials(INTEGRATION, &credentials)
        .await
        .unwrap();
    let (status, answer, _) = post(
        &app,
        &path,
        &json!({"candidate": candidate("p@example.com")}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(code(&answer), "REMOTE.INPUT_INVALID");
    assert!(
        message(&answer).contains("Phone number is invalid"),
        "{answer}"
    );
}

#[tokio::test]
async fn only_the_files_the_tool_takes_are_fetched() {
    let app = spawn_app(Options::default()).await;
    let job = open_jobs(&app).await.remove(0);
    let path = format!("/v1/ats/jobs/{}/applications", job["id"].as_str().unwrap());
    // The first attachment points at an internal address, which the guard refuses; the tool
    // takes only the CV, so the other is never downloaded and cannot fail the request.
    let body = json!({"candidate": candidate("f@example.com"), "attachments": [
        {"name": "other.pdf", "type": "OTHER", "data_url": "http://127.0.0.1:9/other.pdf"},
        {"name": "cv.txt", "type": "CV", "content_type": "text/plain", "data": b64(b"cv")}
    ]});
    let (status, answer, _) = post(&app, &path, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("`attachments[0]` (other.pdf) was not uploaded"),
        "{answer}"
    );
    let files = sim_files(&app, answer["data"]["remote_id"].as_str().unwrap()).await;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["sha256"], sha(b"cv"));
}

#[tokio::test]
async fn data_urls_are_downloaded_within_the_guard() {
    let cv: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let files = file_server(cv.clone()).await;

    // Not allowed by default: loopback is internal.
    let app = spawn_app(Options::default()).await;
    let job = open_jobs(&app).await.remove(0);
    let path = format!("/v1/ats/jobs/{}/applications", job["id"].as_str().unwrap());
    let body = json!({"candidate": candidate("u@example.com"),
        "attachments": [{"name": "cv.pdf", "type": "CV", "data_url": format!("{files}/cv.pdf")}]});
    let (status, answer, _) = post(&app, &path, &body).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        message(&answer).starts_with("attachments[0].data_url:"),
        "{answer}"
    );
    assert!(message(&answer).contains("internal address"), "{answer}");
    let localhost = json!({"candidate": candidate("u@example.com"),
        "attachments": [{"name": "cv.pdf", "type": "CV", "data_url": files.replace("127.0.0.1", "localhost") + "/cv.pdf"}]});
    let (status, answer, _) = post(&app, &path, &localhost).await;
    assert_eq!(status, 400, "names resolving to loopback too: {answer}");
    assert_eq!(creates_seen(&app).await, 0);
    drop(app);

    // Allowed (as in tests): downloaded, with the server's content type.
    let app = spawn_app(allow_loopback()).await;
    let job = open_jobs(&app).await.remove(0);
    let path = format!("/v1/ats/jobs/{}/applications", job["id"].as_str().unwrap());
    let (status, answer, _) = post(&app, &path, &body).await;
    assert_eq!(status, 200, "{answer}");
    let got = sim_files(&app, answer["data"]["remote_id"].as_str().unwrap()).await;
    assert_eq!(got[0]["sha256"], sha(&cv));
    assert_eq!(got[0]["size"], cv.len());
    assert_eq!(got[0]["content_type"], "application/pdf");
    // Redirects are followed; 404s and files over the cap are refused.
    let (status, answer, _) = post(&app, &path, &json!({"candidate": candidate("r@example.com"),
        "attachments": [{"name": "cv.pdf", "type": "CV", "content_type": "application/x-cv", "data_url": format!("{files}/redirect")}]})).await;
    assert_eq!(status, 200, "{answer}");
    let got = sim_files(&app, answer["data"]["remote_id"].as_str().unwrap()).await;
    assert_eq!(got[0]["sha256"], sha(&cv));
    assert_eq!(got[0]["content_type"], "application/x-cv");
    for (file, expect) in [("missing", "404"), ("big", "larger than")] {
        let (status, answer, _) = post(
            &app,
            &path,
            &json!({"candidate": candidate("m@example.com"),
            "attachments": [{"name": "x", "type": "CV", "data_url": format!("{files}/{file}")}]}),
        )
        .await;
        assert_eq!(status, 400, "{answer}");
        assert!(message(&answer).contains(expect), "{answer}");
    }
    // Credentials in the URL are refused rather than sent as Basic auth, and not echoed.
    let with_credentials = files.replace("http://", "http://user:hunter2@") + "/cv.pdf";
    let (status, answer, _) = post(
        &app,
        &path,
        &json!({"candidate": candidate("c@example.com"),
        "attachments": [{"name": "x", "type": "CV", "data_url": with_credentials}]}),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        message(&answer).contains("credentials in URLs are not supported"),
        "{answer}"
    );
    assert!(!message(&answer).contains("hunter2"), "{answer}");
}

#[tokio::test]
async fn the_attribution_source_is_written_unless_the_request_names_one() {
    let app = spawn_app(Options::default()).await;
    let job = open_jobs(&app).await.remove(0);
    let path = format!("/v1/ats/jobs/{}/applications", job["id"].as_str().unwrap());
    let r = app
        .request(
            Method::PUT,
            &format!("/v1/integrations/{INTEGRATION}/settings"),
        )
        .json(&json!({"source_name": "Acme Careers"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let settings: Value = r.json().await.unwrap();
    assert_eq!(settings["data"]["source_name"], "Acme Careers");
    assert_eq!(settings["data"]["sync_only_created_applications"], false);
    let (_, answer, _) = post(
        &app,
        &path,
        &json!({"candidate": candidate("s1@example.com")}),
    )
    .await;
    assert_eq!(answer["data"]["candidate"]["source"], "Acme Careers");
    let (_, answer, _) = post(
        &app,
        &path,
        &json!({"candidate": candidate("s2@example.com"), "source": {"name": "LinkedIn"}}),
    )
    .await;
    assert_eq!(answer["data"]["candidate"]["source"], "LinkedIn");
    // After a sync it still reads back as the candidate's source.
    app.sync().await;
    let (_, cands) = app.get("/v1/ats/candidates?email=s1@example.com").await;
    assert_eq!(cands["data"]["results"][0]["source"], "Acme Careers");
    // Bad settings bodies.
    for bad in [
        json!({"source_name": 5}),
        json!({"sync_only_created_applications": "yes"}),
        json!({"other": 1}),
    ] {
        let r = app
            .request(
                Method::PUT,
                &format!("/v1/integrations/{INTEGRATION}/settings"),
            )
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn only_created_mode_keeps_created_applications_after_a_sync() {
    let app = spawn_app(Options::default()).await;
    let job = open_jobs(&app).await.remove(0);
    let r = app
        .request(
            Method::PUT,
            &format!("/v1/integrations/{INTEGRATION}/settings"),
        )
        .json(&json!({"sync_only_created_applications": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, answer, _) = post(
        &app,
        &format!("/v1/ats/jobs/{}/applications", job["id"].as_str().unwrap()),
        &json!({"candidate": candidate("only@example.com")}),
    )
    .await;
    let id = answer["data"]["id"].as_str().unwrap().to_owned();
    app.sync().await;
    let (_, apps) = app.get("/v1/ats/applications").await;
    let ids: Vec<&str> = apps["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()]);
}

#[tokio::test]
async fn idempotency_keys_replay_and_refuse_other_bodies() {
    let app = spawn_app(Options::default()).await;
    let job = open_jobs(&app).await.remove(0);
    let path = format!("/v1/ats/jobs/{}/applications", job["id"].as_str().unwrap());
    let body = json!({"candidate": candidate("idem@example.com")});
    let (s1, a1, h1) = post_with(&app, &path, &body, Some("key-1")).await;
    assert_eq!(s1, 200, "{a1}");
    assert!(h1.get("idempotent-replayed").is_none());
    let (s2, a2, h2) = post_with(&app, &path, &body, Some("key-1")).await;
    assert_eq!(s2, 200, "{a2}");
    assert_eq!(a1, a2);
    assert_eq!(h2["idempotent-replayed"], "true");
    assert_eq!(creates_seen(&app).await, 1);
    let other = json!({"candidate": candidate("other@example.com")});
    let (s3, a3, _) = post_with(&app, &path, &other, Some("key-1")).await;
    assert_eq!(s3, 400, "{a3}");
    assert!(message(&a3).starts_with("Idempotency-Key:"), "{a3}");
    // A failed request frees its key: the retry runs again.
    app.sim
        .control(
            Method::POST,
            "faults",
            json!({"kind": "server_error", "count": 10, "endpoint": CREATE}),
        )
        .await;
    let (s4, _, _) = post_with(&app, &path, &other, Some("key-2")).await;
    assert_eq!(s4, 503);
    app.sim.control(Method::DELETE, "faults", json!(null)).await;
    let (s5, a5, _) = post_with(&app, &path, &other, Some("key-2")).await;
    assert_eq!(s5, 200, "{a5}");
    let (s6, _, _) = post_with(&app, &path, &body, Some(&"k".repeat(300))).await;
    assert_eq!(s6, 400);
    // Keys expire after 24 hours.
    sqlx_age_keys(&app).await;
    let (s7, a7, _) = post_with(&app, &path, &body, Some("key-1")).await;
    assert_eq!(
        s7, 409,
        "an expired key runs again (and Sage HR refuses the duplicate): {a7}"
    );
}

/// Moves every stored idempotency key 25 hours into the past.
async fn sqlx_age_keys(app: &TestApp) {
    app.store
        .age_idempotency_keys_for_tests(25 * 3_600_000)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_concurrency_cap_answers_429() {
    let app = spawn_app(Options {
        config: ServerConfig {
            write_concurrency_per_integration: 1,
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let job = open_jobs(&app).await.remove(0);
    let path = format!("/v1/ats/jobs/{}/applications", job["id"].as_str().unwrap());
    app.sim
        .control(
            Method::POST,
            "faults",
            json!({"kind": "latency", "latency_ms": 1500, "count": 1, "endpoint": CREATE}),
        )
        .await;
    let slow_body = json!({"candidate": candidate("slow@example.com")});
    let slow = post(&app, &path, &slow_body);
    let fast = async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        post(
            &app,
            &path,
            &json!({"candidate": candidate("fast@example.com")}),
        )
        .await
    };
    let ((s1, a1, h1), (s2, a2, h2)) = tokio::join!(slow, fast);
    assert_eq!(s1, 200, "{a1}");
    assert_eq!(h1["concurrency-remaining"], "0");
    assert_eq!(s2, 429, "{a2}");
    assert_eq!(code(&a2), "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED");
    assert_eq!(h2["concurrency-remaining"], "0");
    // The slot is free again.
    let (s3, a3, _) = post(
        &app,
        &path,
        &json!({"candidate": candidate("after@example.com")}),
    )
    .await;
    assert_eq!(s3, 200, "{a3}");
}

#[tokio::test]
async fn parallel_creates_during_a_sync_all_succeed_once_with_one_event_each() {
    for db in [None, atsbridge_store::testing::PgDatabase::create().await] {
        let app = spawn_app(Options {
            database_url: db.as_ref().map(|d| d.url.clone()),
            ..Options::default()
        })
        .await;
        let job = open_jobs(&app).await.remove(0);
        let job_id = job["id"].as_str().unwrap().to_owned();
        let position = job["remote_id"].as_str().unwrap().to_owned();
        // A slow Sage HR: creates, read-backs and the sync's pages overlap.
        app.sim
            .control(
                Method::POST,
                "faults",
                json!({"kind": "latency", "ratio": 1.0, "latency_ms": 100}),
            )
            .await;
        let posts = (0..50).map(|i| {
            let (app, job_id) = (&app, &job_id);
            async move {
                let email = format!("parallel{i}@example.com");
                let (status, body, _) = post(
                    app,
                    &format!("/v1/ats/jobs/{job_id}/applications"),
                    &json!({"candidate": candidate(&email)}),
                )
                .await;
                (email, status, body)
            }
        });
        let (answers, ()) = tokio::join!(futures_util::future::join_all(posts), app.sync());
        let created: Vec<&String> = answers
            .iter()
            .filter(|(_, status, _)| *status == 200)
            .map(|(email, _, _)| email)
            .collect();
        for (email, status, body) in &answers {
            assert!(*status == 200 || *status == 429, "{email}: {status} {body}");
        }
        assert!(!created.is_empty());
        app.sim.control(Method::DELETE, "faults", Value::Null).await;
        // In Sage HR: exactly one applicant per answered create, none for a refused one.
        let listed: Value = app
            .http
            .get(format!(
                "{}/acme/api/recruitment/positions/{position}/applicants?per_page=100",
                app.sim.url()
            ))
            .header("X-Auth-Token", SIM_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for (email, status, _) in &answers {
            let n = listed["data"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["email"] == email.as_str())
                .count();
            assert_eq!(n, usize::from(*status == 200), "{email}");
        }
        let events = app.store.events(0, 10_000).await.unwrap();
        assert_eq!(
            events.iter().filter(|e| e.kind == "data-changed").count(),
            created.len(),
            "one data-changed per create"
        );
    }
}

#[tokio::test]
async fn every_ats_operation_of_the_sdks_is_authenticated_then_said_unavailable() {
    let app = spawn_app(Options {
        sync: false,
        ..Options::default()
    })
    .await;
    let body = json!({"stage_id": "s", "note": "n", "tag": {"name": "t"}});
    for (method, path, code, what) in [
        (
            Method::PUT,
            "/v1/ats/applications/a1/stage",
            "INTEGRATION.ACTION_NOT_AVAILABLE",
            "ats_move_application_stage",
        ),
        (
            Method::POST,
            "/v1/ats/applications/a1/reject",
            "INTEGRATION.ACTION_NOT_AVAILABLE",
            "ats_reject_application",
        ),
        (
            Method::POST,
            "/v1/ats/applications/a1/notes",
            "INTEGRATION.ACTION_NOT_AVAILABLE",
            "ats_add_application_note",
        ),
        (
            Method::POST,
            "/v1/ats/applications/a1/attachments",
            "INTEGRATION.ACTION_NOT_AVAILABLE",
            "ats_add_application_attachment",
        ),
        (
            Method::POST,
            "/v1/ats/applications/a1/result-links",
            "INTEGRATION.ACTION_NOT_AVAILABLE",
            "ats_add_application_result_link",
        ),
        (
            Method::POST,
            "/v1/ats/candidates/c1/attachments",
            "INTEGRATION.ACTION_NOT_AVAILABLE",
            "ats_add_candidate_attachment",
        ),
        (
            Method::POST,
            "/v1/ats/candidates/c1/result-links",
            "INTEGRATION.ACTION_NOT_AVAILABLE",
            "ats_add_candidate_result_link",
        ),
        (
            Method::POST,
            "/v1/ats/candidates/c1/tags",
            "INTEGRATION.ACTION_NOT_AVAILABLE",
            "ats_add_candidate_tag",
        ),
        (
            Method::DELETE,
            "/v1/ats/candidates/c1/tags",
            "INTEGRATION.ACTION_NOT_AVAILABLE",
            "ats_remove_candidate_tag",
        ),
        (
            Method::POST,
            "/v1/ats/import-tracked-application",
            "INTEGRATION.ACTION_NOT_AVAILABLE",
            "ats_import_tracked_application",
        ),
        (
            Method::GET,
            "/v1/ats/applications/a1/attachments",
            "INTEGRATION.MODEL_NOT_AVAILABLE",
            "ats_attachments",
        ),
        (
            Method::GET,
            "/v1/ats/candidates/c1/attachments",
            "INTEGRATION.MODEL_NOT_AVAILABLE",
            "ats_attachments",
        ),
        (
            Method::GET,
            "/v1/ats/notes",
            "INTEGRATION.MODEL_NOT_AVAILABLE",
            "ats_notes",
        ),
    ] {
        // A wrong key is told so first, as on every ATS route.
        let r = app
            .http
            .request(method.clone(), format!("{}{path}", app.base))
            .bearer_auth("wrong-key")
            .header("X-Integration-Id", INTEGRATION)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
        let answer: Value = r.json().await.unwrap();
        assert_eq!(
            answer["error"]["code"], "PLATFORM.AUTHENTICATION_INVALID",
            "{method} {path}"
        );

        let r = app
            .request(method.clone(), path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["error"]["code"], code, "{method} {path}: {answer}");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(what),
            "{answer}"
        );
        assert!(status == 400 || status == 404, "{method} {path}: {status}");
    }
}

#[tokio::test]
async fn unsupported_filters_empty_the_page_unless_ignored() {
    let app = spawn_app(Options::default()).await;
    // Sage HR positions have no job code: the filter matches nothing, as Kombo answers…
    let (status, body) = app.get("/v1/ats/jobs?job_codes=ENG-1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["results"].as_array().unwrap().len(), 0);
    // …unless the caller asks for unsupported filters to be ignored.
    let (_, all) = app.get("/v1/ats/jobs").await;
    let (status, ignored) = app
        .get("/v1/ats/jobs?job_codes=ENG-1&ignore_unsupported_filters=true")
        .await;
    assert_eq!(status, 200, "{ignored}");
    assert_eq!(ignored["data"]["results"], all["data"]["results"]);
    assert!(!all["data"]["results"].as_array().unwrap().is_empty());
    // Supported filters still apply with the flag.
    let (_, open) = app
        .get("/v1/ats/jobs?statuses=OPEN&job_codes=X&ignore_unsupported_filters=true")
        .await;
    assert!(open["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|j| j["status"] == "OPEN"));
}

#[tokio::test]
async fn the_candidates_title_is_read_back_after_a_create_and_after_a_sync() {
    let app = spawn_app(Options::default()).await;
    let job = open_jobs(&app).await.remove(0);
    let mut c = candidate("title@example.com");
    c["title"] = json!("Head of Analytics");
    let (status, answer, _) = post(
        &app,
        &format!("/v1/ats/jobs/{}/applications", job["id"].as_str().unwrap()),
        &json!({"candidate": c}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["data"]["candidate"]["title"], "Head of Analytics",
        "{answer}"
    );
    let id = answer["data"]["candidate"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.sync().await;
    let (_, listed) = app.get(&format!("/v1/ats/candidates?ids={id}")).await;
    assert_eq!(listed["data"]["results"][0]["title"], "Head of Analytics");
    assert!(
        !answer["warnings"].to_string().contains("candidate.title"),
        "{answer}"
    );
}
