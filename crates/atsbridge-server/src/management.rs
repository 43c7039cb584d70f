//! Management endpoints: API key check, integrations (read, delete, enable/disable), force
//! sync and the passthrough API; plus the tool logos the integration object points to.
//!
//! Request bodies are parsed here from bytes, so malformed JSON and wrong types answer
//! `PLATFORM.INPUT_INVALID` naming the field instead of axum's plain-text rejections.

use std::collections::BTreeMap;
use std::time::Duration;

use atsbridge_model::connector::{ConnectorError, ConnectorErrorKind, PassthroughRequest};
use atsbridge_model::event::{Event, IntegrationDeleted, IntegrationStateChanged, QaStatus};
use atsbridge_model::integration::CoverageStatus::{self, Supported as S, Unsupported as U};
use atsbridge_model::integration::{
    ApiKeyCheck, Category, Integration, IntegrationStatus, ReadModel, ReadModelField, ScopeConfig,
    ScopeConfigSetting, Tool, WriteAction, WriteActionField,
};
use atsbridge_model::{DataResponse, ErrorCode, Timestamp, Warning, WriteResponse};
use atsbridge_store::{Credentials, IntegrationSettings, NewEvent, RunRow, RunState};
use atsbridge_sync::Outcome;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::sync::oneshot;
use tracing::Instrument as _;

use crate::auth::{self, Caller, Scoped};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The `/v1` routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/check-api-key", get(check_api_key))
        .route(
            "/integrations/{integration_id}",
            get(get_integration).delete(delete_integration),
        )
        .route("/integrations/{integration_id}/enabled", put(set_enabled))
        .route(
            "/integrations/{integration_id}/settings",
            get(get_settings).put(put_settings),
        )
        .route("/force-sync", post(force_sync))
        .route("/tools/{category}", get(tools))
        .route("/passthrough/{tool}/{api}", post(passthrough))
}

/// Routes outside `/v1`: the logos `tool.logo_url` and `tool.icon_url` point to.
pub fn assets_router() -> Router<AppState> {
    Router::new().route("/assets/{file}", get(asset))
}

// ---------------------------------------------------------------------------------------
// Coverage: what each tool can read and write. Review this table against DESIGN.md's
// "Sage HR → unified mapping" when the mapping changes.
// ---------------------------------------------------------------------------------------

/// A read model or write action of a tool and how well it is covered, field by field.
#[derive(Debug)]
pub struct Coverage {
    pub id: &'static str,
    pub label: &'static str,
    pub status: CoverageStatus,
    pub fields: &'static [(&'static str, CoverageStatus)],
}

/// What `GET /integrations/{id}` says about a tool.
#[derive(Debug)]
pub struct ToolInfo {
    pub slug: &'static str,
    pub label: &'static str,
    /// File names under `/assets/`.
    pub logo: &'static str,
    pub icon: &'static str,
    pub read_models: &'static [Coverage],
    pub write_actions: &'static [Coverage],
}

pub const TOOLS: &[ToolInfo] = &[ToolInfo {
    slug: "sagehr",
    label: "Sage HR",
    logo: "sagehr-logo.svg",
    icon: "sagehr-icon.svg",
    read_models: SAGEHR_READ_MODELS,
    write_actions: SAGEHR_WRITE_ACTIONS,
}];

/// Kombo's ATS models Sage HR's API has nothing for (no users, tags, interviews, offers, …).
const UNSUPPORTED_ATS_MODELS: &[(&str, &str)] = &[
    ("ats_users", "Users"),
    ("ats_job_postings", "Job postings"),
    ("ats_screening_questions", "Screening questions"),
    ("ats_tags", "Tags"),
    ("ats_interviews", "Interviews"),
    ("ats_offers", "Offers"),
    ("ats_rejection_reasons", "Rejection reasons"),
    ("ats_roles", "Roles"),
    ("ats_notes", "Notes"),
    ("ats_scorecards", "Scorecards"),
    ("ats_attachments", "Attachments"),
];

