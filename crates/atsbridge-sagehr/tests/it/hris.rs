//! The HRIS connector against the simulator's core-HR part: a full read, its request count,
//! retries, and creating an employee.

use std::collections::{BTreeMap, HashMap, HashSet};

use atsbridge_model::connector::{
    Connector, ConnectorErrorKind as Kind, PassthroughRequest, Record,
};
use atsbridge_model::hris::{
    AbsenceStatus, CreateEmployeeRequest, Employee, EmploymentStatus, PayPeriod, PlainDate,
    TimeUnit,
};
use atsbridge_model::{record_id, ModelKind};
use atsbridge_sagehr::{HrisConfig, SageHrHris};
use reqwest::Method;
use sagehr_sim::{spawn, with_tenant, TenantConfig};
use serde_json::{json, Value};
use time::macros::date;
use time::Duration;

use crate::helpers::{tenant_config, Collect, Env, INTEGRATION, KEY};

const TODAY: time::Date = date!(2026 - 06 - 15);

async fn start(employees: usize) -> Env {
    let config = TenantConfig {
        employees,
        today: Some(TODAY),
        ..tenant_config(2, 1)
    };
    let sim = spawn(with_tenant(&config)).await.expect("bind loopback");
    Env {
        sim,
        expected: sagehr_sim::generate(&config),
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
    }
}

fn connector(env: &Env) -> SageHrHris {
    connector_with_key(env, KEY)
}

fn connector_with_key(env: &Env, key: &str) -> SageHrHris {
    let hris = HrisConfig {
        today: Some(PlainDate(TODAY)),
        ..HrisConfig::default()
    };
    SageHrHris::new(INTEGRATION, &env.config(key), hris).unwrap()
}

async fn raw(env: &Env) -> Value {
    env.control(Method::GET, "hris", Value::Null).await["data"].clone()
}

fn day(v: &Value) -> time::Date {
    PlainDate::parse(v.as_str().unwrap()).unwrap().0
}

fn pages(n: usize) -> u64 {
    n.div_ceil(50).max(1) as u64
}

/// The read's range and its 60-day windows, computed here from the rule rather than taken
/// from the connector.
fn windows() -> Vec<(time::Date, time::Date)> {
    let (from, to) = (TODAY - Duration::days(365), TODAY + Duration::days(365));
    let mut out = vec![];
    let mut start = from;
    while start <= to {
        let end = (start + Duration::days(59)).min(to);
        out.push((start, end));
        start = end + Duration::days(1);
    }
    out
}

fn overlaps(r: &Value, (from, to): (time::Date, time::Date)) -> bool {
    day(&r["start_date"]) <= to && day(&r["end_date"]) >= from
}

/// What the simulator holds, and the fewest requests a complete read needs: each listing's
/// pages, one H16 per policy, one H11 and one H9 per employee and one H17 per active
/// employee.
struct Expected {
    employees: usize,
    active: usize,
    terminated: usize,
    teams: usize,
    policies: usize,
    compensations: usize,
    absences: HashSet<String>,
    min_requests: u64,
}

fn expected(raw: &Value) -> Expected {
    let employees = raw["employees"].as_array().unwrap();
    let terminated = employees.iter().filter(|e| e["terminated"] == true).count();
    let active = employees.len() - terminated;
    let teams = raw["teams"].as_array().unwrap().len();
    let policies = raw["policies"].as_array().unwrap().len();
    let compensations = employees
        .iter()
        .map(|e| e["compensations"].as_array().unwrap().len())
        .sum();
    let requests = raw["leave_requests"].as_array().unwrap();
    let range = (TODAY - Duration::days(365), TODAY + Duration::days(365));
    let absences = requests
        .iter()
        .filter(|r| overlaps(r, range))
        .map(|r| r["id"].to_string())
        .collect();
    let window_pages: u64 = windows()
        .into_iter()
        .map(|w| pages(requests.iter().filter(|r| overlaps(r, w)).count()))
        .sum();
    let min_requests = pages(active)
        + pages(terminated)
        + pages(teams)
        + 1
        + policies as u64
        // H11 and H9 for every employee.
        + 2 * employees.len() as u64
        + active as u64
        + window_pages;
    Expected {
        employees: employees.len(),
        active,
        terminated,
        teams,
        policies,
        compensations,
        absences,
        min_requests,
    }
}

