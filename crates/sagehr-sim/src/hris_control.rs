//! The control API's core-HR part under `/_sim/{subdomain}/hris/...`: what an HR admin does in
//! the Sage HR web app (terminate, rehire, change an employee, add compensation, set custom
//! fields, add and decide leave requests), the tenant's "today", and a raw read of the whole
//! core-HR data for tests that compare it with what atsbridge serves.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use time::Date;

use crate::control::{
    bad_request, invalid, not_found, ok, parse_date, with_tenant, Body, ControlError,
};
use crate::hris::{Compensation, CustomValue, DayPart, LeaveRequest, LeaveStatus};
use crate::hris_api::{self, Flags, Params};
use crate::render::date;
use crate::state::{Sim, Tenant};

type ControlResult = Result<Response, ControlError>;

pub fn router() -> Router<Sim> {
    Router::new()
        .route("/_sim/{subdomain}/hris", get(raw))
        .route(
            "/_sim/{subdomain}/hris/today",
            get(today_view).post(today_set),
        )
        .route("/_sim/{subdomain}/hris/employees", post(employees_create))
        .route(
            "/_sim/{subdomain}/hris/employees/{id}",
            axum::routing::patch(employees_update),
        )
        .route(
            "/_sim/{subdomain}/hris/employees/{id}/terminate",
            post(employees_terminate),
        )
        .route(
            "/_sim/{subdomain}/hris/employees/{id}/rehire",
            post(employees_rehire),
        )
        .route(
            "/_sim/{subdomain}/hris/employees/{id}/compensations",
            post(compensations_add),
        )
        .route(
            "/_sim/{subdomain}/hris/employees/{id}/custom-fields/{field}",
            put(custom_field_set),
        )
        .route("/_sim/{subdomain}/hris/leave-requests", post(requests_add))
        .route(
            "/_sim/{subdomain}/hris/leave-requests/{id}",
            axum::routing::delete(requests_delete),
        )
        .route(
            "/_sim/{subdomain}/hris/leave-requests/{id}/{decision}",
            post(requests_decide),
        )
}

fn api_err(e: &crate::api::ApiError) -> ControlError {
    ControlError::from_api(e)
}

fn id_of(raw: &str, what: &str) -> Result<u64, ControlError> {
    raw.parse().map_err(|_| not_found(what))
}

fn employee_id(t: &Tenant, raw: &str) -> Result<u64, ControlError> {
    let id = id_of(raw, "employee")?;
    t.employees
        .contains_key(&id)
        .then_some(id)
        .ok_or_else(|| not_found("employee"))
}

