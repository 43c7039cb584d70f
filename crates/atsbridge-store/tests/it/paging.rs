//! Keyset pagination by the immutable `seq`, the `more` flag, and cursors bound to filters.

use std::collections::BTreeSet;

use atsbridge_model::enums::JobStatus;
use atsbridge_model::ModelKind::{self, ApplicationStage, Candidate, Job};
use atsbridge_store::{Cursor, Filter, Position, Store, StoreError, StoredRecord};

use crate::fixtures::*;
use crate::harness::each_backend;

/// One page the way the API serves it: the cursor is decoded against the filter's binding,
/// and the next cursor is made from the last record of the page.
async fn page(
    store: &Store,
    model: ModelKind,
    filter: &Filter,
    cursor: Option<&str>,
    size: u32,
) -> Result<(Vec<StoredRecord>, Option<String>), StoreError> {
    let binding = filter.binding(A, model);
    let after = cursor
        .map(|raw| {
            Cursor::decode(raw, &binding).map(|c| Position {
                seq: c.seq,
                key: c.key,
            })
        })
        .transpose()?;
    let (records, more) = store.list_after(A, model, filter, after, size).await?;
    let next = more.then(|| {
        let last = records.last().expect("a full page");
        Cursor {
            seq: last.seq,
            key: filter
                .order_column(model)
                .and_then(|column| last.order_key(column)),
            binding,
        }
        .encode()
    });
    Ok((records, next))
}

fn remotes(records: &[StoredRecord]) -> Vec<&str> {
    records.iter().map(|r| r.remote_id.as_str()).collect()
}

async fn stages(store: &Store, n: usize) {
    connect(store, A, "env").await;
    let batch = (0..n)
        .map(|i| input(stage(A, &format!("s{i}"), "Stage", "j1")))
        .collect();
    apply(store, A, batch, day(1)).await;
}

#[tokio::test]
async fn pages_follow_seq_and_say_whether_more_follow() {
    each_backend(|store| async move {
        stages(&store, 7).await;
        let f = Filter::default();
        let (first, more) = store.list(A, ApplicationStage, &f, None, 3).await.unwrap();
        assert_eq!((remotes(&first), more), (vec!["s0", "s1", "s2"], true));
        assert!(first.windows(2).all(|w| w[0].seq < w[1].seq));
        let (second, more) = store
            .list(A, ApplicationStage, &f, Some(first[2].seq), 3)
            .await
            .unwrap();
        assert_eq!((remotes(&second), more), (vec!["s3", "s4", "s5"], true));
        let (last, more) = store
            .list(A, ApplicationStage, &f, Some(second[2].seq), 3)
            .await
            .unwrap();
        assert_eq!((remotes(&last), more), (vec!["s6"], false));
        let (after_end, more) = store
            .list(A, ApplicationStage, &f, Some(last[0].seq), 3)
            .await
            .unwrap();
        assert!(after_end.is_empty() && !more);
        // A page that ends exactly at the last record says no more follow.
        let (exact, more) = store
            .list(A, ApplicationStage, &f, Some(first[2].seq), 4)
            .await
            .unwrap();
        assert_eq!((exact.len(), more), (4, false));
        let (one, more) = store.list(A, ApplicationStage, &f, None, 1).await.unwrap();
        assert_eq!((remotes(&one), more), (vec!["s0"], true));
        let (everything, more) = store
            .list(A, ApplicationStage, &f, None, 250)
            .await
            .unwrap();
        assert_eq!((everything.len(), more), (7, false));
    })
    .await;
}

#[tokio::test]
async fn records_updated_between_pages_are_neither_lost_nor_repeated() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        let people: Vec<_> = (0..10)
            .map(|i| candidate_in(candidate(A, &format!("c{i}"), "Person", &format!("N{i}"))))
            .collect();
        apply(&store, A, people, day(1)).await;
        let f = Filter::default();
        let (first, next) = page(&store, Candidate, &f, None, 4).await.unwrap();
        assert_eq!(remotes(&first), ["c0", "c1", "c2", "c3"]);

        // One record already served and one not yet served change; a new one arrives.
        let changed = ["c1", "c7"].map(|r| candidate_in(candidate(A, r, "Changed", r)));
        let mut batch = changed.to_vec();
        batch.push(candidate_in(candidate(A, "c10", "Late", "Arrival")));
        apply(&store, A, batch, day(2)).await;

        let mut seen: Vec<StoredRecord> = first;
        let mut cursor = next;
        while let Some(c) = cursor {
            let (records, next) = page(&store, Candidate, &f, Some(&c), 4).await.unwrap();
            seen.extend(records);
            cursor = next;
        }
        let order = remotes(&seen);
        let expected = [
            "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10",
        ];
        assert_eq!(order, expected, "each once, in insertion order");
        let c7 = seen.iter().find(|r| r.remote_id == "c7").unwrap();
        assert_eq!(
            (c7.payload["first_name"].as_str(), c7.changed_at),
            (Some("Changed"), day(2))
        );
        let unique: BTreeSet<i64> = seen.iter().map(|r| r.seq).collect();
        assert_eq!(unique.len(), seen.len());
    })
    .await;
}

