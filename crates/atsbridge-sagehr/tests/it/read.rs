//! Full reads: completeness, mapping, request count, concurrency, retries and failures.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use atsbridge_model::connector::{Connector, ConnectorErrorKind};
use atsbridge_model::enums::{JobStatus, Outcome};
use atsbridge_model::{record_id, ModelKind};
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_full_read_returns_exactly_the_seeded_records_mapped() {
    let env = start(25, 7).await;
    let mut sink = Collect::default();
    let summary = env.connector().read_all(&mut sink).await.unwrap();
    let t = &env.expected;
    assert!(summary.stable);

    let jobs = sink.jobs();
    assert_eq!(jobs.len(), t.positions.len());
    for job in &jobs {
        let p = &t.positions[&job.remote_id.parse::<u64>().unwrap()];
        assert_eq!(
            job.id,
            record_id(INTEGRATION, ModelKind::Job, &job.remote_id)
        );
        assert_eq!(job.name.as_deref(), Some(p.title.as_str()));
        let status = match p.status.as_str() {
            "draft" => JobStatus::Draft,
            "published" | "internal" => JobStatus::Open,
            _ => JobStatus::Closed,
        };
        assert_eq!(job.status, Some(status), "{}", p.status);
        assert_eq!(
            job.department.as_deref(),
            Some(p.team.as_str()).filter(|t| !t.is_empty())
        );
        assert_eq!(job.post_url, p.link);
        assert_eq!(job.closed_at.is_some(), p.completed_at.is_some());
        assert_eq!(
            job.remote_data.as_ref().unwrap()["/recruitment/positions"]["id"],
            p.id
        );
        // The hiring team is R2's, member for member (the generator gives each employee one
        // role per position).
        let team: Vec<(String, Option<&str>)> = job
            .hiring_team
            .iter()
            .map(|m| {
                let label = m.job_roles.first().and_then(|r| r.remote_label.as_deref());
                (m.remote_id.clone().unwrap(), label)
            })
            .collect();
        let expected: Vec<(String, Option<&str>)> = p
            .hiring_team
            .iter()
            .map(|m| (m.employee_id.to_string(), Some(m.role.as_str())))
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(team, expected);
        // The job's stages are the ones its applicants are in, in id order.
        let in_use: BTreeSet<u64> = t.by_position[&p.id]
            .iter()
            .map(|a| t.applicants[a].stage_id)
            .collect();
        let got: Vec<u64> = job
            .stages
            .iter()
            .map(|s| s.remote_id.as_ref().unwrap().parse().unwrap())
            .collect();
        assert_eq!(got, in_use.into_iter().collect::<Vec<_>>());
        assert!(job
            .stages
            .iter()
            .enumerate()
            .all(|(i, s)| s.index == Some(i as i64)));
    }

    let candidates = sink.candidates();
    let applications = sink.applications();
    assert_eq!(candidates.len(), t.applicants.len());
    assert_eq!(applications.len(), t.applicants.len());
    let by_remote: BTreeMap<&str, &atsbridge_model::Application> = applications
        .iter()
        .map(|a| (a.core.remote_id.as_deref().unwrap(), *a))
        .collect();
    for c in &candidates {
        let a = &t.applicants[&c.profile.remote_id.parse::<u64>().unwrap()];
        assert_eq!(c.profile.first_name.as_deref(), Some(a.first_name.as_str()));
        assert_eq!(c.profile.last_name, a.last_name);
        assert_eq!(
            c.profile
                .email_addresses
                .first()
                .and_then(|e| e.email_address.clone()),
            a.email
        );
        assert_eq!(
            c.profile
                .phone_numbers
                .first()
                .map(|p| p.phone_number.clone()),
            a.phone_number
        );
        assert_eq!(
            c.profile.location.as_ref().and_then(|l| l.raw.clone()),
            a.address
        );
        assert_eq!(c.profile.source.as_deref(), Some(a.source.as_str()));
        let app = by_remote[c.profile.remote_id.as_str()];
        let outcome = if a.hired_date.is_some() {
            Outcome::Hired
        } else if a.disqualified_date.is_some() {
            Outcome::Declined
        } else {
            Outcome::Pending
        };
        assert_eq!(app.core.outcome, Some(outcome));
        assert_eq!(
            app.core.candidate_id.as_deref(),
            Some(c.profile.id.as_str())
        );
        assert_eq!(
            app.core.job_id,
            Some(record_id(
                INTEGRATION,
                ModelKind::Job,
                &a.position_id.to_string()
            ))
        );
        assert_eq!(
            app.core.current_stage_id,
            Some(record_id(
                INTEGRATION,
                ModelKind::ApplicationStage,
                &a.stage_id.to_string()
            ))
        );
    }

    let stages = sink.stages();
    let distinct: BTreeSet<u64> = t.applicants.values().map(|a| a.stage_id).collect();
    assert_eq!(stages.len(), distinct.len());
    for (stage, job_remote_id) in stages {
        let id: u64 = stage.remote_id.as_ref().unwrap().parse().unwrap();
        let p = &t.positions[&job_remote_id.parse::<u64>().unwrap()];
        let expected = p
            .stages
            .iter()
            .find(|s| s.id == id)
            .expect("the stage belongs to its job");
        assert_eq!(stage.name.as_deref(), Some(expected.title.as_str()));
    }
    assert_eq!(summary.records["ats_jobs"], 25);
    assert_eq!(
        summary.records["ats_applications"],
        t.applicants.len() as u64
    );
    assert_eq!(
        sink.batches, 25,
        "records arrive per position, not once at the end"
    );
}

