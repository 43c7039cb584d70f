//! The six recruitment endpoints (R1–R6) of the Sage HR API, served per tenant at
//! `/{subdomain}/api/...`, plus the shared parts (auth, errors, endpoint names) that the
//! core-HR endpoints in `hris_api` use too.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::render;
use crate::state::{lock, Action, Applicant, Sim, Tenant, STATUSES};

/// The endpoints, named as the stats and fault filters name them.
pub const ENDPOINTS: &[&str] = &[
    "GET /recruitment/positions",
    "GET /recruitment/positions/{id}",
    "GET /recruitment/positions/{id}/applicants",
    "POST /recruitment/positions/{id}/applicants",
    "GET /recruitment/applicants/{id}",
    "GET /recruitment/applicants/{id}/actions",
    "GET /employees",
    "POST /employees",
    "GET /employees/{id}",
    "PUT /employees/{id}",
    "POST /employees/{id}/terminations",
    "POST /employees/{id}/rehire",
    "GET /employees/{id}/custom-fields",
    "GET /employees/{id}/compensations",
    "GET /employees/{id}/leave-management/balances",
    "GET /terminated-employees",
    "GET /terminated-employees/{id}",
    "GET /teams",
    "GET /positions",
    "GET /termination-reasons",
    "GET /leave-management/policies",
    "GET /leave-management/policies/{id}",
    "GET /leave-management/requests",
];

/// Which endpoint a request goes to, from its method and the path after `/api`.
pub fn endpoint_of(method: &str, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    // HEAD is a GET without a body, for counting and faults alike.
    let method = if method == "HEAD" { "GET" } else { method };
    let name = match (method, segments.as_slice()) {
        ("GET", ["recruitment", "positions"]) => ENDPOINTS[0],
        ("GET", ["recruitment", "positions", _]) => ENDPOINTS[1],
        ("GET", ["recruitment", "positions", _, "applicants"]) => ENDPOINTS[2],
        ("POST", ["recruitment", "positions", _, "applicants"]) => ENDPOINTS[3],
        ("GET", ["recruitment", "applicants", _]) => ENDPOINTS[4],
        ("GET", ["recruitment", "applicants", _, "actions"]) => ENDPOINTS[5],
        ("GET", ["employees"]) => "GET /employees",
        ("POST", ["employees"]) => "POST /employees",
        ("GET", ["employees", _]) => "GET /employees/{id}",
        ("PUT", ["employees", _]) => "PUT /employees/{id}",
        ("POST", ["employees", _, "terminations"]) => "POST /employees/{id}/terminations",
        ("POST", ["employees", _, "rehire"]) => "POST /employees/{id}/rehire",
        ("GET", ["employees", _, "custom-fields"]) => "GET /employees/{id}/custom-fields",
        ("GET", ["employees", _, "compensations"]) => "GET /employees/{id}/compensations",
        ("GET", ["employees", _, "leave-management", "balances"]) => {
            "GET /employees/{id}/leave-management/balances"
        }
        ("GET", ["terminated-employees"]) => "GET /terminated-employees",
        ("GET", ["terminated-employees", _]) => "GET /terminated-employees/{id}",
        ("GET", ["teams"]) => "GET /teams",
        ("GET", ["positions"]) => "GET /positions",
        ("GET", ["termination-reasons"]) => "GET /termination-reasons",
        ("GET", ["leave-management", "policies"]) => "GET /leave-management/policies",
        ("GET", ["leave-management", "policies", _]) => "GET /leave-management/policies/{id}",
        ("GET", ["leave-management", "requests"]) => "GET /leave-management/requests",
        _ => return None,
    };
    Some(name)
}

pub const DEFAULT_PER_PAGE: usize = 30;
pub const MAX_PER_PAGE: usize = 100;
/// The largest request body R4 accepts (Sage HR publishes no limit; CVs are small).
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// Sage HR's error envelope: `{"error_code": "...", "errors": ["..."]}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    errors: Vec<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, errors: Vec<String>) -> Self {
        ApiError {
            status,
            code,
            errors,
        }
    }

    /// The status and what the body would say, for logs of actions that have no response.
    pub(crate) fn describe(&self) -> String {
        let mut text = format!("{} {}", self.status.as_u16(), self.code);
        if !self.errors.is_empty() {
            text.push_str(": ");
            text.push_str(&self.errors.join("; "));
        }
        text
    }

    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    pub(crate) fn messages(&self) -> &[String] {
        &self.errors
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", vec![])
    }

    pub(crate) fn validation(errors: Vec<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            errors,
        )
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", vec![message.into()])
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error_code": self.code, "errors": self.errors});
        (self.status, Json(body)).into_response()
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

