//! The HRIS read endpoints under `/v1/hris`: employees, employments, groups (and Kombo's
//! deprecated `teams`), absence types, absences and time-off balances, each a filtered,
//! cursor-paged list of full unified objects. Models and actions of the category that no
//! connector has answer `INTEGRATION.MODEL_NOT_AVAILABLE` / `ACTION_NOT_AVAILABLE`.
//!
//! A request goes as on `/v1/ats`: API key and `X-Integration-Id` (an HRIS integration) →
//! enabled and past its first sync → query parameters → one keyset page from the store →
//! nested objects, read per page with one query per related model and written into the
//! stored JSON text without parsing the records themselves.

use std::collections::{BTreeSet, HashMap};

use atsbridge_model::connector::{ConnectorErrorKind, Record};
use atsbridge_model::event::{ChangedModel, DataChanged, Event};
use atsbridge_model::hris::CreateEmployeeRequest;
use atsbridge_model::integration::{Category, IntegrationStatus};
use atsbridge_model::write::describe;
use atsbridge_model::{ErrorCode, ModelKind, Timestamp};
use atsbridge_store::{NewEvent, RawRecord, RecordInput};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{delete, get, patch, post};
use axum::Router;
use serde_json::{json, Value};

use crate::ats::{action_not_available, check_category, list_body, raw_page};
use crate::auth::Scoped;
use crate::body::{KomboBody, LaterJson};
use crate::error::{ApiError, ApiResult};
use crate::nested::{array, corrupt, push_object, to_json};
use crate::write::idempotency;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hris/employees", get(employees).post(create_employee))
        .route("/hris/employments", get(employments))
        .route("/hris/groups", get(groups))
        // Kombo's deprecated name for groups, still served to older clients.
        .route("/hris/teams", get(groups))
        .route("/hris/absence-types", get(absence_types))
        .route(
            "/hris/absences",
            get(absences).post(action_not_available("hris_create_absence")),
        )
        .route("/hris/time-off-balances", get(time_off_balances))
        // Static routes take precedence, so this catches every other model.
        .route("/hris/{model}", get(model_not_available))
        .route(
            "/hris/absences/{id}",
            delete(action_not_available("hris_delete_absence")),
        )
        .route(
            "/hris/employees/{id}",
            patch(action_not_available("hris_update_employee")),
        )
        .route(
            "/hris/employees/form",
            get(action_not_available("hris_create_employee_with_form"))
                .post(action_not_available("hris_create_employee_with_form")),
        )
        .route(
            "/hris/employees/{id}/documents",
            post(action_not_available("hris_add_employee_document")),
        )
}

async fn employees(
    State(state): State<AppState>,
    scoped: Scoped,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let (records, next) = raw_page(&state, &scoped, ModelKind::Employee, query.as_deref()).await?;
    let related = EmployeeRelated::read(&state, &scoped.integration.id, &records).await?;
    let results = array(&records, |out, r| {
        let employments = related.employments.get(&r.id).map_or("[]", String::as_str);
        let balances = related.balances.get(&r.id).map_or("[]", String::as_str);
        let groups = related.groups_of(r)?;
        let manager = related.manager_of(r)?;
        push_object(
            out,
            r,
            &[
                ("employments", employments),
                ("time_off_balances", balances),
                ("manager", &manager),
                ("groups", &groups),
                ("teams", &groups),
                ("legal_entity", "null"),
                ("work_location", "null"),
            ],
        )
    })?;
    Ok(list_body(&results, next))
}

impl KomboBody for CreateEmployeeRequest {}

/// `POST /hris/employees` (Kombo's deprecated "Create employee", the one Sage HR supports):
/// the body validated, the employee created upstream, read back and stored at once, and
/// answered as the flat employee with a warning for each input the tool did not store.
async fn create_employee(
    State(state): State<AppState>,
    scoped: Scoped,
    headers: HeaderMap,
    body: LaterJson<CreateEmployeeRequest>,
) -> Response {
    let answer = create_employee_checked(&state, &scoped, &headers, body).await;
    crate::metrics::tag_write("hris_create_employee", answer)
}

