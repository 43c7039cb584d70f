//! Listings that shift while they are paged, positions deleted mid-read, and confirming which
//! missing records are really gone.

use std::collections::{BTreeMap, BTreeSet};

use atsbridge_model::connector::{Connector, ConnectorErrorKind, Missing, Record};
use atsbridge_model::{record_id, ModelKind};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// The records of one position (its job, stages, candidates and applications) in `c`.
fn of_position(c: &Collect, job: &str) -> Collect {
    let job_id = record_id(INTEGRATION, ModelKind::Job, job);
    let applicants = applicants_of(c, job);
    let records = c
        .records
        .iter()
        .filter(|r| match r {
            Record::Job(j) => j.remote_id == job,
            Record::Application(a) => a.core.job_id.as_deref() == Some(job_id.as_str()),
            Record::Candidate(cand) => applicants.contains(&cand.profile.remote_id),
            Record::ApplicationStage { job_remote_id, .. } => job_remote_id == job,
            _ => false,
        })
        .cloned()
        .collect();
    Collect {
        records,
        ..Collect::default()
    }
}

/// Remote ids of the applications of one position in `c`.
fn applicants_of(c: &Collect, job: &str) -> BTreeSet<String> {
    let job_id = record_id(INTEGRATION, ModelKind::Job, job);
    c.applications()
        .iter()
        .filter(|a| a.core.job_id.as_deref() == Some(job_id.as_str()))
        .map(|a| a.core.remote_id.clone().unwrap())
        .collect()
}

fn job_ids(c: &Collect) -> Vec<String> {
    c.jobs().iter().map(|j| j.remote_id.clone()).collect()
}

/// Remote ids of every position, in R1's order.
async fn listed_positions(env: &Env) -> Vec<String> {
    let body: Value = env
        .http
        .get(format!(
            "{}/recruitment/positions?per_page=100",
            env.sim.base_url("acme")
        ))
        .header("X-Auth-Token", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].to_string())
        .collect()
}

async fn reset_stats(env: &Env) {
    env.control(Method::DELETE, "stats", json!(null)).await;
}

fn by_endpoint(stats: &Value, endpoint: &str) -> u64 {
    stats["by_endpoint"][endpoint].as_u64().unwrap_or(0)
}

/// Pages of 5, so a dozen positions make three pages.
fn small_pages(env: &Env) -> atsbridge_sagehr::SageHr {
    let mut config = env.config(KEY);
    config.per_page = 5;
    atsbridge_sagehr::SageHr::new(INTEGRATION, &config).unwrap()
}