pub fn router() -> Router<Sim> {
    Router::new()
        .route(
            "/{subdomain}/api/recruitment/positions",
            get(positions_list),
        )
        .route(
            "/{subdomain}/api/recruitment/positions/{id}",
            get(positions_view),
        )
        .route(
            "/{subdomain}/api/recruitment/positions/{id}/applicants",
            get(applicants_list).post(crate::create::applicants_create),
        )
        .route(
            "/{subdomain}/api/recruitment/applicants/{id}",
            get(applicants_view),
        )
        .route(
            "/{subdomain}/api/recruitment/applicants/{id}/actions",
            get(actions_list),
        )
        .merge(crate::hris_api::router())
        .route("/{subdomain}/api", any(unknown_route))
        .route("/{subdomain}/api/", any(unknown_route))
        .route("/{subdomain}/api/{*rest}", any(unknown_route))
        .method_not_allowed_fallback(unknown_route)
}

/// The tenant of a request and the employee whose key it carries. An unknown subdomain is a
/// 404 (there is no such host); a missing or unknown key is a 401.
pub(crate) fn authenticate(
    sim: &Sim,
    subdomain: &str,
    headers: &HeaderMap,
) -> Result<(Arc<Mutex<Tenant>>, u64), ApiError> {
    let tenant = sim.tenant(subdomain).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            vec![format!("No Sage HR account at subdomain `{subdomain}`")],
        )
    })?;
    let unauthorized = |message: &str| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            vec![message.into()],
        )
    };
    let key = headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
        .ok_or_else(|| unauthorized("X-Auth-Token header is missing"))?;
    let (employee, forbidden) = {
        let t = lock(&tenant);
        (t.api_keys.get(key).copied(), t.forbidden_keys.contains(key))
    };
    let employee = employee.ok_or_else(|| unauthorized("Invalid or revoked API token"))?;
    if forbidden {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            vec!["You are not allowed to access this resource".into()],
        ));
    }
    Ok((tenant, employee))
}

