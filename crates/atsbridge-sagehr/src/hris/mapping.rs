//! Sage HR core-HR JSON → Kombo's HRIS records, as `sagehr-hris-api.md` §7 maps them. Pure
//! functions: JSON in, records out; no I/O. Sage HR is read leniently (numbers as strings,
//! empty strings as nothing), as for the recruitment part.

use atsbridge_model::common::{CustomFields, Location};
use atsbridge_model::hris::{
    Absence, AbsenceCore, AbsenceStatus, AbsenceType, ClockTime, Employee, EmployeeCore,
    Employment, EmploymentStatus, EmploymentType, Gender, Group, GroupRef, GroupType,
    IntegrationField, IntegrationFieldType, MaritalStatus, PayPeriod, PlainDate, TimeOffBalance,
    TimeOffBalanceCore, TimeUnit,
};
use atsbridge_model::id::integration_field_id;
use atsbridge_model::write::is_valid_email;
use atsbridge_model::{record_id, ModelKind, Timestamp};
use serde_json::{json, Value};

use crate::mapping::parse_when;

/// `remote_data` keys: the endpoint each record was read from.
pub const EMPLOYEES_PATH: &str = "/employees";
pub const TERMINATED_PATH: &str = "/terminated-employees";
pub const COMPENSATIONS_PATH: &str = "/employees/{id}/compensations";
pub const CUSTOM_FIELDS_PATH: &str = "/employees/{id}/custom-fields";
pub const TEAMS_PATH: &str = "/teams";
pub const POLICIES_PATH: &str = "/leave-management/policies";
pub const POLICY_PATH: &str = "/leave-management/policies/{id}";
pub const BALANCES_PATH: &str = "/employees/{id}/leave-management/balances";
pub const REQUESTS_PATH: &str = "/leave-management/requests";

/// The keys of H3's short form of a terminated employee (with the position history the read
/// asks for). `read_employee` cuts H4's full answer down to these, so a terminated employee
/// read alone has exactly the `remote_data` (and so the hash) that `read_all` gives it.
pub const TERMINATED_LIST_KEYS: [&str; 17] = [
    "id",
    "termination_date",
    "employee_number",
    "email",
    "first_name",
    "last_name",
    "picture_url",
    "employment_start_date",
    "date_of_birth",
    "position",
    "personal_identification_number",
    "tax_number",
    "team",
    "team_id",
    "employment_status",
    "irregular_contract_worker",
    "position_history",
];

/// What every mapped record shares: the integration its ids derive from, when it was read,
/// and the day the read takes as today (for `PENDING` employees).
#[derive(Debug, Clone, Copy)]
pub struct HrisScope<'a> {
    pub integration_id: &'a str,
    pub read_at: Timestamp,
    pub today: PlainDate,
}

impl HrisScope<'_> {
    pub fn id(&self, model: ModelKind, remote_id: &str) -> String {
        record_id(self.integration_id, model, remote_id)
    }
}

