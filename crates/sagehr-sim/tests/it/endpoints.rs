//! R1, R2, R3, R5 and R6: shapes, filters, pagination and errors.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn positions_list_defaults_to_30_a_page_with_will_paginate_meta() {
    let sim = start(40, 0).await;
    let (status, body) = sim.get("/recruitment/positions").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"].as_array().unwrap().len(), 30);
    assert_eq!(
        body["meta"],
        json!({"current_page": 1, "next_page": 2, "previous_page": null, "total_pages": 2, "per_page": 30, "total_entries": 40})
    );
    let (_, page2) = sim.get("/recruitment/positions?page=2").await;
    assert_eq!(page2["data"].as_array().unwrap().len(), 10);
    assert_eq!(page2["meta"]["next_page"], Value::Null);
    assert_eq!(page2["meta"]["previous_page"], 1);
}

#[tokio::test]
async fn pages_past_the_end_are_empty_and_per_page_is_clamped_to_100() {
    let sim = start(120, 0).await;
    let (status, past) = sim.get("/recruitment/positions?page=9").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(past["data"], json!([]));
    assert_eq!(past["meta"]["next_page"], Value::Null);
    assert_eq!(past["meta"]["current_page"], 9);
    let (_, big) = sim.get("/recruitment/positions?per_page=500").await;
    assert_eq!(big["data"].as_array().unwrap().len(), 100);
    assert_eq!(big["meta"]["per_page"], 100);
    assert_eq!(big["meta"]["total_pages"], 2);
    let (_, exact) = sim.get("/recruitment/positions?per_page=60&page=2").await;
    assert_eq!(exact["data"].as_array().unwrap().len(), 60);
    assert_eq!(exact["meta"]["next_page"], Value::Null);
}

