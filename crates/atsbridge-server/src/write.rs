//! The write actions: `POST /v1/ats/jobs/{job_id}/applications` (create application) and
//! `POST /v1/ats/candidates` (create candidate, the older form of the same thing).
//!
//! A request goes: API key and `X-Integration-Id` → a slot under the per-integration
//! concurrency cap → body parsed and validated (every violation named) → `Idempotency-Key`
//! claimed → job resolved (a stored job that is not OPEN is refused without calling the ATS)
//! → the applicant reduced to what the ATS stores, with a warning for everything else → one
//! file (inline `data`, or `data_url` downloaded behind the internal-address guard) → the
//! upstream create → read back, stored at once and marked as created through atsbridge →
//! Kombo's response shape.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atsbridge_model::connector::{ConnectorErrorKind, FileUpload, NewApplicant, Record};
use atsbridge_model::event::{ChangedModel, DataChanged, Event};
use atsbridge_model::integration::{Category, IntegrationStatus};
use atsbridge_model::write::{
    describe, is_content_type, AttachmentInput, CandidateInput, CreateApplicationRequest,
    CreateCandidateRequest, SourceInput, Violation, MAX_ATTACHMENTS_BYTES,
};
use atsbridge_model::{
    Candidate, CreatedApplication, ErrorCode, JobIdRef, ModelKind, Timestamp, Warning,
    WriteResponse,
};
use atsbridge_store::records::canonical;
use atsbridge_store::{
    Filter, IdempotencyClaim, IntegrationRow, NewEvent, RecordInput, StoredRecord,
};
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::Scoped;
use crate::body::parse_json;
use crate::error::{ApiError, ApiResult};
use crate::{nested, AppState, ServerConfig};

/// How long a completed `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// A claim whose request has not finished after this long is taken to be dead.
const IDEMPOTENCY_STALE: Duration = Duration::from_secs(10 * 60);
/// Redirects followed when downloading a `data_url` (each target is checked again).
const MAX_REDIRECTS: usize = 3;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ats/jobs/{job_id}/applications", post(create_application))
        .route("/ats/candidates", post(create_candidate))
}

// ---------------------------------------------------------------------------------------
// Concurrency cap
// ---------------------------------------------------------------------------------------

/// Write actions in flight per integration.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<Mutex<HashMap<String, usize>>>);

/// One slot under the cap; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit {
    map: Arc<Mutex<HashMap<String, usize>>>,
    key: String,
    /// Slots left for the integration after this one was taken.
    pub remaining: usize,
}

impl InFlight {
    /// A slot for `integration_id`, unless `cap` are taken already.
    pub fn acquire(&self, integration_id: &str, cap: usize) -> Option<Permit> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(integration_id.to_owned()).or_default();
        if *n >= cap {
            if *n == 0 {
                map.remove(integration_id);
            }
            return None;
        }
        *n += 1;
        let remaining = cap - *n;
        Some(Permit {
            map: self.0.clone(),
            key: integration_id.to_owned(),
            remaining,
        })
    }

    /// Write actions in flight for `integration_id` now.
    pub fn count(&self, integration_id: &str) -> usize {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(integration_id).copied().unwrap_or(0)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

const CONCURRENCY_REMAINING: &str = "concurrency-remaining";

// ---------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------

/// Which endpoint a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    CreateApplication,
    CreateCandidate,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::CreateApplication => "create_application",
            Action::CreateCandidate => "create_candidate",
        }
    }

    /// Where the request names its job: the path's `job_id` or the body's
    /// `application.job_id`.
    fn job_field(self) -> &'static str {
        match self {
            Action::CreateApplication => "job_id",
            Action::CreateCandidate => "application.job_id",
        }
    }
}

/// `POST /ats/jobs/{job_id}/applications`
async fn create_application(
    State(state): State<AppState>,
    scoped: Scoped,
    job_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let job_id = job_id.map(|Path(j)| j).ok();
    limited(
        &state,
        &scoped.integration,
        Action::CreateApplication,
        job_id,
        &headers,
        &body,
    )
    .await
}

