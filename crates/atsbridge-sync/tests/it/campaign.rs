//! The reliability campaign, in the repository: a seeded random walk through what happens to
//! a sync engine in production (upstream changes, changes while a run pages, faults, API
//! writes during runs, runs abandoned at a random point, two engines on one store, scheduler
//! ticks), checking after every step against the simulator's own data:
//!
//! - no record that is live upstream is marked deleted;
//! - at most one run per integration at a time (no RUNNING twice, no overlapping runs);
//! - every committed change is announced (each ended run with changes has its event, each
//!   API write its `data-changed` or a run's event naming it);
//! - no run stays RUNNING once its worker is gone and a scheduler has looked;
//! - nothing is stale after a successful run: a quiet sync then leaves the store holding
//!   exactly what a fresh sync into an empty store holds.
//!
//! Reproducible from its seed (the steps and every choice in them; where the order of
//! concurrent work matters, simulator hooks fix it). `ATSBRIDGE_CAMPAIGN_SEED=N` runs one
//! seed, `ATSBRIDGE_CAMPAIGN_SEEDS` (default 2) and `ATSBRIDGE_CAMPAIGN_STEPS` (default 10)
//! make it longer: `ATSBRIDGE_CAMPAIGN_SEEDS=20 ATSBRIDGE_CAMPAIGN_STEPS=40 cargo test -p
//! atsbridge-sync --test it campaign`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use atsbridge_model::{ModelKind, Timestamp};
use atsbridge_store::{Credentials, IntegrationSettings, NewIntegration, RunState, Store};
use atsbridge_sync::{Engine, Outcome, Scheduler};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use reqwest::Method;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::helpers::{each_backend, Env, INTEGRATION};
use crate::reliability::{connector, scripted_engine};
use crate::scripted::api_create;

const TTL: Duration = Duration::from_millis(600);

/// Rows a page for the campaign's connectors: small, so listings have several pages.
const PER_PAGE: u32 = 3;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Debug, Default)]
struct Upstream {
    /// Position id → (status, applicant ids in listing order).
    positions: BTreeMap<u64, (String, Vec<u64>)>,
    /// Position ids in listing order.
    order: Vec<u64>,
}

impl Upstream {
    fn applicants(&self) -> BTreeSet<u64> {
        self.positions
            .values()
            .flat_map(|(_, a)| a.iter().copied())
            .collect()
    }

    fn open(&self) -> Vec<u64> {
        self.positions
            .iter()
            .filter(|(_, (s, _))| s == "published" || s == "internal")
            .map(|(id, _)| *id)
            .collect()
    }
}

/// What the simulator holds now (read with hooks and faults cleared).
async fn upstream(env: &Env) -> Upstream {
    let mut u = Upstream::default();
    for p in env.sim.upstream_rows("/recruitment/positions").await {
        let id = p["id"].as_u64().unwrap();
        u.order.push(id);
        let applicants = env
            .sim
            .upstream_ids(&format!("/recruitment/positions/{id}/applicants"))
            .await;
        u.positions.insert(
            id,
            (p["status"].as_str().unwrap_or("").to_owned(), applicants),
        );
    }
    u
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, from: &[T]) -> Option<T> {
    (!from.is_empty()).then(|| from[rng.random_range(0..from.len())])
}

/// A random change a recruiter could make, as a control route or a hook action.
fn random_change(rng: &mut ChaCha8Rng, u: &Upstream, n: u64) -> Option<Value> {
    let positions: Vec<u64> = u.positions.keys().copied().collect();
    let applicants: Vec<u64> = u.applicants().into_iter().collect();
    Some(match rng.random_range(0..6) {
        0 => json!({"op": "delete_applicant", "id": pick(rng, &applicants)?}),
        1 if positions.len() > 2 => json!({"op": "delete_position", "id": pick(rng, &positions)?}),
        2 => {
            json!({"op": "create_position", "fields": {"title": format!("Campaign {n}"), "status": "published"}})
        }
        3 => {
            json!({"op": "update_position", "id": pick(rng, &positions)?, "fields": {"title": format!("Renamed {n}")}})
        }
        _ => json!({"op": "create_applicant", "position_id": pick(rng, &u.open())?,
                    "fields": {"first_name": "Up", "last_name": format!("Stream {n}"), "email": format!("up{n}@example.com")}}),
    })
}

