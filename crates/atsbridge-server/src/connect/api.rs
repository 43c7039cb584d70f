//! The three `/v1` routes of the connection flow: `POST /connect/create-link`,
//! `POST /integrations/{integration_id}/relink` and
//! `GET /connect/integration-by-token/{token}`, with their request bodies and the checks of
//! what the vendor sends.

use atsbridge_model::integration::{Category, SetupStatus};
use atsbridge_model::{DataResponse, ErrorCode, Timestamp};
use atsbridge_store::{LinkPurpose, NewConnectLink};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::address::link_base;
use super::{new_token, LinkType};
use crate::auth::{self, Caller};
use crate::body::{KomboBody, KomboJson, LaterJson};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a JSON object with `end_user_email` and `end_user_organization_name`"
)]
pub(crate) struct CreateLinkBody {
    end_user_email: String,
    end_user_organization_name: String,
    #[serde(default)]
    end_user_origin_id: Option<String>,
    #[serde(default)]
    remote_environment: Option<String>,
    #[serde(default)]
    integration_category: Option<Category>,
    #[serde(default)]
    integration_tool: Option<String>,
    #[serde(default)]
    language: Option<LinkLanguage>,
    #[serde(default)]
    scope_config_id: Option<String>,
    #[serde(default)]
    enable_filtering: Option<bool>,
    #[serde(default)]
    enable_field_mapping: Option<bool>,
    #[serde(default)]
    enable_static_ips: Option<bool>,
    #[serde(default)]
    link_type: Option<LinkType>,
    /// atsbridge addition: where the browser goes after a successful connection, with
    /// `?token=…` appended.
    #[serde(default)]
    redirect_url: Option<String>,
}

impl KomboBody for CreateLinkBody {}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, expecting = "a JSON object")]
pub(crate) struct RelinkBody {
    #[serde(default)]
    language: Option<LinkLanguage>,
    #[serde(default)]
    scope_config_id: Option<String>,
    #[serde(default)]
    link_type: Option<LinkType>,
    #[serde(default)]
    redirect_url: Option<String>,
}

/// Every field is optional, so an empty body is `{}`.
impl KomboBody for RelinkBody {
    const MAY_BE_EMPTY: bool = true;
}

/// Kombo's languages; pages exist in English and German, the rest are shown in English.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LinkLanguage {
    En,
    De,
    Fr,
    It,
    Es,
}

