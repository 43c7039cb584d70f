//! A seeded, deterministic generator of realistic Sage HR recruitment data. The same
//! configuration always yields the same tenant, byte for byte, whatever the wall clock says.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::state::{
    Action, Applicant, DescriptionBlock, Employee, HiringMember, Position, Referrer, Stage, Tenant,
};

/// What to generate.
#[derive(Debug, Clone)]
pub struct TenantConfig {
    pub subdomain: String,
    pub api_key: String,
    pub seed: u64,
    pub positions: usize,
    pub applicants_per_position: usize,
}

impl TenantConfig {
    pub fn new(subdomain: impl Into<String>, api_key: impl Into<String>) -> Self {
        TenantConfig {
            subdomain: subdomain.into(),
            api_key: api_key.into(),
            seed: 1,
            positions: 12,
            applicants_per_position: 8,
        }
    }
}

/// The generated data's "today": all of it lies before this instant.
pub const EPOCH: OffsetDateTime = datetime!(2026-01-01 09:00:00 UTC);

/// The pipeline every generated or control-created position gets, in order.
pub const PIPELINE: [&str; 6] = [
    "New",
    "CV review",
    "Interview",
    "Reference check",
    "Offer",
    "Hired",
];

const ROLES: &[&str] = &[
    "Backend Engineer",
    "Frontend Developer",
    "Data Analyst",
    "Product Manager",
    "UX Designer",
    "Account Executive",
    "Customer Success Manager",
    "Office Manager",
    "HR Business Partner",
    "Financial Controller",
    "DevOps Engineer",
    "Marketing Specialist",
    "Sales Development Representative",
    "Warehouse Operative",
    "Payroll Administrator",
    "QA Engineer",
    "Technical Writer",
    "Legal Counsel",
];
const SENIORITY: &[&str] = &["", "Junior ", "Senior ", "Lead ", "Principal "];
const TEAMS: &[&str] = &[
    "Engineering",
    "Product",
    "Sales",
    "Marketing",
    "Operations",
    "Finance",
    "People",
    "Customer Success",
    "",
];
const LOCATIONS: &[(&str, u64)] = &[
    ("London", 9_182_712),
    ("Manchester", 9_182_713),
    ("Edinburgh", 9_182_714),
    ("Dublin", 9_182_715),
    ("Berlin", 9_182_716),
    ("Remote", 9_182_717),
];
const GROUPS: &[(&str, u64)] = &[
    ("Hiring Group", 871_621),
    ("Graduate Programme", 871_622),
    ("Seasonal Hiring", 871_623),
];
/// Several spellings of the same few employment types, as free-text fields collect them.
const EMPLOYMENT_TYPES: &[Option<&str>] = &[
    Some("Full-time"),
    Some("Full time"),
    Some("full-time"),
    Some("Part-time"),
    Some("Part time"),
    Some("Contract"),
    Some("Contractor"),
    Some("Fixed-term"),
    Some("Temporary"),
    Some("Seasonal"),
    Some("Internship"),
    Some("Intern"),
    Some("Trainee"),
    Some("Freelance"),
    None,
];
const FIRST_NAMES: &[&str] = &[
    "Olivia", "Noah", "Amelia", "Oliver", "Isla", "George", "Ava", "Arthur", "Mia", "Muhammad",
    "Sofia", "Leo", "Zoë", "Jack", "Aoife", "Seán", "Priya", "Mateusz", "Chloé", "Björn",
];
const LAST_NAMES: &[&str] = &[
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "O'Brien", "Murphy", "Kowalski", "Müller", "Nguyen", "García", "Robinson", "Wright",
    "Thompson", "Evans", "Walker",
];
const SOURCES: &[&str] = &[
    "api",
    "recruiters",
    "company_marketing",
    "sourced",
    "linkedin",
    "indeed",
    "referral",
];
const SUMMARIES: &[&str] = &[
    "Five years of experience in a similar role.",
    "Career changer with a strong analytical background.",
    "Looking for a hybrid position close to home.",
    "Referred by a former colleague; available in one month.",
];
const POSTCODES: &[&str] = &[
    "BD23 8UL",
    "EC1A 1BB",
    "M1 1AE",
    "EH1 1YZ",
    "D02 X285",
    "10115 Berlin",
];