/// SUPPORTED: Sage HR has it and we fill it. NOT_IMPLEMENTED: Sage HR has it (R2's hiring
/// team) but we do not read it. UNSUPPORTED: Sage HR's API has no such data; the key is
/// still emitted (null, `[]` or `{}`).
const SAGEHR_READ_MODELS: &[Coverage] = &[
    Coverage {
        id: "ats_jobs",
        label: "Jobs",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("name", S),
            ("job_code", U),
            ("description", S),
            ("confidential", U),
            ("weekly_hours", U),
            ("category", U),
            ("department", S),
            ("post_url", S),
            ("experience_level", U),
            ("salary_amount", U),
            ("salary_amount_from", U),
            ("salary_amount_to", U),
            ("salary_currency", U),
            ("salary_period", U),
            ("custom_fields", U),
            ("remote_url", U),
            ("opened_at", S),
            ("closed_at", S),
            ("remote_created_at", S),
            ("remote_updated_at", U),
            ("contact_id", U),
            ("changed_at", S),
            ("remote_deleted_at", S),
            ("stages", S),
            ("screening_questions", U),
            ("job_postings", U),
            ("hiring_team", S),
            ("employment_type", S),
            ("status", S),
            ("visibility", S),
            ("remote_work_status", U),
            ("location", S),
            ("remote_data", S),
        ],
    },
    Coverage {
        id: "ats_candidates",
        label: "Candidates",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("first_name", S),
            ("last_name", S),
            ("company", U),
            ("title", S),
            ("confidential", U),
            ("source", S),
            ("custom_fields", U),
            ("remote_url", U),
            ("remote_created_at", S),
            ("remote_updated_at", U),
            ("changed_at", S),
            ("remote_deleted_at", S),
            ("tags", U),
            ("phone_numbers", S),
            ("email_addresses", S),
            ("social_media", U),
            ("location", S),
            ("applications", S),
            ("remote_data", S),
        ],
    },
    Coverage {
        id: "ats_applications",
        label: "Applications",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("outcome", S),
            ("rejection_reason_name", U),
            ("rejected_at", S),
            ("current_stage_id", S),
            ("current_stage", S),
            ("job_id", S),
            ("job", S),
            ("candidate_id", S),
            ("candidate", S),
            ("custom_fields", U),
            ("remote_url", U),
            ("changed_at", S),
            ("remote_deleted_at", S),
            ("remote_created_at", S),
            ("remote_updated_at", U),
            ("screening_question_answers", U),
            ("interviews", U),
            ("offers", U),
            ("remote_data", S),
        ],
    },
    Coverage {
        id: "ats_application_stages",
        label: "Application stages",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("name", S),
            ("status", U),
            ("custom_fields", U),
            ("changed_at", S),
            ("remote_deleted_at", S),
            ("remote_data", S),
        ],
    },
];

/// Both writes become one `POST /recruitment/positions/{id}/applicants`; what Sage HR cannot
/// take is answered with a warning, never dropped silently.
const SAGEHR_WRITE_ACTIONS: &[Coverage] = &[
    Coverage {
        id: "ats_create_application",
        label: "Create application",
        status: S,
        fields: &[
            ("candidate.first_name", S),
            ("candidate.last_name", S),
            ("candidate.email_address", S),
            ("candidate.phone_number", S),
            ("candidate.title", S),
            ("candidate.location.city", S),
            ("candidate.location.country", S),
            ("candidate.location.state", S),
            ("candidate.location.zip_code", S),
            ("candidate.location.street_1", S),
            ("candidate.company", U),
            ("candidate.additional_email_addresses", U),
            ("candidate.additional_phone_numbers", U),
            ("candidate.gender", U),
            ("candidate.availability_date", U),
            ("candidate.salary_expectations", U),
            ("candidate.social_links", U),
            ("attachments", S),
            ("source", S),
            ("stage_id", U),
            ("sourced_by", U),
            ("gdpr_consent", U),
            ("remote_fields", U),
            ("screening_question_answers", U),
        ],
    },
    Coverage {
        id: "ats_create_candidate",
        label: "Create candidate",
        status: S,
        fields: &[
            ("candidate.first_name", S),
            ("candidate.last_name", S),
            ("candidate.email_address", S),
            ("candidate.phone_number", S),
            ("candidate.title", S),
            ("candidate.location.city", S),
            ("candidate.location.country", S),
            ("candidate.location.state", S),
            ("candidate.location.zip_code", S),
            ("candidate.location.street_1", S),
            ("candidate.company", U),
            ("candidate.additional_email_addresses", U),
            ("candidate.additional_phone_numbers", U),
            ("candidate.gender", U),
            ("candidate.availability_date", U),
            ("candidate.salary_expectations", U),
            ("candidate.social_links", U),
            ("application.job_id", S),
            ("application.stage_id", U),
            ("attachments", S),
            ("source", S),
            ("sourced_by", U),
            ("gdpr_consent", U),
            ("remote_fields", U),
            ("screening_question_answers", U),
        ],
    },
];

pub fn tool_info(slug: &str) -> Option<&'static ToolInfo> {
    TOOLS.iter().find(|t| t.slug == slug)
}

fn read_models(tool: Option<&ToolInfo>) -> Vec<ReadModel> {
    let model = |id: &str,
                 label: &str,
                 status: CoverageStatus,
                 fields: &[(&str, CoverageStatus)]| ReadModel {
        id: id.to_owned(),
        label: label.to_owned(),
        is_available: status == S,
        coverage_status: status,
        scope_config_setting: ScopeConfigSetting::Enabled,
        opted_out_by_customer: false,
        fields: fields
            .iter()
            .map(|&(id, status)| ReadModelField {
                id: id.to_owned(),
                is_available: status == S,
                coverage_status: status,
                scope_config_setting: ScopeConfigSetting::Enabled,
                opted_out_by_customer: false,
            })
            .collect(),
    };
    let Some(tool) = tool else { return Vec::new() };
    let mut out: Vec<ReadModel> = tool
        .read_models
        .iter()
        .map(|c| model(c.id, c.label, c.status, c.fields))
        .collect();
    out.extend(
        UNSUPPORTED_ATS_MODELS
            .iter()
            .map(|&(id, label)| model(id, label, U, &[])),
    );
    out
}

