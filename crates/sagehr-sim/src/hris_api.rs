//! The core-HR (HRIS) endpoints H1–H18 of the Sage HR API, on the same tenants, keys, errors
//! and fault injection as recruitment. The shapes follow `sagehr-hris-api.md` §3; where it is
//! silent the README lists the choice made.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use time::macros::format_description;
use time::{Date, Duration};

use crate::api::{authenticate, parse_id, ApiError, ApiResult, MAX_BODY_BYTES};
use crate::hris::{
    CustomValue, DayPart, HistoryItem, HrProfile, LeavePolicy, LeaveRequest, Termination,
};
use crate::render::date;
use crate::state::{lock, Employee, Sim, Tenant};

/// Sage HR's fixed page size for the core-HR lists; `per_page` is ignored.
pub const PAGE_SIZE: usize = 50;
/// H18's window must be shorter than this many days (`to − from`).
pub const MAX_WINDOW_DAYS: i64 = 65;

pub fn router() -> Router<Sim> {
    Router::new()
        .route(
            "/{subdomain}/api/employees",
            get(employees_list).post(employees_create),
        )
        .route(
            "/{subdomain}/api/employees/{id}",
            get(employees_view).put(employees_update),
        )
        .route(
            "/{subdomain}/api/employees/{id}/terminations",
            post(employees_terminate),
        )
        .route(
            "/{subdomain}/api/employees/{id}/rehire",
            post(employees_rehire),
        )
        .route(
            "/{subdomain}/api/employees/{id}/custom-fields",
            get(custom_fields_list),
        )
        .route(
            "/{subdomain}/api/employees/{id}/compensations",
            get(compensations_list),
        )
        .route(
            "/{subdomain}/api/employees/{id}/leave-management/balances",
            get(balances_list),
        )
        .route(
            "/{subdomain}/api/terminated-employees",
            get(terminated_list),
        )
        .route(
            "/{subdomain}/api/terminated-employees/{id}",
            get(terminated_view),
        )
        .route("/{subdomain}/api/teams", get(teams_list))
        .route("/{subdomain}/api/positions", get(positions_list))
        .route("/{subdomain}/api/termination-reasons", get(reasons_list))
        .route(
            "/{subdomain}/api/leave-management/policies",
            get(policies_list),
        )
        .route(
            "/{subdomain}/api/leave-management/policies/{id}",
            get(policies_view),
        )
        .route(
            "/{subdomain}/api/leave-management/requests",
            get(requests_list),
        )
}

// ---------------------------------------------------------------------------------------------
// Query and body parameters

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

/// `page`, 1-based. Anything that is not a positive integer reads as page 1 (INFERRED: the
/// reference expects Rails' lenient casting here, unlike recruitment's 400).
fn page_of(pairs: &[(String, String)]) -> usize {
    single(pairs, "page")
        .and_then(|p| p.trim().parse::<usize>().ok())
        .filter(|&p| p >= 1)
        .unwrap_or(1)
}

/// One fixed-size page and will_paginate's six-key `meta`.
/// Only the page's rows are rendered: a 5,000-employee tenant must not render 5,000 rows per
/// request.
fn page_json<T>(items: Vec<T>, page: usize, render: impl Fn(T) -> Value) -> Response {
    let total = items.len();
    let total_pages = total.div_ceil(PAGE_SIZE);
    let start = (page - 1).saturating_mul(PAGE_SIZE).min(total);
    let end = start.saturating_add(PAGE_SIZE).min(total);
    let data: Vec<Value> = items
        .into_iter()
        .skip(start)
        .take(end - start)
        .map(render)
        .collect();
    Json(json!({
        "data": data,
        "meta": {
            "current_page": page,
            "next_page": (page < total_pages).then_some(page + 1),
            "previous_page": (page > 1).then_some(page - 1),
            "total_pages": total_pages,
            "per_page": PAGE_SIZE,
            "total_entries": total,
        }
    }))
    .into_response()
}

fn data(value: Value) -> Response {
    Json(json!({ "data": value })).into_response()
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "1" | "yes" | "on"
    )
}

/// The three history flags of H1–H4.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    pub team_history: bool,
    pub employment_status_history: bool,
    pub position_history: bool,
}

impl Flags {
    pub const ALL: Flags = Flags {
        team_history: true,
        employment_status_history: true,
        position_history: true,
    };

    fn of(pairs: &[(String, String)]) -> Self {
        let on = |name: &str| single(pairs, name).is_some_and(truthy);
        Flags {
            team_history: on("team_history"),
            employment_status_history: on("employment_status_history"),
            position_history: on("position_history"),
        }
    }
}