/// Builds a tenant from `config`. Ids start at 1 and are shared by all kinds of records.
pub fn generate(config: &TenantConfig) -> Tenant {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut t = Tenant::new(config.subdomain.clone());

    let admin = t.next_id();
    t.employees.insert(
        admin,
        Employee {
            id: admin,
            first_name: "Alex".into(),
            last_name: "Admin".into(),
            email: format!("admin@{}.example", config.subdomain),
        },
    );
    t.api_keys.insert(config.api_key.clone(), admin);
    for i in 0..12 {
        let id = t.next_id();
        let first = FIRST_NAMES[(i * 7 + 3) % FIRST_NAMES.len()];
        let last = LAST_NAMES[(i * 11 + 5) % LAST_NAMES.len()];
        t.employees.insert(
            id,
            Employee {
                id,
                first_name: first.into(),
                last_name: last.into(),
                email: format!(
                    "{}.{}@{}.example",
                    ascii(first),
                    ascii(last),
                    config.subdomain
                ),
            },
        );
    }
    let staff: Vec<u64> = t
        .employees
        .keys()
        .copied()
        .filter(|&id| id != admin)
        .collect();

    let mut emails_seen: Vec<String> = Vec::new();
    for i in 0..config.positions {
        let position = generate_position(&mut rng, &mut t, i, &staff);
        let position_id = position.id;
        let open = position.is_open();
        let stages = position.stages.clone();
        let created = position.created_at;
        t.positions.insert(position_id, position);
        for j in 0..config.applicants_per_position {
            let applicant = generate_applicant(
                &mut rng,
                &mut t,
                position_id,
                &stages,
                created,
                (i, j),
                admin,
                &mut emails_seen,
                open,
            );
            t.insert_applicant(applicant);
        }
    }
    t
}

