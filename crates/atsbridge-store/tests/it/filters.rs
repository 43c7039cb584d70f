//! The filters every list has (ids, remote_ids, updated_after, include_deleted) and those of
//! `/ats/jobs`: filters are AND-ed, values of one list OR-ed, an empty list matches nothing.

use atsbridge_model::enums::{EmploymentType, JobStatus, Visibility};
use atsbridge_model::ModelKind::{Candidate, Job};
use atsbridge_store::{Filter, OrderColumn, Position, Store};

use crate::fixtures::*;
use crate::harness::each_backend;

/// Six jobs that differ in every filtered field.
async fn jobs(store: &Store) {
    connect(store, A, "env").await;
    let mut j1 = job(A, "j1", "Senior Rust Engineer");
    j1.job_code = Some("ENG-1".into());
    j1.post_url = Some("https://jobs.acme.test/1".into());
    j1.remote_created_at = Some(t("2026-03-05T00:00:00Z"));

    let mut j2 = job(A, "j2", "100% Remote_Designer");
    j2.status = Some(JobStatus::Closed);
    j2.employment_type = Some(EmploymentType::PartTime);
    j2.visibility = Some(Visibility::Internal);
    j2.job_code = Some("DES-2".into());
    j2.post_url = Some("https://jobs.acme.test/2".into());
    j2.remote_created_at = Some(t("2026-03-04T23:59:59.999Z"));

    let mut j3 = job(A, "j3", r"Office Manager \ Admin");
    j3.status = Some(JobStatus::Draft);
    j3.employment_type = Some(EmploymentType::Other("Freelance (4 days)".into()));
    j3.visibility = Some(Visibility::Unlisted);
    j3.remote_created_at = Some(t("2026-03-05T18:00:00+02:00"));

    let mut j4 = job(A, "j4", "Ruby ENGINEER");
    j4.status = Some(JobStatus::Other("On hold".into()));
    j4.employment_type = Some(EmploymentType::Contract);
    j4.visibility = Some(Visibility::Confidential);
    j4.job_code = Some("ENG-4".into());

    let mut j5 = job(A, "j5", "100 Percent Remote Designer");
    j5.job_code = Some("DES-5".into());
    j5.remote_created_at = Some(t("2026-03-06T00:00:00Z"));

    let mut j6 = job(A, "j6", "LEITUNG ÄRZTE");
    j6.status = None;
    j6.employment_type = None;
    j6.visibility = None;

    let batch = [j1, j2, j3, j4, j5, j6].into_iter().map(job_in).collect();
    apply(store, A, batch, day(1)).await;
}

async fn found(store: &Store, filter: Filter) -> Vec<String> {
    remote_ids(store, A, Job, &filter).await
}

fn list(values: &[&str]) -> Option<Vec<String>> {
    Some(strings(values))
}

