//! The six recruitment endpoints (R1–R6) of the Sage HR API, served per tenant at
//! `/{subdomain}/api/...`.

use std::sync::{Arc, Mutex};

use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::render;
use crate::state::{lock, Action, Applicant, ReceivedFile, Referrer, Sim, Tenant, STATUSES};

/// The endpoints, named as the stats and fault filters name them.
pub const ENDPOINTS: &[&str] = &[
    "GET /recruitment/positions",
    "GET /recruitment/positions/{id}",
    "GET /recruitment/positions/{id}/applicants",
    "POST /recruitment/positions/{id}/applicants",
    "GET /recruitment/applicants/{id}",
    "GET /recruitment/applicants/{id}/actions",
];

/// Which endpoint a request goes to, from its method and the path after `/api`.
pub fn endpoint_of(method: &str, path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let name = match (method, segments.as_slice()) {
        ("GET", ["recruitment", "positions"]) => ENDPOINTS[0],
        ("GET", ["recruitment", "positions", _]) => ENDPOINTS[1],
        ("GET", ["recruitment", "positions", _, "applicants"]) => ENDPOINTS[2],
        ("POST", ["recruitment", "positions", _, "applicants"]) => ENDPOINTS[3],
        ("GET", ["recruitment", "applicants", _]) => ENDPOINTS[4],
        ("GET", ["recruitment", "applicants", _, "actions"]) => ENDPOINTS[5],
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

    fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", vec![])
    }

    fn validation(errors: Vec<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            errors,
        )
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", vec![message.into()])
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error_code": self.code, "errors": self.errors});
        (self.status, Json(body)).into_response()
    }
}

type ApiResult = Result<Response, ApiError>;

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
            get(applicants_list).post(applicants_create),
        )
        .route(
            "/{subdomain}/api/recruitment/applicants/{id}",
            get(applicants_view),
        )
        .route(
            "/{subdomain}/api/recruitment/applicants/{id}/actions",
            get(actions_list),
        )
        .route(
            "/{subdomain}/api/{*rest}",
            axum::routing::any(unknown_route),
        )
}

/// The tenant of a request and the employee whose key it carries. An unknown subdomain is a
/// 404 (there is no such host); a missing or unknown key is a 401.
fn authenticate(
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
    let employee = lock(&tenant)
        .api_keys
        .get(key)
        .copied()
        .ok_or_else(|| unauthorized("Invalid or revoked API token"))?;
    Ok((tenant, employee))
}

async fn unknown_route(
    State(sim): State<Sim>,
    Path((subdomain, _rest)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    authenticate(&sim, &subdomain, &headers)?;
    Err(ApiError::not_found())
}

fn parse_id(raw: &str) -> Result<u64, ApiError> {
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

/// What R4 received, from whichever body form.
#[derive(Debug, Default)]
struct NewApplicant {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone_number: Option<String>,
    address: Option<String>,
    summary: Option<String>,
    source: Option<String>,
    referral: Option<NewReferral>,
    attachment: Option<Upload>,
}

#[derive(Debug, Default)]
struct NewReferral {
    full_name: Option<String>,
    email: Option<String>,
    phone_number: Option<String>,
}

#[derive(Debug)]
struct Upload {
    name: String,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

impl NewApplicant {
    /// Takes one bracketed form field (`applicant[first_name]`, `applicant[referral][email]`).
    /// Unknown names are ignored, like Rails' strong parameters do.
    fn set(&mut self, name: &str, value: String) {
        let value = Some(value);
        match name {
            "applicant[first_name]" => self.first_name = value,
            "applicant[last_name]" => self.last_name = value,
            "applicant[email]" => self.email = value,
            "applicant[phone_number]" => self.phone_number = value,
            "applicant[address]" => self.address = value,
            "applicant[summary]" => self.summary = value,
            "applicant[source]" => self.source = value,
            "applicant[referral][full_name]" => {
                self.referral.get_or_insert_with(Default::default).full_name = value;
            }
            "applicant[referral][email]" => {
                self.referral.get_or_insert_with(Default::default).email = value;
            }
            "applicant[referral][phone_number]" => {
                self.referral
                    .get_or_insert_with(Default::default)
                    .phone_number = value;
            }
            _ => {}
        }
    }

    fn from_json(body: &Value) -> Result<Self, ApiError> {
        let Some(a) = body.get("applicant").filter(|a| a.is_object()) else {
            return Err(ApiError::bad_request(
                "param is missing or the value is empty: applicant",
            ));
        };
        if a.get("attachment").is_some_and(|v| !v.is_null()) {
            return Err(ApiError::validation(vec![
                "Attachment can only be uploaded as a multipart/form-data file part".into(),
            ]));
        }
        let text = |v: Option<&Value>| match v {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        };
        let referral = a
            .get("referral")
            .filter(|r| r.is_object())
            .map(|r| NewReferral {
                full_name: text(r.get("full_name")),
                email: text(r.get("email")),
                phone_number: text(r.get("phone_number")),
            });
        Ok(NewApplicant {
            first_name: text(a.get("first_name")),
            last_name: text(a.get("last_name")),
            email: text(a.get("email")),
            phone_number: text(a.get("phone_number")),
            address: text(a.get("address")),
            summary: text(a.get("summary")),
            source: text(a.get("source")),
            referral,
            attachment: None,
        })
    }

    async fn from_multipart(mut form: Multipart) -> Result<Self, ApiError> {
        let mut new = NewApplicant::default();
        let broken = |e: axum::extract::multipart::MultipartError| {
            ApiError::bad_request(format!("malformed multipart body: {e}"))
        };
        while let Some(field) = form.next_field().await.map_err(broken)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "applicant[attachment]" {
                let file_name = field.file_name().unwrap_or("attachment").to_owned();
                let content_type = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(broken)?.to_vec();
                new.attachment = Some(Upload {
                    name: file_name,
                    content_type,
                    bytes,
                });
            } else {
                let value = field.text().await.map_err(broken)?;
                new.set(&name, value);
            }
        }
        Ok(new)
    }
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|s| s.trim().is_empty())
}

fn non_blank(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

fn email_looks_valid(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s.contains(char::is_whitespace)
    })
}