/// Applies a change now, through the control API (or R4 for a new applicant).
async fn apply_now(env: &Env, change: &Value) {
    let id = &change["id"];
    match change["op"].as_str().unwrap() {
        "delete_applicant" => {
            env.sim
                .control(Method::DELETE, &format!("applicants/{id}"), json!({}))
                .await;
        }
        "delete_position" => {
            env.sim
                .control(Method::DELETE, &format!("positions/{id}"), json!({}))
                .await;
        }
        "create_position" => {
            env.sim
                .control(Method::POST, "positions", change["fields"].clone())
                .await;
        }
        "update_position" => {
            env.sim
                .control(
                    Method::PATCH,
                    &format!("positions/{id}"),
                    change["fields"].clone(),
                )
                .await;
        }
        _ => {
            // Through a hook that fires on the next request it sees: R4's own path.
            env.sim.control(
                Method::POST,
                "hooks",
                json!({"endpoint": "GET /recruitment/positions", "nth": 1, "actions": [change]}),
            )
            .await;
            env.sim.upstream_rows("/recruitment/positions").await;
        }
    }
}

struct Campaign<'a> {
    env: &'a Env,
    a: Engine,
    b: Engine,
    rng: ChaCha8Rng,
    api_writes: Vec<(String, Timestamp)>,
    n: u64,
    seed: u64,
}

