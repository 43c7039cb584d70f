//! The seeded generator: deterministic and realistic.

use std::collections::BTreeSet;

use reqwest::Method;
use sagehr_sim::TenantConfig;
use serde_json::Value;

use crate::helpers::*;

/// Everything the API shows of a tenant: positions with detail, applicants with detail and
/// actions.
async fn snapshot(sim: &TestSim) -> Vec<Value> {
    let mut out = Vec::new();
    for p in sim.all_positions("").await {
        out.push(
            sim.get(&format!("/recruitment/positions/{}", p["id"]))
                .await
                .1,
        );
        let (_, list) = sim
            .get(&format!(
                "/recruitment/positions/{}/applicants?per_page=100",
                p["id"]
            ))
            .await;
        for a in list["data"].as_array().unwrap() {
            out.push(
                sim.get(&format!("/recruitment/applicants/{}", a["id"]))
                    .await
                    .1,
            );
            out.push(
                sim.get(&format!(
                    "/recruitment/applicants/{}/actions?per_page=100",
                    a["id"]
                ))
                .await
                .1,
            );
        }
    }
    out
}

fn config(seed: u64) -> TenantConfig {
    TenantConfig {
        seed,
        positions: 15,
        applicants_per_position: 6,
        ..TenantConfig::new("acme", KEY)
    }
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data_and_another_seed_does_not() {
    let a = snapshot(&start_with(&config(42)).await).await;
    let b = snapshot(&start_with(&config(42)).await).await;
    assert_eq!(a, b);
    let c = snapshot(&start_with(&config(43)).await).await;
    assert_ne!(a, c);
}

#[tokio::test]
async fn generated_data_is_varied_like_a_real_account() {
    let sim = start_with(&TenantConfig {
        seed: 1,
        positions: 80,
        applicants_per_position: 20,
        ..TenantConfig::new("acme", KEY)
    })
    .await;
    let positions = sim.all_positions("").await;
    let statuses: BTreeSet<&str> = positions
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 5, "{statuses:?}");
    let types: BTreeSet<String> = positions
        .iter()
        .filter_map(|p| p["employment_type"].as_str().map(str::to_owned))
        .collect();
    assert!(types.len() >= 6, "several spellings: {types:?}");
    assert!(positions.iter().any(|p| p["employment_type"].is_null()));
    assert!(positions.iter().any(|p| p["team"] == ""), "an empty team");
    assert!(positions
        .iter()
        .any(|p| p["description_blocks"].as_array().unwrap().is_empty()));
    assert!(positions.iter().any(|p| p["description_blocks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["title"].as_str().unwrap().contains('<'))));

    let mut stage_titles = BTreeSet::new();
    let (mut hired, mut disqualified, mut sparse) = (0, 0, 0);
    let mut emails = std::collections::BTreeMap::<String, BTreeSet<u64>>::new();
    for p in &positions {
        let (_, list) = sim
            .get(&format!(
                "/recruitment/positions/{}/applicants?per_page=100",
                p["id"]
            ))
            .await;
        for a in list["data"].as_array().unwrap() {
            stage_titles.insert(a["stage"]["title"].as_str().unwrap().to_owned());
            if !a["hired_date"].is_null() {
                hired += 1;
                assert_eq!(a["stage"]["title"], "Hired");
            }
            if !a["disqualified_date"].is_null() {
                disqualified += 1;
            }
            if a["last_name"].is_null() || a["email"].is_null() {
                sparse += 1;
            }
            if let Some(e) = a["email"].as_str() {
                emails
                    .entry(e.to_owned())
                    .or_default()
                    .insert(p["id"].as_u64().unwrap());
            }
        }
    }
    let expected: BTreeSet<String> = [
        "New",
        "CV review",
        "Interview",
        "Reference check",
        "Offer",
        "Hired",
    ]
    .map(String::from)
    .into();
    assert_eq!(stage_titles, expected);
    assert!(
        hired > 0 && disqualified > 0 && sparse > 0,
        "{hired} {disqualified} {sparse}"
    );
    assert!(
        emails.values().any(|positions| positions.len() > 1),
        "some people applied to two positions"
    );
    let (_, stats) = json(sim.control(Method::GET, "acme/stats").send().await.unwrap()).await;
    assert!(stats["data"]["total"].as_u64().unwrap() > 80);
}

#[test]
fn generated_timelines_are_consistent_for_many_seeds() {
    use sagehr_sim::generate::EPOCH;
    let sizes = [(6, 60), (2, 30)];
    for (seed, (positions, applicants_per_position)) in
        (1..=120).flat_map(|seed| sizes.map(|size| (seed, size)))
    {
        let t = sagehr_sim::generate(&TenantConfig {
            seed,
            positions,
            applicants_per_position,
            ..TenantConfig::new("acme", KEY)
        });
        for (position_id, ids) in &t.by_position {
            let p = &t.positions[position_id];
            let opened = p.created_at.midnight().assume_utc();
            let closes = p.completed_at.map_or(EPOCH, |d| d.midnight().assume_utc());
            assert!(
                p.completed_at
                    .is_none_or(|d| d >= p.created_at && d < EPOCH.date()),
                "seed {seed}: {p:?}"
            );
            let mut emails = BTreeSet::new();
            let mut previous = None;
            for id in ids {
                let a = &t.applicants[id];
                if let Some(e) = &a.email {
                    assert!(
                        emails.insert(e.to_lowercase()),
                        "seed {seed}: {e} twice on position {position_id}"
                    );
                }
                assert!(
                    previous.is_none_or(|prev| prev <= a.created_at),
                    "seed {seed}: creation order"
                );
                previous = Some(a.created_at);
                let times: Vec<_> = a.actions.iter().map(|x| x.created_at).collect();
                assert!(
                    times.windows(2).all(|w| w[0] <= w[1]),
                    "seed {seed}: actions out of order"
                );
                for at in times {
                    assert!(
                        at >= opened && at <= closes,
                        "seed {seed}: {at} outside {opened}..{closes} of position {position_id}"
                    );
                }
                for d in [a.hired_date, a.disqualified_date].into_iter().flatten() {
                    assert!(
                        d <= closes.date(),
                        "seed {seed}: {d} after the position closed"
                    );
                }
            }
        }
    }
}

#[test]
fn the_same_seed_and_today_give_the_same_hris_data() {
    use sagehr_sim::hris_control::raw_json;
    let config = |seed: u64| TenantConfig {
        seed,
        ..crate::hris::hris_config(60)
    };
    let a = raw_json(&sagehr_sim::generate(&config(42)));
    let b = raw_json(&sagehr_sim::generate(&config(42)));
    assert_eq!(a, b);
    let c = raw_json(&sagehr_sim::generate(&config(43)));
    assert_ne!(a["employees"], c["employees"]);
    assert_ne!(a["leave_requests"], c["leave_requests"]);
}

#[test]
fn hris_data_leaves_recruitment_ids_as_they_were() {
    let with = sagehr_sim::generate(&config(1));
    let without_hris_ids: Vec<u64> = with.positions.keys().copied().collect();
    // Recruitment ids come first and are the same whatever the core-HR size.
    let bigger = sagehr_sim::generate(&TenantConfig {
        employees: 300,
        ..config(1)
    });
    assert_eq!(
        bigger.positions.keys().copied().collect::<Vec<_>>(),
        without_hris_ids
    );
    assert_eq!(
        bigger.applicants.keys().copied().collect::<Vec<_>>(),
        with.applicants.keys().copied().collect::<Vec<_>>()
    );
}

#[test]
fn five_thousand_employees_with_two_years_of_leave() {
    let t = sagehr_sim::generate(&crate::hris::hris_config(5_000));
    assert_eq!(t.employees.len(), 5_000);
    assert!(t.terminated_employees().count() > 100);
    assert!(t.active_employees().count() > 4_000);
    assert_eq!(t.hris.teams.len(), 250);
    assert!(t.hris.policies.len() >= 3);
    assert!(t
        .employees
        .values()
        .all(|e| e.hr.team_id.is_some() && (1..=3).contains(&e.hr.compensations.len())));
    let today = crate::hris::TODAY;
    let requests = &t.hris.requests;
    assert!(requests.len() > 30_000, "{}", requests.len());
    assert!(requests
        .values()
        .any(|r| r.start_date < today - time::Duration::days(300)));
    assert!(requests
        .values()
        .any(|r| r.start_date > today + time::Duration::days(300)));
}
