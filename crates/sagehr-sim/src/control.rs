//! The control API under `/_sim/...`: what a recruiter would do in the Sage HR web app (move,
//! hire, disqualify, delete applicants; create, change, delete positions), what an admin does
//! with API keys, and test hooks (faults, data changes at the nth request, request counters,
//! received files, new tenants).
//! It needs no key: it stands for the people and infrastructure around the API.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Digest as _;
use time::macros::format_description;
use time::Date;

use crate::api::{is_status, now_seconds};
use crate::faults::FaultSpec;
use crate::generate::{generate, pipeline, TenantConfig};
use crate::hooks::HookSpec;
use crate::render;
use crate::state::{lock, Action, DescriptionBlock, HiringMember, Position, Sim, Tenant};

/// Control errors: `{"error": "..."}` (deliberately unlike Sage HR's own envelope).
#[derive(Debug)]
pub struct ControlError(StatusCode, String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

impl ControlError {
    pub(crate) fn message(&self) -> &str {
        &self.1
    }

    /// A Sage HR API error (from the write logic the control API shares with the API) in the
    /// control API's own shape.
    pub(crate) fn from_api(e: &crate::api::ApiError) -> Self {
        ControlError(e.status(), e.messages().join("; "))
    }
}

pub(crate) fn not_found(what: &str) -> ControlError {
    ControlError(StatusCode::NOT_FOUND, format!("{what} not found"))
}

pub(crate) fn invalid(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::UNPROCESSABLE_ENTITY, message.into())
}

pub(crate) fn bad_request(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message.into())
}

type ControlResult = Result<Response, ControlError>;

/// A JSON body that answers malformed input with the control API's own error.
pub(crate) struct Body<T>(pub(crate) T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = ControlError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ControlError(StatusCode::BAD_REQUEST, e.body_text()))?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(text)
            .map(Body)
            .map_err(|e| ControlError(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
    }
}

pub fn router() -> Router<Sim> {
    Router::new()
        .route("/_sim/tenants", get(tenants_list).post(tenants_create))
        .route(
            "/_sim/{subdomain}/applicants/{id}",
            delete(applicants_delete),
        )
        .route(
            "/_sim/{subdomain}/applicants/{id}/move",
            post(applicants_move),
        )
        .route(
            "/_sim/{subdomain}/applicants/{id}/hire",
            post(applicants_hire),
        )
        .route(
            "/_sim/{subdomain}/applicants/{id}/disqualify",
            post(applicants_disqualify),
        )
        .route("/_sim/{subdomain}/applicants/{id}/files", get(files_list))
        .route(
            "/_sim/{subdomain}/applicants/{id}/restore",
            post(applicants_restore),
        )
        .route(
            "/_sim/{subdomain}/positions/{id}/restore",
            post(positions_restore),
        )
        .route("/_sim/{subdomain}/positions", post(positions_create))
        .route(
            "/_sim/{subdomain}/positions/{id}",
            axum::routing::patch(positions_update).delete(positions_delete),
        )
        .route(
            "/_sim/{subdomain}/faults",
            post(faults_add).delete(faults_clear),
        )
        .route(
            "/_sim/{subdomain}/hooks",
            get(hooks_view).post(hooks_add).delete(hooks_clear),
        )
        .route(
            "/_sim/{subdomain}/stats",
            get(stats_view).delete(stats_reset),
        )
        .route("/_sim/{subdomain}/keys", get(keys_list).post(keys_add))
        .route("/_sim/{subdomain}/keys/regenerate", post(keys_regenerate))
        .route("/_sim/{subdomain}/keys/{key}", delete(keys_revoke))
        .route(
            "/_sim/{subdomain}/keys/{key}/forbid",
            post(keys_forbid).delete(keys_allow),
        )
        .merge(crate::hris_control::router())
}

pub(crate) fn with_tenant<R>(
    sim: &Sim,
    subdomain: &str,
    f: impl FnOnce(&mut Tenant) -> Result<R, ControlError>,
) -> Result<R, ControlError> {
    let tenant = sim
        .tenant(subdomain)
        .ok_or_else(|| not_found(&format!("tenant `{subdomain}`")))?;
    let mut t = lock(&tenant);
    f(&mut t)
}

pub(crate) fn parse_date(s: &str) -> Result<Date, ControlError> {
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map_err(|_| invalid(format!("`{s}` is not a YYYY-MM-DD date")))
}