fn write_actions(tool: Option<&ToolInfo>) -> Vec<WriteAction> {
    let Some(tool) = tool else { return Vec::new() };
    tool.write_actions
        .iter()
        .map(|c| WriteAction {
            id: c.id.to_owned(),
            label: c.label.to_owned(),
            is_available: c.status == S,
            coverage_status: c.status,
            scope_config_setting: ScopeConfigSetting::Enabled,
            opted_out_by_customer: false,
            fields: c
                .fields
                .iter()
                .map(|&(id, status)| WriteActionField {
                    id: id.to_owned(),
                    is_available: status == S,
                    coverage_status: status,
                })
                .collect(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Logos
// ---------------------------------------------------------------------------------------

const SAGEHR_LOGO: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="160" height="48" viewBox="0 0 160 48" role="img" aria-label="Sage HR"><rect width="48" height="48" rx="10" fill="#00D639"/><text x="24" y="33" font-family="Helvetica,Arial,sans-serif" font-size="26" font-weight="700" text-anchor="middle" fill="#000">S</text><text x="58" y="32" font-family="Helvetica,Arial,sans-serif" font-size="22" font-weight="700" fill="#000">Sage HR</text></svg>
"##;

const SAGEHR_ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 48 48" role="img" aria-label="Sage HR"><rect width="48" height="48" rx="10" fill="#00D639"/><text x="24" y="33" font-family="Helvetica,Arial,sans-serif" font-size="26" font-weight="700" text-anchor="middle" fill="#000">S</text></svg>
"##;

async fn asset(Path(file): Path<String>) -> Response {
    let svg = match file.as_str() {
        "sagehr-logo.svg" => SAGEHR_LOGO,
        "sagehr-icon.svg" => SAGEHR_ICON,
        _ => {
            return ApiError::new(
                ErrorCode::PlatformInputInvalid,
                format!("no asset `{file}`"),
            )
            .into_response()
        }
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        svg,
    )
        .into_response()
}

/// The absolute URL of an asset as the caller reached us.
fn asset_url(headers: &HeaderMap, file: &str) -> String {
    format!("{}/assets/{file}", external_base(headers, None))
}

/// This server's base URL for links handed out: `public_url` when configured, else as the
/// caller reached us (`Host`, and `X-Forwarded-Proto` behind a TLS proxy); empty (so links
/// are root-relative) when the host is missing or odd.
pub fn external_base(headers: &HeaderMap, public_url: Option<&str>) -> String {
    if let Some(url) = public_url.map(str::trim).filter(|u| !u.is_empty()) {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        });
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    match host {
        Some(host) => format!("{proto}://{host}"),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------

/// Parses a JSON object body. An empty body is `{}` when `allow_empty`, else an error. Errors name
/// the offending field (`value: invalid type: …`) or say the JSON is malformed.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], allow_empty: bool) -> ApiResult<T> {
    let empty = bytes.iter().all(u8::is_ascii_whitespace);
    if empty && !allow_empty {
        return Err(ApiError::invalid("body", "a JSON object is required"));
    }
    // Syntax first, then shape: serde_json reports some type errors (a number where an
    // enum string belongs) as syntax errors when it deserializes straight from bytes.
    let value: Value = if empty {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::invalid("body", format!("malformed JSON: {e}")))?
    };
    // serde would take `[true]` for a struct; Kombo's bodies are objects.
    if !value.is_object() {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            "body"
        } else {
            path.as_str()
        };
        ApiError::invalid(field, e.into_inner())
    })
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "a JSON object like {\"value\": true}")]
struct EnabledBody {
    value: bool,
}

#[derive(Debug, Clone, Copy, Deserialize)]
enum SyncKind {
    #[serde(rename = "FULL")]
    Full,
    #[serde(rename = "DELTA")]
    Delta,
}

impl SyncKind {
    fn as_str(self) -> &'static str {
        match self {
            SyncKind::Full => "FULL",
            SyncKind::Delta => "DELTA",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "a JSON object like {\"type\": \"FULL\"}")]
struct ForceSyncBody {
    #[serde(rename = "type")]
    kind: Option<SyncKind>,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "a JSON object with `method` and `path`")]
struct PassthroughBody {
    method: String,
    path: String,
    #[serde(default)]
    headers: Option<Map<String, Value>>,
    #[serde(default)]
    params: Option<Map<String, Value>>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    response_as_base64: Option<bool>,
    #[serde(default)]
    multipart_form_data: Option<Value>,
    #[serde(default)]
    api_options: Option<Value>,
}

fn empty_data() -> Json<DataResponse<Map<String, Value>>> {
    Json(DataResponse::new(Map::new()))
}

fn connector_error(e: ConnectorError) -> ApiError {
    ApiError::new(e.code(), e.message)
}

// ---------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------

/// `GET /check-api-key`
async fn check_api_key(caller: Caller) -> Json<DataResponse<ApiKeyCheck>> {
    Json(DataResponse::new(ApiKeyCheck {
        environment_id: caller.0.environment_id,
    }))
}