impl LinkLanguage {
    fn code(self) -> &'static str {
        match self {
            LinkLanguage::En => "en",
            LinkLanguage::De => "de",
            LinkLanguage::Fr => "fr",
            LinkLanguage::It => "it",
            LinkLanguage::Es => "es",
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LinkAnswer {
    link: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct IntegrationByToken {
    tool: String,
    id: String,
    end_user_origin_id: Option<String>,
    end_user_organization_name: String,
    end_user_email: Option<String>,
    setup_status: SetupStatus,
}

fn required_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

fn optional_text(field: &str, value: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => required_text(field, v, max).map(Some),
    }
}

/// A plausible email address: one `@`, something on both sides, a dot in the domain, no
/// spaces. Kombo only documents the field as an email.
fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
}

fn redirect_url(value: Option<&str>) -> ApiResult<Option<String>> {
    let Some(raw) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let url = url::Url::parse(raw)
        .map_err(|e| ApiError::invalid("redirect_url", format!("not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ApiError::invalid(
            "redirect_url",
            "must be an http(s) URL with a host",
        ));
    }
    if raw.len() > 2000 {
        return Err(ApiError::invalid(
            "redirect_url",
            "must be at most 2000 characters",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::invalid(
            "redirect_url",
            "must not contain credentials",
        ));
    }
    Ok(Some(url.to_string()))
}

/// `POST /connect/create-link`
pub(super) async fn create_link(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    KomboJson(body): KomboJson<CreateLinkBody>,
) -> ApiResult<Json<DataResponse<LinkAnswer>>> {
    let email = required_text("end_user_email", &body.end_user_email, 254)?;
    if !valid_email(&email) {
        return Err(ApiError::invalid(
            "end_user_email",
            "must be an email address",
        ));
    }
    let organization = required_text(
        "end_user_organization_name",
        &body.end_user_organization_name,
        200,
    )?;
    let origin_id = optional_text(
        "end_user_origin_id",
        body.end_user_origin_id.as_deref(),
        200,
    )?;
    // Kombo's default category is HRIS (the SDKs send it when the caller sets none).
    let category = body.integration_category.unwrap_or(Category::Hris);
    // The registry's tools of that category; without `integration_tool`, the only one
    // (Kombo then shows a picker, which one tool makes moot).
    let available: Vec<&str> = state.tools.in_category(category).map(|t| t.slug).collect();
    if available.is_empty() {
        return Err(ApiError::invalid(
            "integration_category",
            format!(
                "this server connects no `{}` tools; the categories it serves are {}",
                category.as_str(),
                served_categories(&state)
            ),
        ));
    }
    let tool = match body.integration_tool.as_deref() {
        Some(tool) => tool,
        None if available.len() == 1 => available[0],
        None => {
            return Err(ApiError::invalid(
                "integration_tool",
                format!("is required; one of `{}`", available.join("`, `")),
            ))
        }
    };
    if !available.contains(&tool) {
        return Err(ApiError::invalid(
            "integration_tool",
            format!(
                "atsbridge cannot connect `{tool}`; the available tool is `{}`",
                available.join("`, `")
            ),
        ));
    }
    if body.remote_environment.is_some() {
        let label = state.tools.get(tool, category).map_or(tool, |t| t.label);
        return Err(ApiError::invalid(
            "remote_environment",
            format!("{label} has no remote environments; leave it out"),
        ));
    }
    for (field, value) in [
        ("enable_filtering", body.enable_filtering),
        ("enable_field_mapping", body.enable_field_mapping),
        ("enable_static_ips", body.enable_static_ips),
    ] {
        if value == Some(true) {
            return Err(ApiError::invalid(
                field,
                "atsbridge's connection flow has no such step; leave it out or send false",
            ));
        }
    }
    let _ = body.scope_config_id;
    let link_type = body.link_type.unwrap_or_default();
    let language = body.language.unwrap_or(LinkLanguage::En);
    let redirect = redirect_url(body.redirect_url.as_deref())?;
    let answer = issue_link(&state, &headers, |token, now| NewConnectLink {
        token,
        environment_id: caller.0.environment_id.clone(),
        tool: tool.to_owned(),
        category,
        purpose: LinkPurpose::Connect,
        integration_id: None,
        end_user_email: Some(email),
        organization_name: organization,
        origin_id,
        language: language.code().to_owned(),
        link_type: link_type.as_str().to_owned(),
        redirect_url: redirect,
        created_at: now,
        expires_at: now.plus(link_type.ttl()),
    })
    .await?;
    tracing::info!(link_type = link_type.as_str(), "connection link created");
    Ok(answer)
}

/// Stores the link `make` builds from a new token and the current time, and answers its URL.
async fn issue_link(
    state: &AppState,
    headers: &HeaderMap,
    make: impl FnOnce(String, Timestamp) -> NewConnectLink,
) -> ApiResult<Json<DataResponse<LinkAnswer>>> {
    // Before storing: a link nobody can open is not worth keeping.
    let base = link_base(&state.config, headers)?;
    let token = new_token();
    state
        .store
        .create_connect_link(&make(token.clone(), Timestamp::now()))
        .await?;
    Ok(Json(DataResponse::new(LinkAnswer {
        link: format!("{base}/connect/{token}"),
    })))
}

/// `POST /integrations/{integration_id}/relink`: a link that replaces the integration's
/// credentials (its customer enters new credentials for the same account).
pub(super) async fn relink(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: LaterJson<RelinkBody>,
) -> ApiResult<Json<DataResponse<LinkAnswer>>> {
    let row = auth::integration_of(&state, &caller, &id).await?;
    let body = body.take()?;
    let _ = body.scope_config_id;
    let link_type = body.link_type.unwrap_or_default();
    let language = body.language.unwrap_or(LinkLanguage::En);
    let redirect = redirect_url(body.redirect_url.as_deref())?;
    let answer = issue_link(&state, &headers, |token, now| NewConnectLink {
        token,
        environment_id: row.environment_id.clone(),
        tool: row.tool.clone(),
        category: row.category,
        purpose: LinkPurpose::Relink,
        integration_id: Some(row.id.clone()),
        end_user_email: row.end_user.creator_email.clone(),
        organization_name: row.end_user.organization_name.clone(),
        origin_id: row.end_user.origin_id.clone(),
        language: language.code().to_owned(),
        link_type: link_type.as_str().to_owned(),
        redirect_url: redirect,
        created_at: now,
        expires_at: now.plus(link_type.ttl()),
    })
    .await?;
    tracing::info!(integration_id = %row.id, link_type = link_type.as_str(), "relink link created");
    Ok(answer)
}

/// `GET /connect/integration-by-token/{token}`: the integration a completed connection
/// flow handed this token back for (valid for `COMPLETION_TTL`).
pub(super) async fn integration_by_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(token): Path<String>,
) -> ApiResult<Json<DataResponse<IntegrationByToken>>> {
    let not_found = || {
        ApiError::new(
            ErrorCode::PlatformIntegrationNotFound,
            "no integration for this token: it is unknown, belongs to another environment, or expired (tokens are valid for one hour after the connection)",
        )
    };
    let link = state
        .store
        .link_by_completion(&token, Timestamp::now())
        .await?
        .filter(|l| l.environment_id == caller.0.environment_id)
        .ok_or_else(not_found)?;
    let id = link.integration_id.ok_or_else(not_found)?;
    let row = auth::integration_of(&state, &caller, &id).await?;
    Ok(Json(DataResponse::new(IntegrationByToken {
        tool: row.tool,
        id: row.id,
        end_user_origin_id: row.end_user.origin_id,
        end_user_organization_name: row.end_user.organization_name,
        end_user_email: row.end_user.creator_email,
        setup_status: row.setup_status,
    })))
}

/// The categories the registry has tools for, for messages: `ATS` or `ATS, HRIS`.
fn served_categories(state: &AppState) -> String {
    let categories: Vec<&str> = Category::ALL
        .iter()
        .filter(|c| state.tools.in_category(**c).next().is_some())
        .map(|c| c.as_str())
        .collect();
    format!("`{}`", categories.join("`, `"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_loosely() {
        assert!(valid_email("it@acme.example"));
        for bad in [
            "",
            "acme",
            "@acme.example",
            "it@",
            "it@acme",
            "it @acme.example",
            "a@b@c.d",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }
}
