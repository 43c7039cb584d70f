//! The four read endpoints (`GET /v1/ats/jobs|candidates|applications|application-stages`):
//! full objects checked against the simulator's own data, paging, every filter, parameter
//! validation, authentication, integration states and unavailable models.

use std::collections::{BTreeMap, BTreeSet};

use atsbridge_model::integration::{IntegrationStatus, SetupStatus};
use atsbridge_model::{record_id, ModelKind, Timestamp};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{send, spawn_app, Options, TestApp, ENVIRONMENT, INTEGRATION, SIM_KEY};

const ENDPOINTS: [&str; 4] = ["jobs", "candidates", "applications", "application-stages"];

const HIRING_TEAM_KEYS: &[&str] = &[
    "id",
    "remote_id",
    "first_name",
    "last_name",
    "email",
    "hiring_team_roles",
    "job_roles",
];

const JOB_KEYS: &[&str] = &[
    "id",
    "remote_id",
    "name",
    "job_code",
    "description",
    "confidential",
    "weekly_hours",
    "category",
    "department",
    "post_url",
    "experience_level",
    "salary_amount",
    "salary_amount_from",
    "salary_amount_to",
    "salary_currency",
    "custom_fields",
    "remote_url",
    "opened_at",
    "closed_at",
    "remote_created_at",
    "remote_updated_at",
    "contact_id",
    "changed_at",
    "remote_deleted_at",
    "stages",
    "screening_questions",
    "job_postings",
    "hiring_team",
    "employment_type",
    "status",
    "visibility",
    "remote_work_status",
    "salary_period",
    "location",
    "remote_data",
];
const JOB_STAGE_KEYS: &[&str] = &[
    "id",
    "remote_id",
    "name",
    "status",
    "custom_fields",
    "index",
];
const LOCATION_KEYS: &[&str] = &[
    "city", "country", "raw", "state", "street_1", "street_2", "zip_code",
];
const CANDIDATE_KEYS: &[&str] = &[
    "id",
    "remote_id",
    "first_name",
    "last_name",
    "company",
    "title",
    "confidential",
    "source",
    "custom_fields",
    "remote_url",
    "remote_created_at",
    "remote_updated_at",
    "changed_at",
    "remote_deleted_at",
    "applications",
    "tags",
    "phone_numbers",
    "email_addresses",
    "social_media",
    "location",
    "remote_data",
];
const CANDIDATE_APPLICATION_KEYS: &[&str] = &[
    "id",
    "remote_id",
    "outcome",
    "rejection_reason_name",
    "rejected_at",
    "remote_url",
    "changed_at",
    "remote_created_at",
    "remote_updated_at",
    "current_stage",
    "job",
];
const STAGE_REF_KEYS: &[&str] = &["id", "name", "remote_id", "index"];
const JOB_REF_KEYS: &[&str] = &["id", "name", "remote_id"];
const APPLICATION_KEYS: &[&str] = &[
    "id",
    "remote_id",
    "outcome",
    "rejection_reason_name",
    "rejected_at",
    "current_stage_id",
    "job_id",
    "candidate_id",
    "custom_fields",
    "remote_url",
    "changed_at",
    "remote_deleted_at",
    "remote_created_at",
    "remote_updated_at",
    "candidate",
    "current_stage",
    "job",
    "interviews",
    "offers",
    "screening_question_answers",
    "remote_data",
];
const APPLICATION_CANDIDATE_KEYS: &[&str] = &[
    "id",
    "remote_id",
    "first_name",
    "last_name",
    "source",
    "remote_url",
    "tags",
    "email_addresses",
    "phone_numbers",
    "social_media",
];
const APPLICATION_STAGE_KEYS: &[&str] = &[
    "id",
    "remote_id",
    "name",
    "status",
    "custom_fields",
    "changed_at",
    "remote_deleted_at",
    "remote_data",
];

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

#[track_caller]
fn assert_keys(v: &Value, expected: &[&str]) {
    let expected: BTreeSet<&str> = expected.iter().copied().collect();
    assert_eq!(keys(v), expected, "{v:#}");
}

/// `2026-01-02T03:04:05.678Z`
#[track_caller]
fn assert_timestamp(v: &Value) {
    let s = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    assert_eq!(s.len(), 24, "{s}");
    assert!(
        s.ends_with('Z') && s.as_bytes()[10] == b'T' && s.as_bytes()[19] == b'.',
        "{s}"
    );
    assert_eq!(Timestamp::parse(s).unwrap().to_string(), s);
}

#[track_caller]
fn assert_optional_timestamp(v: &Value) {
    if !v.is_null() {
        assert_timestamp(v);
    }
}

/// `status:"error"` with Kombo's four error keys and the given code.
#[track_caller]
fn assert_error(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["status"], "error", "{body}");
    assert_keys(&body["error"], &["code", "title", "message", "log_url"]);
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["title"].is_string(), "{body}");
    assert!(body["error"]["log_url"].is_null(), "{body}");
}

/// 400 `PLATFORM.INPUT_INVALID` whose message names `param`.
#[track_caller]
fn assert_invalid(status: u16, body: &Value, param: &str) {
    assert_error(status, body, 400, "PLATFORM.INPUT_INVALID");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("{param}:")),
        "{param}: {message}"
    );
}

fn with_query(path: &str, query: &str) -> String {
    match (query.is_empty(), path.contains('?')) {
        (true, _) => path.to_owned(),
        (false, true) => format!("{path}&{query}"),
        (false, false) => format!("{path}?{query}"),
    }
}

/// Every record of `GET /v1/ats/{endpoint}?{query}`, read `page_size` at a time, checking
/// that each page is a success envelope of at most `page_size` records and that no record
/// comes twice.
async fn all_pages(app: &TestApp, endpoint: &str, query: &str, page_size: u32) -> Vec<Value> {
    let base = with_query(&format!("/v1/ats/{endpoint}?page_size={page_size}"), query);
    let mut out: Vec<Value> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let path = match &cursor {
            Some(c) => format!("{base}&cursor={c}"),
            None => base.clone(),
        };
        let (status, body) = app.get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["status"], "success");
        assert_keys(&body["data"], &["next", "results"]);
        let results = body["data"]["results"].as_array().unwrap();
        assert!(results.len() <= page_size as usize, "{path}");
        for r in results {
            let id = r["id"].as_str().unwrap().to_owned();
            assert!(seen.insert(id.clone()), "{id} repeated ({path})");
            out.push(r.clone());
        }
        match &body["data"]["next"] {
            Value::Null => return out,
            Value::String(next) => {
                assert!(
                    !results.is_empty(),
                    "a page with a next cursor is not empty"
                );
                cursor = Some(next.clone());
            }
            other => panic!("next: {other}"),
        }
    }
    panic!("paging did not end");
}

