//! The retention worker against a real sync: a record deleted in Sage HR is anonymized once
//! its age is reached, and later syncs that do not see it neither undelete it nor count it
//! as changed.

use atsbridge_model::{ModelKind, Timestamp};
use atsbridge_store::{Purge, RunState};
use atsbridge_sync::{Retention, RetentionPolicy};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn later(days: i64) -> Timestamp {
    Timestamp::from_unix_millis(Timestamp::now().unix_millis() + days * DAY_MS).unwrap()
}

#[tokio::test]
async fn a_deleted_candidate_is_anonymized_after_14_days_and_stays_so_through_later_syncs() {
    each_backend(3, 2, |env| async move {
        env.sync().await;
        let apps = env.all(ModelKind::Application).await;
        let target = apps.values().next().unwrap().clone();
        let candidate_id = target.candidate_id.clone().unwrap();
        env.sim
            .control(
                Method::DELETE,
                &format!("applicants/{}", target.remote_id),
                json!({}),
            )
            .await;
        let run = env.sync().await;
        assert_eq!(run.counts.deleted["ats_candidates"], 1);
        let deleted = env.all(ModelKind::Candidate).await[&candidate_id].clone();
        assert!(deleted.remote_deleted_at.is_some());
        assert!(deleted.payload["first_name"].is_string());

        let retention = Retention::new(env.store.clone(), RetentionPolicy::default());
        // Not yet: 13 days after the deletion.
        let early = retention.purge_once(later(13)).await.unwrap();
        assert_eq!(early.anonymized, 0, "{early:?}");
        let counts = retention.purge_once(later(15)).await.unwrap();
        // The candidate and its application.
        assert_eq!(counts.anonymized, 2, "{counts:?}");
        assert_eq!(
            counts.purged(Purge::Events),
            0,
            "events are 30 days old at the earliest"
        );
        let anonymized = env.all(ModelKind::Candidate).await[&candidate_id].clone();
        assert_eq!(anonymized.payload["first_name"], Value::Null);
        assert_eq!(anonymized.payload["email_addresses"], json!([]));
        assert_eq!(anonymized.payload["remote_data"], Value::Null);
        assert_eq!(anonymized.remote_id, deleted.remote_id);
        assert_eq!(anonymized.remote_deleted_at, deleted.remote_deleted_at);
        assert_eq!(anonymized.changed_at, deleted.changed_at);
        assert_eq!(
            retention.purge_once(later(16)).await.unwrap().anonymized,
            0,
            "once"
        );

        let run = env.sync().await;
        assert_eq!(run.state, RunState::Succeeded);
        assert!(run.counts.deleted.is_empty(), "{:?}", run.counts);
        assert!(
            !run.counts.updated.contains_key("ats_candidates"),
            "{:?}",
            run.counts
        );
        let after = env.all(ModelKind::Candidate).await[&candidate_id].clone();
        assert_eq!(after, anonymized);

        // Everything old goes in a pass far enough ahead, but the latest run stays.
        let all = retention.purge_once(later(400)).await.unwrap();
        assert!(all.purged(Purge::Events) >= 3, "{all:?}");
        assert_eq!(all.purged(Purge::Runs), 2, "{all:?}");
        assert_eq!(env.store.runs(INTEGRATION, 10).await.unwrap().len(), 1);
    })
    .await;
}
