//! `/v1/hris`: an HRIS integration of the simulated Sage HR account, synced and read over
//! HTTP, compared with the simulator's own data.

use std::collections::{BTreeMap, BTreeSet};

use atsbridge_model::integration::Category;
use atsbridge_sync::Outcome;
use reqwest::Method;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::helpers::*;
use atsbridge_test_support::sagehr;

const HRIS: &str = "sagehr:8hQmW3vYtRpLx2ZkNcB4JdFa";
/// The HRIS integration of the test that moves its connector's day.
const LATER: &str = "sagehr:9kRnX4wZuSqMy3AlPdC5KeGb";

/// The test app with an HRIS integration of the same account beside its ATS one, synced.
async fn hris_app(database_url: Option<String>) -> TestApp {
    hris_app_as(HRIS, database_url).await
}

async fn hris_app_as(id: &str, database_url: Option<String>) -> TestApp {
    let app = spawn_app(Options {
        database_url,
        ..Options::default()
    })
    .await;
    let mut integration = sagehr::new_integration(
        id,
        ENVIRONMENT,
        sagehr::end_user("Acme Ltd"),
        app.sim.credentials(),
    );
    integration.category = Category::Hris;
    sagehr::add_integration(&app.store, integration).await;
    let outcome = app
        .engine
        .run_once(
            id,
            atsbridge_model::integration::SyncKind::Full,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Ran(_)), "{outcome:?}");
    app
}

async fn get(app: &TestApp, integration: &str, path: &str) -> (u16, Value) {
    let response = app
        .http
        .request(Method::GET, format!("{}/v1{path}", app.base))
        .bearer_auth(&app.key)
        .header("X-Integration-Id", integration)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every result of a list endpoint, following `next`.
async fn all(app: &TestApp, path: &str) -> Vec<Value> {
    all_of(app, HRIS, path).await
}

async fn all_of(app: &TestApp, integration: &str, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &next {
            Some(c) => format!("{path}{sep}page_size=37&cursor={c}"),
            None => format!("{path}{sep}page_size=37"),
        };
        let (status, body) = get(app, integration, &url).await;
        assert_eq!(status, 200, "{url}: {body}");
        out.extend(body["data"]["results"].as_array().unwrap().iter().cloned());
        match body["data"]["next"].as_str() {
            Some(c) => next = Some(c.to_owned()),
            None => return out,
        }
    }
}

