//! API keys, leases and sync runs, the event outbox, and created-application marks.

use std::collections::BTreeMap;

use atsbridge_model::integration::IntegrationStatus;
use atsbridge_store::{RunCounts, RunRow, RunState, Store};

use crate::fixtures::*;
use crate::harness::{each_backend, each_database, keys};

fn run(id: &str, started: u8) -> RunRow {
    RunRow {
        id: id.into(),
        integration_id: A.into(),
        kind: atsbridge_model::integration::SyncKind::Full,
        requested_kind: atsbridge_model::integration::SyncKind::Delta,
        state: RunState::Running,
        worker: "node-1".into(),
        started_at: day(started),
        ended_at: None,
        counts: RunCounts::default(),
        upstream_requests: 0,
        error: None,
    }
}

#[tokio::test]
async fn api_key_secrets_are_never_stored_and_authenticate_until_revoked() {
    each_backend(|store| async move {
        let (key, secret) = store
            .create_api_key("env-1", "production", day(1))
            .await
            .unwrap();
        let (other, other_secret) = store
            .create_api_key("env-2", "staging", day(2))
            .await
            .unwrap();
        assert_ne!(secret, other_secret);
        assert_ne!(key.id, other.id);
        assert!(secret.len() >= 40, "{secret}");
        assert_eq!(
            store.test_i64("SELECT COUNT(*) FROM api_keys", &[]).await.unwrap(),
            Some(2)
        );
        // No column of any key holds its secret, or even a part of it.
        for s in [&secret, &other_secret] {
            for needle in [s.as_str(), &s[5..15]] {
                let pattern = format!("%{needle}%");
                let found = store
                    .test_i64(
                        "SELECT COUNT(*) FROM api_keys WHERE id LIKE $1 OR environment_id LIKE $2 OR label LIKE $3 OR secret_hash LIKE $4",
                        &[&pattern, &pattern, &pattern, &pattern],
                    )
                    .await
                    .unwrap();
                assert_eq!(found, Some(0), "{needle}");
            }
        }

        let found = store.api_key_by_secret(&secret).await.unwrap();
        assert_eq!(found.as_ref(), Some(&key));
        assert_eq!(
            (
                key.environment_id.as_str(),
                key.label.as_str(),
                key.created_at
            ),
            ("env-1", "production", day(1))
        );
        assert_eq!(store.api_key_by_secret("atsb_nope").await.unwrap(), None);
        assert_eq!(store.api_key_by_secret("").await.unwrap(), None);
        assert_eq!(
            store
                .api_key_by_secret(&secret.to_uppercase())
                .await
                .unwrap(),
            None
        );

        assert!(store.revoke_api_key(&key.id, day(3)).await.unwrap());
        assert_eq!(store.api_key_by_secret(&secret).await.unwrap(), None);
        assert!(
            !store.revoke_api_key(&key.id, day(4)).await.unwrap(),
            "already revoked"
        );
        assert!(!store.revoke_api_key("key_unknown", day(4)).await.unwrap());
        assert_eq!(
            store.api_key_by_secret(&other_secret).await.unwrap(),
            Some(other)
        );
    })
    .await;
}

#[tokio::test]
async fn a_lease_is_exclusive_until_it_expires() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        let (t0, until) = (t("2026-01-02T00:00:00Z"), t("2026-01-02T00:05:00Z"));
        assert!(store.try_lease(A, "one", t0, until).await.unwrap());
        assert!(!store.try_lease(A, "two", t0, until).await.unwrap());
        assert!(
            !store.try_lease(A, "one", t0, until).await.unwrap(),
            "held once: a second run of the same worker waits too"
        );
        assert!(store
            .renew_lease(A, "one", t("2026-01-02T00:10:00Z"))
            .await
            .unwrap());
        assert!(
            !store
                .try_lease(A, "two", t("2026-01-02T00:07:00Z"), until)
                .await
                .unwrap(),
            "renewed"
        );

        let later = t("2026-01-02T00:10:00.001Z");
        assert!(store
            .try_lease(A, "two", later, t("2026-01-02T00:15:00Z"))
            .await
            .unwrap());
        assert!(
            !store
                .renew_lease(A, "one", t("2026-01-02T00:20:00Z"))
                .await
                .unwrap(),
            "lost"
        );
        assert!(!store
            .try_lease(A, "one", later, t("2026-01-02T00:20:00Z"))
            .await
            .unwrap());
        assert!(!store
            .try_lease("sagehr:unknown", "one", later, later)
            .await
            .unwrap());
    })
    .await;
}