/// Everything, in Sage HR's shapes where it has one, with what the API hides added:
/// terminated employees with every history, termination, compensation and custom fields.
pub fn raw_json(t: &Tenant) -> Value {
    let today = t.today();
    let employees: Vec<Value> = t
        .employees
        .values()
        .map(|e| {
            let mut v = hris_api::employee(t, e, Flags::ALL);
            v["terminated"] = json!(e.is_terminated(today));
            v["termination"] = json!(e.hr.termination.as_ref().map(|x| json!({
                "date": date(x.date),
                "reason_id": x.reason_id,
                "reason": t.hris.termination_reasons.get(&x.reason_id).map(|r| r.name.clone()),
                "comments": x.comments,
            })));
            v["location_id"] = json!(e.hr.location_id);
            v["state"] = json!(e.hr.state);
            v["compensations"] = json!(hris_api::compensations(e));
            v["custom_fields"] = hris_api::custom_fields(t, e);
            v
        })
        .collect();
    let mut members: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for e in t.active_employees() {
        if let Some(team) = e.hr.team_id {
            members.entry(team).or_default().push(e.id);
        }
    }
    json!({
        "today": date(today),
        "today_pinned": t.hris.today.is_some(),
        "employees": employees,
        "teams": t.hris.teams.values().map(|team| json!({
            "id": team.id, "name": team.name, "manager_ids": team.manager_ids,
            "employee_ids": members.get(&team.id).cloned().unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "positions": t.hris.job_titles.values().map(|p| json!({
            "id": p.id, "title": p.title, "description": p.description, "code": p.code,
        })).collect::<Vec<_>>(),
        "employment_statuses": t.hris.employment_statuses.iter()
            .map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
        "termination_reasons": t.hris.termination_reasons.values().map(|r| json!({
            "id": r.id, "name": r.name, "code": r.code, "type": r.kind,
        })).collect::<Vec<_>>(),
        "custom_fields": t.hris.custom_fields.values().map(|d| json!({
            "id": d.id, "label": d.label, "type": d.kind, "options": d.options,
        })).collect::<Vec<_>>(),
        "policies": t.hris.policies.values().map(hris_api::policy_detail).collect::<Vec<_>>(),
        "leave_requests": t.hris.requests.values().map(|r| hris_api::request(t, r))
            .collect::<Vec<_>>(),
    })
}

async fn raw(State(sim): State<Sim>, Path(subdomain): Path<String>) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| Ok(ok(raw_json(t))))
}

fn today_json(t: &Tenant) -> Value {
    json!({"today": date(t.today()), "pinned": t.hris.today.is_some()})
}

async fn today_view(State(sim): State<Sim>, Path(subdomain): Path<String>) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| Ok(ok(today_json(t))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TodayBody {
    /// `null` goes back to the real date.
    date: Option<String>,
}

async fn today_set(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    Body(body): Body<TodayBody>,
) -> ControlResult {
    let date = body.date.as_deref().map(parse_date).transpose()?;
    with_tenant(&sim, &subdomain, |t| {
        t.hris.today = date;
        Ok(ok(today_json(t)))
    })
}

async fn employees_create(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    Body(body): Body<Value>,
) -> ControlResult {
    let params = Params::from_json(&body).map_err(|e| api_err(&e))?;
    with_tenant(&sim, &subdomain, |t| {
        let id = hris_api::create_employee(t, &params).map_err(|e| api_err(&e))?;
        if !params.has("team_id")
            && !params.has("leader_id")
            && !params.has("reports_to_employee_id")
        {
            return Ok((StatusCode::CREATED, Json(json!({"data": {"id": id}}))).into_response());
        }
        hris_api::update_employee(t, id, &params, true).map_err(|e| api_err(&e))?;
        Ok((StatusCode::CREATED, Json(json!({"data": {"id": id}}))).into_response())
    })
}

/// Changes any employee, terminated ones included, with H6's names plus `email`,
/// `reports_to_employee_id`, `employment_start_date` and `position_title`.
async fn employees_update(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    Body(body): Body<Value>,
) -> ControlResult {
    let params = Params::from_json(&body).map_err(|e| api_err(&e))?;
    with_tenant(&sim, &subdomain, |t| {
        let id = employee_id(t, &id)?;
        hris_api::update_employee(t, id, &params, true).map_err(|e| api_err(&e))?;
        let e = &t.employees[&id];
        Ok(ok(hris_api::employee(t, e, Flags::ALL)))
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TerminateBody {
    date: String,
    /// Default: the first termination reason.
    termination_reason_id: Option<u64>,
    comments: Option<String>,
}

/// Terminates like H7, but also an employee whose termination is already recorded (the date
/// is replaced), and with a default reason.
async fn employees_terminate(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    Body(body): Body<TerminateBody>,
) -> ControlResult {
    let date = parse_date(&body.date)?;
    with_tenant(&sim, &subdomain, |t| {
        let id = employee_id(t, &id)?;
        let reason_id = match body.termination_reason_id {
            Some(r) if t.hris.termination_reasons.contains_key(&r) => r,
            Some(r) => return Err(invalid(format!("no termination reason {r}"))),
            None => *t
                .hris
                .termination_reasons
                .keys()
                .next()
                .ok_or_else(|| invalid("the tenant has no termination reasons"))?,
        };
        if let Some(e) = t.employees.get_mut(&id) {
            e.hr.termination = Some(crate::hris::Termination {
                date,
                reason_id,
                comments: body.comments,
            });
        }
        let today = t.today();
        Ok(ok(
            json!({"id": id, "terminated": t.employees[&id].is_terminated(today)}),
        ))
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RehireBody {
    /// The new start date; default: today.
    date: Option<String>,
}

/// Clears an employee's termination (past or future) and sets the new start date.
async fn employees_rehire(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    Body(body): Body<RehireBody>,
) -> ControlResult {
    let date = body.date.as_deref().map(parse_date).transpose()?;
    with_tenant(&sim, &subdomain, |t| {
        let id = employee_id(t, &id)?;
        let date = date.unwrap_or_else(|| t.today());
        if let Some(e) = t.employees.get_mut(&id) {
            if e.hr.termination.is_none() {
                return Err(invalid("the employee has no termination"));
            }
            e.hr.termination = None;
            e.hr.employment_start_date = Some(date);
        }
        Ok(ok(json!({"id": id, "terminated": false})))
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompensationBody {
    start_date: String,
    end_date: Option<String>,
    amount: f64,
    currency: Option<String>,
    period: Option<String>,
    category: Option<String>,
    comment: Option<String>,
}

/// Adds a compensation row; an open row that started earlier ends the day before it.
async fn compensations_add(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
    Body(body): Body<CompensationBody>,
) -> ControlResult {
    let start = parse_date(&body.start_date)?;
    let end = body.end_date.as_deref().map(parse_date).transpose()?;
    with_tenant(&sim, &subdomain, |t| {
        let id = employee_id(t, &id)?;
        let Some(e) = t.employees.get_mut(&id) else {
            return Err(not_found("employee"));
        };
        let rows = &mut e.hr.compensations;
        let currency = body
            .currency
            .or_else(|| rows.last().map(|c| c.currency.clone()))
            .unwrap_or_else(|| "EUR".into());
        for open in rows
            .iter_mut()
            .filter(|c| c.end_date.is_none() && c.start_date < start)
        {
            open.end_date = Some(start - time::Duration::days(1));
        }
        rows.push(Compensation {
            start_date: start,
            end_date: end,
            currency,
            amount: body.amount,
            period: body.period.unwrap_or_else(|| "monthly".into()),
            comment: body.comment,
            category: body.category.unwrap_or_else(|| "Salary".into()),
        });
        rows.sort_by_key(|c| c.start_date);
        Ok((
            StatusCode::CREATED,
            Json(json!({"data": hris_api::compensations(e)})),
        )
            .into_response())
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomFieldBody {
    /// A string for a dropdown, a list of strings for tags, `null` to clear.
    value: Value,
}

async fn custom_field_set(
    State(sim): State<Sim>,
    Path((subdomain, id, field)): Path<(String, String, String)>,
    Body(body): Body<CustomFieldBody>,
) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| {
        let id = employee_id(t, &id)?;
        let field = id_of(&field, "custom field")?;
        let def = t
            .hris
            .custom_fields
            .get(&field)
            .ok_or_else(|| not_found("custom field"))?;
        let value = match (&body.value, def.kind.as_str()) {
            (Value::Null, "CustomTags") => CustomValue::Many(vec![]),
            (Value::Null, _) => CustomValue::One(None),
            (Value::Array(items), "CustomTags") => CustomValue::Many(
                items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| invalid("tags are strings"))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            (Value::String(s), "CustomTags") => CustomValue::Many(vec![s.clone()]),
            (Value::String(s), _) => {
                if def.options.as_ref().is_some_and(|o| !o.contains(s)) {
                    return Err(invalid(format!("`{s}` is not an option of {}", def.label)));
                }
                CustomValue::One(Some(s.clone()))
            }
            _ => return Err(invalid("value must be a string, a list of strings or null")),
        };
        if let Some(e) = t.employees.get_mut(&id) {
            e.hr.custom_fields.insert(field, value);
        }
        Ok(ok(hris_api::custom_fields(t, &t.employees[&id])))
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestBody {
    employee_id: u64,
    policy_id: u64,
    start_date: String,
    /// Default: `start_date`.
    end_date: Option<String>,
    /// `all_day` (default), `first_part_of_day`, `second_part_of_day`, `specific_timespan`.
    part_of_day: Option<String>,
    /// `HH:MM`, for `specific_timespan`.
    time_from: Option<String>,
    time_to: Option<String>,
    hours: Option<f64>,
    /// `approved`, `pending` (default), `declined`, `canceled`.
    status: Option<String>,
    details: Option<String>,
    replacement_id: Option<u64>,
    request_date: Option<String>,
}

fn hhmm(s: &str) -> Result<(u8, u8), ControlError> {
    let bad = || invalid(format!("`{s}` is not an HH:MM time"));
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let (h, m): (u8, u8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok((h, m))
}

async fn requests_add(
    State(sim): State<Sim>,
    Path(subdomain): Path<String>,
    Body(body): Body<RequestBody>,
) -> ControlResult {
    let start = parse_date(&body.start_date)?;
    let end = body
        .end_date
        .as_deref()
        .map(parse_date)
        .transpose()?
        .unwrap_or(start);
    if end < start {
        return Err(invalid("end_date is before start_date"));
    }
    let part = match body.part_of_day.as_deref().unwrap_or("all_day") {
        "all_day" => DayPart::AllDay,
        "first_part_of_day" => DayPart::First,
        "second_part_of_day" => DayPart::Second,
        "specific_timespan" => DayPart::Specific {
            from: hhmm(
                body.time_from
                    .as_deref()
                    .ok_or_else(|| invalid("time_from is required"))?,
            )?,
            to: hhmm(
                body.time_to
                    .as_deref()
                    .ok_or_else(|| invalid("time_to is required"))?,
            )?,
        },
        other => return Err(bad_request(format!("unknown part_of_day `{other}`"))),
    };
    if part != DayPart::AllDay && end != start {
        return Err(invalid("a part-day request is on a single day"));
    }
    let status = match body.status.as_deref() {
        None => LeaveStatus::Pending,
        Some(s) => LeaveStatus::parse(s).ok_or_else(|| invalid(format!("unknown status `{s}`")))?,
    };
    let request_date = body.request_date.as_deref().map(parse_date).transpose()?;
    with_tenant(&sim, &subdomain, |t| {
        if !t.employees.contains_key(&body.employee_id) {
            return Err(invalid(format!("no employee {}", body.employee_id)));
        }
        let policy = t
            .hris
            .policies
            .get(&body.policy_id)
            .ok_or_else(|| invalid(format!("no leave policy {}", body.policy_id)))?;
        if policy.only_full_days && part != DayPart::AllDay {
            return Err(invalid("the policy takes full days only"));
        }
        if body
            .replacement_id
            .is_some_and(|r| !t.employees.contains_key(&r))
        {
            return Err(invalid("no such replacement employee"));
        }
        let days = (end - start).whole_days() + 1;
        let hours = body.hours.unwrap_or(match part {
            DayPart::AllDay => 8.0 * days as f64,
            DayPart::First | DayPart::Second => 4.0,
            DayPart::Specific { from, to } => {
                (f64::from(to.0) * 60.0 + f64::from(to.1)
                    - f64::from(from.0) * 60.0
                    - f64::from(from.1))
                    / 60.0
            }
        });
        let today = t.today();
        let request_date = request_date.unwrap_or(today);
        let id = t.next_id();
        t.hris.requests.insert(
            id,
            LeaveRequest {
                id,
                employee_id: body.employee_id,
                policy_id: body.policy_id,
                status,
                start_date: start,
                end_date: end,
                part,
                hours,
                details: body.details,
                request_date,
                approval_date: matches!(status, LeaveStatus::Approved | LeaveStatus::Declined)
                    .then_some(today),
                replacement_id: body.replacement_id,
                fields: vec![],
            },
        );
        let r = &t.hris.requests[&id];
        Ok((
            StatusCode::CREATED,
            Json(json!({"data": hris_api::request(t, r)})),
        )
            .into_response())
    })
}

/// `approve`, `decline` or `cancel` a request, in any status (an admin can reverse a
/// decision in the web app).
/// Removes a leave request as if an admin deleted it in Sage HR (the public API has no way to):
/// it is gone from every listing.
async fn requests_delete(
    State(sim): State<Sim>,
    Path((subdomain, id)): Path<(String, String)>,
) -> ControlResult {
    with_tenant(&sim, &subdomain, |t| {
        let id = id_of(&id, "leave request")?;
        t.hris
            .requests
            .remove(&id)
            .ok_or_else(|| not_found("leave request"))?;
        Ok(ok(serde_json::json!({"id": id})))
    })
}

async fn requests_decide(
    State(sim): State<Sim>,
    Path((subdomain, id, decision)): Path<(String, String, String)>,
) -> ControlResult {
    let status = match decision.as_str() {
        "approve" => LeaveStatus::Approved,
        "decline" => LeaveStatus::Declined,
        "cancel" => LeaveStatus::Canceled,
        _ => return Err(not_found("control route")),
    };
    with_tenant(&sim, &subdomain, |t| {
        let id = id_of(&id, "leave request")?;
        let today: Date = t.today();
        let r = t
            .hris
            .requests
            .get_mut(&id)
            .ok_or_else(|| not_found("leave request"))?;
        r.status = status;
        r.approval_date = match status {
            LeaveStatus::Approved | LeaveStatus::Declined => Some(today),
            _ => r.approval_date,
        };
        let r = &t.hris.requests[&id];
        Ok(ok(hris_api::request(t, r)))
    })
}
