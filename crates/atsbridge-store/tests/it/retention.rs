//! Retention: anonymizing records deleted in the tool (once, keeping ids and times, never
//! undone by a sync that does not see them) and purging finished rows by age, never an
//! undelivered event.

use atsbridge_model::ModelKind::{Candidate, Job};
use atsbridge_model::Timestamp;
use atsbridge_store::{Filter, LinkPurpose, NewConnectLink, Purge, Store};

use crate::fixtures::*;
use crate::harness::each_backend;

fn with_deleted() -> Filter {
    Filter {
        include_deleted: true,
        ..Filter::default()
    }
}

async fn anonymized_at(store: &Store, remote: &str, model: i64) -> Option<i64> {
    store
        .test_i64(
            &format!("SELECT anonymized_at FROM records WHERE remote_id = $1 AND model = {model}"),
            &[remote],
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn deleted_records_are_anonymized_once_after_their_age_keeping_ids_and_times() {
    each_backend(|store| async move {
        seeded(&store).await;
        let c1_id = id(A, Candidate, "c1");
        let before = get(&store, A, Candidate, &c1_id).await;
        assert_eq!(before.payload["first_name"], "Ada", "{:?}", before.payload);
        store
            .mark_deleted(A, Candidate, std::slice::from_ref(&c1_id), day(2))
            .await
            .unwrap();
        store
            .mark_deleted(A, Job, &[id(A, Job, "j2")], day(2))
            .await
            .unwrap();
        // Deleted on day 9: not old enough at a cutoff of day 3.
        store
            .mark_deleted(A, Candidate, &[id(A, Candidate, "c2")], day(9))
            .await
            .unwrap();
        let deleted = get(&store, A, Candidate, &c1_id).await;

        assert_eq!(store.anonymize_deleted(day(3), day(17), 10).await.unwrap(), 2);
        let after = get(&store, A, Candidate, &c1_id).await;
        assert_eq!(after.id, c1_id);
        assert_eq!(after.remote_id, "c1");
        assert_eq!(after.remote_deleted_at, Some(day(2)));
        assert_eq!(after.changed_at, deleted.changed_at, "anonymizing is not a change");
        assert_eq!(after.updated_at, deleted.updated_at);
        let p = &after.payload;
        assert_eq!(p["first_name"], serde_json::Value::Null, "{p}");
        assert_eq!(p["last_name"], serde_json::Value::Null, "{p}");
        assert_eq!(p["email_addresses"], serde_json::json!([]), "{p}");
        assert_eq!(p["remote_data"], serde_json::Value::Null, "{p}");
        assert_eq!(p["remote_created_at"], before.payload["remote_created_at"]);
        assert!(!p.to_string().contains("Ada"), "{p}");
        // Nothing of the person is left in the row's other columns either.
        assert_eq!(
            store
                .test_i64(
                    "SELECT COUNT(*) FROM records WHERE remote_id = $1 AND (email_lower IS NOT NULL OR first_name_lower IS NOT NULL OR last_name_lower IS NOT NULL OR summary IS NOT NULL)",
                    &["c1"],
                )
                .await
                .unwrap(),
            Some(0)
        );
        // A job's nested stages are emptied too.
        let j2 = get(&store, A, Job, &id(A, Job, "j2")).await;
        assert_eq!(j2.payload["name"], serde_json::Value::Null);
        assert_eq!(j2.nested, Some(serde_json::json!([])));
        // Still served with include_deleted; not found by what it was.
        assert!(remote_ids(&store, A, Candidate, &with_deleted())
            .await
            .contains(&"c1".to_owned()));
        let by_email = Filter {
            email: Some("ada.lovelace@example.test".into()),
            ..with_deleted()
        };
        assert!(!remote_ids(&store, A, Candidate, &by_email)
            .await
            .contains(&"c1".to_owned()));
        let grace = get(&store, A, Candidate, &id(A, Candidate, "c2")).await;
        assert!(grace.payload["first_name"].is_string(), "not due yet");

        // Idempotent: nothing more to do, and the time it was done stays.
        let first = anonymized_at(&store, "c1", 2).await;
        assert_eq!(first, Some(day(17).unix_millis()));
        assert_eq!(store.anonymize_deleted(day(3), day(18), 10).await.unwrap(), 0);
        assert_eq!(anonymized_at(&store, "c1", 2).await, first);

        // A later sync that does not see it neither undeletes it nor reports it changed.
        apply(&store, A, vec![job_in(j1(A)), candidate_in(c2(A))], day(20)).await;
        assert_eq!(store.mark_deleted(A, Candidate, std::slice::from_ref(&c1_id), day(20)).await.unwrap(), 0);
        let later = get(&store, A, Candidate, &c1_id).await;
        assert_eq!(later, after);

        // The tool showing it again writes it whole; deleted again, it is anonymized again
        // (alone: c2 came back on day 20).
        apply(&store, A, vec![candidate_in(c1(A))], day(21)).await;
        let back = get(&store, A, Candidate, &c1_id).await;
        assert_eq!(back.payload["first_name"], "Ada");
        assert_eq!(back.remote_deleted_at, None);
        assert_eq!(anonymized_at(&store, "c1", 2).await, None);
        store
            .mark_deleted(A, Candidate, std::slice::from_ref(&c1_id), day(22))
            .await
            .unwrap();
        assert_eq!(store.anonymize_deleted(day(23), day(24), 10).await.unwrap(), 1);
        assert_eq!(
            get(&store, A, Candidate, &c1_id).await.payload["first_name"],
            serde_json::Value::Null
        );
    })
    .await;
}

fn link(token: &str, created: Timestamp, expires_at: Timestamp) -> NewConnectLink {
    NewConnectLink {
        token: token.into(),
        environment_id: "env-1".into(),
        tool: "sagehr".into(),
        category: atsbridge_model::integration::Category::Ats,
        purpose: LinkPurpose::Connect,
        integration_id: None,
        end_user_email: None,
        organization_name: "Globex".into(),
        origin_id: None,
        language: "en".into(),
        link_type: "EMBEDDED".into(),
        redirect_url: None,
        created_at: created,
        expires_at,
    }
}

async fn count(store: &Store, table: &str) -> i64 {
    store
        .test_i64(&format!("SELECT COUNT(*) FROM {table}"), &[])
        .await
        .unwrap()
        .unwrap()
}

async fn insert_run(
    store: &Store,
    id: &str,
    integration: &str,
    state: &str,
    ended: Option<Timestamp>,
) {
    let ended = ended.map(|t| t.unix_millis().to_string());
    store
        .test_execute(
            &format!(
                "INSERT INTO sync_runs (id, integration_id, kind, requested_kind, state, worker, started_at, ended_at) \
                 VALUES ($1, $2, 'FULL', 'FULL', $3, 'w', 0, {})",
                ended.as_deref().unwrap_or("NULL")
            ),
            &[id, integration, state],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn purges_remove_finished_rows_older_than_the_cutoff_and_never_a_pending_event() {
    each_backend(|store| async move {
        connect(&store, A, "env-1").await;
        store
            .create_webhook("env-1", "http://a.example/hook", Some(&["sync-finished".to_owned()]), "s", day(1))
            .await
            .unwrap();
        // Three old events (day 2) and one new (day 20); the first old one delivered, the
        // second failed, the third still pending.
        for (id, at) in [("evt_1", day(2)), ("evt_2", day(2)), ("evt_3", day(2)), ("evt_4", day(20))] {
            store.enqueue_event(&sync_finished(id, A, &[], at)).await.unwrap();
        }
        store
            .test_execute("UPDATE deliveries SET state = 'DELIVERED' WHERE event_id = $1", &["evt_1"])
            .await
            .unwrap();
        store
            .test_execute("UPDATE deliveries SET state = 'FAILED' WHERE event_id = $1", &["evt_2"])
            .await
            .unwrap();
        assert_eq!(count(&store, "deliveries").await, 4);

        // Idempotency answers of day 2 and day 20.
        for (key, at) in [("k-old", day(2)), ("k-new", day(20))] {
            store.claim_idempotency_key(A, key, "h", at, 1 << 40, 1 << 40).await.unwrap();
        }
        // Links: used on day 3 (completion token expired), expired unused on day 3, open.
        store.create_connect_link(&link("used", day(1), day(3))).await.unwrap();
        store.create_connect_link(&link("expired", day(1), day(3))).await.unwrap();
        store.create_connect_link(&link("open", day(1), day(30))).await.unwrap();
        store
            .test_execute(
                &format!(
                    "UPDATE connect_links SET completed_at = {}, completion_expires_at = {} WHERE organization_name = $1 AND expires_at = {} AND token_hash = (SELECT MIN(token_hash) FROM connect_links WHERE expires_at = {})",
                    day(2).unix_millis(), day(2).unix_millis() + 600_000, day(3).unix_millis(), day(3).unix_millis()
                ),
                &["Globex"],
            )
            .await
            .unwrap();
        // Runs: two old finished ones of A, a running one, and B's only (old) run.
        insert_run(&store, "run_1", A, "SUCCEEDED", Some(day(2))).await;
        insert_run(&store, "run_2", A, "FAILED", Some(day(3))).await;
        insert_run(&store, "run_3", A, "RUNNING", None).await;
        insert_run(&store, "run_b", B, "SUCCEEDED", Some(day(2))).await;

        let before = day(10);
        let now = day(20);
        // Deliveries first: only the finished old ones go, not the pending one.
        assert_eq!(store.purge(Purge::Deliveries, before, now, 100).await.unwrap(), 2);
        assert_eq!(count(&store, "deliveries").await, 2);
        // Events: the delivered and failed old ones; the pending one and the new one stay.
        assert_eq!(store.purge(Purge::Events, before, now, 100).await.unwrap(), 2);
        let left: Vec<String> = store.events(0, 10).await.unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(left, ["evt_3", "evt_4"]);
        assert_eq!(store.purge(Purge::IdempotencyKeys, before, now, 100).await.unwrap(), 1);
        assert_eq!(
            store.test_text("SELECT idem_key FROM idempotency_keys", &[]).await.unwrap().as_deref(),
            Some("k-new")
        );
        assert_eq!(store.purge(Purge::ConnectLinks, before, now, 100).await.unwrap(), 2);
        assert_eq!(count(&store, "connect_links").await, 1);
        // Runs: A's latest is run_3 (running), so both its finished ones are old enough;
        // B's only run is its latest and stays.
        assert_eq!(store.purge(Purge::Runs, before, now, 100).await.unwrap(), 2);
        let mut runs: Vec<String> = store.runs(A, 10).await.unwrap().into_iter().map(|r| r.id).collect();
        runs.sort();
        assert_eq!(runs, ["run_3"]);
        assert_eq!(store.runs(B, 10).await.unwrap().len(), 1, "an integration's latest run stays");

        // Batches: a limit of 1 deletes one row at a time.
        for (id, at) in [("evt_5", day(3)), ("evt_6", day(3))] {
            let event = state_changed(id, A, atsbridge_model::integration::IntegrationStatus::Active, at);
            store.enqueue_event(&event).await.unwrap();
        }
        assert_eq!(store.purge(Purge::Events, before, now, 1).await.unwrap(), 1);
        assert_eq!(store.purge(Purge::Events, before, now, 1).await.unwrap(), 1);
        assert_eq!(store.purge(Purge::Events, before, now, 1).await.unwrap(), 0);
    })
    .await;
}
