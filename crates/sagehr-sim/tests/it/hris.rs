//! The core-HR (HRIS) endpoints H1–H18: shapes, pagination, windows and generated data.

use reqwest::{Method, StatusCode};
use sagehr_sim::TenantConfig;
use serde_json::{json, Value};
use time::macros::date;

use crate::helpers::{is_date, start_with, TestSim, KEY};

/// The tenant's pinned "today" in these tests.
pub const TODAY: time::Date = date!(2026 - 06 - 15);

pub fn hris_config(employees: usize) -> TenantConfig {
    TenantConfig {
        positions: 2,
        applicants_per_position: 1,
        employees,
        today: Some(TODAY),
        ..TenantConfig::new("acme", KEY)
    }
}

pub async fn start_hris(employees: usize) -> TestSim {
    start_with(&hris_config(employees)).await
}

/// Every row of a fixed-50 list, checking each page's meta on the way.
pub async fn all_pages(sim: &TestSim, path: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let (status, body) = sim.get(&format!("{path}{sep}page={page}")).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["meta"]["per_page"], 50, "{path}");
        assert_eq!(body["meta"]["current_page"], page, "{path}");
        out.extend(body["data"].as_array().unwrap().iter().cloned());
        match body["meta"]["next_page"].as_u64() {
            Some(next) => page = next,
            None => return out,
        }
    }
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn employees_come_in_fixed_pages_of_50_with_six_key_meta() {
    let sim = start_hris(130).await;
    let (status, first) = sim.get("/employees?per_page=10").await;
    assert_eq!(status, StatusCode::OK);
    let meta = &first["meta"];
    assert_eq!(
        keys(meta),
        [
            "current_page",
            "next_page",
            "per_page",
            "previous_page",
            "total_entries",
            "total_pages"
        ]
    );
    assert_eq!(
        first["data"].as_array().unwrap().len(),
        50,
        "per_page is ignored"
    );
    let total = meta["total_entries"].as_u64().unwrap() as usize;
    assert!(
        total > 100 && total < 130,
        "some of the 130 are terminated: {total}"
    );
    assert_eq!(meta["total_pages"], total.div_ceil(50));
    assert_eq!(meta["next_page"], 2);
    assert_eq!(meta["previous_page"], Value::Null);

    let (_, last) = sim.get("/employees?page=3").await;
    assert_eq!(last["data"].as_array().unwrap().len(), total - 100);
    assert_eq!(last["meta"]["next_page"], Value::Null);
    assert_eq!(last["meta"]["previous_page"], 2);

    let (status, past) = sim.get("/employees?page=9").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(past["data"], json!([]));
    assert_eq!(past["meta"]["next_page"], Value::Null);
    assert_eq!(past["meta"]["current_page"], 9);

    // Lenient like Rails: a bad page is page 1.
    let (status, bad) = sim.get("/employees?page=abc").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bad["meta"]["current_page"], 1);

    let all = all_pages(&sim, "/employees").await;
    assert_eq!(all.len(), total);
    let mut ids: Vec<u64> = all.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), total, "no employee on two pages");
}

