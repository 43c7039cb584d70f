//! The seeded generator of a tenant's core-HR data. It runs after the recruitment generator
//! with a random stream of its own, so recruitment data and ids are unchanged by it. Every
//! date is an offset from the tenant's "today", so the same seed and today give the same data.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Duration, OffsetDateTime};

use crate::generate::{ascii, TenantConfig, FIRST_NAMES, LAST_NAMES, ROLES, SENIORITY};
use crate::hris::{
    Compensation, CustomFieldDef, CustomValue, DayPart, HistoryItem, HrProfile, JobTitle,
    LeavePolicy, LeaveRequest, LeaveStatus, Team, Termination, TerminationReason,
};
use crate::state::{Employee, Tenant};

/// Recruitment creates the admin and 12 staff; the core-HR data never has fewer employees.
pub const MIN_EMPLOYEES: usize = 13;

const TEAM_NAMES: &[&str] = &[
    "Engineering",
    "Product",
    "Sales",
    "Marketing",
    "Operations",
    "Finance",
    "People",
    "Customer Success",
    "Legal",
    "Design",
];
const CITIES: &[(&str, &str)] = &[
    ("London", "GB"),
    ("Manchester", "GB"),
    ("Edinburgh", "GB"),
    ("Dublin", "IE"),
    ("Berlin", "DE"),
    ("Madrid", "ES"),
];
const NATIONALITIES: &[&str] = &[
    "British", "Irish", "German", "Spanish", "Polish", "Canadian",
];
const MARITAL: &[&str] = &[
    "Married",
    "Single",
    "Divorced",
    "Widower",
    "In a relationship",
    "Other",
];
const GENDERS: &[&str] = &["Male", "Female", "Other"];
const STREETS: &[&str] = &["High Street", "Station Road", "Church Lane", "Park Avenue"];
const SIZES: &[&str] = &["XS", "S", "M", "L", "XL"];
const SKILLS: &[&str] = &["Rust", "SQL", "Negotiation", "Excel", "Figma", "German"];
const DETAILS: &[&str] = &[
    "Family holiday",
    "Doctor's appointment",
    "Moving house",
    "Exam preparation",
];

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// Fills `t.hris` and the HR profiles of `t.employees`, adding employees up to
/// `config.employees`.
pub fn generate_hris(config: &TenantConfig, t: &mut Tenant) {
    // A stream of its own (the seed mixed with "HRIS"): the recruitment stream is untouched.
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x4852_4953_0000_0000);
    let today = config
        .today
        .unwrap_or_else(|| OffsetDateTime::now_utc().date());
    t.hris.today = config.today;

    let statuses: Vec<u64> = ["Full-time", "Part-time", "Contractor", "Intern"]
        .iter()
        .map(|label| {
            let id = t.next_id();
            t.hris.employment_statuses.insert(id, (*label).to_owned());
            id
        })
        .collect();
    let reasons = [
        ("Resignation", Some("RES"), "voluntary"),
        ("Better opportunity", None, "voluntary"),
        ("Dismissal", Some("DIS"), "involuntary"),
        ("Redundancy", Some("RED"), "involuntary"),
        ("End of contract", None, "involuntary"),
    ];
    let reason_ids: Vec<u64> = reasons
        .iter()
        .map(|(name, code, kind)| {
            let id = t.next_id();
            t.hris.termination_reasons.insert(
                id,
                TerminationReason {
                    id,
                    name: (*name).into(),
                    code: code.map(str::to_owned),
                    kind: (*kind).into(),
                },
            );
            id
        })
        .collect();
    let total = config.employees.max(MIN_EMPLOYEES);
    let team_count = (total / 10).clamp(3, 250);
    let team_ids: Vec<u64> = (0..team_count)
        .map(|i| {
            let id = t.next_id();
            let base = TEAM_NAMES[i % TEAM_NAMES.len()];
            let name = if i < TEAM_NAMES.len() {
                base.to_owned()
            } else {
                format!("{base} {}", i / TEAM_NAMES.len() + 1)
            };
            t.hris.teams.insert(
                id,
                Team {
                    id,
                    name,
                    manager_ids: vec![],
                },
            );
            id
        })
        .collect();
    let mut job_ids = Vec::new();
    for (i, role) in ROLES.iter().enumerate().take(15) {
        let id = t.next_id();
        let seniority = SENIORITY[i % SENIORITY.len()];
        t.hris.job_titles.insert(
            id,
            JobTitle {
                id,
                title: format!("{seniority}{role}"),
                description: (i % 3 != 0).then(|| format!("Works as a {seniority}{role}.")),
                code: (i % 4 != 0).then(|| format!("P{:03}", i + 1)),
            },
        );
        job_ids.push(id);
    }
    let size_field = t.next_id();
    t.hris.custom_fields.insert(
        size_field,
        CustomFieldDef {
            id: size_field,
            label: "T-shirt size".into(),
            kind: "CustomDropdownField".into(),
            options: Some(SIZES.iter().map(|s| (*s).to_owned()).collect()),
        },
    );
    let skills_field = t.next_id();
    t.hris.custom_fields.insert(
        skills_field,
        CustomFieldDef {
            id: skills_field,
            label: "Skills".into(),
            kind: "CustomTags".into(),
            options: None,
        },
    );
    let policies = generate_policies(t);

    // Employees: the recruitment ones first (ids 1..=13), then new ones.
    while t.employees.len() < total {
        let id = t.next_id();
        let first = *pick(&mut rng, FIRST_NAMES);
        let last = *pick(&mut rng, LAST_NAMES);
        t.employees.insert(
            id,
            Employee {
                id,
                first_name: first.into(),
                last_name: last.into(),
                email: format!(
                    "{}.{}.{id}@{}.example",
                    ascii(first),
                    ascii(last),
                    t.subdomain
                ),
                hr: HrProfile::default(),
            },
        );
    }
    let ids: Vec<u64> = t.employees.keys().copied().collect();
    let mut members: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (index, &id) in ids.iter().enumerate() {
        let team = team_ids[if index < team_ids.len() {
            index
        } else {
            rng.random_range(0..team_ids.len())
        }];
        members.entry(team).or_default().push(id);
        // A tree: everyone but the admin reports to someone hired into the data before them.
        let manager = (index > 0).then(|| ids[rng.random_range(0..index.min(40))]);
        let profile = generate_profile(
            &mut rng,
            today,
            &Ctx {
                id,
                index,
                team,
                manager,
                team_ids: &team_ids,
                job_ids: &job_ids,
                statuses: &statuses,
                reason_ids: &reason_ids,
                size_field,
                skills_field,
            },
        );
        if let Some(e) = t.employees.get_mut(&id) {
            e.hr = profile;
        }
    }
    for (team, ids) in &members {
        if let Some(team) = t.hris.teams.get_mut(team) {
            team.manager_ids = ids.iter().take(1 + ids.len() / 40).copied().collect();
        }
    }
    generate_requests(&mut rng, t, today, &ids, &policies);
}