fn ascii(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'ü' => Some('u'),
            'ö' => Some('o'),
            'é' => Some('e'),
            'ë' => Some('e'),
            'á' => Some('a'),
            'í' => Some('i'),
            'ó' => Some('o'),
            'ñ' => Some('n'),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A pipeline of stages created together with their position.
pub fn pipeline(t: &mut Tenant, created_at: OffsetDateTime) -> Vec<Stage> {
    PIPELINE
        .iter()
        .map(|title| Stage {
            id: t.next_id(),
            title: (*title).into(),
            created_at,
        })
        .collect()
}

fn generate_position(rng: &mut ChaCha8Rng, t: &mut Tenant, i: usize, staff: &[u64]) -> Position {
    // The first five positions cycle through every status so even a tiny tenant has all.
    let status = if i < 5 {
        crate::state::STATUSES[i]
    } else {
        match rng.random_range(0..100) {
            0..50 => "published",
            50..65 => "internal",
            65..75 => "draft",
            75..90 => "completed",
            _ => "cancelled",
        }
    };
    let created_at = EPOCH.date() - Duration::days(rng.random_range(20..400));
    let id = t.next_id();
    let title = format!("{}{}", pick(rng, SENIORITY), pick(rng, ROLES));
    let (location, location_id) = if rng.random_range(0..10) == 0 {
        (None, None)
    } else {
        let (name, lid) = *pick(rng, LOCATIONS);
        (Some(name.to_owned()), Some(lid))
    };
    let (group, group_id) = *pick(rng, GROUPS);
    let completed_at = matches!(status, "completed" | "cancelled")
        .then(|| created_at + Duration::days(rng.random_range(10..90)));
    let stages = pipeline(t, created_at.midnight().assume_utc() + Duration::hours(8));
    let mut hiring_team = vec![HiringMember {
        employee_id: *pick(rng, staff),
        role: "hiring_manager".into(),
    }];
    for _ in 0..rng.random_range(0..3) {
        let member = *pick(rng, staff);
        if hiring_team.iter().all(|m| m.employee_id != member) {
            hiring_team.push(HiringMember {
                employee_id: member,
                role: "interviewer".into(),
            });
        }
    }
    Position {
        id,
        title: title.clone(),
        status: status.into(),
        created_at,
        internal_date: created_at + Duration::days(rng.random_range(0..30)),
        completed_at,
        link: (status == "published")
            .then(|| format!("https://talent.sage.hr/jobs/{}-{}", t.subdomain, id)),
        team: (*pick(rng, TEAMS)).into(),
        applicants_required: rng.random_range(1..4),
        employment_type: pick(rng, EMPLOYMENT_TYPES).map(str::to_owned),
        location,
        location_id,
        group: group.into(),
        group_id,
        priority: rng.random_range(1..10_000),
        description_blocks: description_blocks(rng, &title),
        stages,
        hiring_team,
    }
}

fn description_blocks(rng: &mut ChaCha8Rng, title: &str) -> Vec<DescriptionBlock> {
    if rng.random_range(0..12) == 0 {
        return vec![];
    }
    let mut blocks = vec![
        DescriptionBlock {
            title: "Description".into(),
            content: format!(
                "<p>We are looking for a <strong>{title}</strong> to join our growing team.</p>"
            ),
        },
        DescriptionBlock {
            title: "Requirements".into(),
            content: "<ul><li>Relevant experience</li><li>Fluent English</li></ul>".into(),
        },
    ];
    if rng.random_bool(0.6) {
        blocks.push(DescriptionBlock {
            title: "Benefits".into(),
            content: "<ul><li>25 days holiday</li><li>Private health care</li></ul>".into(),
        });
    }
    if rng.random_bool(0.25) {
        // A custom block whose title needs escaping when rendered as HTML.
        blocks.push(DescriptionBlock {
            title: "Perks & <More Details>".into(),
            content: "<p>Cycle-to-work scheme &amp; free fruit.</p>".into(),
        });
    }
    blocks
}

#[allow(clippy::too_many_arguments)]
fn generate_applicant(
    rng: &mut ChaCha8Rng,
    t: &mut Tenant,
    position_id: u64,
    stages: &[Stage],
    position_created: time::Date,
    (i, j): (usize, usize),
    added_by: u64,
    emails_seen: &mut Vec<String>,
    open: bool,
) -> Applicant {
    let id = t.next_id();
    let first = *pick(rng, FIRST_NAMES);
    let last = *pick(rng, LAST_NAMES);
    let sparse = rng.random_range(0..10) == 0;
    // Every 25th applicant reuses an email from an earlier position: the same person applying
    // twice, which Sage HR allows across positions.
    let email = if sparse && rng.random_bool(0.5) {
        None
    } else if (i * 31 + j) % 25 == 7 && !emails_seen.is_empty() && i > 0 {
        Some(emails_seen[rng.random_range(0..emails_seen.len())].clone())
    } else {
        let e = format!("{}.{}.{}@example.com", ascii(first), ascii(last), id);
        emails_seen.push(e.clone());
        Some(e)
    };
    let created_at = position_created.midnight().assume_utc()
        + Duration::hours(9)
        + Duration::minutes(rng.random_range(0..60 * 24 * 60));
    let created_at = created_at.min(EPOCH - Duration::hours(1));
    // Later stages are rarer; closed positions have moved further.
    let weights: [u32; 6] = if open {
        [30, 25, 20, 10, 8, 7]
    } else {
        [10, 15, 20, 15, 15, 25]
    };
    let mut roll = rng.random_range(0..weights.iter().sum::<u32>());
    let mut stage_index = 0;
    for (k, w) in weights.iter().enumerate() {
        if roll < *w {
            stage_index = k;
            break;
        }
        roll -= w;
    }
    let hired_stage = stages.len() - 1;
    let hired = stage_index == hired_stage;
    let disqualified = !hired && rng.random_range(0..10) == 0;
    let mut actions = vec![Action {
        action: "applicant_created".into(),
        message: "Applicant created".into(),
        created_at,
    }];
    let mut at = created_at;
    if rng.random_bool(0.4) {
        at += Duration::minutes(1);
        actions.push(Action {
            action: "document_created".into(),
            message: format!("Uploaded \"{}-cv.pdf\"", ascii(last)),
            created_at: at,
        });
    }
    for k in 1..=stage_index {
        at += Duration::hours(rng.random_range(4..120));
        actions.push(Action {
            action: "moved_between_stages".into(),
            message: format!(
                "Applicant moved from \"{}\" to \"{}\"",
                stages[k - 1].title,
                stages[k].title
            ),
            created_at: at,
        });
    }
    let source = if sparse { "api" } else { *pick(rng, SOURCES) };
    let referrer = (source == "referral").then(|| {
        let rid = t.next_id();
        let rf = *pick(rng, FIRST_NAMES);
        let rl = *pick(rng, LAST_NAMES);
        Referrer {
            id: rid,
            full_name: format!("{rf} {rl}"),
            email: Some(format!("{}.{}@referrals.example", ascii(rf), ascii(rl))),
            phone_number: rng
                .random_bool(0.5)
                .then(|| format!("0{}", rng.random_range(7_000_000_000u64..7_999_999_999))),
        }
    });
    Applicant {
        id,
        position_id,
        first_name: first.into(),
        last_name: (!sparse || rng.random_bool(0.5)).then(|| last.into()),
        email,
        phone_number: (!sparse && rng.random_bool(0.7)).then(|| {
            format!(
                "+44 7{:03} {:06}",
                rng.random_range(100..1000),
                rng.random_range(0..1_000_000)
            )
        }),
        address: (!sparse && rng.random_bool(0.5)).then(|| (*pick(rng, POSTCODES)).into()),
        summary: (!sparse && rng.random_bool(0.4)).then(|| (*pick(rng, SUMMARIES)).into()),
        source: source.into(),
        created_at,
        disqualified_date: disqualified.then(|| (at + Duration::days(1)).date()),
        hired_date: hired.then(|| at.date()),
        stage_id: stages[stage_index].id,
        added_by: (rng.random_range(0..4) != 0).then_some(added_by),
        referrer,
        actions,
    }
}