fn remote_ids(records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r["remote_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_hris_integration_is_synced_and_read_with_nested_objects() {
    for db in backends().await {
        read_everything(hris_app(db.as_ref().map(|d| d.url.clone())).await).await;
    }
}

async fn read_everything(app: TestApp) {
    let raw = app.sim.control(Method::GET, "hris", Value::Null).await["data"].take();
    let sim_employees = raw["employees"].as_array().unwrap();

    let employees = all(&app, "/hris/employees").await;
    assert_eq!(
        remote_ids(&employees),
        sim_employees
            .iter()
            .map(|e| e["id"].to_string())
            .collect::<BTreeSet<_>>(),
        "every employee, active and terminated, once"
    );
    let by_remote: BTreeMap<String, &Value> = employees
        .iter()
        .map(|e| (e["remote_id"].as_str().unwrap().to_owned(), e))
        .collect();
    let ids: BTreeMap<String, String> = employees
        .iter()
        .map(|e| {
            (
                e["remote_id"].as_str().unwrap().to_owned(),
                e["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let teams: BTreeMap<u64, &Value> = raw["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_u64().unwrap(), t))
        .collect();
    let mut checked_manager = false;
    for e in sim_employees {
        let served = by_remote[&e["id"].to_string()];
        // Every key of Kombo's employee is emitted.
        for key in [
            "employments",
            "time_off_balances",
            "manager",
            "groups",
            "teams",
            "legal_entity",
            "work_location",
            "changed_at",
            "remote_deleted_at",
        ] {
            assert!(served.get(key).is_some(), "{key} missing: {served}");
        }
        assert_eq!(served["first_name"], e["first_name"]);
        let terminated = e["terminated"].as_bool().unwrap();
        assert_eq!(
            served["employment_status"] == "INACTIVE",
            terminated,
            "{served}"
        );
        // Groups: the employee's team, with the team's own name.
        if let (false, Some(team)) = (terminated, e["team_id"].as_u64()) {
            let groups = served["groups"].as_array().unwrap();
            assert_eq!(groups.len(), 1, "{served}");
            assert_eq!(groups[0]["remote_id"], team.to_string());
            assert_eq!(groups[0]["name"], teams[&team]["name"]);
            assert_eq!(served["teams"], served["groups"]);
        }
        // The manager object is the manager's own record.
        if let (Some(manager), false) = (e["reports_to_employee_id"].as_u64(), terminated) {
            let m = &served["manager"];
            assert_eq!(m["remote_id"], manager.to_string(), "{served}");
            assert_eq!(m["id"], ids[&manager.to_string()].as_str());
            assert_eq!(served["manager_id"], m["id"]);
            checked_manager = true;
        }
        // Employments: one per compensation row, all the employee's.
        let employments = served["employments"].as_array().unwrap();
        assert_eq!(
            employments.len(),
            e["compensations"].as_array().unwrap().len(),
            "{served}"
        );
        assert!(employments.iter().all(|x| x["employee_id"] == served["id"]));
        // Balances of active employees, naming their type (Kombo embeds no type here).
        for b in served["time_off_balances"].as_array().unwrap() {
            assert_eq!(b["employee_id"], served["id"]);
            assert!(b["type_id"].is_string() && b.get("type").is_none(), "{b}");
        }
    }
    assert!(checked_manager, "the seeded data has managers");

    // The other models, each complete and each pointing at served employees.
    let employee_ids: BTreeSet<&str> = employees
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let employments = all(&app, "/hris/employments").await;
    let rows: usize = sim_employees
        .iter()
        .map(|e| e["compensations"].as_array().unwrap().len())
        .sum();
    assert_eq!(employments.len(), rows);
    let groups = all(&app, "/hris/groups").await;
    assert_eq!(groups.len(), teams.len());
    assert!(groups.iter().all(|g| g["type"] == "TEAM"));
    assert_eq!(
        all(&app, "/hris/teams").await,
        groups,
        "the deprecated alias"
    );
    let types = all(&app, "/hris/absence-types").await;
    assert_eq!(types.len(), raw["policies"].as_array().unwrap().len());
    let absences = all(&app, "/hris/absences").await;
    assert!(!absences.is_empty());
    for a in &absences {
        assert!(
            employee_ids.contains(a["employee_id"].as_str().unwrap()),
            "{a}"
        );
        assert_eq!(a["type"]["id"], a["type_id"], "{a}");
        assert_eq!(
            a["start_date"].as_str().unwrap().len(),
            10,
            "a plain date: {a}"
        );
    }
    let balances = all(&app, "/hris/time-off-balances").await;
    assert!(!balances.is_empty());

    // Filters.
    let one = &employees[0];
    let id = one["id"].as_str().unwrap();
    let of_one = all(&app, &format!("/hris/absences?employee_id={id}")).await;
    assert_eq!(
        of_one.len(),
        absences.iter().filter(|a| a["employee_id"] == id).count()
    );
    let march = all(
        &app,
        "/hris/absences?date_from=2026-03-01&date_until=2026-03-31",
    )
    .await;
    let expected = absences
        .iter()
        .filter(|a| {
            a["end_date"].as_str().unwrap() >= "2026-03-01"
                && a["start_date"].as_str().unwrap() <= "2026-03-31"
        })
        .count();
    assert_eq!(march.len(), expected);
    let inactive = all(&app, "/hris/employees?employment_statuses=INACTIVE").await;
    assert_eq!(
        inactive.len(),
        sim_employees
            .iter()
            .filter(|e| e["terminated"] == json!(true))
            .count()
    );
    let group = groups[0]["id"].as_str().unwrap();
    let members = all(&app, &format!("/hris/employees?group_ids={group}")).await;
    assert!(!members.is_empty());
    assert!(members.iter().all(|m| m["groups"][0]["id"] == group));
    // A field Sage HR lacks filters out everything, unless ignored.
    assert!(all(&app, "/hris/employees?legal_entity_ids=x")
        .await
        .is_empty());
    assert_eq!(
        all(
            &app,
            "/hris/employees?legal_entity_ids=x&ignore_unsupported_filters=true"
        )
        .await
        .len(),
        employees.len()
    );
}

#[tokio::test]
async fn each_category_is_served_on_its_own_endpoints() {
    let app = hris_app(None).await;
    // An ATS integration on an HRIS route, and the reverse.
    let (status, body) = get(&app, INTEGRATION, "/hris/employees").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "PLATFORM.INPUT_INVALID");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is an ATS integration"),
        "{body}"
    );
    let (status, body) = get(&app, HRIS, "/ats/jobs").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("is an HRIS integration"));
    // Models and actions Sage HR lacks.
    let (status, body) = get(&app, HRIS, "/hris/locations").await;
    assert_eq!(
        body["error"]["code"], "INTEGRATION.MODEL_NOT_AVAILABLE",
        "{status} {body}"
    );
    let response = app
        .http
        .post(format!("{}/v1/hris/absences", app.base))
        .bearer_auth(&app.key)
        .header("X-Integration-Id", HRIS)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["code"], "INTEGRATION.ACTION_NOT_AVAILABLE",
        "{body}"
    );
    // The integration and the tools list report the HRIS coverage.
    let (_, body) = get(&app, HRIS, &format!("/integrations/{HRIS}")).await;
    assert_eq!(body["data"]["category"], "HRIS", "{body}");
    let models: Vec<&str> = body["data"]["read_models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(models.contains(&"hris_employees") && models.contains(&"hris_locations"));
    let (_, body) = get(&app, HRIS, "/tools/hris").await;
    assert_eq!(body["data"]["tools"][0]["id"], "sagehr", "{body}");
}