/// A write's parameters from a form or JSON body: a text value, a list (`name[]` or a JSON
/// array) or an explicit JSON `null`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param {
    Null,
    Text(String),
    List(Vec<String>),
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Params(BTreeMap<String, Param>);

impl Params {
    pub(crate) fn from_json(body: &Value) -> Result<Self, ApiError> {
        let Some(object) = body.as_object() else {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        };
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut params = Params::default();
        // Rails wraps JSON bodies in the resource name too; both forms are taken.
        let nested = object.get("employee").and_then(Value::as_object);
        for (k, v) in object.iter().chain(nested.into_iter().flatten()) {
            if k == "employee" && v.is_object() {
                continue;
            }
            let value = match v {
                Value::Null => Param::Null,
                Value::Array(items) => Param::List(items.iter().map(text).collect()),
                other => Param::Text(text(other)),
            };
            params.0.insert(k.clone(), value);
        }
        Ok(params)
    }

    fn from_form(bytes: &[u8]) -> Self {
        let mut params = Params::default();
        for (k, v) in form_urlencoded::parse(bytes) {
            // Rails' wrapped form, `employee[first_name]` or `employee[approver_ids][]`, reads
            // as the plain name.
            let k = match k
                .strip_prefix("employee[")
                .and_then(|rest| rest.split_once(']'))
            {
                Some((name, tail)) => format!("{name}{tail}"),
                None => k.into_owned(),
            };
            if let Some(name) = k.strip_suffix("[]") {
                match params
                    .0
                    .entry(name.to_owned())
                    .or_insert_with(|| Param::List(vec![]))
                {
                    Param::List(items) => items.push(v.into_owned()),
                    other => *other = Param::List(vec![v.into_owned()]),
                }
            } else {
                params.0.insert(k, Param::Text(v.into_owned()));
            }
        }
        params
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// A text value; `None` when absent, `Some(None)` when null or blank.
    pub(crate) fn text(&self, name: &str) -> Option<Option<String>> {
        self.0.get(name).map(|p| match p {
            Param::Text(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            _ => None,
        })
    }

    fn list(&self, name: &str) -> Option<Vec<String>> {
        self.0.get(name).map(|p| match p {
            Param::List(items) => items.clone(),
            Param::Text(s) if !s.trim().is_empty() => vec![s.clone()],
            _ => vec![],
        })
    }
}

/// Reads a write's body as form-urlencoded or JSON (by `Content-Type`; JSON otherwise).
pub(crate) async fn read_params(request: Request) -> Result<Params, ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", vec![]))?;
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return Ok(Params::from_form(&bytes));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Params::default());
    }
    let body: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("body is not valid JSON: {e}")))?;
    Params::from_json(&body)
}

pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), format_description!("[year]-[month]-[day]")).ok()
}

// ---------------------------------------------------------------------------------------------
// Rendering

fn team_name(t: &Tenant, id: Option<u64>) -> Option<String> {
    id.and_then(|id| t.hris.teams.get(&id))
        .map(|team| team.name.clone())
}

fn position_title(t: &Tenant, id: Option<u64>) -> Option<String> {
    id.and_then(|id| t.hris.job_titles.get(&id))
        .map(|p| p.title.clone())
}

fn status_name(t: &Tenant, id: Option<u64>) -> Option<String> {
    id.and_then(|id| t.hris.employment_statuses.get(&id))
        .cloned()
}

fn histories(t: &Tenant, hr: &HrProfile, flags: Flags, v: &mut Value) {
    let end = |h: &HistoryItem| h.end_date.map(date);
    if flags.team_history {
        v["team_history"] = hr
            .team_history
            .iter()
            .map(|h| {
                json!({"team_id": h.ref_id, "team_name": team_name(t, Some(h.ref_id)),
                       "start_date": date(h.start_date), "end_date": end(h)})
            })
            .collect();
    }
    if flags.employment_status_history {
        // `employment_statu_name` is Sage HR's own (misspelt) key.
        v["employment_status_history"] = hr
            .employment_status_history
            .iter()
            .map(|h| {
                json!({"employment_status_id": h.ref_id,
                       "employment_statu_name": status_name(t, Some(h.ref_id)),
                       "start_date": date(h.start_date), "end_date": end(h)})
            })
            .collect();
    }
    if flags.position_history {
        v["position_history"] = hr
            .position_history
            .iter()
            .map(|h| {
                let p = t.hris.job_titles.get(&h.ref_id);
                json!({"position_id": h.ref_id, "position_name": p.map(|p| p.title.clone()),
                       "position_code": p.and_then(|p| p.code.clone()),
                       "start_date": date(h.start_date), "end_date": end(h)})
            })
            .collect();
    }
}

