//! Connection links: stored by digest, completed once in the same transaction as the
//! integration they create, expiring, with completion tokens that expire too.

use std::time::Duration;

use atsbridge_model::integration::{EndUser, IntegrationStatus};
use atsbridge_model::Timestamp;
use atsbridge_store::connect::token_digest;
use atsbridge_store::{
    Completion, Credentials, IntegrationSettings, LinkPurpose, NewConnectLink, NewIntegration,
    StoreError,
};
use serde_json::json;

use crate::fixtures::day;
use crate::harness::each_backend;

fn link(token: &str, purpose: LinkPurpose, expires_at: Timestamp) -> NewConnectLink {
    NewConnectLink {
        token: token.into(),
        environment_id: "env".into(),
        tool: "sagehr".into(),
        category: atsbridge_model::integration::Category::Ats,
        purpose,
        integration_id: None,
        end_user_email: Some("it@globex.example".into()),
        organization_name: "Globex".into(),
        origin_id: Some("g-1".into()),
        language: "de".into(),
        link_type: "EMBEDDED".into(),
        redirect_url: None,
        created_at: day(1),
        expires_at,
    }
}

fn integration(id: &str, key: &str) -> NewIntegration {
    let mut credentials = Credentials::default();
    credentials.0.insert("subdomain".into(), json!("globex"));
    credentials.0.insert("api_key".into(), json!(key));
    NewIntegration {
        id: id.into(),
        tool: "sagehr".into(),
        category: atsbridge_model::integration::Category::Ats,
        environment_id: "env".into(),
        end_user: EndUser {
            organization_name: "Globex".into(),
            creator_email: None,
            origin_id: None,
        },
        settings: IntegrationSettings::default(),
        credentials,
    }
}

fn completion(token: &str, expires_at: Timestamp) -> Completion {
    Completion {
        token: token.into(),
        expires_at,
    }
}

#[tokio::test]
async fn a_link_completes_once_and_creates_its_integration() {
    each_backend(|store| async move {
        let now = day(2);
        let later = now.plus(Duration::from_secs(3600));
        store
            .create_connect_link(&link("tok-a", LinkPurpose::Connect, later))
            .await
            .unwrap();
        let stored = store.connect_link("tok-a").await.unwrap().unwrap();
        assert_eq!(stored.category, atsbridge_model::integration::Category::Ats);
        assert_eq!(stored.token_hash, token_digest("tok-a"));
        assert_ne!(stored.token_hash, "tok-a", "only the digest is kept");
        assert_eq!(stored.language, "de");
        assert_eq!(stored.completed_at, None);
        assert!(store.connect_link("tok-b").await.unwrap().is_none());
        let hris = NewConnectLink {
            category: atsbridge_model::integration::Category::Hris,
            ..link("tok-h", LinkPurpose::Connect, later)
        };
        store.create_connect_link(&hris).await.unwrap();
        assert_eq!(
            store.connect_link("tok-h").await.unwrap().unwrap().category,
            atsbridge_model::integration::Category::Hris
        );

        for want in [1, 2] {
            assert_eq!(
                store
                    .reserve_link_attempt(&stored.token_hash, 10, now)
                    .await
                    .unwrap(),
                Some(want)
            );
        }

        let id = "sagehr:4mUqVHo3bnvKXT6qWZEpn1ds";
        store
            .complete_connect_link(
                &stored.token_hash,
                &integration(id, "k1"),
                &completion("done-a", later),
                now,
            )
            .await
            .unwrap();
        let row = store.integration(id).await.unwrap().unwrap();
        assert_eq!(row.status, IntegrationStatus::Active);
        let stored = store.connect_link("tok-a").await.unwrap().unwrap();
        assert_eq!(stored.completed_at, Some(now));
        assert_eq!(stored.integration_id.as_deref(), Some(id));
        assert_eq!(stored.failed_attempts, 2);

        // A second completion (a double submit) creates nothing.
        let err = store
            .complete_connect_link(
                &stored.token_hash,
                &integration("sagehr:5nVrWIp4coLYU7rXAFqo2et", "k2"),
                &completion("done-b", later),
                now,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert_eq!(store.integrations(None).await.unwrap().len(), 1);

        // The completion token finds the link until it expires.
        let found = store
            .link_by_completion("done-a", now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.integration_id.as_deref(), Some(id));
        assert!(store
            .link_by_completion("done-a", later)
            .await
            .unwrap()
            .is_none());
        assert!(store
            .link_by_completion("done-b", now)
            .await
            .unwrap()
            .is_none());
    })
    .await;
}

#[tokio::test]
async fn expired_links_do_not_complete_and_relinks_replace_credentials() {
    each_backend(|store| async move {
        let now = day(3);
        store
            .create_connect_link(&link("old", LinkPurpose::Connect, day(2)))
            .await
            .unwrap();
        let hash = token_digest("old");
        let err = store
            .complete_connect_link(
                &hash,
                &integration("sagehr:4mUqVHo3bnvKXT6qWZEpn1ds", "k"),
                &completion("c", day(4)),
                now,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        assert!(
            store.integrations(None).await.unwrap().is_empty(),
            "the transaction rolled back"
        );

        let id = "sagehr:4mUqVHo3bnvKXT6qWZEpn1ds";
        store
            .create_integration(integration(id, "old-key"), day(1))
            .await
            .unwrap();
        assert!(store.mark_credentials_invalid(id, 1).await.unwrap());
        let mut relink = link("re", LinkPurpose::Relink, day(4));
        relink.integration_id = Some(id.into());
        store.create_connect_link(&relink).await.unwrap();
        let mut fresh = Credentials::default();
        fresh.0.insert("subdomain".into(), json!("globex"));
        fresh.0.insert("api_key".into(), json!("new-key"));
        store
            .complete_relink(
                &token_digest("re"),
                id,
                &fresh,
                &completion("c2", day(4)),
                now,
            )
            .await
            .unwrap();
        let row = store.integration(id).await.unwrap().unwrap();
        assert_eq!(row.status, IntegrationStatus::Active);
        assert_eq!(row.credentials_version, 2);
        assert_eq!(row.invalid_credentials_version, None);
        assert_eq!(
            store.credentials(id).await.unwrap().get("api_key"),
            Some("new-key")
        );
        let err = store
            .complete_relink(
                &token_digest("re"),
                id,
                &fresh,
                &completion("c3", day(4)),
                now,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)));
        assert_eq!(
            store
                .integration(id)
                .await
                .unwrap()
                .unwrap()
                .credentials_version,
            2
        );

        // New credentials do not re-enable a disabled integration.
        store
            .set_integration_status(id, IntegrationStatus::Inactive)
            .await
            .unwrap();
        store.set_credentials(id, &fresh).await.unwrap();
        assert_eq!(
            store.integration(id).await.unwrap().unwrap().status,
            IntegrationStatus::Inactive
        );
    })
    .await;
}

