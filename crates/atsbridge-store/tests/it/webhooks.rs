//! Webhook subscriptions and deliveries: fan-out by environment and event type, secrets at
//! rest, claiming with leases and in order per integration, attempts (each one kept), removal.

use atsbridge_model::integration::IntegrationStatus;
use atsbridge_store::{Attempt, DeliveryState};

use crate::fixtures::*;
use crate::harness::each_backend;

#[tokio::test]
async fn events_fan_out_to_the_matching_webhooks_of_their_environment() {
    each_backend(|store| async move {
        connect(&store, A, "env-1").await;
        connect(&store, B, "env-2").await;
        let all = store
            .create_webhook("env-1", "http://a.example/hook", None, "s3cret-a", day(1))
            .await
            .unwrap();
        let only_sync = store
            .create_webhook(
                "env-1",
                "http://b.example/hook",
                Some(&["sync-finished".to_owned()]),
                "s3cret-b",
                day(1),
            )
            .await
            .unwrap();
        let other_env = store
            .create_webhook("env-2", "http://c.example/hook", None, "s3cret-c", day(1))
            .await
            .unwrap();
        // A changing sync of A: data-changed + sync-finished.
        store
            .enqueue_event(&sync_finished("evt_1", A, &["ats_jobs"], day(2)))
            .await
            .unwrap();
        // Unchanged: sync-finished only.
        store
            .enqueue_event(&sync_finished("evt_2", A, &[], day(3)))
            .await
            .unwrap();
        let types = |list: Vec<atsbridge_store::Delivery>| {
            let mut v: Vec<(String, String)> = list
                .into_iter()
                .map(|d| (d.event_id, d.event_type))
                .collect();
            v.sort();
            v
        };
        let a = types(store.deliveries(&all.id, 10).await.unwrap());
        assert_eq!(a.len(), 3, "{a:?}");
        assert!(a.contains(&("evt_1".into(), "sync-finished".into())));
        assert!(a.contains(&("evt_2".into(), "sync-finished".into())));
        assert_eq!(a.iter().filter(|(_, t)| t == "data-changed").count(), 1);
        assert_eq!(store.deliveries(&only_sync.id, 10).await.unwrap().len(), 2);
        assert!(store
            .deliveries(&other_env.id, 10)
            .await
            .unwrap()
            .is_empty());
        // The secret is stored sealed, never in clear.
        let stored = store
            .test_i64("SELECT COUNT(*) FROM webhooks", &[])
            .await
            .unwrap();
        let in_clear = store
            .test_i64(
                "SELECT COUNT(*) FROM webhooks WHERE secret_sealed LIKE $1",
                &["%s3cret%"],
            )
            .await
            .unwrap();
        assert!(stored > Some(0));
        assert_eq!(in_clear, Some(0));
    })
    .await;
}

