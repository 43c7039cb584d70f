//! Injected faults, each kind over real HTTP.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

async fn inject(sim: &TestSim, fault: serde_json::Value) {
    let (status, body) = sim.control_json(Method::POST, "acme/faults", fault).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_for_the_next_n_requests() {
    let sim = start(1, 0).await;
    inject(
        &sim,
        json!({"kind": "rate_limit", "count": 2, "retry_after": 7}),
    )
    .await;
    for _ in 0..2 {
        let r = sim
            .api(Method::GET, "/recruitment/positions")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["retry-after"], "7");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error_code"].is_string());
    }
    assert_eq!(sim.get("/recruitment/positions").await.0, StatusCode::OK);
}

#[tokio::test]
async fn ratio_faults_hit_a_share_of_requests() {
    let sim = start(1, 0).await;
    inject(&sim, json!({"kind": "server_error", "ratio": 0.5})).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(sim.get("/recruitment/positions").await.0.as_u16());
    }
    assert_eq!(statuses, [200, 500, 200, 500, 200, 500]);
    let (status, _) = json(
        sim.control(Method::DELETE, "acme/faults")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(sim.get("/recruitment/positions").await.0, StatusCode::OK);
}

#[tokio::test]
async fn latency_delays_and_then_serves() {
    let sim = start(1, 0).await;
    inject(
        &sim,
        json!({"kind": "latency", "latency_ms": 300, "count": 1}),
    )
    .await;
    let started = Instant::now();
    let (status, _) = sim.get("/recruitment/positions").await;
    assert_eq!(status, StatusCode::OK);
    // A lower bound only: the request cannot be faster than the injected delay.
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn dropped_connections_give_the_client_no_response() {
    let sim = start(1, 0).await;
    inject(&sim, json!({"kind": "drop", "count": 1})).await;
    let err = sim
        .api(Method::GET, "/recruitment/positions")
        .send()
        .await
        .expect_err("no response");
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert_eq!(
        sim.get("/recruitment/positions").await.0,
        StatusCode::OK,
        "the next request is served"
    );
}

#[tokio::test]
async fn malformed_bodies_are_not_json() {
    let sim = start(1, 0).await;
    inject(&sim, json!({"kind": "malformed", "count": 1})).await;
    let r = sim
        .api(Method::GET, "/recruitment/positions")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "{text}"
    );
}

#[tokio::test]
async fn faults_can_target_one_endpoint_and_are_counted() {
    let sim = start(2, 1).await;
    inject(
        &sim,
        json!({"kind": "server_error", "endpoint": "GET /recruitment/positions/{id}/applicants"}),
    )
    .await;
    let (status, body) = sim.get("/recruitment/positions").await;
    assert_eq!(status, StatusCode::OK);
    let id = &body["data"][0]["id"];
    assert_eq!(
        sim.get(&format!("/recruitment/positions/{id}/applicants"))
            .await
            .0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        sim.get(&format!("/recruitment/positions/{id}")).await.0,
        StatusCode::OK
    );
    let (_, stats) = json(sim.control(Method::GET, "acme/stats").send().await.unwrap()).await;
    assert_eq!(
        stats["data"]["by_endpoint"]["GET /recruitment/positions/{id}/applicants"],
        1
    );
}

#[tokio::test]
async fn faults_hit_before_authentication() {
    let sim = start(1, 0).await;
    inject(&sim, json!({"kind": "rate_limit", "count": 1})).await;
    let url = format!("{}/recruitment/positions", sim.running.base_url("acme"));
    assert_eq!(
        sim.client.get(&url).send().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn invalid_fault_specs_are_rejected() {
    let sim = start(1, 0).await;
    for bad in [
        json!({"kind": "meteor"}),
        json!({"kind": "drop", "count": 0}),
        json!({"kind": "drop", "ratio": 2.0}),
        json!({"kind": "drop", "count": 1, "ratio": 0.5}),
        json!({"kind": "latency"}),
        json!({"kind": "drop", "endpoint": "GET /documents"}),
    ] {
        let (status, body) = sim
            .control_json(Method::POST, "acme/faults", bad.clone())
            .await;
        assert!(status.is_client_error(), "{bad}: {status} {body}");
    }
    assert_eq!(
        sim.get("/recruitment/positions").await.0,
        StatusCode::OK,
        "no fault was added"
    );
}