async fn create_employee_checked(
    state: &AppState,
    scoped: &Scoped,
    headers: &HeaderMap,
    body: LaterJson<CreateEmployeeRequest>,
) -> ApiResult<Response> {
    let integration = &scoped.integration;
    check_category(integration, Category::Hris)?;
    if integration.status == IntegrationStatus::Inactive {
        return Err(ApiError::new(
            ErrorCode::IntegrationInactive,
            format!("the integration `{}` is disabled", integration.id),
        ));
    }
    let (request, json) = body.take_with_json()?;
    let violations = request.validate();
    if !violations.is_empty() {
        return Err(ApiError::new(
            ErrorCode::PlatformInputInvalid,
            describe(&violations),
        ));
    }
    let idempotency = idempotency::Request {
        action: "hris_create_employee",
        path: "",
        body: &json,
    };
    idempotency::idempotent(state, integration, headers, &idempotency, || {
        create_employee_body(state, integration, &request)
    })
    .await
}

/// The create itself, answering the success body as JSON text.
async fn create_employee_body(
    state: &AppState,
    integration: &atsbridge_store::IntegrationRow,
    request: &CreateEmployeeRequest,
) -> ApiResult<String> {
    let label = state
        .tools
        .get(&integration.tool, integration.category)
        .map_or(integration.tool.as_str(), |t| t.label);
    let credentials = state.store.credentials(&integration.id).await?;
    let connector = (state.connectors)(integration, &credentials, &state.metrics.observer())
        .map_err(|e| ApiError::new(e.code(), e.message))?;
    let (remote_id, warnings) =
        connector
            .create_employee(request)
            .await
            .map_err(|e| match e.kind {
                ConnectorErrorKind::AlreadyExists => ApiError::new(
                    ErrorCode::HrisEmployeeAlreadyExists,
                    format!(
                        "{label} already has an employee with this work email: {}",
                        e.message
                    ),
                ),
                // What the tool requires beyond Kombo's schema (Sage HR: a work email) is the
                // caller's to fix, named by its field.
                ConnectorErrorKind::InvalidInput(messages)
                    if messages.iter().any(|m| m.contains("work_email")) =>
                {
                    ApiError::new(ErrorCode::PlatformInputInvalid, messages.join("; "))
                }
                ConnectorErrorKind::InvalidInput(messages) => ApiError::new(
                    ErrorCode::RemoteInputInvalid,
                    format!("{label} rejected the employee: {}", messages.join("; ")),
                ),
                _ => ApiError::new(e.code(), e.message.clone()),
            })?;
    tracing::info!(integration_id = %integration.id, %remote_id, "employee created");
    // From here on the employee exists upstream: what follows must not turn into a failure
    // that makes the caller create it twice.
    let mut read = None;
    for attempt in 1..=3u32 {
        match connector.read_employee(&remote_id).await {
            Ok(Some(e)) => {
                read = Some(e);
                break;
            }
            Ok(None) => tracing::warn!(%remote_id, attempt, "a created employee is not found yet"),
            Err(e) => {
                tracing::warn!(%remote_id, attempt, error = %e.message, "reading a created employee back failed");
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt))).await;
    }
    let Some(employee) = read else {
        return Err(ApiError::new(
            ErrorCode::RemoteServiceUnavailable,
            format!("the employee was created in {label} (id {remote_id}), but reading it back failed; it appears with the next sync. Do not retry the create: {label} would refuse the email as taken"),
        ));
    };
    let id = employee.core.id.clone();
    let now = Timestamp::now();
    let input = RecordInput::from_owned(Record::Employee(employee))?;
    let event = NewEvent::new(
        Event::DataChanged(DataChanged {
            integration_id: integration.id.clone(),
            integration_tool: integration.tool.clone(),
            integration_category: integration.category,
            changed_models: vec![ChangedModel {
                name: ModelKind::Employee.as_str().to_owned(),
            }],
        }),
        now,
    );
    state
        .store
        .apply_batch_announced(&integration.id, std::slice::from_ref(&input), now, &event)
        .await?;
    let stored = state
        .store
        .by_ids_raw(
            &integration.id,
            ModelKind::Employee,
            std::slice::from_ref(&id),
        )
        .await?;
    let record = stored.first().ok_or_else(|| {
        atsbridge_store::StoreError::Corrupt(format!("employee {id} was not stored"))
    })?;
    let warnings = serde_json::to_string(&warnings)
        .map_err(|e| atsbridge_store::StoreError::Corrupt(e.to_string()))?;
    Ok(format!(
        r#"{{"status":"success","data":{},"warnings":{warnings}}}"#,
        object(record, &[])?
    ))
}

async fn employments(
    State(state): State<AppState>,
    scoped: Scoped,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let (records, next) =
        raw_page(&state, &scoped, ModelKind::Employment, query.as_deref()).await?;
    Ok(list_body(
        &array(&records, |out, r| push_object(out, r, &[]))?,
        next,
    ))
}