impl Campaign<'_> {
    async fn step(&mut self, step: usize) {
        self.n += 1;
        let n = self.n;
        // Shifting listings (1) weigh three times: they are the subtle case.
        let kind = [0, 1, 1, 1, 2, 3, 4, 5, 6][self.rng.random_range(0..9)];
        let u = upstream(self.env).await;
        let never = CancellationToken::new();
        eprintln!("campaign seed {} step {step}: kind {kind}", self.seed);
        match kind {
            0 => {
                for i in 0..self.rng.random_range(1..4u64) {
                    let u = upstream(self.env).await;
                    if let Some(change) = random_change(&mut self.rng, &u, n * 10 + i) {
                        apply_now(self.env, &change).await;
                    }
                }
            }
            1 => {
                // A delete and a create at an exact request of the next run: the listing's
                // total holds still while its rows shift across a page boundary.
                // Mostly a row of the first page (read before the hook fires at request 2 or
                // later), so that later rows move up past the boundary.
                let early = |rng: &mut ChaCha8Rng, rows: &[u64]| {
                    let k = if rng.random_bool(0.7) {
                        rows.len().min(PER_PAGE as usize)
                    } else {
                        rows.len()
                    };
                    pick(rng, &rows[..k])
                };
                let (endpoint, mut actions) = if self.rng.random_bool(0.5) && u.order.len() > 2 {
                    (
                        "GET /recruitment/positions",
                        vec![
                            json!({"op": "delete_position", "id": early(&mut self.rng, &u.order).unwrap()}),
                            json!({"op": "create_position", "fields": {"title": format!("Shift {n}"), "status": "published"}}),
                        ],
                    )
                } else {
                    let Some(position) = pick(&mut self.rng, &u.open()) else {
                        return;
                    };
                    let mut actions = Vec::new();
                    if let Some(gone) = early(&mut self.rng, &u.positions[&position].1) {
                        actions.push(json!({"op": "delete_applicant", "id": gone}));
                    }
                    actions.push(json!({"op": "create_applicant", "position_id": position,
                        "fields": {"first_name": "Shift", "last_name": format!("{n}"), "email": format!("shift{n}@example.com")}}));
                    ("GET /recruitment/positions/{id}/applicants", actions)
                };
                if self.rng.random_bool(0.3) {
                    actions.extend(random_change(&mut self.rng, &u, n));
                }
                let nth = self.rng.random_range(1..5);
                self.env
                    .sim
                    .control(
                        Method::POST,
                        "hooks",
                        json!({"endpoint": endpoint, "nth": nth, "actions": actions}),
                    )
                    .await;
                let engine = if self.rng.random_bool(0.5) {
                    &self.a
                } else {
                    &self.b
                };
                engine
                    .run_once(
                        INTEGRATION,
                        atsbridge_model::integration::SyncKind::Full,
                        &never,
                    )
                    .await
                    .unwrap();
            }
            2 => {
                let fault = match self.rng.random_range(0..4) {
                    0 => json!({"kind": "server_error", "count": self.rng.random_range(1..8)}),
                    1 => {
                        json!({"kind": "rate_limit", "count": self.rng.random_range(1..4), "retry_after": 0})
                    }
                    2 => json!({"kind": "drop", "count": self.rng.random_range(1..3)}),
                    _ => json!({"kind": "malformed", "count": 1}),
                };
                self.env.sim.control(Method::POST, "faults", fault).await;
                self.a
                    .run_once(
                        INTEGRATION,
                        atsbridge_model::integration::SyncKind::Full,
                        &never,
                    )
                    .await
                    .unwrap();
            }
            3 => {
                // API writes while a run reads.
                let Some(job) = pick(&mut self.rng, &u.open()) else {
                    return;
                };
                let writes = self.rng.random_range(1..4);
                let delay = self.rng.random_range(0..40);
                let store = self.env.store.clone();
                let c = connector(&store).await;
                let write = async {
                    let mut done = Vec::new();
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    for i in 0..writes {
                        let at = Timestamp::now();
                        let email = format!("api{n}-{i}@example.com");
                        let id =
                            api_create(&store, &c, INTEGRATION, &job.to_string(), &email).await;
                        done.push((id, at));
                    }
                    done
                };
                let (done, _) = tokio::join!(
                    write,
                    self.b.run_once(
                        INTEGRATION,
                        atsbridge_model::integration::SyncKind::Full,
                        &never
                    )
                );
                self.api_writes.extend(done);
            }
            4 => {
                // A run abandoned at a random point; its lease lapses.
                let worker = format!("crasher-{n}");
                let (engine, knobs) = scripted_engine(&self.env.store, &worker, 2, TTL);
                knobs.lock().unwrap().hang_before_batch = Some(self.rng.random_range(0..5));
                let wait = self.rng.random_range(10..200);
                let task = tokio::spawn(async move {
                    let _ = engine
                        .run_once(
                            INTEGRATION,
                            atsbridge_model::integration::SyncKind::Full,
                            &CancellationToken::new(),
                        )
                        .await;
                });
                tokio::time::sleep(Duration::from_millis(wait)).await;
                task.abort();
                let _ = task.await;
                tokio::time::sleep(TTL + Duration::from_millis(200)).await;
            }
            5 => {
                let (ra, rb) = tokio::join!(
                    self.a.run_once(
                        INTEGRATION,
                        atsbridge_model::integration::SyncKind::Full,
                        &never
                    ),
                    self.b.run_once(
                        INTEGRATION,
                        atsbridge_model::integration::SyncKind::Full,
                        &never
                    )
                );
                ra.unwrap();
                rb.unwrap();
            }
            _ => {
                Scheduler::new(self.b.clone(), Duration::from_secs(3600))
                    .run_due(&never)
                    .await
                    .unwrap();
            }
        }
        self.env
            .sim
            .control(Method::DELETE, "hooks", json!({}))
            .await;
        self.env
            .sim
            .control(Method::DELETE, "faults", json!({}))
            .await;
        self.check_safety(step).await;
        self.check_quiet_sync(step).await;
    }

    /// What must hold at any moment.
    async fn check_safety(&self, step: usize) {
        let at = format!("seed {} step {step}", self.seed);
        let u = upstream(self.env).await;
        let applicants = u.applicants();
        for model in [ModelKind::Job, ModelKind::Application, ModelKind::Candidate] {
            for r in self.env.all(model).await.values() {
                if r.remote_deleted_at.is_none() {
                    continue;
                }
                let id: u64 = r.remote_id.parse().unwrap();
                let live = match model {
                    ModelKind::Job => u.positions.contains_key(&id),
                    _ => applicants.contains(&id),
                };
                assert!(
                    !live,
                    "{at}: {model:?} {id} is live upstream but marked deleted"
                );
            }
        }
        let runs = self.env.store.runs(INTEGRATION, 10_000).await.unwrap();
        let running = runs.iter().filter(|r| r.state == RunState::Running).count();
        assert!(running <= 1, "{at}: {running} runs RUNNING at once");
        let mut ended: Vec<_> = runs.iter().filter(|r| r.ended_at.is_some()).collect();
        ended.sort_by_key(|r| r.started_at);
        for pair in ended.windows(2) {
            assert!(
                pair[1].started_at >= pair[0].ended_at.unwrap(),
                "{at}: runs {} and {} overlap",
                pair[0].id,
                pair[1].id
            );
        }
        let events = self.env.store.events(0, 100_000).await.unwrap();
        let by_id: BTreeMap<&str, &atsbridge_store::events::Event> =
            events.iter().map(|e| (e.id.as_str(), e)).collect();
        for run in ended {
            let changed = run.counts.changed_models();
            let event = by_id
                .get(format!("evt_{}", run.id.trim_start_matches("sync_")).as_str())
                .unwrap_or_else(|| panic!("{at}: run {} ({:?}) has no event", run.id, run.state));
            let named: BTreeSet<String> = event.payload["changed_models"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_owned())
                .collect();
            assert!(
                named.is_superset(&changed),
                "{at}: run {} changed {changed:?}, announced {named:?}",
                run.id
            );
        }
        for (id, at_write) in &self.api_writes {
            let own = by_id.contains_key(format!("evt_api_{id}").as_str());
            let by_run = events.iter().any(|e| {
                e.kind == "sync-finished"
                    && e.created_at >= *at_write
                    && e.payload["changed_models"]
                        .as_array()
                        .is_some_and(|m| m.iter().any(|m| m == "ats_applications"))
            });
            assert!(own || by_run, "{at}: API write {id} was never announced");
        }
    }

    /// After a quiet successful run the store is exactly what a fresh sync would make.
    async fn check_quiet_sync(&self, step: usize) {
        let at = format!("seed {} step {step}", self.seed);
        let never = CancellationToken::new();
        // A scheduler tick notices any run whose worker is gone.
        self.b.reap_abandoned(None).await.unwrap();
        let run = match self
            .a
            .run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &never,
            )
            .await
            .unwrap()
        {
            Outcome::Ran(run) => *run,
            other => panic!("{at}: the quiet run did not run: {other:?}"),
        };
        assert_eq!(run.state, RunState::Succeeded, "{at}: {:?}", run.error);
        let runs = self.env.store.runs(INTEGRATION, 10_000).await.unwrap();
        assert!(
            runs.iter().all(|r| r.state != RunState::Running),
            "{at}: a run is stuck RUNNING"
        );
        let (fresh, _dir) = atsbridge_store::testing::sqlite().await;
        copy_integration(&self.env.store, &fresh).await;
        let oracle = crate::helpers::engine(&fresh, "oracle");
        let Outcome::Ran(o) = oracle
            .run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &never,
            )
            .await
            .unwrap()
        else {
            panic!("{at}: the oracle did not run")
        };
        assert_eq!(o.state, RunState::Succeeded, "{at}: oracle {:?}", o.error);
        for model in [
            ModelKind::Job,
            ModelKind::Candidate,
            ModelKind::Application,
            ModelKind::ApplicationStage,
        ] {
            let ours = live_payloads(&self.env.store, model).await;
            let truth = live_payloads(&fresh, model).await;
            if model == ModelKind::ApplicationStage {
                // A stage nobody is in any more still exists in Sage HR: we keep it, a fresh
                // sync cannot know it.
                for (id, payload) in &truth {
                    assert_eq!(ours.get(id), Some(payload), "{at}: stage {id}");
                }
            } else {
                let missing: Vec<_> = truth.keys().filter(|k| !ours.contains_key(*k)).collect();
                let extra: Vec<_> = ours.keys().filter(|k| !truth.contains_key(*k)).collect();
                assert!(
                    missing.is_empty() && extra.is_empty(),
                    "{at}: {model:?} missing {missing:?}, stale {extra:?}"
                );
                for (id, payload) in &truth {
                    assert_eq!(&ours[id], payload, "{at}: {model:?} {id} is stale");
                }
            }
        }
        fresh.close().await;
    }
}

