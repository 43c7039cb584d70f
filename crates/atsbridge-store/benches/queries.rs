//! How fast the list endpoints' queries are at a million records.
//!
//! `cargo bench -p atsbridge-store --bench queries` builds one integration ("A") with about
//! `ATSBRIDGE_BENCH_RECORDS` records (default 1,000,000) of the four models in a fresh SQLite
//! store in a temporary directory, and, when `ATSBRIDGE_BENCH_PG_URL` names a PostgreSQL server
//! (a superuser URL: the bench creates and drops its own database), in a fresh PostgreSQL
//! database as well. A second, smaller integration ("B", 2% of the records, sharing remote ids,
//! names and job codes with A) is loaded interleaved with A, so a query that ignores the
//! integration is caught. Records are made from the real model types and stored the way a sync
//! stores them: `Store::apply_batch` in batches of about 1,000 records (a job, its stages, then
//! its candidates and their applications, like the connector's listing order), an update pass
//! a few days later (1% of the applications change outcome, which also moves their candidates'
//! `updated_at`), then `Store::mark_deleted` for 1% of every model.
//!
//! It then times `Store::list` (a page of 100, rows decoded, as the API serves it) for every
//! filter of `Filter` on its model, selective and unselective variants, deep pagination and
//! combinations. Each case runs once to warm up and then `ATSBRIDGE_BENCH_REPS` times
//! (default 7); the median counts.
//!
//! **The limit.** The machines are shared and noisy, so no case is held to a fixed time.
//! The *baseline* is the first page of 100 applications without a filter; it is sampled
//! before the cases and once more between every two cases, and its median over all samples
//! sets the limit of this run: `max(20 × baseline, 5 ms)`. A query that uses a fitting index
//! costs about what the baseline costs (it reads ~100 rows through an index); one that sorts
//! or scans a large part of a million records costs hundreds of times more. The factor 20
//! leaves room for noise and for legitimately heavier queries (a sub-select, a short index
//! scan before the page), and the 5 ms floor keeps a very fast baseline from making the limit
//! meaninglessly tight. Any case over its limit is SLOW, and the bench exits non-zero.
//!
//! Every case also gets its plan: `EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on PostgreSQL
//! (with the values bound, which is the plan of a first execution, and the generic plan that a
//! prepared statement switches to after five executions), summarised as the indexes it uses
//! and whether it sorts or scans the table. The plans come from `Store::explain_page`: the
//! statement the store runs for that page, built by the store's own code with the same
//! choices and bound to the same values, not a copy of the query builder. A case over its
//! limit also gets `Store::explain_analyze_page` (PostgreSQL's `EXPLAIN (ANALYZE, BUFFERS)`,
//! SQLite's statement counters).
//!
//! PostgreSQL gets `Store::maintain` (`VACUUM ANALYZE`) after the load, which autovacuum does
//! on its own after a bulk load; SQLite gets `Store::refresh_statistics`, which the sync
//! engine runs after a run that wrote many rows.
//!
//! Other settings: `ATSBRIDGE_BENCH_ONLY=sqlite|postgres` runs one backend;
//! `ATSBRIDGE_BENCH_KEEP=1` keeps the databases afterwards for inspection (their location is
//! printed); `ATSBRIDGE_BENCH_SQLITE_NO_ANALYZE=1` skips the statistics refresh on SQLite, to see
//! what its planner does without them.
//!
//! Run as a test (`cargo test --benches`, no `--bench` argument) it is a smoke test: 20,000
//! records, one repetition, and only wrong results fail it, never timings.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use atsbridge_model::candidate::{EmailAddress, PhoneNumber};
use atsbridge_model::common::{Location, Tag};
use atsbridge_model::connector::Record;
use atsbridge_model::enums::{
    EmploymentType, JobStatus, Outcome, RemoteWorkStatus, StageStatus, Visibility,
};
use atsbridge_model::integration::EndUser;
use atsbridge_model::{
    record_id, Application, ApplicationCore, ApplicationStage, Candidate, CandidateProfile, Job,
    ModelKind, Stage, Timestamp,
};
use atsbridge_store::{
    Backend, Credentials, Filter, IntegrationSettings, KeyRing, NewIntegration, PageOrder,
    Position, RecordInput, Store,
};
use serde_json::json;

/// Records per page, as Kombo's default page size.
const PAGE: u32 = 100;
/// Records per `apply_batch` call (rounded up to whole jobs).
const BATCH: usize = 1_000;
/// The limit of a case: `max(LIMIT_FACTOR × baseline, LIMIT_FLOOR)`.
const LIMIT_FACTOR: u32 = 20;
const LIMIT_FLOOR: Duration = Duration::from_millis(5);

const A: &str = "sagehr:4mUqVHo3bnvKXT6qWZEpn1ds";
const B: &str = "sagehr:7pQsWbR2nKx9YtLmZcVd3hAe";

const DAY: i64 = 86_400_000;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

// ---------------------------------------------------------------------------------------------
// Synthetic data
// ---------------------------------------------------------------------------------------------

/// A well-mixed 64-bit hash (splitmix64): deterministic "randomness" by record number.
fn mix(x: u64, salt: u64) -> u64 {
    let mut z = x ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 0..100, uniformly, per (record, purpose).
fn pct(x: u64, salt: u64) -> u64 {
    mix(x, salt) % 100
}

fn pick<'a>(list: &[&'a str], x: u64, salt: u64) -> &'a str {
    list[(mix(x, salt) % list.len() as u64) as usize]
}

// Purposes of `mix`, so that attributes are independent of each other.
const S_STATUS: u64 = 1;
const S_EMPLOYMENT: u64 = 2;
const S_VISIBILITY: u64 = 3;
const S_TITLE: u64 = 4;
const S_LEVEL: u64 = 5;
const S_FIRST: u64 = 6;
const S_LAST: u64 = 7;
const S_OUTCOME: u64 = 8;
const S_STAGE: u64 = 9;
const S_CREATED: u64 = 10;
const S_SOURCE: u64 = 11;
const S_CITY: u64 = 12;
const S_UPDATE: u64 = 13;
const S_DELETE: u64 = 14;

const TITLES: &[&str] = &[
    "Rust Engineer",
    "Backend Engineer",
    "Frontend Engineer",
    "DevOps Engineer",
    "Data Engineer",
    "Data Scientist",
    "Product Manager",
    "Office Manager",
    "Sales Representative",
    "Account Executive",
    "Customer Success Manager",
    "Recruiter",
    "Registered Nurse",
    "Warehouse Associate",
    "Accountant",
    "Marketing Manager",
    "UX Designer",
    "Support Specialist",
    "Legal Counsel",
    "Store Manager",
];
const LEVELS: &[&str] = &["Junior ", "", "", "Senior ", "Lead ", "Principal "];
const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Operations",
    "People",
    "Finance",
    "Marketing",
    "Support",
];
const CITIES: &[(&str, &str)] = &[
    ("Berlin", "DE"),
    ("Munich", "DE"),
    ("Hamburg", "DE"),
    ("Vienna", "AT"),
    ("Zurich", "CH"),
    ("London", "GB"),
    ("Amsterdam", "NL"),
    ("Paris", "FR"),
    ("Madrid", "ES"),
    ("Lisbon", "PT"),
];
const FIRST: &[&str] = &[
    "James",
    "Mary",
    "John",
    "Patricia",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "William",
    "Elizabeth",
    "David",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Margaret",
    "Donald",
    "Sandra",
    "Steven",
    "Ashley",
    "Paul",
    "Kimberly",
    "Andrew",
    "Emily",
    "Joshua",
    "Donna",
    "Kenneth",
    "Michelle",
    "Kevin",
    "Dorothy",
    "Brian",
    "Carol",
    "George",
    "Amanda",
    "Edward",
    "Melissa",
    "Ronald",
    "Deborah",
    "Timothy",
    "Stephanie",
    "Jason",
    "Rebecca",
    "Jeffrey",
    "Sharon",
    "Ryan",
    "Laura",
    "Jacob",
    "Cynthia",
    "Gary",
    "Kathleen",
    "Nicholas",
    "Amy",
    "Eric",
    "Shirley",
    "Jonathan",
    "Angela",
    "Stephen",
    "Helen",
    "Larry",
    "Anna",
    "Justin",
    "Brenda",
    "Scott",
    "Pamela",
    "Brandon",
    "Nicole",
    "Benjamin",
    "Emma",
    "Samuel",
    "Samantha",
    "Gregory",
    "Katherine",
    "Frank",
    "Christine",
    "Alexander",
    "Debra",
    "Raymond",
    "Rachel",
    "Patrick",
    "Catherine",
    "Jack",
    "Carolyn",
    "Dennis",
    "Janet",
    "Jerry",
    "Ruth",
    "Tyler",
    "Maria",
];
const LAST_STEMS: &[&str] = &[
    "Berg", "Stein", "Hoff", "Wald", "Brand", "Lind", "Ross", "Fair", "Black", "Green", "Hart",
    "Kirk", "Mill", "Sand", "Stone", "West", "North", "Ash", "Bel", "Carl", "Dun", "Eck", "Fried",
    "Gold", "Holm", "Lang", "Mor", "Rich", "Thorn", "Wolf",
];
const LAST_ENDINGS: &[&str] = &["mann", "er", "son", "ley", "ford", "wood", "berg"];
const STAGE_NAMES: &[&str] = &["Applied", "Screening", "Interview", "Offer"];
const SOURCES: &[&str] = &["LinkedIn", "Referral", "Careers page", "Indeed", "Agency"];
/// The names of the handful of candidates with a rare name (the selective name filters).
const RARE_FIRST: &str = "Zebedee";
const RARE_LAST: &str = "Quixley";

