//! Sage HR → unified model, exactly as DESIGN.md's mapping table says. Pure functions: JSON in,
//! records out; no I/O.

use std::collections::BTreeMap;

use atsbridge_model::application::{Application, ApplicationCore};
use atsbridge_model::candidate::{Candidate, CandidateProfile, EmailAddress, PhoneNumber};
use atsbridge_model::common::{CustomFields, Location};
use atsbridge_model::enums::{
    EmploymentType, HiringTeamRole, JobRoleScope, JobRoleType, JobStatus, Outcome, Visibility,
};
use atsbridge_model::job::{HiringTeamMember, JobRole};
use atsbridge_model::{record_id, user_id, ApplicationStage, Job, ModelKind, Stage, Timestamp};
use serde_json::{json, Value};

use crate::wire;

mod location;

/// `remote_data` keys: the endpoint each record was read from.
pub const POSITIONS_PATH: &str = "/recruitment/positions";
pub const POSITION_PATH: &str = "/recruitment/positions/{id}";
pub const APPLICANTS_PATH: &str = "/recruitment/positions/{id}/applicants";
pub const APPLICANT_PATH: &str = "/recruitment/applicants/{id}";

/// Applicant keys that describe the application rather than the person.
pub const APPLICATION_KEYS: [&str; 4] = ["stage", "hired_date", "disqualified_date", "position_id"];

/// What every mapped record shares: the integration its ids derive from, and when it was
/// read (`changed_at` until the store decides whether anything changed).
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub integration_id: &'a str,
    pub read_at: Timestamp,
}

impl Scope<'_> {
    fn id(&self, model: ModelKind, remote_id: &str) -> String {
        record_id(self.integration_id, model, remote_id)
    }
}

/// A stage as seen on an applicant.
#[derive(Debug, Clone, PartialEq)]
pub struct SeenStage {
    pub remote_id: String,
    pub title: Option<String>,
    pub raw: Value,
}

/// The records of one applicant: Sage HR has no candidate entity, so each applicant is one
/// candidate with one application.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedApplicant {
    pub candidate: Candidate,
    pub application: Application,
    pub stage: Option<SeenStage>,
}

/// Dates (`2019-09-01`) and date-times in the forms Sage HR is seen to use (`…T…Z`,
/// `… …+00:00`). Anything else is treated as absent rather than failing the record.
pub fn parse_when(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(t) = Timestamp::parse_date_or_datetime(s) {
        return Some(t);
    }
    if s.len() > 10 && s.as_bytes()[10] == b' ' {
        let iso = format!("{}T{}", &s[..10], &s[11..]);
        return Timestamp::parse(&iso).ok();
    }
    None
}

fn when(s: &Option<String>) -> Option<Timestamp> {
    s.as_deref().and_then(parse_when)
}

/// `draft`→DRAFT, `published`/`internal`→OPEN, `completed`/`cancelled`→CLOSED; other text
/// passes through.
pub fn job_status(status: &str) -> JobStatus {
    match status.trim().to_ascii_lowercase().as_str() {
        "draft" => JobStatus::Draft,
        "published" | "internal" => JobStatus::Open,
        "completed" | "cancelled" | "canceled" => JobStatus::Closed,
        _ => JobStatus::Other(status.to_owned()),
    }
}

/// `published`→PUBLIC, `internal`→INTERNAL, otherwise none.
pub fn visibility(status: &str) -> Option<Visibility> {
    match status.trim().to_ascii_lowercase().as_str() {
        "published" => Some(Visibility::Public),
        "internal" => Some(Visibility::Internal),
        _ => None,
    }
}