#[tokio::test]
async fn parallel_attempts_reserve_no_more_than_the_limit() {
    each_backend(|store| async move {
        let now = day(2);
        let later = now.plus(Duration::from_secs(3600));
        store
            .create_connect_link(&link("tok-race", LinkPurpose::Connect, later))
            .await
            .unwrap();
        let hash = token_digest("tok-race");
        let tries = (0..50).map(|_| {
            let store = store.clone();
            let hash = hash.clone();
            tokio::spawn(async move { store.reserve_link_attempt(&hash, 10, now).await })
        });
        let mut granted = Vec::new();
        for t in tries.collect::<Vec<_>>() {
            if let Some(n) = t.await.unwrap().unwrap() {
                granted.push(n);
            }
        }
        granted.sort_unstable();
        assert_eq!(granted, (1..=10).collect::<Vec<i64>>());
        let stored = store.connect_link("tok-race").await.unwrap().unwrap();
        assert_eq!(stored.failed_attempts, 10);

        // An attempt that did not fail is given back and can be made again.
        store.release_link_attempt(&hash).await.unwrap();
        assert_eq!(
            store.reserve_link_attempt(&hash, 10, now).await.unwrap(),
            Some(10)
        );
        assert_eq!(
            store.reserve_link_attempt(&hash, 10, now).await.unwrap(),
            None
        );

        // Used, expired and unknown links reserve nothing.
        store
            .create_connect_link(&link("tok-old", LinkPurpose::Connect, now))
            .await
            .unwrap();
        assert_eq!(
            store
                .reserve_link_attempt(&token_digest("tok-old"), 10, now)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .reserve_link_attempt(&token_digest("tok-none"), 10, now)
                .await
                .unwrap(),
            None
        );
        store
            .create_connect_link(&link("tok-done", LinkPurpose::Connect, later))
            .await
            .unwrap();
        store
            .complete_connect_link(
                &token_digest("tok-done"),
                &integration("sagehr:4mUqVHo3bnvKXT6qWZEpn1ds", "k"),
                &completion("c-done", later),
                now,
            )
            .await
            .unwrap();
        assert_eq!(
            store
                .reserve_link_attempt(&token_digest("tok-done"), 10, now)
                .await
                .unwrap(),
            None
        );
        // Releasing never goes below zero.
        store
            .release_link_attempt(&token_digest("tok-done"))
            .await
            .unwrap();
        assert_eq!(
            store
                .connect_link("tok-done")
                .await
                .unwrap()
                .unwrap()
                .failed_attempts,
            0
        );
    })
    .await;
}
