//! A seeded, deterministic generator of realistic Sage HR recruitment data. The same
//! configuration always yields the same tenant, byte for byte, whatever the wall clock says.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::hris::HrProfile;
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
    /// Employees in the core-HR data (H1 + H3), the recruitment ones included; at least the
    /// 13 that recruitment needs.
    pub employees: usize,
    /// The tenant's "today", which the core-HR data is generated around and which decides
    /// when terminations take effect. `None` follows the real date (and so does the data).
    pub today: Option<time::Date>,
}

impl TenantConfig {
    pub fn new(subdomain: impl Into<String>, api_key: impl Into<String>) -> Self {
        TenantConfig {
            subdomain: subdomain.into(),
            api_key: api_key.into(),
            seed: 1,
            positions: 12,
            applicants_per_position: 8,
            employees: 40,
            today: None,
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

pub(crate) const ROLES: &[&str] = &[
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
pub(crate) const SENIORITY: &[&str] = &["", "Junior ", "Senior ", "Lead ", "Principal "];
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
pub(crate) const FIRST_NAMES: &[&str] = &[
    "Olivia", "Noah", "Amelia", "Oliver", "Isla", "George", "Ava", "Arthur", "Mia", "Muhammad",
    "Sofia", "Leo", "Zoë", "Jack", "Aoife", "Seán", "Priya", "Mateusz", "Chloé", "Björn",
];
pub(crate) const LAST_NAMES: &[&str] = &[
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
pub(crate) const POSTCODES: &[&str] = &[
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
            hr: HrProfile::default(),
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
                hr: HrProfile::default(),
            },
        );
    }
    let staff: Vec<u64> = t
        .employees
        .keys()
        .copied()
        .filter(|&id| id != admin)
        .collect();

    // Emails of earlier positions, for people who apply twice.
    let mut earlier_emails: Vec<String> = Vec::new();
    for i in 0..config.positions {
        let position = generate_position(&mut rng, &mut t, i, &staff);
        let window = Window::of(&position);
        let position_id = position.id;
        let stages = position.stages.clone();
        let weights = if position.is_closed() {
            CLOSED_WEIGHTS
        } else {
            OPEN_WEIGHTS
        };
        t.positions.insert(position_id, position);
        // Sorted so that creation order (ids) and `created_at` agree, as they do in Sage HR.
        let mut created: Vec<OffsetDateTime> = (0..config.applicants_per_position)
            .map(|_| window.random_instant(&mut rng))
            .collect();
        created.sort();
        let mut this_position: Vec<String> = Vec::new();
        for (j, created_at) in created.into_iter().enumerate() {
            let context = ApplicantContext {
                position_id,
                stages: &stages,
                weights,
                window: &window,
                added_by: admin,
            };
            let reuse = ((i * 31 + j) % 25 == 7)
                .then_some(&earlier_emails[..])
                .filter(|e| !e.is_empty());
            let mut applicant = generate_applicant(&mut rng, &mut t, &context, created_at, reuse);
            // Within one position an email is unique, as Sage HR enforces.
            if applicant
                .email
                .as_ref()
                .is_some_and(|e| this_position.contains(e))
            {
                applicant.email = Some(format!("applicant.{}@example.com", applicant.id));
            }
            if let Some(email) = &applicant.email {
                this_position.push(email.clone());
            }
            t.insert_applicant(applicant);
        }
        earlier_emails.extend(this_position);
    }
    // After recruitment, so that its ids and random stream stay what they were before the
    // core-HR data existed.
    crate::hris_gen::generate_hris(config, &mut t);
    t
}

pub(crate) fn ascii(s: &str) -> String {
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
    let completed_at = matches!(status, "completed" | "cancelled").then(|| {
        (created_at + Duration::days(rng.random_range(10..90)))
            .min(EPOCH.date() - Duration::days(1))
    });
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
        internal_date: (created_at + Duration::days(rng.random_range(0..30)))
            .min(EPOCH.date() - Duration::days(1)),
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

/// Later stages are rarer; positions that closed have moved further.
const OPEN_WEIGHTS: [u32; 6] = [30, 25, 20, 10, 8, 7];
const CLOSED_WEIGHTS: [u32; 6] = [10, 15, 20, 15, 15, 25];

/// When a position's applicants can apply and move: from its opening until it closed, or
/// until the generator's "today".
struct Window {
    start: OffsetDateTime,
    end: OffsetDateTime,
}

impl Window {
    fn of(p: &Position) -> Self {
        let start = p.created_at.midnight().assume_utc() + Duration::hours(9);
        let end = p
            .completed_at
            .map_or(EPOCH - Duration::hours(1), |d| d.midnight().assume_utc());
        Window {
            start,
            end: end.max(start + Duration::hours(2)),
        }
    }

    /// An instant in the first half of the window, leaving time for later moves.
    fn random_instant(&self, rng: &mut ChaCha8Rng) -> OffsetDateTime {
        let half = (self.end - self.start).whole_seconds() / 2;
        self.start + Duration::seconds(rng.random_range(0..half.max(1)))
    }

    /// A later instant, still inside the window.
    fn after(&self, rng: &mut ChaCha8Rng, at: OffsetDateTime) -> OffsetDateTime {
        let left = (self.end - at).whole_seconds();
        if left <= 2 {
            return at;
        }
        at + Duration::seconds(rng.random_range(1..left / 2 + 1))
    }
}

struct ApplicantContext<'a> {
    position_id: u64,
    stages: &'a [Stage],
    weights: [u32; 6],
    window: &'a Window,
    added_by: u64,
}

fn generate_applicant(
    rng: &mut ChaCha8Rng,
    t: &mut Tenant,
    cx: &ApplicantContext<'_>,
    created_at: OffsetDateTime,
    reuse_from: Option<&[String]>,
) -> Applicant {
    let id = t.next_id();
    let first = *pick(rng, FIRST_NAMES);
    let last = *pick(rng, LAST_NAMES);
    let sparse = rng.random_range(0..10) == 0;
    // Now and then the same person (by email) applies to a second position, which Sage HR
    // allows; within one position an email is unique.
    let email = if sparse && rng.random_bool(0.5) {
        None
    } else if let Some(earlier) = reuse_from {
        Some(earlier[rng.random_range(0..earlier.len())].clone())
    } else {
        Some(format!(
            "{}.{}.{}@example.com",
            ascii(first),
            ascii(last),
            id
        ))
    };
    let (stages, weights) = (cx.stages, cx.weights);
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
        at = cx.window.after(rng, at);
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
    if hired {
        actions.push(Action {
            action: "applicant_hired".into(),
            message: "Applicant hired".into(),
            created_at: at,
        });
    }
    let disqualified_at = disqualified.then(|| cx.window.after(rng, at));
    if let Some(when) = disqualified_at {
        actions.push(Action {
            action: "applicant_disqualified".into(),
            message: "Applicant disqualified".into(),
            created_at: when,
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
        position_id: cx.position_id,
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
        disqualified_date: disqualified_at.map(OffsetDateTime::date),
        hired_date: hired.then(|| at.date()),
        stage_id: stages[stage_index].id,
        added_by: (rng.random_range(0..4) != 0).then_some(cx.added_by),
        referrer,
        actions,
    }
}