async fn all(app: &TestApp, endpoint: &str, query: &str) -> Vec<Value> {
    all_pages(app, endpoint, query, 250).await
}

fn ids(records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn ids_where(records: &[Value], f: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    records
        .iter()
        .filter(|r| f(r))
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn by_remote_id(records: &[Value]) -> BTreeMap<String, Value> {
    records
        .iter()
        .map(|r| (r["remote_id"].as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

/// A GET on the simulator's Sage HR API, as the connector would send it.
async fn sim_get(app: &TestApp, path: &str) -> Value {
    let url = format!("{}{path}", app.sim.base_url("acme"));
    let r = app
        .http
        .get(&url)
        .header("X-Auth-Token", SIM_KEY)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    r.json().await.unwrap()
}

/// Every row of a paginated Sage HR listing.
async fn sim_list(app: &TestApp, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let sep = if path.contains('?') { '&' } else { '?' };
        let body = sim_get(app, &format!("{path}{sep}per_page=100&page={page}")).await;
        out.extend(body["data"].as_array().unwrap().iter().cloned());
        if body["meta"]["next_page"].is_null() {
            break;
        }
    }
    out
}

/// The simulator's positions, and the applicants of each (by position id).
async fn sim_data(app: &TestApp) -> (Vec<Value>, BTreeMap<String, Vec<Value>>) {
    let positions = sim_list(app, "/recruitment/positions").await;
    let mut applicants = BTreeMap::new();
    for p in &positions {
        let id = p["id"].to_string();
        let rows = sim_list(app, &format!("/recruitment/positions/{id}/applicants")).await;
        applicants.insert(id, rows);
    }
    (positions, applicants)
}

/// Stage ids (as text) of a position's pipeline, from the simulator's state.
fn sim_pipeline(app: &TestApp, position_id: &str) -> Vec<String> {
    let tenant = app.sim.running.sim.tenant("acme").unwrap();
    let t = sagehr_sim::state::lock(&tenant);
    t.positions[&position_id.parse::<u64>().unwrap()]
        .stages
        .iter()
        .map(|s| s.id.to_string())
        .collect()
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn id(model: ModelKind, remote_id: &str) -> String {
    record_id(INTEGRATION, model, remote_id)
}

/// The distinct stages seen on applicants, ordered by stage id: `(remote id, title)`.
fn seen_stages(applicants: &[Value]) -> Vec<(String, Option<String>)> {
    let mut stages: BTreeMap<u64, Option<String>> = BTreeMap::new();
    for a in applicants {
        if let Some(id) = a["stage"]["id"].as_u64() {
            stages.insert(id, text(&a["stage"]["title"]));
        }
    }
    stages
        .into_iter()
        .map(|(id, title)| (id.to_string(), title))
        .collect()
}

fn expected_outcome(applicant: &Value) -> &'static str {
    if !applicant["hired_date"].is_null() {
        "HIRED"
    } else if !applicant["disqualified_date"].is_null() {
        "DECLINED"
    } else {
        "PENDING"
    }
}

#[tokio::test]
async fn jobs_are_full_objects_with_their_pipelines() {
    let app = spawn_app(Options::default()).await;
    let (positions, applicants) = sim_data(&app).await;
    let jobs = all(&app, "jobs", "").await;
    assert_eq!(jobs.len(), positions.len());
    let jobs = by_remote_id(&jobs);
    for p in &positions {
        let remote_id = p["id"].to_string();
        let job = &jobs[&remote_id];
        assert_keys(job, JOB_KEYS);
        assert_eq!(job["id"], id(ModelKind::Job, &remote_id));
        assert_eq!(job["name"], p["title"]);
        assert_eq!(job["post_url"], p["link"]);
        let team = p["team"].as_str().filter(|t| !t.is_empty());
        assert_eq!(job["department"], json!(team), "{job}");
        let (status, visibility) = match p["status"].as_str().unwrap() {
            "draft" => ("DRAFT", Value::Null),
            "published" => ("OPEN", json!("PUBLIC")),
            "internal" => ("OPEN", json!("INTERNAL")),
            _ => ("CLOSED", Value::Null),
        };
        assert_eq!(job["status"], status);
        assert_eq!(job["visibility"], visibility);
        // The hiring team comes from each position's detail (R2).
        let team = job["hiring_team"].as_array().unwrap();
        assert!(!team.is_empty(), "{job}");
        for member in team {
            assert_keys(member, HIRING_TEAM_KEYS);
            assert!(member["id"].is_string() && member["remote_id"].is_string());
            assert_eq!(member["job_roles"][0]["scope"], "JOB");
        }
        if p["location"].is_null() {
            assert!(job["location"].is_null());
        } else {
            assert_keys(&job["location"], LOCATION_KEYS);
            assert_eq!(job["location"]["raw"], p["location"]);
        }
        assert_eq!(
            job["remote_created_at"],
            json!(format!(
                "{}T00:00:00.000Z",
                p["created_at"].as_str().unwrap()
            ))
        );
        assert_timestamp(&job["changed_at"]);
        assert!(job["remote_deleted_at"].is_null());
        for key in ["opened_at", "closed_at", "remote_updated_at"] {
            assert_optional_timestamp(&job[key]);
        }
        for key in ["screening_questions", "job_postings"] {
            assert_eq!(job[key], json!([]), "{key}");
        }
        assert_eq!(job["custom_fields"], json!({}));
        assert_eq!(job["remote_data"]["/recruitment/positions"], *p);
        // The pipeline: the stages seen on the position's applicants, by stage id.
        let expected: Vec<Value> = seen_stages(&applicants[&remote_id])
            .into_iter()
            .enumerate()
            .map(|(i, (stage_id, title))| {
                json!({
                    "id": id(ModelKind::ApplicationStage, &stage_id),
                    "remote_id": stage_id,
                    "name": title,
                    "status": null,
                    "custom_fields": {},
                    "index": i,
                })
            })
            .collect();
        for s in job["stages"].as_array().unwrap() {
            assert_keys(s, JOB_STAGE_KEYS);
        }
        assert_eq!(job["stages"], json!(expected), "{remote_id}");
    }
}

#[tokio::test]
async fn candidates_and_applications_match_the_simulator_with_nested_objects() {
    let app = spawn_app(Options::default()).await;
    let (positions, applicants) = sim_data(&app).await;
    let jobs = by_remote_id(&all(&app, "jobs", "").await);
    let candidates = all(&app, "candidates", "").await;
    let applications = all(&app, "applications", "").await;
    let stages = all(&app, "application-stages", "").await;
    let total: usize = applicants.values().map(Vec::len).sum();
    assert!(total > 0);
    assert_eq!(candidates.len(), total);
    assert_eq!(applications.len(), total);
    let candidates = by_remote_id(&candidates);
    let applications = by_remote_id(&applications);

    // Application stages: every distinct stage seen on an applicant.
    let mut expected_stages = BTreeMap::new();
    for a in applicants.values().flatten() {
        if let Some(sid) = a["stage"]["id"].as_u64() {
            expected_stages.insert(sid.to_string(), a["stage"].clone());
        }
    }
    assert_eq!(stages.len(), expected_stages.len());
    for s in &stages {
        assert_keys(s, APPLICATION_STAGE_KEYS);
        let remote_id = s["remote_id"].as_str().unwrap();
        let raw = &expected_stages[remote_id];
        assert_eq!(s["id"], id(ModelKind::ApplicationStage, remote_id));
        assert_eq!(s["name"], raw["title"]);
        assert!(s["status"].is_null());
        assert_eq!(s["custom_fields"], json!({}));
        assert_timestamp(&s["changed_at"]);
        assert!(s["remote_deleted_at"].is_null());
        assert!(s["remote_data"].is_object());
    }

    for p in &positions {
        let job_remote_id = p["id"].to_string();
        let job = &jobs[&job_remote_id];
        let job_ref = json!({"id": job["id"], "name": job["name"], "remote_id": job_remote_id});
        for a in &applicants[&job_remote_id] {
            let remote_id = a["id"].to_string();
            let stage_remote_id = a["stage"]["id"].to_string();
            let job_stage = job["stages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["remote_id"] == stage_remote_id)
                .unwrap_or_else(|| panic!("stage {stage_remote_id} not in the job's pipeline"));
            let stage_id = id(ModelKind::ApplicationStage, &stage_remote_id);
            let emails: Vec<Value> = text(&a["email"])
                .into_iter()
                .map(|e| json!({"email_address": e, "type": null}))
                .collect();
            let phones: Vec<Value> = text(&a["phone_number"])
                .into_iter()
                .map(|p| json!({"phone_number": p, "type": null}))
                .collect();

            // The candidate, with its one application.
            let c = &candidates[&remote_id];
            assert_keys(c, CANDIDATE_KEYS);
            assert_eq!(c["id"], id(ModelKind::Candidate, &remote_id));
            assert_eq!(c["first_name"], a["first_name"]);
            assert_eq!(c["last_name"], a["last_name"]);
            assert_eq!(c["source"], a["source"]);
            assert_eq!(c["email_addresses"], json!(emails));
            assert_eq!(c["phone_numbers"], json!(phones));
            assert_eq!(c["social_media"], json!([]));
            assert_eq!(c["tags"], json!([]));
            if a["address"].is_null() {
                assert!(c["location"].is_null());
            } else {
                assert_keys(&c["location"], LOCATION_KEYS);
                assert_eq!(c["location"]["raw"], a["address"]);
            }
            assert_timestamp(&c["changed_at"]);
            assert_timestamp(&c["remote_created_at"]);
            assert!(c["remote_deleted_at"].is_null());
            let apps = c["applications"].as_array().unwrap();
            assert_eq!(apps.len(), 1, "{c}");
            let ca = &apps[0];
            assert_keys(ca, CANDIDATE_APPLICATION_KEYS);
            assert_keys(&ca["current_stage"], STAGE_REF_KEYS);
            assert_keys(&ca["job"], JOB_REF_KEYS);
            assert_eq!(ca["id"], id(ModelKind::Application, &remote_id));
            assert_eq!(ca["remote_id"], remote_id);
            assert_eq!(ca["outcome"], expected_outcome(a));
            assert_timestamp(&ca["changed_at"]);
            assert_eq!(
                ca["current_stage"],
                json!({"id": stage_id, "name": a["stage"]["title"], "remote_id": stage_remote_id, "index": job_stage["index"]})
            );
            assert_eq!(ca["job"], job_ref);

            // The application, with its candidate, stage and job expanded.
            let app_record = &applications[&remote_id];
            assert_keys(app_record, APPLICATION_KEYS);
            assert_eq!(app_record["id"], ca["id"]);
            assert_eq!(app_record["outcome"], expected_outcome(a));
            assert_eq!(app_record["changed_at"], ca["changed_at"]);
            assert_eq!(app_record["current_stage_id"], stage_id);
            assert_eq!(app_record["job_id"], job["id"]);
            assert_eq!(app_record["candidate_id"], c["id"]);
            if a["disqualified_date"].is_null() {
                assert!(app_record["rejected_at"].is_null());
            } else {
                assert_timestamp(&app_record["rejected_at"]);
            }
            assert_eq!(app_record["interviews"], json!([]));
            assert_eq!(app_record["offers"], json!([]));
            assert_eq!(app_record["screening_question_answers"], json!([]));
            assert_keys(&app_record["candidate"], APPLICATION_CANDIDATE_KEYS);
            assert_eq!(
                app_record["candidate"],
                json!({
                    "id": c["id"], "remote_id": remote_id, "first_name": a["first_name"],
                    "last_name": a["last_name"], "source": a["source"], "remote_url": null,
                    "tags": [], "email_addresses": emails, "phone_numbers": phones,
                    "social_media": [],
                })
            );
            assert_keys(&app_record["current_stage"], JOB_STAGE_KEYS);
            assert_eq!(app_record["current_stage"], *job_stage);
            assert_eq!(app_record["job"], job_ref);
        }
    }
}

#[tokio::test]
async fn paging_by_seven_returns_every_record_once() {
    // More than 100 candidates and applications, so the default page size shows too.
    let app = spawn_app(Options {
        positions: 15,
        applicants: 8,
        ..Options::default()
    })
    .await;
    for endpoint in ENDPOINTS {
        let everything = all(&app, endpoint, "").await;
        assert!(everything.len() > 7, "{endpoint}: {}", everything.len());
        let paged = all_pages(&app, endpoint, "", 7).await;
        // Same records, same order, same content.
        assert_eq!(paged, everything, "{endpoint}");
        // The default page size is 100.
        let (_, body) = app.get(&format!("/v1/ats/{endpoint}")).await;
        let n = body["data"]["results"].as_array().unwrap().len();
        assert_eq!(n, everything.len().min(100), "{endpoint}");
        assert_eq!(body["data"]["next"].is_string(), everything.len() > 100);
    }
    // Page sizes 1 and 250 are valid.
    assert_eq!(
        all_pages(&app, "jobs", "", 1).await,
        all(&app, "jobs", "").await
    );
}

#[tokio::test]
async fn a_record_updated_between_pages_is_neither_lost_nor_repeated() {
    let app = spawn_app(Options::default()).await;
    let before = all(&app, "applications", "").await;
    let (_, first) = app.get("/v1/ats/applications?page_size=7").await;
    let first_page = first["data"]["results"].as_array().unwrap().clone();
    let next = first["data"]["next"].as_str().unwrap().to_owned();
    // Move one application of the first page and one of a later page, then resync.
    for record in [&first_page[0], &before[before.len() - 1]] {
        move_to_other_stage(&app, record).await;
    }
    app.sync().await;
    let mut seen: Vec<String> = ids(&first_page).into_iter().collect();
    let mut cursor = Some(next);
    while let Some(c) = cursor {
        let (status, body) = app
            .get(&format!("/v1/ats/applications?page_size=7&cursor={c}"))
            .await;
        assert_eq!(status, 200, "{body}");
        seen.extend(
            body["data"]["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned()),
        );
        cursor = body["data"]["next"].as_str().map(str::to_owned);
    }
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a record came twice");
    assert_eq!(unique, ids(&before));
}

/// Moves an application's applicant to another stage of its position in the simulator and
/// returns the new stage's remote id.
async fn move_to_other_stage(app: &TestApp, application: &Value) -> String {
    let job_remote_id = application["job"]["remote_id"].as_str().unwrap();
    let current = application["current_stage"]["remote_id"].as_str().unwrap();
    let target = sim_pipeline(app, job_remote_id)
        .into_iter()
        .find(|s| s != current)
        .unwrap();
    let remote_id = application["remote_id"].as_str().unwrap();
    app.sim
        .control(
            Method::POST,
            &format!("applicants/{remote_id}/move"),
            json!({"stage_id": target.parse::<u64>().unwrap()}),
        )
        .await;
    target
}

#[tokio::test]
async fn updated_after_returns_a_moved_application_and_its_candidate() {
    let app = spawn_app(Options::default()).await;
    let applications = all(&app, "applications", "").await;
    let candidates = by_remote_id(&all(&app, "candidates", "").await);
    let moved = applications
        .iter()
        .find(|a| a["outcome"] == "PENDING")
        .unwrap()
        .clone();
    let remote_id = moved["remote_id"].as_str().unwrap();
    let candidate_before = candidates[remote_id].clone();

    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let since = Timestamp::now().to_string();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // Nothing changed yet.
    for endpoint in ["applications", "candidates"] {
        assert!(all(&app, endpoint, &format!("updated_after={since}"))
            .await
            .is_empty());
    }
    let target = move_to_other_stage(&app, &moved).await;
    app.sync().await;

    let changed = all(&app, "applications", &format!("updated_after={since}")).await;
    assert_eq!(
        ids(&changed),
        BTreeSet::from([moved["id"].as_str().unwrap().to_owned()])
    );
    let after = &changed[0];
    assert_eq!(after["current_stage"]["remote_id"], target);
    assert_eq!(
        after["current_stage_id"],
        id(ModelKind::ApplicationStage, &target)
    );
    assert!(after["changed_at"].as_str().unwrap() > since.as_str());

    // The candidate is returned because its application changed; its own changed_at stays.
    let changed = all(&app, "candidates", &format!("updated_after={since}")).await;
    assert_eq!(
        ids(&changed),
        BTreeSet::from([candidate_before["id"].as_str().unwrap().to_owned()])
    );
    let candidate = &changed[0];
    assert_eq!(candidate["changed_at"], candidate_before["changed_at"]);
    assert_eq!(
        candidate["applications"][0]["current_stage"]["remote_id"],
        target
    );
    assert_eq!(
        candidate["applications"][0]["changed_at"],
        after["changed_at"]
    );

    // A later instant selects nothing; an earlier one everything.
    let later = Timestamp::now().to_string();
    assert!(all(&app, "applications", &format!("updated_after={later}"))
        .await
        .is_empty());
    assert_eq!(
        all(
            &app,
            "applications",
            "updated_after=2000-01-01T00:00:00.000Z"
        )
        .await
        .len(),
        applications.len()
    );
}

/// Checks that `GET /v1/ats/{endpoint}?{query}` returns exactly `expected`.
async fn check(app: &TestApp, endpoint: &str, query: &str, expected: &BTreeSet<String>) {
    let got = ids(&all(app, endpoint, query).await);
    assert_eq!(&got, expected, "/ats/{endpoint}?{query}");
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn day_of(t: &Value) -> String {
    t.as_str().unwrap()[..10].to_owned()
}

#[tokio::test]
async fn job_filters() {
    let app = spawn_app(Options {
        positions: 15,
        applicants: 2,
        ..Options::default()
    })
    .await;
    let jobs = all(&app, "jobs", "").await;
    let every = ids(&jobs);
    let (a, b) = (&jobs[0], &jobs[3]);
    let one = |j: &Value| BTreeSet::from([j["id"].as_str().unwrap().to_owned()]);
    let both: BTreeSet<String> = one(a).union(&one(b)).cloned().collect();
    let id_a = a["id"].as_str().unwrap();
    let id_b = b["id"].as_str().unwrap();
    let rid_a = a["remote_id"].as_str().unwrap();
    let rid_b = b["remote_id"].as_str().unwrap();

    check(&app, "jobs", &format!("ids={id_a},{id_b}"), &both).await;
    check(&app, "jobs", &format!("ids={id_a}&ids={id_b}"), &both).await;
    check(&app, "jobs", &format!("remote_ids={rid_a},{rid_b}"), &both).await;
    // Filters are AND-ed.
    check(
        &app,
        "jobs",
        &format!("ids={id_a}&remote_ids={rid_a},{rid_b}"),
        &one(a),
    )
    .await;
    check(
        &app,
        "jobs",
        &format!("ids={id_a}&remote_ids={rid_b}"),
        &BTreeSet::new(),
    )
    .await;
    check(&app, "jobs", "ids=nope", &BTreeSet::new()).await;

    // Statuses (and the deprecated `status`, which adds to them).
    let status_is =
        |s: &'static [&'static str]| ids_where(&jobs, move |j| s.iter().any(|x| j["status"] == *x));
    for (query, wanted) in [
        ("statuses=OPEN", &["OPEN"][..]),
        ("statuses=CLOSED,DRAFT", &["CLOSED", "DRAFT"][..]),
        ("status=CLOSED", &["CLOSED"][..]),
        ("statuses=OPEN&status=DRAFT", &["OPEN", "DRAFT"][..]),
        ("statuses=ARCHIVED", &["ARCHIVED"][..]),
    ] {
        check(&app, "jobs", query, &status_is(wanted)).await;
    }
    assert!(!status_is(&["OPEN"]).is_empty() && status_is(&["OPEN"]) != every);

    let employment = ids_where(&jobs, |j| {
        j["employment_type"] == "FULL_TIME" || j["employment_type"] == "CONTRACT"
    });
    assert!(!employment.is_empty() && employment != every);
    check(
        &app,
        "jobs",
        "employment_types=FULL_TIME,CONTRACT",
        &employment,
    )
    .await;

    let public = ids_where(&jobs, |j| j["visibility"] == "PUBLIC");
    assert!(!public.is_empty() && public != every);
    check(&app, "jobs", "visibilities=PUBLIC", &public).await;
    let visible = ids_where(&jobs, |j| {
        j["visibility"] == "PUBLIC" || j["visibility"] == "INTERNAL"
    });
    check(&app, "jobs", "visibilities=PUBLIC,INTERNAL", &visible).await;

    // No Sage HR job has a job code.
    check(&app, "jobs", "job_codes=REQ-1,REQ-2", &BTreeSet::new()).await;

    let with_url = jobs.iter().find(|j| j["post_url"].is_string()).unwrap();
    let url = with_url["post_url"].as_str().unwrap();
    check(
        &app,
        "jobs",
        &format!("post_url={}", enc(url)),
        &ids_where(&jobs, |j| j["post_url"] == url),
    )
    .await;

    // name_contains: a case-insensitive substring.
    let name = a["name"].as_str().unwrap();
    let word = name.split(' ').next_back().unwrap();
    let needle = word[..word.len().min(5)].to_uppercase();
    let named = ids_where(&jobs, |j| {
        j["name"]
            .as_str()
            .is_some_and(|n| n.to_lowercase().contains(&needle.to_lowercase()))
    });
    assert!(named.contains(id_a));
    check(
        &app,
        "jobs",
        &format!("name_contains={}", enc(&needle)),
        &named,
    )
    .await;

    // remote_created_after counts whole days: a time late on a day includes that day.
    let mut days: Vec<String> = jobs
        .iter()
        .map(|j| day_of(&j["remote_created_at"]))
        .collect();
    days.sort();
    let middle = days[days.len() / 2].clone();
    let from_day = ids_where(&jobs, |j| day_of(&j["remote_created_at"]) >= middle);
    assert!(!from_day.is_empty() && from_day != every);
    check(
        &app,
        "jobs",
        &format!("remote_created_after={middle}T23:59:59.000Z"),
        &from_day,
    )
    .await;

    check(
        &app,
        "jobs",
        "updated_after=2000-01-01T00:00:00.000Z",
        &every,
    )
    .await;
    check(
        &app,
        "jobs",
        "updated_after=2999-01-01T00:00:00.000Z",
        &BTreeSet::new(),
    )
    .await;
    // Sage HR supports every filter, so ignoring unsupported ones changes nothing.
    check(
        &app,
        "jobs",
        "ignore_unsupported_filters=true&statuses=OPEN",
        &status_is(&["OPEN"]),
    )
    .await;
    check(&app, "jobs", "ignore_unsupported_filters=false", &every).await;
    // Unknown parameters are ignored.
    check(&app, "jobs", "foo=bar&outcomes=NOPE&email=x", &every).await;

    // Deleted jobs are hidden unless include_deleted=true.
    let deleted = jobs.iter().find(|j| j["status"] == "OPEN").unwrap();
    let deleted_id = deleted["id"].as_str().unwrap().to_owned();
    app.sim
        .control(
            Method::DELETE,
            &format!("positions/{}", deleted["remote_id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    app.sync().await;
    let live: BTreeSet<String> = every
        .iter()
        .filter(|i| **i != deleted_id)
        .cloned()
        .collect();
    check(&app, "jobs", "", &live).await;
    check(&app, "jobs", "include_deleted=false", &live).await;
    check(&app, "jobs", "include_deleted=true", &every).await;
    let with_deleted = all(&app, "jobs", "include_deleted=true&statuses=OPEN").await;
    let gone = with_deleted
        .iter()
        .find(|j| j["id"] == deleted_id.as_str())
        .unwrap();
    assert_timestamp(&gone["remote_deleted_at"]);
    assert_keys(gone, JOB_KEYS);
}

#[tokio::test]
async fn candidate_filters() {
    let app = spawn_app(Options::default()).await;
    let candidates = all(&app, "candidates", "").await;
    let jobs = all(&app, "jobs", "").await;
    let c = &candidates[5];
    let email = c["email_addresses"][0]["email_address"].as_str().unwrap();
    let emailed = ids_where(&candidates, |x| {
        x["email_addresses"][0]["email_address"]
            .as_str()
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    });
    assert!(emailed.contains(c["id"].as_str().unwrap()));
    check(
        &app,
        "candidates",
        &format!("email={}", enc(&email.to_uppercase())),
        &emailed,
    )
    .await;
    check(
        &app,
        "candidates",
        "email=nobody%40nowhere.example",
        &BTreeSet::new(),
    )
    .await;

    for key in ["first_name", "last_name"] {
        let value = c[key].as_str().unwrap();
        let same = ids_where(&candidates, |x| {
            x[key]
                .as_str()
                .is_some_and(|v| v.to_lowercase() == value.to_lowercase())
        });
        check(
            &app,
            "candidates",
            &format!("{key}={}", enc(&value.to_uppercase())),
            &same,
        )
        .await;
        // Exact, not a substring.
        check(
            &app,
            "candidates",
            &format!("{key}={}", enc(&value[..2])),
            &BTreeSet::new(),
        )
        .await;
    }
    let first = c["first_name"].as_str().unwrap();
    let last = c["last_name"].as_str().unwrap();
    let named = ids_where(&candidates, |x| {
        x["first_name"] == first && x["last_name"] == last
    });
    check(
        &app,
        "candidates",
        &format!("first_name={}&last_name={}", enc(first), enc(last)),
        &named,
    )
    .await;

    let job_ids: Vec<&str> = [&jobs[0], &jobs[2]]
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    let applied = ids_where(&candidates, |x| {
        x["applications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| job_ids.contains(&a["job"]["id"].as_str().unwrap()))
    });
    assert!(!applied.is_empty());
    check(
        &app,
        "candidates",
        &format!("job_ids={}", job_ids.join(",")),
        &applied,
    )
    .await;

    let pair: BTreeSet<String> = [&candidates[0], &candidates[1]]
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_owned())
        .collect();
    let list: Vec<&str> = pair.iter().map(String::as_str).collect();
    check(
        &app,
        "candidates",
        &format!("ids={}", list.join(",")),
        &pair,
    )
    .await;
    let remote: Vec<&str> = [&candidates[0], &candidates[1]]
        .iter()
        .map(|x| x["remote_id"].as_str().unwrap())
        .collect();
    check(
        &app,
        "candidates",
        &format!("remote_ids={}", remote.join(",")),
        &pair,
    )
    .await;
    check(
        &app,
        "candidates",
        "updated_after=2999-01-01T00:00:00Z",
        &BTreeSet::new(),
    )
    .await;
    check(
        &app,
        "candidates",
        "statuses=NOPE&ignore_unsupported_filters=true",
        &ids(&candidates),
    )
    .await;
}

#[tokio::test]
async fn application_filters() {
    let app = spawn_app(Options {
        positions: 8,
        applicants: 5,
        ..Options::default()
    })
    .await;
    let applications = all(&app, "applications", "").await;
    let every = ids(&applications);
    let outcome_in = |wanted: &'static [&'static str]| {
        ids_where(&applications, move |a| {
            wanted.iter().any(|w| a["outcome"] == *w)
        })
    };
    assert!(!outcome_in(&["PENDING"]).is_empty() && outcome_in(&["PENDING"]) != every);
    for (query, wanted) in [
        ("outcomes=PENDING", &["PENDING"][..]),
        ("outcomes=HIRED,DECLINED", &["HIRED", "DECLINED"][..]),
        ("outcome=HIRED", &["HIRED"][..]),
        (
            "outcomes=HIRED&outcome=DECLINED",
            &["HIRED", "DECLINED"][..],
        ),
    ] {
        check(&app, "applications", query, &outcome_in(wanted)).await;
    }

    let (x, y) = (&applications[1], &applications[applications.len() - 1]);
    let job_ids = [x["job_id"].as_str().unwrap(), y["job_id"].as_str().unwrap()];
    let in_jobs = ids_where(&applications, |a| {
        job_ids.contains(&a["job_id"].as_str().unwrap())
    });
    assert!(in_jobs.len() >= 2 && in_jobs != every);
    check(
        &app,
        "applications",
        &format!("job_ids={}", job_ids.join(",")),
        &in_jobs,
    )
    .await;
    let job_remote_ids = [
        x["job"]["remote_id"].as_str().unwrap(),
        y["job"]["remote_id"].as_str().unwrap(),
    ];
    check(
        &app,
        "applications",
        &format!("job_remote_ids={}", job_remote_ids.join(",")),
        &in_jobs,
    )
    .await;

    let stage = x["current_stage_id"].as_str().unwrap();
    let in_stage = ids_where(&applications, |a| a["current_stage_id"] == stage);
    check(
        &app,
        "applications",
        &format!("current_stage_ids={stage}"),
        &in_stage,
    )
    .await;
    // AND across filters.
    let both = ids_where(&applications, |a| {
        a["current_stage_id"] == stage && a["outcome"] == "PENDING"
    });
    check(
        &app,
        "applications",
        &format!("current_stage_ids={stage}&outcomes=PENDING"),
        &both,
    )
    .await;

    let mut days: Vec<String> = applications
        .iter()
        .map(|a| day_of(&a["remote_created_at"]))
        .collect();
    days.sort();
    let middle = days[days.len() / 2].clone();
    let from_day = ids_where(&applications, |a| day_of(&a["remote_created_at"]) >= middle);
    assert!(!from_day.is_empty() && from_day != every);
    check(
        &app,
        "applications",
        &format!("remote_created_after={middle}T23:59:59.999Z"),
        &from_day,
    )
    .await;

    let pick: Vec<&Value> = vec![&applications[0], &applications[2]];
    let pair: BTreeSet<String> = pick
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    let list: Vec<&str> = pair.iter().map(String::as_str).collect();
    check(
        &app,
        "applications",
        &format!("ids={}", list.join(",")),
        &pair,
    )
    .await;
    let remote: Vec<&str> = pick
        .iter()
        .map(|a| a["remote_id"].as_str().unwrap())
        .collect();
    check(
        &app,
        "applications",
        &format!("remote_ids={}", remote.join(",")),
        &pair,
    )
    .await;

    // A deleted applicant: its application and candidate are hidden unless include_deleted.
    let gone = &applications[3];
    let gone_id = gone["id"].as_str().unwrap().to_owned();
    let gone_candidate = gone["candidate_id"].as_str().unwrap().to_owned();
    app.sim
        .control(
            Method::DELETE,
            &format!("applicants/{}", gone["remote_id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    app.sync().await;
    let live: BTreeSet<String> = every.iter().filter(|i| **i != gone_id).cloned().collect();
    check(&app, "applications", "", &live).await;
    check(&app, "applications", "include_deleted=true", &every).await;
    let deleted = all(
        &app,
        "applications",
        &format!("include_deleted=true&ids={gone_id}"),
    )
    .await;
    assert_timestamp(&deleted[0]["remote_deleted_at"]);
    assert_keys(&deleted[0], APPLICATION_KEYS);
    assert_eq!(deleted[0]["candidate"]["id"], gone_candidate.as_str());
    let candidates = all(&app, "candidates", &format!("ids={gone_candidate}")).await;
    assert!(candidates.is_empty());
    let candidates = all(
        &app,
        "candidates",
        &format!("ids={gone_candidate}&include_deleted=true"),
    )
    .await;
    assert_eq!(candidates.len(), 1);
    assert_timestamp(&candidates[0]["remote_deleted_at"]);
    assert_eq!(candidates[0]["applications"][0]["id"], gone_id.as_str());
}

#[tokio::test]
async fn a_candidates_deleted_application_is_listed_only_with_include_deleted() {
    let app = spawn_app(Options::default()).await;
    let candidate = all(&app, "candidates", "").await[0].clone();
    let candidate_id = candidate["id"].as_str().unwrap();
    let application_id = candidate["applications"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.store
        .mark_deleted(
            INTEGRATION,
            ModelKind::Application,
            std::slice::from_ref(&application_id),
            Timestamp::now(),
        )
        .await
        .unwrap();
    let live = all(&app, "candidates", &format!("ids={candidate_id}")).await;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["applications"], json!([]));
    let with_deleted = all(
        &app,
        "candidates",
        &format!("ids={candidate_id}&include_deleted=true"),
    )
    .await;
    assert_eq!(
        with_deleted[0]["applications"][0]["id"],
        application_id.as_str()
    );
}

#[tokio::test]
async fn application_stage_filters() {
    let app = spawn_app(Options::default()).await;
    let stages = all(&app, "application-stages", "").await;
    let pick = [&stages[0], &stages[4]];
    let pair: BTreeSet<String> = pick
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    let list: Vec<&str> = pair.iter().map(String::as_str).collect();
    check(
        &app,
        "application-stages",
        &format!("ids={}", list.join(",")),
        &pair,
    )
    .await;
    let remote: Vec<&str> = pick
        .iter()
        .map(|s| s["remote_id"].as_str().unwrap())
        .collect();
    check(
        &app,
        "application-stages",
        &format!("remote_ids={}", remote.join(",")),
        &pair,
    )
    .await;
    check(
        &app,
        "application-stages",
        "updated_after=2999-01-01T00:00:00Z",
        &BTreeSet::new(),
    )
    .await;
    // Other endpoints' filters are unknown here and ignored.
    check(
        &app,
        "application-stages",
        "statuses=OPEN&outcomes=HIRED",
        &ids(&stages),
    )
    .await;
}

#[tokio::test]
async fn bad_parameters_answer_input_invalid_naming_them() {
    let app = spawn_app(Options::default()).await;
    let cases: &[(&str, &str, &str)] = &[
        ("jobs", "page_size=0", "page_size"),
        ("jobs", "page_size=251", "page_size"),
        ("candidates", "page_size=abc", "page_size"),
        ("applications", "page_size=-5", "page_size"),
        ("application-stages", "page_size=2.5", "page_size"),
        ("jobs", "page_size=", "page_size"),
        ("jobs", "updated_after=yesterday", "updated_after"),
        (
            "candidates",
            "updated_after=2026-13-01T00:00:00Z",
            "updated_after",
        ),
        (
            "application-stages",
            "updated_after=2026-01-01",
            "updated_after",
        ),
        ("jobs", "include_deleted=yes", "include_deleted"),
        ("applications", "include_deleted=1", "include_deleted"),
        ("candidates", "include_deleted=TRUE", "include_deleted"),
        (
            "jobs",
            "ignore_unsupported_filters=maybe",
            "ignore_unsupported_filters",
        ),
        (
            "application-stages",
            "ignore_unsupported_filters=0",
            "ignore_unsupported_filters",
        ),
        ("jobs", "statuses=OPEN,PAUSED", "statuses"),
        ("jobs", "status=open", "status"),
        ("jobs", "visibilities=SECRET", "visibilities"),
        ("jobs", "remote_created_after=soon", "remote_created_after"),
        ("applications", "outcomes=REJECTED", "outcomes"),
        ("applications", "outcome=WON", "outcome"),
        (
            "applications",
            "remote_created_after=1.1.2026",
            "remote_created_after",
        ),
        ("jobs", "cursor=not-a-cursor", "cursor"),
        ("candidates", "cursor=e30", "cursor"),
    ];
    for (endpoint, query, param) in cases {
        let (status, body) = app.get(&format!("/v1/ats/{endpoint}?{query}")).await;
        assert_invalid(status, &body, param);
    }
    // The bad value is named too.
    let (_, body) = app.get("/v1/ats/jobs?statuses=OPEN,PAUSED").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("PAUSED"),
        "{body}"
    );
    // Malformed query strings never escape the envelope.
    for query in [
        "%zz",
        "a=%ff%fe&page_size=3",
        "&&=&==",
        "ids",
        "page_size=3&page_size=3",
    ] {
        let (status, body) = app.get(&format!("/v1/ats/jobs?{query}")).await;
        assert_eq!(status, 200, "{query}: {body}");
    }
}

#[tokio::test]
async fn a_cursor_only_works_with_the_filters_it_was_made_with() {
    let app = spawn_app(Options::default()).await;
    let (_, body) = app
        .get("/v1/ats/applications?page_size=3&outcomes=PENDING,HIRED,DECLINED")
        .await;
    let next = body["data"]["next"].as_str().unwrap().to_owned();
    // Same filters (and another page size): fine.
    let (status, _) = app
        .get(&format!(
            "/v1/ats/applications?page_size=5&outcomes=PENDING,HIRED,DECLINED&cursor={next}"
        ))
        .await;
    assert_eq!(status, 200);
    for other in [
        "outcomes=PENDING",
        "",
        "outcomes=PENDING,HIRED,DECLINED&include_deleted=true",
        "outcomes=PENDING,HIRED,DECLINED&updated_after=2000-01-01T00:00:00Z",
    ] {
        let (status, body) = app
            .get(&with_query(
                &format!("/v1/ats/applications?page_size=3&cursor={next}"),
                other,
            ))
            .await;
        assert_invalid(status, &body, "cursor");
    }
    // Nor on another model.
    let (status, body) = app.get(&format!("/v1/ats/candidates?cursor={next}")).await;
    assert_invalid(status, &body, "cursor");
}

#[tokio::test]
async fn authentication_and_integration_scope() {
    let app = spawn_app(Options::default()).await;
    for endpoint in ENDPOINTS {
        let url = format!("{}/v1/ats/{endpoint}", app.base);
        let (status, body) = send(app.http.get(&url).header("X-Integration-Id", INTEGRATION)).await;
        assert_error(status, &body, 401, "PLATFORM.AUTHENTICATION_INVALID");
        let (status, body) = send(
            app.http
                .get(&url)
                .bearer_auth("atsb_wrong")
                .header("X-Integration-Id", INTEGRATION),
        )
        .await;
        assert_error(status, &body, 401, "PLATFORM.AUTHENTICATION_INVALID");

        let (status, body) = send(
            app.http
                .get(&url)
                .bearer_auth(&app.key)
                .header("X-Integration-Id", "sagehr:1111111111111111111111zz"),
        )
        .await;
        assert_error(status, &body, 404, "PLATFORM.INTEGRATION_NOT_FOUND");

        let (status, body) = send(app.http.get(&url).bearer_auth(&app.key)).await;
        assert_invalid(status, &body, "X-Integration-Id");
    }
    // A key of another environment cannot see this environment's integration.
    let (_, other_key) = app
        .store
        .create_api_key("env_other", "other", Timestamp::now())
        .await
        .unwrap();
    assert_ne!(ENVIRONMENT, "env_other");
    let (status, body) = send(
        app.http
            .get(format!("{}/v1/ats/jobs", app.base))
            .bearer_auth(&other_key)
            .header("X-Integration-Id", INTEGRATION),
    )
    .await;
    assert_error(status, &body, 404, "PLATFORM.INTEGRATION_NOT_FOUND");
}

#[tokio::test]
async fn reads_wait_for_the_first_sync() {
    let app = spawn_app(Options {
        sync: false,
        ..Options::default()
    })
    .await;
    for endpoint in ENDPOINTS {
        let (status, body) = app.get(&format!("/v1/ats/{endpoint}")).await;
        assert_error(status, &body, 409, "INTEGRATION.SETUP_SYNC_PENDING");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(INTEGRATION));
    }
    app.sync().await;
    for endpoint in ENDPOINTS {
        let (status, body) = app.get(&format!("/v1/ats/{endpoint}")).await;
        assert_eq!(status, 200, "{body}");
        assert!(!body["data"]["results"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_disabled_integration_is_not_readable() {
    let app = spawn_app(Options::default()).await;
    app.store
        .set_integration_status(INTEGRATION, IntegrationStatus::Inactive)
        .await
        .unwrap();
    for endpoint in ENDPOINTS {
        let (status, body) = app.get(&format!("/v1/ats/{endpoint}")).await;
        assert_error(status, &body, 403, "INTEGRATION.INACTIVE");
    }
    app.store
        .set_integration_status(INTEGRATION, IntegrationStatus::Active)
        .await
        .unwrap();
    app.store
        .set_setup_status(INTEGRATION, SetupStatus::Incomplete)
        .await
        .unwrap();
    let (status, body) = app.get("/v1/ats/jobs").await;
    assert_error(status, &body, 409, "INTEGRATION.SETUP_INCOMPLETE");
    app.store
        .set_setup_status(INTEGRATION, SetupStatus::Completed)
        .await
        .unwrap();
    let (status, _) = app.get("/v1/ats/jobs").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn other_models_are_not_available_for_sage_hr() {
    let app = spawn_app(Options::default()).await;
    for model in [
        "users",
        "tags",
        "interviews",
        "offers",
        "rejection-reasons",
        "job-postings",
        "screening-questions",
        "roles",
        "notes",
        "scorecards",
        "attachments",
        "anything-else",
    ] {
        let (status, body) = app.get(&format!("/v1/ats/{model}?page_size=1")).await;
        assert_error(status, &body, 400, "INTEGRATION.MODEL_NOT_AVAILABLE");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(&model.replace('-', "_")), "{message}");
        assert!(
            message.contains("Sage HR") && message.contains("sagehr"),
            "{message}"
        );
    }
    // A model name that does not decode still gets the envelope.
    let (status, body) = app.get("/v1/ats/%FF%FE").await;
    assert_error(status, &body, 400, "INTEGRATION.MODEL_NOT_AVAILABLE");
    // Still behind authentication.
    let (status, body) = send(
        app.http
            .get(format!("{}/v1/ats/users", app.base))
            .header("X-Integration-Id", INTEGRATION),
    )
    .await;
    assert_error(status, &body, 401, "PLATFORM.AUTHENTICATION_INVALID");
}

/// The applications list is served from stored JSON text without parsing it; it must say
/// exactly what assembling typed objects says, deleted records and moved stages included.
#[tokio::test]
async fn applications_served_from_stored_text_equal_the_typed_objects() {
    let app = spawn_app(Options::default()).await;
    let before = all_pages(&app, "applications", "", 250).await;
    let deleted = before[0]["remote_id"].as_str().unwrap().to_owned();
    app.sim
        .control(Method::DELETE, &format!("applicants/{deleted}"), json!({}))
        .await;
    app.sync().await;
    let served = all_pages(&app, "applications", "include_deleted=true", 7).await;
    let filter = atsbridge_store::Filter {
        include_deleted: true,
        ..atsbridge_store::Filter::default()
    };
    let (records, more) = app
        .store
        .list(INTEGRATION, ModelKind::Application, &filter, None, 250)
        .await
        .unwrap();
    assert!(!more);
    let typed = atsbridge_server::nested::applications(&app.store, INTEGRATION, &records)
        .await
        .unwrap();
    let typed: Vec<Value> = typed
        .iter()
        .map(|a| serde_json::to_value(a).unwrap())
        .collect();
    assert_eq!(served.len(), typed.len());
    assert!(served.iter().any(|a| !a["remote_deleted_at"].is_null()));
    assert!(served.iter().any(|a| !a["current_stage"].is_null()));
    assert!(served.iter().any(|a| !a["candidate"].is_null()));
    assert_eq!(served, typed);
}

/// Jobs and stages are served from stored text too; same check against the typed objects.
#[tokio::test]
async fn jobs_and_stages_served_from_stored_text_equal_the_typed_objects() {
    let app = spawn_app(Options::default()).await;
    let jobs = all_pages(&app, "jobs", "", 250).await;
    let closed = jobs[0]["remote_id"].as_str().unwrap().to_owned();
    app.sim
        .control(Method::DELETE, &format!("positions/{closed}"), json!({}))
        .await;
    app.sync().await;
    let filter = atsbridge_store::Filter {
        include_deleted: true,
        ..atsbridge_store::Filter::default()
    };
    for (endpoint, model) in [
        ("jobs", ModelKind::Job),
        ("application-stages", ModelKind::ApplicationStage),
    ] {
        let served = all_pages(&app, endpoint, "include_deleted=true", 5).await;
        let (records, _) = app
            .store
            .list(INTEGRATION, model, &filter, None, 250)
            .await
            .unwrap();
        let typed: Vec<Value> = match model {
            ModelKind::Job => atsbridge_server::nested::jobs(&records)
                .unwrap()
                .iter()
                .map(|j| serde_json::to_value(j).unwrap())
                .collect(),
            _ => atsbridge_server::nested::application_stages(&records)
                .unwrap()
                .iter()
                .map(|s| serde_json::to_value(s).unwrap())
                .collect(),
        };
        assert!(
            served.iter().any(|r| !r["remote_deleted_at"].is_null()),
            "{endpoint}"
        );
        assert_eq!(served, typed, "{endpoint}");
    }
}
