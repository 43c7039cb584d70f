//! Hooks: control actions applied just before the nth request to an endpoint.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

fn ids(page: &Value) -> Vec<u64> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect()
}

async fn hooks(sim: &TestSim) -> Value {
    sim.control_json(Method::GET, "acme/hooks", json!(null))
        .await
        .1["data"]
        .clone()
}

#[tokio::test]
async fn a_delete_and_a_create_between_two_pages_shift_a_position_past_the_boundary() {
    let sim = start(12, 1).await;
    let before: Vec<u64> = sim
        .all_positions("")
        .await
        .iter()
        .map(|p| p["id"].as_u64().unwrap())
        .collect();
    let victim = before[1];
    let (status, body) = sim
        .control_json(
            Method::POST,
            "acme/hooks",
            json!({"endpoint": "GET /recruitment/positions", "nth": 2, "actions": [
                {"op": "delete_position", "id": victim},
                {"op": "create_position", "fields": {"title": "Night Porter"}},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["pending"], 1);

    let (_, page1) = sim.get("/recruitment/positions?per_page=5&page=1").await;
    assert_eq!(
        ids(&page1),
        before[..5],
        "the first request is served as it was"
    );
    let pending = hooks(&sim).await;
    assert_eq!(pending["pending"][0]["seen"], 1, "{pending}");
    assert_eq!(pending["fired"], 0);

    let (_, page2) = sim.get("/recruitment/positions?per_page=5&page=2").await;
    // The delete on page 1 pulled page 2's first position onto page 1, already read; the
    // create went to the end, so the total held still and nothing tells the reader.
    assert_eq!(ids(&page2), before[6..11]);
    assert_eq!(
        page2["meta"]["total_entries"],
        page1["meta"]["total_entries"]
    );
    let (_, page3) = sim.get("/recruitment/positions?per_page=5&page=3").await;
    let last = ids(&page3);
    assert_eq!(last[0], before[11]);
    assert_eq!(
        page3["data"][1]["title"], "Night Porter",
        "a new position lists last"
    );

    let fired = hooks(&sim).await;
    assert_eq!(fired["pending"], json!([]));
    assert_eq!(fired["fired"], 1);
    assert_eq!(
        fired["log"][0]["results"],
        json!([{"op": "delete_position", "id": victim}, {"op": "create_position", "id": last[1]}])
    );
    assert_eq!(
        sim.get(&format!("/recruitment/positions/{victim}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn applicant_hooks_count_their_endpoint_from_when_they_were_added() {
    let sim = start(5, 6).await;
    let (open, _) = sim.open_and_closed().await;
    let position = open["id"].as_u64().unwrap();
    let path = format!("/recruitment/positions/{position}/applicants?per_page=3");
    let (_, page1) = sim.get(&path).await;
    let (_, page2) = sim.get(&format!("{path}&page=2")).await;
    let before: Vec<u64> = ids(&page1).into_iter().chain(ids(&page2)).collect();
    assert_eq!(before.len(), 6);
    let victim = before[0];
    sim.control_json(
        Method::POST,
        "acme/hooks",
        json!({"endpoint": "GET /recruitment/positions/{id}/applicants", "nth": 2, "actions": [
            {"op": "delete_applicant", "id": victim},
            {"op": "create_applicant", "position_id": position,
             "fields": {"first_name": "Nia", "last_name": "Hook", "email": "nia@example.com"}},
        ]}),
    )
    .await;
    // Other endpoints do not count, and neither do requests made before the hook.
    sim.get("/recruitment/positions").await;
    sim.get(&format!("/recruitment/applicants/{victim}")).await;
    let (_, first) = sim.get(&path).await;
    assert_eq!(ids(&first), before[..3], "not yet");
    let (_, second) = sim.get(&format!("{path}&page=2")).await;
    assert_eq!(second["meta"]["total_entries"], 6);
    // before[3] moved onto page 1, already read.
    assert_eq!(ids(&second)[..2], before[4..]);

    let log = hooks(&sim).await["log"].clone();
    let created = log[0]["results"][1]["id"].as_u64().unwrap();
    assert_eq!(log[0]["results"][1]["position_id"], position);
    assert_eq!(ids(&second)[2], created);
    // Created as R4 creates: in the first stage, source `api`, added by the admin.
    let (status, detail) = sim.get(&format!("/recruitment/applicants/{created}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["data"]["full_name"], "Nia Hook");
    assert_eq!(detail["data"]["source"], "api");
    assert_eq!(detail["data"]["stage"]["title"], "New");
    assert_eq!(detail["data"]["added_by"]["id"], 1);
    assert_eq!(
        sim.get(&format!("/recruitment/applicants/{victim}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_failing_action_is_logged_and_the_request_still_served() {
    let sim = start(2, 1).await;
    sim.control_json(
        Method::POST,
        "acme/hooks",
        json!({"endpoint": "GET /recruitment/positions/{id}", "nth": 1, "actions": [
            {"op": "delete_position", "id": 424242},
            {"op": "update_position", "id": 424243, "fields": {"title": "X"}},
            {"op": "create_applicant", "position_id": 424244, "fields": {"first_name": "Y"}},
            {"op": "create_position", "fields": {"title": "Still made", "status": "draft"}},
        ]}),
    )
    .await;
    let first = sim.all_positions("").await[0]["id"].clone();
    let (status, _) = sim.get(&format!("/recruitment/positions/{first}")).await;
    assert_eq!(status, StatusCode::OK);
    let results = hooks(&sim).await["log"][0]["results"].clone();
    assert_eq!(results[0]["error"], "position not found", "{results}");
    assert_eq!(results[1]["error"], "position not found", "{results}");
    assert_eq!(results[2]["error"], "404 not_found", "{results}");
    assert!(results[3]["id"].is_u64(), "{results}");
}

#[tokio::test]
async fn an_update_hook_changes_what_the_request_returns() {
    let sim = start(2, 0).await;
    let id = sim.all_positions("").await[0]["id"].as_u64().unwrap();
    sim.control_json(
        Method::POST,
        "acme/hooks",
        json!({"endpoint": "GET /recruitment/positions/{id}", "nth": 1, "actions": [
            {"op": "update_position", "id": id, "fields": {"title": "Renamed", "status": "completed"}},
        ]}),
    )
    .await;
    let (_, detail) = sim.get(&format!("/recruitment/positions/{id}")).await;
    assert_eq!(detail["data"]["title"], "Renamed");
    assert_eq!(detail["data"]["status"], "completed");
}

#[tokio::test]
async fn hooks_are_listed_until_they_fire_and_cleared_on_delete() {
    let sim = start(1, 0).await;
    for nth in [2, 5] {
        sim.control_json(
            Method::POST,
            "acme/hooks",
            json!({"endpoint": "GET /recruitment/positions", "nth": nth, "actions": [
                {"op": "create_position", "fields": {"title": format!("Made at {nth}")}}
            ]}),
        )
        .await;
    }
    sim.get("/recruitment/positions").await;
    sim.get("/recruitment/positions").await;
    let state = hooks(&sim).await;
    assert_eq!(state["fired"], 1);
    assert_eq!(
        state["pending"],
        json!([{"endpoint": "GET /recruitment/positions", "nth": 5, "seen": 2,
                "actions": [{"op": "create_position", "fields": {"title": "Made at 5"}}]}])
    );
    let response = sim
        .control(Method::DELETE, "acme/hooks")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        hooks(&sim).await,
        json!({"pending": [], "fired": 0, "log": []})
    );
    for _ in 0..4 {
        sim.get("/recruitment/positions").await;
    }
    assert_eq!(
        sim.all_positions("").await.len(),
        2,
        "the cleared hook never fired"
    );
}

#[tokio::test]
async fn bad_hooks_are_rejected_with_a_clear_message() {
    let sim = start(1, 0).await;
    let cases = [
        (
            json!({"endpoint": "GET /recruitment/stages", "nth": 1, "actions": [{"op": "delete_position", "id": 1}]}),
            StatusCode::BAD_REQUEST,
            "unknown endpoint `GET /recruitment/stages`; one of: GET /recruitment/positions",
        ),
        (
            json!({"endpoint": "GET /recruitment/positions", "nth": 1, "actions": [{"op": "explode"}]}),
            StatusCode::BAD_REQUEST,
            "action 0: unknown variant `explode`",
        ),
        (
            json!({"endpoint": "GET /recruitment/positions", "nth": 1, "actions": [{"id": 3}]}),
            StatusCode::BAD_REQUEST,
            "action 0: missing field `op`",
        ),
        (
            json!({"endpoint": "GET /recruitment/positions", "nth": 1, "actions": [
                {"op": "delete_position", "id": 1}, {"op": "create_position", "fields": {"colour": "red"}}]}),
            StatusCode::BAD_REQUEST,
            "action 1: unknown field `colour`",
        ),
        (
            json!({"endpoint": "GET /recruitment/positions", "nth": 1, "actions": [{"op": "delete_position", "id": 1, "extra": true}]}),
            StatusCode::BAD_REQUEST,
            "action 0: unknown field `extra`",
        ),
        (
            json!({"endpoint": "GET /recruitment/positions", "nth": 1, "actions": [{"op": "create_position", "fields": {}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "action 0: title is required",
        ),
        (
            json!({"endpoint": "GET /recruitment/positions", "nth": 0, "actions": [{"op": "delete_position", "id": 1}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "`nth` counts from 1",
        ),
        (
            json!({"endpoint": "GET /recruitment/positions", "nth": 1, "actions": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "`actions` must not be empty",
        ),
        (
            json!({"endpoint": "GET /recruitment/positions", "actions": []}),
            StatusCode::BAD_REQUEST,
            "missing field `nth`",
        ),
    ];
    for (body, status, message) in cases {
        let (got, answer) = sim
            .control_json(Method::POST, "acme/hooks", body.clone())
            .await;
        assert_eq!(got, status, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(
            error.contains(message),
            "{body}: `{error}` lacks `{message}`"
        );
    }
    assert_eq!(hooks(&sim).await["pending"], json!([]));
    let (status, _) = sim
        .control_json(Method::GET, "nowhere/hooks", json!(null))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