#[tokio::test]
async fn ids_and_remote_ids_select_exactly_the_listed_records() {
    each_backend(|store| async move {
        jobs(&store).await;
        let ids = Some(vec![id(A, Job, "j1"), id(A, Job, "j3"), id(A, Job, "nope")]);
        let by_ids = Filter {
            ids: ids.clone(),
            ..Filter::default()
        };
        assert_eq!(found(&store, by_ids).await, ["j1", "j3"]);
        let by_remote = Filter {
            remote_ids: list(&["j2", "j4", "nope"]),
            ..Filter::default()
        };
        assert_eq!(found(&store, by_remote).await, ["j2", "j4"]);
        let both = Filter {
            ids,
            remote_ids: list(&["j3", "j4"]),
            ..Filter::default()
        };
        assert_eq!(found(&store, both).await, ["j3"], "AND-ed");
        let wrong_model = Filter {
            ids: Some(vec![id(A, Candidate, "j1")]),
            ..Filter::default()
        };
        assert!(found(&store, wrong_model).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn updated_after_is_strictly_after() {
    each_backend(|store| async move {
        jobs(&store).await;
        let mut j2 = job(A, "j2", "Designer");
        j2.status = Some(JobStatus::Archived);
        apply(&store, A, vec![job_in(j2)], day(2)).await;
        let after = |ms: i64| Filter {
            updated_after: Some(ms),
            ..Filter::default()
        };
        let t2 = day(2).unix_millis();
        assert_eq!(found(&store, after(t2 - 1)).await, ["j2"]);
        assert!(
            found(&store, after(t2)).await.is_empty(),
            "not at the same millisecond"
        );
        assert_eq!(
            found(&store, after(day(1).unix_millis() - 1)).await.len(),
            6
        );
        assert_eq!(found(&store, after(day(1).unix_millis())).await, ["j2"]);
    })
    .await;
}

#[tokio::test]
async fn include_deleted_adds_deleted_records_to_any_filter() {
    each_backend(|store| async move {
        jobs(&store).await;
        store
            .mark_deleted(A, Job, &[id(A, Job, "j1")], day(2))
            .await
            .unwrap();
        let open = Filter {
            statuses: list(&["OPEN"]),
            ..Filter::default()
        };
        assert_eq!(found(&store, open.clone()).await, ["j5"]);
        let open_too = Filter {
            include_deleted: true,
            ..open
        };
        assert_eq!(found(&store, open_too).await, ["j1", "j5"]);
    })
    .await;
}

#[tokio::test]
async fn statuses_employment_types_and_visibilities_match_any_listed_value() {
    each_backend(|store| async move {
        jobs(&store).await;
        let f = |statuses, employment_types, visibilities| Filter {
            statuses,
            employment_types,
            visibilities,
            ..Filter::default()
        };
        assert_eq!(
            found(&store, f(list(&["OPEN"]), None, None)).await,
            ["j1", "j5"]
        );
        assert_eq!(
            found(&store, f(list(&["CLOSED", "DRAFT"]), None, None)).await,
            ["j2", "j3"]
        );
        assert_eq!(
            found(&store, f(list(&["On hold"]), None, None)).await,
            ["j4"],
            "raw value"
        );
        assert!(found(&store, f(list(&["open"]), None, None))
            .await
            .is_empty());
        let types = list(&["PART_TIME", "Freelance (4 days)"]);
        assert_eq!(found(&store, f(None, types, None)).await, ["j2", "j3"]);
        let vis = list(&["INTERNAL", "CONFIDENTIAL"]);
        assert_eq!(found(&store, f(None, None, vis)).await, ["j2", "j4"]);
        let all_three = f(
            list(&["OPEN", "CLOSED"]),
            list(&["FULL_TIME"]),
            list(&["PUBLIC"]),
        );
        assert_eq!(found(&store, all_three).await, ["j1", "j5"]);
    })
    .await;
}

#[tokio::test]
async fn job_codes_and_post_url_match_exactly() {
    each_backend(|store| async move {
        jobs(&store).await;
        let codes = Filter {
            job_codes: list(&["ENG-1", "ENG-4", "ENG"]),
            ..Filter::default()
        };
        assert_eq!(found(&store, codes).await, ["j1", "j4"]);
        let url = |u: &str| Filter {
            post_url: Some(u.into()),
            ..Filter::default()
        };
        assert_eq!(found(&store, url("https://jobs.acme.test/2")).await, ["j2"]);
        assert!(found(&store, url("https://jobs.acme.test/"))
            .await
            .is_empty());
        assert!(found(&store, url("https://jobs.acme.test/%"))
            .await
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn name_contains_is_a_case_insensitive_substring_match() {
    each_backend(|store| async move {
        jobs(&store).await;
        let name = |n: &str| Filter {
            name_contains: Some(n.into()),
            ..Filter::default()
        };
        assert_eq!(found(&store, name("engineer")).await, ["j1", "j4"]);
        assert_eq!(found(&store, name("RUST")).await, ["j1"]);
        assert_eq!(found(&store, name("ior rust eng")).await, ["j1"]);
        assert_eq!(found(&store, name("ärzte")).await, ["j6"], "beyond ASCII");
        assert!(found(&store, name("engineers")).await.is_empty());
        assert_eq!(found(&store, name("")).await.len(), 6);
    })
    .await;
}

#[tokio::test]
async fn name_contains_takes_percent_underscore_and_backslash_literally() {
    each_backend(|store| async move {
        jobs(&store).await;
        let name = |n: &str| Filter {
            name_contains: Some(n.into()),
            ..Filter::default()
        };
        // As LIKE wildcards, `%` and `_` would also match j5 ("100 Percent Remote Designer").
        assert_eq!(found(&store, name("100%")).await, ["j2"]);
        assert_eq!(found(&store, name("remote_designer")).await, ["j2"]);
        assert!(found(&store, name("%")).await.len() == 1);
        assert!(found(&store, name("_")).await.len() == 1);
        assert_eq!(found(&store, name(r"r \ a")).await, ["j3"]);
        assert!(found(&store, name(r"\%")).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn remote_created_after_counts_the_whole_utc_day() {
    each_backend(|store| async move {
        jobs(&store).await;
        let after = |s: &str| Filter {
            remote_created_after: Some(t(s).unix_millis()),
            ..Filter::default()
        };
        // j1 at 03-05 00:00, j2 one millisecond earlier, j3 at 03-05 16:00 UTC, j5 on 03-06,
        // j4 and j6 unknown.
        assert_eq!(
            found(&store, after("2026-03-05T15:00:00Z")).await,
            ["j1", "j3", "j5"]
        );
        assert_eq!(
            found(&store, after("2026-03-05T00:00:00Z")).await,
            ["j1", "j3", "j5"]
        );
        assert_eq!(
            found(&store, after("2026-03-05T23:59:59.999Z")).await,
            ["j1", "j3", "j5"]
        );
        assert_eq!(
            found(&store, after("2026-03-04T23:59:59.999Z")).await,
            ["j1", "j2", "j3", "j5"]
        );
        assert_eq!(
            found(&store, after("2026-03-06T00:00:00.001Z")).await,
            ["j5"]
        );
        assert!(found(&store, after("2026-03-07T00:00:00Z"))
            .await
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn filters_are_and_ed_and_values_within_one_are_or_ed() {
    each_backend(|store| async move {
        jobs(&store).await;
        let f = Filter {
            statuses: list(&["OPEN", "CLOSED", "On hold"]),
            employment_types: list(&["FULL_TIME", "CONTRACT"]),
            name_contains: Some("engineer".into()),
            ..Filter::default()
        };
        assert_eq!(found(&store, f.clone()).await, ["j1", "j4"]);
        let narrower = Filter {
            job_codes: list(&["ENG-4", "DES-2"]),
            ..f.clone()
        };
        assert_eq!(found(&store, narrower).await, ["j4"]);
        let since = day(1).unix_millis();
        let none = Filter {
            updated_after: Some(since),
            ..f
        };
        assert!(found(&store, none).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn an_empty_list_matches_nothing() {
    each_backend(|store| async move {
        jobs(&store).await;
        let empty = Some(Vec::new());
        let cases = [
            Filter {
                ids: empty.clone(),
                ..Filter::default()
            },
            Filter {
                remote_ids: empty.clone(),
                ..Filter::default()
            },
            Filter {
                statuses: empty.clone(),
                ..Filter::default()
            },
            Filter {
                employment_types: empty.clone(),
                ..Filter::default()
            },
            Filter {
                visibilities: empty.clone(),
                ..Filter::default()
            },
            Filter {
                job_codes: empty.clone(),
                ..Filter::default()
            },
            Filter {
                ids: empty,
                include_deleted: true,
                ..Filter::default()
            },
        ];
        for f in cases {
            assert!(found(&store, f.clone()).await.is_empty(), "{f:?}");
        }
        assert_eq!(found(&store, Filter::default()).await.len(), 6);
    })
    .await;
}

#[tokio::test]
async fn filters_of_other_models_are_ignored() {
    each_backend(|store| async move {
        jobs(&store).await;
        let candidate_filters = Filter {
            email: Some("nobody@example.test".into()),
            first_name: Some("Nobody".into()),
            outcomes: list(&["HIRED"]),
            current_stage_ids: list(&["x"]),
            ..Filter::default()
        };
        assert_eq!(found(&store, candidate_filters).await.len(), 6);
        apply(&store, A, vec![candidate_in(c1(A))], day(1)).await;
        let job_filters = Filter {
            statuses: list(&["CLOSED"]),
            name_contains: Some("zzz".into()),
            ..Filter::default()
        };
        assert_eq!(remote_ids(&store, A, Candidate, &job_filters).await, ["c1"]);
    })
    .await;
}

#[tokio::test]
async fn remote_created_after_pages_follow_remote_created_at() {
    each_backend(|store| async move {
        jobs(&store).await;
        let filter = Filter {
            remote_created_after: Some(t("2026-03-04T12:00:00Z").unix_millis()),
            ..Filter::default()
        };
        assert_eq!(filter.order_column(Job), Some(OrderColumn::RemoteCreatedAt));
        // One record a page, each page continuing from the last one's (remote_created_at, seq).
        let mut after = None;
        let mut seen = Vec::new();
        loop {
            let (page, more) = store
                .list_after(A, Job, &filter, after, 1)
                .await
                .expect("a page");
            let Some(last) = page.last() else { break };
            seen.push(last.remote_id.clone());
            after = Some(Position {
                seq: last.seq,
                key: last.order_key(OrderColumn::RemoteCreatedAt),
            });
            if !more {
                break;
            }
        }
        // Oldest first: j2 (03-04 23:59:59.999), j1 (03-05 00:00), j3 (03-05 16:00), j5 (03-06).
        assert_eq!(seen, ["j2", "j1", "j3", "j5"]);
    })
    .await;
}