#[tokio::test]
async fn only_the_holder_releases_a_lease() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        let (t0, until) = (day(2), day(3));
        assert!(store.try_lease(A, "one", t0, until).await.unwrap());
        store.release_lease(A, "two").await.unwrap();
        assert!(
            !store.try_lease(A, "two", t0, until).await.unwrap(),
            "not released by another"
        );
        store.release_lease(A, "one").await.unwrap();
        assert!(
            !store.renew_lease(A, "one", until).await.unwrap(),
            "nothing left to renew"
        );
        assert!(store.try_lease(A, "two", t0, until).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn two_nodes_racing_for_a_lease_never_both_win() {
    each_database(|url| async move {
        let node1 = Store::open(&url, keys()).await.unwrap();
        let node2 = Store::open(&url, keys()).await.unwrap();
        connect(&node1, A, "env").await;
        let (now, until) = (day(2), day(3));
        let mut wins = BTreeMap::new();
        for round in 0..100 {
            let (one, two) = tokio::join!(
                node1.try_lease(A, "node1", now, until),
                node2.try_lease(A, "node2", now, until),
            );
            let (one, two) = (one.unwrap(), two.unwrap());
            assert!(
                one ^ two,
                "round {round}: exactly one of the two wins ({one}, {two})"
            );
            let (winner, owner) = if one {
                (&node1, "node1")
            } else {
                (&node2, "node2")
            };
            *wins.entry(owner).or_insert(0) += 1;
            winner.release_lease(A, owner).await.unwrap();
        }
        assert_eq!(wins.values().sum::<i32>(), 100);
        node1.close().await;
        node2.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_sync_is_queued_once_until_a_run_starts() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        assert!(store
            .request_sync(A, atsbridge_model::integration::SyncKind::Delta, day(2))
            .await
            .unwrap());
        assert!(
            !store
                .request_sync(A, atsbridge_model::integration::SyncKind::Full, day(3))
                .await
                .unwrap(),
            "already queued"
        );
        let row = store.integration(A).await.unwrap().unwrap();
        assert_eq!(row.sync_requested_at, Some(day(2)));
        assert_eq!(
            row.sync_requested_kind,
            Some(atsbridge_model::integration::SyncKind::Delta),
            "the first request"
        );
        store.start_run(&run("run-1", 4)).await.unwrap();
        let row = store.integration(A).await.unwrap().unwrap();
        assert_eq!(
            (row.sync_requested_at, row.last_run_started_at),
            (None, Some(day(4)))
        );
        assert_eq!(row.sync_requested_kind, None);
        assert!(store
            .request_sync(A, atsbridge_model::integration::SyncKind::Full, day(5))
            .await
            .unwrap());
        let row = store.integration(A).await.unwrap().unwrap();
        assert_eq!(
            row.sync_requested_kind,
            Some(atsbridge_model::integration::SyncKind::Full)
        );
        assert!(!store
            .request_sync(
                "sagehr:unknown",
                atsbridge_model::integration::SyncKind::Full,
                day(5)
            )
            .await
            .unwrap());
    })
    .await;
}

#[tokio::test]
async fn runs_round_trip_with_their_counts_and_error_newest_first() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        let first = run("run-1", 2);
        store.start_run(&first).await.unwrap();
        let mut done = first;
        done.state = RunState::PartiallyFailed;
        done.ended_at = Some(t("2026-01-02T12:03:04.567Z"));
        done.upstream_requests = 42;
        done.error = Some("applicants of position 17: HTTP 502".into());
        done.counts.inserted.insert("ats_jobs".into(), 3);
        done.counts.updated.insert("ats_candidates".into(), 2);
        done.counts.deleted.insert("ats_applications".into(), 1);
        done.counts
            .unchanged
            .insert("ats_application_stages".into(), 9);
        store.finish_run(&done, None).await.unwrap();
        assert_eq!(store.run("run-1").await.unwrap(), Some(done.clone()));

        let second = run("run-2", 3);
        store.start_run(&second).await.unwrap();
        let mut ok = second.clone();
        ok.state = RunState::Succeeded;
        ok.ended_at = Some(day(4));
        store.finish_run(&ok, None).await.unwrap();
        assert_eq!(store.runs(A, 10).await.unwrap(), [ok.clone(), done]);
        assert_eq!(store.runs(A, 1).await.unwrap(), [ok]);
        assert!(store.runs(B, 10).await.unwrap().is_empty());
        assert_eq!(store.run("run-unknown").await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn a_running_run_reads_back_before_it_finishes() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        let running = run("run-1", 2);
        store.start_run(&running).await.unwrap();
        assert_eq!(store.run("run-1").await.unwrap(), Some(running.clone()));
        assert_eq!(store.runs(A, 10).await.unwrap(), [running]);
    })
    .await;
}