fn generate_policies(t: &mut Tenant) -> Vec<u64> {
    let specs = [
        (
            "Annual leave",
            "#49B284",
            "days",
            "yearly",
            25.0,
            5.0,
            false,
        ),
        (
            "Sick leave",
            "#E5534B",
            "days",
            "no_tracking",
            0.0,
            0.0,
            false,
        ),
        (
            "Time off in lieu",
            "#4A90E2",
            "hours",
            "yearly",
            37.5,
            0.0,
            false,
        ),
        ("Study leave", "#F5A623", "days", "yearly", 5.0, 0.0, true),
    ];
    specs
        .iter()
        .map(
            |&(name, color, unit, accrue, allowance, carry, full_days)| {
                let id = t.next_id();
                t.hris.policies.insert(
                    id,
                    LeavePolicy {
                        id,
                        name: name.into(),
                        color: color.into(),
                        unit: unit.into(),
                        accrue_type: accrue.into(),
                        do_not_accrue: accrue == "no_tracking",
                        default_allowance: allowance,
                        max_carryover: carry,
                        only_full_days: full_days,
                        auto_approves: accrue == "no_tracking",
                        require_details: name == "Study leave",
                    },
                );
                id
            },
        )
        .collect()
}

struct Ctx<'a> {
    id: u64,
    index: usize,
    team: u64,
    manager: Option<u64>,
    team_ids: &'a [u64],
    job_ids: &'a [u64],
    statuses: &'a [u64],
    reason_ids: &'a [u64],
    size_field: u64,
    skills_field: u64,
}

/// A history of one to two periods ending in `current`, starting at `start`.
fn history(
    rng: &mut ChaCha8Rng,
    start: Date,
    today: Date,
    current: u64,
    pool: &[u64],
) -> Vec<HistoryItem> {
    let span = (today - start).whole_days();
    if span > 60 && rng.random_bool(0.35) {
        let switch = start + days(rng.random_range(30..span));
        // A real change: another team, status or title than the current one.
        let others: Vec<u64> = pool.iter().copied().filter(|&p| p != current).collect();
        if others.is_empty() {
            return vec![HistoryItem {
                ref_id: current,
                start_date: start,
                end_date: None,
            }];
        }
        let before = *pick(rng, &others);
        vec![
            HistoryItem {
                ref_id: before,
                start_date: start,
                end_date: Some(switch - days(1)),
            },
            HistoryItem {
                ref_id: current,
                start_date: switch,
                end_date: None,
            },
        ]
    } else {
        vec![HistoryItem {
            ref_id: current,
            start_date: start,
            end_date: None,
        }]
    }
}