/// `GET /integrations/{integration_id}`
async fn get_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<DataResponse<Integration>>> {
    let row = auth::integration_of(&state, &caller, &id).await?;
    let tool = tool_info(&row.tool);
    let (label, logo, icon) = match tool {
        Some(t) => (
            t.label.to_owned(),
            asset_url(&headers, t.logo),
            asset_url(&headers, t.icon),
        ),
        None => (
            row.tool.clone(),
            asset_url(&headers, &format!("{}.svg", row.tool)),
            asset_url(&headers, &format!("{}.svg", row.tool)),
        ),
    };
    let integration = Integration {
        id: row.id.clone(),
        tool: Tool {
            id: row.tool.clone(),
            label,
            internal_label: None,
            logo_url: logo,
            icon_url: icon,
        },
        category: Category::Ats,
        status: row.status,
        setup_status: row.setup_status,
        end_user: row.end_user.clone(),
        scope_config: ScopeConfig {
            id: "default".into(),
            name: Some("Default".into()),
        },
        data_expired_at: row.data_expired_at,
        created_at: row.created_at,
        beta: false,
        read_models: read_models(tool),
        write_actions: write_actions(tool),
    };
    Ok(Json(DataResponse::new(integration)))
}

/// `GET /tools/{category}` (`kombo.general.get_tools`): the tools atsbridge connects in a
/// category, each with its logos and what it covers, as the integration object reports it.
/// Sage HR is the ATS tool; the other categories have none yet.
async fn tools(
    _caller: Caller,
    Path(category): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<DataResponse<Value>>> {
    let tools: Vec<Value> = match category.as_str() {
        "ats" => TOOLS
            .iter()
            .map(|t| {
                let status = |s: CoverageStatus| serde_json::to_value(s).unwrap_or(Value::Null);
                let coverage = |list: &[Coverage], extra: &[(&str, &str)]| -> Vec<Value> {
                    list.iter()
                        .map(|c| {
                            json!({
                                "id": c.id,
                                "label": c.label,
                                "coverage_status": status(c.status),
                                "fields": c.fields.iter().map(|&(id, s)| json!({
                                    "id": id,
                                    "coverage_status": status(s),
                                })).collect::<Vec<_>>(),
                            })
                        })
                        .chain(extra.iter().map(|&(id, label)| {
                            json!({"id": id, "label": label, "coverage_status": status(U), "fields": []})
                        }))
                        .collect()
                };
                json!({
                    "id": t.slug,
                    "label": t.label,
                    "internal_label": null,
                    "assets": {
                        "logo_url": asset_url(&headers, t.logo),
                        "icon_url": asset_url(&headers, t.icon),
                        "icon_black_url": asset_url(&headers, t.icon),
                    },
                    "paid_api_details_markdown": null,
                    "fast_track_details_markdown": null,
                    "partner_only_details_markdown": null,
                    "connection_guide_url": null,
                    "coverage": {
                        "read_models": coverage(t.read_models, UNSUPPORTED_ATS_MODELS),
                        "write_actions": coverage(t.write_actions, &[]),
                        "features": [],
                    },
                })
            })
            .collect(),
        "hris" | "assessment" | "lms" => Vec::new(),
        other => {
            return Err(ApiError::invalid(
                "category",
                format!("`{other}` is not one of ats, hris, assessment, lms"),
            ))
        }
    };
    Ok(Json(DataResponse::new(json!({ "tools": tools }))))
}

/// `DELETE /integrations/{integration_id}`: stops a sync of it in progress, removes the
/// integration with its records, runs and credentials, and emits `integration-deleted`.
async fn delete_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DataResponse<Map<String, Value>>>> {
    let row = auth::integration_of(&state, &caller, &id).await?;
    // A run of this node ends (CANCELLED) before the records go; a run that starts after
    // this, or runs on another node, fails at its next write, which finds no integration.
    state.engine.stop(&row.id).await;
    if !state.store.delete_integration(&row.id).await? {
        // Deleted by a concurrent request.
        return Err(ApiError::new(
            ErrorCode::PlatformIntegrationNotFound,
            format!("no integration `{id}` in this environment"),
        ));
    }
    let now = Timestamp::now();
    let event = Event::IntegrationDeleted(IntegrationDeleted {
        id: row.id.clone(),
        tool: row.tool.clone(),
        category: Category::Ats,
        end_user: row.end_user.clone(),
        deleted_at: now,
    });
    // The store deletes and enqueues in two steps (it has no call doing both in one
    // transaction). The deletion is what the caller asked for, so a failed event write is
    // logged rather than turned into an error for a deletion that happened.
    if let Err(e) = state
        .store
        .enqueue_event_in(&row.environment_id, &NewEvent::new(event, now))
        .await
    {
        tracing::error!(error = ?e, integration_id = %row.id, "the integration-deleted event could not be written");
    }
    tracing::info!(integration_id = %row.id, "integration deleted");
    Ok(empty_data())
}

/// `PUT /integrations/{integration_id}/enabled` `{"value": bool}`. Disabling makes the
/// integration INACTIVE (no syncs, no passthrough; credentials kept) and stops a sync of it
/// in progress (it ends CANCELLED, sweeping nothing). Enabling makes it
/// ACTIVE again, unless its current credentials were rejected: then it is INVALID until
/// new credentials arrive.
async fn set_enabled(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<DataResponse<Map<String, Value>>>> {
    let row = auth::integration_of(&state, &caller, &id).await?;
    let body: EnabledBody = parse_json(&body, false)?;
    let credentials_rejected = row.invalid_credentials_version == Some(row.credentials_version);
    let status = match (body.value, row.status) {
        (false, _) => IntegrationStatus::Inactive,
        (true, IntegrationStatus::Invalid) => IntegrationStatus::Invalid,
        (true, _) if credentials_rejected => IntegrationStatus::Invalid,
        (true, _) => IntegrationStatus::Active,
    };
    if status != row.status {
        state.store.set_integration_status(&row.id, status).await?;
        let now = Timestamp::now();
        let event = Event::IntegrationStateChanged(IntegrationStateChanged {
            integration_tool: row.tool.clone(),
            integration_id: row.id.clone(),
            integration_category: Category::Ats,
            end_user: row.end_user.clone(),
            qa_status: QaStatus::Passed,
            setup_status: row.setup_status,
            state: status,
            updated_at: now,
        });
        state
            .store
            .enqueue_event(&NewEvent::new(event, now))
            .await?;
        tracing::info!(integration_id = %row.id, from = row.status.as_str(), to = status.as_str(), "integration status changed");
    }
    if status == IntegrationStatus::Inactive {
        // A run of this node ends (CANCELLED) before the answer; one on another node stops
        // at its next lease renewal.
        state.engine.stop(&row.id).await;
    }
    Ok(empty_data())
}

/// `GET /integrations/{integration_id}/settings` (an atsbridge addition): the integration's
/// attribution source and "sync only created applications" mode.
async fn get_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DataResponse<IntegrationSettings>>> {
    let row = auth::integration_of(&state, &caller, &id).await?;
    Ok(Json(DataResponse::new(row.settings)))
}

/// `PUT /integrations/{integration_id}/settings` `{"source_name"?: string|null,
/// "sync_only_created_applications"?: bool}` (an atsbridge addition). Fields left out keep
/// their value; `source_name: null` (or `""`) removes the attribution source. Answers the
/// settings now in force.
async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<DataResponse<IntegrationSettings>>> {
    let row = auth::integration_of(&state, &caller, &id).await?;
    let body: Map<String, Value> = parse_json(&body, false)?;
    let mut settings = row.settings.clone();
    for (field, value) in &body {
        match (field.as_str(), value) {
            ("source_name", Value::Null) => settings.source_name = None,
            ("source_name", Value::String(s)) => {
                let s = s.trim();
                if s.len() > 255 {
                    return Err(ApiError::invalid("source_name", "must be at most 255 characters"));
                }
                settings.source_name = (!s.is_empty()).then(|| s.to_owned());
            }
            ("source_name", _) => {
                return Err(ApiError::invalid("source_name", "must be a string or null"))
            }
            ("sync_only_created_applications", Value::Bool(b)) => {
                settings.sync_only_created_applications = *b;
            }
            ("sync_only_created_applications", _) => {
                return Err(ApiError::invalid(
                    "sync_only_created_applications",
                    "must be true or false",
                ))
            }
            (other, _) => {
                return Err(ApiError::invalid(
                    other,
                    "unknown setting; the settings are `source_name` and `sync_only_created_applications`",
                ))
            }
        }
    }
    if settings != row.settings {
        state.store.update_settings(&row.id, &settings).await?;
        tracing::info!(integration_id = %row.id, source_name = ?settings.source_name, only_created = settings.sync_only_created_applications, "integration settings changed");
    }
    Ok(Json(DataResponse::new(settings)))
}

/// How long `force-sync` waits for the run it started to get its id.
const RUN_START_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize)]
struct ForceSyncAnswer {
    already_queued: bool,
    sync_id: String,
    /// Always `FULL`: Sage HR has no delta API, so every run is a full listing.
    #[serde(rename = "type")]
    kind: &'static str,
}

