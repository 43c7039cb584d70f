//! Scrape-time gauges: the oldest pending webhook delivery and the leases held, on both
//! engines.

use atsbridge_store::{Attempt, DeliveryState};

use crate::fixtures::*;
use crate::harness::each_backend;

#[tokio::test]
async fn gauges_see_the_oldest_pending_delivery_and_the_leases_held() {
    each_backend(|store| async move {
        connect(&store, A, "env-1").await;
        connect(&store, B, "env-1").await;
        let empty = store.gauges(day(3)).await.unwrap();
        assert_eq!(
            (empty.oldest_pending_delivery_at, empty.leases_held),
            (None, 0)
        );

        store
            .create_webhook("env-1", "http://a.example/hook", None, "s3cret", day(1))
            .await
            .unwrap();
        store
            .enqueue_event(&sync_finished("evt_1", A, &[], day(2)))
            .await
            .unwrap();
        store
            .enqueue_event(&sync_finished("evt_2", B, &[], day(4)))
            .await
            .unwrap();
        assert!(store.try_lease(A, "w1", day(2), day(5)).await.unwrap());
        assert!(store.try_lease(B, "w2", day(2), day(3)).await.unwrap());

        let g = store.gauges(day(2)).await.unwrap();
        assert_eq!(g.oldest_pending_delivery_at, Some(day(2)));
        assert_eq!(g.leases_held, 2);
        // B's lease has lapsed by day 4; A's has not.
        assert_eq!(store.gauges(day(4)).await.unwrap().leases_held, 1);
        store.release_lease(A, "w1").await.unwrap();
        assert_eq!(store.gauges(day(2)).await.unwrap().leases_held, 1);

        // Delivering A's event leaves B's (younger) as the oldest pending.
        let claimed = store
            .claim_deliveries("d", day(5), day(6), 10)
            .await
            .unwrap();
        let a = claimed
            .iter()
            .find(|c| c.delivery.integration_id.as_deref() == Some(A))
            .expect("A's delivery is due");
        let delivered = Attempt {
            status: Some(200),
            latency_ms: 1,
            error: None,
            at: day(5),
            state: DeliveryState::Delivered,
            next_attempt_at: day(5),
        };
        assert!(store
            .record_attempt(a.delivery.seq, "d", &delivered)
            .await
            .unwrap());
        assert_eq!(
            store
                .gauges(day(5))
                .await
                .unwrap()
                .oldest_pending_delivery_at,
            Some(day(4))
        );
    })
    .await;
}
