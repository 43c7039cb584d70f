//! The filters of `/ats/candidates` and `/ats/applications`, and the isolation of
//! integrations from each other.

use atsbridge_model::candidate::EmailAddress;
use atsbridge_model::enums::Outcome;
use atsbridge_model::ModelKind::{self, Application, ApplicationStage, Candidate, Job};
use atsbridge_store::{Filter, Store};

use crate::fixtures::*;
use crate::harness::each_backend;

/// The small tenant, plus c3 "ADA Lovelace-Byron" with no application, and outcomes and
/// creation times on the applications: a1 PENDING (02-10 08:00), a2 HIRED (02-09 23:59:59.999),
/// a3 DECLINED (unknown).
async fn people(store: &Store) {
    seeded(store).await;
    let mut a1 = a1(A);
    a1.core.remote_created_at = Some(t("2026-02-10T08:00:00Z"));
    let mut a2 = a2(A);
    a2.core.outcome = Some(Outcome::Hired);
    a2.core.remote_created_at = Some(t("2026-02-09T23:59:59.999Z"));
    let mut a3 = a3(A);
    a3.core.outcome = Some(Outcome::Declined);
    let c3 = candidate(A, "c3", "ADA", "Lovelace-Byron");
    let batch = vec![
        application_in(a1, "j1"),
        application_in(a2, "j1"),
        application_in(a3, "j2"),
        candidate_in(c3),
    ];
    apply(store, A, batch, day(1)).await;
}

async fn found(store: &Store, model: ModelKind, filter: Filter) -> Vec<String> {
    remote_ids(store, A, model, &filter).await
}

fn jobs(remotes: &[&str]) -> Option<Vec<String>> {
    Some(remotes.iter().map(|r| id(A, Job, r)).collect())
}

#[tokio::test]
async fn email_matches_case_insensitively_and_exactly() {
    each_backend(|store| async move {
        people(&store).await;
        let email = |e: &str| Filter {
            email: Some(e.into()),
            ..Filter::default()
        };
        assert_eq!(
            found(&store, Candidate, email("Ada.Lovelace@EXAMPLE.test")).await,
            ["c1"]
        );
        assert_eq!(
            found(&store, Candidate, email("grace.hopper@example.test")).await,
            ["c2"]
        );
        assert!(found(&store, Candidate, email("ada")).await.is_empty());
        assert!(found(&store, Candidate, email("lovelace@example.test"))
            .await
            .is_empty());
    })
    .await;
}

#[tokio::test]
#[ignore = "known limit: the email filter matches the first address a candidate has (Sage HR has one); matching any address needs an address table"]
async fn email_matches_any_of_a_candidates_addresses() {
    each_backend(|store| async move {
        people(&store).await;
        let mut c = candidate(A, "c4", "Alan", "Turing");
        c.profile.email_addresses = vec![
            EmailAddress {
                email_address: None,
                kind: Some("WORK".into()),
            },
            EmailAddress {
                email_address: Some("alan@work.test".into()),
                kind: None,
            },
            EmailAddress {
                email_address: Some("Alan@Home.test".into()),
                kind: None,
            },
        ];
        apply(&store, A, vec![candidate_in(c)], day(2)).await;
        let email = |e: &str| Filter {
            email: Some(e.into()),
            ..Filter::default()
        };
        assert_eq!(
            found(&store, Candidate, email("alan@work.test")).await,
            ["c4"]
        );
        assert_eq!(
            found(&store, Candidate, email("ALAN@home.test")).await,
            ["c4"]
        );
    })
    .await;
}