/// Free-text employment types, compared without case, spaces, hyphens or underscores.
pub fn employment_type(raw: &str) -> EmploymentType {
    let key: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_'))
        .flat_map(char::to_lowercase)
        .collect();
    match key.as_str() {
        "fulltime" => EmploymentType::FullTime,
        "parttime" => EmploymentType::PartTime,
        "contract" | "contractor" | "fixedterm" => EmploymentType::Contract,
        "temporary" | "seasonal" => EmploymentType::Seasonal,
        "internship" | "intern" | "trainee" => EmploymentType::Internship,
        _ => EmploymentType::Other(raw.to_owned()),
    }
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The blocks as one HTML document: `<h3>title</h3>content` each. Titles are plain text and
/// get escaped; contents are already HTML and are kept as they are. `None` when there is
/// nothing.
pub fn description_html(blocks: &[wire::DescriptionBlock]) -> Option<String> {
    let html: String = blocks
        .iter()
        .map(|b| {
            let title = b
                .title
                .as_deref()
                .map(|t| format!("<h3>{}</h3>", escape_html(t)));
            format!(
                "{}{}",
                title.unwrap_or_default(),
                b.content.as_deref().unwrap_or_default()
            )
        })
        .collect();
    (!html.is_empty()).then_some(html)
}

/// Sage HR ids are integers; compare them as numbers so stage 10 follows stage 9.
fn id_order(id: &str) -> (u128, &str) {
    (id.parse().unwrap_or(u128::MAX), id)
}

/// A job's pipeline: the distinct stages seen on its applicants, ordered by stage id.
pub fn job_stages(scope: Scope<'_>, seen: &[SeenStage]) -> Vec<Stage> {
    let mut distinct: BTreeMap<(u128, &str), &SeenStage> = BTreeMap::new();
    for s in seen {
        distinct.entry(id_order(&s.remote_id)).or_insert(s);
    }
    distinct
        .values()
        .enumerate()
        .map(|(index, s)| Stage {
            id: scope.id(ModelKind::ApplicationStage, &s.remote_id),
            remote_id: Some(s.remote_id.clone()),
            name: s.title.clone(),
            status: None,
            custom_fields: Some(CustomFields::new()),
            index: Some(index as i64),
        })
        .collect()
}

/// A position as a job: `raw` is R1's list form, `hiring_team` R2's `hiring_team` (which only
/// R2 has; `Null` when it was not read). `None` for a record without an id.
pub fn job(scope: Scope<'_>, raw: &Value, stages: Vec<Stage>, hiring_team: &Value) -> Option<Job> {
    let p: wire::Position = wire::parse(raw)?;
    let remote_id = p.id.clone()?;
    let status = p.status.as_deref();
    let created = when(&p.created_at);
    Some(Job {
        id: scope.id(ModelKind::Job, &remote_id),
        remote_id,
        name: p.title.clone(),
        job_code: None,
        description: description_html(&p.description_blocks),
        confidential: None,
        weekly_hours: None,
        category: None,
        department: p.team.clone(),
        post_url: p.link.clone(),
        experience_level: None,
        salary_amount: None,
        salary_amount_from: None,
        salary_amount_to: None,
        salary_currency: None,
        custom_fields: Some(CustomFields::new()),
        remote_url: None,
        opened_at: created.filter(|_| status.is_none_or(|s| !s.eq_ignore_ascii_case("draft"))),
        closed_at: when(&p.completed_at),
        remote_created_at: created,
        remote_updated_at: None,
        contact_id: None,
        changed_at: scope.read_at,
        remote_deleted_at: None,
        stages,
        screening_questions: vec![],
        job_postings: vec![],
        hiring_team: hiring_team_members(scope, hiring_team),
        employment_type: p.employment_type.as_deref().map(employment_type),
        status: status.map(job_status),
        visibility: status.and_then(visibility),
        remote_work_status: None,
        salary_period: None,
        location: p.location.as_ref().map(|l| Location {
            city: Some(l.clone()),
            raw: Some(l.clone()),
            ..Location::default()
        }),
        remote_data: Some(if hiring_team.is_array() {
            json!({ POSITIONS_PATH: raw, POSITION_PATH: { "hiring_team": hiring_team } })
        } else {
            json!({ POSITIONS_PATH: raw })
        }),
    })
}

/// R2's hiring team. Sage HR gives one full name: its first word is read as the first name,
/// the rest as the last name. Members without an id are left out (they cannot get a stable
/// id); so are repeats of one employee, whose roles are merged.
fn hiring_team_members(scope: Scope<'_>, raw: &Value) -> Vec<HiringTeamMember> {
    let mut out: Vec<HiringTeamMember> = Vec::new();
    for m in raw.as_array().into_iter().flatten() {
        let Some(m) = wire::parse::<wire::HiringMember>(m) else {
            continue;
        };
        let Some(remote_id) = m.id else { continue };
        let unified = m.role.as_deref().and_then(hiring_role);
        let job_role = m.role.as_ref().map(|role| JobRole {
            remote_id: None,
            remote_label: Some(role.clone()),
            unified_type: unified.map(|(_, t)| t),
            scope: JobRoleScope::Job,
        });
        if let Some(known) = out
            .iter_mut()
            .find(|k| k.remote_id.as_deref() == Some(&remote_id))
        {
            known.hiring_team_roles.extend(unified.map(|(r, _)| r));
            known.job_roles.extend(job_role);
            continue;
        }
        let (first_name, last_name) = match m.full_name.as_deref().map(str::trim) {
            Some(full) => match full.split_once(char::is_whitespace) {
                Some((first, last)) => (Some(first.to_owned()), Some(last.trim().to_owned())),
                None => (Some(full.to_owned()), None),
            },
            None => (None, None),
        };
        out.push(HiringTeamMember {
            id: user_id(scope.integration_id, &remote_id),
            remote_id: Some(remote_id),
            first_name,
            last_name,
            hiring_team_roles: unified.map(|(r, _)| r).into_iter().collect(),
            job_roles: job_role.into_iter().collect(),
            email: None,
        });
    }
    out
}

/// Sage HR's role names (the reference has seen `hiring_manager` and `interviewer`).
fn hiring_role(role: &str) -> Option<(HiringTeamRole, JobRoleType)> {
    Some(match role.trim().to_ascii_lowercase().as_str() {
        "hiring_manager" => (HiringTeamRole::HiringManager, JobRoleType::HiringManager),
        "interviewer" => (HiringTeamRole::Interviewer, JobRoleType::Interviewer),
        "recruiter" => (HiringTeamRole::Recruiter, JobRoleType::Recruiter),
        "coordinator" => (HiringTeamRole::Coordinator, JobRoleType::Coordinator),
        "sourcer" => (HiringTeamRole::Sourcer, JobRoleType::Sourcer),
        _ => return None,
    })
}

/// A job title rather than a summary: one line of at most 100 characters that does not end
/// like a sentence.
fn looks_like_title(s: &str) -> bool {
    !s.is_empty()
        && s.chars().count() <= 100
        && !s.contains(['\n', '\r'])
        && !s.ends_with(['.', '!', '?'])
}

/// An applicant as a candidate and an application. `endpoint` is the `remote_data` key
/// (the list it came from, or R5). `None` for a record without an id.
pub fn applicant(
    scope: Scope<'_>,
    raw: &Value,
    job_remote_id: &str,
    endpoint: &str,
) -> Option<MappedApplicant> {
    let a: wire::Applicant = wire::parse(raw)?;
    let remote_id = a.id.clone()?;
    let remote_data = Some(json!({ endpoint: raw }));
    // The candidate keeps the applicant's person fields only: a move, hire or
    // disqualification changes the application, not the candidate (Kombo's `changed_at`).
    let mut person = raw.clone();
    if let Some(o) = person.as_object_mut() {
        for key in APPLICATION_KEYS {
            o.remove(key);
        }
    }
    let candidate_remote_data = Some(json!({ endpoint: person }));
    let created = when(&a.created_at);
    let hired = when(&a.hired_date);
    let disqualified = when(&a.disqualified_date);
    let stage = a.stage.as_ref().and_then(|s| {
        Some(SeenStage {
            remote_id: s.id.clone()?,
            title: s.title.clone(),
            raw: raw.get("stage").cloned().unwrap_or(Value::Null),
        })
    });
    let candidate_id = scope.id(ModelKind::Candidate, &remote_id);
    let candidate = Candidate {
        profile: CandidateProfile {
            id: candidate_id.clone(),
            remote_id: remote_id.clone(),
            first_name: a.first_name.clone(),
            last_name: a.last_name.clone(),
            company: None,
            // atsbridge writes `candidate.title` into the applicant's summary, so a summary that
            // reads like a title (one short line, not a sentence) is read back as the title;
            // anything longer, written in Sage HR, is a summary and stays in `remote_data`.
            title: a
                .summary
                .as_deref()
                .map(str::trim)
                .filter(|s| looks_like_title(s))
                .map(str::to_owned),
            confidential: None,
            source: a.source.clone(),
            custom_fields: Some(CustomFields::new()),
            remote_url: None,
            remote_created_at: created,
            remote_updated_at: None,
            changed_at: scope.read_at,
            remote_deleted_at: None,
            tags: vec![],
            phone_numbers: a
                .phone_number
                .iter()
                .map(|p| PhoneNumber {
                    phone_number: p.clone(),
                    kind: None,
                })
                .collect(),
            email_addresses: a
                .email
                .iter()
                .map(|e| EmailAddress {
                    email_address: Some(e.clone()),
                    kind: None,
                })
                .collect(),
            social_media: vec![],
            location: a.address.as_deref().map(location::read),
            remote_data: candidate_remote_data,
        },
        applications: vec![],
    };
    let outcome = if hired.is_some() {
        Outcome::Hired
    } else if disqualified.is_some() {
        Outcome::Declined
    } else {
        Outcome::Pending
    };
    let application = Application {
        core: ApplicationCore {
            id: scope.id(ModelKind::Application, &remote_id),
            remote_id: Some(remote_id),
            outcome: Some(outcome),
            rejection_reason_name: None,
            rejected_at: disqualified,
            current_stage_id: stage
                .as_ref()
                .map(|s| scope.id(ModelKind::ApplicationStage, &s.remote_id)),
            job_id: Some(scope.id(ModelKind::Job, job_remote_id)),
            candidate_id: Some(candidate_id),
            custom_fields: Some(CustomFields::new()),
            remote_url: None,
            changed_at: scope.read_at,
            remote_deleted_at: None,
            remote_created_at: created,
            remote_updated_at: None,
            screening_question_answers: vec![],
            remote_data,
        },
        candidate: None,
        current_stage: None,
        job: None,
        interviews: vec![],
        offers: vec![],
    };
    Some(MappedApplicant {
        candidate,
        application,
        stage,
    })
}

/// A stage seen on an applicant of a job, as the global application-stage record.
pub fn application_stage(scope: Scope<'_>, stage: &SeenStage) -> ApplicationStage {
    ApplicationStage {
        id: scope.id(ModelKind::ApplicationStage, &stage.remote_id),
        remote_id: Some(stage.remote_id.clone()),
        name: stage.title.clone(),
        status: None,
        custom_fields: Some(CustomFields::new()),
        changed_at: scope.read_at,
        remote_deleted_at: None,
        remote_data: Some(json!({ APPLICANTS_PATH: { "stage": stage.raw } })),
    }
}

#[cfg(test)]
mod tests;