/// `POST /ats/candidates`
async fn create_candidate(
    State(state): State<AppState>,
    scoped: Scoped,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    limited(
        &state,
        &scoped.integration,
        Action::CreateCandidate,
        None,
        &headers,
        &body,
    )
    .await
}

/// Runs the write in a slot under the integration's cap, or answers 429 at once. Either way
/// the answer says how many slots are left.
async fn limited(
    state: &AppState,
    integration: &IntegrationRow,
    action: Action,
    path_job: Option<String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let cap = state.config.write_concurrency_per_integration;
    let Some(permit) = state.writes.acquire(&integration.id, cap) else {
        tracing::info!(integration_id = %integration.id, cap, "write concurrency limit exceeded");
        let mut response = ApiError::new(
            ErrorCode::PlatformConcurrencyLimitExceeded,
            format!(
                "integration `{}` already has {cap} write actions in flight; retry when one has finished",
                integration.id
            ),
        )
        .into_response();
        response
            .headers_mut()
            .insert(CONCURRENCY_REMAINING, HeaderValue::from(0u64));
        return response;
    };
    let remaining = permit.remaining;
    let mut response = execute(state, integration, action, path_job, headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    drop(permit);
    response
        .headers_mut()
        .insert(CONCURRENCY_REMAINING, HeaderValue::from(remaining as u64));
    response
}

/// What both endpoints ask for, in one form.
#[derive(Debug)]
struct Plan {
    candidate: CandidateInput,
    attachments: Vec<AttachmentInput>,
    source: Option<SourceInput>,
    /// The endpoint: which field named the job (`Action::job_field`) and which object the
    /// answer is (the application, or the candidate with its applications).
    action: Action,
    job: JobIdRef,
    /// The ignored inputs that were given, each with its path and why Sage HR drops it.
    unsupported: Vec<(String, &'static str)>,
}

/// Parses and validates the body; every violation is named in one error.
fn plan(action: Action, path_job: Option<String>, body: &[u8]) -> ApiResult<Plan> {
    let invalid = |violations: Vec<Violation>| {
        ApiError::new(ErrorCode::PlatformInputInvalid, describe(&violations))
    };
    let mut unsupported: Vec<(String, &'static str)> = Vec::new();
    let (candidate, attachments, source, job) = match action {
        Action::CreateApplication => {
            let req: CreateApplicationRequest = parse_json(body, false)?;
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
            )
        }
        Action::CreateCandidate => {
            let req: CreateCandidateRequest = parse_json(body, false)?;
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
    Ok(Plan {
        candidate,
        attachments,
        source,
        action,
        job,
        unsupported: candidate_fields,
    })
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

/// Validates, checks the idempotency key, runs the create and keeps its answer for retries.
async fn execute(
    state: &AppState,
    integration: &IntegrationRow,
    action: Action,
    path_job: Option<String>,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<Response> {
    if integration.status == IntegrationStatus::Inactive {
        return Err(ApiError::new(
            ErrorCode::IntegrationInactive,
            format!(
                "the integration `{}` is disabled; enable it with PUT /v1/integrations/{}/enabled",
                integration.id, integration.id
            ),
        ));
    }
    let plan = plan(action, path_job.clone(), body)?;
    let key = idempotency_key(headers)?;
    let Some(key) = key else {
        let value = perform(state, integration, plan).await?;
        return Ok(json_response(StatusCode::OK, value.to_string(), false));
    };
    // The same key with another request is an error, so what the request asks is hashed:
    // the endpoint, the job in the path and the body (canonical, so key order and spacing
    // do not matter).
    let body_value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut hasher = Sha256::new();
    hasher.update(action.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(path_job.unwrap_or_default().as_bytes());
    hasher.update([0]);
    hasher.update(canonical(&body_value).as_bytes());
    let hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let claim = state
        .store
        .claim_idempotency_key(
            &integration.id,
            &key,
            &hash,
            Timestamp::now(),
            IDEMPOTENCY_TTL.as_millis() as i64,
            IDEMPOTENCY_STALE.as_millis() as i64,
        )
        .await?;
    let other_body = || {
        ApiError::invalid(
            "Idempotency-Key",
            format!("`{key}` was already used with a different request; use a new key for a new request"),
        )
    };
    match claim {
        IdempotencyClaim::Claimed => {}
        IdempotencyClaim::Completed {
            request_hash,
            status,
            response,
        } => {
            if request_hash != hash {
                return Err(other_body());
            }
            tracing::info!(idempotency_key = %key, "replaying a completed write");
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            return Ok(json_response(status, response, true));
        }
        IdempotencyClaim::InProgress { request_hash } => {
            if request_hash != hash {
                return Err(other_body());
            }
            return Err(ApiError::invalid(
                "Idempotency-Key",
                format!("a request with the key `{key}` is still in progress; retry once it has finished to get its result"),
            ));
        }
    }
    match perform(state, integration, plan).await {
        Ok(value) => {
            let text = value.to_string();
            state
                .store
                .complete_idempotency_key(&integration.id, &key, 200, &text)
                .await?;
            Ok(json_response(StatusCode::OK, text, false))
        }
        Err(e) => {
            if let Err(release) = state
                .store
                .release_idempotency_key(&integration.id, &key)
                .await
            {
                tracing::warn!(error = ?release, "releasing an idempotency key failed");
            }
            Err(e)
        }
    }
}

fn json_response(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let bad = || {
        ApiError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters (a UUID is a good choice)",
        )
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    if text.is_empty() || text.len() > 255 || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(Some(text.to_owned()))
}

/// The job to apply to: its remote id, after the checks the store allows.
async fn resolve_job(
    state: &AppState,
    integration: &IntegrationRow,
    job: &JobIdRef,
    field: &str,
) -> ApiResult<String> {
    let check_open = |record: &StoredRecord| -> ApiResult<()> {
        let status = record.payload.get("status").and_then(Value::as_str);
        if record.remote_deleted_at.is_some() {
            return Err(ApiError::new(
                ErrorCode::AtsJobClosed,
                format!("the job `{}` was deleted in Sage HR", record.id),
            ));
        }
        if status != Some("OPEN") {
            return Err(ApiError::new(
                ErrorCode::AtsJobClosed,
                format!(
                    "the job `{}` (Sage HR position {}) is {}, not OPEN, so it takes no applications",
                    record.id,
                    record.remote_id,
                    status.unwrap_or("without a status")
                ),
            ));
        }
        Ok(())
    };
    match job {
        JobIdRef::Id(id) => {
            let records = state
                .store
                .by_ids(&integration.id, ModelKind::Job, std::slice::from_ref(id))
                .await?;
            let Some(record) = records.first() else {
                return Err(ApiError::invalid(
                    field,
                    format!("no job `{id}` in this integration; use an id from GET /v1/ats/jobs, or `remote:<Sage HR position id>`"),
                ));
            };
            check_open(record)?;
            Ok(record.remote_id.clone())
        }
        JobIdRef::Remote(remote) => {
            let ok = remote.len() <= 64
                && remote
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                return Err(ApiError::invalid(
                    field,
                    format!("`remote:{remote}` is not a Sage HR position id"),
                ));
            }
            let filter = Filter {
                remote_ids: Some(vec![remote.clone()]),
                ..Filter::default()
            };
            let (records, _) = state
                .store
                .list(&integration.id, ModelKind::Job, &filter, None, 1)
                .await?;
            if let Some(record) = records.first() {
                check_open(record)?;
            }
            Ok(remote.clone())
        }
    }
}

fn non_blank(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `street, zip city, state, country`, leaving out what is missing.
fn address(c: &CandidateInput) -> Option<String> {
    let loc = c.location.as_ref()?;
    let town = [loc.zip_code.as_deref(), loc.city.as_deref()]
        .into_iter()
        .filter_map(non_blank_ref)
        .collect::<Vec<_>>()
        .join(" ");
    let parts: Vec<String> = [
        non_blank(loc.street_1.as_deref()),
        Some(town).filter(|t| !t.is_empty()),
        non_blank(loc.state.as_deref()),
        non_blank(loc.country.as_deref()),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn non_blank_ref(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// The one attachment Sage HR takes: the first CV, else the first attachment.
fn chosen_attachment(attachments: &[AttachmentInput]) -> Option<usize> {
    attachments
        .iter()
        .position(|a| a.kind.as_deref() == Some("CV"))
        .or(if attachments.is_empty() {
            None
        } else {
            Some(0)
        })
}

/// Everything after validation: the upstream create, the read-back, and the answer's JSON.
async fn perform(state: &AppState, integration: &IntegrationRow, plan: Plan) -> ApiResult<Value> {
    let job_remote_id = resolve_job(state, integration, &plan.job, plan.action.job_field()).await?;
    let mut warnings: Vec<Warning> = plan
        .unsupported
        .iter()
        .map(|(path, why)| Warning::new(format!("`{path}` was not stored: {why}.")))
        .collect();

    // One file.
    let chosen = chosen_attachment(&plan.attachments);
    for (i, a) in plan.attachments.iter().enumerate() {
        if Some(i) != chosen {
            warnings.push(Warning::new(format!(
                "`attachments[{i}]` ({}) was not uploaded: Sage HR takes one file per applicant, and the first CV (else the first attachment) was uploaded.",
                a.name.as_deref().unwrap_or_default()
            )));
        }
    }
    let attachment = match chosen {
        None => None,
        Some(i) => Some(file(&state.config, &plan.attachments, i).await?),
    };

    let c = &plan.candidate;
    let source = plan
        .source
        .as_ref()
        .and_then(|s| non_blank(s.name.as_deref()))
        .or_else(|| non_blank(integration.settings.source_name.as_deref()));
    let applicant = NewApplicant {
        job_remote_id: job_remote_id.clone(),
        first_name: c
            .first_name
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_owned(),
        last_name: non_blank(c.last_name.as_deref()),
        email: non_blank(c.email_address.as_deref()),
        phone_number: non_blank(c.phone_number.as_deref()),
        address: address(c),
        summary: non_blank(c.title.as_deref()),
        source,
        attachment,
    };

    let credentials = state.store.credentials(&integration.id).await?;
    let connector = (state.connectors)(integration, &credentials)
        .map_err(|e| ApiError::new(e.code(), e.message))?;
    let remote_id = match connector.create_applicant(&applicant).await {
        Ok(id) => id,
        Err(e) => {
            tracing::info!(integration_id = %integration.id, error = %e.message, "creating an applicant failed");
            return Err(match &e.kind {
                ConnectorErrorKind::NotFound => ApiError::invalid(
                    plan.action.job_field(),
                    format!("Sage HR has no position `{job_remote_id}`"),
                ),
                ConnectorErrorKind::InvalidInput(messages) if !messages.is_empty() => {
                    ApiError::new(
                        e.code(),
                        format!("Sage HR rejected the applicant: {}", messages.join("; ")),
                    )
                }
                _ => ApiError::new(e.code(), e.message.clone()),
            });
        }
    };
    tracing::info!(integration_id = %integration.id, remote_id = %remote_id, position = %job_remote_id, "applicant created");
    // From here on the applicant exists in Sage HR: the answer is a success whatever the
    // local store does (a client told otherwise would retry and create it twice). Storing
    // waits and retries; what still fails is logged and said in `warnings`.
    let now = Timestamp::now();
    // Remembered first, so that a sync in "only created applications" mode keeps it.
    if let Err(e) = retrying("remembering a created applicant", || {
        state.store.mark_created(&integration.id, &remote_id, now)
    })
    .await
    {
        tracing::error!(error = ?e, integration_id = %integration.id, %remote_id, "could not remember an applicant as created through atsbridge");
        warnings.push(Warning::new("The applicant was created in Sage HR, but atsbridge could not record that it was created through the API; with \"sync only created applications\" on, it does not appear until it is recorded."));
    }

    let mut read = None;
    for attempt in 1..=READ_BACK_ATTEMPTS {
        match connector.read_application(&remote_id).await {
            Ok(Some(r)) => {
                read = Some(r);
                break;
            }
            Ok(None) => {
                tracing::warn!(%remote_id, attempt, "Sage HR does not find the applicant it just created");
            }
            Err(e) => {
                tracing::warn!(%remote_id, attempt, error = %e.message, "reading a created applicant back failed");
            }
        }
        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
    }
    let Some(records) = read else {
        return Err(ApiError::new(
            ErrorCode::RemoteServiceUnavailable,
            format!("the applicant was created in Sage HR (id {remote_id}), but reading it back failed {READ_BACK_ATTEMPTS} times; it appears with the next sync. Do not retry the create: Sage HR would refuse it as a duplicate"),
        ));
    };
    let candidate_id = records.candidate.profile.id.clone();
    let application_id = records.application.core.id.clone();
    let mut inputs = vec![
        RecordInput::from_record(&Record::Candidate(records.candidate.clone()))?,
        RecordInput::from_record(&Record::Application(records.application.clone()))?
            .with_job_remote_id(Some(job_remote_id.clone())),
    ];
    if let Some(stage) = &records.stage {
        inputs.push(RecordInput::from_record(stage)?);
    }
    // The create is announced with the records, in one transaction, also when a sync
    // stored the same applicant first: every create has its `data-changed`.
    let event = NewEvent::new(
        Event::DataChanged(DataChanged {
            integration_id: integration.id.clone(),
            integration_tool: integration.tool.clone(),
            integration_category: Category::Ats,
            changed_models: [ModelKind::Application, ModelKind::Candidate]
                .map(|m| ChangedModel {
                    name: m.as_str().to_owned(),
                })
                .into(),
        }),
        now,
    );
    if let Err(e) = retrying("storing a created applicant", || {
        state
            .store
            .apply_batch_announced(&integration.id, &inputs, now, &event)
    })
    .await
    {
        tracing::error!(error = ?e, integration_id = %integration.id, %remote_id, "could not store a created applicant; it is stored by the next sync");
        warnings.push(Warning::new("The applicant was created in Sage HR, but atsbridge could not store it yet; it is readable after the next sync."));
        if let Err(e) = retrying("announcing a created applicant", || {
            state.store.enqueue_event(&event)
        })
        .await
        {
            tracing::error!(error = ?e, integration_id = %integration.id, %remote_id, "the data-changed event of a create could not be written");
        }
        return answer_from_read_back(&plan, records, warnings);
    }
    match answer_from_store(
        state,
        integration,
        &plan,
        &candidate_id,
        &application_id,
        &warnings,
    )
    .await
    {
        Ok(value) => Ok(value),
        Err(e) => {
            tracing::error!(error = ?e, integration_id = %integration.id, %remote_id, "reading a stored applicant back failed; answering with what Sage HR returned");
            answer_from_read_back(&plan, records, warnings)
        }
    }
}

/// How often a created applicant is read back from Sage HR before giving up.
const READ_BACK_ATTEMPTS: u32 = 3;

/// Runs a store operation until it succeeds, a few times with a growing pause: after an
/// upstream create, a busy or briefly unavailable database must not turn the answer into
/// a failure.
async fn retrying<T, F, Fut>(
    what: &'static str,
    mut operation: F,
) -> Result<T, atsbridge_store::StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, atsbridge_store::StoreError>>,
{
    let mut pause = Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match operation().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < 6 => {
                tracing::warn!(error = ?e, attempt, "{what} failed; trying again");
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The answer as the read API would serve it: from the store, with the nested objects.
async fn answer_from_store(
    state: &AppState,
    integration: &IntegrationRow,
    plan: &Plan,
    candidate_id: &str,
    application_id: &str,
    warnings: &[Warning],
) -> ApiResult<Value> {
    let candidate_records = state
        .store
        .by_ids(
            &integration.id,
            ModelKind::Candidate,
            &[candidate_id.to_owned()],
        )
        .await?;
    let candidate: Candidate =
        nested::candidates(&state.store, &integration.id, &candidate_records, false)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                atsbridge_store::StoreError::Corrupt(format!(
                    "candidate {candidate_id} vanished after it was stored"
                ))
            })?;
    let value = if plan.action == Action::CreateApplication {
        let application_records = state
            .store
            .by_ids(
                &integration.id,
                ModelKind::Application,
                &[application_id.to_owned()],
            )
            .await?;
        let application = nested::applications(&state.store, &integration.id, &application_records)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                atsbridge_store::StoreError::Corrupt(format!(
                    "application {application_id} vanished after it was stored"
                ))
            })?;
        let created = CreatedApplication {
            current_stage: application.current_stage.as_ref().map(Into::into),
            job: application.job,
            candidate: Some(candidate.profile),
            core: application.core,
        };
        serde_json::to_value(WriteResponse::new(created, warnings.to_vec()))
    } else {
        serde_json::to_value(WriteResponse::new(candidate, warnings.to_vec()))
    };
    value.map_err(|e| {
        atsbridge_store::StoreError::Corrupt(format!("serializing a write answer: {e}")).into()
    })
}

/// The answer from the records Sage HR returned, when the store cannot give it: the same
/// fields, without the nested job (which only the store knows).
fn answer_from_read_back(
    plan: &Plan,
    records: atsbridge_model::connector::ApplicationRecords,
    warnings: Vec<Warning>,
) -> ApiResult<Value> {
    let value = if plan.action == Action::CreateApplication {
        let current_stage = match &records.stage {
            // Its place in the job's pipeline is only known to the store.
            Some(Record::ApplicationStage { stage, .. }) => {
                Some(atsbridge_model::common::StageRef {
                    id: stage.id.clone(),
                    name: stage.name.clone(),
                    remote_id: stage.remote_id.clone(),
                    index: None,
                })
            }
            _ => None,
        };
        let created = CreatedApplication {
            current_stage,
            job: None,
            candidate: Some(records.candidate.profile),
            core: records.application.core,
        };
        serde_json::to_value(WriteResponse::new(created, warnings))
    } else {
        serde_json::to_value(WriteResponse::new(records.candidate, warnings))
    };
    value.map_err(|e| {
        atsbridge_store::StoreError::Corrupt(format!("serializing a write answer: {e}")).into()
    })
}

/// The bytes of attachment `i`: decoded `data`, or `data_url` downloaded.
async fn file(
    config: &ServerConfig,
    attachments: &[AttachmentInput],
    i: usize,
) -> ApiResult<FileUpload> {
    let a = &attachments[i];
    let name = a.name.as_deref().unwrap_or_default().trim().to_owned();
    if let Some(Ok(data)) = a.decode_data() {
        return Ok(FileUpload {
            name,
            content_type: a
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into()),
            data,
        });
    }
    let url = a.data_url.as_deref().unwrap_or_default();
    // Inline data of the other attachments counts against the same 10 MiB.
    let inline: usize = attachments
        .iter()
        .filter_map(|a| a.decode_data().and_then(Result::ok).map(|d| d.len()))
        .sum();
    let cap = MAX_ATTACHMENTS_BYTES.saturating_sub(inline);
    let (data, downloaded_type) = download(config, url, cap)
        .await
        .map_err(|problem| ApiError::invalid(&format!("attachments[{i}].data_url"), problem))?;
    Ok(FileUpload {
        name,
        content_type: a
            .content_type
            .clone()
            .or(downloaded_type)
            .unwrap_or_else(|| "application/octet-stream".into()),
        data,
    })
}

// ---------------------------------------------------------------------------------------
// Downloads
// ---------------------------------------------------------------------------------------

pub use atsbridge_sync::webhooks::is_internal;

/// Downloads `raw` (http or https only) into memory, at most `cap` bytes, within the
/// configured timeout. Unless `allow_private_attachment_urls`, the host is resolved first and
/// every address it resolves to must be public; the connection then goes to exactly those
/// addresses (no second lookup that could answer differently), without any proxy, and each
/// redirect target is checked the same way.
async fn download(
    config: &ServerConfig,
    raw: &str,
    cap: usize,
) -> Result<(Vec<u8>, Option<String>), String> {
    let started = Instant::now();
    let limit = config.attachment_download_timeout;
    let left = || limit.saturating_sub(started.elapsed());
    let mut url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL: {e}"))?;
    for _ in 0..=MAX_REDIRECTS {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "`{url}` is not an http(s) URL; only http and https are downloaded"
            ));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| format!("`{url}` has no port"))?;
        let (domain, addrs): (Option<String>, Vec<SocketAddr>) = match url.host() {
            Some(url::Host::Ipv4(ip)) => (None, vec![SocketAddr::new(ip.into(), port)]),
            Some(url::Host::Ipv6(ip)) => (None, vec![SocketAddr::new(ip.into(), port)]),
            Some(url::Host::Domain(d)) => {
                let lookup = tokio::time::timeout(left(), tokio::net::lookup_host((d, port)))
                    .await
                    .map_err(|_| format!("resolving `{d}` timed out"))?
                    .map_err(|e| format!("`{d}` could not be resolved: {e}"))?;
                (Some(d.to_owned()), lookup.collect())
            }
            None => return Err(format!("`{url}` has no host")),
        };
        if addrs.is_empty() {
            return Err(format!("`{url}` resolves to no address"));
        }
        if !config.allow_private_attachment_urls {
            // The message never names the address: a client must not learn what an
            // internal name resolves to.
            if addrs.iter().any(|a| is_internal(a.ip())) {
                return Err(format!(
                    "`{url}` is {}; atsbridge downloads attachments only from public addresses, never from internal addresses",
                    atsbridge_sync::webhooks::NOT_PUBLIC
                ));
            }
        }
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(left())
            .connect_timeout(left().min(Duration::from_secs(10)));
        if let Some(d) = &domain {
            builder = builder.resolve_to_addrs(d, &addrs);
        }
        let client = builder
            .build()
            .map_err(|e| format!("the download could not start: {e}"))?;
        let mut response = client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| format!("`{url}` could not be downloaded: {}", describe_error(&e)))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| format!("`{url}` redirected without a Location"))?;
            url = url
                .join(location)
                .map_err(|e| format!("`{url}` redirected to a bad URL: {e}"))?;
            continue;
        }
        if !status.is_success() {
            return Err(format!("`{url}` answered HTTP {}", status.as_u16()));
        }
        let too_big = || {
            format!("`{url}` is larger than the {cap} bytes left of the 10 MiB attachments limit")
        };
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_big());
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| is_content_type(v));
        let mut data = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if data.len() + chunk.len() > cap {
                        return Err(too_big());
                    }
                    data.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(format!(
                        "`{url}` could not be downloaded: {}",
                        describe_error(&e)
                    ))
                }
            }
        }
        return Ok((data, content_type));
    }
    Err(format!(
        "`{raw}` redirected more than {MAX_REDIRECTS} times"
    ))
}

