//! One regression test per finding of the reliability campaign (issue 14): each interleaves
//! on purpose (simulator hooks at an exact request, a run hung at an exact batch and its task
//! aborted, a lease left to lapse) instead of hoping for the timing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atsbridge_model::{ModelKind, Timestamp};
use atsbridge_sagehr::SageHr;
use atsbridge_store::{RunState, Store};
use atsbridge_sync::{Engine, EngineConfig, Outcome, Scheduler};
use reqwest::Method;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::{each_backend, Ahead, Env, INTEGRATION};
use crate::scripted::{api_create, sagehr_config, scripted_factory, Knobs};

pub fn scripted_engine(
    store: &Store,
    worker: &str,
    per_page: u32,
    ttl: Duration,
) -> (Engine, Knobs) {
    let knobs = Knobs::default();
    let engine = Engine::new(
        store.clone(),
        scripted_factory(per_page, knobs.clone()),
        EngineConfig {
            worker_id: worker.into(),
            lease_ttl: ttl,
        },
    );
    (engine, knobs)
}

pub async fn ran(engine: &Engine) -> atsbridge_store::RunRow {
    match engine
        .run_once(
            INTEGRATION,
            atsbridge_model::integration::SyncKind::Full,
            &CancellationToken::new(),
        )
        .await
        .unwrap()
    {
        Outcome::Ran(run) => *run,
        other => panic!("expected a run, got {other:?}"),
    }
}