/// The built-in sources; anything else becomes a custom source.
const BUILT_IN_SOURCES: [&str; 4] = ["company_marketing", "recruiters", "referral", "sourced"];

/// R4. Accepts multipart (the documented form), JSON and url-encoded bodies.
async fn applicants_create(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    request: Request,
) -> ApiResult {
    let (tenant, employee) = authenticate(&sim, &subdomain, request.headers())?;
    let id = parse_id(&id)?;
    {
        let t = lock(&tenant);
        let position = t.positions.get(&id).ok_or_else(ApiError::not_found)?;
        if !position.is_open() {
            return Err(ApiError::validation(vec![format!(
                "Position is not accepting applicants (its status is {})",
                position.status
            )]));
        }
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let new = if content_type.starts_with("multipart/form-data") {
        let form = Multipart::from_request(request, &())
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        NewApplicant::from_multipart(form).await?
    } else {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    vec!["Request body is too large".into()],
                )
            })?;
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let mut new = NewApplicant::default();
            for (k, v) in form_urlencoded::parse(&bytes) {
                new.set(&k, v.into_owned());
            }
            new
        } else {
            let body: Value = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::bad_request(format!("body is not valid JSON: {e}")))?;
            NewApplicant::from_json(&body)?
        }
    };

    let mut t = lock(&tenant);
    // Checked again under the lock the insert uses: the position may have changed meanwhile.
    let position = t.positions.get(&id).ok_or_else(ApiError::not_found)?;
    if !position.is_open() {
        return Err(ApiError::validation(vec![format!(
            "Position is not accepting applicants (its status is {})",
            position.status
        )]));
    }
    let first_stage = position.stages.first().map(|s| s.id).unwrap_or_default();
    let mut errors = Vec::new();
    if blank(&new.first_name) {
        errors.push("First name can't be blank".to_owned());
    }
    let email = non_blank(new.email.clone()).map(|e| e.trim().to_owned());
    if let Some(e) = &email {
        if !email_looks_valid(e) {
            errors.push("Email is invalid".to_owned());
        } else if t
            .by_position
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|a| t.applicants.get(a))
            .any(|a| {
                a.email
                    .as_deref()
                    .is_some_and(|other| other.eq_ignore_ascii_case(e))
            })
        {
            errors.push("Email has already been taken".to_owned());
        }
    }
    if let Some(r) = &new.referral {
        if blank(&r.full_name) && blank(&r.email) {
            errors.push("Referral must have a full name or an email".to_owned());
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }

    let source = if new.referral.is_some() {
        "referral".to_owned()
    } else {
        match non_blank(new.source.clone()) {
            None => "api".to_owned(),
            Some(s) => {
                let s = s.trim().to_owned();
                if !BUILT_IN_SOURCES.contains(&s.as_str()) && s != "api" {
                    t.custom_sources.insert(s.clone());
                }
                s
            }
        }
    };
    let now = now_seconds();
    let applicant_id = t.next_id();
    let referrer = match new.referral {
        Some(r) => Some(Referrer {
            id: t.next_id(),
            full_name: r.full_name.unwrap_or_default(),
            email: non_blank(r.email),
            phone_number: non_blank(r.phone_number),
        }),
        None => None,
    };
    let mut actions = vec![Action {
        action: "applicant_created".into(),
        message: "Applicant created".into(),
        created_at: now,
    }];
    if let Some(upload) = &new.attachment {
        actions.push(Action {
            action: "document_created".into(),
            message: format!("Uploaded \"{}\"", upload.name),
            created_at: now,
        });
        let file = ReceivedFile {
            name: upload.name.clone(),
            content_type: upload.content_type.clone(),
            size: upload.bytes.len(),
            sha256: hex(&Sha256::digest(&upload.bytes)),
        };
        t.files.entry(applicant_id).or_default().push(file);
    }
    t.insert_applicant(Applicant {
        id: applicant_id,
        position_id: id,
        first_name: new.first_name.unwrap_or_default().trim().to_owned(),
        last_name: non_blank(new.last_name),
        email,
        phone_number: non_blank(new.phone_number),
        address: non_blank(new.address),
        summary: non_blank(new.summary),
        source,
        created_at: now,
        disqualified_date: None,
        hired_date: None,
        stage_id: first_stage,
        added_by: Some(employee),
        referrer,
        actions,
    });
    Ok((
        StatusCode::CREATED,
        Json(json!({"data": {"id": applicant_id}})),
    )
        .into_response())
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