/// Anything that is not R1–R6, including a wrong method on their paths: Sage HR's 404 for a
/// tenant's authenticated caller (the control API keeps axum's plain 405).
async fn unknown_route(
    State(sim): State<Sim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    if path.starts_with("/_sim/") {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let subdomain = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    tracing::debug!(%method, %path, "no such Sage HR endpoint");
    match authenticate(&sim, subdomain, &headers) {
        Ok(_) => ApiError::not_found().into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) fn parse_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn single<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Every value of `name[]` (Rails' repeated-bracket style; a plain `name` counts too).
fn ids(pairs: &[(String, String)], name: &str) -> Result<Vec<u64>, ApiError> {
    let bracketed = format!("{name}[]");
    pairs
        .iter()
        .filter(|(k, _)| *k == bracketed || k == name)
        .map(|(_, v)| {
            v.trim().parse().map_err(|_| {
                ApiError::bad_request(format!("{bracketed} must be integers, got `{v}`"))
            })
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
struct PageParams {
    page: usize,
    per_page: usize,
}

/// `page` (1-based, default 1) and `per_page` (default 30, clamped to 100); a page below 1, a
/// per_page below 1 or a non-number is a 400.
fn page_params(pairs: &[(String, String)]) -> Result<PageParams, ApiError> {
    let number = |name: &str, default: usize| -> Result<usize, ApiError> {
        match single(pairs, name) {
            None | Some("") => Ok(default),
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(ApiError::bad_request(format!(
                    "{name} must be a positive integer, got `{v}`"
                ))),
            },
        }
    };
    Ok(PageParams {
        page: number("page", 1)?,
        per_page: number("per_page", DEFAULT_PER_PAGE)?.min(MAX_PER_PAGE),
    })
}

/// One page of `items` and will_paginate's `meta` block.
fn paginate<T: Clone>(items: &[T], p: PageParams) -> (Vec<T>, Value) {
    let total = items.len();
    let total_pages = total.div_ceil(p.per_page);
    let start = (p.page - 1).saturating_mul(p.per_page).min(total);
    let end = start.saturating_add(p.per_page).min(total);
    let meta = json!({
        "current_page": p.page,
        "next_page": (p.page < total_pages).then_some(p.page + 1),
        "previous_page": (p.page > 1).then_some(p.page - 1),
        "total_pages": total_pages,
        "per_page": p.per_page,
        "total_entries": total,
    });
    (items[start..end].to_vec(), meta)
}

fn list(data: Vec<Value>, meta: Value) -> Response {
    Json(json!({"data": data, "meta": meta})).into_response()
}

/// R1. Positions ordered by priority, then id.
async fn positions_list(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let pairs = query_pairs(q.as_deref());
    let page = page_params(&pairs)?;
    let status = single(&pairs, "status")
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let managers = ids(&pairs, "hiring_manager_ids")?;
    let groups = ids(&pairs, "group_ids")?;
    let locations = ids(&pairs, "location_ids")?;
    let t = lock(&tenant);
    let mut matching: Vec<_> = t
        .positions
        .values()
        .filter(|p| match status.as_deref() {
            None => true,
            // `open` is the example of the reference's own parameter description; it is
            // taken as the statuses that accept applicants.
            Some("open") => p.is_open(),
            Some(s) => p.status == s,
        })
        .filter(|p| {
            managers.is_empty()
                || p.hiring_team
                    .iter()
                    .any(|m| m.role == "hiring_manager" && managers.contains(&m.employee_id))
        })
        .filter(|p| groups.is_empty() || groups.contains(&p.group_id))
        .filter(|p| locations.is_empty() || p.location_id.is_some_and(|l| locations.contains(&l)))
        .collect();
    matching.sort_by_key(|p| (p.priority, p.id));
    let (rows, meta) = paginate(&matching, page);
    Ok(list(
        rows.iter().map(|p| render::position(&t, p)).collect(),
        meta,
    ))
}

/// R2.
async fn positions_view(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let id = parse_id(&id)?;
    let t = lock(&tenant);
    let p = t.positions.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(Json(json!({"data": render::position_detail(&t, p)})).into_response())
}

/// R3. Applicants in creation order, optionally of one stage.
async fn applicants_list(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let id = parse_id(&id)?;
    let pairs = query_pairs(q.as_deref());
    let page = page_params(&pairs)?;
    let stage = match single(&pairs, "stage_id").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(s.trim().parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("stage_id must be an integer, got `{s}`"))
        })?),
    };
    let t = lock(&tenant);
    if !t.positions.contains_key(&id) {
        return Err(ApiError::not_found());
    }
    let matching: Vec<&Applicant> = t
        .by_position
        .get(&id)
        .into_iter()
        .flatten()
        .filter_map(|a| t.applicants.get(a))
        .filter(|a| stage.is_none_or(|s| a.stage_id == s))
        .collect();
    let (rows, meta) = paginate(&matching, page);
    Ok(list(
        rows.iter().map(|a| render::applicant(&t, a)).collect(),
        meta,
    ))
}

/// R5.
async fn applicants_view(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let id = parse_id(&id)?;
    let t = lock(&tenant);
    let a = t.applicants.get(&id).ok_or_else(ApiError::not_found)?;
    Ok(Json(json!({"data": render::applicant_detail(&t, a)})).into_response())
}

/// R6. Newest first.
async fn actions_list(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let id = parse_id(&id)?;
    let page = page_params(&query_pairs(q.as_deref()))?;
    let t = lock(&tenant);
    let a = t.applicants.get(&id).ok_or_else(ApiError::not_found)?;
    let newest_first: Vec<&Action> = a.actions.iter().rev().collect();
    let (rows, meta) = paginate(&newest_first, page);
    Ok(list(rows.iter().map(|a| render::action(a)).collect(), meta))
}

pub fn now_seconds() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every status a position can have, for validation in the control API.
pub fn is_status(s: &str) -> bool {
    STATUSES.contains(&s)
}