/// Remote ids of the stored records of a model, in Sage HR's (numeric) order.
async fn remote_ids(env: &Env, model: ModelKind) -> Vec<u64> {
    let mut ids: Vec<u64> = env
        .all(model)
        .await
        .values()
        .map(|r| r.remote_id.parse().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

/// The remote id of a stored job that takes applications.
pub async fn open_job(env: &Env) -> String {
    env.all(ModelKind::Job)
        .await
        .values()
        .find(|j| j.remote_deleted_at.is_none() && j.payload["status"] == "OPEN")
        .expect("an open job")
        .remote_id
        .clone()
}

async fn live_remote(env: &Env, model: ModelKind, remote_id: u64) -> bool {
    env.all(model)
        .await
        .values()
        .find(|r| r.remote_id == remote_id.to_string())
        .unwrap_or_else(|| panic!("no stored {model:?} {remote_id}"))
        .remote_deleted_at
        .is_none()
}

pub async fn connector(store: &Store) -> SageHr {
    let credentials = store.credentials(INTEGRATION).await.unwrap();
    SageHr::new(INTEGRATION, &sagehr_config(&credentials, 100)).unwrap()
}

#[tokio::test]
async fn an_application_created_through_the_api_during_a_sync_stays_live() {
    each_backend(3, 2, |env| async move {
        let (engine, knobs) = scripted_engine(&env.store, "worker-a", 100, Duration::from_secs(30));
        ran(&engine).await;
        let job = open_job(&env).await;
        let created = Arc::new(Mutex::new(None));
        let (store, slot) = (env.store.clone(), created.clone());
        // After the run has listed everything and before it sweeps: the API write lands.
        knobs.lock().unwrap().after_read = Some(Arc::new(move || {
            let (store, slot, job) = (store.clone(), slot.clone(), job.clone());
            Box::pin(async move {
                let c = connector(&store).await;
                let id = api_create(&store, &c, INTEGRATION, &job, "mid-run@example.com").await;
                *slot.lock().unwrap() = Some(id);
            })
        }));
        let run = ran(&engine).await;
        assert_eq!(run.state, RunState::Succeeded, "{:?}", run.error);
        let id: u64 = created.lock().unwrap().clone().unwrap().parse().unwrap();
        assert!(live_remote(&env, ModelKind::Application, id).await);
        assert!(live_remote(&env, ModelKind::Candidate, id).await);
        assert!(run.counts.deleted.is_empty(), "{:?}", run.counts.deleted);
    })
    .await;
}

#[tokio::test]
async fn a_shift_in_the_position_listing_deletes_nothing_live() {
    each_backend(7, 1, |env| async move {
        let (engine, _) = scripted_engine(&env.store, "worker-a", 3, Duration::from_secs(30));
        ran(&engine).await;
        // In the order Sage HR lists positions (R1: by priority, then id).
        let jobs = env.sim.upstream_ids("/recruitment/positions").await;
        // While the run pages (just before page 2 is served): the first position goes and a
        // new one comes, so the total holds still and the 4th position moves to page 1.
        env.sim
            .control(
                Method::POST,
                "hooks",
                json!({"endpoint": "GET /recruitment/positions", "nth": 2, "actions": [
                    {"op": "delete_position", "id": jobs[0]},
                    {"op": "create_position", "fields": {"title": "Fresh", "status": "published"}},
                ]}),
            )
            .await;
        let run = ran(&engine).await;
        assert_eq!(run.state, RunState::Succeeded, "{:?}", run.error);
        // The 4th position was on no page this run read; it is live, and so is all it has.
        for &moved in &jobs[1..] {
            assert!(
                live_remote(&env, ModelKind::Job, moved).await,
                "job {moved} is live"
            );
        }
        assert!(run.counts.deleted.is_empty(), "{:?}", run.counts.deleted);
        assert_eq!(env.live(ModelKind::Application).await, 7);
        // The first position was read before it went; the next run sees it gone.
        let run = ran(&engine).await;
        assert!(
            !live_remote(&env, ModelKind::Job, jobs[0]).await,
            "really deleted"
        );
        assert_eq!(run.counts.deleted.get("ats_jobs"), Some(&1));
        assert_eq!(env.live(ModelKind::Job).await, 7);
    })
    .await;
}

#[tokio::test]
async fn a_shift_in_an_applicant_listing_deletes_nothing_live() {
    each_backend(1, 7, |env| async move {
        let (engine, _) = scripted_engine(&env.store, "worker-a", 3, Duration::from_secs(30));
        ran(&engine).await;
        let job = remote_ids(&env, ModelKind::Job).await[0];
        // Open, so the hook's create is accepted (a draft refuses applicants).
        env.sim.control(
            Method::PATCH,
            &format!("positions/{job}"),
            json!({"status": "published"}),
        )
        .await;
        let apps = env
            .sim.upstream_ids(&format!("/recruitment/positions/{job}/applicants"))
            .await;
        env.sim.control(
            Method::POST,
            "hooks",
            json!({"endpoint": "GET /recruitment/positions/{id}/applicants", "nth": 2, "actions": [
                {"op": "delete_applicant", "id": apps[0]},
                {"op": "create_applicant", "position_id": job, "fields": {"first_name": "New", "email": "new@example.com"}},
            ]}),
        )
        .await;
        let run = ran(&engine).await;
        assert_eq!(run.state, RunState::Succeeded, "{:?}", run.error);
        let hooks = env.sim.control(Method::GET, "hooks", json!({})).await;
        assert_eq!(hooks["data"]["fired"], 1, "{hooks}");
        assert!(!hooks.to_string().contains("error"), "every action applied: {hooks}");
        // The 4th applicant moved onto page 1 after it was read; it stays live.
        for &app in &apps[1..] {
            assert!(live_remote(&env, ModelKind::Application, app).await, "application {app} is live");
            assert!(live_remote(&env, ModelKind::Candidate, app).await);
        }
        assert!(run.counts.deleted.is_empty(), "{:?}", run.counts.deleted);
        // The first was read before it went; the next run sees it gone.
        let run = ran(&engine).await;
        assert!(!live_remote(&env, ModelKind::Application, apps[0]).await);
        assert_eq!(run.counts.deleted.get("ats_applications"), Some(&1));
    })
    .await;
}

#[tokio::test]
async fn a_position_deleted_while_its_applicants_are_read_is_a_deletion_not_a_failure() {
    each_backend(4, 2, |env| async move {
        env.sync().await;
        let jobs = remote_ids(&env, ModelKind::Job).await;
        let last = *jobs.last().unwrap();
        env.sim.control(
            Method::POST,
            "hooks",
            json!({"endpoint": "GET /recruitment/positions/{id}/applicants", "nth": 1, "actions": [
                {"op": "delete_position", "id": last},
            ]}),
        )
        .await;
        let run = env.sync().await;
        assert_eq!(run.state, RunState::Succeeded, "{:?}", run.error);
        assert!(!live_remote(&env, ModelKind::Job, last).await);
        assert_eq!(run.counts.deleted.get("ats_applications"), Some(&2));
        assert_eq!(env.live(ModelKind::Job).await, 3);
        assert_eq!(env.live(ModelKind::Application).await, 6);
    })
    .await;
}

/// Starts a run that hangs before batch `hang_before` and aborts its task once a batch is
/// committed: the process "crashes" with its lease held and its row RUNNING.
pub async fn crash_a_run(store: &Store, worker: &str, ttl: Duration, hang_before: usize) -> String {
    let (engine, knobs) = scripted_engine(store, worker, 2, ttl);
    knobs.lock().unwrap().hang_before_batch = Some(hang_before);
    let task = tokio::spawn(async move {
        let _ = engine
            .run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &CancellationToken::new(),
            )
            .await;
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let run = loop {
        let runs = store.runs(INTEGRATION, 1).await.unwrap();
        if let Some(run) = runs.into_iter().next().filter(|r| {
            r.state == RunState::Running && r.worker == worker && !r.counts.inserted.is_empty()
        }) {
            break run;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no batch was committed: {:?}",
            store.runs(INTEGRATION, 1).await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    task.abort();
    let _ = task.await;
    run.id
}

#[tokio::test]
async fn a_crashed_first_sync_is_announced_and_replaced_once_its_lease_lapses() {
    each_backend(6, 3, |env| async move {
        // Keeps the simulator alive: the body would otherwise capture only the store.
        let env = &env;
        // Long enough that the dead run's lease is surely valid at the first look; the
        // survivor's clock is moved past it instead of waiting for it.
        let ttl = Duration::from_secs(60);
        let dead = crash_a_run(&env.store, "worker-dead", ttl, 2).await;
        let ahead = Ahead::default();
        let survivor = Engine::new(
            env.store.clone(),
            crate::helpers::factory(),
            EngineConfig {
                worker_id: "worker-b".into(),
                lease_ttl: ttl,
            },
        )
        .with_clock(ahead.clock());
        let scheduler = Scheduler::new(survivor.clone(), Duration::from_secs(3 * 3600));
        // While the lease is valid the dead run's owner might be alive: nobody takes over.
        let early = scheduler.run_due(&CancellationToken::new()).await.unwrap();
        assert!(
            early.iter().all(|(_, o)| !matches!(o, Outcome::Ran(_))),
            "{early:?}"
        );
        assert_eq!(
            env.store.run(&dead).await.unwrap().unwrap().state,
            RunState::Running
        );
        ahead.advance(ttl + Duration::from_secs(1));
        // Then the next tick records it, announces what it committed and replaces it, though
        // the scheduler's interval (3 hours) has not passed since it started.
        let done = scheduler.run_due(&CancellationToken::new()).await.unwrap();
        let [(_, Outcome::Ran(replacement))] = done.as_slice() else {
            panic!("expected one replacement run, got {done:?}")
        };
        assert_eq!(replacement.state, RunState::Succeeded);
        let dead_run = env.store.run(&dead).await.unwrap().unwrap();
        assert_eq!(dead_run.state, RunState::Failed);
        assert!(dead_run.error.as_deref().unwrap().contains("abandoned"));
        assert!(dead_run.ended_at.is_some());
        let events = env.store.events(0, 1000).await.unwrap();
        let announced = events
            .iter()
            .find(|e| e.id == format!("evt_{}", dead.trim_start_matches("sync_")))
            .expect("the dead run's sync-finished event");
        assert_eq!(announced.payload["sync_state"], "FAILED");
        assert!(
            announced.payload["changed_models"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m == "ats_jobs")),
            "what the dead run committed is announced: {}",
            announced.payload
        );
        let integration = env.store.integration(INTEGRATION).await.unwrap().unwrap();
        assert!(integration.first_synced_at.is_some(), "readable again");
        assert!(env
            .store
            .runs(INTEGRATION, 10)
            .await
            .unwrap()
            .iter()
            .all(|r| r.state != RunState::Running));
    })
    .await;
}

#[tokio::test]
async fn stopping_the_engine_cancels_its_background_run_records_it_and_releases_the_lease() {
    each_backend(4, 2, |env| async move {
        env.sim
            .control(
                Method::POST,
                "faults",
                json!({"kind": "latency", "ratio": 1.0, "latency_ms": 300}),
            )
            .await;
        let handle = env.engine.spawn_run(
            INTEGRATION.into(),
            atsbridge_model::integration::SyncKind::Full,
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let running = loop {
            if let Some(run) = env.store.runs(INTEGRATION, 1).await.unwrap().pop() {
                break run;
            }
            assert!(tokio::time::Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // While it runs (every request takes 300 ms), its log already says who started it.
        let log = env.store.run_log(&running.id).await.unwrap();
        assert_eq!(running.state, RunState::Running);
        assert_eq!(log.len(), 1, "{log:?}");
        assert!(log[0].message.starts_with("FULL sync started"), "{log:?}");
        tokio::time::timeout(Duration::from_secs(10), env.engine.shutdown())
            .await
            .expect("shutdown waits for the run, briefly");
        let Ok(Ok(Outcome::Ran(run))) = handle.await else {
            panic!("the background run ended")
        };
        assert_eq!(run.state, RunState::Cancelled);
        assert_eq!(
            env.store.run(&run.id).await.unwrap().unwrap().state,
            RunState::Cancelled
        );
        // The later batches follow the first line, each once.
        let log = env.store.run_log(&run.id).await.unwrap();
        let messages: Vec<&str> = log.iter().map(|l| l.message.as_str()).collect();
        assert!(messages[0].starts_with("FULL sync started"), "{messages:?}");
        assert_eq!(
            messages
                .iter()
                .filter(|m| m.contains("sync started"))
                .count(),
            1
        );
        assert!(
            messages.last().unwrap().starts_with("ended CANCELLED"),
            "{messages:?}"
        );
        let events = env.store.events(0, 1000).await.unwrap();
        assert!(events
            .iter()
            .any(|e| e.payload["sync_id"] == run.id.as_str()));
        let now = Timestamp::now();
        assert!(
            env.store
                .try_lease(INTEGRATION, "another-node", now, now)
                .await
                .unwrap(),
            "the lease was released"
        );
    })
    .await;
}

#[tokio::test]
async fn a_node_with_a_stale_list_does_not_resync_what_another_node_just_synced() {
    each_backend(2, 1, |env| async move {
        let env = &env;
        let other = Store::open(&env.url, atsbridge_store::testing::keys())
            .await
            .unwrap();
        let a = Scheduler::new(
            crate::helpers::engine(&env.store, "node-a"),
            Duration::from_secs(3600),
        );
        let b = Scheduler::new(
            crate::helpers::engine(&other, "node-b"),
            Duration::from_secs(3600),
        );
        // Both read the list while the integration is due, then take turns at the lease.
        let never = CancellationToken::new();
        let (ra, rb) = tokio::join!(a.run_due(&never), b.run_due(&never));
        let ran = ra
            .unwrap()
            .into_iter()
            .chain(rb.unwrap())
            .filter(|(_, o)| matches!(o, Outcome::Ran(run) if run.state == RunState::Succeeded))
            .count();
        assert_eq!(ran, 1, "one run, not one per node");
        // And a node deciding from a list read before that run finds it no longer due.
        let stale =
            Timestamp::from_unix_millis(Timestamp::now().unix_millis() - 3_600_000).unwrap();
        let outcome = crate::helpers::engine(&env.store, "node-c")
            .run_if_due(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                stale,
                &never,
            )
            .await
            .unwrap();
        assert_eq!(outcome, Outcome::Busy);
        assert_eq!(env.store.runs(INTEGRATION, 10).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn concurrent_api_writes_and_a_sync_all_wait_their_turn() {
    each_backend(3, 2, |env| async move {
        env.sync().await;
        let job = open_job(&env).await;
        let c = Arc::new(connector(&env.store).await);
        let mut tasks = Vec::new();
        for i in 0..24 {
            let (store, c, job) = (env.store.clone(), c.clone(), job.clone());
            tasks.push(tokio::spawn(async move {
                api_create(&store, &*c, INTEGRATION, &job, &format!("p{i}@example.com")).await
            }));
        }
        let run = env.sync().await;
        for t in tasks {
            t.await.expect("every write stored, none failed for a lock");
        }
        assert_eq!(run.state, RunState::Succeeded, "{:?}", run.error);
        let events = env.store.events(0, 1000).await.unwrap();
        assert_eq!(
            events.iter().filter(|e| e.kind == "data-changed").count(),
            24,
            "one event per write"
        );
        assert_eq!(env.live(ModelKind::Application).await, 6 + 24);
    })
    .await;
}

#[tokio::test]
async fn failed_runs_record_their_requests_and_their_cause() {
    each_backend(2, 1, |env| async move {
        env.sim.control(
            Method::POST,
            "faults",
            json!({"kind": "server_error", "count": 1000}),
        )
        .await;
        let run = env.sync().await;
        assert_eq!(run.state, RunState::Failed);
        assert!(run.upstream_requests > 1, "{}", run.upstream_requests);
        assert!(run.error.as_deref().unwrap().contains("REMOTE."), "{:?}", run.error);
        env.sim.control(Method::DELETE, "faults", json!({})).await;

        if env.store.backend() == atsbridge_store::Backend::Sqlite {
            env.store
                .test_execute("CREATE TRIGGER refuse BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END", &[])
                .await
                .unwrap();
            let run = env.sync().await;
            assert_eq!(run.state, RunState::Failed);
            let error = run.error.unwrap();
            assert!(error.starts_with("storing failed"), "{error}");
            assert!(!error.contains("REMOTE."), "{error}");
            assert!(run.upstream_requests > 0);
        }
    })
    .await;
}

#[tokio::test]
async fn two_runs_of_one_engine_never_overlap() {
    each_backend(3, 2, |env| async move {
        // Keeps the simulator alive: the body would otherwise capture only the engine.
        let env = &env;
        // A force-sync and a scheduler tick of one process at the same moment.
        let never = CancellationToken::new();
        let (one, two) = tokio::join!(
            env.engine.run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &never
            ),
            env.engine.run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &never
            )
        );
        let outcomes = [one.unwrap(), two.unwrap()];
        let ran: Vec<_> = outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Ran(run) => Some(run),
                _ => None,
            })
            .collect();
        assert_eq!(ran.len(), 1, "{outcomes:?}");
        assert_eq!(ran[0].state, RunState::Succeeded, "{:?}", ran[0].error);
        assert!(outcomes.contains(&Outcome::Busy), "{outcomes:?}");
    })
    .await;
}
