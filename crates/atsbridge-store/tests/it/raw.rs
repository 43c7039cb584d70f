//! Records read as stored text (`list_raw_after`, `by_ids_raw`, which the API serves from)
//! hold exactly what the parsed reads (`list_after`, `by_ids`) hold, on every page.

use atsbridge_model::ModelKind::{self, Application, ApplicationStage, Candidate, Job};
use atsbridge_store::{Filter, Position, RawRecord, Store, StoredRecord};
use serde_json::Value;

use crate::fixtures::*;
use crate::harness::each_backend;

/// Jobs with and without a pipeline, stages, candidates whose names hold the characters a
/// text format could trip on, and applications with and without stage and creation date;
/// one of each model deleted, one application updated later.
async fn tenant(store: &Store) {
    connect(store, A, "env").await;
    let mut j1 = job(A, "j1", "Engineer \u{1e}\u{1f} \"quoted\" \\ ünïcode");
    j1.stages = vec![
        pipeline_stage(A, "s1", "Applied", 0),
        pipeline_stage(A, "s2", "Interview", 1),
    ];
    j1.remote_created_at = Some(t("2026-03-05T00:00:00Z"));
    let j2 = job(A, "j2", "");
    let mut batch = vec![job_in(j1), job_in(j2)];
    batch.push(input(stage(A, "s1", "Applied", "j1")));
    batch.push(input(stage(A, "s2", "Interview", "j1")));
    for i in 0..5 {
        let mut c = candidate(A, &format!("c{i}"), "Ann\u{1e}", &format!("Lee\u{1f}{i}"));
        c.profile.title = Some("line\nbreak\ttab".into());
        batch.push(candidate_in(c));
        let stage = (i % 2 == 0).then_some("s2");
        let mut a = application(A, &format!("a{i}"), &format!("c{i}"), "j1", stage);
        if i >= 2 {
            a.core.remote_created_at = Some(t(&format!("2026-03-0{}T10:00:00Z", i + 1)));
        }
        batch.push(application_in(a, "j1"));
    }
    apply(store, A, batch, day(1)).await;
    for (model, remote) in [
        (Job, "j2"),
        (Candidate, "c4"),
        (Application, "a4"),
        (ApplicationStage, "s1"),
    ] {
        store
            .mark_deleted(A, model, &[id(A, model, remote)], day(2))
            .await
            .expect("mark deleted");
    }
    let mut a1 = application(A, "a1", "c1", "j1", Some("s1"));
    a1.core.outcome = Some(atsbridge_model::enums::Outcome::Hired);
    apply(store, A, vec![application_in(a1, "j1")], day(3)).await;
}

fn assert_same(raw: &[RawRecord], stored: &[StoredRecord], what: &str) {
    assert_eq!(raw.len(), stored.len(), "{what}: record count");
    for (r, s) in raw.iter().zip(stored) {
        let payload: Value = serde_json::from_str(&r.payload).expect("raw payload is JSON");
        let nested = r
            .nested
            .as_deref()
            .map(|n| serde_json::from_str::<Value>(n).expect("raw nested is JSON"));
        assert_eq!(
            (
                r.seq,
                &r.id,
                &payload,
                &nested,
                r.changed_at,
                r.updated_at,
                r.remote_deleted_at,
                r.remote_created_at,
                &r.candidate_id,
                &r.job_id,
                &r.current_stage_id,
            ),
            (
                s.seq,
                &s.id,
                &s.payload,
                &s.nested,
                s.changed_at,
                s.updated_at,
                s.remote_deleted_at,
                s.remote_created_at,
                &s.candidate_id,
                &s.job_id,
                &s.current_stage_id,
            ),
            "{what}: record {}",
            s.id
        );
    }
}

/// Walks every page of size 2 both ways and compares them page by page.
async fn same_pages(store: &Store, model: ModelKind, filter: &Filter, what: &str) -> usize {
    let mut after = None;
    let mut total = 0;
    loop {
        let (raw, raw_more) = store
            .list_raw_after(A, model, filter, after, 2)
            .await
            .expect("raw page");
        let (stored, more) = store
            .list_after(A, model, filter, after, 2)
            .await
            .expect("page");
        assert_same(&raw, &stored, what);
        assert_eq!(raw_more, more, "{what}: more");
        total += raw.len();
        if !more {
            return total;
        }
        let last = stored.last().expect("a full page");
        after = Some(Position {
            seq: last.seq,
            key: filter
                .order_column(model)
                .and_then(|column| last.order_key(column)),
        });
    }
}