fn last_name(x: u64) -> String {
    let i = (mix(x, S_LAST) % (LAST_STEMS.len() * LAST_ENDINGS.len()) as u64) as usize;
    format!(
        "{}{}",
        LAST_STEMS[i / LAST_ENDINGS.len()],
        LAST_ENDINGS[i % LAST_ENDINGS.len()]
    )
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms).expect("a timestamp in range")
}

fn at(s: &str) -> i64 {
    Timestamp::parse(s).expect("a timestamp").unix_millis()
}

/// Jobs were created between these two instants (their listing order follows it); an
/// application comes up to 90 days after its job.
fn created_from() -> i64 {
    at("2021-01-01T00:00:00Z")
}

fn created_until() -> i64 {
    at("2026-01-01T00:00:00Z")
}

/// The first sync runs on this day; the update pass and the deletions come later.
fn load_day() -> i64 {
    at("2026-03-01T08:00:00Z")
}

fn update_day() -> i64 {
    load_day() + 9 * DAY
}

fn delete_day() -> i64 {
    load_day() + 10 * DAY
}

/// The record numbers of a tenant: `jobs` jobs with four stages each, and `people`
/// candidates, each with one application (candidate k applied with application k). Job `j`
/// has the applications `apps_of_job(j)`, consecutive numbers.
#[derive(Debug, Clone, Copy)]
struct Shape {
    jobs: u64,
    people: u64,
}

impl Shape {
    fn for_records(n: u64) -> Shape {
        let jobs = (n / 500).max(8);
        Shape {
            jobs,
            people: n.saturating_sub(jobs * 5) / 2,
        }
    }

    fn records(&self) -> u64 {
        self.jobs * 5 + self.people * 2
    }

    fn job_of(&self, k: u64) -> u64 {
        k * self.jobs / self.people
    }

    fn apps_of_job(&self, j: u64) -> std::ops::Range<u64> {
        (j * self.people).div_ceil(self.jobs)..((j + 1) * self.people).div_ceil(self.jobs)
    }

    /// Candidates with the rare name: ten, spread over the list.
    fn is_rare(&self, k: u64) -> bool {
        k % (self.people / 10).max(1) == 7
    }
}

/// Whether record `x` of a model is among the 1% deleted.
fn deleted(model: ModelKind, x: u64) -> bool {
    pct(x, S_DELETE * 10 + model as u64) == 0
}

/// Whether application `k` is among the 1% changed by the update pass.
fn updated(k: u64) -> bool {
    pct(k, S_UPDATE) == 0
}

#[derive(Debug)]
struct Tenant {
    id: &'static str,
    domain: &'static str,
    shape: Shape,
}

impl Tenant {
    fn job_remote(j: u64) -> String {
        format!("pos-{j}")
    }

    fn job_id(&self, j: u64) -> String {
        record_id(self.id, ModelKind::Job, &Self::job_remote(j))
    }

    fn stage_remote(j: u64, n: u64) -> String {
        format!("pos-{j}-stage-{n}")
    }

    fn stage_id(&self, j: u64, n: u64) -> String {
        record_id(
            self.id,
            ModelKind::ApplicationStage,
            &Self::stage_remote(j, n),
        )
    }

    fn candidate_id(&self, k: u64) -> String {
        record_id(self.id, ModelKind::Candidate, &format!("cand-{k}"))
    }

    fn application_id(&self, k: u64) -> String {
        record_id(self.id, ModelKind::Application, &format!("appl-{k}"))
    }

    fn job_code(j: u64) -> Option<String> {
        (j % 10 != 9).then(|| format!("JC-{j:05}"))
    }

    fn post_url(&self, j: u64) -> String {
        format!("https://careers.{}/jobs/{j}", self.domain)
    }

    fn job_created(&self, j: u64) -> i64 {
        let span = created_until() - created_from();
        created_from() + span * j as i64 / self.shape.jobs as i64
    }

    fn app_created(&self, k: u64) -> i64 {
        self.job_created(self.shape.job_of(k)) + (mix(k, S_CREATED) % (90 * DAY as u64)) as i64
    }

    fn visibility(j: u64) -> Visibility {
        match pct(j, S_VISIBILITY) {
            0..=64 => Visibility::Public,
            65..=84 => Visibility::Internal,
            85..=94 => Visibility::Unlisted,
            _ => Visibility::Confidential,
        }
    }

