//! A write's body parsed and validated into a `Plan`: every violation named in one
//! `PLATFORM.INPUT_INVALID`, and the inputs Sage HR cannot store listed for warnings.

use atsbridge_model::write::{
    describe, AttachmentInput, CandidateInput, CreateApplicationRequest, CreateCandidateRequest,
    SourceInput, Violation,
};
use atsbridge_model::{ErrorCode, JobIdRef};
use serde_json::Value;

use super::Action;
use crate::body::{KomboBody, LaterJson};
use crate::error::{ApiError, ApiResult};

impl KomboBody for CreateApplicationRequest {}
impl KomboBody for CreateCandidateRequest {}

/// The body of either endpoint, read but not yet checked (the cap and the integration's
/// status are checked first).
pub(super) enum WriteBody {
    Application {
        /// The path's `job_id`, when it is one.
        path_job: Option<String>,
        body: LaterJson<CreateApplicationRequest>,
    },
    Candidate(LaterJson<CreateCandidateRequest>),
}

impl WriteBody {
    pub(super) fn action(&self) -> Action {
        match self {
            WriteBody::Application { .. } => Action::CreateApplication,
            WriteBody::Candidate(_) => Action::CreateCandidate,
        }
    }

    /// The job named in the path (only creating an application has one).
    pub(super) fn path_job(&self) -> Option<&str> {
        match self {
            WriteBody::Application { path_job, .. } => path_job.as_deref(),
            WriteBody::Candidate(_) => None,
        }
    }
}

/// What both endpoints ask for, in one form.
#[derive(Debug)]
pub(super) struct Plan {
    pub(super) candidate: CandidateInput,
    pub(super) attachments: Vec<AttachmentInput>,
    pub(super) source: Option<SourceInput>,
    /// The endpoint: which field named the job (`Action::job_field`) and which object the
    /// answer is (the application, or the candidate with its applications).
    pub(super) action: Action,
    pub(super) job: JobIdRef,
    /// The ignored inputs that were given, each with its path and why Sage HR drops it.
    pub(super) unsupported: Vec<(String, &'static str)>,
}

/// Parses and validates the body; every violation is named in one error. Also answers the
/// body's JSON, which the idempotency check hashes.
pub(super) fn plan(body: WriteBody) -> ApiResult<(Plan, Value)> {
    let action = body.action();
    let invalid = |violations: Vec<Violation>| {
        ApiError::new(ErrorCode::PlatformInputInvalid, describe(&violations))
    };
    let mut unsupported: Vec<(String, &'static str)> = Vec::new();
    let (candidate, attachments, source, job, json) = match body {
        WriteBody::Application { path_job, body } => {
            let (req, json): (CreateApplicationRequest, _) = body.take_with_json()?;
            let mut violations = Vec::new();
            let job = match path_job.as_deref().and_then(JobIdRef::parse) {
                Some(j) => Some(j),
                None => {
                    violations.push(Violation {
                        path: action.job_field().into(),
                        message: "must be a job id or `remote:<id>` with a non-empty id".into(),
                    });
                    None
                }
            };
            violations.extend(req.validate());
            if !violations.is_empty() {
                return Err(invalid(violations));
            }
            if req.stage_id.is_some() {
                unsupported.push(("stage_id".into(), STAGE));
            }
            shared_unsupported(
                &mut unsupported,
                req.sourced_by.is_some(),
                req.gdpr_consent.is_some(),
                req.remote_fields.as_ref(),
                req.screening_question_answers
                    .as_deref()
                    .unwrap_or_default(),
            );
            (
                req.candidate.unwrap_or_default(),
                req.attachments.unwrap_or_default(),
                req.source,
                job,
                json,
            )
        }
        WriteBody::Candidate(body) => {
            let (req, json): (CreateCandidateRequest, _) = body.take_with_json()?;
            let violations = req.validate();
            if !violations.is_empty() {
                return Err(invalid(violations));
            }
            let application = req.application.unwrap_or_default();
            if application.stage_id.is_some() {
                unsupported.push(("application.stage_id".into(), STAGE));
            }
            shared_unsupported(
                &mut unsupported,
                req.sourced_by.is_some(),
                req.gdpr_consent.is_some(),
                req.remote_fields.as_ref(),
                req.screening_question_answers
                    .as_deref()
                    .unwrap_or_default(),
            );
            (
                req.candidate.unwrap_or_default(),
                req.attachments.unwrap_or_default(),
                req.source,
                application.job_id.as_deref().and_then(JobIdRef::parse),
                json,
            )
        }
    };
    let job = job.ok_or_else(|| ApiError::invalid(action.job_field(), "is required"))?;
    let c = &candidate;
    let given = [
        ("candidate.company", c.company.is_some(), COMPANY),
        (
            "candidate.additional_email_addresses",
            c.additional_email_addresses
                .as_ref()
                .is_some_and(|v| !v.is_empty()),
            ONE_EMAIL,
        ),
        (
            "candidate.additional_phone_numbers",
            c.additional_phone_numbers
                .as_ref()
                .is_some_and(|v| !v.is_empty()),
            ONE_PHONE,
        ),
        ("candidate.gender", c.gender.is_some(), NO_FIELD),
        (
            "candidate.availability_date",
            c.availability_date.is_some(),
            NO_FIELD,
        ),
        (
            "candidate.salary_expectations",
            c.salary_expectations.is_some(),
            NO_FIELD,
        ),
        (
            "candidate.social_links",
            c.social_links.as_ref().is_some_and(|v| !v.is_empty()),
            NO_FIELD,
        ),
    ];
    let mut candidate_fields: Vec<(String, &'static str)> = given
        .into_iter()
        .filter(|(_, present, _)| *present)
        .map(|(path, _, why)| (path.to_owned(), why))
        .collect();
    candidate_fields.append(&mut unsupported);
    if let Some(s) = &source {
        if s.unified_key.is_some() {
            candidate_fields.push(("source.unified_key".into(), SOURCE_BY_NAME));
        }
        if s.id.is_some() {
            candidate_fields.push(("source.id".into(), SOURCE_BY_NAME));
        }
    }
    let plan = Plan {
        candidate,
        attachments,
        source,
        action,
        job,
        unsupported: candidate_fields,
    };
    Ok((plan, json))
}

const STAGE: &str = "Sage HR always places a new applicant in the position's first stage";
const COMPANY: &str = "Sage HR applicants have no company field";
const ONE_EMAIL: &str = "Sage HR keeps one email address per applicant";
const ONE_PHONE: &str = "Sage HR keeps one phone number per applicant";
const NO_FIELD: &str = "Sage HR applicants have no such field";
const SOURCE_BY_NAME: &str = "Sage HR takes a source by name only";

fn shared_unsupported(
    out: &mut Vec<(String, &'static str)>,
    sourced_by: bool,
    gdpr_consent: bool,
    remote_fields: Option<&Value>,
    answers: &[atsbridge_model::write::ScreeningAnswerInput],
) {
    if sourced_by {
        out.push((
            "sourced_by".into(),
            "Sage HR records the API key's owner as the one who added the applicant",
        ));
    }
    if gdpr_consent {
        out.push(("gdpr_consent".into(), "Sage HR's API has no consent field"));
    }
    if remote_fields.is_some_and(|r| r.as_object().is_some_and(|o| !o.is_empty())) {
        out.push((
            "remote_fields".into(),
            "there are no remote fields for Sage HR",
        ));
    }
    if !answers.is_empty() {
        out.push((
            "screening_question_answers".into(),
            "Sage HR's API has no screening questions",
        ));
    }
}