#[tokio::test]
async fn a_read_makes_the_minimum_number_of_upstream_requests() {
    // 101 positions of 101 applicants: 2 pages of positions; for each position its detail
    // (R2, the only source of its hiring team) and 2 pages of applicants.
    let env = start(101, 101).await;
    let mut sink = Collect::default();
    let summary = env.connector().read_all(&mut sink).await.unwrap();
    let stats = env.stats().await;
    assert_eq!(stats["total"], 2 + 101 * 3, "{stats}");
    assert_eq!(stats["by_endpoint"]["GET /recruitment/positions"], 2);
    assert_eq!(stats["by_endpoint"]["GET /recruitment/positions/{id}"], 101);
    assert_eq!(summary.requests, 2 + 101 * 3);
    assert_eq!(sink.candidates().len(), 101 * 101);
    assert!(
        sink.largest_batch <= 1 + 6 + 2 * 101,
        "one position at a time: {}",
        sink.largest_batch
    );
}

#[tokio::test]
async fn applicant_listings_fan_out_up_to_the_concurrency_cap() {
    let env = start(12, 1).await;
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "latency", "latency_ms": 40}),
    )
    .await;
    env.connector()
        .read_all(&mut Collect::default())
        .await
        .unwrap();
    let peak = env.stats().await["max_in_flight"].as_u64().unwrap();
    assert!((2..=4).contains(&peak), "peak {peak}");

    let mut one = env.config(KEY);
    one.concurrency = 1;
    let serial = atsbridge_sagehr::SageHr::new(INTEGRATION, &one).unwrap();
    env.http
        .delete(format!("{}/_sim/acme/stats", env.sim.url()))
        .send()
        .await
        .unwrap();
    serial.read_all(&mut Collect::default()).await.unwrap();
    assert_eq!(env.stats().await["max_in_flight"], 1);
}