    fn first_name(&self, k: u64) -> &'static str {
        if self.shape.is_rare(k) {
            RARE_FIRST
        } else {
            pick(FIRST, k, S_FIRST)
        }
    }

    fn last_name(&self, k: u64) -> String {
        if self.shape.is_rare(k) {
            RARE_LAST.to_owned()
        } else {
            last_name(k)
        }
    }

    fn email(&self, k: u64) -> String {
        format!(
            "{}.{}.{k}@{}",
            self.first_name(k),
            self.last_name(k),
            self.domain
        )
        .to_lowercase()
    }

    fn job(&self, j: u64) -> Job {
        let title = format!("{}{}", pick(LEVELS, j, S_LEVEL), pick(TITLES, j, S_TITLE));
        let (city, country) = CITIES[(mix(j, S_CITY) % CITIES.len() as u64) as usize];
        let visibility = Self::visibility(j);
        let created = self.job_created(j);
        Job {
            id: self.job_id(j),
            remote_id: Self::job_remote(j),
            name: Some(title.clone()),
            job_code: Self::job_code(j),
            description: Some(format!(
                "<h2>{title}</h2><p>We are looking for a {title} to join our team in {city}. \
                 You will work with a friendly, international team on products used by \
                 thousands of customers every day.</p><h3>What you bring</h3><ul><li>Several \
                 years of experience as {title}</li><li>Curiosity and care for quality</li>\
                 <li>Good written English</li></ul><h3>What we offer</h3><ul><li>30 days of \
                 vacation</li><li>A learning budget</li><li>Flexible hours</li></ul>"
            )),
            confidential: Some(visibility == Visibility::Confidential),
            weekly_hours: Some(40.0),
            category: Some(pick(DEPARTMENTS, j, S_TITLE).to_owned()),
            department: Some(pick(DEPARTMENTS, j, S_TITLE).to_owned()),
            post_url: (visibility == Visibility::Public).then(|| self.post_url(j)),
            experience_level: Some("Mid-level".into()),
            salary_amount: None,
            salary_amount_from: Some(50_000.0 + (j % 20) as f64 * 1_000.0),
            salary_amount_to: Some(70_000.0 + (j % 20) as f64 * 1_000.0),
            salary_currency: Some("EUR".into()),
            custom_fields: Some(serde_json::Map::from_iter([(
                "cost_center".to_owned(),
                json!(format!("CC-{}", j % 37)),
            )])),
            remote_url: Some(format!("https://acme.sage.hr/recruitment/positions/{j}")),
            opened_at: Some(ts(created)),
            closed_at: None,
            remote_created_at: Some(ts(created)),
            remote_updated_at: Some(ts(created + 3 * DAY)),
            contact_id: None,
            changed_at: ts(0),
            remote_deleted_at: None,
            stages: (0..STAGE_NAMES.len() as u64)
                .map(|n| Stage {
                    id: self.stage_id(j, n),
                    remote_id: Some(Self::stage_remote(j, n)),
                    name: Some(STAGE_NAMES[n as usize].into()),
                    status: Some(StageStatus::Active),
                    custom_fields: None,
                    index: Some(n as i64),
                })
                .collect(),
            screening_questions: Vec::new(),
            job_postings: Vec::new(),
            hiring_team: Vec::new(),
            employment_type: Some(match pct(j, S_EMPLOYMENT) {
                0..=59 => EmploymentType::FullTime,
                60..=79 => EmploymentType::PartTime,
                80..=89 => EmploymentType::Contract,
                90..=94 => EmploymentType::Internship,
                _ => EmploymentType::Seasonal,
            }),
            status: Some(match pct(j, S_STATUS) {
                0..=39 => JobStatus::Open,
                40..=74 => JobStatus::Closed,
                75..=84 => JobStatus::Draft,
                _ => JobStatus::Archived,
            }),
            visibility: Some(visibility),
            remote_work_status: Some(if j % 3 == 0 {
                RemoteWorkStatus::Hybrid
            } else {
                RemoteWorkStatus::OnSite
            }),
            salary_period: None,
            location: Some(Location {
                city: Some(city.into()),
                country: Some(country.into()),
                raw: Some(format!("{city}, {country}")),
                ..Location::default()
            }),
            remote_data: Some(json!({"/recruitment/positions": {"id": j, "title": title}})),
        }
    }

    fn stage(&self, j: u64, n: u64) -> Record {
        Record::ApplicationStage {
            stage: ApplicationStage {
                id: self.stage_id(j, n),
                remote_id: Some(Self::stage_remote(j, n)),
                name: Some(STAGE_NAMES[n as usize].into()),
                status: Some(StageStatus::Active),
                custom_fields: None,
                changed_at: ts(0),
                remote_deleted_at: None,
                remote_data: None,
            },
            job_remote_id: Self::job_remote(j),
        }
    }

    fn candidate(&self, k: u64) -> Candidate {
        let first = self.first_name(k);
        let last = self.last_name(k);
        let (city, country) = CITIES[(mix(k, S_CITY) % CITIES.len() as u64) as usize];
        let mut emails = vec![EmailAddress {
            email_address: Some(self.email(k)),
            kind: Some("PRIVATE".into()),
        }];
        if k % 3 == 0 {
            emails.push(EmailAddress {
                email_address: Some(format!("{}@work.example", first.to_lowercase())),
                kind: Some("WORK".into()),
            });
        }
        Candidate {
            profile: CandidateProfile {
                id: self.candidate_id(k),
                remote_id: format!("cand-{k}"),
                first_name: Some(first.into()),
                last_name: Some(last),
                company: Some(format!("{} GmbH", pick(LAST_STEMS, k, S_SOURCE))),
                title: Some(pick(TITLES, k, S_TITLE).into()),
                confidential: Some(false),
                source: Some(pick(SOURCES, k, S_SOURCE).into()),
                custom_fields: None,
                remote_url: Some(format!("https://acme.sage.hr/recruitment/applicants/{k}")),
                remote_created_at: Some(ts(self.app_created(k))),
                remote_updated_at: Some(ts(self.app_created(k) + DAY)),
                changed_at: ts(0),
                remote_deleted_at: None,
                tags: if k % 4 == 0 {
                    vec![Tag {
                        id: "talent-pool".into(),
                        name: Some("Talent pool".into()),
                        remote_id: Some("7".into()),
                    }]
                } else {
                    Vec::new()
                },
                phone_numbers: vec![PhoneNumber {
                    phone_number: format!("+49 30 {:07}", k % 10_000_000),
                    kind: Some("MOBILE".into()),
                }],
                email_addresses: emails,
                social_media: Vec::new(),
                location: Some(Location {
                    city: Some(city.into()),
                    country: Some(country.into()),
                    ..Location::default()
                }),
                remote_data: None,
            },
            applications: Vec::new(),
        }
    }

    fn outcome(k: u64) -> Outcome {
        match pct(k, S_OUTCOME) {
            0..=69 => Outcome::Pending,
            70..=94 => Outcome::Declined,
            _ => Outcome::Hired,
        }
    }

    /// Application `k`; `revised` is its state after the update pass (another outcome).
    fn application(&self, k: u64, revised: bool) -> Application {
        let j = self.shape.job_of(k);
        let mut outcome = Self::outcome(k);
        if revised {
            outcome = match outcome {
                Outcome::Pending => Outcome::Declined,
                Outcome::Declined => Outcome::Hired,
                Outcome::Hired => Outcome::Declined,
            };
        }
        let created = self.app_created(k);
        let declined = outcome == Outcome::Declined;
        Application {
            core: ApplicationCore {
                id: self.application_id(k),
                remote_id: Some(format!("appl-{k}")),
                outcome: Some(outcome),
                rejection_reason_name: declined.then(|| "Not a fit".to_owned()),
                rejected_at: declined.then(|| ts(created + 14 * DAY)),
                current_stage_id: (pct(k, S_STAGE) >= 10)
                    .then(|| self.stage_id(j, mix(k, S_STAGE) % STAGE_NAMES.len() as u64)),
                job_id: Some(self.job_id(j)),
                candidate_id: Some(self.candidate_id(k)),
                custom_fields: Some(serde_json::Map::from_iter([(
                    "salary_expectation".to_owned(),
                    json!(40_000 + (k % 50) * 1_000),
                )])),
                remote_url: Some(format!("https://acme.sage.hr/recruitment/applicants/{k}")),
                changed_at: ts(0),
                remote_deleted_at: None,
                remote_created_at: Some(ts(created)),
                remote_updated_at: Some(ts(created + if revised { 30 } else { 1 } * DAY)),
                screening_question_answers: Vec::new(),
                remote_data: None,
            },
            candidate: None,
            current_stage: None,
            job: None,
            interviews: Vec::new(),
            offers: Vec::new(),
        }
    }

    fn application_input(&self, k: u64, revised: bool) -> RecordInput {
        let job_remote = Self::job_remote(self.shape.job_of(k));
        RecordInput::from_record(&Record::Application(self.application(k, revised)))
            .expect("a storable application")
            .with_job_remote_id(Some(job_remote))
    }

    /// Job `j` with everything listed under it, in the connector's order.
    fn block(&self, j: u64) -> Vec<RecordInput> {
        let input = |r: Record| RecordInput::from_record(&r).expect("a storable record");
        let mut out = vec![input(Record::Job(self.job(j)))];
        for n in 0..STAGE_NAMES.len() as u64 {
            out.push(input(self.stage(j, n)));
        }
        for k in self.shape.apps_of_job(j) {
            out.push(input(Record::Candidate(self.candidate(k))));
            out.push(self.application_input(k, false));
        }
        out
    }
}

/// A tenant's first sync, as batches of about `BATCH` records.
struct Batches<'a> {
    tenant: &'a Tenant,
    next_job: u64,
}

impl Batches<'_> {
    fn next(&mut self) -> Option<Vec<RecordInput>> {
        let mut batch = Vec::new();
        while batch.len() < BATCH && self.next_job < self.tenant.shape.jobs {
            batch.extend(self.tenant.block(self.next_job));
            self.next_job += 1;
        }
        (!batch.is_empty()).then_some(batch)
    }
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

async fn connect(store: &Store, id: &str) -> BenchResult<()> {
    let mut credentials = Credentials::default();
    credentials.0.insert("api_key".into(), json!("bench-key"));
    store
        .create_integration(
            NewIntegration {
                id: id.into(),
                tool: "sagehr".into(),
                category: atsbridge_model::integration::Category::Ats,
                environment_id: "bench".into(),
                end_user: EndUser {
                    organization_name: "Acme".into(),
                    creator_email: None,
                    origin_id: None,
                },
                settings: IntegrationSettings::default(),
                credentials,
            },
            ts(load_day()),
        )
        .await?;
    Ok(())
}