#[tokio::test]
async fn raw_pages_hold_what_parsed_pages_hold() {
    each_backend(|store| async move {
        tenant(&store).await;
        let deleted = Filter {
            include_deleted: true,
            ..Filter::default()
        };
        let updated = Filter {
            updated_after: Some(day(2).unix_millis()),
            ..Filter::default()
        };
        let created = Filter {
            remote_created_after: Some(t("2026-03-02T00:00:00Z").unix_millis()),
            ..Filter::default()
        };
        let none = Filter {
            ids: Some(Vec::new()),
            ..Filter::default()
        };
        let cases: [(ModelKind, &Filter, &str, usize); 9] = [
            (Job, &Filter::default(), "jobs", 1),
            (Job, &deleted, "jobs with deleted", 2),
            (ApplicationStage, &deleted, "stages with deleted", 2),
            (Candidate, &Filter::default(), "candidates", 4),
            (Candidate, &deleted, "candidates with deleted", 5),
            (Application, &deleted, "applications with deleted", 5),
            (Application, &updated, "applications updated_after", 1),
            (
                Application,
                &created,
                "applications remote_created_after",
                2,
            ),
            (Application, &none, "an empty page", 0),
        ];
        for (model, filter, what, expected) in cases {
            assert_eq!(
                same_pages(&store, model, filter, what).await,
                expected,
                "{what}: how many records"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn raw_records_by_id_hold_what_parsed_ones_hold() {
    each_backend(|store| async move {
        tenant(&store).await;
        let mut ids: Vec<String> = (0..5).map(|i| id(A, Candidate, &format!("c{i}"))).collect();
        ids.push(id(A, Candidate, "missing"));
        let raw = store
            .by_ids_raw(A, Candidate, &ids)
            .await
            .expect("raw by ids");
        let stored = store.by_ids(A, Candidate, &ids).await.expect("by ids");
        assert_eq!(raw.len(), 5, "deleted ones included, the unknown id not");
        assert_same(&raw, &stored, "candidates by id");
        let jobs = [id(A, Job, "j1"), id(A, Job, "j2")];
        assert_same(
            &store.by_ids_raw(A, Job, &jobs).await.expect("raw jobs"),
            &store.by_ids(A, Job, &jobs).await.expect("jobs"),
            "jobs by id",
        );
        assert!(store
            .by_ids_raw(A, Candidate, &[id(A, Candidate, "missing")])
            .await
            .expect("raw by unknown id")
            .is_empty());
    })
    .await;
}

/// Candidates' summaries are rendered when the candidate is written and are what a summary
/// made from the candidate's JSON would be; a candidate written before summaries were stored
/// comes back with its JSON instead.
#[tokio::test]
async fn candidate_summaries_are_rendered_at_write_time_or_left_to_the_reader() {
    each_backend(|store| async move {
        tenant(&store).await;
        let ids = vec![
            id(A, Candidate, "c1"),
            id(A, Candidate, "c2"),
            id(A, Candidate, "missing"),
        ];
        let summaries = store.candidate_summaries(A, &ids).await.unwrap();
        assert_eq!(summaries.len(), 2, "{summaries:?}");
        for s in &summaries {
            let stored = get(&store, A, Candidate, &s.id).await;
            let expected: atsbridge_model::ApplicationCandidate =
                serde_json::from_value(stored.payload.clone()).unwrap();
            assert_eq!(
                s.summary.as_deref(),
                Some(serde_json::to_string(&expected).unwrap().as_str())
            );
            assert_eq!(s.payload, None);
        }
        // What a store written before this version holds.
        store
            .test_execute(
                "UPDATE records SET summary = NULL WHERE id = $1",
                &[&ids[0]],
            )
            .await
            .unwrap();
        let summaries = store.candidate_summaries(A, &ids[..1]).await.unwrap();
        assert_eq!(summaries[0].summary, None);
        let payload: Value =
            serde_json::from_str(summaries[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(payload, get(&store, A, Candidate, &ids[0]).await.payload);
        // The next sync of the unchanged candidate fills its summary in, writing nothing
        // else: it stays unchanged, its times do not move.
        let c9 = candidate(A, "c9", "Nia", "Okoro");
        apply(&store, A, vec![candidate_in(c9.clone())], day(3)).await;
        let c9_id = id(A, Candidate, "c9");
        let before = get(&store, A, Candidate, &c9_id).await;
        store
            .test_execute("UPDATE records SET summary = NULL WHERE id = $1", &[&c9_id])
            .await
            .unwrap();
        let counts = apply(&store, A, vec![candidate_in(c9)], day(4)).await;
        assert_eq!(
            counts.unchanged.get("ats_candidates"),
            Some(&1),
            "{counts:?}"
        );
        assert!(!counts.changed(), "{counts:?}");
        let after = get(&store, A, Candidate, &c9_id).await;
        assert_eq!(
            (after.changed_at, after.updated_at),
            (before.changed_at, before.updated_at)
        );
        let refilled = store
            .candidate_summaries(A, std::slice::from_ref(&c9_id))
            .await
            .unwrap();
        assert!(
            refilled[0].summary.is_some() && refilled[0].payload.is_none(),
            "{refilled:?}"
        );
        // Other models have none, and another integration sees nothing.
        assert!(store.candidate_summaries(B, &ids).await.unwrap().is_empty());
    })
    .await;
}

/// A page of applications comes with exactly the records its nested objects are made from:
/// the summaries of its candidates, its jobs and its current stages (deleted ones included),
/// and pages the same way `list_raw_after` does.
#[tokio::test]
async fn an_applications_page_brings_its_candidates_jobs_and_stages() {
    each_backend(|store| async move {
        tenant(&store).await;
        let filter = Filter {
            include_deleted: true,
            ..Filter::default()
        };
        let (all, _) = store
            .list_raw_after(A, Application, &filter, None, 100)
            .await
            .unwrap();
        assert_eq!(all.len(), 5);
        let first = store.applications_page(A, &filter, None, 3).await.unwrap();
        assert!(first.more);
        let seqs = |records: &[RawRecord]| records.iter().map(|r| r.seq).collect::<Vec<_>>();
        assert_eq!(seqs(&first.records), seqs(&all[..3]));
        let mut candidates: Vec<&str> = first.candidates.iter().map(|c| c.id.as_str()).collect();
        candidates.sort_unstable();
        let mut expected: Vec<String> =
            (0..3).map(|i| id(A, Candidate, &format!("c{i}"))).collect();
        expected.sort_unstable();
        assert_eq!(candidates, expected);
        assert!(first.candidates.iter().all(|c| c.summary.is_some()));
        let jobs: Vec<&str> = first.jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(jobs, [id(A, Job, "j1")]);
        assert_eq!(first.jobs[0].remote_id, "j1");
        assert!(first.jobs[0].nested.is_some(), "the pipeline comes along");
        // a0 and a2 are in s2, a1 was moved to s1 (which is deleted: still served).
        let mut stages: Vec<&str> = first.stages.iter().map(|s| s.id.as_str()).collect();
        stages.sort_unstable();
        let mut expected = vec![id(A, ApplicationStage, "s1"), id(A, ApplicationStage, "s2")];
        expected.sort_unstable();
        assert_eq!(stages, expected);
        let last = store
            .applications_page(
                A,
                &filter,
                Some(Position {
                    seq: first.records[2].seq,
                    key: None,
                }),
                3,
            )
            .await
            .unwrap();
        assert!(!last.more);
        assert_eq!(seqs(&last.records), seqs(&all[3..]));
        // a4 (deleted) points to c4 (deleted) in no stage.
        assert_eq!(last.stages.len(), 1, "{:?}", last.stages);
        // Another integration's page is empty.
        let other = store.applications_page(B, &filter, None, 3).await.unwrap();
        assert!(other.records.is_empty() && other.candidates.is_empty() && !other.more);
    })
    .await;
}
