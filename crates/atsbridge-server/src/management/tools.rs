//! What atsbridge connects and how well: the coverage table of each tool (what it can read
//! and write, field by field), `GET /tools/{category}`, the tool logos the integration object
//! points to (`/assets/…`), and the base URL links and logos are built from.

use atsbridge_model::integration::CoverageStatus::{self, Supported as S, Unsupported as U};
use atsbridge_model::integration::{
    ReadModel, ReadModelField, ScopeConfigSetting, WriteAction, WriteActionField,
};
use atsbridge_model::{DataResponse, ErrorCode};
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};

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

pub(super) fn read_models(tool: Option<&ToolInfo>) -> Vec<ReadModel> {
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

pub(super) fn write_actions(tool: Option<&ToolInfo>) -> Vec<WriteAction> {
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

pub(super) async fn asset(Path(file): Path<String>) -> Response {
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
/// Sage HR is the ATS tool; the other categories have none yet.
pub(super) async fn tools(
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
}