/// H1/H2's employee.
pub fn employee(t: &Tenant, e: &Employee, flags: Flags) -> Value {
    let hr = &e.hr;
    let mut v = json!({
        "id": e.id,
        "email": e.email,
        "first_name": e.first_name,
        "last_name": e.last_name,
        "picture_url": hr.picture_url,
        "employment_start_date": hr.employment_start_date.map(date),
        "date_of_birth": hr.date_of_birth.map(date),
        "team": team_name(t, hr.team_id),
        "team_id": hr.team_id,
        "position": position_title(t, hr.position_id),
        "position_id": hr.position_id,
        "reports_to_employee_id": hr.reports_to_employee_id,
        "work_phone": hr.work_phone,
        "home_phone": hr.home_phone,
        "mobile_phone": hr.mobile_phone,
        "gender": hr.gender,
        "street_first": hr.street_first,
        "street_second": hr.street_second,
        "city": hr.city,
        "post_code": hr.post_code,
        "country": hr.country,
        "employee_number": hr.employee_number,
        "employment_status": status_name(t, hr.employment_status_id),
        "nationality": hr.nationality,
        "marital_status": hr.marital_status,
        "personal_identification_number": hr.personal_identification_number,
        "tax_number": hr.tax_number,
        "irregular_contract_worker": hr.irregular_contract_worker,
    });
    histories(t, hr, flags, &mut v);
    v
}

/// H3's short form of a terminated employee.
pub fn terminated(t: &Tenant, e: &Employee, flags: Flags) -> Value {
    let hr = &e.hr;
    let mut v = json!({
        "id": e.id,
        "termination_date": hr.termination.as_ref().map(|t| date(t.date)),
        "employee_number": hr.employee_number,
        "email": e.email,
        "first_name": e.first_name,
        "last_name": e.last_name,
        "picture_url": hr.picture_url,
        "employment_start_date": hr.employment_start_date.map(date),
        "date_of_birth": hr.date_of_birth.map(date),
        "position": position_title(t, hr.position_id),
        "personal_identification_number": hr.personal_identification_number,
        "tax_number": hr.tax_number,
        "team": team_name(t, hr.team_id),
        "team_id": hr.team_id,
        "employment_status": status_name(t, hr.employment_status_id),
        "irregular_contract_worker": hr.irregular_contract_worker,
    });
    histories(t, hr, flags, &mut v);
    v
}

/// H4: the whole employee, its termination date and the termination (reason by name).
pub fn terminated_detail(t: &Tenant, e: &Employee, flags: Flags) -> Value {
    let mut v = employee(t, e, flags);
    let termination = e.hr.termination.as_ref();
    v["termination_date"] = json!(termination.map(|x| date(x.date)));
    v["termination"] = json!(termination.map(|x| json!({
        "reason": t.hris.termination_reasons.get(&x.reason_id).map(|r| r.name.clone()),
        "comments": x.comments,
    })));
    v
}

pub fn custom_fields(t: &Tenant, e: &Employee) -> Value {
    t.hris
        .custom_fields
        .values()
        .map(|def| {
            let value = match e.hr.custom_fields.get(&def.id) {
                Some(CustomValue::One(v)) => json!(v),
                Some(CustomValue::Many(v)) => json!(v),
                None if def.kind == "CustomTags" => json!([]),
                None => Value::Null,
            };
            json!({"id": def.id, "label": def.label, "type": def.kind, "value": value,
                   "options": def.options})
        })
        .collect()
}

pub fn compensations(e: &Employee) -> Vec<Value> {
    e.hr.compensations
        .iter()
        .map(|c| {
            json!({"start_date": date(c.start_date), "end_date": c.end_date.map(date),
                   "currency": c.currency, "amount": c.amount, "period": c.period,
                   "comment": c.comment, "category": c.category})
        })
        .collect()
}

/// `26` for whole numbers and `37.5` otherwise, as Sage HR's string allowances read.
fn number_string(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{n}")
    }
}

pub fn policy(p: &LeavePolicy) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "color": p.color,
        "do_not_accrue": p.do_not_accrue,
        "unit": p.unit,
        "default_allowance": number_string(p.default_allowance),
        "max_carryover": format!("{:.1}", p.max_carryover),
        "accrue_type": p.accrue_type,
    })
}