#[tokio::test]
async fn a_position_shifted_to_a_read_page_is_confirmed_alive_and_a_deleted_one_gone() {
    let env = start(12, 3).await;
    let connector = small_pages(&env);
    let mut clean = Collect::default();
    connector.read_all(&mut clean).await.unwrap();
    let order = listed_positions(&env).await;
    let (victim, moved) = (order[1].clone(), order[5].clone());

    // While the second page of positions is asked for, one on page 1 is deleted and one
    // created (at the end): page 2 starts one later, so `moved` slides onto page 1, which
    // was read already, and every total stays the same.
    env.control(
        Method::POST,
        "hooks",
        json!({"endpoint": "GET /recruitment/positions", "nth": 2, "actions": [
            {"op": "delete_position", "id": victim.parse::<u64>().unwrap()},
            {"op": "create_position", "fields": {"title": "Night Porter"}},
        ]}),
    )
    .await;
    let mut shifted = Collect::default();
    let summary = connector.read_all(&mut shifted).await.unwrap();
    assert!(summary.stable, "the totals held still");
    let seen: BTreeSet<String> = job_ids(&shifted).into_iter().collect();
    assert!(
        !seen.contains(&moved),
        "the listing skipped {moved}: {seen:?}"
    );
    // The deleted one is there or not, as its applicants were read before or after the
    // delete; everything else was seen, the new position included.
    let now = listed_positions(&env).await;
    let expected: BTreeSet<String> = now.iter().filter(|id| **id != moved).cloned().collect();
    let others: BTreeSet<String> = seen.iter().filter(|id| **id != victim).cloned().collect();
    assert_eq!(others, expected);
    assert_eq!(now.len(), 12);

    let mut missing = Missing::default();
    for job in [&victim, &moved] {
        missing.jobs.insert(job.clone());
        for app in applicants_of(&clean, job) {
            missing.applications.insert(app, Some(job.clone()));
        }
    }
    let victim_apps = applicants_of(&clean, &victim);
    assert_eq!(victim_apps.len(), 3);
    reset_stats(&env).await;
    let before = connector.requests_sent();
    let mut found = Collect::default();
    let confirmed = connector
        .confirm_missing(&missing, &mut found)
        .await
        .unwrap();
    assert_eq!(confirmed.jobs_gone, BTreeSet::from([victim.clone()]));
    assert_eq!(confirmed.applications_gone, victim_apps);
    // The live position comes back whole, record for record as the clean listing had it:
    // R2's job, cut to R1's form, hashes like R1's.
    assert_eq!(found.comparable(), of_position(&clean, &moved).comparable());
    assert_eq!(found.jobs().len(), 1);
    assert_eq!(found.applications().len(), 3);

    // R2 for each job, R3 for the live one, one R1 probe that the account answers, and no
    // request for the applicants of the deleted position.
    let stats = env.stats().await;
    assert_eq!(by_endpoint(&stats, "GET /recruitment/positions/{id}"), 2);
    assert_eq!(
        by_endpoint(&stats, "GET /recruitment/positions/{id}/applicants"),
        1
    );
    assert_eq!(by_endpoint(&stats, "GET /recruitment/positions"), 1);
    assert_eq!(by_endpoint(&stats, "GET /recruitment/applicants/{id}"), 0);
    assert_eq!(stats["total"], 4, "{stats}");
    assert_eq!(connector.requests_sent() - before, 4);
}

#[tokio::test]
async fn the_job_read_by_id_is_the_job_the_listing_gives() {
    let env = start(6, 4).await;
    let connector = env.connector();
    let mut listed = Collect::default();
    connector.read_all(&mut listed).await.unwrap();
    for job in job_ids(&listed) {
        let mut by_id = Collect::default();
        let confirmed = connector
            .confirm_missing(
                &Missing {
                    jobs: BTreeSet::from([job.clone()]),
                    ..Missing::default()
                },
                &mut by_id,
            )
            .await
            .unwrap();
        assert!(confirmed.jobs_gone.is_empty());
        let from_list = of_position(&listed, &job);
        assert_eq!(by_id.comparable(), from_list.comparable(), "position {job}");
        let (a, b) = (by_id.jobs()[0], from_list.jobs()[0]);
        assert_eq!(a.remote_data, b.remote_data, "no R2-only keys");
    }
}

