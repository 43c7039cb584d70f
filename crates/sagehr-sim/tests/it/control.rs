//! The control API: recruiter actions, positions, keys and stats.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

async fn first_applicant(sim: &TestSim, position: &Value) -> Value {
    let (_, list) = sim
        .get(&format!("/recruitment/positions/{position}/applicants"))
        .await;
    list["data"][0].clone()
}

async fn stage_ids(sim: &TestSim, position: &Value) -> Vec<(u64, String)> {
    let (_, list) = sim
        .get(&format!(
            "/recruitment/positions/{position}/applicants?per_page=100"
        ))
        .await;
    let mut stages: Vec<(u64, String)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["stage"]["id"].as_u64().unwrap(),
                a["stage"]["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    stages.sort();
    stages.dedup();
    stages
}

#[tokio::test]
async fn move_hire_and_disqualify_change_what_the_api_shows() {
    let sim = start(6, 40).await;
    let (open, _) = sim.open_and_closed().await;
    let stages = stage_ids(&sim, &open["id"]).await;
    let applicant = first_applicant(&sim, &open["id"]).await;
    let id = applicant["id"].as_u64().unwrap();
    let target = stages
        .iter()
        .find(|(s, _)| Some(*s) != applicant["stage"]["id"].as_u64())
        .unwrap();

    let (status, moved) = sim
        .control_json(
            Method::POST,
            &format!("acme/applicants/{id}/move"),
            json!({"stage_id": target.0}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let (_, d) = sim.get(&format!("/recruitment/applicants/{id}")).await;
    assert_eq!(d["data"]["stage"]["id"], target.0);
    let (_, actions) = sim
        .get(&format!("/recruitment/applicants/{id}/actions"))
        .await;
    assert_eq!(actions["data"][0]["action"], "moved_between_stages");
    assert_eq!(
        actions["data"][0]["message"],
        format!(
            "Applicant moved from \"{}\" to \"{}\"",
            applicant["stage"]["title"].as_str().unwrap(),
            target.1
        )
    );

    let (status, _) = sim
        .control_json(
            Method::POST,
            &format!("acme/applicants/{id}/move"),
            json!({"stage_id": 1}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "stage 1 is an employee, not a stage of this position"
    );

    let (status, _) = sim
        .control_json(
            Method::POST,
            &format!("acme/applicants/{id}/disqualify"),
            json!({"date": "2026-02-03"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, d) = sim.get(&format!("/recruitment/applicants/{id}")).await;
    assert_eq!(d["data"]["disqualified_date"], "2026-02-03");
    assert_eq!(
        d["data"]["stage"]["id"], target.0,
        "disqualifying keeps the stage"
    );

    let (status, _) = json(
        sim.control(Method::POST, &format!("acme/applicants/{id}/hire"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, d) = sim.get(&format!("/recruitment/applicants/{id}")).await;
    assert_eq!(d["data"]["stage"]["title"], "Hired");
    assert!(is_date(&d["data"]["hired_date"]));
    let (status, _) = sim
        .control_json(
            Method::POST,
            &format!("acme/applicants/{id}/hire"),
            json!({"date": "soon"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn deleting_an_applicant_removes_it_from_every_endpoint() {
    let sim = start(5, 5).await;
    let (open, _) = sim.open_and_closed().await;
    let id = first_applicant(&sim, &open["id"]).await["id"]
        .as_u64()
        .unwrap();
    let (status, _) = json(
        sim.control(Method::DELETE, &format!("acme/applicants/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        sim.get(&format!("/recruitment/applicants/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, p) = sim
        .get(&format!("/recruitment/positions/{}", open["id"]))
        .await;
    assert_eq!(p["data"]["applicants_count"], 4);
    assert!(p["data"]["applicants"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["id"] != id));
    let (status, _) = json(
        sim.control(Method::DELETE, &format!("acme/applicants/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn positions_can_be_created_changed_and_deleted() {
    let sim = start(0, 0).await;
    let (status, created) = sim
        .control_json(Method::POST, "acme/positions", json!({"title": "Chef", "employment_type": "Part time", "team": "Kitchen", "location": "Leeds", "description_blocks": [{"title": "Description", "content": "<p>Cook</p>"}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["data"]["id"].as_u64().unwrap();
    let (_, listed) = sim.get("/recruitment/positions").await;
    assert_eq!(listed["data"][0]["title"], "Chef");
    assert_eq!(listed["data"][0]["status"], "published");
    assert_eq!(listed["data"][0]["employment_type"], "Part time");
    assert!(listed["data"][0]["link"].is_string());

    let (status, new) = json(
        sim.api(
            Method::POST,
            &format!("/recruitment/positions/{id}/applicants"),
        )
        .json(&json!({"applicant": {"first_name": "Remy"}}))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, a) = sim
        .get(&format!("/recruitment/applicants/{}", new["data"]["id"]))
        .await;
    assert_eq!(a["data"]["stage"]["title"], "New");

    let (status, changed) = sim
        .control_json(
            Method::PATCH,
            &format!("acme/positions/{id}"),
            json!({"status": "completed", "employment_type": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert!(is_date(&changed["data"]["completed_at"]));
    assert_eq!(changed["data"]["employment_type"], Value::Null);
    assert_eq!(changed["data"]["team"], "Kitchen", "fields not sent stay");
    let (status, _) = json(
        sim.api(
            Method::POST,
            &format!("/recruitment/positions/{id}/applicants"),
        )
        .json(&json!({"applicant": {"first_name": "Late"}}))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    for bad in [
        json!({"status": "archived"}),
        json!({"title": " "}),
        json!({"colour": "red"}),
        json!({"hiring_manager_ids": [424242]}),
    ] {
        let (status, body) = sim
            .control_json(Method::PATCH, &format!("acme/positions/{id}"), bad.clone())
            .await;
        assert!(status.is_client_error(), "{bad} gave {status} {body}");
    }

    let (status, _) = json(
        sim.control(Method::DELETE, &format!("acme/positions/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        sim.get(&format!("/recruitment/positions/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sim.get(&format!("/recruitment/applicants/{}", new["data"]["id"]))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn keys_can_be_added_revoked_and_regenerated() {
    let sim = start(1, 0).await;
    let (status, _) = sim
        .control_json(Method::POST, "acme/keys", json!({"key": "second-key"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let url = format!("{}/recruitment/positions", sim.running.base_url("acme"));
    let with = |key: &str| {
        sim.client
            .get(&url)
            .header("X-Auth-Token", key.to_owned())
            .send()
    };
    assert_eq!(with("second-key").await.unwrap().status(), StatusCode::OK);

    let (status, regenerated) = json(
        sim.control(Method::POST, "acme/keys/regenerate")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        with(KEY).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "re-enabling API access replaces every key"
    );
    assert_eq!(
        with("second-key").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let new_key = regenerated["data"][0]["key"].as_str().unwrap();
    assert_eq!(with(new_key).await.unwrap().status(), StatusCode::OK);
    let (_, listed) = json(sim.control(Method::GET, "acme/keys").send().await.unwrap()).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let (status, _) = json(
        sim.control(Method::DELETE, "acme/keys/unknown")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn stats_count_requests_per_endpoint() {
    let sim = start(5, 2).await;
    let (open, _) = sim.open_and_closed().await; // one R1 page
    let id = &open["id"];
    sim.get(&format!("/recruitment/positions/{id}")).await;
    sim.get(&format!("/recruitment/positions/{id}/applicants"))
        .await;
    sim.get(&format!("/recruitment/positions/{id}/applicants"))
        .await;
    sim.get("/recruitment/bogus").await;
    let (status, stats) = json(sim.control(Method::GET, "acme/stats").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        stats["data"],
        json!({"total": 5, "by_endpoint": {
            "GET /recruitment/positions": 1,
            "GET /recruitment/positions/{id}": 1,
            "GET /recruitment/positions/{id}/applicants": 2,
            "other": 1,
        }, "max_in_flight": 1})
    );
    json(
        sim.control(Method::DELETE, "acme/stats")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let (_, stats) = json(sim.control(Method::GET, "acme/stats").send().await.unwrap()).await;
    assert_eq!(stats["data"]["total"], 0);
    let (status, _) = json(
        sim.control(Method::GET, "nowhere/stats")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_careers_link_follows_the_published_status() {
    let sim = start(0, 0).await;
    let (_, draft) = sim
        .control_json(
            Method::POST,
            "acme/positions",
            json!({"title": "Baker", "status": "draft"}),
        )
        .await;
    assert_eq!(draft["data"]["link"], Value::Null);
    let id = draft["data"]["id"].as_u64().unwrap();
    let (_, published) = sim
        .control_json(
            Method::PATCH,
            &format!("acme/positions/{id}"),
            json!({"status": "published"}),
        )
        .await;
    assert!(
        published["data"]["link"]
            .as_str()
            .unwrap()
            .ends_with(&format!("-{id}")),
        "{published}"
    );
    let (_, closed) = sim
        .control_json(
            Method::PATCH,
            &format!("acme/positions/{id}"),
            json!({"status": "completed"}),
        )
        .await;
    assert_eq!(closed["data"]["link"], Value::Null);
    let (_, own) = sim
        .control_json(
            Method::PATCH,
            &format!("acme/positions/{id}"),
            json!({"status": "published", "link": "https://jobs.example/baker"}),
        )
        .await;
    assert_eq!(own["data"]["link"], "https://jobs.example/baker");
}

#[tokio::test]
async fn a_rejected_position_create_uses_no_ids() {
    let sim = start(0, 0).await;
    let (_, first) = sim
        .control_json(Method::POST, "acme/positions", json!({"title": "One"}))
        .await;
    let (status, _) = sim
        .control_json(
            Method::POST,
            "acme/positions",
            json!({"title": "Two", "status": "bogus"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, third) = sim
        .control_json(Method::POST, "acme/positions", json!({"title": "Three"}))
        .await;
    // A position takes its own id and six for its stages.
    assert_eq!(
        third["data"]["id"].as_u64().unwrap(),
        first["data"]["id"].as_u64().unwrap() + 7
    );
}

#[tokio::test]
async fn hiring_twice_keeps_the_first_hire() {
    let sim = start(5, 3).await;
    let (open, _) = sim.open_and_closed().await;
    let id = first_applicant(&sim, &open["id"]).await["id"]
        .as_u64()
        .unwrap();
    sim.control_json(
        Method::POST,
        &format!("acme/applicants/{id}/hire"),
        json!({"date": "2026-03-01"}),
    )
    .await;
    sim.control_json(
        Method::POST,
        &format!("acme/applicants/{id}/hire"),
        json!({}),
    )
    .await;
    let (_, d) = sim.get(&format!("/recruitment/applicants/{id}")).await;
    assert_eq!(d["data"]["hired_date"], "2026-03-01");
    let (_, actions) = sim
        .get(&format!(
            "/recruitment/applicants/{id}/actions?per_page=100"
        ))
        .await;
    let hires = actions["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "applicant_hired")
        .count();
    assert_eq!(hires, 1);
}

#[tokio::test]
async fn deleted_applicants_and_positions_can_be_restored() {
    let sim = start(5, 3).await;
    let (open, _) = sim.open_and_closed().await;
    let id = first_applicant(&sim, &open["id"]).await["id"]
        .as_u64()
        .unwrap();
    let (_, before) = sim.get(&format!("/recruitment/applicants/{id}")).await;
    json(
        sim.control(Method::DELETE, &format!("acme/applicants/{id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let (status, _) = json(
        sim.control(Method::POST, &format!("acme/applicants/{id}/restore"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sim.get(&format!("/recruitment/applicants/{id}")).await.1,
        before
    );
    let (_, list) = sim
        .get(&format!("/recruitment/positions/{}/applicants", open["id"]))
        .await;
    assert_eq!(list["data"][0]["id"], id, "back in its place");

    json(
        sim.control(Method::DELETE, &format!("acme/positions/{}", open["id"]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        sim.get(&format!("/recruitment/applicants/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = json(
        sim.control(
            Method::POST,
            &format!("acme/positions/{}/restore", open["id"]),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sim.get(&format!("/recruitment/applicants/{id}")).await.1,
        before
    );
    let (status, _) = json(
        sim.control(Method::POST, "acme/applicants/424242/restore")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