/// H16's policy: H15's fields plus the flags (the ones the simulator does not model are
/// `false`).
pub fn policy_detail(p: &LeavePolicy) -> Value {
    let mut v = policy(p);
    let fixed_false = [
        "enable_employee_access",
        "enable_probation_period",
        "dont_allow_negative_amount",
        "requests_in_advance_required",
        "enable_minimum_days",
        "enable_limited_days",
        "enable_dependent_policy",
        "blocks_enabled",
        "no_reset",
        "termination_recalculation",
        "enable_service_accruals",
        "child_allowance_enabled",
        "enable_negative_carryover",
        "max_accrual",
        "accrue_at_start",
        "enable_monthly_expiration",
        "starter_monthly_accrual_limitation",
        "starter_yearly_accrual_limitation",
        "enable_specific_approvers",
        "override_approvers_enabled",
        "enable_duplicate_time_offs",
        "enable_replacement",
        "replacement_required",
        "enable_scopped_replacement",
        "enable_replacement_away",
        "additional_field",
        "enable_attachment",
    ];
    for key in fixed_false {
        v[key] = json!(false);
    }
    v["enable_employee_access"] = json!(true);
    v["only_full_days"] = json!(p.only_full_days);
    v["auto_approves"] = json!(p.auto_approves);
    v["enable_details"] = json!(true);
    v["require_details"] = json!(p.require_details);
    v["enable_replacement"] = json!(true);
    v
}

fn hhmm((h, m): (u8, u8)) -> String {
    format!("{h:02}:{m:02}")
}

pub fn request(t: &Tenant, r: &LeaveRequest) -> Value {
    let (first, second, specific, from, to) = match r.part {
        DayPart::AllDay => (false, false, false, None, None),
        DayPart::First => (true, false, false, None, None),
        DayPart::Second => (false, true, false, None, None),
        // A timespan is in the first part of the day if it starts before noon (INFERRED).
        DayPart::Specific { from, to } => (
            from.0 < 12,
            from.0 >= 12,
            true,
            Some(hhmm(from)),
            Some(hhmm(to)),
        ),
    };
    json!({
        "id": r.id,
        "status": r.status.label(),
        "status_code": r.status.code(),
        "policy_id": r.policy_id,
        "employee_id": r.employee_id,
        "replacement": r.replacement_id.and_then(|id| t.employees.get(&id))
            .map(|e| json!({"id": e.id, "full_name": e.full_name()})),
        "details": r.details,
        "is_multi_date": r.start_date != r.end_date,
        "is_single_day": r.start_date == r.end_date,
        "is_part_of_day": r.part != DayPart::AllDay,
        "first_part_of_day": first,
        "second_part_of_day": second,
        "specific_time": specific,
        "time_from": from,
        "time_to": to,
        "start_date": date(r.start_date),
        "end_date": date(r.end_date),
        "request_date": date(r.request_date),
        "approval_date": r.approval_date.map(date),
        "hours": r.hours,
        "fields": r.fields.iter().map(|(title, answer)| json!({"title": title, "answer": answer}))
            .collect::<Vec<_>>(),
        "shared_person_name": null,
        "shared_person_nin": null,
    })
}