async fn create(app: &TestApp, integration: &str, body: Value) -> (u16, Value) {
    let response = app
        .http
        .post(format!("{}/v1/hris/employees", app.base))
        .bearer_auth(&app.key)
        .header("X-Integration-Id", integration)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_employee_is_created_read_back_and_stored() {
    let app = hris_app(None).await;
    let body = json!({
        "first_name": "Grace",
        "last_name": "Hopper",
        "work_email": "grace.hopper@acme.example",
        "gender": "FEMALE",
        "job_title": "Rear Admiral",
        "start_date": "2027-01-04",
        "home_address": {"street_1": "1 Navy Way", "city": "Arlington", "zip_code": "22202", "country": "US"},
        "legal_entity_id": "le-1",
    });
    let (status, created) = create(&app, HRIS, body.clone()).await;
    assert_eq!(status, 200, "{created}");
    let data = &created["data"];
    assert_eq!(data["first_name"], "Grace");
    assert_eq!(data["work_email"], "grace.hopper@acme.example");
    assert_eq!(
        data["employment_status"], "PENDING",
        "starts next year: {data}"
    );
    assert!(
        data.get("employments").is_none(),
        "the flat employee: {data}"
    );
    assert!(data.get("changed_at").is_some());
    let warnings = created["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w["message"].as_str().unwrap().contains("legal_entity_id")),
        "{created}"
    );
    // Stored at once: the list serves it without a sync, with its nested objects.
    let remote = data["remote_id"].as_str().unwrap();
    let (_, page) = get(&app, HRIS, &format!("/hris/employees?remote_ids={remote}")).await;
    let served = &page["data"]["results"][0];
    assert_eq!(served["id"], data["id"], "{page}");
    assert_eq!(served["employments"], json!([]));
    // The same email again is Sage HR's duplicate.
    let (status, again) = create(&app, HRIS, body).await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"]["code"], "HRIS.EMPLOYEE_ALREADY_EXISTS");
    // What Kombo requires, and what Sage HR requires beyond it, are named.
    let (status, bad) = create(&app, HRIS, json!({"last_name": "X"})).await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad["error"]["message"]
        .as_str()
        .unwrap()
        .contains("first_name"));
    let (status, bad) = create(&app, HRIS, json!({"first_name": "A", "last_name": "B"})).await;
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["error"]["code"], "PLATFORM.INPUT_INVALID");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("work_email"),
        "{bad}"
    );
    // Not on an ATS integration.
    let (status, bad) = create(
        &app,
        INTEGRATION,
        json!({"first_name": "A", "last_name": "B"}),
    )
    .await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad["error"]["message"]
        .as_str()
        .unwrap()
        .contains("ATS integration"));
}