fn describe_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the download timed out".into()
    } else if e.is_connect() {
        "the connection failed".into()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "255.255.255.255",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "93.184.216.34",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn the_cap_counts_and_frees_slots() {
        let f = InFlight::default();
        let a = f.acquire("i", 2).unwrap();
        assert_eq!(a.remaining, 1);
        let b = f.acquire("i", 2).unwrap();
        assert_eq!(b.remaining, 0);
        assert!(f.acquire("i", 2).is_none());
        assert!(f.acquire("other", 2).is_some());
        drop(a);
        assert_eq!(f.count("i"), 1);
        drop(b);
        assert_eq!(f.count("i"), 0);
    }

    #[test]
    fn the_first_cv_wins() {
        let a = |kind: &str| AttachmentInput {
            kind: Some(kind.into()),
            ..Default::default()
        };
        assert_eq!(chosen_attachment(&[]), None);
        assert_eq!(chosen_attachment(&[a("OTHER"), a("CV"), a("CV")]), Some(1));
        assert_eq!(chosen_attachment(&[a("OTHER"), a("COVER_LETTER")]), Some(0));
    }

    #[test]
    fn addresses_join_location_parts() {
        let c: CandidateInput = serde_json::from_value(serde_json::json!({"location": {
            "country": "DE", "city": "Berlin", "zip_code": "10115", "street_1": "Invalidenstr. 1"}}))
        .unwrap();
        assert_eq!(
            address(&c).as_deref(),
            Some("Invalidenstr. 1, 10115 Berlin, DE")
        );
    }
}