#[tokio::test]
async fn deliveries_are_claimed_once_in_order_and_recorded() {
    each_backend(|store| async move {
        connect(&store, A, "env-1").await;
        let hook = store
            .create_webhook("env-1", "http://a.example/hook", None, "secret", day(1))
            .await
            .unwrap();
        let events = [
            state_changed("evt_1", A, IntegrationStatus::Inactive, day(2)),
            state_changed("evt_2", A, IntegrationStatus::Active, day(2)),
        ];
        for event in &events {
            store.enqueue_event(event).await.unwrap();
        }
        let now = day(3);
        let lease = day(4);
        let claimed = store
            .claim_deliveries("node-1", now, lease, 10)
            .await
            .unwrap();
        // Only the first: the second waits behind it.
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].delivery.event_id, "evt_1");
        assert_eq!(claimed[0].secret, "secret");
        assert_eq!(claimed[0].url, "http://a.example/hook");
        assert_eq!(claimed[0].event.typed().unwrap(), events[0].event);
        // Leased: nobody else gets it.
        assert!(store
            .claim_deliveries("node-2", now, lease, 10)
            .await
            .unwrap()
            .is_empty());
        // A failed attempt keeps it pending (and the next one waiting) until it is due.
        let seq = claimed[0].delivery.seq;
        let failed = Attempt {
            status: Some(503),
            latency_ms: 12,
            error: Some("answered HTTP 503".into()),
            at: now,
            state: DeliveryState::Pending,
            next_attempt_at: day(5),
        };
        assert!(!store.record_attempt(seq, "node-2", &failed).await.unwrap());
        assert!(store.record_attempt(seq, "node-1", &failed).await.unwrap());
        assert!(store
            .claim_deliveries("node-2", day(4), day(6), 10)
            .await
            .unwrap()
            .is_empty());
        let again = store
            .claim_deliveries("node-2", day(5), day(6), 10)
            .await
            .unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].delivery.attempts, 1);
        assert_eq!(again[0].delivery.first_attempt_at, Some(now));
        let ok = Attempt {
            status: Some(200),
            latency_ms: 3,
            error: None,
            at: day(5),
            state: DeliveryState::Delivered,
            next_attempt_at: day(5),
        };
        assert!(store
            .record_attempt(again[0].delivery.seq, "node-2", &ok)
            .await
            .unwrap());
        // Every attempt is kept, in order; the one whose lease was lost wrote nothing.
        let id = &again[0].delivery.id;
        let (delivery, attempts) = store.delivery_with_attempts(id).await.unwrap().unwrap();
        assert_eq!(delivery.attempts, 2);
        let seen: Vec<_> = attempts
            .iter()
            .map(|a| (a.attempt, a.at, a.status, a.latency_ms, a.error.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [
                (1, now, Some(503), 12, Some("answered HTTP 503")),
                (2, day(5), Some(200), 3, None),
            ]
        );
        assert!(store
            .delivery_with_attempts("dlv_nope")
            .await
            .unwrap()
            .is_none());
        let next = store
            .claim_deliveries("node-1", day(5), day(6), 10)
            .await
            .unwrap();
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].delivery.event_id, "evt_2");

        // Removing the webhook fails what is pending and hides it.
        assert!(store
            .remove_webhook("env-1", &hook.id, day(6))
            .await
            .unwrap());
        assert!(!store
            .remove_webhook("env-1", &hook.id, day(6))
            .await
            .unwrap());
        assert!(store.webhooks("env-1").await.unwrap().is_empty());
        let log = store.deliveries(&hook.id, 10).await.unwrap();
        assert_eq!(log[0].state, DeliveryState::Failed);
        assert_eq!(log[1].state, DeliveryState::Delivered);
        assert_eq!(log[1].attempts, 2);
        assert_eq!(log[1].last_status, Some(200));
    })
    .await;
}

#[tokio::test]
async fn every_attempt_is_kept_a_redelivery_continues_the_count_and_they_go_with_the_delivery() {
    each_backend(|store| async move {
        connect(&store, A, "env-1").await;
        store
            .create_webhook("env-1", "http://a.example/hook", None, "secret", day(1))
            .await
            .unwrap();
        store
            .enqueue_event(&state_changed(
                "evt_1",
                A,
                IntegrationStatus::Inactive,
                day(2),
            ))
            .await
            .unwrap();
        let attempt = |status: u16, at, state| Attempt {
            status: Some(status),
            latency_ms: i64::from(status) / 100,
            error: (status != 200).then(|| format!("answered HTTP {status}")),
            at,
            state,
            next_attempt_at: at,
        };
        // Failed once, delivered, then sent again from the dashboard and delivered again.
        let plan = [
            (day(3), attempt(500, day(3), DeliveryState::Pending)),
            (day(3), attempt(200, day(3), DeliveryState::Delivered)),
            (day(5), attempt(200, day(5), DeliveryState::Delivered)),
        ];
        let mut id = String::new();
        for (i, (now, outcome)) in plan.iter().enumerate() {
            if i == 2 {
                assert!(store.redeliver(&id, day(4)).await.unwrap());
            }
            let claimed = store
                .claim_deliveries("node-1", *now, day(9), 10)
                .await
                .unwrap();
            assert_eq!(claimed.len(), 1, "attempt {}", i + 1);
            id.clone_from(&claimed[0].delivery.id);
            assert!(store
                .record_attempt(claimed[0].delivery.seq, "node-1", outcome)
                .await
                .unwrap());
        }
        let (delivery, attempts) = store.delivery_with_attempts(&id).await.unwrap().unwrap();
        assert_eq!(delivery.state, DeliveryState::Delivered);
        let seen: Vec<_> = attempts
            .iter()
            .map(|a| (a.attempt, a.at, a.status))
            .collect();
        assert_eq!(
            seen,
            [
                (1, day(3), Some(500)),
                (2, day(3), Some(200)),
                (3, day(5), Some(200))
            ]
        );
        // Purges and integration deletion remove deliveries; their attempts go with them.
        let attempts_left = || async {
            store
                .test_i64("SELECT COUNT(*) FROM delivery_attempts", &[])
                .await
                .unwrap()
        };
        assert_eq!(attempts_left().await, Some(3));
        store
            .test_execute("DELETE FROM deliveries WHERE id = $1", &[&id])
            .await
            .unwrap();
        assert_eq!(attempts_left().await, Some(0));
    })
    .await;
}