#[tokio::test]
async fn an_employee_has_every_key_and_history_only_when_asked() {
    let sim = start_hris(40).await;
    let (_, plain) = sim.get("/employees").await;
    let e = &plain["data"][0];
    for key in [
        "id",
        "email",
        "first_name",
        "last_name",
        "picture_url",
        "employment_start_date",
        "date_of_birth",
        "team",
        "team_id",
        "position",
        "position_id",
        "reports_to_employee_id",
        "work_phone",
        "home_phone",
        "mobile_phone",
        "gender",
        "street_first",
        "street_second",
        "city",
        "post_code",
        "country",
        "employee_number",
        "employment_status",
        "nationality",
        "marital_status",
        "personal_identification_number",
        "tax_number",
        "irregular_contract_worker",
    ] {
        assert!(e.get(key).is_some(), "missing {key}: {e}");
    }
    for row in plain["data"].as_array().unwrap() {
        assert!(row["post_code"].is_string() || row["post_code"].is_null());
        for history in [
            "team_history",
            "employment_status_history",
            "position_history",
        ] {
            assert!(row.get(history).is_none(), "{history} without its flag");
        }
    }
    assert_eq!(
        e["reports_to_employee_id"],
        Value::Null,
        "the admin is the root"
    );

    let (_, teams) = sim.get("/employees?team_history=true").await;
    let row = &teams["data"][3];
    assert!(row["team_history"].is_array());
    assert!(row.get("position_history").is_none());
    assert!(row.get("employment_status_history").is_none());
    let open = row["team_history"].as_array().unwrap().last().unwrap();
    assert_eq!(open["team_id"], row["team_id"]);
    assert_eq!(open["end_date"], Value::Null);

    let (_, all) = sim
        .get("/employees/2?employment_status_history=true&position_history=true")
        .await;
    let row = &all["data"];
    assert!(row.get("team_history").is_none());
    let status = &row["employment_status_history"][0];
    assert!(
        status.get("employment_statu_name").is_some(),
        "Sage HR's spelling: {status}"
    );
    assert!(status.get("employment_status_name").is_none());
    assert!(is_date(&status["start_date"]));
    let position = &row["position_history"][0];
    assert_eq!(
        keys(position),
        [
            "end_date",
            "position_code",
            "position_id",
            "position_name",
            "start_date"
        ]
    );
}

