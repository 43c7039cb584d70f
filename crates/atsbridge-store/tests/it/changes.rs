//! Change tracking: `changed_at` moves only for a record's own payload (remote_data
//! included); `updated_at` also moves for the nested changes Kombo's `updated_after` counts.

use atsbridge_model::connector::Record;
use atsbridge_model::enums::{JobStatus, Outcome};
use atsbridge_model::ModelKind::{self, Application, ApplicationStage, Candidate, Job};
use atsbridge_store::Filter;
use serde_json::json;

use crate::fixtures::*;
use crate::harness::each_backend;

fn count(map: &std::collections::BTreeMap<&'static str, u64>, model: ModelKind) -> u64 {
    map.get(model.as_str()).copied().unwrap_or(0)
}

/// Every record of integration `A`, deleted or not.
async fn everything(store: &atsbridge_store::Store) -> Vec<atsbridge_store::StoredRecord> {
    let mut out = Vec::new();
    for model in ModelKind::ATS {
        let f = Filter {
            include_deleted: true,
            ..Filter::default()
        };
        out.extend(all(store, A, model, &f).await);
    }
    out
}

#[tokio::test]
async fn inserting_a_batch_counts_each_model_and_stamps_both_times_with_now() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        let counts = apply(&store, A, seed(A), day(1)).await;
        assert_eq!(count(&counts.inserted, Job), 2);
        assert_eq!(count(&counts.inserted, ApplicationStage), 2);
        assert_eq!(count(&counts.inserted, Candidate), 2);
        assert_eq!(count(&counts.inserted, Application), 3);
        assert!(counts.updated.is_empty() && counts.unchanged.is_empty());
        assert_eq!(counts.touched, 0, "records inserted now need no touch");
        assert!(counts.changed());
        for model in ModelKind::ATS {
            for r in all(&store, A, model, &Filter::default()).await {
                assert_eq!((r.changed_at, r.updated_at), (day(1), day(1)), "{model}");
                assert_eq!(r.remote_deleted_at, None);
                assert!(r.payload.get("changed_at").is_none(), "the store owns it");
                assert_eq!(r.json()["changed_at"], "2026-01-01T12:00:00.000Z");
                assert_eq!(r.json()["remote_deleted_at"], json!(null));
            }
        }
        let job = get(&store, A, Job, &id(A, Job, "j1")).await;
        assert!(job.payload.get("stages").is_none(), "stages are nested");
        assert_eq!(job.nested.as_ref().unwrap()[1]["name"], "Interview");
        let app = get(&store, A, Application, &id(A, Application, "a1")).await;
        assert_eq!(app.candidate_id, Some(id(A, Candidate, "c1")));
        assert_eq!(app.job_id, Some(id(A, Job, "j1")));
        assert_eq!(app.current_stage_id, Some(id(A, ApplicationStage, "s1")));
    })
    .await;
}

#[tokio::test]
async fn reapplying_an_unchanged_batch_writes_nothing() {
    each_backend(|store| async move {
        seeded(&store).await;
        // What the store owns or ignores differs: the connector's changed_at, and the order
        // in which a map's keys were inserted.
        let mut batch = seed(A);
        let mut job = j1(A);
        job.changed_at = day(9);
        let mut c = c1(A);
        let mut fields = serde_json::Map::new();
        fields.insert("b".into(), json!(2));
        fields.insert("a".into(), json!(1));
        c.profile.custom_fields = Some(fields);
        apply(&store, A, vec![candidate_in(c)], day(1)).await;
        let mut c = c1(A);
        let mut reordered = serde_json::Map::new();
        reordered.insert("a".into(), json!(1));
        reordered.insert("b".into(), json!(2));
        c.profile.custom_fields = Some(reordered);
        batch[0] = job_in(job);
        batch[4] = candidate_in(c);
        let before = everything(&store).await;

        let counts = apply(&store, A, batch, day(2)).await;
        assert!(!counts.changed(), "{counts:?}");
        assert!(counts.inserted.is_empty() && counts.updated.is_empty());
        assert_eq!(counts.touched, 0);
        assert_eq!(count(&counts.unchanged, Job), 2);
        assert_eq!(count(&counts.unchanged, ApplicationStage), 2);
        assert_eq!(count(&counts.unchanged, Candidate), 2);
        assert_eq!(count(&counts.unchanged, Application), 3);
        for model in ModelKind::ATS {
            for r in all(&store, A, model, &Filter::default()).await {
                assert_eq!((r.changed_at, r.updated_at), (day(1), day(1)), "{model}");
            }
        }
        assert_eq!(everything(&store).await, before, "not a byte rewritten");
    })
    .await;
}

