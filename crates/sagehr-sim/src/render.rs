//! Sage HR's JSON shapes, written from the reference (not shared with the connector): dates as
//! `YYYY-MM-DD`, datetimes as `YYYY-MM-DDTHH:MM:SSZ`, and every key present even when null.

use serde_json::{json, Value};
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::state::{Action, Applicant, Position, Tenant};

pub fn date(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

pub fn datetime(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

/// R1's list form of a position.
pub fn position(tenant: &Tenant, p: &Position) -> Value {
    json!({
        "id": p.id,
        "title": p.title,
        "status": p.status,
        "visibility": p.visibility(),
        "created_at": date(p.created_at),
        "internal_date": date(p.internal_date),
        "completed_at": p.completed_at.map(date),
        "link": p.link,
        "team": p.team,
        "applicants_required": p.applicants_required,
        "applicants_count": tenant.applicants_count(p.id),
        "employment_type": p.employment_type,
        "location": p.location,
        "location_id": p.location_id,
        "group": p.group,
        "group_id": p.group_id,
        "priority": p.priority,
        "description_blocks": p.description_blocks.iter()
            .map(|b| json!({"title": b.title, "content": b.content}))
            .collect::<Vec<_>>(),
    })
}

/// R2's detail form: the list form plus the short applicant list and the hiring team.
pub fn position_detail(tenant: &Tenant, p: &Position) -> Value {
    let mut v = position(tenant, p);
    let applicants: Vec<Value> = tenant
        .by_position
        .get(&p.id)
        .into_iter()
        .flatten()
        .filter_map(|id| tenant.applicants.get(id))
        .map(|a| json!({"id": a.id, "full_name": a.full_name(), "email": a.email}))
        .collect();
    let team: Vec<Value> = p
        .hiring_team
        .iter()
        .map(|m| {
            let name = tenant
                .employees
                .get(&m.employee_id)
                .map(|e| e.full_name())
                .unwrap_or_default();
            json!({"id": m.employee_id, "full_name": name, "role": m.role})
        })
        .collect();
    v["applicants"] = Value::Array(applicants);
    v["hiring_team"] = Value::Array(team);
    v
}

/// R3's list form of an applicant.
pub fn applicant(tenant: &Tenant, a: &Applicant) -> Value {
    let stage = tenant
        .stage(a.position_id, a.stage_id)
        .map(|s| json!({"id": s.id, "title": s.title, "created_at": datetime(s.created_at)}));
    json!({
        "id": a.id,
        "full_name": a.full_name(),
        "first_name": a.first_name,
        "last_name": a.last_name,
        "email": a.email,
        "phone_number": a.phone_number,
        "address": a.address,
        "summary": a.summary,
        "source": a.source,
        "created_at": datetime(a.created_at),
        "disqualified_date": a.disqualified_date.map(date),
        "hired_date": a.hired_date.map(date),
        "stage": stage,
    })
}

/// R5's detail form: the list form plus `position_id`, `added_by` and `referrer`.
pub fn applicant_detail(tenant: &Tenant, a: &Applicant) -> Value {
    let mut v = applicant(tenant, a);
    v["position_id"] = json!(a.position_id);
    v["added_by"] = a.added_by.and_then(|id| tenant.employees.get(&id)).map_or(
        Value::Null,
        |e| json!({"id": e.id, "full_name": e.full_name(), "email": e.email}),
    );
    v["referrer"] = a.referrer.as_ref().map_or(Value::Null, |r| {
        json!({"id": r.id, "full_name": r.full_name, "email": r.email, "phone_number": r.phone_number})
    });
    v
}

pub fn action(a: &Action) -> Value {
    json!({"action": a.action, "message": a.message, "created_at": datetime(a.created_at)})
}