#[tokio::test]
async fn events_are_read_back_in_order_after_a_seq() {
    each_backend(|store| async move {
        let events: Vec<_> = (0..5)
            .map(|n| {
                let id = format!("ev-{n}");
                if n % 2 == 0 {
                    state_changed(&id, A, IntegrationStatus::Active, day(n + 1))
                } else {
                    flow_failed(&id, day(n + 1))
                }
            })
            .collect();
        for event in &events {
            store.enqueue_event(event).await.unwrap();
        }
        let all = store.events(0, 100).await.unwrap();
        let ids: Vec<&str> = all.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["ev-0", "ev-1", "ev-2", "ev-3", "ev-4"]);
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(all[0].integration_id.as_deref(), Some(A));
        assert_eq!(all[1].integration_id, None);
        assert_eq!(
            (all[2].kind.as_str(), all[2].created_at),
            ("integration-state-changed", day(3))
        );
        assert_eq!(all[3].payload, events[3].event.payload());
        assert_eq!(all[3].typed().unwrap(), events[3].event);

        let rest = store.events(all[1].seq, 2).await.unwrap();
        assert_eq!(rest, all[2..4].to_vec());
        assert!(store.events(all[4].seq, 10).await.unwrap().is_empty());
        let duplicate = store.enqueue_event(&flow_failed("ev-0", day(9))).await;
        assert!(duplicate.is_err(), "event ids are unique");
    })
    .await;
}

#[tokio::test]
async fn created_applications_are_remembered_once_per_integration() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        connect(&store, B, "env").await;
        store.mark_created(A, "101", day(1)).await.unwrap();
        store.mark_created(A, "102", day(1)).await.unwrap();
        store.mark_created(A, "101", day(2)).await.unwrap();
        store.mark_created(B, "201", day(2)).await.unwrap();
        let a: Vec<String> = store
            .created_remote_ids(A)
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(a, ["101", "102"]);
        let b: Vec<String> = store
            .created_remote_ids(B)
            .await
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(b, ["201"]);
        let rows = store
            .test_i64("SELECT COUNT(*) FROM created_applications", &[])
            .await
            .unwrap();
        assert_eq!(rows, Some(3));
    })
    .await;
}

#[tokio::test]
async fn idempotency_keys_are_claimed_completed_released_and_expire() {
    use atsbridge_store::IdempotencyClaim;
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        let ttl = 86_400_000;
        let stale = 300_000;
        let claim = |key: &'static str, hash: &'static str, at| {
            let store = store.clone();
            async move {
                store
                    .claim_idempotency_key(A, key, hash, at, ttl, stale)
                    .await
                    .unwrap()
            }
        };
        let t0 = day(1);
        assert_eq!(claim("k1", "h1", t0).await, IdempotencyClaim::Claimed);
        assert_eq!(
            claim("k1", "h1", t0).await,
            IdempotencyClaim::InProgress {
                request_hash: "h1".into()
            }
        );
        store
            .complete_idempotency_key(A, "k1", 200, "{\"a\":1}")
            .await
            .unwrap();
        assert_eq!(
            claim("k1", "h2", t0).await,
            IdempotencyClaim::Completed {
                request_hash: "h1".into(),
                status: 200,
                response: "{\"a\":1}".into()
            }
        );
        // Released keys are free again; completed ones are not released.
        assert_eq!(claim("k2", "h1", t0).await, IdempotencyClaim::Claimed);
        store.release_idempotency_key(A, "k2").await.unwrap();
        store.release_idempotency_key(A, "k1").await.unwrap();
        assert_eq!(claim("k2", "h1", t0).await, IdempotencyClaim::Claimed);
        // After the time to live, a key is new again.
        assert_eq!(claim("k1", "h3", day(3)).await, IdempotencyClaim::Claimed);
        // Deleting the integration forgets its keys.
        assert!(store.delete_integration(A).await.unwrap());
        let rows = store
            .test_i64("SELECT COUNT(*) FROM idempotency_keys", &[])
            .await
            .unwrap();
        assert_eq!(rows, Some(0));
    })
    .await;
}
