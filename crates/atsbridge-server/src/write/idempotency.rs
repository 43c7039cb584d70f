//! `Idempotency-Key`: a write with a key is claimed in the store under a hash of what it
//! asks, so a retry replays the first answer, a retry while it runs is told so, and the same
//! key with another request is refused.

use std::time::Duration;

use atsbridge_model::integration::IntegrationStatus;
use atsbridge_model::{ErrorCode, Timestamp};
use atsbridge_store::records::canonical;
use atsbridge_store::{IdempotencyClaim, IntegrationRow};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::create::perform;
use super::plan::{plan, WriteBody};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// How long a completed `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// A claim whose request has not finished after this long is taken to be dead.
const IDEMPOTENCY_STALE: Duration = Duration::from_secs(10 * 60);

/// Validates, checks the idempotency key, runs the create and keeps its answer for retries.
pub(super) async fn execute(
    state: &AppState,
    integration: &IntegrationRow,
    body: WriteBody,
    headers: &HeaderMap,
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
    let action = body.action();
    let path_job = body.path_job().map(str::to_owned);
    let (plan, body_value) = plan(body)?;
    let request = Request {
        action: action.as_str(),
        path: path_job.as_deref().unwrap_or_default(),
        body: &body_value,
    };
    idempotent(state, integration, headers, &request, || async {
        Ok(perform(state, integration, plan).await?.to_string())
    })
    .await
}

/// What a write asks, as its `Idempotency-Key` binds it: the same key with another request
/// is refused.
pub(crate) struct Request<'a> {
    /// The write action (`create_application`, `hris_create_employee`, …).
    pub action: &'a str,
    /// What the path names beyond the action (a job id), or empty.
    pub path: &'a str,
    pub body: &'a serde_json::Value,
}

/// Runs `write` (which answers the success body as JSON text) under the request's
/// `Idempotency-Key`, if it has one: a retry replays the first answer, a retry while it runs
/// is told so, and the same key with another request is refused. A failed write releases the
/// key.
pub(crate) async fn idempotent<F, Fut>(
    state: &AppState,
    integration: &IntegrationRow,
    headers: &HeaderMap,
    request: &Request<'_>,
    write: F,
) -> ApiResult<Response>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ApiResult<String>>,
{
    let key = idempotency_key(headers)?;
    let Some(key) = key else {
        return Ok(json_response(StatusCode::OK, write().await?, false));
    };
    // The same key with another request is an error, so what the request asks is hashed:
    // the action, what the path names and the body (canonical, so key order and spacing do
    // not matter).
    let mut hasher = Sha256::new();
    hasher.update(request.action.as_bytes());
    hasher.update([0]);
    hasher.update(request.path.as_bytes());
    hasher.update([0]);
    hasher.update(canonical(request.body).as_bytes());
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
    match write().await {
        Ok(text) => {
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
