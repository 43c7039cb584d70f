//! Deletion marks, undeletion, and the live-id listing the sweep pages through.

use atsbridge_model::ModelKind::{self, Application, ApplicationStage, Candidate, Job};
use atsbridge_store::{Filter, Store};

use crate::fixtures::*;
use crate::harness::each_backend;

async fn delete(
    store: &Store,
    model: ModelKind,
    remotes: &[&str],
    now: atsbridge_model::Timestamp,
) -> u64 {
    let ids: Vec<String> = remotes.iter().map(|r| id(A, model, r)).collect();
    store
        .mark_deleted(A, model, &ids, now)
        .await
        .expect("mark records deleted")
}

fn with_deleted() -> Filter {
    Filter {
        include_deleted: true,
        ..Filter::default()
    }
}

#[tokio::test]
async fn mark_deleted_sets_remote_deleted_at_and_changed_at_and_hides_the_record() {
    each_backend(|store| async move {
        seeded(&store).await;
        assert_eq!(delete(&store, Job, &["j2"], day(2)).await, 1);
        let j2 = get(&store, A, Job, &id(A, Job, "j2")).await;
        assert_eq!(j2.remote_deleted_at, Some(day(2)));
        assert_eq!((j2.changed_at, j2.updated_at), (day(2), day(2)));
        assert_eq!(j2.json()["remote_deleted_at"], "2026-01-02T12:00:00.000Z");
        assert_eq!(remote_ids(&store, A, Job, &Filter::default()).await, ["j1"]);
        assert_eq!(
            remote_ids(&store, A, Job, &with_deleted()).await,
            ["j1", "j2"]
        );
        let since = Filter {
            updated_after: Some(day(1).unix_millis()),
            ..with_deleted()
        };
        assert_eq!(
            remote_ids(&store, A, Job, &since).await,
            ["j2"],
            "a deletion is a change"
        );
        let counts = store.counts(A).await.unwrap();
        assert_eq!(
            counts.get("ats_jobs"),
            Some(&1),
            "counts are of live records"
        );
        assert_eq!(counts.get("ats_applications"), Some(&3));
    })
    .await;
}

#[tokio::test]
async fn marking_a_deleted_record_again_counts_nothing_and_keeps_its_time() {
    each_backend(|store| async move {
        seeded(&store).await;
        assert_eq!(delete(&store, Job, &["j2"], day(2)).await, 1);
        assert_eq!(delete(&store, Job, &["j2", "unknown"], day(3)).await, 0);
        let j2 = get(&store, A, Job, &id(A, Job, "j2")).await;
        assert_eq!(j2.remote_deleted_at, Some(day(2)));
        assert_eq!((j2.changed_at, j2.updated_at), (day(2), day(2)));
        assert_eq!(delete(&store, Job, &[], day(3)).await, 0);
    })
    .await;
}

#[tokio::test]
async fn deleting_an_application_moves_its_candidates_updated_at() {
    each_backend(|store| async move {
        seeded(&store).await;
        delete(&store, Application, &["a2"], day(2)).await;
        assert_eq!(times(&store, Candidate, "c2").await, (day(1), day(2)));
        assert_eq!(times(&store, Candidate, "c1").await, (day(1), day(1)));
    })
    .await;
}

#[tokio::test]
async fn deleting_a_candidate_moves_its_applications_updated_at() {
    each_backend(|store| async move {
        seeded(&store).await;
        delete(&store, Candidate, &["c1"], day(2)).await;
        assert_eq!(times(&store, Application, "a1").await, (day(1), day(2)));
        assert_eq!(times(&store, Application, "a3").await, (day(1), day(2)));
        assert_eq!(times(&store, Application, "a2").await, (day(1), day(1)));
    })
    .await;
}

#[tokio::test]
async fn deleting_a_stage_moves_updated_at_of_the_applications_in_it() {
    each_backend(|store| async move {
        seeded(&store).await;
        delete(&store, ApplicationStage, &["s2"], day(2)).await;
        assert_eq!(times(&store, Application, "a2").await, (day(1), day(2)));
        assert_eq!(times(&store, Application, "a1").await, (day(1), day(1)));
    })
    .await;
}