fn ids_once(c: &Collect, model: ModelKind) -> Vec<String> {
    let ids: Vec<String> = c
        .records
        .iter()
        .filter(|r| r.model() == model)
        .map(|r| r.id().to_owned())
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{model} delivered more than once");
    ids
}

fn employees(c: &Collect) -> BTreeMap<String, Employee> {
    c.records
        .iter()
        .filter_map(|r| match r {
            Record::Employee(e) => Some((e.core.remote_id.clone(), e.clone())),
            _ => None,
        })
        .collect()
}

/// The employee as its hash sees it: everything but the read time.
fn hashed(e: &Employee) -> Value {
    let mut v = serde_json::to_value(e).unwrap();
    v.as_object_mut().unwrap().remove("changed_at");
    v
}

#[tokio::test]
async fn a_full_read_delivers_everything_once_with_the_fewest_requests() {
    // 120 employees: H1 takes three pages.
    let env = start(120).await;
    let raw = raw(&env).await;
    let want = expected(&raw);
    assert!(
        want.active > 100 && want.terminated > 0,
        "{} {}",
        want.active,
        want.terminated
    );
    let c = connector(&env);
    env.http
        .delete(format!("{}/_sim/acme/stats", env.sim.url()))
        .send()
        .await
        .unwrap();
    let mut sink = Collect::default();
    let summary = c.read_all(&mut sink).await.unwrap();

    assert_eq!(ids_once(&sink, ModelKind::Employee).len(), want.employees);
    assert_eq!(ids_once(&sink, ModelKind::Group).len(), want.teams);
    assert_eq!(ids_once(&sink, ModelKind::AbsenceType).len(), want.policies);
    assert_eq!(
        ids_once(&sink, ModelKind::Employment).len(),
        want.compensations
    );
    assert_eq!(
        ids_once(&sink, ModelKind::TimeOffBalance).len(),
        want.active * want.policies
    );
    let absences: HashSet<String> = ids_once(&sink, ModelKind::Absence).into_iter().collect();
    let want_absences: HashSet<String> = want
        .absences
        .iter()
        .map(|id| record_id(INTEGRATION, ModelKind::Absence, id))
        .collect();
    assert_eq!(absences, want_absences);
    assert_eq!(summary.records["hris_absences"], want.absences.len() as u64);
    assert!(summary.stable);
    assert_eq!(
        summary.absences_window,
        Some((
            PlainDate(TODAY - Duration::days(365)),
            PlainDate(TODAY + Duration::days(365))
        ))
    );

    // The fewest requests, and nothing more: what the connector counted and what the
    // simulator saw.
    assert_eq!(summary.requests, want.min_requests);
    assert_eq!(env.stats().await["total"], want.min_requests);
    assert!(env.stats().await["max_in_flight"].as_u64().unwrap() <= 4);

    // A request across a window edge is listed by both windows and delivered once.
    let edges = windows();
    let spanning: Vec<&Value> = raw["leave_requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| edges.iter().filter(|w| overlaps(r, **w)).count() > 1)
        .collect();
    assert!(
        !spanning.is_empty(),
        "the data has no request across a window edge"
    );
    for r in &spanning {
        let id = record_id(INTEGRATION, ModelKind::Absence, &r["id"].to_string());
        assert_eq!(sink.records.iter().filter(|x| x.id() == id).count(), 1);
    }

    // Hand-checked mappings.
    let by_id = employees(&sink);
    let gone = raw["employees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["terminated"] == true)
        .unwrap();
    let e = &by_id[&gone["id"].to_string()];
    assert_eq!(e.core.employment_status, Some(EmploymentStatus::Inactive));
    assert_eq!(
        e.core.termination_date.unwrap().to_string(),
        format!(
            "{}T00:00:00.000Z",
            gone["termination"]["date"].as_str().unwrap()
        )
    );
    assert!(e.core.remote_data.as_ref().unwrap()["/terminated-employees"].is_object());
    let active = &by_id["1"];
    assert_eq!(
        active.core.employment_status,
        Some(EmploymentStatus::Active)
    );
    assert_eq!(active.core.termination_date, None);
    assert_eq!(
        active.groups.len(),
        1,
        "the employee's team is kept on the record"
    );
    assert!(active.employments.is_empty() && active.manager.is_none() && active.teams.is_empty());
    let admin = raw["employees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == 1)
        .unwrap();
    assert_eq!(
        active.groups[0].remote_id,
        admin["team_id"].to_string(),
        "the group is the employee's team"
    );
    assert_eq!(
        active.core.start_date.unwrap().to_string(),
        format!(
            "{}T00:00:00.000Z",
            admin["employment_start_date"].as_str().unwrap()
        )
    );

    // Custom fields: every employee's H9 values, keyed by label, and the same list as
    // integration fields whose ids do not depend on the employee.
    let mut field_ids = HashMap::new();
    for e in raw["employees"].as_array().unwrap() {
        let mapped = &by_id[&e["id"].to_string()].core;
        let fields = e["custom_fields"].as_array().unwrap();
        assert!(fields.len() >= 2, "{e}");
        let want: serde_json::Map<String, Value> = fields
            .iter()
            .map(|f| (f["label"].as_str().unwrap().to_owned(), f["value"].clone()))
            .collect();
        assert_eq!(mapped.custom_fields.as_ref(), Some(&want));
        assert_eq!(mapped.integration_fields.len(), fields.len());
        for (f, i) in fields.iter().zip(&mapped.integration_fields) {
            assert_eq!(i.key, f["id"].to_string());
            assert_eq!(i.label.as_deref(), f["label"].as_str());
            assert_eq!(i.value, f["value"]);
            assert_eq!(
                field_ids.entry(i.key.clone()).or_insert(i.id.clone()),
                &i.id
            );
        }
        assert_eq!(
            mapped.remote_data.as_ref().unwrap()["/employees/{id}/custom-fields"],
            e["custom_fields"]
        );
    }
    assert!(
        by_id
            .values()
            .any(|e| e.core.custom_fields.as_ref().unwrap()["Skills"]
                .as_array()
                .is_some_and(|t| !t.is_empty())),
        "some employee has tags"
    );

    let policies = raw["policies"].as_array().unwrap();
    let policy =
        |name: &str| policies.iter().find(|p| p["name"] == name).unwrap()["id"].to_string();
    let (sick, study, lieu) = (
        policy("Sick leave"),
        policy("Study leave"),
        policy("Time off in lieu"),
    );
    for r in &sink.records {
        match r {
            Record::TimeOffBalance(b) if b.core.remote_id == Some(format!("1:{sick}")) => {
                assert_eq!(b.core.balance, None, "sick leave tracks no allowance");
                assert_eq!(b.core.balance_unit, Some(TimeUnit::Days));
            }
            Record::AbsenceType(t) if t.remote_id == study => {
                assert_eq!(t.half_days_supported, Some(false));
            }
            Record::AbsenceType(t) if t.remote_id == lieu => {
                assert_eq!(t.unit, Some(TimeUnit::Hours));
                assert_eq!(t.exact_times_supported, Some(true));
            }
            Record::Employment(e) => {
                assert_eq!(e.pay_period, Some(PayPeriod::Month));
                assert!(e.pay_rate.is_some() && e.effective_date.is_some());
            }
            _ => {}
        }
    }
    let absence = |remote: &Value| {
        let id = record_id(INTEGRATION, ModelKind::Absence, &remote["id"].to_string());
        sink.records
            .iter()
            .find_map(|r| match r {
                Record::Absence(a) if a.core.id == id => Some(a.clone()),
                _ => None,
            })
            .unwrap()
    };
    let in_range: Vec<&Value> = raw["leave_requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| want.absences.contains(&r["id"].to_string()))
        .collect();
    let morning = in_range
        .iter()
        .find(|r| r["first_part_of_day"] == true && r["specific_time"] == false)
        .unwrap();
    let a = absence(morning);
    assert_eq!(
        (a.core.start_half_day, a.core.end_half_day),
        (Some(false), Some(true))
    );
    assert_eq!(a.core.unit, Some(TimeUnit::Hours));
    assert_eq!(a.core.amount, morning["hours"].as_f64());
    let afternoon = in_range
        .iter()
        .find(|r| r["second_part_of_day"] == true && r["specific_time"] == false)
        .unwrap();
    let a = absence(afternoon);
    assert_eq!(
        (a.core.start_half_day, a.core.end_half_day),
        (Some(true), Some(false))
    );
    let timespan = in_range
        .iter()
        .find(|r| r["specific_time"] == true)
        .unwrap();
    let a = absence(timespan);
    assert_eq!(
        a.core.start_time.unwrap().to_string(),
        format!("{}:00", timespan["time_from"].as_str().unwrap())
    );
    let multi = in_range
        .iter()
        .find(|r| r["is_multi_date"] == true && r["status_code"] == "canceled")
        .unwrap();
    let a = absence(multi);
    assert_eq!(a.core.status, Some(AbsenceStatus::Cancelled));
    assert_eq!(a.core.unit, Some(TimeUnit::Days));
    let days = (day(&multi["end_date"]) - day(&multi["start_date"])).whole_days() + 1;
    assert_eq!(a.core.amount, Some(days as f64));
    assert_eq!(
        a.core.type_id,
        Some(record_id(
            INTEGRATION,
            ModelKind::AbsenceType,
            &multi["policy_id"].to_string()
        ))
    );
    assert!(a.kind.is_none(), "the store joins the type in");

    env.sim.shutdown().await;
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let env = start(40).await;
    let want = expected(&raw(&env).await);
    for fault in [
        json!({"kind": "rate_limit", "count": 3, "retry_after": 0, "endpoint": "GET /leave-management/requests"}),
        json!({"kind": "server_error", "count": 2, "endpoint": "GET /employees/{id}/compensations"}),
        json!({"kind": "rate_limit", "count": 1, "retry_after": 0, "endpoint": "GET /employees"}),
    ] {
        env.control(Method::POST, "faults", fault).await;
    }
    let c = connector(&env);
    let mut sink = Collect::default();
    let summary = c.read_all(&mut sink).await.unwrap();
    assert_eq!(
        summary.requests,
        want.min_requests + 6,
        "each fault costs one retry"
    );
    assert_eq!(ids_once(&sink, ModelKind::Employee).len(), want.employees);
    assert_eq!(
        ids_once(&sink, ModelKind::Employment).len(),
        want.compensations
    );
    assert_eq!(
        ids_once(&sink, ModelKind::Absence).len(),
        want.absences.len()
    );
    env.sim.shutdown().await;
}

#[tokio::test]
async fn credentials_are_checked_with_one_call() {
    let env = start(20).await;
    assert_eq!(connector(&env).check_credentials().await, Ok(()));
    let wrong = connector_with_key(&env, "wrong");
    assert_eq!(
        wrong.check_credentials().await.unwrap_err().kind,
        Kind::AuthInvalid
    );
    assert_eq!(wrong.requests_sent(), 1);
    let mut config = env.config(KEY);
    config.subdomain = "nope".into();
    let nowhere = SageHrHris::new(INTEGRATION, &config, HrisConfig::default()).unwrap();
    assert_eq!(
        nowhere.check_credentials().await.unwrap_err().kind,
        Kind::NotFound
    );
    // A key whose admin lost the rights answers 403: rejected credentials too.
    env.control(Method::POST, &format!("keys/{KEY}/forbid"), Value::Null)
        .await;
    let c = connector(&env);
    assert_eq!(
        c.check_credentials().await.unwrap_err().kind,
        Kind::AuthInvalid
    );
    assert_eq!(c.requests_sent(), 1, "no retries on rejected credentials");
    env.sim.shutdown().await;
}

#[tokio::test]
async fn a_created_employee_reads_back_as_read_all_delivers_it() {
    let env = start(20).await;
    let c = connector(&env);
    let request: CreateEmployeeRequest = serde_json::from_value(json!({
        "first_name": "Ada", "last_name": "Lovelace", "work_email": "ada@acme.example",
        "gender": "FEMALE", "job_title": "Analytical Engineer", "nationality": "GB",
        "home_address": {"street_1": "12 St James's Square", "city": "London", "zip_code": "SW1Y 4JH", "country": "GB"},
        "date_of_birth": "1815-12-10", "start_date": "2026-05-01",
        "mobile_phone_number": "+44 20 7946 0000", "location_id": "loc"
    }))
    .unwrap();
    let (remote_id, warnings) = c.create_employee(&request).await.unwrap();
    assert_eq!(warnings.len(), 1, "location_id is not stored: {warnings:?}");
    let alone = c.read_employee(&remote_id).await.unwrap().unwrap();
    assert_eq!(alone.core.first_name.as_deref(), Some("Ada"));
    assert_eq!(alone.core.work_email.as_deref(), Some("ada@acme.example"));
    assert_eq!(alone.core.nationality.as_deref(), Some("British"));
    assert_eq!(alone.core.job_title.as_deref(), Some("Analytical Engineer"));
    assert_eq!(
        alone.core.home_address.as_ref().unwrap().city.as_deref(),
        Some("London")
    );
    assert_eq!(
        alone.core.start_date.unwrap().to_string(),
        "2026-05-01T00:00:00.000Z"
    );

    // A terminated employee read alone (H4, cut to H3's form) matches the listing too.
    let leaver = "5";
    env.control(
        Method::POST,
        "hris/employees/5/terminate",
        json!({"date": "2026-06-01"}),
    )
    .await;
    let leaver_alone = c.read_employee(leaver).await.unwrap().unwrap();
    assert_eq!(
        leaver_alone.core.employment_status,
        Some(EmploymentStatus::Inactive)
    );

    let mut sink = Collect::default();
    c.read_all(&mut sink).await.unwrap();
    let listed = employees(&sink);
    assert_eq!(hashed(&listed[&remote_id]), hashed(&alone));
    assert_eq!(hashed(&listed[leaver]), hashed(&leaver_alone));
    assert_eq!(c.read_employee("999999").await.unwrap(), None);

    // Sage HR needs an email, and refuses one already taken.
    let mut no_email = request.clone();
    no_email.work_email = None;
    let e = c.create_employee(&no_email).await.unwrap_err();
    assert!(
        matches!(&e.kind, Kind::InvalidInput(m) if m.iter().any(|m| m.contains("work_email"))),
        "{e:?}"
    );
    let e = c.create_employee(&request).await.unwrap_err();
    assert_eq!(e.kind, Kind::AlreadyExists, "{e:?}");
    env.sim.shutdown().await;
}

#[tokio::test]
async fn ats_only_methods_refuse_and_passthrough_reaches_the_core_hr_api() {
    let env = start(20).await;
    let c = connector(&env);
    let e = c.read_application("1").await.unwrap_err();
    assert_eq!(e.kind, Kind::Unknown);
    assert!(e.message.contains("no applicants"));
    assert_eq!(c.requests_sent(), 0);
    let answer = c
        .passthrough(PassthroughRequest {
            method: "GET".into(),
            path: "/employees/1".into(),
            headers: Default::default(),
            params: Default::default(),
            body: None,
        })
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["data"]["id"], 1);
    env.sim.shutdown().await;
}

#[tokio::test]
async fn an_employee_who_has_not_started_yet_is_pending() {
    let env = start(20).await;
    let c = connector(&env);
    let request: CreateEmployeeRequest = serde_json::from_value(json!({
        "first_name": "Grace", "last_name": "Hopper", "work_email": "grace@acme.example",
        "start_date": "2026-09-01"
    }))
    .unwrap();
    let (remote_id, warnings) = c.create_employee(&request).await.unwrap();
    assert!(warnings.is_empty());
    let e = c.read_employee(&remote_id).await.unwrap().unwrap();
    assert_eq!(e.core.employment_status, Some(EmploymentStatus::Pending));
    assert!(e.groups.is_empty(), "a new employee has no team");
    env.sim.shutdown().await;
}