/// A text field: strings (trimmed, empty is nothing), numbers and booleans as their text.
pub fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number that Sage HR may send as a string (`"37.5"`).
pub fn number(v: &Value, key: &str) -> Option<f64> {
    match v.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn flag(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn date(v: &Value, key: &str) -> Option<PlainDate> {
    text(v, key).and_then(|s| PlainDate::parse(s.get(..10).unwrap_or(&s)))
}

/// A date as Kombo's HRIS gives dates outside absences: midnight UTC of the day.
fn midnight(v: &Value, key: &str) -> Option<Timestamp> {
    text(v, key).and_then(|s| parse_when(&s))
}

/// `Male`→MALE, `Female`→FEMALE; anything else (Sage HR's `Other`) passes through raw rather
/// than being guessed into NON_BINARY.
pub fn gender(raw: &str) -> Gender {
    match raw.to_ascii_lowercase().as_str() {
        "male" => Gender::Male,
        "female" => Gender::Female,
        _ => Gender::from_raw(raw),
    }
}

/// Sage HR's write list is `Married, Single, Divorced, Widower, In a relationship, Other`;
/// the last two have no exact Kombo value and pass through raw.
pub fn marital_status(raw: &str) -> MaritalStatus {
    match raw.to_ascii_lowercase().as_str() {
        "married" => MaritalStatus::Married,
        "single" => MaritalStatus::Single,
        "divorced" => MaritalStatus::Divorced,
        "widower" | "widowed" | "widow" => MaritalStatus::Widowed,
        "separated" => MaritalStatus::Separated,
        _ => MaritalStatus::from_raw(raw),
    }
}

/// Sage HR's `employment_status` is a company-defined employment type label.
pub fn employment_type(label: &str) -> EmploymentType {
    let lower = label.to_ascii_lowercase().replace(['-', '_'], " ");
    if lower == "full time" {
        EmploymentType::FullTime
    } else if lower == "part time" {
        EmploymentType::PartTime
    } else if lower.contains("contract") {
        EmploymentType::Contract
    } else if lower.contains("intern") {
        EmploymentType::Internship
    } else if lower.contains("freelance") {
        EmploymentType::Freelance
    } else {
        EmploymentType::from_raw(label)
    }
}

pub fn pay_period(raw: &str) -> PayPeriod {
    match raw.to_ascii_lowercase().as_str() {
        "monthly" => PayPeriod::Month,
        "yearly" | "annually" | "annual" => PayPeriod::Year,
        "hourly" => PayPeriod::Hour,
        "weekly" => PayPeriod::Week,
        "daily" => PayPeriod::Day,
        _ => PayPeriod::from_raw(raw),
    }
}

pub fn absence_status(code: &str) -> AbsenceStatus {
    match code.to_ascii_lowercase().as_str() {
        "approved" => AbsenceStatus::Approved,
        "pending" => AbsenceStatus::Requested,
        "declined" => AbsenceStatus::Declined,
        "canceled" | "cancelled" => AbsenceStatus::Cancelled,
        _ => AbsenceStatus::from_raw(code),
    }
}

pub fn time_unit(raw: &str) -> Option<TimeUnit> {
    match raw.to_ascii_lowercase().as_str() {
        "days" | "day" => Some(TimeUnit::Days),
        "hours" | "hour" => Some(TimeUnit::Hours),
        _ => None,
    }
}

/// An employee from H1 (`terminated: false`) or H3 (`terminated: true`), in the form both
/// `read_all` and `read_employee` deliver. `groups` holds the employee's team, the one
/// membership only the employee record tells; every other nested list is left to the store.
pub fn employee(scope: HrisScope<'_>, raw: &Value, terminated: bool) -> Option<Employee> {
    let remote_id = text(raw, "id")?;
    let path = if terminated {
        TERMINATED_PATH
    } else {
        EMPLOYEES_PATH
    };
    let start_date = midnight(raw, "employment_start_date");
    let employment_status = if terminated {
        EmploymentStatus::Inactive
    } else if date(raw, "employment_start_date").is_some_and(|d| d > scope.today) {
        EmploymentStatus::Pending
    } else {
        EmploymentStatus::Active
    };
    let home_address = home_address(raw);
    let core = EmployeeCore {
        id: scope.id(ModelKind::Employee, &remote_id),
        remote_id: remote_id.clone(),
        employee_number: text(raw, "employee_number"),
        first_name: text(raw, "first_name"),
        last_name: text(raw, "last_name"),
        nationality: text(raw, "nationality"),
        display_full_name: None,
        job_title: text(raw, "position"),
        work_email: text(raw, "email").filter(|e| is_valid_email(e)),
        personal_email: None,
        mobile_phone_number: text(raw, "mobile_phone"),
        ssn: None,
        tax_id: text(raw, "tax_number"),
        gender: text(raw, "gender").map(|g| gender(&g)),
        ethnicity: None,
        marital_status: text(raw, "marital_status").map(|m| marital_status(&m)),
        employment_status: Some(employment_status),
        employment_type: text(raw, "employment_status").map(|l| employment_type(&l)),
        weekly_hours: None,
        avatar: text(raw, "picture_url"),
        work_location_id: None,
        legal_entity_id: None,
        manager_id: text(raw, "reports_to_employee_id").map(|m| scope.id(ModelKind::Employee, &m)),
        home_address,
        bank_accounts: Some(vec![]),
        date_of_birth: midnight(raw, "date_of_birth"),
        start_date,
        termination_date: if terminated {
            midnight(raw, "termination_date")
        } else {
            None
        },
        remote_created_at: None,
        changed_at: scope.read_at,
        remote_deleted_at: None,
        // Filled from H9 by `with_custom_fields`; `{}` until then.
        custom_fields: Some(CustomFields::new()),
        integration_fields: vec![],
        remote_data: Some(json!({ path: raw })),
    };
    let groups = text(raw, "team_id")
        .map(|team| {
            vec![GroupRef {
                id: scope.id(ModelKind::Group, &team),
                remote_id: team,
                name: text(raw, "team"),
                kind: Some(GroupType::Team),
            }]
        })
        .unwrap_or_default();
    let mut employee = Employee::new(core, vec![], vec![], None, groups);
    // `teams` mirrors `groups` for old clients; the store fills it when serving.
    employee.teams = vec![];
    Some(employee)
}

/// An employee's custom fields from H9 (`GET /employees/{id}/custom-fields`, a list of
/// `{id, label, type, value, options}`):
///
/// - `custom_fields` keys each value by the field's label. Kombo keys them by a mapping the
///   customer sets up in its dashboard; atsbridge has no mapping step, so every field is
///   mapped, under the name the customer gave it in Sage HR. A label two fields share gets
///   the field's id after it (`"Skills (42)"`) on every field but the first;
/// - `integration_fields` lists every field as `CUSTOM`, keyed by Sage HR's field id, with
///   an id that is the same on every employee;
/// - `remote_data` gains the H9 answer under its path.
///
/// Values pass through as Sage HR gives them: a dropdown's string (or `null`), tags' list.
pub fn with_custom_fields(scope: HrisScope<'_>, employee: &mut Employee, rows: &[Value]) {
    let mut custom = CustomFields::new();
    let mut fields = Vec::new();
    for row in rows {
        let Some(field) = text(row, "id") else {
            continue;
        };
        let label = text(row, "label");
        let value = row.get("value").cloned().unwrap_or(Value::Null);
        let name = label.clone().unwrap_or_else(|| field.clone());
        let key = if custom.contains_key(&name) {
            format!("{name} ({field})")
        } else {
            name
        };
        custom.insert(key, value.clone());
        fields.push(IntegrationField {
            id: integration_field_id(scope.integration_id, &field),
            key: field,
            kind: IntegrationFieldType::Custom,
            value,
            label,
        });
    }
    let core = &mut employee.core;
    core.custom_fields = Some(custom);
    core.integration_fields = fields;
    if let Some(Value::Object(remote)) = &mut core.remote_data {
        remote.insert(CUSTOM_FIELDS_PATH.to_owned(), Value::Array(rows.to_vec()));
    }
}

fn home_address(raw: &Value) -> Option<Location> {
    let street_1 = text(raw, "street_first");
    // One client spells H4's key `stree_second`.
    let street_2 = text(raw, "street_second").or_else(|| text(raw, "stree_second"));
    let city = text(raw, "city");
    let state = text(raw, "state");
    let zip_code = text(raw, "post_code");
    let country = text(raw, "country");
    let parts: Vec<&str> = [&street_1, &street_2, &zip_code, &city, &state, &country]
        .into_iter()
        .filter_map(|p| p.as_deref())
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(Location {
        raw: Some(parts.join(", ")),
        street_1,
        street_2,
        city,
        state,
        zip_code,
        country,
    })
}

/// The compensation rows of one employee (H11), one employment each. `employee_raw` is the
/// employee as listed (H1/H3 with `position_history`), which gives the job title in force on
/// each row's start and the employment type.
pub fn employments(scope: HrisScope<'_>, employee_raw: &Value, rows: &[Value]) -> Vec<Employment> {
    let Some(employee_remote_id) = text(employee_raw, "id") else {
        return vec![];
    };
    let employee_id = scope.id(ModelKind::Employee, &employee_remote_id);
    let employment_type = text(employee_raw, "employment_status").map(|l| employment_type(&l));
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let start = date(row, "start_date");
        let category = text(row, "category");
        // Rows have no id: the employee, the day the row starts and, for anything but the
        // salary itself, its category make one. A second row with the same key (Sage HR does
        // not forbid it) gets its position in the listing added.
        let mut remote_id = format!(
            "{employee_remote_id}:{}",
            start.map(|d| d.to_string()).unwrap_or_default()
        );
        if let Some(c) = category
            .as_deref()
            .filter(|c| !c.eq_ignore_ascii_case("salary"))
        {
            remote_id.push(':');
            remote_id.push_str(c);
        }
        if !seen.insert(remote_id.clone()) {
            remote_id = format!("{remote_id}:{}", out.len() + 1);
            seen.insert(remote_id.clone());
        }
        let job_title = start
            .and_then(|d| title_on(employee_raw, d))
            .or_else(|| text(employee_raw, "position"));
        out.push(Employment {
            id: scope.id(ModelKind::Employment, &remote_id),
            remote_id: Some(remote_id),
            employee_id: employee_id.clone(),
            job_title,
            pay_rate: number(row, "amount"),
            pay_period: text(row, "period").map(|p| pay_period(&p)),
            pay_frequency: None,
            employment_type: employment_type.clone(),
            pay_currency: text(row, "currency"),
            effective_date: midnight(row, "start_date"),
            changed_at: scope.read_at,
            remote_deleted_at: None,
            custom_fields: None,
            integration_fields: vec![],
            remote_data: Some(json!({ COMPENSATIONS_PATH: row })),
        });
    }
    out
}

/// The `position_history` entry in force on `day`.
fn title_on(employee_raw: &Value, day: PlainDate) -> Option<String> {
    employee_raw
        .get("position_history")?
        .as_array()?
        .iter()
        .find(|h| {
            date(h, "start_date").is_some_and(|s| s <= day)
                && date(h, "end_date").is_none_or(|e| day <= e)
        })
        .and_then(|h| text(h, "position_name"))
}

pub fn group(scope: HrisScope<'_>, raw: &Value) -> Option<Group> {
    let remote_id = text(raw, "id")?;
    Some(Group {
        id: scope.id(ModelKind::Group, &remote_id),
        remote_id,
        name: text(raw, "name"),
        // Sage HR's teams are its only grouping, flat and untyped.
        kind: Some(GroupType::Team),
        parent_id: None,
        changed_at: scope.read_at,
        remote_deleted_at: None,
        remote_data: Some(json!({ TEAMS_PATH: raw })),
    })
}

/// A policy from H15 with its H16 detail (`None` when it was not read).
pub fn absence_type(
    scope: HrisScope<'_>,
    raw: &Value,
    detail: Option<&Value>,
) -> Option<AbsenceType> {
    let remote_id = text(raw, "id")?;
    let unit = text(raw, "unit").and_then(|u| time_unit(&u));
    let mut remote_data = json!({ POLICIES_PATH: raw });
    if let Some(detail) = detail {
        remote_data[POLICY_PATH] = detail.clone();
    }
    Some(AbsenceType {
        id: scope.id(ModelKind::AbsenceType, &remote_id),
        remote_id,
        name: text(raw, "name"),
        unit,
        half_days_supported: Some(detail.is_none_or(|d| !flag(d, "only_full_days"))),
        // Sage HR takes `specific_timespan` requests; its times only make sense (and only
        // count) for policies kept in hours.
        exact_times_supported: Some(unit == Some(TimeUnit::Hours)),
        custom_fields: None,
        changed_at: scope.read_at,
        remote_deleted_at: None,
        remote_data: Some(remote_data),
    })
}

/// One H17 row; `None` when its policy is unknown (Kombo requires the balance's type).
pub fn balance(
    scope: HrisScope<'_>,
    employee_remote_id: &str,
    raw: &Value,
    types: &std::collections::HashMap<String, AbsenceType>,
) -> Option<TimeOffBalance> {
    let policy = text(raw, "policy_id")?;
    let kind = types.get(&policy)?.clone();
    let remote_id = format!("{employee_remote_id}:{policy}");
    Some(TimeOffBalance {
        core: TimeOffBalanceCore {
            id: scope.id(ModelKind::TimeOffBalance, &remote_id),
            remote_id: Some(remote_id),
            employee_id: scope.id(ModelKind::Employee, employee_remote_id),
            type_id: kind.id.clone(),
            // `null` for policies that track no allowance (sick leave).
            balance: number(raw, "available"),
            balance_unit: kind.unit,
            used: number(raw, "used"),
            used_unit: kind.unit,
            changed_at: scope.read_at,
            remote_deleted_at: None,
            remote_data: Some(json!({ BALANCES_PATH: raw })),
        },
        kind,
    })
}

/// One H18 leave request. `policy_units` gives each policy's unit, for full-day requests.
pub fn absence(
    scope: HrisScope<'_>,
    raw: &Value,
    policy_unit: impl Fn(&str) -> Option<TimeUnit>,
) -> Option<Absence> {
    let remote_id = text(raw, "id")?;
    let employee = text(raw, "employee_id")?;
    let policy = text(raw, "policy_id");
    let start_date = date(raw, "start_date");
    let end_date = date(raw, "end_date").or(start_date);
    let part_of_day = flag(raw, "is_part_of_day");
    let specific = flag(raw, "specific_time");
    let hours = number(raw, "hours");
    // Part days and timespans are counted in hours, as are whole days of an hours policy.
    let in_hours = part_of_day
        || specific
        || policy.as_deref().and_then(&policy_unit) == Some(TimeUnit::Hours);
    let (amount, unit) = if in_hours {
        (hours, Some(TimeUnit::Hours))
    } else {
        // Calendar days, as Sage HR's own balances count them: there is no working-day
        // calendar in the API.
        let days = match (start_date, end_date) {
            (Some(s), Some(e)) if e >= s => Some(((e.0 - s.0).whole_days() + 1) as f64),
            _ => None,
        };
        (days, Some(TimeUnit::Days))
    };
    let clock = |key: &str| {
        if specific {
            text(raw, key).and_then(|t| ClockTime::parse(&t))
        } else {
            None
        }
    };
    Some(Absence {
        core: AbsenceCore {
            id: scope.id(ModelKind::Absence, &remote_id),
            remote_id: Some(remote_id),
            employee_id: scope.id(ModelKind::Employee, &employee),
            approver_id: None,
            start_date,
            end_date,
            // Afternoon only: it starts mid-day. Morning only: it ends mid-day.
            start_half_day: Some(part_of_day && flag(raw, "second_part_of_day")),
            end_half_day: Some(part_of_day && flag(raw, "first_part_of_day")),
            start_time: clock("time_from"),
            end_time: clock("time_to"),
            amount,
            unit,
            status: text(raw, "status_code").map(|s| absence_status(&s)),
            employee_note: text(raw, "details"),
            type_id: policy.map(|p| scope.id(ModelKind::AbsenceType, &p)),
            remote_created_at: None,
            remote_updated_at: None,
            changed_at: scope.read_at,
            remote_deleted_at: None,
            remote_data: Some(json!({ REQUESTS_PATH: raw })),
        },
        kind: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_map_per_the_reference_and_pass_the_rest_through() {
        assert_eq!(gender("Male"), Gender::Male);
        assert_eq!(gender("Other").as_str(), "Other");
        assert_eq!(marital_status("Widower"), MaritalStatus::Widowed);
        assert_eq!(employment_type("Full-time"), EmploymentType::FullTime);
        assert_eq!(employment_type("Contractor"), EmploymentType::Contract);
        assert_eq!(employment_type("Intern"), EmploymentType::Internship);
        assert_eq!(employment_type("Seasonal").as_str(), "Seasonal");
        assert_eq!(pay_period("monthly"), PayPeriod::Month);
        assert_eq!(absence_status("canceled"), AbsenceStatus::Cancelled);
        assert_eq!(absence_status("pending"), AbsenceStatus::Requested);
    }

    #[test]
    fn custom_fields_are_keyed_by_label_and_a_shared_label_keeps_both() {
        let scope = HrisScope {
            integration_id: "sagehr:x",
            read_at: Timestamp::now(),
            today: PlainDate::parse("2026-06-01").unwrap(),
        };
        let mut e = employee(scope, &json!({"id": 7, "first_name": "Ada"}), false).unwrap();
        let rows = [
            json!({"id": 11, "label": "Size", "type": "CustomDropdownField", "value": "M"}),
            json!({"id": 12, "label": "Size", "type": "CustomDropdownField", "value": null}),
            json!({"id": 13, "label": "Skills", "type": "CustomTags", "value": ["Rust"]}),
        ];
        with_custom_fields(scope, &mut e, &rows);
        assert_eq!(
            Value::Object(e.core.custom_fields.clone().unwrap()),
            json!({"Size": "M", "Size (12)": null, "Skills": ["Rust"]})
        );
        let keys: Vec<&str> = e
            .core
            .integration_fields
            .iter()
            .map(|f| f.key.as_str())
            .collect();
        assert_eq!(keys, ["11", "12", "13"]);
        assert_eq!(
            e.core.integration_fields[0].id,
            integration_field_id("sagehr:x", "11")
        );
        assert_ne!(
            e.core.integration_fields[0].id,
            e.core.integration_fields[1].id
        );
        let remote = e.core.remote_data.unwrap();
        assert_eq!(remote["/employees/{id}/custom-fields"], json!(rows));
        assert_eq!(remote["/employees"]["first_name"], "Ada");
    }
}