pub(crate) fn ok(data: Value) -> Response {
    Json(json!({"data": data})).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    subdomain: String,
    api_key: String,
    seed: Option<u64>,
    positions: Option<usize>,
    applicants_per_position: Option<usize>,
    employees: Option<usize>,
    today: Option<String>,
}

async fn tenants_list(State(sim): State<Sim>) -> Response {
    ok(json!(sim.subdomains()))
}

/// Adds a tenant with generated data (no positions unless asked for).
async fn tenants_create(State(sim): State<Sim>, Body(body): Body<NewTenant>) -> ControlResult {
    let valid = !body.subdomain.is_empty()
        && body
            .subdomain
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid || body.subdomain == "_sim" {
        return Err(invalid(
            "subdomain must be lower-case letters, digits and hyphens",
        ));
    }
    if body.api_key.is_empty() {
        return Err(invalid("api_key must not be empty"));
    }
    if sim.tenant(&body.subdomain).is_some() {
        return Err(ControlError(
            StatusCode::CONFLICT,
            format!("tenant `{}` exists", body.subdomain),
        ));
    }
    let config = TenantConfig {
        subdomain: body.subdomain.clone(),
        api_key: body.api_key.clone(),
        seed: body.seed.unwrap_or(1),
        positions: body.positions.unwrap_or(0),
        applicants_per_position: body.applicants_per_position.unwrap_or(0),
        employees: body.employees.unwrap_or(40),
        today: body.today.as_deref().map(parse_date).transpose()?,
    };
    sim.insert_tenant(generate(&config));
    Ok((
        StatusCode::CREATED,
        Json(json!({"data": {"subdomain": body.subdomain, "api_key": body.api_key}})),
    )
        .into_response())
}