/// The integration's RUNNING run, if its worker is alive: runs whose worker stopped renewing
/// the lease are recorded as failed first (and a replacement queued).
async fn live_run(state: &AppState, integration_id: &str) -> ApiResult<Option<RunRow>> {
    state.engine.reap_abandoned(Some(integration_id)).await?;
    let newest = state
        .store
        .runs(integration_id, 1)
        .await?
        .into_iter()
        .next();
    Ok(newest.filter(|r| r.state == RunState::Running))
}

/// `POST /force-sync` `{"type"?: "FULL"|"DELTA"}`.
///
/// At most one sync runs and one waits per integration (Kombo's rule). A run in progress is
/// the answer (`already_queued: true` and its id); a run whose worker stopped renewing its
/// lease is not in progress: it is recorded as failed first. Otherwise the request is queued
/// in the store (or found queued: `already_queued: true`) and a run is started at once in
/// the background to serve it; the scheduler would also pick the request up.
///
/// About `sync_id`: every run that serves a queued request is named after the request
/// (`atsbridge_sync::requested_run_id`), the run started here as well as a later one when
/// the lease is busy (another node's run) or the run is skipped. So the answer names the run
/// that serves the request, whichever node runs it and however late; we wait briefly
/// (`RUN_START_WAIT`) only to learn whether it started here.
async fn force_sync(
    State(state): State<AppState>,
    scoped: Scoped,
    body: Bytes,
) -> ApiResult<Json<DataResponse<ForceSyncAnswer>>> {
    let body: ForceSyncBody = parse_json(&body, true)?;
    let integration = scoped.integration;
    let id = integration.id.clone();
    match integration.status {
        IntegrationStatus::Inactive => {
            return Err(ApiError::new(ErrorCode::IntegrationInactive, format!("integration `{id}` is disabled; enable it with PUT /integrations/{id}/enabled")))
        }
        // A run would be skipped until new credentials arrive; say so instead of queueing
        // a sync that silently does not happen.
        IntegrationStatus::Invalid => {
            return Err(ApiError::new(
                ErrorCode::IntegrationAuthenticationInvalid,
                "Sage HR rejected this integration's credentials; syncing resumes once new credentials are provided",
            ))
        }
        IntegrationStatus::Active => {}
    }
    let requested = body.kind.unwrap_or(SyncKind::Full).as_str();
    let answer = |already_queued, sync_id| {
        Json(DataResponse::new(ForceSyncAnswer {
            already_queued,
            sync_id,
            kind: "FULL",
        }))
    };

    if let Some(run) = live_run(&state, &id).await? {
        return Ok(answer(true, run.id));
    }
    let now = Timestamp::now();
    let queued_now = state.store.request_sync(&id, requested, now).await?;
    // A request queued earlier (another call, or the replacement of a run whose worker died)
    // that nobody runs yet is served now as well.
    let queued_at = if queued_now {
        now
    } else {
        state
            .store
            .integration(&id)
            .await?
            .and_then(|r| r.sync_requested_at)
            .unwrap_or(now)
    };

    let (done_tx, done_rx) = oneshot::channel();
    let engine = state.engine.clone();
    let run_for = id.clone();
    let span = tracing::info_span!("force_sync", integration_id = %id);
    // Owned by the engine, not the request: the run continues after the answer is sent, and
    // a shutdown cancels it, records it and releases its lease.
    // Named after the request, like any run that serves it: the answer names the run
    // whether this one or, if the lease is busy, a later one serves the request.
    let named = atsbridge_sync::requested_run_id(&id, queued_at);
    let run = engine.spawn_run_as(run_for, requested.to_owned(), named.clone());
    tokio::spawn(
        async move {
            let outcome = run.await.unwrap_or_else(|e| {
                Err(atsbridge_store::StoreError::Corrupt(format!("the sync task failed: {e}")))
            });
            let ran = match outcome {
                Ok(Outcome::Ran(run)) => Some(run.id),
                Ok(Outcome::Busy) => {
                    tracing::info!("another worker is syncing this integration; the request stays queued for the scheduler");
                    None
                }
                Ok(Outcome::Skipped(why)) => {
                    tracing::info!(reason = why, "forced sync skipped; the request stays queued");
                    None
                }
                Err(e) => {
                    tracing::error!(error = ?e, "forced sync failed");
                    None
                }
            };
            let _ = done_tx.send(ran);
        }
        .instrument(span),
    );
    let sync_id = wait_for_run(&state, &named, done_rx).await.unwrap_or(named);
    Ok(answer(!queued_now, sync_id))
}