fn generate_profile(rng: &mut ChaCha8Rng, today: Date, cx: &Ctx<'_>) -> HrProfile {
    let start = today - days(rng.random_range(30..3650));
    let position = *pick(rng, cx.job_ids);
    // Mostly full-time, as in most companies.
    let status = cx.statuses[match rng.random_range(0..10) {
        0..6 => 0,
        6..8 => 1,
        8 => 2,
        _ => 3,
    }];
    let (city, country) = *pick(rng, CITIES);
    // The recruitment staff (hiring teams) stay employed; of the others about 8% have left
    // and 2% have a termination that is still to come.
    let termination = (cx.index >= MIN_EMPLOYEES)
        .then(|| rng.random_range(0..100))
        .and_then(|roll| {
            let date = match roll {
                0..8 => {
                    today - days(rng.random_range(1..=(today - start).whole_days().clamp(1, 400)))
                }
                8..10 => today + days(rng.random_range(1..60)),
                _ => return None,
            };
            Some(Termination {
                date,
                reason_id: *pick(rng, cx.reason_ids),
                comments: rng
                    .random_bool(0.5)
                    .then(|| "Exit interview done".to_owned()),
            })
        });
    let end_of_records = termination.as_ref().map_or(today, |t| t.date.min(today));
    let sparse = rng.random_range(0..8) == 0;
    let phone = |rng: &mut ChaCha8Rng| format!("555-{:04}", rng.random_range(0..10_000));
    let mut compensations = Vec::new();
    let rows = rng.random_range(1..=3);
    let mut amount = f64::from(rng.random_range(20..90_u32)) * 100.0;
    let currency = if country == "GB" { "GBP" } else { "EUR" };
    let span = (end_of_records - start).whole_days().max(1);
    let mut from = start;
    for k in 0..rows {
        let next =
            (k + 1 < rows).then(|| from + days(rng.random_range(1..=span / rows as i64 + 1)));
        compensations.push(Compensation {
            start_date: from,
            end_date: next.map(|n| n - days(1)),
            currency: currency.into(),
            amount,
            period: "monthly".into(),
            comment: (k > 0).then(|| "Annual review".to_owned()),
            category: "Salary".into(),
        });
        amount = (amount * 1.05).round();
        if let Some(n) = next {
            from = n;
        }
    }
    let mut custom_fields = BTreeMap::new();
    custom_fields.insert(
        cx.size_field,
        CustomValue::One((!sparse).then(|| (*pick(rng, SIZES)).to_owned())),
    );
    let tags: Vec<String> = SKILLS
        .iter()
        .filter(|_| rng.random_bool(0.3))
        .map(|s| (*s).to_owned())
        .collect();
    custom_fields.insert(cx.skills_field, CustomValue::Many(tags));
    HrProfile {
        picture_url: (!sparse).then(|| format!("https://cdn.sage.hr/avatars/{}.png", cx.id)),
        employment_start_date: Some(start),
        date_of_birth: (!sparse).then(|| today - days(rng.random_range(20 * 365..60 * 365))),
        team_id: Some(cx.team),
        position_id: Some(position),
        reports_to_employee_id: cx.manager,
        work_phone: Some(phone(rng)),
        home_phone: (!sparse).then(|| phone(rng)),
        mobile_phone: (!sparse && rng.random_bool(0.7)).then(|| phone(rng)),
        gender: (!sparse).then(|| (*pick(rng, GENDERS)).to_owned()),
        street_first: (!sparse)
            .then(|| format!("{} {}", rng.random_range(1..200), pick(rng, STREETS))),
        street_second: (!sparse && rng.random_bool(0.2)).then(|| "Flat 2".to_owned()),
        city: Some(city.into()),
        post_code: Some(format!(
            "{}{} {}AB",
            (b'A' + (cx.id % 26) as u8) as char,
            cx.id % 90 + 1,
            cx.id % 9
        )),
        country: Some(country.into()),
        state: None,
        employee_number: (!sparse).then(|| format!("E{:05}", cx.id)),
        employment_status_id: Some(status),
        nationality: (!sparse).then(|| (*pick(rng, NATIONALITIES)).to_owned()),
        marital_status: (!sparse).then(|| (*pick(rng, MARITAL)).to_owned()),
        personal_identification_number: (!sparse)
            .then(|| format!("NI{:06}", cx.id * 7919 % 1_000_000)),
        tax_number: (!sparse).then(|| format!("TX{:06}", cx.id * 104_729 % 1_000_000)),
        irregular_contract_worker: rng.random_range(0..20) == 0,
        location_id: None,
        team_history: history(rng, start, end_of_records, cx.team, cx.team_ids),
        employment_status_history: history(rng, start, end_of_records, status, cx.statuses),
        position_history: history(rng, start, end_of_records, position, cx.job_ids),
        termination,
        compensations,
        custom_fields,
    }
}