fn applicant_id(raw: &str) -> Result<u64, ControlError> {
    raw.parse().map_err(|_| not_found("applicant"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Move {
    stage_id: u64,
}

async fn applicants_move(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    Body(body): Body<Move>,
) -> ControlResult {
    let id = applicant_id(&id)?;
    with_tenant(&sim, &subdomain, |t| {
        let a = t
            .applicants
            .get(&id)
            .ok_or_else(|| not_found("applicant"))?;
        let from = t
            .stage(a.position_id, a.stage_id)
            .map(|s| s.title.clone())
            .unwrap_or_default();
        let to = t
            .stage(a.position_id, body.stage_id)
            .ok_or_else(|| {
                invalid(format!(
                    "stage {} is not a stage of position {}",
                    body.stage_id, a.position_id
                ))
            })?
            .title
            .clone();
        let a = t
            .applicants
            .get_mut(&id)
            .ok_or_else(|| not_found("applicant"))?;
        a.stage_id = body.stage_id;
        a.actions.push(Action {
            action: "moved_between_stages".into(),
            message: format!("Applicant moved from \"{from}\" to \"{to}\""),
            created_at: now_seconds(),
        });
        Ok(ok(render::applicant_detail(t, &t.applicants[&id])))
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OnDate {
    date: Option<String>,
}

/// Sets `hired_date` and moves the applicant to the position's Hired stage.
async fn applicants_hire(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    Body(body): Body<OnDate>,
) -> ControlResult {
    let id = applicant_id(&id)?;
    let date = body.date.as_deref().map(parse_date).transpose()?;
    with_tenant(&sim, &subdomain, |t| {
        let a = t
            .applicants
            .get(&id)
            .ok_or_else(|| not_found("applicant"))?;
        let position = t
            .positions
            .get(&a.position_id)
            .ok_or_else(|| not_found("position"))?;
        let hired = position
            .hired_stage()
            .ok_or_else(|| invalid("the position has no stages"))?
            .clone();
        let from = t
            .stage(a.position_id, a.stage_id)
            .map(|s| s.title.clone())
            .unwrap_or_default();
        let now = now_seconds();
        let a = t
            .applicants
            .get_mut(&id)
            .ok_or_else(|| not_found("applicant"))?;
        if a.stage_id != hired.id {
            a.actions.push(Action {
                action: "moved_between_stages".into(),
                message: format!("Applicant moved from \"{from}\" to \"{}\"", hired.title),
                created_at: now,
            });
        }
        a.stage_id = hired.id;
        // Hiring twice changes nothing but an explicitly given date.
        if a.hired_date.is_none() {
            a.actions.push(Action {
                action: "applicant_hired".into(),
                message: "Applicant hired".into(),
                created_at: now,
            });
        }
        a.hired_date = date.or(a.hired_date).or(Some(now.date()));
        Ok(ok(render::applicant_detail(t, &t.applicants[&id])))
    })
}

/// Sets `disqualified_date`; the applicant stays in its stage, as in Sage HR.
async fn applicants_disqualify(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    Body(body): Body<OnDate>,
) -> ControlResult {
    let id = applicant_id(&id)?;
    let date = body.date.as_deref().map(parse_date).transpose()?;
    with_tenant(&sim, &subdomain, |t| {
        let now = now_seconds();
        let a = t
            .applicants
            .get_mut(&id)
            .ok_or_else(|| not_found("applicant"))?;
        a.disqualified_date = Some(date.unwrap_or(now.date()));
        a.actions.push(Action {
            action: "applicant_disqualified".into(),
            message: "Applicant disqualified".into(),
            created_at: now,
        });
        Ok(ok(render::applicant_detail(t, &t.applicants[&id])))
    })
}

async fn applicants_delete(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
) -> ControlResult {
    let id = applicant_id(&id)?;
    with_tenant(&sim, &subdomain, |t| {
        delete_applicant(t, id)?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

pub(crate) fn delete_applicant(t: &mut Tenant, id: u64) -> Result<(), ControlError> {
    t.remove_applicant(id)
        .map(drop)
        .ok_or_else(|| not_found("applicant"))
}

/// Undoes a DELETE of an applicant: it comes back with the same id and data.
async fn applicants_restore(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
) -> ControlResult {
    let id = applicant_id(&id)?;
    with_tenant(&sim, &subdomain, |t| {
        t.restore_applicant(id)
            .ok_or_else(|| not_found("deleted applicant (or its position)"))?;
        Ok(ok(render::applicant_detail(t, &t.applicants[&id])))
    })
}

/// Undoes a DELETE of a position: it comes back with its applicants.
async fn positions_restore(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
) -> ControlResult {
    let id: u64 = id.parse().map_err(|_| not_found("position"))?;
    with_tenant(&sim, &subdomain, |t| {
        t.restore_position(id)
            .ok_or_else(|| not_found("deleted position"))?;
        Ok(ok(render::position_detail(t, &t.positions[&id])))
    })
}

async fn files_list(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
) -> ControlResult {
    let id = applicant_id(&id)?;
    with_tenant(&sim, &subdomain, |t| {
        if !t.applicants.contains_key(&id) {
            return Err(not_found("applicant"));
        }
        let files: Vec<Value> = t
            .files
            .get(&id)
            .into_iter()
            .flatten()
            .map(|f| json!({"name": f.name, "content_type": f.content_type, "size": f.size, "sha256": f.sha256}))
            .collect();
        Ok(ok(json!(files)))
    })
}

/// Fields a recruiter can set on a position. Absent fields are left alone on PATCH; an
/// explicit `null` clears a nullable one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PositionFields {
    title: Option<String>,
    status: Option<String>,
    team: Option<String>,
    #[serde(default, with = "double_option")]
    employment_type: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    location: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    location_id: Option<Option<u64>>,
    #[serde(default, with = "double_option")]
    link: Option<Option<String>>,
    group: Option<String>,
    group_id: Option<u64>,
    priority: Option<u32>,
    applicants_required: Option<u32>,
    description_blocks: Option<Vec<Block>>,
    hiring_manager_ids: Option<Vec<u64>>,
    created_at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Block {
    title: String,
    content: String,
}

/// Tells a missing key (`None`) from an explicit `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// Sage HR shows a careers-page link only while a position is published: one is made when it
/// becomes published without one, and it goes away when it stops being published, unless the
/// request set `link` itself.
fn sync_link(subdomain: &str, p: &mut Position, link_given: bool) {
    if link_given {
        return;
    }
    if p.status == "published" {
        if p.link.is_none() {
            p.link = Some(format!("https://talent.sage.hr/jobs/{subdomain}-{}", p.id));
        }
    } else {
        p.link = None;
    }
}

fn apply(t: &Tenant, p: &mut Position, f: PositionFields) -> Result<(), ControlError> {
    if let Some(title) = f.title {
        if title.trim().is_empty() {
            return Err(invalid("title must not be blank"));
        }
        p.title = title;
    }
    if let Some(status) = f.status {
        if !is_status(&status) {
            return Err(invalid(format!(
                "status must be one of {}",
                crate::state::STATUSES.join(", ")
            )));
        }
        let closing = matches!(status.as_str(), "completed" | "cancelled");
        p.completed_at = if closing {
            p.completed_at.or(Some(now_seconds().date()))
        } else {
            None
        };
        p.status = status;
    }
    if let Some(team) = f.team {
        p.team = team;
    }
    if let Some(v) = f.employment_type {
        p.employment_type = v;
    }
    if let Some(v) = f.location {
        p.location = v;
    }
    if let Some(v) = f.location_id {
        p.location_id = v;
    }
    if let Some(v) = f.link {
        p.link = v;
    }
    if let Some(v) = f.group {
        p.group = v;
    }
    if let Some(v) = f.group_id {
        p.group_id = v;
    }
    if let Some(v) = f.priority {
        p.priority = v;
    }
    if let Some(v) = f.applicants_required {
        p.applicants_required = v;
    }
    if let Some(blocks) = f.description_blocks {
        p.description_blocks = blocks
            .into_iter()
            .map(|b| DescriptionBlock {
                title: b.title,
                content: b.content,
            })
            .collect();
    }
    if let Some(ids) = f.hiring_manager_ids {
        if let Some(bad) = ids.iter().find(|id| !t.employees.contains_key(id)) {
            return Err(invalid(format!("employee {bad} does not exist")));
        }
        p.hiring_team.retain(|m| m.role != "hiring_manager");
        p.hiring_team
            .extend(ids.into_iter().map(|employee_id| HiringMember {
                employee_id,
                role: "hiring_manager".into(),
            }));
    }
    if let Some(d) = f.created_at {
        p.created_at = parse_date(&d)?;
    }
    Ok(())
}

/// Creates a position with the standard pipeline; `title` is required, `status` defaults to
/// `published`.
async fn positions_create(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    Body(body): Body<PositionFields>,
) -> ControlResult {
    check_new_position(&body)?;
    with_tenant(&sim, &subdomain, |t| {
        let id = create_position(t, body)?;
        let detail = render::position_detail(t, &t.positions[&id]);
        Ok((StatusCode::CREATED, Json(json!({"data": detail}))).into_response())
    })
}

/// What a create needs beyond valid field values, checked before a tenant is looked at.
pub(crate) fn check_new_position(fields: &PositionFields) -> Result<(), ControlError> {
    if fields.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(invalid("title is required"));
    }
    Ok(())
}

pub(crate) fn create_position(t: &mut Tenant, fields: PositionFields) -> Result<u64, ControlError> {
    check_new_position(&fields)?;
    let today = now_seconds();
    let link_given = fields.link.is_some();
    let mut p = Position {
        id: 0,
        title: String::new(),
        status: "published".into(),
        created_at: today.date(),
        internal_date: today.date(),
        completed_at: None,
        link: None,
        team: String::new(),
        applicants_required: 1,
        employment_type: None,
        location: None,
        location_id: None,
        group: "Hiring Group".into(),
        group_id: 871_621,
        // R1 orders by priority, then id: the highest priority in use (with the newest id)
        // lists a new position last, so creating one moves no existing position to another
        // page, as a list that grows at its end behaves.
        priority: t.positions.values().map(|p| p.priority).max().unwrap_or(1),
        description_blocks: vec![],
        stages: vec![],
        hiring_team: vec![],
    };
    apply(t, &mut p, fields)?;
    // Ids are taken only once the request is known to be valid, so a rejected one leaves no
    // gap.
    p.id = t.next_id();
    p.stages = pipeline(t, today);
    sync_link(&t.subdomain, &mut p, link_given);
    let id = p.id;
    t.positions.insert(id, p);
    Ok(id)
}

async fn positions_update(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    Body(body): Body<PositionFields>,
) -> ControlResult {
    let id: u64 = id.parse().map_err(|_| not_found("position"))?;
    with_tenant(&sim, &subdomain, |t| {
        update_position(t, id, body)?;
        Ok(ok(render::position_detail(t, &t.positions[&id])))
    })
}

pub(crate) fn update_position(
    t: &mut Tenant,
    id: u64,
    fields: PositionFields,
) -> Result<(), ControlError> {
    let mut p = t
        .positions
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found("position"))?;
    let link_given = fields.link.is_some();
    apply(t, &mut p, fields)?;
    sync_link(&t.subdomain, &mut p, link_given);
    t.positions.insert(id, p);
    Ok(())
}

/// Removes a position and its applicants.
async fn positions_delete(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
) -> ControlResult {
    let id: u64 = id.parse().map_err(|_| not_found("position"))?;
    with_tenant(&sim, &subdomain, |t| {
        delete_position(t, id)?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

pub(crate) fn delete_position(t: &mut Tenant, id: u64) -> Result<(), ControlError> {
    t.remove_position(id)
        .map(drop)
        .ok_or_else(|| not_found("position"))
}

async fn faults_add(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    Body(spec): Body<FaultSpec>,
) -> ControlResult {
    spec.validate().map_err(invalid)?;
    with_tenant(&sim, &subdomain, |t| {
        t.faults.add(spec);
        Ok((
            StatusCode::CREATED,
            Json(json!({"data": {"active_faults": t.faults.len()}})),
        )
            .into_response())
    })
}

async fn faults_clear(State(sim): State<Sim>, Path(subdomain): Path<String>) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| {
        t.faults.clear();
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

async fn hooks_add(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    Body(spec): Body<HookSpec>,
) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| {
        let pending = t.hooks.add(spec)?;
        Ok((
            StatusCode::CREATED,
            Json(json!({"data": {"pending": pending}})),
        )
            .into_response())
    })
}

async fn hooks_view(State(sim): State<Sim>, Path(subdomain): Path<String>) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| Ok(ok(t.hooks.view())))
}

async fn hooks_clear(State(sim): State<Sim>, Path(subdomain): Path<String>) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| {
        t.hooks.clear();
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

async fn stats_view(State(sim): State<Sim>, Path(subdomain): Path<String>) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| {
        let total: u64 = t.stats.values().sum();
        Ok(ok(
            json!({"total": total, "by_endpoint": t.stats, "max_in_flight": t.max_in_flight}),
        ))
    })
}

async fn stats_reset(State(sim): State<Sim>, Path(subdomain): Path<String>) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| {
        t.stats.clear();
        t.max_in_flight = t.in_flight;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

async fn keys_list(State(sim): State<Sim>, Path(subdomain): Path<String>) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| {
        let mut keys: Vec<Value> = t
            .api_keys
            .iter()
            .map(|(k, e)| json!({"key": k, "employee_id": e}))
            .collect();
        keys.sort_by(|a, b| a["key"].as_str().cmp(&b["key"].as_str()));
        Ok(ok(json!(keys)))
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    key: String,
    employee_id: Option<u64>,
}

/// Adds a key for an employee (default: the first one, the admin).
async fn keys_add(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    Body(body): Body<NewKey>,
) -> ControlResult {
    if body.key.is_empty() {
        return Err(invalid("key must not be empty"));
    }
    with_tenant(&sim, &subdomain, |t| {
        let employee = match body.employee_id {
            Some(id) if t.employees.contains_key(&id) => id,
            Some(id) => return Err(invalid(format!("employee {id} does not exist"))),
            None => *t
                .employees
                .keys()
                .next()
                .ok_or_else(|| invalid("the tenant has no employees"))?,
        };
        t.api_keys.insert(body.key.clone(), employee);
        Ok((
            StatusCode::CREATED,
            Json(json!({"data": {"key": body.key, "employee_id": employee}})),
        )
            .into_response())
    })
}

async fn keys_revoke(
    State(sim): State<Sim>,
    Path((subdomain, key)): Path<(String, String)>,
) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| {
        t.api_keys.remove(&key).ok_or_else(|| not_found("key"))?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

/// The key stays valid but gets 403 from now on: its user lost admin rights.
async fn keys_forbid(
    State(sim): State<Sim>,
    Path((subdomain, key)): Path<(String, String)>,
) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| {
        if !t.api_keys.contains_key(&key) {
            return Err(not_found("key"));
        }
        t.forbidden_keys.insert(key);
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

async fn keys_allow(
    State(sim): State<Sim>,
    Path((subdomain, key)): Path<(String, String)>,
) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| {
        t.forbidden_keys.remove(&key);
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

/// What disabling and re-enabling API access does in Sage HR: every user's key is replaced.
async fn keys_regenerate(State(sim): State<Sim>, Path(subdomain): Path<String>) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| {
        let mut owners: Vec<u64> = t.api_keys.values().copied().collect();
        owners.sort_unstable();
        owners.dedup();
        t.api_keys.clear();
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let mut keys = Vec::new();
        for employee in owners {
            let key = crate::api::hex(&sha2::Sha256::digest(format!(
                "{subdomain}:{employee}:{stamp}"
            )))[..40]
                .to_owned();
            t.api_keys.insert(key.clone(), employee);
            keys.push(json!({"key": key, "employee_id": employee}));
        }
        Ok(ok(json!(keys)))
    })
}
