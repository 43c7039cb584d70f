//! One integration: `GET` and `DELETE /integrations/{id}`, enabling and disabling it, and its
//! atsbridge settings (attribution source, "sync only created applications").

use atsbridge_model::event::{Event, IntegrationDeleted, IntegrationStateChanged, QaStatus};
use atsbridge_model::integration::{Category, Integration, IntegrationStatus, ScopeConfig, Tool};
use atsbridge_model::{DataResponse, ErrorCode, Timestamp};
use atsbridge_store::{IntegrationRow, IntegrationSettings, NewEvent};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::tools::{asset_url, icon_file, logo_file, read_models, write_actions};
use super::{empty_data, Empty};
use crate::auth::{self, Caller};
use crate::body::{KomboBody, LaterJson};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(expecting = "a JSON object like {\"value\": true}")]
pub(crate) struct EnabledBody {
    value: bool,
}

impl KomboBody for EnabledBody {}

/// `GET /integrations/{integration_id}`
pub(super) async fn get_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<DataResponse<Integration>>> {
    let row = auth::integration_of(&state, &caller, &id).await?;
    let tool = state.tools.get(&row.tool, row.category);
    let (label, logo, icon) = match tool {
        Some(t) => (
            t.label.to_owned(),
            asset_url(&headers, &logo_file(t)),
            asset_url(&headers, &icon_file(t)),
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
        category: row.category,
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

/// `DELETE /integrations/{integration_id}`: stops a sync of it in progress, removes the
/// integration with its records, runs and credentials, and emits `integration-deleted`.
pub(super) async fn delete_integration(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Empty> {
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
        category: row.category,
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
pub(super) async fn set_enabled(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: LaterJson<EnabledBody>,
) -> ApiResult<Empty> {
    let row = auth::integration_of(&state, &caller, &id).await?;
    let body = body.take()?;
    change_enabled(&state, &row, body.value).await?;
    Ok(empty_data())
}

/// Enables or disables an integration as `set_enabled` describes (the operator dashboard's
/// buttons go through here too).
pub(crate) async fn change_enabled(
    state: &AppState,
    row: &IntegrationRow,
    value: bool,
) -> ApiResult<()> {
    let credentials_rejected = row.invalid_credentials_version == Some(row.credentials_version);
    let status = match (value, row.status) {
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
            integration_category: row.category,
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
    Ok(())
}

/// `GET /integrations/{integration_id}/settings` (an atsbridge addition): the integration's
/// attribution source and "sync only created applications" mode.
pub(super) async fn get_settings(
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
pub(super) async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: LaterJson<Map<String, Value>>,
) -> ApiResult<Json<DataResponse<IntegrationSettings>>> {
    let row = auth::integration_of(&state, &caller, &id).await?;
    let body = body.take()?;
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
            // Applications exist only in the ATS category; an HRIS integration reads every
            // employee, and turning the mode on there would silently mean nothing.
            ("sync_only_created_applications", Value::Bool(true))
                if row.category != Category::Ats =>
            {
                return Err(ApiError::invalid(
                    "sync_only_created_applications",
                    format!(
                        "applies to ATS integrations only; `{}` is an {} integration, which syncs every record",
                        row.id,
                        row.category.as_str()
                    ),
                ))
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