/// H17's rows: every policy, with what approved requests starting this calendar year used.
pub fn balances(t: &Tenant, employee_id: u64) -> Vec<Value> {
    let year = t.today().year();
    t.hris
        .policies
        .values()
        .map(|p| {
            let used: f64 = t
                .hris
                .requests
                .values()
                .filter(|r| {
                    r.employee_id == employee_id
                        && r.policy_id == p.id
                        && r.status == crate::hris::LeaveStatus::Approved
                        && r.start_date.year() == year
                })
                .map(|r| r.amount(p))
                .sum();
            // `+ 0.0` turns the empty sum's -0.0 into 0.
            let used = (used * 100.0).round() / 100.0 + 0.0;
            let available = p
                .tracks_allowance()
                .then(|| ((p.default_allowance - used) * 100.0).round() / 100.0);
            json!({"policy_id": p.id, "used": used, "available": available})
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reads

async fn employees_list(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    headers: axum::http::HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let pairs = query_pairs(q.as_deref());
    let flags = Flags::of(&pairs);
    let t = lock(&tenant);
    let rows: Vec<&Employee> = t.active_employees().collect();
    Ok(page_json(rows, page_of(&pairs), |e| employee(&t, e, flags)))
}

async fn employees_view(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let id = parse_id(&id)?;
    let flags = Flags::of(&query_pairs(q.as_deref()));
    let t = lock(&tenant);
    let e = t.active_employee(id).ok_or_else(ApiError::not_found)?;
    Ok(data(employee(&t, e, flags)))
}

async fn terminated_list(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    headers: axum::http::HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let pairs = query_pairs(q.as_deref());
    let flags = Flags::of(&pairs);
    let t = lock(&tenant);
    let rows: Vec<&Employee> = t.terminated_employees().collect();
    Ok(page_json(rows, page_of(&pairs), |e| {
        terminated(&t, e, flags)
    }))
}

async fn terminated_view(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let id = parse_id(&id)?;
    let flags = Flags::of(&query_pairs(q.as_deref()));
    let t = lock(&tenant);
    let e = t.terminated_employee(id).ok_or_else(ApiError::not_found)?;
    Ok(data(terminated_detail(&t, e, flags)))
}

/// An employee's sub-resources (H9, H11, H17) answer for active and terminated employees
/// alike (INFERRED: their records stay after leaving).
fn any_employee(t: &Tenant, id: &str) -> Result<u64, ApiError> {
    let id = parse_id(id)?;
    t.employees
        .contains_key(&id)
        .then_some(id)
        .ok_or_else(ApiError::not_found)
}

async fn custom_fields_list(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let t = lock(&tenant);
    let id = any_employee(&t, &id)?;
    Ok(data(custom_fields(&t, &t.employees[&id])))
}

async fn compensations_list(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let t = lock(&tenant);
    let id = any_employee(&t, &id)?;
    Ok(page_json(
        compensations(&t.employees[&id]),
        page_of(&query_pairs(q.as_deref())),
        |v| v,
    ))
}

async fn balances_list(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let t = lock(&tenant);
    let id = any_employee(&t, &id)?;
    Ok(data(json!(balances(&t, id))))
}

async fn teams_list(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    headers: axum::http::HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let t = lock(&tenant);
    let mut members: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for e in t.active_employees() {
        if let Some(team) = e.hr.team_id {
            members.entry(team).or_default().push(e.id);
        }
    }
    let rows = t
        .hris
        .teams
        .values()
        .map(|team| {
            json!({"id": team.id, "name": team.name, "manager_ids": team.manager_ids,
                   "employee_ids": members.get(&team.id).cloned().unwrap_or_default()})
        })
        .collect();
    Ok(page_json(rows, page_of(&query_pairs(q.as_deref())), |v| v))
}

async fn positions_list(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    headers: axum::http::HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let t = lock(&tenant);
    let rows = t
        .hris
        .job_titles
        .values()
        .map(
            |p| json!({"id": p.id, "title": p.title, "description": p.description, "code": p.code}),
        )
        .collect();
    Ok(page_json(rows, page_of(&query_pairs(q.as_deref())), |v| v))
}

async fn reasons_list(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    headers: axum::http::HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let t = lock(&tenant);
    let rows = t
        .hris
        .termination_reasons
        .values()
        .map(|r| json!({"id": r.id, "name": r.name, "code": r.code, "type": r.kind}))
        .collect();
    Ok(page_json(rows, page_of(&query_pairs(q.as_deref())), |v| v))
}

async fn policies_list(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    headers: axum::http::HeaderMap,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let t = lock(&tenant);
    Ok(data(t.hris.policies.values().map(policy).collect()))
}

async fn policies_view(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let id = parse_id(&id)?;
    let t = lock(&tenant);
    let p = t.hris.policies.get(&id).ok_or_else(ApiError::not_found)?;
    // Sage HR wraps this one object in an array.
    Ok(data(json!([policy_detail(p)])))
}

fn month_bounds(today: Date) -> (Date, Date) {
    let first = today.replace_day(1).unwrap_or(today);
    let next = crate::hris_gen::first_of_next_month(today);
    (first, next - Duration::days(1))
}

/// H18's window: `from`/`to`, defaulting to the current month; it must be shorter than 65
/// days.
pub fn window(pairs: &[(String, String)], today: Date) -> Result<(Date, Date), ApiError> {
    let (first, last) = month_bounds(today);
    let bound = |name: &str, label: &str, default: Date| match single(pairs, name)
        .filter(|s| !s.trim().is_empty())
    {
        None => Ok(default),
        Some(s) => parse_date(s).ok_or_else(|| {
            ApiError::validation(vec![format!(
                "{label} is not a valid date (YYYY-MM-DD), got `{s}`"
            )])
        }),
    };
    let from = bound("from", "From", first)?;
    let to = bound("to", "To", last)?;
    if to < from {
        return Err(ApiError::validation(vec![
            "To must be on or after From".into()
        ]));
    }
    if (to - from).whole_days() >= MAX_WINDOW_DAYS {
        return Err(ApiError::validation(vec![format!(
            "The period between From and To must be shorter than {MAX_WINDOW_DAYS} days"
        )]));
    }
    Ok((from, to))
}

async fn requests_list(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    headers: axum::http::HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, &headers)?;
    let pairs = query_pairs(q.as_deref());
    let t = lock(&tenant);
    let (from, to) = window(&pairs, t.today())?;
    // A request is in the window when it overlaps it, so one that spans an edge is in both.
    let rows = t
        .hris
        .requests
        .values()
        .filter(|r| r.start_date <= to && r.end_date >= from)
        .collect::<Vec<_>>();
    Ok(page_json(rows, page_of(&pairs), |r| request(&t, r)))
}

// ---------------------------------------------------------------------------------------------
// Writes

const GENDERS: [&str; 3] = ["Male", "Female", "Other"];
const MARITAL: [&str; 6] = [
    "Married",
    "Single",
    "Divorced",
    "Widower",
    "In a relationship",
    "Other",
];

fn email_valid(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)
    })
}

