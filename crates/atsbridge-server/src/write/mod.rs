//! The write actions: `POST /v1/ats/jobs/{job_id}/applications` (create application) and
//! `POST /v1/ats/candidates` (create candidate, the older form of the same thing).
//!
//! A request goes: API key and `X-Integration-Id` → a slot under the per-integration
//! concurrency cap → body parsed and validated (every violation named) → `Idempotency-Key`
//! claimed → job resolved (a stored job that is not OPEN is refused without calling the ATS)
//! → the connector says what the tool keeps (`Connector::prepare`), with a warning for
//! everything else → only the files it takes (inline `data`, or `data_url` downloaded behind
//! the internal-address guard) → the upstream create → read back, stored at once and marked as created through atsbridge →
//! Kombo's response shape.
//!
//! One module per step: `cap` (the per-integration concurrency cap), `plan` (the body
//! parsed and validated), `idempotency` (`Idempotency-Key` claims and replays), `create`
//! (the upstream create, read-back and answer) and `download` (an attachment's `data_url`).

mod cap;
mod create;
mod download;
pub(crate) mod idempotency;
mod plan;

use atsbridge_model::write::{CreateApplicationRequest, CreateCandidateRequest};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::Router;

pub use self::cap::{InFlight, Permit};
pub use self::idempotency::IDEMPOTENCY_TTL;
use self::plan::WriteBody;
use crate::auth::Scoped;
use crate::body::LaterJson;
use crate::metrics::tag_write;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ats/jobs/{job_id}/applications", post(create_application))
        .route("/ats/candidates", post(create_candidate))
}

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
    body: LaterJson<CreateApplicationRequest>,
) -> Response {
    let path_job = job_id.map(|Path(j)| j).ok();
    let body = WriteBody::Application { path_job, body };
    let answer = cap::limited(&state, &scoped.integration, body, &headers).await;
    tag_write(Action::CreateApplication.as_str(), answer)
}

/// `POST /ats/candidates`
async fn create_candidate(
    State(state): State<AppState>,
    scoped: Scoped,
    headers: HeaderMap,
    body: LaterJson<CreateCandidateRequest>,
) -> Response {
    let body = WriteBody::Candidate(body);
    let answer = cap::limited(&state, &scoped.integration, body, &headers).await;
    tag_write(Action::CreateCandidate.as_str(), answer)
}
