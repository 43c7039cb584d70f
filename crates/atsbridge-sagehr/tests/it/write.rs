//! Creating applicants, reading one back, and passthrough.

use std::collections::BTreeMap;

use atsbridge_model::connector::{
    ApplicantRequest, Connector, ConnectorErrorKind, FileUpload, PassthroughRequest,
};
use atsbridge_model::enums::Outcome;
use atsbridge_model::write::SourceInput;
use atsbridge_model::{record_id, ModelKind};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

fn open_position(env: &Env) -> u64 {
    env.expected
        .positions
        .values()
        .find(|p| p.status == "published")
        .unwrap()
        .id
}

fn closed_position(env: &Env) -> u64 {
    env.expected
        .positions
        .values()
        .find(|p| p.status == "completed")
        .unwrap()
        .id
}

/// An applicant with every field Sage HR stores, and her CV (the one file `prepare` picks).
fn ada(position: u64) -> (ApplicantRequest, Vec<FileUpload>) {
    let request = ApplicantRequest {
        job_remote_id: position.to_string(),
        candidate: serde_json::from_value(json!({
            "first_name": " Ada",
            "last_name": "Lovelace",
            "email_address": "ada.lovelace@example.org",
            "phone_number": "+44 20 7946 0000",
            "location": {"street_1": "12 St James's Square", "city": "London"},
            "title": "Mathematician"
        }))
        .unwrap(),
        source: Some(SourceInput {
            name: Some("Example Job Board".into()),
            ..SourceInput::default()
        }),
        default_source_name: Some("not used: the request names a source".into()),
        ..ApplicantRequest::default()
    };
    let cv = FileUpload {
        name: "ada-cv.pdf".into(),
        content_type: "application/pdf".into(),
        data: b"%PDF-1.4 tiny".to_vec(),
    };
    (request, vec![cv])
}

/// Creates `ada(position)`.
async fn create_ada(
    connector: &atsbridge_sagehr::SageHr,
    position: u64,
) -> Result<String, atsbridge_model::connector::ConnectorError> {
    let (request, files) = ada(position);
    connector.create_applicant(&request, files).await
}

#[tokio::test]
async fn created_applicants_carry_every_field_and_their_file() {
    let env = start(5, 2).await;
    let connector = env.connector();
    let position = open_position(&env);
    let remote_id = create_ada(&connector, position).await.unwrap();

    let files = env
        .http
        .get(format!(
            "{}/_sim/acme/applicants/{remote_id}/files",
            env.sim.url()
        ))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(files["data"][0]["name"], "ada-cv.pdf");
    assert_eq!(files["data"][0]["content_type"], "application/pdf");
    assert_eq!(files["data"][0]["size"], 13);

    let records = connector
        .read_application(&remote_id)
        .await
        .unwrap()
        .expect("it exists");
    let c = &records.candidate.profile;
    assert_eq!(
        c.id,
        record_id(INTEGRATION, ModelKind::Candidate, &remote_id)
    );
    assert_eq!(
        (c.first_name.as_deref(), c.last_name.as_deref()),
        (Some("Ada"), Some("Lovelace"))
    );
    assert_eq!(
        c.email_addresses[0].email_address.as_deref(),
        Some("ada.lovelace@example.org")
    );
    assert_eq!(c.phone_numbers[0].phone_number, "+44 20 7946 0000");
    assert_eq!(
        c.location.as_ref().unwrap().raw.as_deref(),
        Some("12 St James's Square, London")
    );
    assert_eq!(
        c.source.as_deref(),
        Some("Example Job Board"),
        "source writing reaches Sage HR"
    );
    // In the listing's form, as a sync stores it.
    let person = c
        .remote_data
        .as_ref()
        .unwrap()
        .get("/recruitment/positions/{id}/applicants")
        .expect("keyed by the listing");
    for detail_only in ["position_id", "added_by", "referrer"] {
        assert!(person.get(detail_only).is_none(), "{detail_only}");
    }
    let a = &records.application.core;
    assert_eq!(a.outcome, Some(Outcome::Pending));
    assert_eq!(
        a.job_id,
        Some(record_id(
            INTEGRATION,
            ModelKind::Job,
            &position.to_string()
        ))
    );
    let stage = records
        .stage
        .expect("a new applicant is in the first stage");
    assert!(
        matches!(stage, atsbridge_model::connector::Record::ApplicationStage { ref stage, .. } if stage.name.as_deref() == Some("New"))
    );

    let minimal = ApplicantRequest {
        job_remote_id: position.to_string(),
        candidate: serde_json::from_value(json!({"first_name": "Solo"})).unwrap(),
        ..ApplicantRequest::default()
    };
    let id = connector.create_applicant(&minimal, vec![]).await.unwrap();
    let solo = connector.read_application(&id).await.unwrap().unwrap();
    assert!(solo.candidate.profile.email_addresses.is_empty());
    assert_eq!(solo.candidate.profile.source.as_deref(), Some("api"));
}

