//! One error type for every handler, answered in Kombo's envelope. The HTTP status comes
//! from the code; 5xx details are logged, never sent.

use atsbridge_model::{ErrorCode, ErrorResponse};
use atsbridge_store::StoreError;
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
            StoreError::NotFound(m) => ApiError::new(ErrorCode::PlatformIntegrationNotFound, m),
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