async fn groups(
    State(state): State<AppState>,
    scoped: Scoped,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let (records, next) = raw_page(&state, &scoped, ModelKind::Group, query.as_deref()).await?;
    Ok(list_body(
        &array(&records, |out, r| push_object(out, r, &[]))?,
        next,
    ))
}

async fn absence_types(
    State(state): State<AppState>,
    scoped: Scoped,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let (records, next) =
        raw_page(&state, &scoped, ModelKind::AbsenceType, query.as_deref()).await?;
    Ok(list_body(
        &array(&records, |out, r| push_object(out, r, &[]))?,
        next,
    ))
}

async fn absences(
    State(state): State<AppState>,
    scoped: Scoped,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let (records, next) = raw_page(&state, &scoped, ModelKind::Absence, query.as_deref()).await?;
    let types = absence_types_of(&state, &scoped.integration.id, &records).await?;
    let results = array(&records, |out, r| {
        let t = r.job_id.as_ref().and_then(|id| types.get(id));
        push_object(out, r, &[("type", t.map_or("null", String::as_str))])
    })?;
    Ok(list_body(&results, next))
}

async fn time_off_balances(
    State(state): State<AppState>,
    scoped: Scoped,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let (records, next) =
        raw_page(&state, &scoped, ModelKind::TimeOffBalance, query.as_deref()).await?;
    let types = absence_types_of(&state, &scoped.integration.id, &records).await?;
    let results = array(&records, |out, r| {
        // Kombo's balance always embeds its type; one whose type is gone is stored data we
        // cannot serve as Kombo's schema says, so it is an error, not a silent null.
        let t = r
            .job_id
            .as_ref()
            .and_then(|id| types.get(id))
            .ok_or_else(|| corrupt(r, &"its absence type is not stored"))?;
        push_object(out, r, &[("type", t)])
    })?;
    Ok(list_body(&results, next))
}

async fn model_not_available(
    State(state): State<AppState>,
    scoped: Scoped,
    model: Result<Path<String>, PathRejection>,
) -> ApiError {
    if let Err(e) = check_category(&scoped.integration, Category::Hris) {
        return e;
    }
    let model = model.map_or_else(|_| "unknown".to_owned(), |Path(m)| m);
    let tool = &scoped.integration.tool;
    let label = state
        .tools
        .get(tool, Category::Hris)
        .map_or(tool.as_str(), |t| t.label);
    ApiError::new(
        ErrorCode::IntegrationModelNotAvailable,
        format!(
            "the model `hris_{}` (GET /v1/hris/{model}) is not available for {label} (`{tool}`); it offers employees, employments, groups, absence-types, absences and time-off-balances",
            model.replace('-', "_"),
        ),
    )
}

/// The absence types that a page of absences or balances points to, as JSON text by id.
async fn absence_types_of(
    state: &AppState,
    integration_id: &str,
    records: &[RawRecord],
) -> ApiResult<HashMap<String, String>> {
    let ids: Vec<String> = distinct(records.iter().filter_map(|r| r.job_id.as_ref()));
    let types = state
        .store
        .by_ids_raw(integration_id, ModelKind::AbsenceType, &ids)
        .await?;
    types
        .iter()
        .map(|t| Ok((t.id.clone(), object(t, &[])?)))
        .collect()
}

/// What a page of employees embeds, read in one query per model.
struct EmployeeRelated {
    /// Each employee's live employments, as a JSON array.
    employments: HashMap<String, String>,
    /// Each employee's live balances, as a JSON array.
    balances: HashMap<String, String>,
    /// Groups by id: `{id, remote_id, name, type}`.
    groups: HashMap<String, Value>,
    /// Managers by id: their stored fields.
    managers: HashMap<String, Value>,
}

