use atsbridge_model::connector::Record;
use atsbridge_model::integration::EndUser;
use atsbridge_model::{record_id, ModelKind, Timestamp};
use atsbridge_store::{
    Credentials, Filter, IntegrationSettings, NewIntegration, RecordInput, Store,
};
use serde_json::json;

use crate::harness::each_backend;

pub const INTEGRATION: &str = "sagehr:4mUqVHo3bnvKXT6qWZEpn1ds";

pub async fn integration(store: &Store) {
    let mut credentials = Credentials::default();
    credentials.0.insert("api_key".into(), json!("secret-key"));
    store
        .create_integration(
            NewIntegration {
                id: INTEGRATION.into(),
                tool: "sagehr".into(),
                category: atsbridge_model::integration::Category::Ats,
                environment_id: "env".into(),
                end_user: EndUser {
                    organization_name: "Acme".into(),
                    creator_email: None,
                    origin_id: None,
                },
                settings: IntegrationSettings::default(),
                credentials,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
}

pub fn stage(remote: &str, name: &str) -> Record {
    Record::ApplicationStage {
        stage: atsbridge_model::ApplicationStage {
            id: record_id(INTEGRATION, ModelKind::ApplicationStage, remote),
            remote_id: Some(remote.into()),
            name: Some(name.into()),
            status: None,
            custom_fields: None,
            changed_at: Timestamp::now(),
            remote_deleted_at: None,
            remote_data: None,
        },
        job_remote_id: "17".into(),
    }
}

#[tokio::test]
async fn records_round_trip_and_unchanged_writes_nothing() {
    each_backend(|store| async move {
        integration(&store).await;
        let creds = store.credentials(INTEGRATION).await.unwrap();
        assert_eq!(creds.get("api_key"), Some("secret-key"));
        let t1 = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let batch: Vec<RecordInput> = [stage("1", "New"), stage("2", "Interview")]
            .iter()
            .map(|r| RecordInput::from_record(r).unwrap())
            .collect();
        let counts = store.apply_batch(INTEGRATION, &batch, t1).await.unwrap();
        assert_eq!(counts.inserted["ats_application_stages"], 2);
        let t2 = Timestamp::parse("2026-01-02T00:00:00Z").unwrap();
        let again = store.apply_batch(INTEGRATION, &batch, t2).await.unwrap();
        assert!(!again.changed());
        let (page, more) = store
            .list(
                INTEGRATION,
                ModelKind::ApplicationStage,
                &Filter::default(),
                None,
                1,
            )
            .await
            .unwrap();
        assert!(more);
        assert_eq!(page[0].changed_at, t1);
        assert_eq!(page[0].payload["name"], "New");
        let (rest, more) = store
            .list(
                INTEGRATION,
                ModelKind::ApplicationStage,
                &Filter::default(),
                Some(page[0].seq),
                10,
            )
            .await
            .unwrap();
        assert!(!more);
        assert_eq!(rest.len(), 1);
        let changed: Vec<RecordInput> = [stage("2", "Interview (remote)")]
            .iter()
            .map(|r| RecordInput::from_record(r).unwrap())
            .collect();
        let counts = store.apply_batch(INTEGRATION, &changed, t2).await.unwrap();
        assert_eq!(counts.updated["ats_application_stages"], 1);
        let f = Filter {
            updated_after: Some(t1.unix_millis()),
            ..Filter::default()
        };
        let (updated, _) = store
            .list(INTEGRATION, ModelKind::ApplicationStage, &f, None, 10)
            .await
            .unwrap();
        assert_eq!(updated.len(), 1);
        assert_eq!(updated[0].changed_at, t2);
        let deleted = store
            .mark_deleted(
                INTEGRATION,
                ModelKind::ApplicationStage,
                &[updated[0].id.clone()],
                t2,
            )
            .await
            .unwrap();
        assert_eq!(deleted, 1);
        let (live, _) = store
            .list(
                INTEGRATION,
                ModelKind::ApplicationStage,
                &Filter::default(),
                None,
                10,
            )
            .await
            .unwrap();
        assert_eq!(live.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_first_sync_batch_inserts_new_records_and_compares_stored_ones() {
    each_backend(|store| async move {
        integration(&store).await;
        let t1 = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let t2 = Timestamp::parse("2026-01-02T00:00:00Z").unwrap();
        let input = |r: Record| RecordInput::from_record(&r).unwrap();
        // An interrupted first sync stored stages 1 and 2 …
        let first = vec![input(stage("1", "New")), input(stage("2", "Interview"))];
        let counts = store
            .apply_batch_with(INTEGRATION, &first, t1, true)
            .await
            .unwrap();
        assert_eq!(counts.inserted["ats_application_stages"], 2);
        // … the next attempt sees 1 unchanged, 2 renamed and 3 new, in one batch with a
        // duplicate of 3 (its last version wins).
        let second = vec![
            input(stage("1", "New")),
            input(stage("2", "Phone screen")),
            input(stage("3", "Offer")),
            input(stage("3", "Offer made")),
        ];
        let counts = store
            .apply_batch_with(INTEGRATION, &second, t2, true)
            .await
            .unwrap();
        assert_eq!(counts.inserted.get("ats_application_stages"), Some(&1));
        assert_eq!(counts.updated.get("ats_application_stages"), Some(&1));
        assert_eq!(counts.unchanged.get("ats_application_stages"), Some(&1));
        let (page, _) = store
            .list(
                INTEGRATION,
                ModelKind::ApplicationStage,
                &Filter::default(),
                None,
                10,
            )
            .await
            .unwrap();
        let names: Vec<(&str, Timestamp)> = page
            .iter()
            .map(|r| (r.payload["name"].as_str().unwrap(), r.changed_at))
            .collect();
        assert_eq!(
            names,
            [("New", t1), ("Phone screen", t2), ("Offer made", t2)]
        );
    })
    .await;
}

/// A record given away is stored exactly as one lent (its raw payload is moved instead of
/// copied, which must not change a byte of what is stored or hashed).
#[test]
fn owned_and_borrowed_records_store_the_same() {
    use crate::fixtures::{application, candidate, job, pipeline_stage, stage, A};
    let raw = serde_json::json!({"/recruitment/positions": {"id": 7, "title": "Line\nbreak \"q\"", "n": [1, 2.5, null]}});
    let mut j = job(A, "j1", "Engineer");
    j.stages = vec![pipeline_stage(A, "s1", "Applied", 0)];
    let mut with_data = j.clone();
    with_data.remote_data = Some(raw.clone());
    let mut c = candidate(A, "c1", "Ann", "Lee");
    c.profile.remote_data = Some(raw.clone());
    let mut a = application(A, "a1", "c1", "j1", Some("s1"));
    a.core.remote_data = Some(raw.clone());
    let mut none = candidate(A, "c2", "Bo", "Li");
    none.profile.remote_data = None;
    for record in [
        Record::Job(j),
        Record::Job(with_data),
        Record::Candidate(c),
        Record::Candidate(none),
        Record::Application(a),
        stage(A, "s1", "Applied", "j1"),
    ] {
        let borrowed = RecordInput::from_record(&record).unwrap();
        let owned = RecordInput::from_owned(record).unwrap();
        assert_eq!(owned, borrowed);
    }
}
