//! R4: creating applicants in every body form, with Sage HR's rules.

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn create_json(sim: &TestSim, position: &Value, body: Value) -> (StatusCode, Value) {
    json(
        sim.api(
            Method::POST,
            &format!("/recruitment/positions/{position}/applicants"),
        )
        .json(&body)
        .send()
        .await
        .unwrap(),
    )
    .await
}

#[tokio::test]
async fn multipart_create_with_a_file_lands_in_the_first_stage_and_keeps_the_file() {
    let sim = start(6, 3).await;
    let (open, _) = sim.open_and_closed().await;
    let id = &open["id"];
    let pdf = b"%PDF-1.4\n% a tiny CV\n".to_vec();
    let form = Form::new()
        .text("applicant[first_name]", "Ada")
        .text("applicant[last_name]", "Lovelace")
        .text("applicant[email]", "ada@example.com")
        .text("applicant[phone_number]", "+44 20 7946 0000")
        .text("applicant[address]", "12 St James's Square, London")
        .text("applicant[summary]", "Mathematician")
        .text("applicant[source]", "Example Job Board")
        .text("send_thank_you_email", "true")
        .part(
            "applicant[attachment]",
            Part::bytes(pdf.clone())
                .file_name("ada-cv.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let response = sim
        .api(
            Method::POST,
            &format!("/recruitment/positions/{id}/applicants"),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let new_id = body["data"]["id"].as_u64().unwrap();
    assert_eq!(body, json!({"data": {"id": new_id}}));

    let (_, detail) = sim.get(&format!("/recruitment/applicants/{new_id}")).await;
    let d = &detail["data"];
    assert_eq!(d["full_name"], "Ada Lovelace");
    assert_eq!(d["email"], "ada@example.com");
    assert_eq!(d["phone_number"], "+44 20 7946 0000");
    assert_eq!(d["address"], "12 St James's Square, London");
    assert_eq!(d["summary"], "Mathematician");
    assert_eq!(d["source"], "Example Job Board");
    assert_eq!(d["position_id"], *id);
    assert_eq!(d["stage"]["title"], "New");
    assert_eq!(
        d["added_by"]["full_name"], "Alex Admin",
        "the key's owner added it"
    );
    assert_eq!(d["referrer"], Value::Null);
    assert!(is_datetime(&d["created_at"]));

    let (_, position) = sim.get(&format!("/recruitment/positions/{id}")).await;
    assert_eq!(
        position["data"]["applicants_count"],
        open["applicants_count"].as_u64().unwrap() + 1
    );

    let (_, actions) = sim
        .get(&format!("/recruitment/applicants/{new_id}/actions"))
        .await;
    let kinds: Vec<&str> = actions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["document_created", "applicant_created"]);
    assert_eq!(actions["data"][0]["message"], "Uploaded \"ada-cv.pdf\"");

    let (status, files) = json(
        sim.control(Method::GET, &format!("acme/applicants/{new_id}/files"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        files["data"],
        json!([{"name": "ada-cv.pdf", "content_type": "application/pdf", "size": pdf.len(), "sha256": hex(&Sha256::digest(&pdf))}])
    );
}

#[tokio::test]
async fn json_and_urlencoded_creates_work_without_files() {
    let sim = start(6, 0).await;
    let (open, _) = sim.open_and_closed().await;
    let (status, body) = create_json(&sim, &open["id"], json!({"applicant": {"first_name": "Grace", "phone_number": 5550100, "unknown_field": "ignored"}})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, d) = sim
        .get(&format!("/recruitment/applicants/{}", body["data"]["id"]))
        .await;
    assert_eq!(d["data"]["full_name"], "Grace");
    assert_eq!(d["data"]["last_name"], Value::Null);
    assert_eq!(d["data"]["email"], Value::Null);
    assert_eq!(
        d["data"]["phone_number"], "5550100",
        "numbers are kept as text"
    );
    assert_eq!(d["data"]["source"], "api", "a blank source becomes api");
    let (_, files) = json(
        sim.control(
            Method::GET,
            &format!("acme/applicants/{}/files", body["data"]["id"]),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(files["data"], json!([]));

    let response = sim
        .api(
            Method::POST,
            &format!("/recruitment/positions/{}/applicants", open["id"]),
        )
        .form(&[
            ("applicant[first_name]", "Katherine"),
            ("applicant[source]", "recruiters"),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, d) = sim
        .get(&format!("/recruitment/applicants/{}", body["data"]["id"]))
        .await;
    assert_eq!(d["data"]["source"], "recruiters");
}

#[tokio::test]
async fn missing_first_name_and_bad_or_duplicate_emails_are_422() {
    let sim = start(6, 0).await;
    let (open, _) = sim.open_and_closed().await;
    let (status, body) = create_json(
        &sim,
        &open["id"],
        json!({"applicant": {"last_name": "Nobody", "email": "not-an-email"}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({"error_code": "validation_failed", "errors": ["First name can't be blank", "Email is invalid"]})
    );

    let ok = json!({"applicant": {"first_name": "Ada", "email": "ada@example.com"}});
    assert_eq!(
        create_json(&sim, &open["id"], ok.clone()).await.0,
        StatusCode::CREATED
    );
    let (status, body) = create_json(
        &sim,
        &open["id"],
        json!({"applicant": {"first_name": "Ada", "email": "ADA@example.com"}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({"error_code": "validation_failed", "errors": ["Email has already been taken"]})
    );

    // The same person may apply to another position.
    let other = sim
        .all_positions("")
        .await
        .into_iter()
        .find(|p| {
            p["id"] != open["id"] && (p["status"] == "published" || p["status"] == "internal")
        })
        .unwrap();
    assert_eq!(
        create_json(&sim, &other["id"], ok).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn positions_that_are_not_open_refuse_applicants() {
    let sim = start(6, 0).await;
    let all = sim.all_positions("").await;
    for p in all
        .iter()
        .filter(|p| !matches!(p["status"].as_str(), Some("published" | "internal")))
    {
        let (status, body) =
            create_json(&sim, &p["id"], json!({"applicant": {"first_name": "Ada"}})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert_eq!(body["error_code"], "validation_failed");
        let message = body["errors"][0].as_str().unwrap();
        assert!(
            message.contains("not accepting applicants")
                && message.contains(p["status"].as_str().unwrap()),
            "{message}"
        );
    }
    let internal = all.iter().find(|p| p["status"] == "internal").unwrap();
    assert_eq!(
        create_json(
            &sim,
            &internal["id"],
            json!({"applicant": {"first_name": "Ada"}})
        )
        .await
        .0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn source_rules_referrals_and_custom_sources() {
    let sim = start(6, 0).await;
    let (open, _) = sim.open_and_closed().await;
    let cases = [
        (json!({"first_name": "A", "source": ""}), "api"),
        (json!({"first_name": "B", "source": "sourced"}), "sourced"),
        (json!({"first_name": "C", "source": "linkedin"}), "linkedin"),
        (
            json!({"first_name": "D", "source": "linkedin", "referral": {"full_name": "Rita Referrer", "email": "rita@example.com"}}),
            "referral",
        ),
    ];
    for (applicant, expected) in cases {
        let (status, body) = create_json(&sim, &open["id"], json!({"applicant": applicant})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (_, d) = sim
            .get(&format!("/recruitment/applicants/{}", body["data"]["id"]))
            .await;
        assert_eq!(d["data"]["source"], expected, "{applicant}");
        if expected == "referral" {
            assert_eq!(d["data"]["referrer"]["full_name"], "Rita Referrer");
            assert_eq!(d["data"]["referrer"]["email"], "rita@example.com");
            assert!(d["data"]["referrer"]["id"].is_u64());
        }
    }
    let form = Form::new()
        .text("applicant[first_name]", "E")
        .text("applicant[referral][full_name]", "Multi Part")
        .text("applicant[referral][phone_number]", "67876162");
    let (status, body) = json(
        sim.api(
            Method::POST,
            &format!("/recruitment/positions/{}/applicants", open["id"]),
        )
        .multipart(form)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, d) = sim
        .get(&format!("/recruitment/applicants/{}", body["data"]["id"]))
        .await;
    assert_eq!(d["data"]["source"], "referral");
    assert_eq!(d["data"]["referrer"]["phone_number"], "67876162");
}

#[tokio::test]
async fn malformed_bodies_are_rejected_without_creating_anything() {
    let sim = start(6, 0).await;
    let (open, _) = sim.open_and_closed().await;
    let path = format!("/recruitment/positions/{}/applicants", open["id"]);
    let (status, body) = json(
        sim.api(Method::POST, &path)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = create_json(
        &sim,
        &open["id"],
        json!({"first_name": "no applicant wrapper"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"][0],
        "param is missing or the value is empty: applicant"
    );
    let (status, body) = create_json(
        &sim,
        &open["id"],
        json!({"applicant": {"first_name": "A", "attachment": "JVBERi0="}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["errors"][0].as_str().unwrap().contains("multipart"),
        "{body}"
    );
    let (status, _) = json(
        sim.api(Method::POST, &path)
            .header("content-type", "multipart/form-data; boundary=x")
            .body("garbage")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, list) = sim.get(&path).await;
    assert_eq!(list["meta"]["total_entries"], 0);
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_in_every_form() {
    let sim = start(6, 0).await;
    let (open, _) = sim.open_and_closed().await;
    let path = format!("/recruitment/positions/{}/applicants", open["id"]);
    let big = vec![b'a'; sagehr_sim::api::MAX_BODY_BYTES + 1];
    let form = Form::new().text("applicant[first_name]", "Big").part(
        "applicant[attachment]",
        Part::bytes(big.clone()).file_name("big.pdf"),
    );
    let (status, body) = json(
        sim.api(Method::POST, &path)
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error_code"], "payload_too_large");
    let (status, _) = json(
        sim.api(Method::POST, &path)
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}