impl EmployeeRelated {
    async fn read(
        state: &AppState,
        integration_id: &str,
        employees: &[RawRecord],
    ) -> ApiResult<EmployeeRelated> {
        let store = &state.store;
        let ids: Vec<String> = employees.iter().map(|e| e.id.clone()).collect();
        let memberships: Vec<Vec<Value>> = employees.iter().map(memberships).collect();
        let group_ids = distinct(
            memberships
                .iter()
                .flatten()
                .filter_map(|m| m.get("id").and_then(Value::as_str)),
        );
        let mut manager_ids = BTreeSet::new();
        for e in employees {
            if let Some(m) = own(e)?.get("manager_id").and_then(Value::as_str) {
                manager_ids.insert(m.to_owned());
            }
        }
        let manager_ids: Vec<String> = manager_ids.into_iter().collect();
        let (employments, balances, groups, managers) = tokio::try_join!(
            store.owned_by(integration_id, ModelKind::Employment, &ids),
            store.owned_by(integration_id, ModelKind::TimeOffBalance, &ids),
            store.by_ids_raw(integration_id, ModelKind::Group, &group_ids),
            store.by_ids_raw(integration_id, ModelKind::Employee, &manager_ids),
        )?;
        let balances: Vec<RawRecord> = balances
            .into_iter()
            .filter(|b| b.remote_deleted_at.is_none())
            .collect();
        let mut by_employee: HashMap<String, Vec<String>> = HashMap::new();
        for e in employments.iter().filter(|e| e.remote_deleted_at.is_none()) {
            if let Some(owner) = &e.candidate_id {
                by_employee
                    .entry(owner.clone())
                    .or_default()
                    .push(object(e, &[])?);
            }
        }
        let mut balances_by: HashMap<String, Vec<String>> = HashMap::new();
        // Kombo's balance nested in an employee names its type by `type_id` only.
        for b in &balances {
            if let Some(owner) = &b.candidate_id {
                balances_by
                    .entry(owner.clone())
                    .or_default()
                    .push(object(b, &[])?);
            }
        }
        let join = |m: HashMap<String, Vec<String>>| {
            m.into_iter()
                .map(|(k, v)| (k, format!("[{}]", v.join(","))))
                .collect()
        };
        let groups = groups
            .iter()
            .filter(|g| g.remote_deleted_at.is_none())
            .map(|g| {
                let own = own(g)?;
                Ok((
                    g.id.clone(),
                    json!({
                        "id": g.id,
                        "remote_id": g.remote_id,
                        "name": own.get("name").cloned().unwrap_or(Value::Null),
                        "type": own.get("type").cloned().unwrap_or(Value::Null),
                    }),
                ))
            })
            .collect::<ApiResult<_>>()?;
        let managers = managers
            .iter()
            .map(|m| Ok((m.id.clone(), own(m)?)))
            .collect::<ApiResult<_>>()?;
        Ok(EmployeeRelated {
            employments: join(by_employee),
            balances: join(balances_by),
            groups,
            managers,
        })
    }

    /// The employee's groups as Kombo embeds them; a membership of a group that is gone is
    /// left out.
    fn groups_of(&self, employee: &RawRecord) -> ApiResult<String> {
        let groups: Vec<&Value> = memberships(employee)
            .iter()
            .filter_map(|m| m.get("id").and_then(Value::as_str))
            .filter_map(|id| self.groups.get(id))
            .collect();
        to_json(&groups)
    }

    /// Kombo's `manager` object, from the manager's own record; `null` without one.
    fn manager_of(&self, employee: &RawRecord) -> ApiResult<String> {
        let own = own(employee)?;
        let Some(m) = own
            .get("manager_id")
            .and_then(Value::as_str)
            .and_then(|id| self.managers.get(id))
        else {
            return Ok("null".to_owned());
        };
        let field = |k: &str| m.get(k).cloned().unwrap_or(Value::Null);
        to_json(&json!({
            "id": field("id"),
            "remote_id": field("remote_id"),
            "first_name": field("first_name"),
            "last_name": field("last_name"),
            "display_full_name": field("display_full_name"),
            "employee_number": field("employee_number"),
            "work_email": field("work_email"),
            "employment_status": field("employment_status"),
            "termination_date": field("termination_date"),
        }))
    }
}

/// An employee's stored memberships (`[{id, remote_id}]`, its nested part).
fn memberships(employee: &RawRecord) -> Vec<Value> {
    employee
        .nested
        .as_deref()
        .and_then(|n| serde_json::from_str::<Vec<Value>>(n).ok())
        .unwrap_or_default()
}

fn own(r: &RawRecord) -> ApiResult<Value> {
    serde_json::from_str(&r.payload).map_err(|e| corrupt(r, &e))
}

fn distinct<'a>(values: impl Iterator<Item = &'a (impl AsRef<str> + 'a + ?Sized)>) -> Vec<String> {
    values
        .map(|v| v.as_ref().to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn object(r: &RawRecord, members: &[(&str, &str)]) -> ApiResult<String> {
    let mut out = String::with_capacity(r.payload.len() + 100);
    push_object(&mut out, r, members)?;
    Ok(out)
}