#[tokio::test]
async fn a_changed_own_field_moves_changed_at_and_updated_at() {
    each_backend(|store| async move {
        seeded(&store).await;
        let mut job = j1(A);
        job.name = Some("Senior Rust Engineer".into());
        job.status = Some(JobStatus::Closed);
        let counts = apply(&store, A, vec![job_in(job), job_in(j2(A))], day(2)).await;
        assert_eq!(count(&counts.updated, Job), 1);
        assert_eq!(count(&counts.unchanged, Job), 1);
        assert_eq!(times(&store, Job, "j1").await, (day(2), day(2)));
        assert_eq!(times(&store, Job, "j2").await, (day(1), day(1)));
        let stored = get(&store, A, Job, &id(A, Job, "j1")).await;
        assert_eq!(stored.payload["name"], "Senior Rust Engineer");
        let closed = Filter {
            statuses: Some(strings(&["CLOSED"])),
            ..Filter::default()
        };
        assert_eq!(remote_ids(&store, A, Job, &closed).await, ["j1"]);
    })
    .await;
}

#[tokio::test]
async fn a_change_only_in_a_jobs_stages_moves_updated_at_but_not_changed_at() {
    each_backend(|store| async move {
        seeded(&store).await;
        let mut job = j1(A);
        job.stages.push(pipeline_stage(A, "s3", "Offer", 2));
        let counts = apply(&store, A, vec![job_in(job)], day(2)).await;
        assert!(counts.updated.is_empty(), "{counts:?}");
        assert_eq!(count(&counts.unchanged, Job), 1);
        assert_eq!(counts.touched, 1);
        assert!(counts.changed());
        assert_eq!(times(&store, Job, "j1").await, (day(1), day(2)));
        let stored = get(&store, A, Job, &id(A, Job, "j1")).await;
        assert_eq!(stored.nested.unwrap().as_array().unwrap().len(), 3);
        let since = Filter {
            updated_after: Some(day(1).unix_millis()),
            ..Filter::default()
        };
        assert_eq!(remote_ids(&store, A, Job, &since).await, ["j1"]);
    })
    .await;
}

#[tokio::test]
async fn a_changed_application_moves_its_candidates_updated_at_but_not_changed_at() {
    each_backend(|store| async move {
        seeded(&store).await;
        let mut app = a1(A);
        app.core.outcome = Some(Outcome::Hired);
        let counts = apply(&store, A, vec![application_in(app, "j1")], day(2)).await;
        assert_eq!(count(&counts.updated, Application), 1);
        assert_eq!(counts.touched, 1, "the candidate of a1");
        assert_eq!(times(&store, Application, "a1").await, (day(2), day(2)));
        assert_eq!(times(&store, Candidate, "c1").await, (day(1), day(2)));
        assert_eq!(times(&store, Candidate, "c2").await, (day(1), day(1)));
        assert_eq!(
            times(&store, Job, "j1").await,
            (day(1), day(1)),
            "not linked"
        );
    })
    .await;
}

#[tokio::test]
async fn a_new_application_moves_its_candidates_updated_at() {
    each_backend(|store| async move {
        seeded(&store).await;
        let app = application(A, "a4", "c2", "j2", None);
        apply(&store, A, vec![application_in(app, "j2")], day(2)).await;
        assert_eq!(times(&store, Candidate, "c2").await, (day(1), day(2)));
        assert_eq!(times(&store, Candidate, "c1").await, (day(1), day(1)));
    })
    .await;
}

#[tokio::test]
async fn an_application_moved_to_another_candidate_moves_both_candidates_updated_at() {
    each_backend(|store| async move {
        seeded(&store).await;
        let app = application(A, "a3", "c2", "j2", None);
        apply(&store, A, vec![application_in(app, "j2")], day(2)).await;
        assert_eq!(times(&store, Candidate, "c1").await, (day(1), day(2)));
        assert_eq!(times(&store, Candidate, "c2").await, (day(1), day(2)));
    })
    .await;
}

#[tokio::test]
async fn a_changed_candidate_moves_its_applications_updated_at_but_not_changed_at() {
    each_backend(|store| async move {
        seeded(&store).await;
        let mut c = c1(A);
        c.profile.last_name = Some("King".into());
        let counts = apply(&store, A, vec![candidate_in(c)], day(2)).await;
        assert_eq!(count(&counts.updated, Candidate), 1);
        assert_eq!(counts.touched, 2, "a1 and a3");
        assert_eq!(times(&store, Candidate, "c1").await, (day(2), day(2)));
        assert_eq!(times(&store, Application, "a1").await, (day(1), day(2)));
        assert_eq!(times(&store, Application, "a3").await, (day(1), day(2)));
        assert_eq!(times(&store, Application, "a2").await, (day(1), day(1)));
    })
    .await;
}