/// `run_id` once the run of that id (started by the caller) is recorded, or the id of the
/// run the background task reports; `None` if neither happens within `RUN_START_WAIT`.
async fn wait_for_run(
    state: &AppState,
    run_id: &str,
    mut done: oneshot::Receiver<Option<String>>,
) -> Option<String> {
    let deadline = tokio::time::Instant::now() + RUN_START_WAIT;
    let mut pause = Duration::from_millis(2);
    loop {
        tokio::select! {
            ran = &mut done => return ran.ok().flatten(),
            () = tokio::time::sleep(pause) => {}
        }
        if let Ok(Some(run)) = state.store.run(run_id).await {
            return Some(run.id);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

#[derive(Debug, Serialize)]
struct PassthroughAnswer {
    url: String,
    status: u16,
    headers: BTreeMap<String, String>,
    data: Value,
}

const PASSTHROUGH_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// A header or parameter value: strings as they are, numbers and booleans as text.
fn scalar(field: &str, value: &Value) -> ApiResult<String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(ApiError::invalid(
            field,
            "must be a string, number or boolean",
        )),
    }
}

/// Turns the body into the connector's request, or names what is wrong with it.
fn passthrough_request(
    body: PassthroughBody,
    warnings: &mut Vec<Warning>,
) -> ApiResult<PassthroughRequest> {
    let method = body.method.trim().to_ascii_uppercase();
    if !PASSTHROUGH_METHODS.contains(&method.as_str()) {
        return Err(ApiError::invalid(
            "method",
            format!(
                "`{}` is not one of {}",
                body.method,
                PASSTHROUGH_METHODS.join(", ")
            ),
        ));
    }
    let raw_path = body.path.trim();
    if raw_path.is_empty() {
        return Err(ApiError::invalid("path", "must not be empty"));
    }
    // A query written into the path is taken apart into parameters; explicit `params` win.
    let (path, query) = raw_path.split_once('?').unwrap_or((raw_path, ""));
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let path_ok = !path.starts_with("//")
        && !path
            .split('/')
            .any(|segment| segment == ".." || segment == ".")
        && !path.contains(['\\', '#', '@'])
        && !path.chars().any(|c| c.is_whitespace() || c.is_control());
    if !path_ok {
        return Err(ApiError::invalid(
            "path",
            format!(
                "`{}` must be a path under the Sage HR API, e.g. /recruitment/positions",
                body.path
            ),
        ));
    }
    let mut params = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        params.insert(k.into_owned(), v.into_owned());
    }
    for (k, v) in body.params.iter().flatten() {
        params.insert(k.clone(), scalar(&format!("params.{k}"), v)?);
    }
    let mut headers = BTreeMap::new();
    for (k, v) in body.headers.iter().flatten() {
        let field = format!("headers.{k}");
        let value = scalar(&field, v)?;
        if HeaderName::from_bytes(k.as_bytes()).is_err() {
            return Err(ApiError::invalid(&field, "is not a valid header name"));
        }
        if HeaderValue::from_str(&value).is_err() {
            return Err(ApiError::invalid(&field, "is not a valid header value"));
        }
        headers.insert(k.clone(), value);
    }
    if body
        .multipart_form_data
        .as_ref()
        .is_some_and(|v| !v.is_null())
    {
        return Err(ApiError::invalid(
            "multipart_form_data",
            "multipart bodies are not supported by this passthrough yet; send JSON in `data`",
        ));
    }
    if body
        .api_options
        .as_ref()
        .is_some_and(|v| !v.is_null() && v.as_object().is_none_or(|o| !o.is_empty()))
    {
        warnings.push(Warning::new(
            "`api_options` is ignored by the Sage HR passthrough",
        ));
    }
    Ok(PassthroughRequest {
        method,
        path,
        headers,
        params,
        body: body.data.filter(|v| !v.is_null()),
    })
}