#[tokio::test]
async fn duplicates_closed_jobs_and_bad_input_get_their_own_errors() {
    let env = start(5, 0).await;
    let connector = env.connector();
    let position = open_position(&env);
    create_ada(&connector, position).await.unwrap();
    let err = create_ada(&connector, position).await.unwrap_err();
    assert_eq!(err.kind, ConnectorErrorKind::AlreadyExists, "{err}");
    assert_eq!(
        err.code(),
        atsbridge_model::ErrorCode::AtsApplicationAlreadyExists
    );

    let err = create_ada(&connector, closed_position(&env))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ConnectorErrorKind::JobClosed, "{err}");

    let blank = ApplicantRequest {
        job_remote_id: position.to_string(),
        candidate: serde_json::from_value(json!({"first_name": " "})).unwrap(),
        ..ApplicantRequest::default()
    };
    let err = connector
        .create_applicant(&blank, vec![])
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ConnectorErrorKind::InvalidInput(vec!["First name can't be blank".into()])
    );
    assert!(err.message.contains("First name can't be blank"));

    let err = create_ada(&connector, 99_999_999).await.unwrap_err();
    assert_eq!(err.kind, ConnectorErrorKind::NotFound);
}

#[tokio::test]
async fn creates_are_retried_on_rate_limits_and_server_errors() {
    let env = start(5, 0).await;
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "rate_limit", "count": 1, "retry_after": 0}),
    )
    .await;
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "server_error", "count": 1}),
    )
    .await;
    let id = create_ada(&env.connector(), open_position(&env))
        .await
        .unwrap();
    assert!(env
        .connector()
        .read_application(&id)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        env.stats().await["by_endpoint"]["POST /recruitment/positions/{id}/applicants"],
        3
    );
}

#[tokio::test]
async fn a_dropped_create_is_not_sent_again() {
    let env = start(5, 0).await;
    env.control(Method::POST, "faults", json!({"kind": "drop", "count": 1}))
        .await;
    let err = create_ada(&env.connector(), open_position(&env))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ConnectorErrorKind::Unavailable);
    assert_eq!(
        env.stats().await["by_endpoint"]["POST /recruitment/positions/{id}/applicants"],
        1,
        "the answer was lost, so the create may have happened"
    );
}

#[tokio::test]
async fn reading_a_deleted_application_gives_none() {
    let env = start(5, 2).await;
    let connector = env.connector();
    let id = create_ada(&connector, open_position(&env)).await.unwrap();
    env.http
        .delete(format!("{}/_sim/acme/applicants/{id}", env.sim.url()))
        .send()
        .await
        .unwrap();
    assert!(connector.read_application(&id).await.unwrap().is_none());
    assert!(connector
        .read_application("../positions")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn passthrough_forwards_with_our_credentials_and_returns_any_status() {
    let env = start(3, 1).await;
    let connector = env.connector();
    let request = PassthroughRequest {
        method: "GET".into(),
        path: "/recruitment/positions".into(),
        headers: BTreeMap::from([
            ("X-Auth-Token".into(), "attacker-key".into()),
            ("Accept-Language".into(), "de".into()),
        ]),
        params: BTreeMap::from([("per_page".into(), "2".into())]),
        body: None,
    };
    let response = connector.passthrough(request.clone()).await.unwrap();
    assert_eq!(
        response.status, 200,
        "the caller's token is replaced by ours"
    );
    assert_eq!(response.body["meta"]["per_page"], 2);
    assert!(
        response
            .url
            .ends_with("/acme/api/recruitment/positions?per_page=2"),
        "{}",
        response.url
    );
    assert!(!response.url.contains(KEY));
    assert!(response.headers.keys().all(|h| h != "x-auth-token"));
    assert_eq!(response.headers["content-type"], "application/json");

    let missing = connector
        .passthrough(PassthroughRequest {
            path: "/recruitment/positions/424242".into(),
            ..request.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        missing.status, 404,
        "upstream statuses are answers, not errors"
    );
    assert_eq!(
        missing.body,
        json!({"error_code": "not_found", "errors": []})
    );

    let created = connector
        .passthrough(PassthroughRequest {
            method: "POST".into(),
            path: format!("/recruitment/positions/{}/applicants", open_position(&env)),
            body: Some(json!({"applicant": {"first_name": "Via", "last_name": "Passthrough"}})),
            ..request.clone()
        })
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{:?}", created.body);

    for bad in ["https://evil.example/x", "/../x", "/x?y=1"] {
        let err = connector
            .passthrough(PassthroughRequest {
                path: bad.into(),
                ..request.clone()
            })
            .await
            .unwrap_err();
        assert!(
            matches!(err.kind, ConnectorErrorKind::InvalidInput(_)),
            "{bad}"
        );
    }
    let err = connector
        .passthrough(PassthroughRequest {
            method: "TRACE".into(),
            ..request
        })
        .await
        .unwrap_err();
    assert!(matches!(err.kind, ConnectorErrorKind::InvalidInput(_)));
}