#[tokio::test]
async fn rate_limits_server_errors_drops_and_garbage_are_retried_to_a_complete_result() {
    let env = start(30, 4).await;
    let mut clean = Collect::default();
    env.connector().read_all(&mut clean).await.unwrap();
    let minimum = env.stats().await["total"].as_u64().unwrap();

    for fault in [
        json!({"kind": "rate_limit", "count": 5, "retry_after": 0}),
        json!({"kind": "server_error", "ratio": 0.2}),
        json!({"kind": "drop", "count": 2}),
        json!({"kind": "malformed", "count": 2}),
        json!({"kind": "server_error", "count": 3, "endpoint": "GET /recruitment/positions"}),
    ] {
        env.control(Method::POST, "faults", fault).await;
    }
    env.http
        .delete(format!("{}/_sim/acme/stats", env.sim.url()))
        .send()
        .await
        .unwrap();
    let mut faulty = Collect::default();
    let summary = env.connector().read_all(&mut faulty).await.unwrap();
    assert_eq!(
        faulty.comparable(),
        clean.comparable(),
        "the same records despite the faults"
    );
    let total = env.stats().await["total"].as_u64().unwrap();
    assert!(
        total > minimum + 10,
        "{total} requests for a minimum of {minimum}"
    );
    assert_eq!(summary.requests, total);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let env = start(2, 1).await;
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "rate_limit", "count": 1, "retry_after": 1}),
    )
    .await;
    let started = Instant::now();
    env.connector()
        .read_all(&mut Collect::default())
        .await
        .unwrap();
    // A lower bound only: the read cannot finish before the server's wait is over.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_permanent_failure_is_an_error_never_a_shorter_listing() {
    let env = start(6, 2).await;
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "server_error", "endpoint": "GET /recruitment/positions/{id}/applicants"}),
    )
    .await;
    let mut sink = Collect::default();
    let err = env
        .connector()
        .read_all(&mut sink)
        .await
        .expect_err("the read must fail");
    assert_eq!(err.kind, ConnectorErrorKind::Unavailable, "{err}");
    assert!(err.message.contains("gave up after"), "{err}");

    env.http
        .delete(format!("{}/_sim/acme/faults", env.sim.url()))
        .send()
        .await
        .unwrap();
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "rate_limit", "retry_after": 0}),
    )
    .await;
    let err = env
        .connector()
        .read_all(&mut Collect::default())
        .await
        .expect_err("still limited");
    assert_eq!(err.kind, ConnectorErrorKind::RateLimited);
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_fails_at_once() {
    let env = start(1, 0).await;
    env.control(
        Method::POST,
        "faults",
        json!({"kind": "rate_limit", "count": 1, "retry_after": 3600}),
    )
    .await;
    let started = Instant::now();
    let err = env
        .connector()
        .read_all(&mut Collect::default())
        .await
        .expect_err("an hour is past the budget");
    assert_eq!(err.kind, ConnectorErrorKind::RateLimited);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "it did not sleep for the hour"
    );
}

#[tokio::test]
async fn revoked_keys_are_auth_errors_and_unknown_accounts_not_found() {
    let env = start(2, 1).await;
    let connector = env.connector();
    connector.check_credentials().await.unwrap();
    env.http
        .delete(format!("{}/_sim/acme/keys/{KEY}", env.sim.url()))
        .send()
        .await
        .unwrap();
    let err = connector.check_credentials().await.unwrap_err();
    assert_eq!(err.kind, ConnectorErrorKind::AuthInvalid);
    assert_eq!(
        err.code(),
        atsbridge_model::ErrorCode::IntegrationAuthenticationInvalid
    );
    let err = connector
        .read_all(&mut Collect::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ConnectorErrorKind::AuthInvalid);
    assert_eq!(
        env.stats().await["total"],
        3,
        "one check, then one request each: auth failures are not retried"
    );

    let mut elsewhere = env.config(KEY);
    elsewhere.subdomain = "nowhere".into();
    let err = atsbridge_sagehr::SageHr::new(INTEGRATION, &elsewhere)
        .unwrap()
        .check_credentials()
        .await
        .unwrap_err();
    assert_eq!(err.kind, ConnectorErrorKind::NotFound);
    assert!(err.message.contains("no Sage HR account"), "{err}");
}