/// The personal fields H5 and H6 share, with Rails-style messages for bad values.
fn apply_personal(hr: &mut HrProfile, p: &Params, errors: &mut Vec<String>) {
    let texts: [(&str, &mut Option<String>); 12] = [
        ("home_phone", &mut hr.home_phone),
        ("work_phone", &mut hr.work_phone),
        ("mobile_phone", &mut hr.mobile_phone),
        ("nationality", &mut hr.nationality),
        ("country", &mut hr.country),
        ("state", &mut hr.state),
        ("post_code", &mut hr.post_code),
        ("street_first", &mut hr.street_first),
        ("street_second", &mut hr.street_second),
        ("city", &mut hr.city),
        (
            "personal_identification_number",
            &mut hr.personal_identification_number,
        ),
        ("tax_number", &mut hr.tax_number),
    ];
    for (name, slot) in texts {
        if let Some(v) = p.text(name) {
            *slot = v;
        }
    }
    if let Some(v) = p.text("employee_number") {
        hr.employee_number = v;
    }
    if let Some(v) = p.text("gender") {
        match v {
            Some(g) if !GENDERS.contains(&g.as_str()) => {
                errors.push("Gender is not included in the list".into());
            }
            v => hr.gender = v,
        }
    }
    if let Some(v) = p.text("marital_status") {
        match v {
            Some(m) if !MARITAL.contains(&m.as_str()) => {
                errors.push("Marital status is not included in the list".into());
            }
            v => hr.marital_status = v,
        }
    }
    if let Some(v) = p.text("date_of_birth") {
        match v.as_deref().map(parse_date) {
            Some(None) => errors.push("Date of birth is not a valid date".into()),
            Some(d) => hr.date_of_birth = d,
            None => hr.date_of_birth = None,
        }
    }
    if let Some(v) = p.text("irregular_contract_worker") {
        hr.irregular_contract_worker = v.as_deref().is_some_and(truthy);
    }
}

/// Closes a history's open period and opens one for `new` from `today`.
fn move_history(history: &mut Vec<HistoryItem>, new: u64, today: Date) {
    if let Some(open) = history.iter_mut().rev().find(|h| h.end_date.is_none()) {
        if open.ref_id == new {
            return;
        }
        if open.start_date >= today {
            open.ref_id = new;
            return;
        }
        open.end_date = Some(today - Duration::days(1));
    }
    history.push(HistoryItem {
        ref_id: new,
        start_date: today,
        end_date: None,
    });
}

/// A job title by name, added to the catalogue if it is new (H5's `position_title`).
fn job_title_id(t: &mut Tenant, title: &str) -> u64 {
    if let Some(p) = t
        .hris
        .job_titles
        .values()
        .find(|p| p.title.eq_ignore_ascii_case(title))
    {
        return p.id;
    }
    let id = t.next_id();
    t.hris.job_titles.insert(
        id,
        crate::hris::JobTitle {
            id,
            title: title.to_owned(),
            description: None,
            code: None,
        },
    );
    id
}