/// The credential values that must never appear in an answer (everything but where the
/// account lives).
fn secrets(credentials: &Credentials) -> Vec<String> {
    credentials
        .0
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "subdomain" | "base_url"))
        .filter_map(|(_, v)| v.as_str())
        .filter(|s| s.len() >= 6)
        .map(str::to_owned)
        .collect()
}

fn scrub(text: &mut String, secrets: &[String]) {
    for secret in secrets {
        if text.contains(secret.as_str()) {
            *text = text.replace(secret.as_str(), "[redacted]");
        }
    }
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

fn scrub_value(value: &mut Value, secrets: &[String]) {
    match value {
        Value::String(s) => scrub(s, secrets),
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_value(v, secrets)),
        Value::Object(map) => map.values_mut().for_each(|v| scrub_value(v, secrets)),
        _ => {}
    }
}

/// `POST /passthrough/{tool}/{api}`: a raw call to the ATS with the integration's
/// credentials. The remote status is passed through in `data.status` (a remote 404 is a
/// 200 answer); only failures to get an answer at all are errors.
async fn passthrough(
    State(state): State<AppState>,
    scoped: Scoped,
    Path((tool, api)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<WriteResponse<PassthroughAnswer>>> {
    let integration = scoped.integration;
    if tool != integration.tool || api != "api" {
        return Err(ApiError::invalid(
            "path",
            format!(
                "integration `{}` is a {} integration; its passthrough is /passthrough/{}/api",
                integration.id, integration.tool, integration.tool
            ),
        ));
    }
    if integration.status == IntegrationStatus::Inactive {
        return Err(ApiError::new(
            ErrorCode::IntegrationInactive,
            format!("integration `{}` is disabled", integration.id),
        ));
    }
    let body: PassthroughBody = parse_json(&body, false)?;
    let mut warnings = Vec::new();
    let as_base64 = body.response_as_base64 == Some(true);
    let request = passthrough_request(body, &mut warnings)?;
    let credentials = state.store.credentials(&integration.id).await?;
    let connector = (state.connectors)(&integration, &credentials).map_err(connector_error)?;
    tracing::info!(method = %request.method, path = %request.path, "passthrough");
    let response = connector
        .passthrough(request)
        .await
        .map_err(|e| match e.kind {
            // Only our own checks of the request refuse input here (the connector builds the final
            // URL and refuses one that leaves the account's API); Sage HR's own answers, 422s
            // included, come back as a status.
            ConnectorErrorKind::InvalidInput(messages) => {
                ApiError::new(ErrorCode::PlatformInputInvalid, messages.join("; "))
            }
            _ => connector_error(e),
        })?;

    let secrets = secrets(&credentials);
    let mut url = response.url;
    scrub(&mut url, &secrets);
    let headers = response
        .headers
        .into_iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("x-auth-token"))
        .map(|(name, mut value)| {
            scrub(&mut value, &secrets);
            (name, value)
        })
        .collect();
    let data = if as_base64 {
        // Byte for byte (a file, say), with the credentials still kept out.
        let mut raw = response.raw_body;
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            raw = replace_bytes(&raw, secret.as_bytes(), b"[redacted]");
        }
        Value::String(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            raw,
        ))
    } else {
        let mut data = response.body;
        scrub_value(&mut data, &secrets);
        data
    };
    Ok(Json(WriteResponse::new(
        PassthroughAnswer {
            url,
            status: response.status,
            headers,
            data,
        },
        warnings,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_table_lists_every_kombo_model_once() {
        let models = read_models(tool_info("sagehr"));
        let mut ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "duplicate read model");
        for m in &models {
            let supported = [
                "ats_jobs",
                "ats_candidates",
                "ats_applications",
                "ats_application_stages",
            ]
            .contains(&m.id.as_str());
            assert_eq!(m.is_available, supported, "{}", m.id);
            assert_eq!(m.fields.is_empty(), !supported, "{}", m.id);
            let mut fields: Vec<&str> = m.fields.iter().map(|f| f.id.as_str()).collect();
            fields.sort_unstable();
            let n = fields.len();
            fields.dedup();
            assert_eq!(fields.len(), n, "duplicate field in {}", m.id);
        }
        let writes = write_actions(tool_info("sagehr"));
        assert_eq!(
            writes.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
            ["ats_create_application", "ats_create_candidate"]
        );
    }

    #[test]
    fn bodies_name_the_bad_field() {
        let e = parse_json::<EnabledBody>(br#"{"value": "yes"}"#, false).unwrap_err();
        assert!(
            e.message.starts_with("value: invalid type"),
            "{}",
            e.message
        );
        let e = parse_json::<EnabledBody>(b"{}", false).unwrap_err();
        assert!(e.message.contains("`value`"), "{}", e.message);
        let e = parse_json::<EnabledBody>(b"{\"value\": tru", false).unwrap_err();
        assert!(
            e.message.starts_with("body: malformed JSON"),
            "{}",
            e.message
        );
        let e = parse_json::<EnabledBody>(b"", false).unwrap_err();
        assert!(e.message.starts_with("body:"), "{}", e.message);
        let e = parse_json::<EnabledBody>(b"[true]", false).unwrap_err();
        assert!(e.message.contains("JSON object"), "{}", e.message);
        assert!(parse_json::<ForceSyncBody>(b"", true)
            .unwrap()
            .kind
            .is_none());
        let e = parse_json::<ForceSyncBody>(br#"{"type": "WEEKLY"}"#, true).unwrap_err();
        assert!(
            e.message.starts_with("type: unknown variant"),
            "{}",
            e.message
        );
        let e = parse_json::<ForceSyncBody>(br#"{} x"#, true).unwrap_err();
        assert!(
            e.message.starts_with("body: malformed JSON"),
            "{}",
            e.message
        );
    }

    #[test]
    fn passthrough_bodies_are_checked() {
        let parse = |v: Value| {
            let body: PassthroughBody = parse_json(v.to_string().as_bytes(), false)?;
            passthrough_request(body, &mut Vec::new())
        };
        let r = parse(json!({"method": "get", "path": "recruitment/positions?page=2", "params": {"per_page": 5}})).unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/recruitment/positions");
        assert_eq!(r.params.get("page").map(String::as_str), Some("2"));
        assert_eq!(r.params.get("per_page").map(String::as_str), Some("5"));
        assert!(parse(json!({"method": "FETCH", "path": "/x"}))
            .unwrap_err()
            .message
            .starts_with("method:"));
        assert!(parse(json!({"method": "GET", "path": "/../x"}))
            .unwrap_err()
            .message
            .starts_with("path:"));
        assert!(
            parse(json!({"method": "GET", "path": "/x", "headers": {"X-A": [1]}}))
                .unwrap_err()
                .message
                .starts_with("headers.X-A:")
        );
        assert!(
            parse(json!({"method": "GET", "path": "/x", "params": {"a": {}}}))
                .unwrap_err()
                .message
                .starts_with("params.a:")
        );
        assert!(parse(json!({"path": "/x"}))
            .unwrap_err()
            .message
            .contains("`method`"));
        assert!(parse(json!({"method": "GET", "path": 3}))
            .unwrap_err()
            .message
            .starts_with("path:"));
    }

    #[test]
    fn secrets_are_scrubbed() {
        let mut credentials = Credentials::default();
        credentials
            .0
            .insert("subdomain".into(), json!("acme-company"));
        credentials.0.insert("api_key".into(), json!("s3cr3t-key"));
        let secrets = secrets(&credentials);
        let mut v = json!({"a": ["token s3cr3t-key"], "b": "acme-company"});
        scrub_value(&mut v, &secrets);
        assert_eq!(v, json!({"a": ["token [redacted]"], "b": "acme-company"}));
    }
}