#[tokio::test]
async fn unknown_ids_are_sage_hrs_404() {
    let sim = start_hris(20).await;
    for path in [
        "/employees/999999",
        "/employees/abc",
        "/terminated-employees/1",
        "/employees/999999/compensations",
        "/employees/999999/custom-fields",
        "/employees/999999/leave-management/balances",
        "/leave-management/policies/999999",
    ] {
        let (status, body) = sim.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            body,
            json!({"error_code": "not_found", "errors": []}),
            "{path}"
        );
    }
    let response = sim
        .client
        .get(format!("{}/employees", sim.running.base_url("acme")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_forbidden_key_gets_403_until_allowed_again() {
    let sim = start_hris(20).await;
    let forbid = sim.control(Method::POST, &format!("acme/keys/{KEY}/forbid"));
    assert_eq!(
        forbid.send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let (status, body) = sim.get("/teams").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error_code"], "forbidden");
    assert_eq!(
        sim.get("/recruitment/positions").await.0,
        StatusCode::FORBIDDEN
    );
    let allow = sim.control(Method::DELETE, &format!("acme/keys/{KEY}/forbid"));
    assert_eq!(allow.send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(sim.get("/teams").await.0, StatusCode::OK);
}

#[tokio::test]
async fn teams_list_exactly_the_active_employees_of_their_team() {
    let sim = start_hris(700).await;
    let (_, first) = sim.get("/teams").await;
    assert_eq!(first["meta"]["per_page"], 50);
    assert_eq!(first["meta"]["total_entries"], 70);
    assert_eq!(first["meta"]["next_page"], 2);
    let teams = all_pages(&sim, "/teams").await;
    assert_eq!(teams.len(), 70);
    let employees = all_pages(&sim, "/employees").await;
    let ids: std::collections::BTreeSet<u64> = employees
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    for team in &teams {
        let mut expected: Vec<u64> = employees
            .iter()
            .filter(|e| e["team_id"] == team["id"])
            .map(|e| e["id"].as_u64().unwrap())
            .collect();
        expected.sort_unstable();
        let mut listed: Vec<u64> = team["employee_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        listed.sort_unstable();
        assert_eq!(listed, expected, "team {}", team["id"]);
        for manager in team["manager_ids"].as_array().unwrap() {
            assert!(manager.is_u64());
        }
        assert!(employees
            .iter()
            .any(|e| e["team"] == team["name"] && e["team_id"] == team["id"]));
    }
    // Every active employee's manager exists (a tree under the admin).
    for e in &employees {
        if let Some(m) = e["reports_to_employee_id"].as_u64() {
            assert!(m < e["id"].as_u64().unwrap() || ids.contains(&m));
        }
    }
}

#[tokio::test]
async fn catalogues_positions_reasons_and_policies() {
    let sim = start_hris(20).await;
    let (_, positions) = sim.get("/positions").await;
    assert!(positions["meta"].is_object());
    assert_eq!(
        keys(&positions["data"][0]),
        ["code", "description", "id", "title"]
    );
    let (_, reasons) = sim.get("/termination-reasons").await;
    assert!(reasons["meta"].is_object());
    for r in reasons["data"].as_array().unwrap() {
        assert!(["voluntary", "involuntary"].contains(&r["type"].as_str().unwrap()));
        assert!(r.get("code").is_some());
    }

    let (_, policies) = sim.get("/leave-management/policies").await;
    assert!(policies.get("meta").is_none(), "H15 has no meta");
    let policies = policies["data"].as_array().unwrap().clone();
    assert!((3..=4).contains(&policies.len()));
    for p in &policies {
        assert!(p["default_allowance"].is_string(), "{p}");
        assert!(p["max_carryover"].is_string(), "{p}");
        assert!(p["id"].is_u64());
    }
    assert!(policies.iter().any(|p| p["unit"] == "hours"));
    let sick = policies
        .iter()
        .find(|p| p["accrue_type"] == "no_tracking")
        .expect("a non-tracking policy");

    let id = policies[0]["id"].as_u64().unwrap();
    let (status, detail) = sim.get(&format!("/leave-management/policies/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail.get("meta").is_none());
    let array = detail["data"].as_array().expect("data is an array of one");
    assert_eq!(array.len(), 1);
    assert_eq!(array[0]["id"], id);
    assert!(array[0]["only_full_days"].is_boolean());
    assert!(array[0]["enable_scopped_replacement"].is_boolean());
    assert_eq!(
        array[0]["default_allowance"],
        policies[0]["default_allowance"]
    );
    assert!(policies
        .iter()
        .any(|p| p["unit"] == "days" && p["accrue_type"] != "no_tracking"));

    let (_, balances) = sim.get("/employees/2/leave-management/balances").await;
    assert!(balances.get("meta").is_none());
    let rows = balances["data"].as_array().unwrap();
    assert_eq!(rows.len(), policies.len());
    for row in rows {
        assert_eq!(keys(row), ["available", "policy_id", "used"]);
        assert!(row["used"].is_number());
        if row["policy_id"] == sick["id"] {
            assert_eq!(row["available"], Value::Null, "non-tracking: {row}");
        } else {
            assert!(row["available"].is_number(), "{row}");
        }
    }
}

#[tokio::test]
async fn custom_fields_and_compensations() {
    let sim = start_hris(20).await;
    let (_, fields) = sim.get("/employees/3/custom-fields").await;
    assert!(fields.get("meta").is_none(), "H9 has no meta");
    let fields = fields["data"].as_array().unwrap();
    let dropdown = fields
        .iter()
        .find(|f| f["type"] == "CustomDropdownField")
        .unwrap();
    assert!(dropdown["options"].is_array());
    assert!(dropdown["value"].is_string() || dropdown["value"].is_null());
    let tags = fields.iter().find(|f| f["type"] == "CustomTags").unwrap();
    assert!(tags["value"].is_array());
    assert_eq!(tags["options"], Value::Null);

    for id in 1..=13 {
        let (status, body) = sim.get(&format!("/employees/{id}/compensations")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["meta"]["per_page"], 50);
        let rows = body["data"].as_array().unwrap();
        assert!((1..=3).contains(&rows.len()), "{body}");
        for row in rows {
            assert!(row.get("id").is_none(), "compensation rows have no id");
            assert_eq!(
                keys(row),
                [
                    "amount",
                    "category",
                    "comment",
                    "currency",
                    "end_date",
                    "period",
                    "start_date"
                ]
            );
        }
        assert_eq!(rows.last().unwrap()["end_date"], Value::Null);
    }
}

#[tokio::test]
async fn leave_windows_default_to_the_month_and_must_be_shorter_than_65_days() {
    let sim = start_hris(40).await;
    let (status, june) = sim.get("/leave-management/requests").await;
    assert_eq!(status, StatusCode::OK, "{june}");
    assert!(june["meta"].is_object());
    for r in june["data"].as_array().unwrap() {
        let (s, e) = (
            r["start_date"].as_str().unwrap(),
            r["end_date"].as_str().unwrap(),
        );
        assert!(s <= "2026-06-30" && e >= "2026-06-01", "{r}");
    }
    // 64 days is fine, 65 is not.
    let (status, body) = sim
        .get("/leave-management/requests?from=2026-06-01&to=2026-08-04")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = sim
        .get("/leave-management/requests?from=2026-06-01&to=2026-08-05")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error_code"], "validation_failed");
    for bad in [
        "from=2026-13-01",
        "from=yesterday",
        "to=2026-06-31",
        "from=2026-06-10&to=2026-06-01",
    ] {
        let (status, body) = sim.get(&format!("/leave-management/requests?{bad}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(body["error_code"], "validation_failed", "{bad}");
    }
}

#[tokio::test]
async fn a_request_spanning_a_window_edge_is_in_both_windows() {
    let sim = start_hris(20).await;
    let (status, created) = sim
        .control_json(
            Method::POST,
            "acme/hris/leave-requests",
            json!({"employee_id": 2, "policy_id": first_policy(&sim).await,
                   "start_date": "2026-07-28", "end_date": "2026-08-03", "status": "approved"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["data"]["id"].clone();
    let a = all_pages(
        &sim,
        "/leave-management/requests?from=2026-06-01&to=2026-07-30",
    )
    .await;
    let b = all_pages(
        &sim,
        "/leave-management/requests?from=2026-07-31&to=2026-09-28",
    )
    .await;
    let c = all_pages(
        &sim,
        "/leave-management/requests?from=2026-08-04&to=2026-09-28",
    )
    .await;
    assert!(a.iter().any(|r| r["id"] == id), "overlaps the first window");
    assert!(
        b.iter().any(|r| r["id"] == id),
        "overlaps the second window"
    );
    assert!(!c.iter().any(|r| r["id"] == id), "ends before the third");

    // The generator's own edge-spanning request (around the end of June).
    let june = all_pages(
        &sim,
        "/leave-management/requests?from=2026-06-01&to=2026-06-30",
    )
    .await;
    let july = all_pages(
        &sim,
        "/leave-management/requests?from=2026-07-01&to=2026-07-31",
    )
    .await;
    assert!(june.iter().any(|r| july.iter().any(|s| s["id"] == r["id"])));
}

async fn first_policy(sim: &TestSim) -> u64 {
    let (_, policies) = sim.get("/leave-management/policies").await;
    policies["data"][0]["id"].as_u64().unwrap()
}

#[tokio::test]
async fn leave_requests_have_sage_hrs_fields_and_status_pairs() {
    let sim = start_hris(120).await;
    let mut all = Vec::new();
    for (from, to) in [
        ("2025-06-15", "2025-08-15"),
        ("2025-12-01", "2026-01-31"),
        ("2026-05-01", "2026-06-30"),
        ("2026-09-01", "2026-10-31"),
    ] {
        all.extend(
            all_pages(
                &sim,
                &format!("/leave-management/requests?from={from}&to={to}"),
            )
            .await,
        );
    }
    assert!(all.len() > 50, "{}", all.len());
    let pairs = [
        ("Approved", "approved"),
        ("Pending", "pending"),
        ("Declined", "declined"),
        ("Canceled", "canceled"),
    ];
    for (label, code) in pairs {
        assert!(
            all.iter()
                .any(|r| r["status"] == label && r["status_code"] == code),
            "no {label}"
        );
    }
    let (mut part, mut multi, mut specific) = (0, 0, 0);
    for r in &all {
        assert!(pairs
            .iter()
            .any(|(l, c)| r["status"] == *l && r["status_code"] == *c));
        for key in [
            "id",
            "status",
            "status_code",
            "policy_id",
            "employee_id",
            "replacement",
            "details",
            "is_multi_date",
            "is_single_day",
            "is_part_of_day",
            "first_part_of_day",
            "second_part_of_day",
            "specific_time",
            "start_date",
            "end_date",
            "request_date",
            "approval_date",
            "hours",
            "fields",
        ] {
            assert!(r.get(key).is_some(), "{key} missing: {r}");
        }
        assert_ne!(r["is_multi_date"], r["is_single_day"]);
        if r["is_part_of_day"] == true {
            part += 1;
            let first = r["first_part_of_day"] == true;
            let second = r["second_part_of_day"] == true;
            assert!(first ^ second, "exactly one half: {r}");
            assert!(r["hours"].as_f64().unwrap() > 0.0);
            assert_eq!(r["is_single_day"], true);
        } else {
            assert_eq!(r["first_part_of_day"], false);
            assert_eq!(r["second_part_of_day"], false);
        }
        if r["specific_time"] == true {
            specific += 1;
            assert!(r["time_from"].as_str().unwrap().len() == 5, "{r}");
            assert!(r["time_to"].is_string());
        } else {
            assert_eq!(r["time_from"], Value::Null);
        }
        if r["is_multi_date"] == true {
            multi += 1;
        }
    }
    assert!(
        part > 0 && multi > 0 && specific > 0,
        "{part} {multi} {specific}"
    );
}

#[tokio::test]
async fn requests_come_in_pages_of_50() {
    let sim = start_hris(400).await;
    let (_, first) = sim
        .get("/leave-management/requests?from=2026-06-01&to=2026-07-31")
        .await;
    let total = first["meta"]["total_entries"].as_u64().unwrap();
    assert!(total > 100, "{total}");
    assert_eq!(first["data"].as_array().unwrap().len(), 50);
    assert_eq!(first["meta"]["next_page"], 2);
    let all = all_pages(
        &sim,
        "/leave-management/requests?from=2026-06-01&to=2026-07-31",
    )
    .await;
    assert_eq!(all.len() as u64, total);
}

#[tokio::test]
async fn hris_endpoints_are_counted_and_faulted_like_recruitment() {
    let sim = start_hris(20).await;
    let (status, _) = sim
        .control_json(
            Method::POST,
            "acme/faults",
            json!({"kind": "rate_limit", "count": 1, "retry_after": 3, "endpoint": "GET /leave-management/requests"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let response = sim
        .api(Method::GET, "/leave-management/requests")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "3");
    assert_eq!(
        sim.get("/employees").await.0,
        StatusCode::OK,
        "another endpoint"
    );
    assert_eq!(
        sim.get("/leave-management/requests").await.0,
        StatusCode::OK
    );
    let (status, _) = sim
        .control_json(
            Method::POST,
            "acme/faults",
            json!({"kind": "server_error", "count": 1, "endpoint": "PUT /employees/{id}"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let put = sim
        .api(Method::PUT, "/employees/2")
        .json(&json!({"first_name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let (_, stats) = sim.control_json(Method::GET, "acme/stats", json!({})).await;
    let by = &stats["data"]["by_endpoint"];
    assert_eq!(by["GET /leave-management/requests"], 2);
    assert_eq!(by["GET /employees"], 1);
    assert_eq!(by["PUT /employees/{id}"], 1);
}
