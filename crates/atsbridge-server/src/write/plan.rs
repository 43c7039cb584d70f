//! A write's body parsed and validated into a `Plan`: every violation named in one
//! `PLATFORM.INPUT_INVALID`, and the inputs outside the candidate listed as given, for the
//! connector to keep or warn about. Which inputs a tool stores is the connector's to say.

use atsbridge_model::connector::OtherInput;
use atsbridge_model::write::{
    describe, AttachmentInput, CandidateInput, CreateApplicationRequest, CreateCandidateRequest,
    GdprConsentInput, ScreeningAnswerInput, SourceInput, SourcedByInput, Violation,
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
    /// The inputs outside the candidate that were given, in `OtherInput`'s order.
    pub(super) others: Vec<OtherInput>,
}

/// Parses and validates the body; every violation is named in one error. Also answers the
/// body's JSON, which the idempotency check hashes.
pub(super) fn plan(body: WriteBody) -> ApiResult<(Plan, Value)> {
    let action = body.action();
    let invalid = |violations: Vec<Violation>| {
        ApiError::new(ErrorCode::PlatformInputInvalid, describe(&violations))
    };
    let mut others: Vec<OtherInput> = Vec::new();
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
            if let Some(stage_id) = req.stage_id {
                others.push(OtherInput::Stage {
                    path: "stage_id",
                    stage_id,
                });
            }
            shared_others(
                &mut others,
                req.sourced_by,
                req.gdpr_consent,
                req.remote_fields,
                req.screening_question_answers,
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
            if let Some(stage_id) = application.stage_id {
                others.push(OtherInput::Stage {
                    path: "application.stage_id",
                    stage_id,
                });
            }
            shared_others(
                &mut others,
                req.sourced_by,
                req.gdpr_consent,
                req.remote_fields,
                req.screening_question_answers,
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
    let plan = Plan {
        candidate,
        attachments,
        source,
        action,
        job,
        others,
    };
    Ok((plan, json))
}

/// The inputs both endpoints share, when given: an empty `remote_fields` object or an empty
/// answer list gives nothing to store, so nothing to warn about.
fn shared_others(
    out: &mut Vec<OtherInput>,
    sourced_by: Option<SourcedByInput>,
    gdpr_consent: Option<GdprConsentInput>,
    remote_fields: Option<Value>,
    answers: Option<Vec<ScreeningAnswerInput>>,
) {
    out.extend(sourced_by.map(OtherInput::SourcedBy));
    out.extend(gdpr_consent.map(OtherInput::GdprConsent));
    if let Some(Value::Object(fields)) = remote_fields {
        if !fields.is_empty() {
            out.push(OtherInput::RemoteFields(fields));
        }
    }
    if let Some(answers) = answers.filter(|a| !a.is_empty()) {
        out.push(OtherInput::ScreeningAnswers(answers));
    }
}
