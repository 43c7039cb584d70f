use std::collections::BTreeMap;
use std::time::Duration;

use atsbridge_model::integration::{IntegrationStatus, SetupStatus};
use atsbridge_model::{record_id, ModelKind};
use atsbridge_store::{RunState, Store, StoredRecord};
use atsbridge_sync::{Outcome, Scheduler};
use reqwest::Method;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

fn times(records: &BTreeMap<String, StoredRecord>) -> Vec<(String, String, String)> {
    records
        .values()
        .map(|r| {
            (
                r.id.clone(),
                r.changed_at.to_string(),
                r.updated_at.to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_first_sync_inserts_everything_and_completes_setup() {
    each_backend(6, 5, |env| async move {
        let before = env.store.integration(INTEGRATION).await.unwrap().unwrap();
        assert_eq!(before.setup_status, SetupStatus::FinalSyncPending);
        let run = env.sync().await;
        assert_eq!(run.state, RunState::Succeeded, "{:?}", run.error);
        assert_eq!(run.counts.inserted["ats_jobs"], 6);
        assert_eq!(run.counts.inserted["ats_candidates"], 30);
        assert_eq!(run.counts.inserted["ats_applications"], 30);
        assert!(run.counts.inserted["ats_application_stages"] > 0);
        // One page of positions; per position its detail and one page of applicants.
        assert_eq!(run.upstream_requests, 1 + 6 * 2);
        assert_eq!(env.live(ModelKind::Application).await, 30);
        let after = env.store.integration(INTEGRATION).await.unwrap().unwrap();
        assert_eq!(after.setup_status, SetupStatus::Completed);
        let events = env.store.events(0, 10).await.unwrap();
        assert_eq!(events.len(), 1, "one event per run");
        assert_eq!(events[0].kind, "sync-finished");
        assert_eq!(events[0].payload["sync_state"], "SUCCEEDED");
        assert_eq!(
            events[0].payload["changed_models"],
            json!([
                "ats_application_stages",
                "ats_applications",
                "ats_candidates",
                "ats_jobs"
            ])
        );
        let stored = env.store.runs(INTEGRATION, 5).await.unwrap();
        assert_eq!(stored[0], run);
    })
    .await;
}

#[tokio::test]
async fn an_unchanged_resync_writes_nothing_and_moves_no_time() {
    each_backend(5, 4, |env| async move {
        env.sync().await;
        let mut before = Vec::new();
        for model in ModelKind::ATS {
            before.push(times(&env.all(model).await));
        }
        let run = env.sync().await;
        assert_eq!(run.state, RunState::Succeeded);
        assert!(
            run.counts.inserted.is_empty()
                && run.counts.updated.is_empty()
                && run.counts.deleted.is_empty(),
            "{:?}",
            run.counts
        );
        assert_eq!(run.counts.unchanged["ats_applications"], 20);
        let mut after = Vec::new();
        for model in ModelKind::ATS {
            after.push(times(&env.all(model).await));
        }
        assert_eq!(before, after);
        let events = env.store.events(0, 10).await.unwrap();
        assert_eq!(events[1].payload["changed_models"], json!([]));
    })
    .await;
}

#[tokio::test]
async fn moving_hiring_or_disqualifying_changes_exactly_the_application() {
    each_backend(5, 4, |env| async move {
        env.sync().await;
        let apps = env.all(ModelKind::Application).await;
        let candidates = env.all(ModelKind::Candidate).await;
        let target = apps
            .values()
            .find(|a| a.payload["outcome"] == "PENDING")
            .unwrap()
            .clone();
        tokio::time::sleep(Duration::from_millis(5)).await;
        env.sim
            .control(
                Method::POST,
                &format!("applicants/{}/disqualify", target.remote_id),
                json!({"date": "2025-12-01"}),
            )
            .await;
        let run = env.sync().await;
        assert_eq!(
            run.counts.updated,
            BTreeMap::from([("ats_applications".to_owned(), 1)])
        );
        let apps_after = env.all(ModelKind::Application).await;
        let candidates_after = env.all(ModelKind::Candidate).await;
        for (id, a) in &apps_after {
            if *id == target.id {
                assert!(a.changed_at > target.changed_at);
                assert_eq!(a.payload["outcome"], "DECLINED");
            } else {
                assert_eq!(
                    a.changed_at, apps[id].changed_at,
                    "other applications keep changed_at"
                );
                assert_eq!(a.updated_at, apps[id].updated_at);
            }
        }
        let candidate_id = target.candidate_id.clone().unwrap();
        for (id, c) in &candidates_after {
            assert_eq!(
                c.changed_at, candidates[id].changed_at,
                "no candidate's own data changed"
            );
            if *id == candidate_id {
                assert!(
                    c.updated_at > candidates[id].updated_at,
                    "the candidate's application changed"
                );
            } else {
                assert_eq!(c.updated_at, candidates[id].updated_at);
            }
        }
        // A hire moves the stage too; still only the application changes.
        env.sim
            .control(
                Method::POST,
                &format!("applicants/{}/hire", target.remote_id),
                json!({}),
            )
            .await;
        let run = env.sync().await;
        assert_eq!(run.counts.updated.get("ats_candidates"), None);
        assert_eq!(run.counts.updated["ats_applications"], 1);
        assert_eq!(
            env.all(ModelKind::Application).await[&target.id].payload["outcome"],
            "HIRED"
        );
    })
    .await;
}

#[tokio::test]
async fn deletions_follow_completed_runs_and_restores_undelete() {
    each_backend(5, 3, |env| async move {
        env.sync().await;
        let apps = env.all(ModelKind::Application).await;
        let target = apps.values().next().unwrap().clone();
        let jobs = env.all(ModelKind::Job).await;
        let job = jobs
            .values()
            .find(|j| Some(&j.id) != target.job_id.as_ref())
            .unwrap()
            .clone();

        env.sim
            .control(
                Method::DELETE,
                &format!("applicants/{}", target.remote_id),
                json!({}),
            )
            .await;
        env.sim
            .control(
                Method::DELETE,
                &format!("positions/{}", job.remote_id),
                json!({}),
            )
            .await;
        let run = env.sync().await;
        assert_eq!(run.state, RunState::Succeeded);
        assert_eq!(run.counts.deleted["ats_jobs"], 1);
        assert_eq!(run.counts.deleted["ats_applications"], 1 + 3);
        assert_eq!(run.counts.deleted["ats_candidates"], 1 + 3);
        let deleted_app = &env.all(ModelKind::Application).await[&target.id];
        assert!(deleted_app.remote_deleted_at.is_some());
        // The stages of the deleted job go with it; other jobs' stages stay even when empty.
        let stages = env.all(ModelKind::ApplicationStage).await;
        assert!(
            stages
                .values()
                .filter(|s| s.remote_deleted_at.is_some())
                .count()
                > 0
        );
        assert!(run.counts.deleted.contains_key("ats_application_stages"));

        env.sim
            .control(
                Method::POST,
                &format!("applicants/{}/restore", target.remote_id),
                json!({}),
            )
            .await;
        env.sim
            .control(
                Method::POST,
                &format!("positions/{}/restore", job.remote_id),
                json!({}),
            )
            .await;
        let run = env.sync().await;
        // The restored job is undeleted (an update); the job whose applicant came back changed
        // too, since Sage HR's `applicants_count` is part of its remote_data.
        assert_eq!(run.counts.updated["ats_jobs"], 2);
        assert!(
            env.all(ModelKind::Job).await[&job.id]
                .remote_deleted_at
                .is_none(),
            "an undelete"
        );
        let restored = &env.all(ModelKind::Application).await[&target.id];
        assert!(restored.remote_deleted_at.is_none());
        assert!(restored.changed_at > deleted_app.changed_at);
        assert_eq!(env.live(ModelKind::Application).await, 15);
    })
    .await;
}

#[tokio::test]
async fn a_run_broken_by_faults_deletes_nothing_and_is_recorded_as_failed() {
    each_backend(5, 3, |env| async move {
        env.sync().await;
        let victim = env.all(ModelKind::Application).await.values().next().unwrap().remote_id.clone();
        env.sim.control(Method::DELETE, &format!("applicants/{victim}"), json!({})).await;
        env.sim.control(Method::POST, "faults", json!({"kind": "server_error", "endpoint": "GET /recruitment/positions/{id}/applicants"})).await;
        let run = env.sync().await;
        assert_eq!(run.state, RunState::Failed);
        assert!(run.error.as_deref().unwrap().contains("REMOTE.SERVICE_UNAVAILABLE"), "{:?}", run.error);
        assert!(run.counts.deleted.is_empty());
        assert_eq!(env.live(ModelKind::Application).await, 15, "nothing was marked deleted");
        let events = env.store.events(0, 10).await.unwrap();
        assert_eq!(events.last().unwrap().payload["sync_state"], "FAILED");
    })
    .await;
}

#[tokio::test]
async fn revoked_credentials_make_the_integration_invalid_until_replaced() {
    each_backend(2, 1, |env| async move {
        env.sync().await;
        env.sim
            .control(Method::DELETE, &format!("keys/{KEY}"), json!({}))
            .await;
        let run = env.sync().await;
        assert_eq!(run.state, RunState::AuthenticationFailed);
        let integration = env.store.integration(INTEGRATION).await.unwrap().unwrap();
        assert_eq!(integration.status, IntegrationStatus::Invalid);
        let outcome = env
            .engine
            .run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &CancellationToken::new(),
            )
            .await
            .unwrap();
        assert!(matches!(outcome, Outcome::Skipped(_)), "{outcome:?}");
        let events = env.store.events(0, 10).await.unwrap();
        assert!(events
            .iter()
            .any(|e| e.kind == "integration-state-changed" && e.payload["state"] == "INVALID"));

        env.sim
            .control(Method::POST, "keys", json!({"key": "new-key"}))
            .await;
        let mut credentials = env.store.credentials(INTEGRATION).await.unwrap();
        credentials.0.insert("api_key".into(), json!("new-key"));
        env.store
            .set_credentials(INTEGRATION, &credentials)
            .await
            .unwrap();
        assert_eq!(env.sync().await.state, RunState::Succeeded);
        assert_eq!(
            env.store
                .integration(INTEGRATION)
                .await
                .unwrap()
                .unwrap()
                .status,
            IntegrationStatus::Active
        );
    })
    .await;
}

#[tokio::test]
async fn two_engines_never_run_one_integration_at_once() {
    each_backend(4, 2, |env| async move {
        env.sim
            .control(
                Method::POST,
                "faults",
                json!({"kind": "latency", "latency_ms": 30}),
            )
            .await;
        let other_store = Store::open(&env.url, atsbridge_store::testing::keys())
            .await
            .unwrap();
        let other = engine(&other_store, "worker-b");
        let cancel = CancellationToken::new();
        for _ in 0..3 {
            let (a, b) = tokio::join!(
                env.engine.run_once(
                    INTEGRATION,
                    atsbridge_model::integration::SyncKind::Full,
                    &cancel
                ),
                other.run_once(
                    INTEGRATION,
                    atsbridge_model::integration::SyncKind::Full,
                    &cancel
                )
            );
            let ran = [a.unwrap(), b.unwrap()]
                .into_iter()
                .filter(|o| matches!(o, Outcome::Ran(_)))
                .count();
            assert!(ran <= 1, "both engines ran at once");
        }
        let runs = env.store.runs(INTEGRATION, 10).await.unwrap();
        for pair in runs.windows(2) {
            let (newer, older) = (&pair[0], &pair[1]);
            assert!(
                older.ended_at.unwrap() <= newer.started_at,
                "runs overlapped"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn an_expired_lease_is_taken_over() {
    each_backend(1, 1, |env| async move {
        let now = atsbridge_model::Timestamp::now();
        let past = atsbridge_model::Timestamp::from_unix_millis(now.unix_millis() - 1000).unwrap();
        assert!(env
            .store
            .try_lease(INTEGRATION, "crashed-worker", past, past)
            .await
            .unwrap());
        assert_eq!(
            env.sync().await.state,
            RunState::Succeeded,
            "the dead worker's lease had expired"
        );
        let later =
            atsbridge_model::Timestamp::from_unix_millis(now.unix_millis() + 600_000).unwrap();
        assert!(env
            .store
            .try_lease(INTEGRATION, "live-worker", now, later)
            .await
            .unwrap());
        let outcome = env
            .engine
            .run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &CancellationToken::new(),
            )
            .await
            .unwrap();
        assert_eq!(outcome, Outcome::Busy);
    })
    .await;
}

#[tokio::test]
async fn sync_only_created_applications_keeps_just_those() {
    each_backend(3, 4, |env| async move {
        let mut integration = env.store.integration(INTEGRATION).await.unwrap().unwrap();
        integration.settings.sync_only_created_applications = true;
        env.store
            .update_settings(INTEGRATION, &integration.settings)
            .await
            .unwrap();
        let run = env.sync().await;
        assert_eq!(run.counts.inserted["ats_jobs"], 3, "jobs sync as always");
        assert!(run.counts.inserted.contains_key("ats_application_stages"));
        assert_eq!(env.live(ModelKind::Application).await, 0);
        let remote = env
            .all(ModelKind::Job)
            .await
            .values()
            .next()
            .unwrap()
            .remote_id
            .clone();
        let applicants = env
            .http
            .get(format!(
                "{}/acme/api/recruitment/positions/{remote}/applicants",
                env.sim.url()
            ))
            .header("X-Auth-Token", KEY)
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap();
        let created = applicants["data"][0]["id"].to_string();
        env.store
            .mark_created(INTEGRATION, &created, atsbridge_model::Timestamp::now())
            .await
            .unwrap();
        env.sync().await;
        let apps = env.all(ModelKind::Application).await;
        assert_eq!(apps.len(), 1);
        assert_eq!(
            apps.values().next().unwrap().id,
            record_id(INTEGRATION, ModelKind::Application, &created)
        );
        assert_eq!(env.live(ModelKind::Candidate).await, 1);
        env.sim
            .control(Method::DELETE, &format!("applicants/{created}"), json!({}))
            .await;
        env.sync().await;
        assert_eq!(
            env.live(ModelKind::Application).await,
            0,
            "a created application deleted upstream is marked deleted"
        );
    })
    .await;
}

#[tokio::test]
async fn the_scheduler_runs_due_and_requested_syncs_and_delta_runs_as_full() {
    each_backend(2, 1, |env| async move {
        let scheduler = Scheduler::new(env.engine.clone(), Duration::from_secs(3600));
        let cancel = CancellationToken::new();
        let first = scheduler.run_due(&cancel).await.unwrap();
        assert_eq!(first.len(), 1, "a never-synced integration is due");
        assert!(
            scheduler.run_due(&cancel).await.unwrap().is_empty(),
            "nothing is due an hour early"
        );
        assert!(env
            .store
            .request_sync(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Delta,
                atsbridge_model::Timestamp::now()
            )
            .await
            .unwrap());
        assert!(
            !env.store
                .request_sync(
                    INTEGRATION,
                    atsbridge_model::integration::SyncKind::Full,
                    atsbridge_model::Timestamp::now()
                )
                .await
                .unwrap(),
            "one queued run at most"
        );
        let forced = scheduler.run_due(&cancel).await.unwrap();
        let Outcome::Ran(run) = &forced[0].1 else {
            panic!("{forced:?}")
        };
        assert_eq!(
            (run.kind.as_str(), run.requested_kind.as_str()),
            ("FULL", "DELTA")
        );
        assert!(
            scheduler.run_due(&cancel).await.unwrap().is_empty(),
            "the request was served"
        );
        env.store
            .set_integration_status(INTEGRATION, IntegrationStatus::Inactive)
            .await
            .unwrap();
        env.store
            .request_sync(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                atsbridge_model::Timestamp::now(),
            )
            .await
            .unwrap();
        assert!(
            scheduler.run_due(&cancel).await.unwrap().is_empty(),
            "disabled integrations do not sync"
        );
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_engine_starts_no_run_and_sweeps_nothing() {
    each_backend(3, 2, |env| async move {
        env.sync().await;
        let victim = env
            .all(ModelKind::Job)
            .await
            .values()
            .next()
            .unwrap()
            .remote_id
            .clone();
        env.sim
            .control(Method::DELETE, &format!("positions/{victim}"), json!({}))
            .await;
        let cancel = CancellationToken::new();
        cancel.cancel();
        let outcome = env
            .engine
            .run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &cancel,
            )
            .await
            .unwrap();
        assert!(matches!(outcome, Outcome::Skipped(_)), "{outcome:?}");
        assert_eq!(env.store.runs(INTEGRATION, 10).await.unwrap().len(), 1);
        assert_eq!(env.live(ModelKind::Job).await, 3);
    })
    .await;
}
