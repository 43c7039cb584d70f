//! What atsbridge connects and how well, as each tool's descriptor says (the registry in
//! `AppState::tools`): coverage in Kombo's shapes, `GET /tools/{category}`, the tool logos the
//! integration object points to (`/assets/…`), and the base URL links and logos are built from.

use atsbridge_model::integration::CoverageStatus::{self, Supported as S, Unsupported as U};
use atsbridge_model::integration::{
    Category, ReadModel, ReadModelField, ScopeConfigSetting, WriteAction, WriteActionField,
};
use atsbridge_model::tool::{Coverage, ToolDescriptor};
use atsbridge_model::{DataResponse, ErrorCode};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

pub(super) fn read_models(tool: Option<&ToolDescriptor>) -> Vec<ReadModel> {
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
        tool.missing_models
            .iter()
            .map(|&(id, label)| model(id, label, U, &[])),
    );
    out
}

pub(super) fn write_actions(tool: Option<&ToolDescriptor>) -> Vec<WriteAction> {
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

pub(super) async fn asset(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    // `{slug}-logo.svg` and `{slug}-icon.svg`, as `logo_file` and `icon_file` name them.
    let svg = file.strip_suffix(".svg").and_then(|name| {
        let (slug, kind) = name.rsplit_once('-')?;
        let tool = state.tools.by_slug(slug)?;
        match kind {
            "logo" => Some(tool.logo_svg),
            "icon" => Some(tool.icon_svg),
            _ => None,
        }
    });
    let Some(svg) = svg else {
        return ApiError::new(
            ErrorCode::PlatformInputInvalid,
            format!("no asset `{file}`"),
        )
        .into_response();
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

/// The file names of a tool's logo and icon under `/assets/`.
pub(super) fn logo_file(tool: &ToolDescriptor) -> String {
    format!("{}-logo.svg", tool.slug)
}

pub(super) fn icon_file(tool: &ToolDescriptor) -> String {
    format!("{}-icon.svg", tool.slug)
}

/// The absolute URL of an asset as the caller reached us.
pub(super) fn asset_url(headers: &HeaderMap, file: &str) -> String {
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

/// `GET /tools/{category}` (`kombo.general.get_tools`): the tools atsbridge connects in a
/// category, each with its logos and what it covers, as the integration object reports it.
/// The tools are the registry's (`AppState::tools`).
pub(super) async fn tools(
    State(state): State<AppState>,
    _caller: Caller,
    Path(category): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<DataResponse<Value>>> {
    let category = match category.as_str() {
        "ats" => Category::Ats,
        "hris" => Category::Hris,
        "assessment" => Category::Assessment,
        "lms" => Category::Lms,
        other => {
            return Err(ApiError::invalid(
                "category",
                format!("`{other}` is not one of ats, hris, assessment, lms"),
            ))
        }
    };
    let tools: Vec<Value> = state
        .tools
        .in_category(category)
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
                        "logo_url": asset_url(&headers, &logo_file(t)),
                        "icon_url": asset_url(&headers, &icon_file(t)),
                        "icon_black_url": asset_url(&headers, &icon_file(t)),
                    },
                    "paid_api_details_markdown": null,
                    "fast_track_details_markdown": null,
                    "partner_only_details_markdown": null,
                    "connection_guide_url": null,
                    "coverage": {
                        "read_models": coverage(t.read_models, t.missing_models),
                        "write_actions": coverage(t.write_actions, &[]),
                        "features": [],
                    },
                })
            })
        .collect();
    Ok(Json(DataResponse::new(json!({ "tools": tools }))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_table_lists_every_kombo_model_once() {
        let models = read_models(Some(&atsbridge_sagehr::descriptor::DESCRIPTOR));
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
        let writes = write_actions(Some(&atsbridge_sagehr::descriptor::DESCRIPTOR));
        assert_eq!(
            writes.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
            ["ats_create_application", "ats_create_candidate"]
        );
    }
}