#[tokio::test]
async fn reapplying_a_deleted_record_undeletes_it_and_counts_as_updated() {
    each_backend(|store| async move {
        seeded(&store).await;
        let seq = get(&store, A, Application, &id(A, Application, "a3"))
            .await
            .seq;
        delete(&store, Application, &["a3"], day(2)).await;
        // The very same payload comes back.
        let counts = apply(&store, A, vec![application_in(a3(A), "j2")], day(3)).await;
        assert_eq!(
            counts.updated.get("ats_applications"),
            Some(&1),
            "{counts:?}"
        );
        assert!(counts.unchanged.is_empty());
        let back = get(&store, A, Application, &id(A, Application, "a3")).await;
        assert_eq!(back.remote_deleted_at, None);
        assert_eq!((back.changed_at, back.updated_at), (day(3), day(3)));
        assert_eq!(back.seq, seq, "the record keeps its place in pages");
        let live = remote_ids(&store, A, Application, &Filter::default()).await;
        assert_eq!(live, ["a1", "a2", "a3"]);
        assert_eq!(
            times(&store, Candidate, "c1").await,
            (day(1), day(3)),
            "re-added"
        );
        // And once back, an unchanged re-apply writes nothing again.
        let again = apply(&store, A, vec![application_in(a3(A), "j2")], day(4)).await;
        assert!(!again.changed(), "{again:?}");
        assert_eq!(times(&store, Application, "a3").await, (day(3), day(3)));
    })
    .await;
}

#[tokio::test]
async fn live_ids_page_by_seq_skip_deleted_records_and_name_the_stage_parent() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        let stages: Vec<_> = (0..7)
            .map(|n| {
                input(stage(
                    A,
                    &format!("s{n}"),
                    "Stage",
                    &format!("job{}", n % 2),
                ))
            })
            .collect();
        apply(&store, A, stages, day(1)).await;
        delete(&store, ApplicationStage, &["s1", "s4"], day(2)).await;

        let mut seen = Vec::new();
        let mut after = 0;
        loop {
            let page = store.live_ids(A, ApplicationStage, after, 2).await.unwrap();
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            assert!(page.windows(2).all(|w| w[0].0 < w[1].0), "in seq order");
            assert!(page[0].0 > after, "after the given seq");
            after = last.0;
            seen.extend(page);
        }
        let expected: Vec<(String, Option<String>)> = [0, 2, 3, 5, 6]
            .iter()
            .map(|n| {
                (
                    id(A, ApplicationStage, &format!("s{n}")),
                    Some(format!("job{}", n % 2)),
                )
            })
            .collect();
        let got: Vec<(String, Option<String>)> = seen
            .into_iter()
            .map(|(_, id, parent)| (id, parent))
            .collect();
        assert_eq!(got, expected);
        assert!(store.live_ids(A, Job, 0, 10).await.unwrap().is_empty());
        assert!(store
            .live_ids(B, ApplicationStage, 0, 10)
            .await
            .unwrap()
            .is_empty());

        // Jobs have no parent.
        apply(&store, A, vec![job_in(j2(A))], day(3)).await;
        let jobs = store.live_ids(A, Job, 0, 10).await.unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(
            (jobs[0].1.as_str(), jobs[0].2.as_deref()),
            (id(A, Job, "j2").as_str(), None)
        );
    })
    .await;
}

#[tokio::test]
async fn batches_and_deletions_larger_than_one_statement_chunk_are_handled_whole() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        let n = 950;
        let batch = |name: &str| -> Vec<_> {
            (0..n)
                .map(|i| input(stage(A, &format!("s{i:04}"), name, "j1")))
                .collect()
        };
        let counts = apply(&store, A, batch("New"), day(1)).await;
        assert_eq!(
            counts.inserted.get("ats_application_stages"),
            Some(&(n as u64))
        );
        let again = apply(&store, A, batch("New"), day(2)).await;
        assert_eq!(
            again.unchanged.get("ats_application_stages"),
            Some(&(n as u64))
        );
        assert!(!again.changed());
        let ids: Vec<String> = (0..n)
            .filter(|i| i % 10 != 0)
            .map(|i| id(A, ApplicationStage, &format!("s{i:04}")))
            .collect();
        assert_eq!(
            store.by_ids(A, ApplicationStage, &ids).await.unwrap().len(),
            ids.len()
        );
        let marked = store
            .mark_deleted(A, ApplicationStage, &ids, day(3))
            .await
            .unwrap();
        assert_eq!(marked, ids.len() as u64);
        let live = store
            .live_ids(A, ApplicationStage, 0, 10_000)
            .await
            .unwrap();
        assert_eq!(live.len(), n / 10);
        let counts = apply(&store, A, batch("New"), day(4)).await;
        assert_eq!(
            counts.updated.get("ats_application_stages"),
            Some(&(ids.len() as u64))
        );
        assert_eq!(
            counts.unchanged.get("ats_application_stages"),
            Some(&(n as u64 / 10))
        );
    })
    .await;
}