#[tokio::test]
async fn an_applicant_shifted_to_a_read_page_is_confirmed_alive_and_a_deleted_one_gone() {
    let env = start(2, 12).await;
    let order = listed_positions(&env).await;
    // Both open, so the hook can add an applicant to the first one listed.
    for id in &order {
        env.control(
            Method::PATCH,
            &format!("positions/{id}"),
            json!({"status": "published"}),
        )
        .await;
    }
    let (target, other) = (order[0].clone(), order[1].clone());
    // One position at a time, so the nth applicant listing request is a known page.
    let mut config = env.config(KEY);
    config.per_page = 5;
    config.concurrency = 1;
    let connector = atsbridge_sagehr::SageHr::new(INTEGRATION, &config).unwrap();
    let mut clean = Collect::default();
    connector.read_all(&mut clean).await.unwrap();
    let listed = |c: &Collect, job: &str| -> Vec<String> {
        let job_id = record_id(INTEGRATION, ModelKind::Job, job);
        c.applications()
            .iter()
            .filter(|a| a.core.job_id.as_deref() == Some(job_id.as_str()))
            .map(|a| a.core.remote_id.clone().unwrap())
            .collect()
    };
    let apps = listed(&clean, &target);
    assert_eq!(apps.len(), 12);
    let (victim, moved) = (apps[0].clone(), apps[5].clone());

    env.control(
        Method::POST,
        "hooks",
        json!({"endpoint": "GET /recruitment/positions/{id}/applicants", "nth": 2, "actions": [
            {"op": "delete_applicant", "id": victim.parse::<u64>().unwrap()},
            {"op": "create_applicant", "position_id": target.parse::<u64>().unwrap(),
             "fields": {"first_name": "Nia", "last_name": "Hook", "email": "nia.hook@example.com"}},
        ]}),
    )
    .await;
    let mut shifted = Collect::default();
    let summary = connector.read_all(&mut shifted).await.unwrap();
    assert!(summary.stable, "the totals held still");
    let now = listed(&shifted, &target);
    // The deleted applicant was on page 1, read before the delete; the new one is on page 3.
    assert_eq!(now.len(), 12, "{now:?}");
    assert!(now.contains(&victim));
    assert!(!now.contains(&moved), "the listing skipped {moved}");

    // Another position's live applicant, asked about without its job: only R5 can tell.
    let elsewhere = listed(&clean, &other)[0].clone();
    let missing = Missing {
        jobs: BTreeSet::new(),
        applications: BTreeMap::from([
            (victim.clone(), Some(target.clone())),
            (moved.clone(), Some(target.clone())),
            (elsewhere.clone(), None),
        ]),
        ..Missing::default()
    };
    reset_stats(&env).await;
    let mut found = Collect::default();
    let confirmed = connector
        .confirm_missing(&missing, &mut found)
        .await
        .unwrap();
    assert!(confirmed.jobs_gone.is_empty());
    assert_eq!(
        confirmed.applications_gone,
        BTreeSet::from([victim.clone()])
    );
    // The position is delivered whole again, as a fresh listing shows it: the skipped
    // applicant in the listing's form, identical to the clean read.
    assert_eq!(found.jobs().len(), 1);
    let relisted = listed(&found, &target);
    assert_eq!(relisted.len(), 12);
    assert!(relisted.contains(&moved) && !relisted.contains(&victim));
    let records_of = |c: &Collect, remote: &str| -> Vec<Value> {
        let records = c
            .records
            .iter()
            .filter(|r| match r {
                Record::Application(a) => a.core.remote_id.as_deref() == Some(remote),
                Record::Candidate(cand) => cand.profile.remote_id == remote,
                _ => false,
            })
            .cloned()
            .collect();
        Collect {
            records,
            ..Collect::default()
        }
        .comparable()
    };
    assert_eq!(records_of(&found, &moved), records_of(&clean, &moved));
    assert_eq!(records_of(&found, &moved).len(), 2);
    assert!(
        records_of(&found, &elsewhere).is_empty(),
        "R5's form is not the listing's"
    );

    let stats = env.stats().await;
    assert_eq!(by_endpoint(&stats, "GET /recruitment/positions/{id}"), 1);
    assert_eq!(
        by_endpoint(&stats, "GET /recruitment/positions/{id}/applicants"),
        3
    );
    assert_eq!(
        by_endpoint(&stats, "GET /recruitment/applicants/{id}"),
        2,
        "the deleted one and the one without a job; not the one the relisting found"
    );
    assert_eq!(by_endpoint(&stats, "GET /recruitment/positions"), 1);
}

#[tokio::test]
async fn a_position_deleted_between_its_listing_and_its_applicants_is_left_out() {
    let env = start(8, 3).await;
    let connector = env.connector();
    let mut clean = Collect::default();
    connector.read_all(&mut clean).await.unwrap();
    let order = listed_positions(&env).await;
    let victim = order[3].clone();
    // Before the first applicant listing: the positions are listed, and this one is gone
    // when its applicants are asked for.
    env.control(
        Method::POST,
        "hooks",
        json!({"endpoint": "GET /recruitment/positions/{id}/applicants", "nth": 1, "actions": [
            {"op": "delete_position", "id": victim.parse::<u64>().unwrap()},
        ]}),
    )
    .await;
    let mut sink = Collect::default();
    let summary = connector.read_all(&mut sink).await.unwrap();
    assert_eq!(summary.records["ats_jobs"], 7);
    assert!(!job_ids(&sink).contains(&victim));
    assert!(applicants_of(&sink, &victim).is_empty());
    assert!(sink.stages().iter().all(|(_, job)| *job != victim));
    let mut rest = clean.comparable();
    let gone = of_position(&clean, &victim).comparable();
    rest.retain(|r| !gone.contains(r));
    assert_eq!(sink.comparable(), rest, "everything else as before");

    let missing = Missing {
        jobs: BTreeSet::from([victim.clone()]),
        applications: applicants_of(&clean, &victim)
            .into_iter()
            .map(|a| (a, Some(victim.clone())))
            .collect(),
        ..Missing::default()
    };
    let confirmed = connector
        .confirm_missing(&missing, &mut Collect::default())
        .await
        .unwrap();
    assert_eq!(confirmed.jobs_gone, missing.jobs);
    assert_eq!(
        confirmed.applications_gone,
        missing.applications.keys().cloned().collect()
    );
}