#[tokio::test]
async fn a_filtered_listing_fills_its_pages_with_matching_records_only() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        let batch = (0..10)
            .map(|i| {
                let mut j = job(A, &format!("j{i}"), "Job");
                if i % 2 == 1 {
                    j.status = Some(JobStatus::Closed);
                }
                job_in(j)
            })
            .collect();
        apply(&store, A, batch, day(1)).await;
        let open = Filter {
            statuses: Some(strings(&["OPEN"])),
            ..Filter::default()
        };
        let mut sizes = Vec::new();
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let (records, next) = page(&store, Job, &open, cursor.as_deref(), 2)
                .await
                .unwrap();
            sizes.push(records.len());
            seen.extend(records.into_iter().map(|r| r.remote_id));
            let Some(next) = next else { break };
            cursor = Some(next);
        }
        assert_eq!(sizes, [2, 2, 1]);
        assert_eq!(seen, ["j0", "j2", "j4", "j6", "j8"]);
    })
    .await;
}

#[tokio::test]
async fn a_cursor_replayed_with_other_filters_is_rejected() {
    each_backend(|store| async move {
        stages(&store, 5).await;
        let f = Filter {
            remote_ids: Some(strings(&["s0", "s1", "s2", "s3"])),
            ..Filter::default()
        };
        let (first, next) = page(&store, ApplicationStage, &f, None, 2).await.unwrap();
        assert_eq!(remotes(&first), ["s0", "s1"]);
        let cursor = next.expect("a second page");

        let (second, next) = page(&store, ApplicationStage, &f, Some(&cursor), 2)
            .await
            .unwrap();
        assert_eq!((remotes(&second), next), (vec!["s2", "s3"], None));

        let others = [
            Filter::default(),
            Filter {
                include_deleted: true,
                ..f.clone()
            },
            Filter {
                remote_ids: Some(strings(&["s0", "s1", "s2", "s4"])),
                ..f.clone()
            },
        ];
        for other in &others {
            let replayed = page(&store, ApplicationStage, other, Some(&cursor), 2).await;
            assert!(
                matches!(replayed, Err(StoreError::InvalidCursor(_))),
                "{other:?}: {replayed:?}"
            );
        }
        // The same filters on another model or integration do not accept it either.
        let binding = f.binding(A, ApplicationStage);
        assert!(Cursor::decode(&cursor, &binding).is_ok());
        assert!(Cursor::decode(&cursor, &f.binding(A, Job)).is_err());
        assert!(Cursor::decode(&cursor, &f.binding(B, ApplicationStage)).is_err());
        for garbage in ["", "not a cursor", "eyJzIjoxfQ", &cursor[1..]] {
            let r = page(&store, ApplicationStage, &f, Some(garbage), 2).await;
            assert!(
                matches!(r, Err(StoreError::InvalidCursor(_))),
                "{garbage:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn updated_after_pages_follow_updated_at_and_serve_records_changed_meanwhile_again() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        // s0..s5 stored on day 1; s4, s1, s3 then changed on days 2, 3 and 4.
        let batch = (0..6)
            .map(|i| input(stage(A, &format!("s{i}"), "Stage", "j1")))
            .collect();
        apply(&store, A, batch, day(1)).await;
        for (d, remote) in [(2, "s4"), (3, "s1"), (4, "s3")] {
            apply(
                &store,
                A,
                vec![input(stage(A, remote, "Renamed", "j1"))],
                day(d),
            )
            .await;
        }
        let f = Filter {
            updated_after: Some(day(1).unix_millis()),
            ..Filter::default()
        };
        let (first, next) = page(&store, ApplicationStage, &f, None, 2).await.unwrap();
        assert_eq!(remotes(&first), ["s4", "s1"], "oldest change first");
        // s4 changes again while the client pages: it comes back at the end, and nothing
        // between is skipped.
        apply(
            &store,
            A,
            vec![input(stage(A, "s4", "Again", "j1"))],
            day(5),
        )
        .await;
        let (second, next) = page(&store, ApplicationStage, &f, next.as_deref(), 2)
            .await
            .unwrap();
        assert_eq!(remotes(&second), ["s3", "s4"]);
        assert!(next.is_none());
        // A later cut-off serves only what changed after it.
        let t = day(4).unix_millis();
        let f = Filter {
            updated_after: Some(t),
            ..Filter::default()
        };
        let (last, next) = page(&store, ApplicationStage, &f, None, 10).await.unwrap();
        assert_eq!((remotes(&last), next), (vec!["s4"], None));
        // A position without updated_at (a cursor from before this ordering) is refused.
        let old = Position {
            seq: last[0].seq,
            key: None,
        };
        let err = store
            .list_after(A, ApplicationStage, &f, Some(old), 10)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidCursor(_)), "{err:?}");
    })
    .await;
}