/// A resync after changes upstream: a deleted leave request is marked deleted (asked about
/// first), a cancelled one is updated, nothing else is touched, and absences outside the
/// window the run read are never taken as deleted.
#[tokio::test]
async fn deletions_are_confirmed_and_limited_to_the_window_read() {
    for db in backends().await {
        HRIS_TODAY.lock().unwrap().remove(LATER);
        let app = hris_app_as(LATER, db.as_ref().map(|d| d.url.clone())).await;
        let absences = all_of(&app, LATER, "/hris/absences").await;
        let first = absences[0]["remote_id"].as_str().unwrap().to_owned();
        let second = absences[1]["remote_id"].as_str().unwrap().to_owned();
        app.sim
            .control(
                Method::DELETE,
                &format!("hris/leave-requests/{first}"),
                Value::Null,
            )
            .await;
        app.sim
            .control(
                Method::POST,
                &format!("hris/leave-requests/{second}/cancel"),
                Value::Null,
            )
            .await;
        let run = resync(&app, LATER).await;
        assert_eq!(
            run.counts.deleted,
            BTreeMap::from([("hris_absences".to_owned(), 1)]),
            "{run:?}"
        );
        let after = all_of(&app, LATER, "/hris/absences?include_deleted=true").await;
        let state = |remote: &str| {
            after
                .iter()
                .find(|a| a["remote_id"] == remote)
                .unwrap()
                .clone()
        };
        assert!(state(&first)["remote_deleted_at"].is_string());
        assert_eq!(state(&second)["status"], "CANCELLED");
        assert!(state(&second)["remote_deleted_at"].is_null());
        assert_eq!(
            all_of(&app, LATER, "/hris/absences").await.len(),
            absences.len() - 1
        );

        // Three years later every stored absence lies before the window a run reads: none
        // is asked about, and all stay as they were, even one deleted upstream meanwhile
        // (the run did not read its days, so it cannot say).
        let third = absences[2]["remote_id"].as_str().unwrap().to_owned();
        app.sim
            .control(
                Method::DELETE,
                &format!("hris/leave-requests/{third}"),
                Value::Null,
            )
            .await;
        let later = atsbridge_model::hris::PlainDate::parse("2030-06-01").unwrap();
        HRIS_TODAY.lock().unwrap().insert(LATER.to_owned(), later);
        let run = resync(&app, LATER).await;
        HRIS_TODAY.lock().unwrap().remove(LATER);
        assert!(
            !run.counts.deleted.contains_key("hris_absences"),
            "{:?}",
            run.counts
        );
        assert_eq!(
            all_of(&app, LATER, "/hris/absences").await.len(),
            absences.len() - 1
        );
    }
}

async fn resync(app: &TestApp, id: &str) -> atsbridge_store::RunRow {
    match app
        .engine
        .run_once(
            id,
            atsbridge_model::integration::SyncKind::Full,
            &CancellationToken::new(),
        )
        .await
        .unwrap()
    {
        Outcome::Ran(run) => *run,
        other => panic!("{other:?}"),
    }
}

