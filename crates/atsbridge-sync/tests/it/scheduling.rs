//! Several integrations on several nodes: each node runs a few at once, the leases keep one
//! run per integration, and every integration gets its turn.

use std::collections::BTreeMap;
use std::time::Duration;

use atsbridge_store::{RunRow, RunState, Store};
use atsbridge_sync::{Outcome, Scheduler};
use reqwest::Method;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::{add_integration, each_backend, engine, INTEGRATION};

const NODES: usize = 3;
const PER_NODE: usize = 4;
const INTEGRATIONS: usize = 20;

/// The greatest number of `runs` in progress at one moment.
fn most_at_once(runs: &[&RunRow]) -> usize {
    let mut edges: Vec<(i64, i32)> = runs
        .iter()
        .flat_map(|r| {
            [
                (r.started_at.unix_millis(), 1),
                (r.ended_at.expect("ended").unix_millis(), -1),
            ]
        })
        .collect();
    // An end and a start in the same millisecond do not overlap.
    edges.sort();
    let (mut now, mut most) = (0, 0);
    for (_, step) in edges {
        now += step;
        most = most.max(now);
    }
    most as usize
}

#[tokio::test]
async fn three_nodes_share_twenty_integrations_without_overlap_or_starvation() {
    each_backend(2, 1, |env| async move {
        let alphabet: Vec<char> = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ".chars().collect();
        let mut ids = vec![INTEGRATION.to_owned()];
        for i in 1..INTEGRATIONS {
            let id = format!(
                "sagehr:SchedTestxxxxxxxxxx{}{}",
                alphabet[i / 10],
                alphabet[i % 10]
            );
            add_integration(&env.store, &id, &env.sim).await;
            ids.push(id);
        }
        // Every upstream request is slow, so runs last long enough to meet each other.
        env.sim
            .control(
                Method::POST,
                "faults",
                json!({"kind": "latency", "ratio": 1.0, "latency_ms": 20}),
            )
            .await;
        let mut nodes = Vec::new();
        for n in 0..NODES {
            let store = Store::open(&env.url, atsbridge_store::testing::keys())
                .await
                .unwrap();
            // Interval zero: every integration is always due, so the nodes keep contending
            // for the same leases, round after round.
            nodes.push(
                Scheduler::new(engine(&store, &format!("node-{n}")), Duration::ZERO)
                    .with_concurrency(PER_NODE),
            );
        }
        let never = CancellationToken::new();
        let rounds = nodes.iter().map(|s| {
            let never = &never;
            async move {
                let mut outcomes = Vec::new();
                for _ in 0..2 {
                    outcomes.extend(s.run_due(never).await.unwrap());
                }
                outcomes
            }
        });
        let outcomes: Vec<(String, Outcome)> = futures_util::future::join_all(rounds)
            .await
            .into_iter()
            .flatten()
            .collect();
        for (id, outcome) in &outcomes {
            if let Outcome::Ran(run) = outcome {
                assert_eq!(run.state, RunState::Succeeded, "{id}: {run:?}");
            }
        }

        let mut all = Vec::new();
        for id in &ids {
            let runs = env.store.runs(id, 1000).await.unwrap();
            assert!(
                runs.iter().any(|r| r.state == RunState::Succeeded),
                "{id} was synced"
            );
            // Never two runs of one integration at once.
            let mut spans: Vec<(i64, i64)> = runs
                .iter()
                .map(|r| {
                    (
                        r.started_at.unix_millis(),
                        r.ended_at.expect("every run ended").unix_millis(),
                    )
                })
                .collect();
            spans.sort();
            for pair in spans.windows(2) {
                assert!(
                    pair[1].0 >= pair[0].1,
                    "{id}: a run started at {} while the one before ran until {}",
                    pair[1].0,
                    pair[0].1
                );
            }
            all.extend(runs);
        }
        let mut by_node: BTreeMap<&str, Vec<&RunRow>> = BTreeMap::new();
        for run in &all {
            by_node.entry(run.worker.as_str()).or_default().push(run);
        }
        assert_eq!(by_node.len(), NODES, "every node took a share: {by_node:?}");
        for (node, runs) in &by_node {
            let most = most_at_once(runs);
            assert!(
                (2..=PER_NODE).contains(&most),
                "{node} ran {most} at once (at most {PER_NODE}, and more than one)"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_background_run_started_under_a_chosen_id_is_recorded_under_it() {
    each_backend(2, 1, |env| async move {
        // The whole `Env`, simulator included, lives as long as the test.
        let env = &env;
        let id = atsbridge_sync::new_run_id();
        let handle = env.engine.spawn_run_as(
            INTEGRATION.into(),
            atsbridge_model::integration::SyncKind::Full,
            id.clone(),
        );
        let Ok(Ok(Outcome::Ran(run))) = handle.await else {
            panic!("the run ran")
        };
        assert_eq!(run.id, id);
        assert_eq!(run.state, RunState::Succeeded, "{run:?}");
        assert_eq!(
            env.store.run(&id).await.unwrap().unwrap().state,
            RunState::Succeeded
        );
        let events = env.store.events(0, 1000).await.unwrap();
        assert!(events.iter().any(|e| e.payload["sync_id"] == id.as_str()));
    })
    .await;
}

#[tokio::test]
async fn settled_waits_for_a_background_run_spawned_just_before() {
    each_backend(2, 1, |env| async move {
        let env = &env;
        let id = atsbridge_sync::new_run_id();
        // Not awaited: what a server handler does with the run it starts.
        let handle = env.engine.spawn_run_as(
            INTEGRATION.into(),
            atsbridge_model::integration::SyncKind::Full,
            id.clone(),
        );
        env.engine.settled(INTEGRATION).await;
        assert!(
            handle.is_finished(),
            "settled returned before the run ended"
        );
        assert_eq!(
            env.store.run(&id).await.unwrap().unwrap().state,
            RunState::Succeeded
        );
        // Nothing in progress: it returns at once.
        env.engine.settled(INTEGRATION).await;
        env.engine.settled("sagehr:nothing-runs-here").await;
    })
    .await;
}
