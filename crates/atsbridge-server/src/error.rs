//! One error type for every handler, answered in Kombo's envelope. The HTTP status comes
//! from the code; 5xx details are logged, never sent.

use atsbridge_model::{ErrorCode, ErrorResponse};
use atsbridge_store::{Missing, StoreError};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds for `Retry-After` (rate limits).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// `PLATFORM.INPUT_INVALID` naming the parameter.
    pub fn invalid(field: &str, problem: impl std::fmt::Display) -> Self {
        Self::new(
            ErrorCode::PlatformInputInvalid,
            format!("{field}: {problem}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response =
            (status, Json(ErrorResponse::new(self.code, self.message))).into_response();
        // For the metrics of write actions, which count outcomes by code.
        response.extensions_mut().insert(self.code);
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor(m) => ApiError::invalid("cursor", m),
            e @ StoreError::NotFound {
                what: Missing::Integration,
                ..
            } => ApiError::new(ErrorCode::PlatformIntegrationNotFound, e.to_string()),
            // The request asked for something the stored state no longer allows (an id taken,
            // a key revoked): the caller's to change, not a server failure.
            StoreError::Conflict(m) => ApiError::new(ErrorCode::PlatformInputInvalid, m),
            // Anything else missing (a sync run) is ours: logged below like any failure.
            other => {
                // Logged with its cause chain once, here; the client gets a generic message.
                tracing::error!(error = ?other, "storage failed");
                ApiError::new(
                    ErrorCode::PlatformUnknownError,
                    "an internal error occurred; it has been logged",
                )
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use atsbridge_model::ErrorCode;
    use atsbridge_store::{Missing, StoreError};

    use super::ApiError;

    /// Each kind of storage error keeps its meaning at the edge: only a missing integration
    /// is `INTEGRATION_NOT_FOUND`, a conflict is the caller's input, and the rest is a logged
    /// internal error whose details are not sent.
    #[test]
    fn store_errors_keep_their_kind_in_the_api() {
        let cases = [
            (
                StoreError::integration_not_found("sagehr:x"),
                ErrorCode::PlatformIntegrationNotFound,
                "integration sagehr:x not found",
            ),
            (
                StoreError::NotFound {
                    what: Missing::SyncRun,
                    id: "sync_1".into(),
                },
                ErrorCode::PlatformUnknownError,
                "an internal error occurred; it has been logged",
            ),
            (
                StoreError::Conflict("that API key is revoked".into()),
                ErrorCode::PlatformInputInvalid,
                "that API key is revoked",
            ),
            (
                StoreError::InvalidCursor("stale".into()),
                ErrorCode::PlatformInputInvalid,
                "cursor: stale",
            ),
            (
                StoreError::Corrupt("bad row".into()),
                ErrorCode::PlatformUnknownError,
                "an internal error occurred; it has been logged",
            ),
        ];
        for (error, code, message) in cases {
            let what = format!("{error:?}");
            let api = ApiError::from(error);
            assert_eq!((api.code, api.message.as_str()), (code, message), "{what}");
        }
    }
}
