//! Who is calling: the API key (`Authorization: Bearer …`) and, for integration-scoped
//! routes, the integration named by `X-Integration-Id`, which must belong to the key's
//! environment.

use atsbridge_model::ErrorCode;
use atsbridge_store::keys::ApiKeyRow;
use atsbridge_store::IntegrationRow;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::AppState;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller(pub ApiKeyRow);

/// Put in a request's extensions once its key was looked up and not found, so that the
/// handler refuses it without looking it up again.
#[derive(Debug, Clone, Copy)]
pub struct KeyRejected;

fn invalid_key() -> ApiError {
    ApiError::new(
        ErrorCode::PlatformAuthenticationInvalid,
        "the API key is not valid",
    )
}

/// The bearer token of a request, if it has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let token = bearer(parts).ok_or_else(|| {
            ApiError::new(
                ErrorCode::PlatformAuthenticationInvalid,
                "send your API key as `Authorization: Bearer <key>`",
            )
        })?;
        if parts.extensions.get::<KeyRejected>().is_some() {
            return Err(invalid_key());
        }
        let key = state
            .store
            .api_key_by_secret(token)
            .await?
            .ok_or_else(invalid_key)?;
        let caller = Caller(key);
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// The integration a request is about, checked against the caller's environment. Another
/// environment's integration is reported exactly like one that does not exist.
pub async fn integration_of(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<IntegrationRow, ApiError> {
    let not_found = || {
        ApiError::new(
            ErrorCode::PlatformIntegrationNotFound,
            format!("no integration `{id}` in this environment"),
        )
    };
    let integration = state.store.integration(id).await?.ok_or_else(not_found)?;
    if integration.environment_id != caller.0.environment_id {
        return Err(not_found());
    }
    Ok(integration)
}

/// A caller and the integration of its `X-Integration-Id` header.
#[derive(Debug, Clone)]
pub struct Scoped {
    pub caller: Caller,
    pub integration: IntegrationRow,
}

impl FromRequestParts<AppState> for Scoped {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let id = parts
            .headers
            .get("x-integration-id")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                ApiError::invalid(
                    "X-Integration-Id",
                    "the header is required and names the integration",
                )
            })?
            .to_owned();
        let integration = integration_of(state, &caller, &id).await?;
        Ok(Scoped {
            caller,
            integration,
        })
    }
}