/// Two years of leave: the past year and the next one around `today`.
fn generate_requests(
    rng: &mut ChaCha8Rng,
    t: &mut Tenant,
    today: Date,
    ids: &[u64],
    policies: &[u64],
) {
    let [annual, sick, lieu, study] = [policies[0], policies[1], policies[2], policies[3]];
    for &employee_id in ids {
        let (started, last_day) = {
            let hr = &t.employees[&employee_id].hr;
            (
                hr.employment_start_date.unwrap_or(today),
                hr.termination.as_ref().map(|t| t.date),
            )
        };
        let from = (today - days(365)).max(started);
        let to = last_day.unwrap_or(today + days(365)).min(today + days(365));
        if to <= from {
            continue;
        }
        let span = (to - from).whole_days();
        let count = 3 + (span / 60).min(10) as usize;
        for _ in 0..count {
            let policy = match rng.random_range(0..10) {
                0..6 => annual,
                6..8 => sick,
                8 => lieu,
                _ => study,
            };
            let start = from + days(rng.random_range(0..span));
            let (end, part, hours) = if policy == lieu {
                // Hours: part of one day.
                let h = f64::from(rng.random_range(2..=8_u32)) * 0.5 + 1.0;
                let part = if rng.random_bool(0.5) {
                    DayPart::Specific {
                        from: (9, 0),
                        to: (9 + (h as u8), if h.fract() > 0.0 { 30 } else { 0 }),
                    }
                } else {
                    DayPart::First
                };
                (start, part, h)
            } else {
                match rng.random_range(0..10) {
                    0..5 => (start, DayPart::AllDay, 8.0),
                    5..8 => {
                        // Some long ones, which cross H18's window edges.
                        let longest = if rng.random_bool(0.2) { 20 } else { 9 };
                        let n = rng.random_range(1..=longest);
                        (start + days(n), DayPart::AllDay, 8.0 * (n + 1) as f64)
                    }
                    _ if policy == study => (start, DayPart::AllDay, 8.0),
                    8 => (start, DayPart::First, 4.0),
                    _ => (start, DayPart::Second, 3.5),
                }
            };
            let status = if policy == sick {
                LeaveStatus::Approved
            } else if start < today {
                match rng.random_range(0..100) {
                    0..80 => LeaveStatus::Approved,
                    80..88 => LeaveStatus::Declined,
                    88..95 => LeaveStatus::Canceled,
                    _ => LeaveStatus::Pending,
                }
            } else {
                match rng.random_range(0..100) {
                    0..50 => LeaveStatus::Approved,
                    50..90 => LeaveStatus::Pending,
                    90..95 => LeaveStatus::Declined,
                    _ => LeaveStatus::Canceled,
                }
            };
            let request_date = (start - days(rng.random_range(0..30))).min(today);
            let approval_date = matches!(status, LeaveStatus::Approved | LeaveStatus::Declined)
                .then(|| (request_date + days(rng.random_range(0..3))).min(today));
            let id = t.next_id();
            t.hris.requests.insert(
                id,
                LeaveRequest {
                    id,
                    employee_id,
                    policy_id: policy,
                    status,
                    start_date: start,
                    end_date: end,
                    part,
                    hours,
                    details: (policy == study || rng.random_bool(0.3))
                        .then(|| (*pick(rng, DETAILS)).to_owned()),
                    request_date,
                    approval_date,
                    replacement_id: rng
                        .random_bool(0.15)
                        .then(|| ids[rng.random_range(0..ids.len())])
                        .filter(|&r| r != employee_id),
                    fields: if rng.random_bool(0.1) {
                        vec![("Reachable by phone?".into(), "Yes".into())]
                    } else {
                        vec![]
                    },
                },
            );
        }
    }
    // One request that always spans the edge of the current month (the default window of
    // H18), so windowed reads always have a request that appears in two windows.
    let next_month = first_of_next_month(today);
    let id = t.next_id();
    t.hris.requests.insert(
        id,
        LeaveRequest {
            id,
            employee_id: ids[0],
            policy_id: annual,
            status: LeaveStatus::Approved,
            start_date: next_month - days(3),
            end_date: next_month + days(3),
            part: DayPart::AllDay,
            hours: 56.0,
            details: Some("Family holiday".into()),
            request_date: (next_month - days(40)).min(today),
            approval_date: Some((next_month - days(39)).min(today)),
            replacement_id: None,
            fields: vec![],
        },
    );
}

pub fn first_of_next_month(d: Date) -> Date {
    let (year, month) = if d.month() == time::Month::December {
        (d.year() + 1, time::Month::January)
    } else {
        (d.year(), d.month().next())
    };
    Date::from_calendar_date(year, month, 1).unwrap_or(d)
}