#[tokio::test]
async fn confirmation_fails_on_anything_but_not_found() {
    let env = start(3, 2).await;
    let connector = env.connector();
    let mut clean = Collect::default();
    connector.read_all(&mut clean).await.unwrap();
    let job = job_ids(&clean)[0].clone();
    let app = applicants_of(&clean, &job).into_iter().next().unwrap();

    env.control(
        Method::POST,
        "faults",
        json!({"kind": "server_error", "endpoint": "GET /recruitment/applicants/{id}"}),
    )
    .await;
    let missing = Missing {
        jobs: BTreeSet::from(["424242".to_owned()]),
        applications: BTreeMap::from([(app, None)]),
        ..Missing::default()
    };
    let err = connector
        .confirm_missing(&missing, &mut Collect::default())
        .await
        .expect_err("a server error confirms nothing");
    assert_eq!(err.kind, ConnectorErrorKind::Unavailable, "{err}");

    // An account that answers 404 to everything proves no deletion.
    let mut elsewhere = env.config(KEY);
    elsewhere.subdomain = "nowhere".into();
    let err = atsbridge_sagehr::SageHr::new(INTEGRATION, &elsewhere)
        .unwrap()
        .confirm_missing(
            &Missing {
                jobs: BTreeSet::from([job]),
                ..Missing::default()
            },
            &mut Collect::default(),
        )
        .await
        .expect_err("no account, no confirmation");
    assert_eq!(err.kind, ConnectorErrorKind::NotFound, "{err}");
    assert!(err.message.contains("nothing is confirmed gone"), "{err}");
}

#[tokio::test]
async fn ids_no_sage_hr_record_can_have_are_gone_without_a_request() {
    let env = start(1, 0).await;
    let connector = env.connector();
    let missing = Missing {
        jobs: BTreeSet::from(["../employees".to_owned()]),
        applications: BTreeMap::from([("1?x=2".to_owned(), None)]),
        ..Missing::default()
    };
    let confirmed = connector
        .confirm_missing(&missing, &mut Collect::default())
        .await
        .unwrap();
    assert_eq!(confirmed.jobs_gone, missing.jobs);
    assert_eq!(confirmed.applications_gone.len(), 1);
    assert_eq!(connector.requests_sent(), 0);
}

#[tokio::test]
async fn requests_are_counted_for_failed_reads_too() {
    let env = start(4, 2).await;
    let connector = env.connector();
    assert_eq!(connector.requests_sent(), 0);
    connector.read_all(&mut Collect::default()).await.unwrap();
    assert_eq!(
        connector.requests_sent(),
        env.stats().await["total"].as_u64().unwrap()
    );

    env.control(
        Method::POST,
        "faults",
        json!({"kind": "server_error", "count": 10_000, "endpoint": "GET /recruitment/positions/{id}/applicants"}),
    )
    .await;
    reset_stats(&env).await;
    let before = connector.requests_sent();
    connector
        .read_all(&mut Collect::default())
        .await
        .expect_err("retries run out");
    let sent = connector.requests_sent() - before;
    let total = env.stats().await["total"].as_u64().unwrap();
    assert_eq!(sent, total);
    assert!(
        sent > fast_retries().max_attempts as u64,
        "retries count: {sent}"
    );
}
