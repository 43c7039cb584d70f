//! Keeps the general endpoints inside their error model.
//!
//! Kombo's SDKs parse an error of an ATS endpoint (`/v1/ats/...`) with `KomboAtsError`, whose
//! `code` may be any of Kombo's codes, but an error of every other endpoint (`/force-sync`,
//! `/passthrough/...`, `/integrations/...`, `/check-api-key`, `/connect/...`) with
//! `KomboGeneralError`, whose `code` is a closed enum of the eight `PLATFORM.*` codes. A
//! general endpoint answering `INTEGRATION.INACTIVE` or `REMOTE.SERVICE_UNAVAILABLE` makes
//! both SDKs raise a response-validation error instead of their typed error.
//!
//! [`layer`] wraps the routes with a middleware that rewrites such an answer: the code becomes
//! the nearest general code ([`general_code`]), the title that code's title, and the message
//! keeps the original code, title and message (`Integration inactive
//! (INTEGRATION.INACTIVE): integration … is disabled`). The HTTP status, the headers
//! (`Retry-After` included) and `log_url` stay as they were: the status still describes the
//! situation (403 for a disabled integration, 503 for an unreachable ATS), only the code had
//! to move into the set the SDKs accept.

use atsbridge_model::ErrorCode;
use axum::body::{Body, HttpBody as _};
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use serde_json::Value;

/// Error envelopes are a few hundred bytes; a larger body is not one of ours and passes.
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Wraps every route of `router` (the fallback included) with the rewrite.
pub fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(middleware::from_fn(rewrite))
}

/// Whether `path` is a general endpoint: under `/v1` but not under `/v1/ats/` or
/// `/v1/hris/` (whose SDK error models take every code of their category).
pub fn is_general_path(path: &str) -> bool {
    path.starts_with("/v1/") && !path.starts_with("/v1/ats/") && !path.starts_with("/v1/hris/")
}

/// The general code that stands for `code` on a general endpoint: general codes stay; a
/// remote rate limit is a rate limit; an unreachable or failing ATS is an unknown error (the
/// status, 502 or 503, still says it was the ATS); everything else (`INTEGRATION.*` states
/// such as inactive or rejected credentials, `REMOTE.INPUT_INVALID`, `ATS.*`) is a request
/// that cannot be served as it stands, `PLATFORM.INPUT_INVALID`.
pub fn general_code(code: ErrorCode) -> ErrorCode {
    match code {
        c if c.is_general() => c,
        ErrorCode::RemoteRateLimitExceeded => ErrorCode::PlatformRateLimitExceeded,
        ErrorCode::RemoteServiceUnavailable | ErrorCode::RemoteUnknownHttpError => {
            ErrorCode::PlatformUnknownError
        }
        _ => ErrorCode::PlatformInputInvalid,
    }
}