fn email_taken(t: &Tenant, email: &str, except: Option<u64>) -> bool {
    t.employees
        .values()
        .any(|e| Some(e.id) != except && e.email.eq_ignore_ascii_case(email))
}

/// H5: validates and inserts an employee.
pub(crate) fn create_employee(t: &mut Tenant, p: &Params) -> Result<u64, ApiError> {
    let mut errors = Vec::new();
    let email = p.text("email").flatten();
    let first = p.text("first_name").flatten();
    let last = p.text("last_name").flatten();
    match &email {
        None => errors.push("Email can't be blank".to_owned()),
        Some(e) if !email_valid(e) => errors.push("Email is invalid".to_owned()),
        Some(e) if email_taken(t, e, None) => {
            errors.push("Email has already been taken".to_owned());
        }
        Some(_) => {}
    }
    if first.is_none() {
        errors.push("First name can't be blank".into());
    }
    if last.is_none() {
        errors.push("Last name can't be blank".into());
    }
    let today = t.today();
    let start = match p.text("work_start_date").flatten() {
        None => Some(today),
        Some(s) => {
            let d = parse_date(&s);
            if d.is_none() {
                errors.push("Work start date is not a valid date".into());
            }
            d
        }
    };
    let mut hr = HrProfile::default();
    apply_personal(&mut hr, p, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let start = start.unwrap_or(today);
    hr.employment_start_date = Some(start);
    if let Some(title) = p.text("position_title").flatten() {
        let id = job_title_id(t, &title);
        hr.position_id = Some(id);
        hr.position_history.push(HistoryItem {
            ref_id: id,
            start_date: start,
            end_date: None,
        });
    }
    let id = t.next_id();
    t.employees.insert(
        id,
        Employee {
            id,
            first_name: first.unwrap_or_default(),
            last_name: last.unwrap_or_default(),
            email: email.unwrap_or_default(),
            hr,
        },
    );
    Ok(id)
}

fn id_param(p: &Params, name: &str, label: &str, errors: &mut Vec<String>) -> Option<Option<u64>> {
    p.text(name).map(|v| match v {
        None => None,
        Some(s) => match s.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(format!("{label} is not a number"));
                None
            }
        },
    })
}