#[tokio::test]
async fn first_and_last_name_match_case_insensitively_and_exactly() {
    each_backend(|store| async move {
        people(&store).await;
        let names = |first: Option<&str>, last: Option<&str>| Filter {
            first_name: first.map(Into::into),
            last_name: last.map(Into::into),
            ..Filter::default()
        };
        assert_eq!(
            found(&store, Candidate, names(Some("ada"), None)).await,
            ["c1", "c3"]
        );
        assert_eq!(
            found(&store, Candidate, names(None, Some("LOVELACE"))).await,
            ["c1"]
        );
        assert_eq!(
            found(
                &store,
                Candidate,
                names(Some("Ada"), Some("lovelace-byron"))
            )
            .await,
            ["c3"]
        );
        assert!(found(&store, Candidate, names(Some("Ad"), None))
            .await
            .is_empty());
        assert!(
            found(&store, Candidate, names(Some("grace"), Some("lovelace")))
                .await
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn candidate_job_ids_select_candidates_with_an_application_to_any_of_the_jobs() {
    each_backend(|store| async move {
        people(&store).await;
        let by_jobs = |job_ids| Filter {
            job_ids,
            ..Filter::default()
        };
        assert_eq!(
            found(&store, Candidate, by_jobs(jobs(&["j2"]))).await,
            ["c1"]
        );
        assert_eq!(
            found(&store, Candidate, by_jobs(jobs(&["j1"]))).await,
            ["c1", "c2"]
        );
        assert_eq!(
            found(&store, Candidate, by_jobs(jobs(&["j2", "nope"]))).await,
            ["c1"]
        );
        assert!(found(&store, Candidate, by_jobs(jobs(&["nope"])))
            .await
            .is_empty());
        assert!(found(&store, Candidate, by_jobs(Some(Vec::new())))
            .await
            .is_empty());
        let and_name = Filter {
            first_name: Some("grace".into()),
            ..by_jobs(jobs(&["j1", "j2"]))
        };
        assert_eq!(found(&store, Candidate, and_name).await, ["c2"]);
    })
    .await;
}

#[tokio::test]
async fn application_filters_match_outcome_job_and_stage() {
    each_backend(|store| async move {
        people(&store).await;
        let f = |outcomes, job_ids, job_remote_ids, current_stage_ids| Filter {
            outcomes,
            job_ids,
            job_remote_ids,
            current_stage_ids,
            ..Filter::default()
        };
        let found = |f| found(&store, Application, f);
        assert_eq!(
            found(f(Some(strings(&["PENDING"])), None, None, None)).await,
            ["a1"]
        );
        let done = Some(strings(&["HIRED", "DECLINED"]));
        assert_eq!(found(f(done, None, None, None)).await, ["a2", "a3"]);
        assert_eq!(
            found(f(None, jobs(&["j1"]), None, None)).await,
            ["a1", "a2"]
        );
        assert_eq!(
            found(f(None, jobs(&["j1", "j2"]), None, None)).await,
            ["a1", "a2", "a3"]
        );
        assert_eq!(
            found(f(None, None, Some(strings(&["j2"])), None)).await,
            ["a3"]
        );
        let j1_or_nope = Some(strings(&["j1", "nope"]));
        assert_eq!(found(f(None, None, j1_or_nope, None)).await, ["a1", "a2"]);
        let s2 = Some(vec![id(A, ApplicationStage, "s2")]);
        assert_eq!(found(f(None, None, None, s2)).await, ["a2"]);
        let s1_s2 = Some(vec![
            id(A, ApplicationStage, "s1"),
            id(A, ApplicationStage, "s2"),
        ]);
        assert_eq!(
            found(f(None, None, None, s1_s2.clone())).await,
            ["a1", "a2"]
        );
        let pending = Some(strings(&["PENDING", "DECLINED"]));
        assert_eq!(
            found(f(pending, jobs(&["j1"]), None, s1_s2)).await,
            ["a1"],
            "AND-ed"
        );
        let empty = || Some(Vec::new());
        for f in [
            f(empty(), None, None, None),
            f(None, empty(), None, None),
            f(None, None, empty(), None),
            f(None, None, None, empty()),
        ] {
            assert!(found(f).await.is_empty());
        }
    })
    .await;
}

#[tokio::test]
async fn application_remote_created_after_counts_the_whole_utc_day() {
    each_backend(|store| async move {
        people(&store).await;
        let after = |s: &str| Filter {
            remote_created_after: Some(t(s).unix_millis()),
            ..Filter::default()
        };
        assert_eq!(
            found(&store, Application, after("2026-02-10T20:00:00Z")).await,
            ["a1"]
        );
        assert_eq!(
            found(&store, Application, after("2026-02-09T23:59:59.999Z")).await,
            ["a1", "a2"]
        );
        assert!(found(&store, Application, after("2026-02-11T00:00:00Z"))
            .await
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn integrations_never_see_each_others_records() {
    each_backend(|store| async move {
        people(&store).await;
        connect(&store, B, "env").await;
        apply(&store, B, seed(B), day(1)).await;
        // B also holds records with A's very ids, one of them an application c2 → j2.
        let mut extra = seed(A);
        extra.push(application_in(application(A, "a9", "c2", "j2", None), "j2"));
        apply(&store, B, extra, day(1)).await;

        for model in ModelKind::ATS {
            for r in all(&store, A, model, &Filter::default()).await {
                assert_eq!(r.id, id(A, model, &r.remote_id));
            }
        }
        assert_eq!(
            found(&store, Application, Filter::default()).await,
            ["a1", "a2", "a3"]
        );
        let b_ids = Filter {
            ids: Some(vec![id(B, Job, "j1")]),
            ..Filter::default()
        };
        assert!(found(&store, Job, b_ids).await.is_empty());
        let by_jobs = Filter {
            job_ids: jobs(&["j2"]),
            ..Filter::default()
        };
        assert_eq!(
            found(&store, Candidate, by_jobs.clone()).await,
            ["c1"],
            "not B's a9"
        );
        assert_eq!(found(&store, Application, by_jobs).await, ["a3"]);
        let by_remote = Filter {
            remote_ids: Some(strings(&["c1"])),
            ..Filter::default()
        };
        let c1s = all(&store, A, Candidate, &by_remote).await;
        assert_eq!(c1s.len(), 1);
        assert!(store
            .by_ids(A, Job, &[id(B, Job, "j1")])
            .await
            .unwrap()
            .is_empty());
        let a_counts = store.counts(A).await.unwrap();
        assert_eq!(a_counts.get("ats_applications"), Some(&3));
        assert_eq!(
            store.counts(B).await.unwrap().get("ats_applications"),
            Some(&7)
        );
        let apps = store
            .applications_of(A, &[id(A, Candidate, "c2")])
            .await
            .unwrap();
        assert_eq!(apps.len(), 1, "B's a9 is not A's");
        store
            .mark_deleted(B, Job, &[id(A, Job, "j1")], day(2))
            .await
            .unwrap();
        assert_eq!(found(&store, Job, Filter::default()).await, ["j1", "j2"]);
    })
    .await;
}

/// Past a couple of thousand matching applications SQLite walks the candidates in page order
/// instead of looking every match up (`ListPlan`): both plans must find the same candidates,
/// in page order, page after page, alongside every other filter.
#[tokio::test]
async fn candidate_job_ids_with_thousands_of_applications_page_like_a_few() {
    each_backend(|store| async move {
        connect(&store, A, "env").await;
        let mut batch = vec![
            job_in(job(A, "big", "Big")),
            job_in(job(A, "small", "Small")),
        ];
        for i in 0..3_300 {
            let c = format!("c{i:04}");
            let first = if i % 2 == 0 { "Even" } else { "Odd" };
            batch.push(candidate_in(candidate(A, &c, first, "Walker")));
            // Every third candidate has applied to the big job; every 500th to the small one.
            let job = if i % 500 == 0 {
                "small"
            } else if i % 3 == 0 {
                "other"
            } else {
                "big"
            };
            if job != "other" {
                let a = application(A, &format!("a{i:04}"), &c, job, None);
                batch.push(application_in(a, job));
            }
        }
        apply(&store, A, batch, day(1)).await;
        let expect = |job: &str, first: Option<&str>| -> Vec<String> {
            (0..3_300)
                .filter(|i| {
                    let applied = if i % 500 == 0 {
                        "small"
                    } else if i % 3 == 0 {
                        "other"
                    } else {
                        "big"
                    };
                    applied == job && first.is_none_or(|f| (i % 2 == 0) == (f == "even"))
                })
                .map(|i| format!("c{i:04}"))
                .collect()
        };
        let in_order = |records: Vec<atsbridge_store::StoredRecord>| {
            assert!(
                records.windows(2).all(|w| w[0].seq < w[1].seq),
                "pages in seq order"
            );
            records.into_iter().map(|r| r.remote_id).collect::<Vec<_>>()
        };
        let all = |filter: Filter| {
            let store = &store;
            async move {
                let mut out = Vec::new();
                let mut after = None;
                loop {
                    let (page, more) = store
                        .list(A, Candidate, &filter, after, 97)
                        .await
                        .expect("list candidates");
                    after = page.last().map(|r| r.seq).or(after);
                    out.extend(page);
                    if !more {
                        return out;
                    }
                }
            }
        };
        let big = Filter {
            job_ids: jobs(&["big"]),
            ..Filter::default()
        };
        let found_big = in_order(all(big.clone()).await);
        // More than `WALK_CANDIDATES_ABOVE` (2,000) applications: SQLite walks.
        assert!(
            found_big.len() > 2_100,
            "enough matches for the walking plan"
        );
        assert_eq!(found_big, expect("big", None));
        let small = Filter {
            job_ids: jobs(&["small"]),
            ..Filter::default()
        };
        assert_eq!(in_order(all(small).await), expect("small", None));
        let big_even = Filter {
            first_name: Some("even".into()),
            ..big.clone()
        };
        assert_eq!(in_order(all(big_even).await), expect("big", Some("even")));
        let both = Filter {
            job_ids: jobs(&["big", "small"]),
            ..Filter::default()
        };
        let mut expected = expect("big", None);
        expected.extend(expect("small", None));
        expected.sort();
        assert_eq!(in_order(all(both).await), expected);
    })
    .await;
}