async fn rewrite(request: Request, next: Next) -> Response {
    let general = is_general_path(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    if !general || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let small = response
        .body()
        .size_hint()
        .upper()
        .is_some_and(|n| n <= MAX_ERROR_BODY);
    if !json || !small {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_ERROR_BODY as usize).await {
        Ok(bytes) => bytes,
        Err(e) => {
            // The body's size was known, so this is a failing body stream; nothing to keep.
            tracing::error!(error = %e, "reading an error answer failed");
            parts.headers.remove(header::CONTENT_LENGTH);
            return Response::from_parts(parts, Body::empty());
        }
    };
    match rewritten(&bytes) {
        Some(new) => {
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(new.len() as u64));
            Response::from_parts(parts, Body::from(new))
        }
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// The envelope with its code moved into the general set, or `None` when it needs no change
/// (a general or null code, or not an error envelope at all).
fn rewritten(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut envelope: Value = serde_json::from_slice(bytes).ok()?;
    if envelope.get("status").and_then(Value::as_str) != Some("error") {
        return None;
    }
    let error = envelope.get_mut("error")?.as_object_mut()?;
    let raw = error.get("code")?.as_str()?.to_owned();
    let known = ErrorCode::parse(&raw);
    if known.is_some_and(ErrorCode::is_general) {
        return None;
    }
    let code = known.map_or(ErrorCode::PlatformUnknownError, general_code);
    let message = error.get("message").and_then(Value::as_str).unwrap_or("");
    let title = error
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty());
    let message = match title {
        Some(title) => format!("{title} ({raw}): {message}"),
        None => format!("{raw}: {message}"),
    };
    tracing::debug!(from = %raw, to = %code, "general endpoint error code rewritten");
    error.insert("code".into(), Value::from(code.as_str()));
    error.insert("title".into(), Value::from(code.title()));
    error.insert("message".into(), Value::from(message));
    serde_json::to_vec(&envelope).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;
    use axum::http::StatusCode;
    use axum::response::IntoResponse as _;
    use axum::routing::get;
    use serde_json::json;
    use tower::ServiceExt as _;

    #[test]
    fn every_code_has_a_general_stand_in() {
        for &code in ErrorCode::ALL {
            let general = general_code(code);
            assert!(general.is_general(), "{code} -> {general}");
            if code.is_general() {
                assert_eq!(general, code);
            }
        }
        assert_eq!(
            general_code(ErrorCode::IntegrationInactive),
            ErrorCode::PlatformInputInvalid
        );
        assert_eq!(
            general_code(ErrorCode::IntegrationAuthenticationInvalid),
            ErrorCode::PlatformInputInvalid
        );
        assert_eq!(
            general_code(ErrorCode::RemoteRateLimitExceeded),
            ErrorCode::PlatformRateLimitExceeded
        );
        assert_eq!(
            general_code(ErrorCode::RemoteServiceUnavailable),
            ErrorCode::PlatformUnknownError
        );
        assert_eq!(
            general_code(ErrorCode::RemoteUnknownHttpError),
            ErrorCode::PlatformUnknownError
        );
    }

    #[test]
    fn paths() {
        for p in [
            "/v1/force-sync",
            "/v1/passthrough/sagehr/api",
            "/v1/integrations/x",
            "/v1/check-api-key",
            "/v1/connect/create-link",
            "/v1/webhooks",
            "/v1/atsx",
        ] {
            assert!(is_general_path(p), "{p}");
        }
        for p in [
            "/v1/ats/jobs",
            "/v1/ats/jobs/x/applications",
            "/health",
            "/connect/t",
        ] {
            assert!(!is_general_path(p), "{p}");
        }
    }

    async fn call(router: Router, path: &str) -> (StatusCode, axum::http::HeaderMap, Value) {
        let response = router
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, serde_json::from_slice(&bytes).unwrap())
    }

    fn router() -> Router {
        let remote_limit = || async {
            ApiError {
                code: ErrorCode::RemoteRateLimitExceeded,
                message: "Sage HR answered 429".into(),
                retry_after: Some(7),
            }
        };
        let inactive = || async {
            ApiError::new(
                ErrorCode::IntegrationInactive,
                "integration `x` is disabled",
            )
        };
        let general = || async { ApiError::invalid("type", "unknown variant") };
        let foreign = || async {
            (
                StatusCode::BAD_GATEWAY,
                axum::Json(json!({"status": "error", "error": {"code": "VENDOR.ODD", "title": null, "message": "m", "log_url": "https://log/1"}})),
            )
                .into_response()
        };
        let plain = || async { (StatusCode::BAD_REQUEST, "plain text").into_response() };
        layer(
            Router::new()
                .route("/v1/passthrough/sagehr/api", get(remote_limit))
                .route("/v1/force-sync", get(inactive))
                .route("/v1/integrations/x", get(general))
                .route("/v1/webhooks", get(foreign))
                .route("/v1/check-api-key", get(plain))
                .route("/v1/ats/jobs", get(inactive)),
        )
    }

    #[tokio::test]
    async fn general_routes_answer_general_codes_and_keep_status_headers_and_detail() {
        let app = router();

        let (status, headers, body) = call(app.clone(), "/v1/passthrough/sagehr/api").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "7");
        assert_eq!(
            body["error"]["code"], "PLATFORM.RATE_LIMIT_EXCEEDED",
            "{body}"
        );
        assert_eq!(body["error"]["title"], "Rate limit exceeded");
        assert_eq!(
            body["error"]["message"],
            "Remote system rate limit exceeded (REMOTE.RATE_LIMIT_EXCEEDED): Sage HR answered 429"
        );

        let (status, _, body) = call(app.clone(), "/v1/force-sync").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"]["code"], "PLATFORM.INPUT_INVALID", "{body}");
        assert_eq!(body["error"]["title"], "Invalid input");
        assert_eq!(
            body["error"]["message"],
            "Integration inactive (INTEGRATION.INACTIVE): integration `x` is disabled"
        );
        assert!(body["error"]["log_url"].is_null());

        // General codes pass unchanged.
        let (status, _, body) = call(app.clone(), "/v1/integrations/x").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!({"status": "error", "error": {"code": "PLATFORM.INPUT_INVALID", "title": "Invalid input", "message": "type: unknown variant", "log_url": null}})
        );

        // A code that is not Kombo's at all becomes an unknown error; log_url stays.
        let (status, _, body) = call(app.clone(), "/v1/webhooks").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(body["error"]["code"], "PLATFORM.UNKNOWN_ERROR", "{body}");
        assert_eq!(body["error"]["message"], "VENDOR.ODD: m");
        assert_eq!(body["error"]["log_url"], "https://log/1");

        // ATS routes keep every code.
        let (status, _, body) = call(app.clone(), "/v1/ats/jobs").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"]["code"], "INTEGRATION.INACTIVE", "{body}");

        // Bodies that are not JSON are left to the envelope layer outside.
        let response = app
            .oneshot(
                Request::get("/v1/check-api-key")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(&bytes[..], b"plain text");
    }
}