fn rate(n: u64, d: Duration) -> String {
    format!(
        "{} records in {:.1} s ({} records/s)",
        thousands(n),
        d.as_secs_f64(),
        thousands((n as f64 / d.as_secs_f64().max(1e-9)) as u64)
    )
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Loads both tenants the way syncs would, and reports how long it took.
async fn load(
    store: &Store,
    a: &Tenant,
    b: &Tenant,
    skip_analyze_sqlite: bool,
) -> BenchResult<Vec<String>> {
    let mut report = Vec::new();
    connect(store, a.id).await?;
    connect(store, b.id).await?;

    // The first sync of both, B's batches spread among A's (two syncs running side by side).
    let total = a.shape.records() + b.shape.records();
    let every = (a.shape.jobs / b.shape.jobs.max(1)).max(1);
    let (mut batches_a, mut batches_b) = (
        Batches {
            tenant: a,
            next_job: 0,
        },
        Batches {
            tenant: b,
            next_job: 0,
        },
    );
    let started = Instant::now();
    let (mut stored, mut batch_no, mut next_report) = (0u64, 0i64, total / 10);
    let mut batches_of_a = 0u64;
    // Time spent inside `apply_batch`, without making up the records.
    let mut in_store = Duration::ZERO;
    loop {
        let mut todo = Vec::new();
        let next_a = batches_a.next();
        let a_done = next_a.is_none();
        if let Some(records) = next_a {
            todo.push((a.id, records));
            batches_of_a += 1;
        }
        if a_done || batches_of_a % every == 0 {
            if let Some(records) = batches_b.next() {
                todo.push((b.id, records));
            }
        }
        if todo.is_empty() {
            break;
        }
        for (tenant, records) in todo {
            let now = ts(load_day() + batch_no * 2_000);
            let applying = Instant::now();
            store.apply_batch(tenant, &records, now).await?;
            in_store += applying.elapsed();
            stored += records.len() as u64;
            batch_no += 1;
        }
        if stored >= next_report {
            eprintln!(
                "  loaded {} of {} records ({:.0} s)",
                thousands(stored),
                thousands(total),
                started.elapsed().as_secs_f64()
            );
            next_report += total / 10;
        }
    }
    report.push(format!(
        "first sync, {batch_no} apply_batch calls: {} inside apply_batch; {:.1} s in all with making up the records",
        rate(stored, in_store),
        started.elapsed().as_secs_f64()
    ));

    // A delta sync a week later: 1% of A's applications changed (their candidates' updated_at
    // moves too).
    let started = Instant::now();
    let revised: Vec<u64> = (0..a.shape.people).filter(|&k| updated(k)).collect();
    for chunk in revised.chunks(BATCH) {
        let batch: Vec<RecordInput> = chunk
            .iter()
            .map(|&k| a.application_input(k, true))
            .collect();
        store.apply_batch(a.id, &batch, ts(update_day())).await?;
    }
    report.push(format!(
        "update pass (apply_batch): {}",
        rate(revised.len() as u64, started.elapsed())
    ));

    // Then 1% of every model is deleted upstream.
    let started = Instant::now();
    let mut marked = 0;
    for t in [a, b] {
        let jobs: Vec<String> = (0..t.shape.jobs)
            .filter(|&j| deleted(ModelKind::Job, j))
            .map(|j| t.job_id(j))
            .collect();
        let stages: Vec<String> = (0..t.shape.jobs * STAGE_NAMES.len() as u64)
            .filter(|&s| deleted(ModelKind::ApplicationStage, s))
            .map(|s| t.stage_id(s / 4, s % 4))
            .collect();
        let candidates: Vec<String> = (0..t.shape.people)
            .filter(|&k| deleted(ModelKind::Candidate, k))
            .map(|k| t.candidate_id(k))
            .collect();
        let applications: Vec<String> = (0..t.shape.people)
            .filter(|&k| deleted(ModelKind::Application, k))
            .map(|k| t.application_id(k))
            .collect();
        for (model, ids) in [
            (ModelKind::Job, jobs),
            (ModelKind::ApplicationStage, stages),
            (ModelKind::Candidate, candidates),
            (ModelKind::Application, applications),
        ] {
            marked += store
                .mark_deleted(t.id, model, &ids, ts(delete_day()))
                .await?;
        }
    }
    report.push(format!(
        "deletions (mark_deleted): {}",
        rate(marked, started.elapsed())
    ));

    if store.backend() == Backend::Sqlite && !skip_analyze_sqlite {
        // What the sync engine does after a run that wrote many rows.
        let started = Instant::now();
        store.refresh_statistics().await?;
        report.push(format!(
            "refresh_statistics (ANALYZE, as the sync engine runs it after large runs): {:.1} s",
            started.elapsed().as_secs_f64()
        ));
    }
    if store.backend() == Backend::Postgres {
        let started = Instant::now();
        store.maintain().await?;
        report.push(format!(
            "VACUUM ANALYZE (what autovacuum does after a bulk load): {:.1} s",
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A full page, and more after it.
    Full,
    /// At least one record.
    Some,
    /// Nothing.
    None,
    /// Too few matches at this scale to say (only with `ATSBRIDGE_BENCH_RECORDS` scaled down).
    Any,
}

impl Expect {
    fn holds(self, rows: usize, more: bool) -> bool {
        match self {
            Expect::Full => rows == PAGE as usize && more,
            Expect::Some => rows > 0,
            Expect::None => rows == 0 && !more,
            Expect::Any => true,
        }
    }
}

/// What a filter matching about `n` live records must return: a full page when `n` is well
/// above a page, something when it is a few.
fn about(n: f64) -> Expect {
    if n >= 2.0 * f64::from(PAGE) {
        Expect::Full
    } else if n >= 5.0 {
        Expect::Some
    } else {
        Expect::Any
    }
}

#[derive(Debug, Clone)]
struct Case {
    name: String,
    integration: &'static str,
    model: ModelKind,
    filter: Filter,
    after: Option<i64>,
    expect: Expect,
}

#[derive(Debug, Default)]
struct Cases(Vec<Case>);

impl Cases {
    fn add(
        &mut self,
        name: impl Into<String>,
        model: ModelKind,
        filter: Filter,
        expect: Expect,
    ) -> &mut Case {
        self.0.push(Case {
            name: name.into(),
            integration: A,
            model,
            filter,
            after: None,
            expect,
        });
        self.0.last_mut().expect("just pushed")
    }
}

fn list(values: impl IntoIterator<Item = impl Into<String>>) -> Option<Vec<String>> {
    Some(values.into_iter().map(Into::into).collect())
}

/// The first number from `from` on (wrapping around `n`) that `keep` accepts.
fn first_from(from: u64, n: u64, keep: impl Fn(u64) -> bool) -> u64 {
    (0..n)
        .map(|i| (from + i) % n)
        .find(|&x| keep(x))
        .expect("a record to pick")
}

/// `n` numbers spread evenly over `0..total`.
fn spread(n: u64, total: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n).map(|i| i * total / n + total / (3 * n)).collect();
    v.dedup();
    v
}

async fn seq_of(
    store: &Store,
    integration: &str,
    model: ModelKind,
    id: String,
) -> BenchResult<i64> {
    let found = store.by_ids(integration, model, &[id]).await?;
    Ok(found
        .first()
        .ok_or("a record the bench stored is missing")?
        .seq)
}

/// Every case: each filter of `Filter` on its models, selective and not, deep pages,
/// combinations and the other integration. Values are picked from late in the list where
/// it matters: a plan that walks the page index and filters as it goes has the most to read
/// before it finds them.
async fn cases(store: &Store, a: &Tenant, b: &Tenant) -> BenchResult<Vec<Case>> {
    use ModelKind::{
        Application as Apps, ApplicationStage as Stages, Candidate as Cands, Job as Jobs,
    };
    let s = a.shape;
    let (jobs, people) = (s.jobs as f64, s.people as f64);
    let per_job = people / jobs;
    let f = Filter::default;
    let live_app = |k: u64| !deleted(Apps, k);
    let live_cand = |k: u64| !deleted(Cands, k);
    let live_job = |j: u64| !deleted(Jobs, j) && Tenant::job_code(j).is_some();
    let late_job = first_from(s.jobs - s.jobs / 20, s.jobs, live_job);
    let early_job = first_from(s.jobs / 50, s.jobs, live_job);
    // A late job with a candidate whose application changed in the update pass.
    let late_job_updated = first_from(late_job, s.jobs, |j| {
        live_job(j)
            && s.apps_of_job(j)
                .any(|k| updated(k) && live_cand(k) && live_app(k))
    });
    let late_app = first_from(s.people - s.people / 25, s.people, live_app);
    let late_cand = first_from(s.people - s.people / 30, s.people, live_cand);
    let late_stage = first_from(late_job * 4 + 1, s.jobs * 4, |x| {
        !deleted(Stages, x) && x / 4 == late_job
    });
    let public_job = first_from(late_job, s.jobs, |j| {
        live_job(j) && Tenant::visibility(j) == Visibility::Public
    });
    let deleted_app = first_from(s.people / 2, s.people, |k| deleted(Apps, k));
    let deep_app = first_from(s.people * 9 / 10, s.people, live_app);
    let deep_cand = first_from(s.people * 9 / 10, s.people, live_cand);
    let deep_app_seq = seq_of(store, A, Apps, a.application_id(deep_app)).await?;
    let deep_cand_seq = seq_of(store, A, Cands, a.candidate_id(deep_cand)).await?;
    let common_first = pick(FIRST, 42, S_FIRST);
    let common_last = last_name(42);
    let last_share = 1.0 / (LAST_STEMS.len() * LAST_ENDINGS.len()) as f64;
    let first_share = 1.0 / FIRST.len() as f64;
    // `remote_created_after` thresholds that select a given share of the records.
    let mut created: Vec<i64> = (0..s.people).map(|k| a.app_created(k)).collect();
    created.sort_unstable();
    let newest = |share: f64| created[((created.len() as f64) * (1.0 - share)) as usize];
    let (apps_1pct, apps_20pct) = (newest(0.01), newest(0.20));
    let jobs_2pct = a.job_created(s.jobs - (s.jobs / 50).max(1));
    let long_ago = at("2020-01-01T00:00:00Z");
    // Updated in the update pass or by the deletions' touches: about 3% of the applications
    // (their own 1%, those of deleted candidates and of deleted stages), 2% of candidates.
    let after_load = Some(load_day() + DAY);
    let before_load = Some(load_day() - DAY);
    let ids_of = |f: &dyn Fn(u64) -> String, xs: Vec<u64>| list(xs.into_iter().map(f));

    let mut c = Cases::default();
    // The baseline's own row (it is also sampled between the cases).
    c.add(
        "applications: no filter (BASELINE)",
        Apps,
        f(),
        about(people),
    );
    c.add("jobs: no filter", Jobs, f(), about(jobs));
    c.add("candidates: no filter", Cands, f(), about(people));
    c.add(
        "application-stages: no filter",
        Stages,
        f(),
        about(jobs * 4.0),
    );

    // ids, remote_ids
    c.add(
        "applications: ids=[1 late]",
        Apps,
        Filter {
            ids: list([a.application_id(late_app)]),
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "applications: ids=[100 spread]",
        Apps,
        Filter {
            ids: ids_of(&|k| a.application_id(k), spread(100, s.people)),
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "applications: ids=[1 deleted]",
        Apps,
        Filter {
            ids: list([a.application_id(deleted_app)]),
            ..f()
        },
        Expect::None,
    );
    c.add(
        "applications: ids=[1 deleted]+include_deleted",
        Apps,
        Filter {
            ids: list([a.application_id(deleted_app)]),
            include_deleted: true,
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "candidates: ids=[1 late]",
        Cands,
        Filter {
            ids: list([a.candidate_id(late_cand)]),
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "jobs: ids=[1 late]",
        Jobs,
        Filter {
            ids: list([a.job_id(late_job)]),
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "applications: remote_ids=[1 late]",
        Apps,
        Filter {
            remote_ids: list([format!("appl-{late_app}")]),
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "applications: remote_ids=[100 spread]",
        Apps,
        Filter {
            remote_ids: ids_of(&|k| format!("appl-{k}"), spread(100, s.people)),
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "candidates: remote_ids=[1 late]",
        Cands,
        Filter {
            remote_ids: list([format!("cand-{late_cand}")]),
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "application-stages: remote_ids=[1 late]",
        Stages,
        Filter {
            remote_ids: list([Tenant::stage_remote(late_job, late_stage % 4)]),
            ..f()
        },
        Expect::Some,
    );

    // updated_after, include_deleted
    c.add(
        "applications: updated_after (3% newer)",
        Apps,
        Filter {
            updated_after: after_load,
            ..f()
        },
        about(people * 0.03),
    );
    c.add(
        "applications: updated_after (all newer)",
        Apps,
        Filter {
            updated_after: before_load,
            ..f()
        },
        about(people),
    );
    c.add(
        "applications: updated_after (none newer)",
        Apps,
        Filter {
            updated_after: Some(delete_day() + DAY),
            ..f()
        },
        Expect::None,
    );
    c.add(
        "candidates: updated_after (2% newer)",
        Cands,
        Filter {
            updated_after: after_load,
            ..f()
        },
        about(people * 0.02),
    );
    c.add(
        "candidates: updated_after (all newer)",
        Cands,
        Filter {
            updated_after: before_load,
            ..f()
        },
        about(people),
    );
    c.add(
        "jobs: updated_after (all newer)",
        Jobs,
        Filter {
            updated_after: before_load,
            ..f()
        },
        about(jobs),
    );
    c.add(
        "application-stages: updated_after+include_deleted (1%)",
        Stages,
        Filter {
            updated_after: after_load,
            include_deleted: true,
            ..f()
        },
        about(jobs * 4.0 * 0.01),
    );
    c.add(
        "applications: include_deleted",
        Apps,
        Filter {
            include_deleted: true,
            ..f()
        },
        about(people),
    );
    c.add(
        "applications: include_deleted+updated_after (4%)",
        Apps,
        Filter {
            include_deleted: true,
            updated_after: after_load,
            ..f()
        },
        about(people * 0.04),
    );
    c.add(
        "candidates: include_deleted",
        Cands,
        Filter {
            include_deleted: true,
            ..f()
        },
        about(people),
    );

    // Jobs
    for (values, share) in [(vec!["OPEN"], 0.40), (vec!["DRAFT", "ARCHIVED"], 0.25)] {
        c.add(
            format!("jobs: statuses={values:?} ({:.0}%)", share * 100.0),
            Jobs,
            Filter {
                statuses: list(values),
                ..f()
            },
            about(jobs * share),
        );
    }
    for (values, share) in [(vec!["FULL_TIME"], 0.60), (vec!["INTERNSHIP"], 0.05)] {
        c.add(
            format!("jobs: employment_types={values:?} ({:.0}%)", share * 100.0),
            Jobs,
            Filter {
                employment_types: list(values),
                ..f()
            },
            about(jobs * share),
        );
    }
    for (values, share) in [(vec!["PUBLIC"], 0.65), (vec!["CONFIDENTIAL"], 0.05)] {
        c.add(
            format!("jobs: visibilities={values:?} ({:.0}%)", share * 100.0),
            Jobs,
            Filter {
                visibilities: list(values),
                ..f()
            },
            about(jobs * share),
        );
    }
    c.add(
        "jobs: job_codes=[1 late]",
        Jobs,
        Filter {
            job_codes: list(Tenant::job_code(late_job)),
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "jobs: job_codes=[50 spread]",
        Jobs,
        Filter {
            job_codes: list(spread(50, s.jobs).into_iter().filter_map(Tenant::job_code)),
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "jobs: post_url=[1 late]",
        Jobs,
        Filter {
            post_url: Some(a.post_url(public_job)),
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "jobs: name_contains=Engineer (25%)",
        Jobs,
        Filter {
            name_contains: Some("Engineer".into()),
            ..f()
        },
        about(jobs * 0.25),
    );
    c.add(
        "jobs: name_contains=no-such-job (none)",
        Jobs,
        Filter {
            name_contains: Some("no-such-job".into()),
            ..f()
        },
        Expect::None,
    );
    c.add(
        "jobs: remote_created_after (newest 2%)",
        Jobs,
        Filter {
            remote_created_after: Some(jobs_2pct),
            ..f()
        },
        about(jobs * 0.02),
    );
    c.add(
        "jobs: remote_created_after (all)",
        Jobs,
        Filter {
            remote_created_after: Some(long_ago),
            ..f()
        },
        about(jobs),
    );

    // Candidates
    c.add(
        "candidates: email=[1 late, upper case]",
        Cands,
        Filter {
            email: Some(a.email(late_cand).to_uppercase()),
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "candidates: email=nobody (none)",
        Cands,
        Filter {
            email: Some("nobody@nowhere.test".into()),
            ..f()
        },
        Expect::None,
    );
    c.add(
        format!("candidates: first_name={common_first} (1%)"),
        Cands,
        Filter {
            first_name: Some(common_first.to_owned()),
            ..f()
        },
        about(people * first_share),
    );
    c.add(
        format!("candidates: first_name={RARE_FIRST} (10 rows)"),
        Cands,
        Filter {
            first_name: Some(RARE_FIRST.to_lowercase()),
            ..f()
        },
        Expect::Some,
    );
    c.add(
        format!("candidates: last_name={common_last} (0.5%)"),
        Cands,
        Filter {
            last_name: Some(common_last.clone()),
            ..f()
        },
        about(people * last_share),
    );
    c.add(
        format!("candidates: last_name={RARE_LAST} (10 rows)"),
        Cands,
        Filter {
            last_name: Some(RARE_LAST.to_owned()),
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "candidates: job_ids=[1 late job]",
        Cands,
        Filter {
            job_ids: list([a.job_id(late_job)]),
            ..f()
        },
        about(per_job),
    );
    c.add(
        "candidates: job_ids=[1 early job]",
        Cands,
        Filter {
            job_ids: list([a.job_id(early_job)]),
            ..f()
        },
        about(per_job),
    );
    c.add(
        "candidates: job_ids=[100 spread jobs] (5%)",
        Cands,
        Filter {
            job_ids: ids_of(&|j| a.job_id(j), spread(100, s.jobs)),
            ..f()
        },
        about(per_job * jobs.min(100.0)),
    );

    // Applications
    for (values, share) in [
        (vec!["PENDING"], 0.70),
        (vec!["HIRED"], 0.05),
        (vec!["HIRED", "DECLINED"], 0.30),
    ] {
        c.add(
            format!("applications: outcomes={values:?} ({:.0}%)", share * 100.0),
            Apps,
            Filter {
                outcomes: list(values),
                ..f()
            },
            about(people * share),
        );
    }
    c.add(
        "applications: job_ids=[1 late job]",
        Apps,
        Filter {
            job_ids: list([a.job_id(late_job)]),
            ..f()
        },
        about(per_job),
    );
    c.add(
        "applications: job_ids=[100 spread jobs] (5%)",
        Apps,
        Filter {
            job_ids: ids_of(&|j| a.job_id(j), spread(100, s.jobs)),
            ..f()
        },
        about(per_job * jobs.min(100.0)),
    );
    c.add(
        "applications: job_ids=[2 late jobs]",
        Apps,
        Filter {
            job_ids: list([a.job_id(late_job), a.job_id(late_job + 1)]),
            ..f()
        },
        about(per_job * 2.0),
    );
    c.add(
        "applications: job_remote_ids=[1 late job]",
        Apps,
        Filter {
            job_remote_ids: list([Tenant::job_remote(late_job)]),
            ..f()
        },
        about(per_job),
    );
    c.add(
        "applications: job_remote_ids=[100 spread jobs] (5%)",
        Apps,
        Filter {
            job_remote_ids: ids_of(&Tenant::job_remote, spread(100, s.jobs)),
            ..f()
        },
        about(per_job * jobs.min(100.0)),
    );
    c.add(
        "applications: current_stage_ids=[1 late stage]",
        Apps,
        Filter {
            current_stage_ids: list([a.stage_id(late_job, late_stage % 4)]),
            ..f()
        },
        about(per_job * 0.9 / 4.0),
    );
    c.add(
        "applications: current_stage_ids=[4 stages of 1 late job]",
        Apps,
        Filter {
            current_stage_ids: list((0..4).map(|n| a.stage_id(late_job, n))),
            ..f()
        },
        about(per_job * 0.9),
    );
    c.add(
        "applications: current_stage_ids=[200: stages of 50 jobs] (2%)",
        Apps,
        Filter {
            current_stage_ids: list(
                spread(50, s.jobs)
                    .into_iter()
                    .flat_map(|j| (0..4).map(move |n| a.stage_id(j, n))),
            ),
            ..f()
        },
        about(per_job * jobs.min(50.0) * 0.9),
    );
    for (label, t, share) in [
        ("newest 1%", apps_1pct, 0.01),
        ("newest 20%", apps_20pct, 0.20),
        ("all", long_ago, 1.0),
    ] {
        c.add(
            format!("applications: remote_created_after ({label})"),
            Apps,
            Filter {
                remote_created_after: Some(t),
                ..f()
            },
            about(people * share),
        );
    }

    // Deep pagination: the page after a cursor 90% into the list.
    c.add(
        "applications: deep page (cursor at 90%)",
        Apps,
        f(),
        about(people * 0.1),
    )
    .after = Some(deep_app_seq);
    c.add(
        "candidates: deep page (cursor at 90%)",
        Cands,
        f(),
        about(people * 0.1),
    )
    .after = Some(deep_cand_seq);
    c.add(
        "applications: deep page+outcomes=[\"PENDING\"]",
        Apps,
        Filter {
            outcomes: list(["PENDING"]),
            ..f()
        },
        about(people * 0.07),
    )
    .after = Some(deep_app_seq);
    c.add(
        "applications: deep page+updated_after (3% newer)",
        Apps,
        Filter {
            updated_after: after_load,
            ..f()
        },
        about(people * 0.003),
    )
    .after = Some(deep_app_seq);
    c.add(
        "applications: deep page+job_ids=[1 early job] (none after)",
        Apps,
        Filter {
            job_ids: list([a.job_id(early_job)]),
            ..f()
        },
        Expect::None,
    )
    .after = Some(deep_app_seq);
    c.add(
        format!("candidates: deep page+first_name={common_first}"),
        Cands,
        Filter {
            first_name: Some(common_first.to_owned()),
            ..f()
        },
        about(people * 0.1 * first_share),
    )
    .after = Some(deep_cand_seq);

    // Combinations
    c.add(
        "jobs: OPEN+FULL_TIME+PUBLIC+name_contains=engineer",
        Jobs,
        Filter {
            statuses: list(["OPEN"]),
            employment_types: list(["FULL_TIME"]),
            visibilities: list(["PUBLIC"]),
            name_contains: Some("engineer".into()),
            ..f()
        },
        about(jobs * 0.4 * 0.6 * 0.65 * 0.25),
    );
    c.add(
        format!("candidates: first_name={common_first}+last_name={common_last}"),
        Cands,
        Filter {
            first_name: Some(common_first.to_owned()),
            last_name: Some(common_last.clone()),
            ..f()
        },
        about(people * first_share * last_share),
    );
    c.add(
        "candidates: job_ids=[1 late job]+updated_after (2%)",
        Cands,
        Filter {
            job_ids: list([a.job_id(late_job_updated)]),
            updated_after: after_load,
            ..f()
        },
        Expect::Some,
    );
    c.add(
        "applications: job_ids=[1 late job]+outcomes=[\"PENDING\"]",
        Apps,
        Filter {
            job_ids: list([a.job_id(late_job)]),
            outcomes: list(["PENDING"]),
            ..f()
        },
        about(per_job * 0.7),
    );
    c.add(
        "applications: outcomes=[\"PENDING\"]+remote_created_after (20%)",
        Apps,
        Filter {
            outcomes: list(["PENDING"]),
            remote_created_after: Some(apps_20pct),
            ..f()
        },
        about(people * 0.7 * 0.2),
    );
    c.add(
        "applications: outcomes=[\"HIRED\"]+updated_after (3%)",
        Apps,
        Filter {
            outcomes: list(["HIRED"]),
            updated_after: after_load,
            ..f()
        },
        about(people * 0.0025),
    );
    c.add(
        "applications: job_ids+job_remote_ids+current_stage_ids+outcomes",
        Apps,
        Filter {
            job_ids: list([a.job_id(late_job)]),
            job_remote_ids: list([Tenant::job_remote(late_job)]),
            current_stage_ids: list((0..4).map(|n| a.stage_id(late_job, n))),
            outcomes: list(["PENDING", "DECLINED"]),
            ..f()
        },
        about(per_job * 0.9 * 0.95),
    );

    // Isolation: B shares remote ids, names and job codes with A; neither its records nor
    // their number may show in A's pages.
    let b_people = b.shape.people as f64;
    c.add("B: applications: no filter", Apps, f(), about(b_people))
        .integration = B;
    c.add(
        "B: applications: outcomes=[\"PENDING\"]",
        Apps,
        Filter {
            outcomes: list(["PENDING"]),
            ..f()
        },
        about(b_people * 0.7),
    )
    .integration = B;
    c.add(
        format!("B: candidates: first_name={RARE_FIRST}"),
        Cands,
        Filter {
            first_name: Some(RARE_FIRST.to_owned()),
            ..f()
        },
        Expect::Some,
    )
    .integration = B;
    c.add(
        "candidates: email=[one of B's] (none in A)",
        Cands,
        Filter {
            email: Some(b.email(first_from(7, b.shape.people, |k| !deleted(Cands, k)))),
            ..f()
        },
        Expect::None,
    );
    c.add(
        "candidates: job_ids=[B's job] (none in A)",
        Cands,
        Filter {
            job_ids: list([b.job_id(0)]),
            ..f()
        },
        Expect::None,
    );
    c.add(
        "applications: job_ids=[B's job] (none in A)",
        Apps,
        Filter {
            job_ids: list([b.job_id(0)]),
            ..f()
        },
        Expect::None,
    );
    Ok(c.0)
}

// ---------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------

async fn run(store: &Store, c: &Case) -> BenchResult<(Duration, usize, bool)> {
    let started = Instant::now();
    // First pages as the API asks for them (`list_after`: a range filter on updated_at or
    // remote_created_at orders by that column); a case that starts after a seq pages in seq
    // order, which is what `list` serves.
    let (rows, more) = match c.after {
        None => {
            store
                .list_after(c.integration, c.model, &c.filter, None, PAGE)
                .await?
        }
        Some(_) => {
            store
                .list(c.integration, c.model, &c.filter, c.after, PAGE)
                .await?
        }
    };
    Ok((started.elapsed(), rows.len(), more))
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[derive(Debug)]
struct Measured {
    case: Case,
    median: Duration,
    rows: usize,
    more: bool,
    plan: Plan,
}

// ---------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Plan {
    sql: String,
    /// `yes`, `yes+sort`, `NO (scan)`…
    index: String,
    /// The plan in one line.
    summary: String,
    /// The generic plan (PostgreSQL), when it differs.
    generic: Option<String>,
    full: Vec<String>,
    generic_full: Vec<String>,
}

/// The page `run` asks for, as the explaining methods take it: a first page the way
/// `list_after` orders it, a page after a seq the way `list` does.
fn page_of(c: &Case) -> (PageOrder, Option<Position>) {
    match c.after {
        None => (PageOrder::Filter, None),
        Some(seq) => (PageOrder::Seq, Some(Position { seq, key: None })),
    }
}

fn sqlite_summary(lines: &[String]) -> (String, String) {
    // `explain_page` indents a step under the one it belongs to.
    let lines: Vec<&str> = lines.iter().map(|l| l.trim_start()).collect();
    let uses_index = lines.iter().any(|l| {
        l.contains("USING INDEX") || l.contains("USING COVERING INDEX") || l.contains("PRIMARY KEY")
    });
    let scans = lines
        .iter()
        .any(|l| l.starts_with("SCAN ") && !l.contains("USING"));
    let sorts = lines.iter().any(|l| l.contains("TEMP B-TREE"));
    let index = match (uses_index, scans, sorts) {
        (_, true, _) => "NO (scan)",
        (true, false, false) => "yes",
        (true, false, true) => "yes+sort",
        (false, false, _) => "NO",
    };
    let summary = lines
        .iter()
        .map(|l| {
            l.replace("SEARCH records USING INDEX ", "")
                .replace("SEARCH records USING COVERING INDEX ", "covering ")
                .replace("USE TEMP B-TREE FOR ORDER BY", "SORT")
                .replace("integration_id=? AND ", "")
        })
        .collect::<Vec<_>>()
        .join(" | ");
    (index.to_owned(), summary)
}

fn pg_summary(lines: &[String]) -> (String, String) {
    let nodes: Vec<String> = lines
        .iter()
        .filter(|l| l.contains("(cost="))
        .map(|l| {
            let node = l.trim().trim_start_matches("->").trim();
            let node = node.split("  (cost=").next().unwrap_or(node);
            node.replace(" on records", "")
                .replace("Index Scan using ", "IndexScan ")
                .replace("Index Only Scan using ", "IndexOnlyScan ")
                .replace("Bitmap Index Scan", "BitmapIndexScan")
                .replace("Bitmap Heap Scan", "BitmapHeap")
                .replace("Seq Scan", "SEQ SCAN")
        })
        .filter(|n| n != "Limit")
        .collect();
    let uses_index = lines.iter().any(|l| l.contains("Index"));
    let scans = lines.iter().any(|l| l.contains("Seq Scan"));
    let sorts = lines
        .iter()
        .any(|l| l.trim().trim_start_matches("->").trim().starts_with("Sort"));
    let index = match (uses_index, scans, sorts) {
        (_, true, _) => "NO (scan)",
        (true, false, false) => "yes",
        (true, false, true) => "yes+sort",
        (false, false, _) => "NO",
    };
    (index.to_owned(), nodes.join(" > "))
}

async fn plan(store: &Store, c: &Case) -> BenchResult<Plan> {
    let (order, after) = page_of(c);
    let explained = store
        .explain_page(c.integration, c.model, &c.filter, order, after, PAGE)
        .await?;
    let mut plan = Plan {
        sql: explained.sql,
        ..Plan::default()
    };
    match store.backend() {
        Backend::Sqlite => {
            (plan.index, plan.summary) = sqlite_summary(&explained.plan);
        }
        Backend::Postgres => {
            (plan.index, plan.summary) = pg_summary(&explained.plan);
            let generic = explained.generic_plan.unwrap_or_default();
            let (generic_index, generic_summary) = pg_summary(&generic);
            if generic_summary != plan.summary {
                plan.generic = Some(format!("{generic_index}: {generic_summary}"));
            }
            plan.generic_full = generic;
        }
    }
    plan.full = explained.plan;
    Ok(plan)
}

// ---------------------------------------------------------------------------------------------
// One backend
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct Settings {
    records: u64,
    reps: usize,
    /// Timings only count under `cargo bench`; as a test, only wrong results fail.
    judge_time: bool,
    keep: bool,
    skip_analyze_sqlite: bool,
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Loads, measures and reports one backend. Returns whether every case passed.
async fn bench(store: &Store, label: &str, settings: Settings) -> BenchResult<bool> {
    let a = Tenant {
        id: A,
        domain: "a-mail.test",
        shape: Shape::for_records(settings.records),
    };
    let b = Tenant {
        id: B,
        domain: "b-mail.test",
        shape: Shape::for_records(settings.records / 50),
    };
    println!(
        "\n=== {label}: loading A ({} jobs, {} stages, {} candidates, {} applications) and B ({} records)",
        thousands(a.shape.jobs),
        thousands(a.shape.jobs * 4),
        thousands(a.shape.people),
        thousands(a.shape.people),
        thousands(b.shape.records()),
    );
    for line in load(store, &a, &b, settings.skip_analyze_sqlite).await? {
        println!("  {line}");
    }
    let counts = store.counts(A).await?;
    println!("  live records of A: {counts:?}");

    let cases = cases(store, &a, &b).await?;
    let baseline_case = cases[0].clone();
    // Warm the cache and the prepared statements, then sample the baseline.
    let mut baseline = Vec::new();
    for i in 0..settings.reps + 3 {
        let (d, _, _) = run(store, &baseline_case).await?;
        if i >= 3 {
            baseline.push(d);
        }
    }
    let mut measured = Vec::new();
    for c in &cases {
        let (warm, rows, more) = run(store, c).await?;
        // A case that takes seconds is slow whatever the noise: fewer repetitions.
        let reps = if warm > Duration::from_secs(1) {
            settings.reps.min(3)
        } else {
            settings.reps
        };
        let mut samples = Vec::with_capacity(reps);
        for _ in 0..reps {
            samples.push(run(store, c).await?.0);
        }
        baseline.push(run(store, &baseline_case).await?.0);
        measured.push(Measured {
            case: c.clone(),
            median: median(&mut samples),
            rows,
            more,
            plan: Plan::default(),
        });
    }
    for m in &mut measured {
        m.plan = plan(store, &m.case).await?;
    }
    let base = median(&mut baseline);
    let limit = (base * LIMIT_FACTOR).max(LIMIT_FLOOR);

    println!(
        "\n--- {label}: baseline (first page of {PAGE} applications, no filter) median {} over {} samples; limit = max({LIMIT_FACTOR} x baseline, {}) = {}",
        ms(base),
        baseline.len(),
        ms(LIMIT_FLOOR),
        ms(limit)
    );
    let width = measured
        .iter()
        .map(|m| m.case.name.len())
        .max()
        .unwrap_or(10);
    println!(
        "{:<width$}  {:>5}  {:>10}  {:>9}  {:<6}  {:<10}  plan",
        "case", "rows", "median", "limit", "result", "index"
    );
    let mut ok = true;
    let mut failures = Vec::new();
    for m in &measured {
        let correct = m.case.expect.holds(m.rows, m.more);
        let slow = m.median > limit;
        let result = match (correct, slow) {
            (false, _) => "WRONG",
            (true, true) if settings.judge_time => "SLOW",
            (true, true) => "slow?",
            (true, false) => "OK",
        };
        if !correct || (slow && settings.judge_time) {
            ok = false;
            failures.push(m);
        }
        println!(
            "{:<width$}  {:>5}  {:>10}  {:>9}  {:<6}  {:<10}  {}",
            m.case.name,
            format!("{}{}", m.rows, if m.more { "+" } else { "" }),
            ms(m.median),
            ms(limit),
            result,
            m.plan.index,
            m.plan.summary
        );
        if let Some(generic) = &m.plan.generic {
            println!(
                "{:<width$}  {:>5}  {:>10}  {:>9}  {:<6}  {:<10}  generic plan: {generic}",
                "", "", "", "", "", ""
            );
        }
    }
    println!(
        "--- {label}: {} cases, {} over the limit, {} with a wrong result",
        measured.len(),
        measured
            .iter()
            .filter(|m| m.median > limit && m.case.expect.holds(m.rows, m.more))
            .count(),
        measured
            .iter()
            .filter(|m| !m.case.expect.holds(m.rows, m.more))
            .count()
    );
    for m in failures {
        println!(
            "\n--- {label}: {} ({}, expected {:?}, got {} rows{}): median {}, limit {}",
            m.case.name,
            if m.case.expect.holds(m.rows, m.more) {
                "SLOW"
            } else {
                "WRONG"
            },
            m.case.expect,
            m.rows,
            if m.more { " and more" } else { "" },
            ms(m.median),
            ms(limit)
        );
        println!("SQL: {}", m.plan.sql);
        println!("plan:");
        for l in &m.plan.full {
            println!("  {l}");
        }
        if store.backend() == Backend::Postgres {
            println!("generic plan:");
            for l in &m.plan.generic_full {
                println!("  {l}");
            }
            println!("EXPLAIN (ANALYZE, BUFFERS) with the values bound:");
        } else {
            println!("run once, with SQLite's statement counters:");
        }
        let (order, after) = page_of(&m.case);
        let analyzed = store
            .explain_analyze_page(
                m.case.integration,
                m.case.model,
                &m.case.filter,
                order,
                after,
                PAGE,
            )
            .await?;
        for l in analyzed {
            println!("  {l}");
        }
    }
    Ok(ok)
}

/// A directory removed when dropped (unless kept for inspection).
#[derive(Debug)]
struct TempDir(PathBuf, bool);

impl TempDir {
    fn new(keep: bool) -> std::io::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("atsbridge-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir, keep))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn keys() -> KeyRing {
    KeyRing::new("bench", [7; 32])
}

async fn sqlite(settings: Settings) -> BenchResult<bool> {
    let dir = TempDir::new(settings.keep)?;
    let path = dir.0.join("store.db");
    let store = Store::open(&format!("sqlite://{}", path.display()), keys()).await?;
    let result = bench(&store, "SQLite", settings).await;
    store.close().await;
    let size: u64 = std::fs::read_dir(&dir.0)?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!("  SQLite files: {:.0} MB", size as f64 / 1e6);
    if settings.keep {
        println!("  kept: {}", path.display());
    }
    result
}

async fn postgres(server: &str, settings: Settings) -> BenchResult<bool> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let name = format!(
        "atsb_bench_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000
    );
    let url = atsbridge_store::create_postgres_database(server, &name).await?;
    let result = match Store::open(&url, keys()).await {
        Ok(store) => {
            let result = bench(&store, "PostgreSQL", settings).await;
            if let Ok(size) = store.database_bytes().await {
                println!("  PostgreSQL database: {:.0} MB", size as f64 / 1e6);
            }
            store.close().await;
            result
        }
        Err(e) => Err(e.into()),
    };
    if settings.keep {
        println!("  kept: {}", atsbridge_store::redact(&url));
    } else {
        atsbridge_store::drop_postgres_database(server, &name).await?;
    }
    result
}

fn env_number(name: &str, default: u64) -> BenchResult<u64> {
    match std::env::var(name) {
        Ok(v) => Ok(v
            .replace(['_', ','], "")
            .parse()
            .map_err(|_| format!("{name} must be a number, not `{v}`"))?),
        Err(_) => Ok(default),
    }
}

fn settings(benching: bool) -> BenchResult<Settings> {
    Ok(Settings {
        records: env_number(
            "ATSBRIDGE_BENCH_RECORDS",
            if benching { 1_000_000 } else { 20_000 },
        )?
        .max(20_000),
        reps: env_number("ATSBRIDGE_BENCH_REPS", if benching { 7 } else { 1 })?.max(1) as usize,
        judge_time: benching,
        keep: std::env::var("ATSBRIDGE_BENCH_KEEP").is_ok_and(|v| v == "1"),
        skip_analyze_sqlite: std::env::var("ATSBRIDGE_BENCH_SQLITE_NO_ANALYZE")
            .is_ok_and(|v| v == "1"),
    })
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let benching = std::env::args().any(|a| a == "--bench");
    let settings = match settings(benching) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let only = std::env::var("ATSBRIDGE_BENCH_ONLY").unwrap_or_default();
    let mut ok = true;
    if only.is_empty() || only == "sqlite" {
        match sqlite(settings).await {
            Ok(passed) => ok &= passed,
            Err(e) => {
                println!("SQLite: the bench failed: {e}");
                ok = false;
            }
        }
    }
    match std::env::var("ATSBRIDGE_BENCH_PG_URL") {
        _ if only == "sqlite" => {}
        Ok(url) => match postgres(&url, settings).await {
            Ok(passed) => ok &= passed,
            Err(e) => {
                println!("PostgreSQL: the bench failed: {e}");
                ok = false;
            }
        },
        Err(_) => println!(
            "\n(PostgreSQL skipped: set ATSBRIDGE_BENCH_PG_URL to a superuser URL to include it)"
        ),
    }
    if !ok {
        println!("\nFAILED: see the SLOW / WRONG cases above");
        std::process::exit(1);
    }
    println!("\nall cases within their limits");
}