/// H6 (and the control API's change): a partial update; only the keys given change. Names
/// are H6's (`leader_id`, `work_start_date`); `control` also takes `email`,
/// `reports_to_employee_id` and `employment_start_date`.
pub(crate) fn update_employee(
    t: &mut Tenant,
    id: u64,
    p: &Params,
    control: bool,
) -> Result<(), ApiError> {
    let today = t.today();
    let mut e = t
        .employees
        .get(&id)
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    let mut errors = Vec::new();
    for (name, label, slot) in [
        ("first_name", "First name", &mut e.first_name),
        ("last_name", "Last name", &mut e.last_name),
    ] {
        match p.text(name) {
            Some(None) => errors.push(format!("{label} can't be blank")),
            Some(Some(v)) => *slot = v,
            None => {}
        }
    }
    if control {
        match p.text("email") {
            Some(None) => errors.push("Email can't be blank".into()),
            Some(Some(v)) if !email_valid(&v) => errors.push("Email is invalid".into()),
            Some(Some(v)) if email_taken(t, &v, Some(id)) => {
                errors.push("Email has already been taken".into());
            }
            Some(Some(v)) => e.email = v,
            None => {}
        }
    }
    for name in ["work_start_date", "employment_start_date"] {
        if name == "employment_start_date" && !control {
            continue;
        }
        if let Some(v) = p.text(name) {
            match v.as_deref().map(parse_date) {
                Some(Some(d)) => e.hr.employment_start_date = Some(d),
                _ => errors.push("Work start date is not a valid date".into()),
            }
        }
    }
    if let Some(team) = id_param(p, "team_id", "Team", &mut errors) {
        match team {
            Some(team) if !t.hris.teams.contains_key(&team) => {
                errors.push("Team must exist".into());
            }
            Some(team) => {
                move_history(&mut e.hr.team_history, team, today);
                e.hr.team_id = Some(team);
            }
            None => e.hr.team_id = None,
        }
    }
    if let Some(position) = id_param(p, "position_id", "Position", &mut errors) {
        match position {
            Some(pid) if !t.hris.job_titles.contains_key(&pid) => {
                errors.push("Position must exist".into());
            }
            Some(pid) => {
                move_history(&mut e.hr.position_history, pid, today);
                e.hr.position_id = Some(pid);
            }
            None => e.hr.position_id = None,
        }
    }
    let leader_names: &[&str] = if control {
        &["leader_id", "reports_to_employee_id"]
    } else {
        &["leader_id"]
    };
    for name in leader_names {
        if let Some(leader) = id_param(p, name, "Leader", &mut errors) {
            match leader {
                Some(l) if l == id || !t.employees.contains_key(&l) => {
                    errors.push("Leader must exist".into());
                }
                l => e.hr.reports_to_employee_id = l,
            }
        }
    }
    if let Some(location) = id_param(p, "location_id", "Location", &mut errors) {
        e.hr.location_id = location;
    }
    if control {
        if let Some(title) = p.text("position_title").flatten() {
            let pid = job_title_id(t, &title);
            move_history(&mut e.hr.position_history, pid, today);
            e.hr.position_id = Some(pid);
        }
    }
    // Accepted and not modelled: approver_ids, selected_leave_types.
    let _ = (p.list("approver_ids"), p.list("selected_leave_types"));
    apply_personal(&mut e.hr, p, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    t.employees.insert(id, e);
    Ok(())
}

/// H7: records a termination; it takes effect once `date` has passed.
pub(crate) fn terminate(t: &mut Tenant, id: u64, p: &Params) -> Result<(), ApiError> {
    if t.active_employee(id).is_none() {
        return Err(ApiError::not_found());
    }
    let mut errors = Vec::new();
    let date = match p.text("date").flatten() {
        None => {
            errors.push("Date can't be blank".to_owned());
            None
        }
        Some(s) => {
            let d = parse_date(&s);
            if d.is_none() {
                errors.push("Date is not a valid date".into());
            }
            d
        }
    };
    let reason = match p.text("termination_reason_id").flatten() {
        None => {
            errors.push("Termination reason can't be blank".to_owned());
            None
        }
        Some(s) => match s
            .parse::<u64>()
            .ok()
            .filter(|r| t.hris.termination_reasons.contains_key(r))
        {
            Some(r) => Some(r),
            None => {
                errors.push("Termination reason must exist".into());
                None
            }
        },
    };
    let (Some(date), Some(reason_id), true) = (date, reason, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let comments = p.text("comments").flatten();
    if let Some(e) = t.employees.get_mut(&id) {
        e.hr.termination = Some(Termination {
            date,
            reason_id,
            comments,
        });
    }
    Ok(())
}

/// H8: a terminated employee is active again from `date` (the new start date).
pub(crate) fn rehire(t: &mut Tenant, id: u64, p: &Params) -> Result<(), ApiError> {
    let today = t.today();
    let Some(e) = t.employees.get(&id) else {
        return Err(ApiError::not_found());
    };
    if !e.is_terminated(today) {
        return Err(ApiError::validation(vec![
            "Employee is not terminated".into()
        ]));
    }
    let date = match p.text("date").flatten() {
        None => return Err(ApiError::validation(vec!["Date can't be blank".into()])),
        Some(s) => parse_date(&s)
            .ok_or_else(|| ApiError::validation(vec!["Date is not a valid date".into()]))?,
    };
    if let Some(e) = t.employees.get_mut(&id) {
        e.hr.termination = None;
        e.hr.employment_start_date = Some(date);
    }
    Ok(())
}

fn created(body: Value) -> Response {
    (StatusCode::CREATED, Json(json!({ "data": body }))).into_response()
}

async fn employees_create(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    request: Request,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, request.headers())?;
    let params = read_params(request).await?;
    let id = create_employee(&mut lock(&tenant), &params)?;
    Ok(created(json!({ "id": id })))
}

async fn employees_update(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    request: Request,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, request.headers())?;
    let id = parse_id(&id)?;
    if lock(&tenant).active_employee(id).is_none() {
        return Err(ApiError::not_found());
    }
    let params = read_params(request).await?;
    update_employee(&mut lock(&tenant), id, &params, false)?;
    Ok((StatusCode::ACCEPTED, Json(json!({"data": {"id": id}}))).into_response())
}

async fn employees_terminate(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    request: Request,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, request.headers())?;
    let id = parse_id(&id)?;
    let params = read_params(request).await?;
    terminate(&mut lock(&tenant), id, &params)?;
    Ok(created(json!({})))
}

async fn employees_rehire(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    request: Request,
) -> ApiResult {
    let (tenant, _) = authenticate(&sim, &subdomain, request.headers())?;
    let id = parse_id(&id)?;
    let params = read_params(request).await?;
    rehire(&mut lock(&tenant), id, &params)?;
    Ok(created(json!({})))
}