/// What a resync writes for ordinary changes: nothing when nothing changed; a team move
/// changes the employee's groups (and, since Sage HR's own record names the team in
/// `remote_data`, its `changed_at` too); a termination makes it INACTIVE; a new leave request
/// appears; and the ATS-only setting is refused.
#[tokio::test]
async fn resyncs_follow_the_changes_upstream() {
    for db in backends().await {
        let app = hris_app(db.as_ref().map(|d| d.url.clone())).await;
        let run = resync(&app, HRIS).await;
        assert!(
            run.counts.inserted.is_empty()
                && run.counts.updated.is_empty()
                && run.counts.deleted.is_empty(),
            "an unchanged resync writes nothing: {:?}",
            run.counts
        );

        let raw = app.sim.control(Method::GET, "hris", Value::Null).await["data"].take();
        let active: Vec<&Value> = raw["employees"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["terminated"] == json!(false) && e["team_id"].is_u64())
            .collect();
        let mover = active[0]["id"].as_u64().unwrap();
        let leaver = active[1]["id"].as_u64().unwrap();
        let other_team = raw["teams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_u64().unwrap())
            .find(|t| Some(*t) != active[0]["team_id"].as_u64())
            .unwrap();
        let before = all(&app, &format!("/hris/employees?remote_ids={mover}")).await[0].clone();
        let since = before["changed_at"].as_str().unwrap().to_owned();
        app.sim
            .control(
                Method::PATCH,
                &format!("hris/employees/{mover}"),
                json!({"team_id": other_team}),
            )
            .await;
        app.sim
            .control(
                Method::POST,
                &format!("hris/employees/{leaver}/terminate"),
                json!({"date": "2026-01-05"}),
            )
            .await;
        let policy = raw["policies"][0]["id"].as_u64().unwrap();
        app.sim
            .control(
                Method::POST,
                "hris/leave-requests",
                json!({"employee_id": mover, "policy_id": policy, "start_date": "2026-12-14", "end_date": "2026-12-15", "status": "approved"}),
            )
            .await;
        resync(&app, HRIS).await;

        let moved = all(&app, &format!("/hris/employees?remote_ids={mover}")).await[0].clone();
        assert_eq!(moved["groups"][0]["remote_id"], other_team.to_string());
        let changed = all(&app, &format!("/hris/employees?updated_after={since}")).await;
        assert!(
            changed
                .iter()
                .any(|e| e["remote_id"].as_str() == Some(mover.to_string().as_str())),
            "a membership change counts for updated_after"
        );
        let left = all(&app, &format!("/hris/employees?remote_ids={leaver}")).await[0].clone();
        assert_eq!(left["employment_status"], "INACTIVE", "{left}");
        assert!(left["termination_date"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-05"));
        assert!(left["remote_deleted_at"].is_null());
        let id = moved["id"].as_str().unwrap();
        let december = all(
            &app,
            &format!("/hris/absences?employee_id={id}&date_from=2026-12-14&date_until=2026-12-14"),
        )
        .await;
        assert!(
            december
                .iter()
                .any(|a| a["start_date"] == "2026-12-14" && a["status"] == "APPROVED"),
            "{december:?}"
        );

        let response = app
            .http
            .put(format!("{}/v1/integrations/{HRIS}/settings", app.base))
            .bearer_auth(&app.key)
            .json(&json!({"sync_only_created_applications": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("applies to ATS integrations only"),
            "{body}"
        );
    }
}

/// `Idempotency-Key` on `POST /v1/hris/employees`: a retry replays the first answer instead
/// of meeting Sage HR's duplicate check, and the key cannot be reused for another body.
#[tokio::test]
async fn an_employee_create_is_idempotent_by_key() {
    let app = hris_app(None).await;
    let post = |body: Value| {
        app.http
            .post(format!("{}/v1/hris/employees", app.base))
            .bearer_auth(&app.key)
            .header("X-Integration-Id", HRIS)
            .header("Idempotency-Key", "hire-ada-1")
            .json(&body)
            .send()
    };
    let body =
        json!({"first_name": "Ada", "last_name": "Lovelace", "work_email": "ada@acme.example"});
    let first = post(body.clone()).await.unwrap();
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let again = post(body).await.unwrap();
    assert_eq!(again.status(), 200, "a retry is not Sage HR's duplicate");
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["data"]["id"], first["data"]["id"]);
    let other =
        post(json!({"first_name": "Other", "last_name": "Person", "work_email": "o@acme.example"}))
            .await
            .unwrap();
    assert_eq!(other.status(), 400);
    let other: Value = other.json().await.unwrap();
    assert!(
        other["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Idempotency-Key"),
        "{other}"
    );
}

/// The employees whose custom field `label` satisfies `test`, by remote id.
fn with_field(raw: &Value, label: &str, test: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    raw["employees"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["custom_fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["label"] == label && test(&f["value"]))
        })
        .map(|e| e["id"].to_string())
        .collect()
}

async fn filtered(app: &TestApp, pair: Value) -> BTreeSet<String> {
    let query: String = form_urlencoded::byte_serialize(pair.to_string().as_bytes()).collect();
    remote_ids(&all(app, &format!("/hris/employees?custom_fields={query}")).await)
}

/// Custom fields (Sage HR's per-employee H9) are served keyed by label, filtered with
/// Kombo's `custom_fields={"key":value}` (a tags field matches a tag it holds; JSON types
/// must agree), and a changed value is a changed employee.
#[tokio::test]
async fn custom_fields_are_served_and_filtered() {
    for db in backends().await {
        let app = hris_app(db.as_ref().map(|d| d.url.clone())).await;
        let raw = app.sim.control(Method::GET, "hris", Value::Null).await["data"].take();
        let employees = all(&app, "/hris/employees").await;
        for e in &employees {
            let sim = raw["employees"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| {
                    s["id"].as_u64().map(|n| n.to_string()).as_deref() == e["remote_id"].as_str()
                })
                .unwrap();
            let want: serde_json::Map<String, Value> = sim["custom_fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| (f["label"].as_str().unwrap().to_owned(), f["value"].clone()))
                .collect();
            assert_eq!(e["custom_fields"], Value::Object(want), "{e}");
        }

        let medium = with_field(&raw, "T-shirt size", |v| v == "M");
        assert!(!medium.is_empty() && medium.len() < employees.len());
        assert_eq!(filtered(&app, json!({"T-shirt size": "M"})).await, medium);
        let no_size = with_field(&raw, "T-shirt size", Value::is_null);
        assert!(!no_size.is_empty(), "the data has employees without a size");
        assert_eq!(filtered(&app, json!({"T-shirt size": null})).await, no_size);
        let tag = raw["employees"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["custom_fields"].as_array().unwrap())
            .find_map(|f| f["value"].as_array().and_then(|t| t.first()).cloned())
            .unwrap();
        let tagged = with_field(&raw, "Skills", |v| {
            v.as_array().is_some_and(|t| t.contains(&tag))
        });
        assert_eq!(filtered(&app, json!({ "Skills": tag })).await, tagged);
        // Another JSON type, an unknown key or a value nobody has match nothing.
        assert!(filtered(&app, json!({"T-shirt size": 1})).await.is_empty());
        assert!(filtered(&app, json!({"T-shirt size": true}))
            .await
            .is_empty());
        assert!(filtered(&app, json!({"Shoe size": "M"})).await.is_empty());
        assert!(filtered(&app, json!({"T-shirt size": "m"}))
            .await
            .is_empty());

        for bad in ["notjson", "%5B%5D", "%7B%22a%22%3A%5B%5D%7D"] {
            let (status, body) =
                get(&app, HRIS, &format!("/hris/employees?custom_fields={bad}")).await;
            assert_eq!(status, 400, "{body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("custom_fields:"),
                "{body}"
            );
        }

        // A value changed in Sage HR: the next sync moves the employee.
        let someone = employees
            .iter()
            .find(|e| !medium.contains(e["remote_id"].as_str().unwrap()))
            .unwrap();
        let remote = someone["remote_id"].as_str().unwrap();
        let field = raw["employees"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["custom_fields"].as_array().unwrap())
            .find(|f| f["label"] == "T-shirt size")
            .unwrap()["id"]
            .clone();
        let since = someone["changed_at"].as_str().unwrap().to_owned();
        app.sim
            .control(
                Method::PUT,
                &format!("hris/employees/{remote}/custom-fields/{field}"),
                json!({"value": "M"}),
            )
            .await;
        let run = resync(&app, HRIS).await;
        assert_eq!(
            run.counts.updated.get("hris_employees"),
            Some(&1),
            "{:?}",
            run.counts
        );
        let now = filtered(&app, json!({"T-shirt size": "M"})).await;
        assert!(now.contains(remote) && now.len() == medium.len() + 1);
        let changed = all(&app, &format!("/hris/employees?updated_after={since}")).await;
        assert!(changed.iter().any(|e| e["remote_id"] == remote));
    }
}