#[tokio::test]
async fn bad_page_parameters_are_400() {
    let sim = start(3, 0).await;
    for q in ["page=0", "page=-1", "page=abc", "per_page=0", "per_page=x"] {
        let (status, body) = sim.get(&format!("/recruitment/positions?{q}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
        assert_eq!(body["error_code"], "bad_request");
        assert!(
            body["errors"][0]
                .as_str()
                .unwrap()
                .contains(q.split('=').next().unwrap()),
            "{body}"
        );
    }
    let (status, _) = sim.get("/recruitment/positions?page=").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an empty page parameter means the default"
    );
}

#[tokio::test]
async fn an_empty_tenant_lists_nothing_on_one_page() {
    let sim = start(0, 0).await;
    let (_, body) = sim.get("/recruitment/positions").await;
    assert_eq!(
        body,
        json!({"data": [], "meta": {"current_page": 1, "next_page": null, "previous_page": null, "total_pages": 0, "per_page": 30, "total_entries": 0}})
    );
}

#[tokio::test]
async fn positions_have_every_documented_key_with_dates_as_dates() {
    let sim = start(10, 2).await;
    let positions = sim.all_positions("").await;
    let keys = [
        "id",
        "title",
        "status",
        "visibility",
        "created_at",
        "internal_date",
        "completed_at",
        "link",
        "team",
        "applicants_required",
        "applicants_count",
        "employment_type",
        "location",
        "location_id",
        "group",
        "group_id",
        "priority",
        "description_blocks",
    ];
    for p in &positions {
        let object = p.as_object().unwrap();
        for key in keys {
            assert!(object.contains_key(key), "{key} missing in {p}");
        }
        assert_eq!(
            object.len(),
            keys.len(),
            "the list form has no applicants or hiring team: {p}"
        );
        assert!(
            is_date(&p["created_at"]) && is_date(&p["internal_date"]),
            "{p}"
        );
        assert!(
            p["completed_at"].is_null() || is_date(&p["completed_at"]),
            "{p}"
        );
        let status = p["status"].as_str().unwrap();
        let label = p["visibility"].as_str().unwrap();
        assert_eq!(label.to_lowercase(), status);
        assert_eq!(
            p["completed_at"].is_null(),
            !matches!(status, "completed" | "cancelled"),
            "{p}"
        );
        assert_eq!(p["applicants_count"], 2);
    }
    let priorities: Vec<u64> = positions
        .iter()
        .map(|p| p["priority"].as_u64().unwrap())
        .collect();
    assert!(
        priorities.windows(2).all(|w| w[0] <= w[1]),
        "ordered by priority: {priorities:?}"
    );
}

#[tokio::test]
async fn positions_filter_by_status_and_by_bracketed_ids() {
    let sim = start(60, 0).await;
    let all = sim.all_positions("").await;
    for status in ["draft", "published", "internal", "completed", "cancelled"] {
        let filtered = sim.all_positions(&format!("&status={status}")).await;
        let expected = all.iter().filter(|p| p["status"] == status).count();
        assert!(expected > 0, "the generator makes every status");
        assert_eq!(filtered.len(), expected, "{status}");
        assert!(filtered.iter().all(|p| p["status"] == status));
    }
    let open = sim.all_positions("&status=open").await;
    assert_eq!(
        open.len(),
        all.iter()
            .filter(|p| p["status"] == "published" || p["status"] == "internal")
            .count()
    );
    assert!(sim.all_positions("&status=archived").await.is_empty());

    let groups: Vec<u64> = all
        .iter()
        .map(|p| p["group_id"].as_u64().unwrap())
        .collect();
    let (g1, g2) = (
        groups[0],
        *groups.iter().find(|&&g| g != groups[0]).unwrap(),
    );
    let one = sim.all_positions(&format!("&group_ids[]={g1}")).await;
    assert_eq!(one.len(), groups.iter().filter(|&&g| g == g1).count());
    let either = sim
        .all_positions(&format!("&group_ids[]={g1}&group_ids[]={g2}"))
        .await;
    assert_eq!(
        either.len(),
        groups.iter().filter(|&&g| g == g1 || g == g2).count(),
        "OR within a filter"
    );

    let location = all.iter().find_map(|p| p["location_id"].as_u64()).unwrap();
    let both = sim
        .all_positions(&format!("&group_ids[]={g1}&location_ids[]={location}"))
        .await;
    let expected = all
        .iter()
        .filter(|p| p["group_id"] == g1 && p["location_id"] == location)
        .count();
    assert_eq!(both.len(), expected, "AND across filters");

    let (status, body) = sim.get("/recruitment/positions?group_ids[]=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn positions_filter_by_hiring_manager() {
    let sim = start(30, 0).await;
    let mut managed = std::collections::BTreeMap::<u64, usize>::new();
    for p in sim.all_positions("").await {
        let (_, detail) = sim
            .get(&format!("/recruitment/positions/{}", p["id"]))
            .await;
        for m in detail["data"]["hiring_team"].as_array().unwrap() {
            if m["role"] == "hiring_manager" {
                *managed.entry(m["id"].as_u64().unwrap()).or_default() += 1;
            }
        }
    }
    let (&manager, &count) = managed.iter().next().unwrap();
    let filtered = sim
        .all_positions(&format!("&hiring_manager_ids[]={manager}"))
        .await;
    assert_eq!(filtered.len(), count);
}

#[tokio::test]
async fn position_detail_adds_applicants_and_hiring_team() {
    let sim = start(3, 4).await;
    let id = sim.all_positions("").await[0]["id"].clone();
    let (status, body) = sim.get(&format!("/recruitment/positions/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("meta").is_none());
    let d = &body["data"];
    assert_eq!(d["id"], id);
    let applicants = d["applicants"].as_array().unwrap();
    assert_eq!(applicants.len(), 4);
    for a in applicants {
        assert_eq!(a.as_object().unwrap().len(), 3, "{a}");
        assert!(a["id"].is_u64() && a["full_name"].is_string() && a.get("email").is_some());
    }
    let team = d["hiring_team"].as_array().unwrap();
    assert!(team.iter().any(|m| m["role"] == "hiring_manager"));
    assert!(team
        .iter()
        .all(|m| m["full_name"].as_str().is_some_and(|n| !n.is_empty())));
}

#[tokio::test]
async fn unknown_ids_are_404_not_found_everywhere() {
    let sim = start(1, 1).await;
    for path in [
        "/recruitment/positions/999999",
        "/recruitment/positions/abc",
        "/recruitment/positions/999999/applicants",
        "/recruitment/applicants/999999",
        "/recruitment/applicants/999999/actions",
        "/recruitment/nothing-here",
        "/documents",
    ] {
        let (status, body) = sim.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            body,
            json!({"error_code": "not_found", "errors": []}),
            "{path}"
        );
    }
    let (status, body) = json(
        sim.api(Method::POST, "/recruitment/positions/999999/applicants")
            .json(&json!({"applicant": {"first_name": "A"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn applicants_list_has_every_key_and_filters_by_stage() {
    let sim = start(6, 40).await;
    let position = sim.all_positions("&status=published").await[0]["id"]
        .as_u64()
        .unwrap();
    let (_, first) = sim
        .get(&format!("/recruitment/positions/{position}/applicants"))
        .await;
    assert_eq!(first["data"].as_array().unwrap().len(), 30);
    assert_eq!(first["meta"]["total_entries"], 40);
    let (_, second) = sim
        .get(&format!(
            "/recruitment/positions/{position}/applicants?page=2"
        ))
        .await;
    let mut all: Vec<Value> = first["data"].as_array().unwrap().clone();
    all.extend(second["data"].as_array().unwrap().iter().cloned());
    assert_eq!(all.len(), 40);
    let ids: Vec<u64> = all.iter().map(|a| a["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "creation order");
    let keys = [
        "id",
        "full_name",
        "first_name",
        "last_name",
        "email",
        "phone_number",
        "address",
        "summary",
        "source",
        "created_at",
        "disqualified_date",
        "hired_date",
        "stage",
    ];
    for a in &all {
        assert_eq!(a.as_object().unwrap().len(), keys.len(), "{a}");
        for key in keys {
            assert!(a.get(key).is_some(), "{key} missing in {a}");
        }
        assert!(is_datetime(&a["created_at"]), "{a}");
        assert!(is_datetime(&a["stage"]["created_at"]), "{a}");
        assert!(a["hired_date"].is_null() || is_date(&a["hired_date"]));
        assert!(a["disqualified_date"].is_null() || is_date(&a["disqualified_date"]));
        assert!(!a["source"].as_str().unwrap().is_empty());
    }
    let stage = all[0]["stage"]["id"].as_u64().unwrap();
    let in_stage = all.iter().filter(|a| a["stage"]["id"] == stage).count();
    let (_, filtered) = sim
        .get(&format!(
            "/recruitment/positions/{position}/applicants?stage_id={stage}&per_page=100"
        ))
        .await;
    assert_eq!(filtered["data"].as_array().unwrap().len(), in_stage);
    assert_eq!(filtered["meta"]["total_entries"], in_stage);
    let (status, _) = sim
        .get(&format!(
            "/recruitment/positions/{position}/applicants?stage_id=x"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn applicant_detail_adds_position_added_by_and_referrer() {
    let sim = start(8, 10).await;
    let mut saw_referrer = false;
    for p in sim.all_positions("").await {
        let (_, list) = sim
            .get(&format!(
                "/recruitment/positions/{}/applicants?per_page=100",
                p["id"]
            ))
            .await;
        for a in list["data"].as_array().unwrap() {
            let (status, detail) = sim
                .get(&format!("/recruitment/applicants/{}", a["id"]))
                .await;
            assert_eq!(status, StatusCode::OK);
            let d = &detail["data"];
            assert_eq!(d["position_id"], p["id"]);
            for key in ["added_by", "referrer"] {
                assert!(d.get(key).is_some(), "{key} missing");
            }
            for (k, v) in a.as_object().unwrap() {
                assert_eq!(&d[k], v, "{k} differs between list and detail");
            }
            if a["source"] == "referral" {
                assert!(d["referrer"]["full_name"].is_string(), "{d}");
                saw_referrer = true;
            }
        }
    }
    assert!(saw_referrer, "the generator makes referrals");
}

#[tokio::test]
async fn actions_are_newest_first_and_paginated() {
    let sim = start(6, 30).await;
    let mut longest = (0, 0);
    for p in sim.all_positions("").await {
        let (_, list) = sim
            .get(&format!(
                "/recruitment/positions/{}/applicants?per_page=100",
                p["id"]
            ))
            .await;
        for a in list["data"].as_array().unwrap() {
            let (_, actions) = sim
                .get(&format!("/recruitment/applicants/{}/actions", a["id"]))
                .await;
            let n = actions["meta"]["total_entries"].as_u64().unwrap();
            if n > longest.1 {
                longest = (a["id"].as_u64().unwrap(), n);
            }
        }
    }
    let (id, n) = longest;
    assert!(n >= 3, "some applicant moved through stages");
    let (_, body) = sim
        .get(&format!(
            "/recruitment/applicants/{id}/actions?per_page=100"
        ))
        .await;
    let actions = body["data"].as_array().unwrap();
    assert_eq!(actions.len() as u64, n);
    let times: Vec<&str> = actions
        .iter()
        .map(|a| a["created_at"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    assert_eq!(actions.last().unwrap()["action"], "applicant_created");
    assert!(actions.iter().any(|a| a["action"] == "moved_between_stages"
        && a["message"]
            .as_str()
            .unwrap()
            .starts_with("Applicant moved from \"New\"")));
    let (_, page) = sim
        .get(&format!(
            "/recruitment/applicants/{id}/actions?per_page=1&page=2"
        ))
        .await;
    assert_eq!(page["data"][0], actions[1]);
}

#[tokio::test]
async fn a_missing_wrong_or_revoked_key_is_401() {
    let sim = start(1, 0).await;
    let url = format!("{}/recruitment/positions", sim.running.base_url("acme"));
    let (status, body) = json(sim.client.get(&url).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error_code"], "unauthorized");
    let (status, _) = json(
        sim.client
            .get(&url)
            .header("X-Auth-Token", "nope")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = json(
        sim.client
            .get(&url)
            .header("x-auth-token", KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "header names are case-insensitive");
    let (status, _) = json(
        sim.client
            .get(&url)
            .header("Authorization", format!("Bearer {KEY}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no other auth scheme");

    let (status, _) = json(
        sim.control(Method::DELETE, &format!("acme/keys/{KEY}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = sim.get("/recruitment/positions").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked key stops working"
    );
}

#[tokio::test]
async fn tenants_are_isolated_and_unknown_subdomains_are_404() {
    let sim = start(2, 1).await;
    let (status, _) = sim
        .control_json(Method::POST, "tenants", json!({"subdomain": "globex", "api_key": "globex-key", "seed": 7, "positions": 3, "applicants_per_position": 2}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let globex = format!("{}/recruitment/positions", sim.running.base_url("globex"));
    let (status, body) = json(
        sim.client
            .get(&globex)
            .header("X-Auth-Token", "globex-key")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["meta"]["total_entries"], 3);
    let (status, _) = json(
        sim.client
            .get(&globex)
            .header("X-Auth-Token", KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "acme's key does not open globex"
    );
    let (_, acme) = sim.get("/recruitment/positions").await;
    assert_eq!(acme["meta"]["total_entries"], 2);

    let nowhere = format!("{}/recruitment/positions", sim.running.base_url("nowhere"));
    let (status, body) = json(
        sim.client
            .get(&nowhere)
            .header("X-Auth-Token", KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error_code"], "not_found");
    let (status, _) = sim
        .control_json(
            Method::POST,
            "tenants",
            json!({"subdomain": "globex", "api_key": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = sim
        .control_json(
            Method::POST,
            "tenants",
            json!({"subdomain": "Bad Name", "api_key": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn other_methods_and_paths_under_api_are_sage_hr_404s() {
    let sim = start(1, 0).await;
    for (method, path) in [
        (Method::POST, "/recruitment/positions"),
        (Method::DELETE, "/recruitment/applicants/1"),
        (Method::GET, ""),
        (Method::GET, "/"),
    ] {
        let (status, body) = json(sim.api(method.clone(), path).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(
            body,
            json!({"error_code": "not_found", "errors": []}),
            "{method} {path}"
        );
    }
    let url = format!("{}/recruitment/positions", sim.running.base_url("acme"));
    let (status, _) = json(sim.client.post(&url).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the key is checked first");
}
