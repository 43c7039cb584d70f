//! Core-HR writes (H5–H8) and the control API's core-HR routes: writes show up in reads at
//! once, terminations follow the tenant's "today".

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{json, TestSim};
use crate::hris::{all_pages, start_hris};

async fn post_json(sim: &TestSim, path: &str, body: Value) -> (StatusCode, Value) {
    json(
        sim.api(Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn post_form(sim: &TestSim, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    json(sim.api(Method::POST, path).form(form).send().await.unwrap()).await
}

async fn reason(sim: &TestSim) -> u64 {
    let (_, reasons) = sim.get("/termination-reasons").await;
    reasons["data"][0]["id"].as_u64().unwrap()
}

async fn set_today(sim: &TestSim, date: &str) {
    let (status, body) = sim
        .control_json(Method::POST, "acme/hris/today", json!({"date": date}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["today"], date);
}

#[tokio::test]
async fn create_employee_validates_like_rails() {
    let sim = start_hris(20).await;
    let (status, body) = post_json(
        &sim,
        "/employees",
        json!({"first_name": "Ann", "last_name": "Lee"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({"error_code": "validation_failed", "errors": ["Email can't be blank"]})
    );
    let (status, body) = post_json(&sim, "/employees", json!({"email": "ann@example.com"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["errors"],
        json!(["First name can't be blank", "Last name can't be blank"])
    );
    let (_, two) = sim.get("/employees/2").await;
    let taken = two["data"]["email"].as_str().unwrap().to_uppercase();
    let (status, body) = post_json(
        &sim,
        "/employees",
        json!({"email": taken, "first_name": "Ann", "last_name": "Lee"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"], json!(["Email has already been taken"]));
    let (status, body) = post_json(
        &sim,
        "/employees",
        json!({"email": "x@example.com", "first_name": "Ann", "last_name": "Lee", "gender": "Robot"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["errors"],
        json!(["Gender is not included in the list"])
    );
}

#[tokio::test]
async fn create_employee_from_json_and_from_a_form() {
    let sim = start_hris(20).await;
    let (_, before) = sim.get("/employees").await;
    let (status, body) = post_json(
        &sim,
        "/employees",
        json!({"email": "ann.lee@example.com", "first_name": "Ann", "last_name": "Lee",
               "work_start_date": "2026-07-01", "position_title": "Night Porter",
               "post_code": 12345, "gender": "Female", "date_of_birth": "1990-02-03"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["data"]["id"].as_u64().expect("{\"data\":{\"id\":N}}");
    assert_eq!(body, json!({"data": {"id": id}}));
    let (status, read) = sim.get(&format!("/employees/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let e = &read["data"];
    assert_eq!(e["email"], "ann.lee@example.com");
    assert_eq!(e["employment_start_date"], "2026-07-01");
    assert_eq!(e["position"], "Night Porter");
    assert_eq!(e["post_code"], "12345", "post_code is a string");
    assert_eq!(e["date_of_birth"], "1990-02-03");
    assert_eq!(e["team_id"], Value::Null);
    let (_, positions) = sim.get("/positions").await;
    assert!(positions["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["title"] == "Night Porter" && p["id"] == e["position_id"]));

    let (status, body) = post_form(
        &sim,
        "/employees",
        &[
            ("email", "bo@example.com"),
            ("first_name", "Bo"),
            ("last_name", "Ek"),
            ("send_email", "true"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let bo = body["data"]["id"].as_u64().unwrap();
    let (_, read) = sim.get(&format!("/employees/{bo}")).await;
    assert_eq!(read["data"]["first_name"], "Bo");
    assert_eq!(
        read["data"]["employment_start_date"], "2026-06-15",
        "blank start is today"
    );
    let (_, after) = sim.get("/employees").await;
    assert_eq!(
        after["meta"]["total_entries"].as_u64().unwrap(),
        before["meta"]["total_entries"].as_u64().unwrap() + 2
    );
    // Rails' wrapped names work as well.
    let (status, body) = post_form(
        &sim,
        "/employees",
        &[
            ("employee[email]", "di@example.com"),
            ("employee[first_name]", "Di"),
            ("employee[last_name]", "Fo"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = post_form(&sim, "/employees", &[("first_name", "Cy")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["errors"],
        json!(["Email can't be blank", "Last name can't be blank"])
    );
}

#[tokio::test]
async fn update_is_partial_and_answers_202() {
    let sim = start_hris(30).await;
    let (_, before) = sim.get("/employees/5?team_history=true").await;
    let before = before["data"].clone();
    let response = sim
        .api(Method::PUT, "/employees/5")
        .json(&json!({"first_name": "Renamed"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body, json!({"data": {"id": 5}}));
    let (_, after) = sim.get("/employees/5?team_history=true").await;
    let mut expected = before.clone();
    expected["first_name"] = json!("Renamed");
    assert_eq!(after["data"], expected, "only first_name changed");

    // A team change, as a form: the team lists follow at once.
    let (_, teams) = sim.get("/teams").await;
    let other = teams["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] != before["team_id"])
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let response = sim
        .api(Method::PUT, "/employees/5")
        .form(&[("team_id", other.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let (_, after) = sim.get("/employees/5?team_history=true").await;
    assert_eq!(after["data"]["team_id"], other);
    assert_eq!(after["data"]["first_name"], "Renamed");
    let history = after["data"]["team_history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["team_id"], other);
    assert_eq!(history.last().unwrap()["start_date"], "2026-06-15");
    let (_, teams) = sim.get("/teams").await;
    for t in teams["data"].as_array().unwrap() {
        let has = t["employee_ids"].as_array().unwrap().contains(&json!(5));
        assert_eq!(has, t["id"] == other, "team {}", t["id"]);
    }

    let (status, body) = json(
        sim.api(Method::PUT, "/employees/999999")
            .json(&json!({"first_name": "X"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error_code": "not_found", "errors": []}));
    let (status, body) = json(
        sim.api(Method::PUT, "/employees/5")
            .json(&json!({"team_id": 999999, "last_name": ""}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["errors"],
        json!(["Last name can't be blank", "Team must exist"])
    );
}

#[tokio::test]
async fn a_past_termination_moves_the_employee_and_rehire_brings_them_back() {
    let sim = start_hris(20).await;
    let reason_id = reason(&sim).await;
    let (status, body) = post_json(
        &sim,
        "/employees/7/terminations",
        json!({"date": "2026-06-10"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"], json!(["Termination reason can't be blank"]));

    let (status, body) = post_form(
        &sim,
        "/employees/7/terminations",
        &[
            ("date", "2026-06-10"),
            ("termination_reason_id", &reason_id.to_string()),
            ("comments", "Moved abroad"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body, json!({"data": {}}));

    let (status, body) = sim.get("/employees/7").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"error_code": "not_found", "errors": []}));
    let active = all_pages(&sim, "/employees").await;
    assert!(!active.iter().any(|e| e["id"] == 7));
    let gone = all_pages(&sim, "/terminated-employees").await;
    let row = gone.iter().find(|e| e["id"] == 7).expect("in H3");
    assert_eq!(row["termination_date"], "2026-06-10");
    let (status, detail) = sim.get("/terminated-employees/7").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["data"]["termination"]["comments"], "Moved abroad");
    assert!(detail["data"]["termination"]["reason"].is_string());
    // Terminated people are not team members any more.
    let (_, teams) = sim.get("/teams").await;
    assert!(teams["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| !t["employee_ids"].as_array().unwrap().contains(&json!(7))));

    let (status, body) =
        post_json(&sim, "/employees/7/rehire", json!({"date": "2026-07-01"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, back) = sim.get("/employees/7").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(back["data"]["employment_start_date"], "2026-07-01");
    assert_eq!(
        sim.get("/terminated-employees/7").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, body) =
        post_json(&sim, "/employees/7/rehire", json!({"date": "2026-07-01"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn a_future_termination_keeps_the_employee_until_the_day_has_passed() {
    let sim = start_hris(20).await;
    let reason_id = reason(&sim).await;
    let (status, _) = post_json(
        &sim,
        "/employees/8/terminations",
        json!({"date": "2026-06-20", "termination_reason_id": reason_id}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        sim.get("/employees/8").await.0,
        StatusCode::OK,
        "still active"
    );
    assert_eq!(
        sim.get("/terminated-employees/8").await.0,
        StatusCode::NOT_FOUND
    );
    set_today(&sim, "2026-06-20").await;
    assert_eq!(
        sim.get("/employees/8").await.0,
        StatusCode::OK,
        "its last working day"
    );
    set_today(&sim, "2026-06-21").await;
    assert_eq!(sim.get("/employees/8").await.0, StatusCode::NOT_FOUND);
    let (status, detail) = sim.get("/terminated-employees/8").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["data"]["termination_date"], "2026-06-20");
}

#[tokio::test]
async fn control_routes_change_hris_data_and_the_raw_read_shows_everything() {
    let sim = start_hris(20).await;
    let (status, body) = sim
        .control_json(
            Method::POST,
            "acme/hris/employees/9/terminate",
            json!({"date": "2026-01-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["terminated"], true);
    assert_eq!(sim.get("/employees/9").await.0, StatusCode::NOT_FOUND);
    let (status, _) = sim
        .control_json(Method::POST, "acme/hris/employees/9/rehire", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sim.get("/employees/9").await.0, StatusCode::OK);

    let (status, body) = sim
        .control_json(
            Method::PATCH,
            "acme/hris/employees/9",
            json!({"first_name": "Zed", "email": "zed@example.com", "reports_to_employee_id": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, e) = sim.get("/employees/9").await;
    assert_eq!(e["data"]["first_name"], "Zed");
    assert_eq!(e["data"]["email"], "zed@example.com");
    assert_eq!(e["data"]["reports_to_employee_id"], 2);

    let (status, body) = sim
        .control_json(
            Method::POST,
            "acme/hris/employees/9/compensations",
            json!({"start_date": "2026-06-01", "amount": 5000.5, "currency": "EUR"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, comp) = sim.get("/employees/9/compensations").await;
    let rows = comp["data"].as_array().unwrap();
    assert_eq!(rows.last().unwrap()["amount"], 5000.5);
    assert_eq!(rows.last().unwrap()["end_date"], Value::Null);
    assert_eq!(rows[rows.len() - 2]["end_date"], "2026-05-31");

    let (_, fields) = sim.get("/employees/9/custom-fields").await;
    let tags = fields["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["type"] == "CustomTags")
        .unwrap()["id"]
        .clone();
    let (status, body) = sim
        .control_json(
            Method::PUT,
            &format!("acme/hris/employees/9/custom-fields/{tags}"),
            json!({"value": ["Rust", "Go"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, fields) = sim.get("/employees/9/custom-fields").await;
    assert!(fields["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["id"] == tags && f["value"] == json!(["Rust", "Go"])));

    // A pending request, then approved: H18 and H17 follow.
    let (_, policies) = sim.get("/leave-management/policies").await;
    let annual = policies["data"][0]["id"].as_u64().unwrap();
    let (_, balances) = sim.get("/employees/9/leave-management/balances").await;
    let used_before = balances["data"][0]["used"].as_f64().unwrap();
    let (status, body) = sim
        .control_json(
            Method::POST,
            "acme/hris/leave-requests",
            json!({"employee_id": 9, "policy_id": annual, "start_date": "2026-06-16",
                   "part_of_day": "specific_timespan", "time_from": "13:00", "time_to": "16:30"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let r = &body["data"];
    assert_eq!(r["status_code"], "pending");
    assert_eq!(r["specific_time"], true);
    assert_eq!(r["second_part_of_day"], true);
    assert_eq!(r["time_from"], "13:00");
    assert_eq!(r["hours"], 3.5);
    let id = r["id"].as_u64().unwrap();
    let (status, body) = sim
        .control_json(
            Method::POST,
            &format!("acme/hris/leave-requests/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let june = all_pages(&sim, "/leave-management/requests").await;
    let seen = june
        .iter()
        .find(|r| r["id"] == id)
        .expect("in June's window");
    assert_eq!(seen["status"], "Approved");
    assert_eq!(seen["approval_date"], "2026-06-15");
    let (_, balances) = sim.get("/employees/9/leave-management/balances").await;
    assert_eq!(
        balances["data"][0]["used"].as_f64().unwrap(),
        used_before + 0.5
    );
    let (status, _) = sim
        .control_json(
            Method::POST,
            &format!("acme/hris/leave-requests/{id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let june = all_pages(&sim, "/leave-management/requests").await;
    assert_eq!(
        june.iter().find(|r| r["id"] == id).unwrap()["status_code"],
        "canceled"
    );

    let (status, raw) = sim.control_json(Method::GET, "acme/hris", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let raw = &raw["data"];
    assert_eq!(raw["today"], "2026-06-15");
    let employees = raw["employees"].as_array().unwrap();
    assert_eq!(employees.len(), 20, "terminated ones included");
    assert!(employees.iter().any(|e| e["terminated"] == true));
    assert!(raw["leave_requests"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == id));
    for key in [
        "teams",
        "positions",
        "termination_reasons",
        "custom_fields",
        "policies",
        "employment_statuses",
    ] {
        assert!(raw[key].is_array(), "{key}");
    }
}