#[tokio::test]
async fn a_changed_stage_moves_updated_at_of_the_applications_in_it_only() {
    each_backend(|store| async move {
        seeded(&store).await;
        let counts = apply(
            &store,
            A,
            vec![input(stage(A, "s1", "Screening", "j1"))],
            day(2),
        )
        .await;
        assert_eq!(count(&counts.updated, ApplicationStage), 1);
        assert_eq!(counts.touched, 1, "a1 only");
        assert_eq!(
            times(&store, ApplicationStage, "s1").await,
            (day(2), day(2))
        );
        assert_eq!(times(&store, Application, "a1").await, (day(1), day(2)));
        assert_eq!(times(&store, Application, "a2").await, (day(1), day(1)));
        assert_eq!(times(&store, Application, "a3").await, (day(1), day(1)));
        assert_eq!(times(&store, Job, "j1").await, (day(1), day(1)));
    })
    .await;
}

#[tokio::test]
async fn a_change_only_in_remote_data_counts_as_an_own_change() {
    each_backend(|store| async move {
        seeded(&store).await;
        let mut c = c2(A);
        c.profile.remote_data = Some(json!({"/recruitment/applicants/2": {"rating": 3}}));
        let counts = apply(&store, A, vec![candidate_in(c.clone())], day(2)).await;
        assert_eq!(count(&counts.updated, Candidate), 1);
        assert_eq!(times(&store, Candidate, "c2").await, (day(2), day(2)));
        c.profile.remote_data = Some(json!({"/recruitment/applicants/2": {"rating": 4}}));
        apply(&store, A, vec![candidate_in(c)], day(3)).await;
        assert_eq!(times(&store, Candidate, "c2").await, (day(3), day(3)));
        let stored = get(&store, A, Candidate, &id(A, Candidate, "c2")).await;
        assert_eq!(
            stored.payload["remote_data"]["/recruitment/applicants/2"]["rating"],
            4
        );

        let Record::ApplicationStage {
            mut stage,
            job_remote_id,
        } = s2(A)
        else {
            unreachable!()
        };
        stage.remote_data = Some(json!({"/recruitment/positions/j1": {"raw": true}}));
        let record = Record::ApplicationStage {
            stage,
            job_remote_id,
        };
        apply(&store, A, vec![input(record)], day(4)).await;
        assert_eq!(
            times(&store, ApplicationStage, "s2").await,
            (day(4), day(4))
        );
    })
    .await;
}

#[tokio::test]
async fn nested_changes_in_one_integration_leave_another_integrations_records_alone() {
    each_backend(|store| async move {
        seeded(&store).await;
        connect(&store, B, "env").await;
        // The very same ids in both integrations: only the integration tells them apart.
        apply(&store, B, seed(A), day(1)).await;
        let mut app = a1(A);
        app.core.outcome = Some(Outcome::Declined);
        let mut c = c2(A);
        c.profile.first_name = Some("Amazing Grace".into());
        let batch = vec![
            application_in(app, "j1"),
            candidate_in(c),
            input(stage(A, "s1", "Screening", "j1")),
        ];
        apply(&store, B, batch, day(2)).await;
        for model in ModelKind::ATS {
            for r in all(&store, A, model, &Filter::default()).await {
                assert_eq!((r.changed_at, r.updated_at), (day(1), day(1)), "{model}");
            }
        }
        let c1_in_b = get(&store, B, Candidate, &id(A, Candidate, "c1")).await;
        assert_eq!(c1_in_b.updated_at, day(2));
    })
    .await;
}

#[tokio::test]
async fn a_record_repeated_within_one_batch_is_stored_once_with_its_last_version() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        // A listing whose pages shifted can deliver the same row twice.
        let mut renamed = c1(A);
        renamed.profile.first_name = Some("Augusta Ada".into());
        let batch = vec![candidate_in(c1(A)), candidate_in(renamed)];
        let counts = store.apply_batch(A, &batch, day(1)).await;
        assert!(counts.is_ok(), "{counts:?}");
        let stored = all(&store, A, Candidate, &Filter::default()).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].payload["first_name"], "Augusta Ada");
    })
    .await;
}

#[tokio::test]
async fn columns_given_beside_the_payload_follow_the_latest_batch() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        // First seen before its job's remote id was known, and a stage first seen under j1.
        let unknown_job = input(Record::Application(a3(A))).with_job_remote_id(None);
        let batch = vec![unknown_job, input(stage(A, "s1", "New", "j1"))];
        apply(&store, A, batch, day(1)).await;
        let batch = vec![
            application_in(a3(A), "j2"),
            input(stage(A, "s1", "New", "j2")),
        ];
        apply(&store, A, batch, day(2)).await;
        let by_remote_job = Filter {
            job_remote_ids: Some(strings(&["j2"])),
            ..Filter::default()
        };
        assert_eq!(
            remote_ids(&store, A, Application, &by_remote_job).await,
            ["a3"]
        );
        let live = store.live_ids(A, ApplicationStage, 0, 10).await.unwrap();
        assert_eq!(live[0].2.as_deref(), Some("j2"), "the stage's current job");
    })
    .await;
}