async fn live_payloads(store: &Store, model: ModelKind) -> BTreeMap<String, Value> {
    let filter = atsbridge_store::Filter::default();
    let mut out = BTreeMap::new();
    let mut after = None;
    loop {
        let (page, more) = store
            .list(INTEGRATION, model, &filter, after, 250)
            .await
            .unwrap();
        after = page.last().map(|r| r.seq);
        for r in page {
            out.insert(r.id, r.payload);
        }
        if !more {
            return out;
        }
    }
}

async fn copy_integration(from: &Store, to: &Store) {
    let row = from.integration(INTEGRATION).await.unwrap().unwrap();
    let credentials: Credentials = from.credentials(INTEGRATION).await.unwrap();
    to.create_integration(
        NewIntegration {
            id: INTEGRATION.into(),
            tool: "sagehr".into(),
            category: atsbridge_model::integration::Category::Ats,
            environment_id: "env".into(),
            end_user: row.end_user.clone(),
            settings: IntegrationSettings::default(),
            credentials,
        },
        Timestamp::now(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn campaign_of_random_interleavings_keeps_every_invariant() {
    let seeds: Vec<u64> = match std::env::var("ATSBRIDGE_CAMPAIGN_SEED") {
        Ok(s) => vec![s.parse().expect("ATSBRIDGE_CAMPAIGN_SEED is a number")],
        Err(_) => (1..=env_number("ATSBRIDGE_CAMPAIGN_SEEDS", 2)).collect(),
    };
    let steps = env_number("ATSBRIDGE_CAMPAIGN_STEPS", 10) as usize;
    each_backend(7, 5, |env| {
        let seeds = seeds.clone();
        async move {
            let env = &env;
            let other = Store::open(&env.url, atsbridge_store::testing::keys())
                .await
                .unwrap();
            for seed in seeds {
                let (a, _) = scripted_engine(&env.store, &format!("node-a-{seed}"), PER_PAGE, TTL);
                let (b, _) = scripted_engine(&other, &format!("node-b-{seed}"), PER_PAGE, TTL);
                let mut campaign = Campaign {
                    env,
                    a,
                    b,
                    rng: ChaCha8Rng::seed_from_u64(seed),
                    api_writes: Vec::new(),
                    n: seed * 1000,
                    seed,
                };
                for step in 0..steps {
                    campaign.step(step).await;
                }
            }
            other.close().await;
        }
    })
    .await;
}
