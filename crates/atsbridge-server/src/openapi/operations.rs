//! Every `/v1` route with its method: what it takes and what it answers. A route added to a
//! router without a line here fails the `openapi` test.

use atsbridge_model::enums::{EmploymentType, JobStatus, Outcome, Visibility};
use atsbridge_model::envelope::Success;
use atsbridge_model::hris::{
    Absence, AbsenceType, CreateEmployeeRequest, Employee, EmploymentStatus, GroupType,
    TimeOffBalance,
};
use atsbridge_model::hris::{Employment, Group};
use atsbridge_model::integration::{ApiKeyCheck, Integration};
use atsbridge_model::write::{CreateApplicationRequest, CreateCandidateRequest};
use atsbridge_model::{
    Application, ApplicationStage, Candidate, CreatedApplication, DataResponse, Job, ListResponse,
    ModelKind, WriteResponse,
};
use utoipa::openapi::path::{HttpMethod, Parameter};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::parts::{header, path_values, query, string, Auth, Op, Schemas};
use crate::connect::api::{CreateLinkBody, IntegrationByToken, LinkAnswer, RelinkBody};
use crate::management::force_sync::{ForceSyncAnswer, ForceSyncBody};
use crate::management::integrations::EnabledBody;
use crate::management::passthrough::{PassthroughAnswer, PassthroughBody};
use crate::query::{self, MAX_PAGE_SIZE};
use crate::webhooks::{CreateBody, DeliveryAnswer, WebhookAnswer};

/// The tags, in the order a reader meets them.
pub(super) const TAGS: &[(&str, &str)] = &[
    ("ATS", "Unified ATS reads and write actions."),
    ("HRIS", "Unified HRIS reads and write actions."),
    (
        "General",
        "Integrations, syncs, tools, the passthrough API and the API key.",
    ),
    (
        "Connect",
        "Connection links customers open to connect their tool.",
    ),
    ("Webhooks", "Subscriptions to events and their deliveries."),
    ("Meta", "This document."),
];

/// The data of answers that carry nothing: `{}`.
#[derive(Debug, ToSchema)]
#[schema(as = EmptyObject)]
struct Empty {}

/// Per-integration settings (the store's `IntegrationSettings`, as served).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
struct IntegrationSettings {
    /// Limit candidates and applications to those created through atsbridge.
    sync_only_created_applications: bool,
    /// The source written into the ATS for applications created through atsbridge when the
    /// request names none.
    source_name: Option<String>,
}

/// Any JSON object (tool coverage tables, the document itself).
#[derive(Debug)]
struct AnyObject;

impl PartialSchema for AnyObject {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .into()
    }
}
impl ToSchema for AnyObject {}

/// Kombo ATS models no connector reads: `GET /ats/{model}` answers
/// `INTEGRATION.MODEL_NOT_AVAILABLE` for them.
const ATS_UNSERVED: &[&str] = &[
    "users",
    "offers",
    "rejection-reasons",
    "interviews",
    "tags",
    "job-postings",
    "interview-stages",
];
/// The same for `GET /hris/{model}`.
const HRIS_UNSERVED: &[&str] = &[
    "legal-entities",
    "locations",
    "timesheets",
    "performance-review-cycles",
    "performance-reviews",
    "staffing-entities",
];

fn list_params(model: ModelKind) -> Vec<Parameter> {
    query::COMMON
        .iter()
        .chain(query::specific(model))
        .map(|name| list_param(name, model))
        .collect()
}

fn list_param(name: &str, model: ModelKind) -> Parameter {
    // An empty value counts as not given, so each schema admits it.
    let date = || string().pattern(Some("^([0-9]{4}-[0-9]{2}-[0-9]{2}(T.*)?)?$"));
    let one_of = |values: &[&str]| string().enum_values(Some(values.iter().copied().chain([""])));
    let listed = |values: &[&str]| {
        string().description(Some(format!(
            "Comma-separated; each one of {}.",
            values.join(", ")
        )))
    };
    let outcomes: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
    let group_types: Vec<&str> = GroupType::ALL.iter().map(|t| t.as_str()).collect();
    let (schema, text): (ObjectBuilder, &str) = match name {
        "cursor" => (string(), "The `next` cursor of the previous page."),
        "page_size" => (
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::Integer))
                .minimum(Some(1))
                .maximum(Some(MAX_PAGE_SIZE)),
            "Results per page (default 100).",
        ),
        // Lenient on purpose (an offset may be missing or its `+` decoded to a space), so
        // no `format`: a value the format would refuse can still be accepted.
        "updated_after" => (
            string(),
            if model.category() == atsbridge_model::integration::Category::Hris {
                "Only records changed after this date or instant."
            } else {
                "Only records changed after this instant (RFC 3339)."
            },
        ),
        "remote_created_after" => (
            string(),
            "Only records created in the tool after this date or instant.",
        ),
        "include_deleted" | "ignore_unsupported_filters" => {
            (one_of(&["true", "false"]), "`true` or `false` (default).")
        }
        "statuses" => (listed(JobStatus::KNOWN), "Job statuses."),
        "status" => (one_of(JobStatus::KNOWN), "Deprecated: one job status."),
        "employment_types" => (listed(EmploymentType::KNOWN), "Employment types."),
        "visibilities" => (listed(Visibility::KNOWN), "Visibilities."),
        "outcomes" => (listed(&outcomes), "Application outcomes."),
        "outcome" => (one_of(&outcomes), "Deprecated: one outcome."),
        "employment_statuses" => (listed(EmploymentStatus::KNOWN), "Employment statuses."),
        "employment_status" => (
            one_of(EmploymentStatus::KNOWN),
            "Deprecated: one employment status.",
        ),
        "types" => (listed(&group_types), "Group types."),
        "custom_fields" => (
            string(),
            "A JSON object with one custom field's label and the value it must have.",
        ),
        "date_from" | "date_until" => (date(), "Absences overlapping this day."),
        "time_from" | "time_until" => {
            (string(), "Deprecated spelling of `date_from`/`date_until`.")
        }
        _ => (string(), "Comma-separated values where the name is plural."),
    };
    query(name, schema, text)
}

/// `{"status": "success", "data": T}`, with `T` among the named schemas.
fn data<T: ToSchema>(s: &mut Schemas) -> RefOr<Schema> {
    s.named::<T>();
    s.of::<DataResponse<T>>()
}

/// `{"status": "success", "data": [T]}`.
fn data_list<T: ToSchema>(s: &mut Schemas) -> RefOr<Schema> {
    let item = s.named::<T>();
    let success = s.named::<Success>();
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Object))
        .property("status", success)
        .property("data", ArrayBuilder::new().items(item))
        .required("status")
        .required("data")
        .into()
}

/// A write action's answer: `{"status": "success", "data": T, "warnings": [...]}`.
fn written<T: ToSchema>(s: &mut Schemas) -> RefOr<Schema> {
    s.named::<T>();
    s.of::<WriteResponse<T>>()
}

fn get(path: &'static str, id: &'static str, tag: &'static str, summary: &'static str) -> Op {
    Op::new(HttpMethod::Get, path, id, tag, summary, Auth::Scoped)
}

/// A Kombo write action no connector performs: it always answers an error.
fn unavailable(method: HttpMethod, path: &'static str, id: &'static str, tag: &'static str) -> Op {
    Op::new(
        method,
        path,
        id,
        tag,
        "Not available for the connected tool: answers `INTEGRATION.ACTION_NOT_AVAILABLE`.",
        Auth::Scoped,
    )
}

fn idempotency() -> Parameter {
    header(
        "Idempotency-Key",
        "Repeats of a request with the same key get the first answer instead of a second write.",
    )
}

/// Every operation.
pub(super) fn all() -> Vec<Op> {
    use HttpMethod::{Delete, Get, Patch, Post, Put};
    let ats = "ATS";
    let hris = "HRIS";
    let general = "General";
    vec![
        // ATS reads.
        get("/ats/jobs", "ats_get_jobs", ats, "Jobs.")
            .params(list_params(ModelKind::Job))
            .ok(|s| s.of::<ListResponse<Job>>()),
        get(
            "/ats/candidates",
            "ats_get_candidates",
            ats,
            "Candidates with their applications.",
        )
        .params(list_params(ModelKind::Candidate))
        .ok(|s| s.of::<ListResponse<Candidate>>()),
        get(
            "/ats/applications",
            "ats_get_applications",
            ats,
            "Applications.",
        )
        .params(list_params(ModelKind::Application))
        .ok(|s| s.of::<ListResponse<Application>>()),
        get(
            "/ats/application-stages",
            "ats_get_application_stages",
            ats,
            "Deprecated: the stages of all jobs.",
        )
        .params(list_params(ModelKind::ApplicationStage))
        .ok(|s| s.of::<ListResponse<ApplicationStage>>()),
        path_values(
            get(
                "/ats/{model}",
                "ats_get_unserved_model",
                ats,
                "Kombo ATS models no connector reads: `INTEGRATION.MODEL_NOT_AVAILABLE`.",
            ),
            "model",
            ATS_UNSERVED,
        ),
        get(
            "/ats/applications/{id}/attachments",
            "ats_get_application_attachments",
            ats,
            "Not available: `INTEGRATION.MODEL_NOT_AVAILABLE`.",
        ),
        get(
            "/ats/candidates/{id}/attachments",
            "ats_get_candidate_attachments",
            ats,
            "Not available: `INTEGRATION.MODEL_NOT_AVAILABLE`.",
        ),
        // ATS writes.
        Op::new(
            Post,
            "/ats/jobs/{job_id}/applications",
            "ats_create_application",
            ats,
            "Creates a candidate and their application to the job.",
            Auth::Scoped,
        )
        .params([idempotency()])
        .body(|s| s.of::<CreateApplicationRequest>())
        .ok(written::<CreatedApplication>),
        Op::new(
            Post,
            "/ats/candidates",
            "ats_create_candidate",
            ats,
            "Creates a candidate with an application.",
            Auth::Scoped,
        )
        .params([idempotency()])
        .body(|s| s.of::<CreateCandidateRequest>())
        .ok(written::<Candidate>),
        unavailable(
            Post,
            "/ats/applications/{id}/attachments",
            "ats_add_application_attachment",
            ats,
        ),
        unavailable(
            Post,
            "/ats/candidates/{id}/attachments",
            "ats_add_candidate_attachment",
            ats,
        ),
        unavailable(
            Put,
            "/ats/applications/{id}/stage",
            "ats_move_application_stage",
            ats,
        ),
        unavailable(
            Post,
            "/ats/applications/{id}/reject",
            "ats_reject_application",
            ats,
        ),
        unavailable(
            Post,
            "/ats/applications/{id}/notes",
            "ats_add_application_note",
            ats,
        ),
        unavailable(
            Post,
            "/ats/applications/{id}/result-links",
            "ats_add_application_result_link",
            ats,
        ),
        unavailable(
            Post,
            "/ats/candidates/{id}/result-links",
            "ats_add_candidate_result_link",
            ats,
        ),
        unavailable(
            Post,
            "/ats/candidates/{id}/tags",
            "ats_add_candidate_tag",
            ats,
        ),
        unavailable(
            Delete,
            "/ats/candidates/{id}/tags",
            "ats_remove_candidate_tag",
            ats,
        ),
        unavailable(
            Post,
            "/ats/import-tracked-application",
            "ats_import_tracked_application",
            ats,
        ),
        // HRIS reads.
        get(
            "/hris/employees",
            "hris_get_employees",
            hris,
            "Employees with employments, groups and balances.",
        )
        .params(list_params(ModelKind::Employee))
        .ok(|s| s.of::<ListResponse<Employee>>()),
        get(
            "/hris/employments",
            "hris_get_employments",
            hris,
            "Employments.",
        )
        .params(list_params(ModelKind::Employment))
        .ok(|s| s.of::<ListResponse<Employment>>()),
        get(
            "/hris/groups",
            "hris_get_groups",
            hris,
            "Groups (departments, teams).",
        )
        .params(list_params(ModelKind::Group))
        .ok(|s| s.of::<ListResponse<Group>>()),
        get(
            "/hris/teams",
            "hris_get_teams",
            hris,
            "Deprecated name of `/hris/groups`.",
        )
        .params(list_params(ModelKind::Group))
        .ok(|s| s.of::<ListResponse<Group>>()),
        get(
            "/hris/absence-types",
            "hris_get_absence_types",
            hris,
            "Absence types.",
        )
        .params(list_params(ModelKind::AbsenceType))
        .ok(|s| s.of::<ListResponse<AbsenceType>>()),
        get("/hris/absences", "hris_get_absences", hris, "Absences.")
            .params(list_params(ModelKind::Absence))
            .ok(|s| s.of::<ListResponse<Absence>>()),
        get(
            "/hris/time-off-balances",
            "hris_get_time_off_balances",
            hris,
            "Time-off balances.",
        )
        .params(list_params(ModelKind::TimeOffBalance))
        .ok(|s| s.of::<ListResponse<TimeOffBalance>>()),
        path_values(
            get(
                "/hris/{model}",
                "hris_get_unserved_model",
                hris,
                "Kombo HRIS models no connector reads: `INTEGRATION.MODEL_NOT_AVAILABLE`.",
            ),
            "model",
            HRIS_UNSERVED,
        ),
        // HRIS writes.
        Op::new(
            Post,
            "/hris/employees",
            "hris_create_employee",
            hris,
            "Creates an employee.",
            Auth::Scoped,
        )
        .params([idempotency()])
        .body(|s| s.of::<CreateEmployeeRequest>())
        .ok(written::<Employee>),
        unavailable(Post, "/hris/absences", "hris_create_absence", hris),
        unavailable(Delete, "/hris/absences/{id}", "hris_delete_absence", hris),
        unavailable(Patch, "/hris/employees/{id}", "hris_update_employee", hris),
        unavailable(Get, "/hris/employees/form", "hris_get_employee_form", hris),
        unavailable(
            Post,
            "/hris/employees/form",
            "hris_create_employee_with_form",
            hris,
        ),
        unavailable(
            Post,
            "/hris/employees/{id}/documents",
            "hris_add_employee_document",
            hris,
        ),
        // General.
        Op::new(
            Get,
            "/check-api-key",
            "check_api_key",
            general,
            "The environment of the API key.",
            Auth::Key,
        )
        .ok(data::<ApiKeyCheck>),
        Op::new(
            Get,
            "/integrations/{integration_id}",
            "get_integration",
            general,
            "An integration.",
            Auth::Key,
        )
        .ok(data::<Integration>),
        Op::new(
            Delete,
            "/integrations/{integration_id}",
            "delete_integration",
            general,
            "Deletes an integration and its data.",
            Auth::Key,
        )
        .ok(data::<Empty>),
        Op::new(
            Put,
            "/integrations/{integration_id}/enabled",
            "set_integration_enabled",
            general,
            "Enables or disables an integration.",
            Auth::Key,
        )
        .body(|s| s.of::<EnabledBody>())
        .ok(data::<Empty>),
        Op::new(
            Get,
            "/integrations/{integration_id}/settings",
            "get_integration_settings",
            general,
            "An integration's settings.",
            Auth::Key,
        )
        .ok(data::<IntegrationSettings>),
        Op::new(
            Put,
            "/integrations/{integration_id}/settings",
            "set_integration_settings",
            general,
            "Changes an integration's settings (the fields given).",
            Auth::Key,
        )
        .body(|s| s.of::<IntegrationSettings>())
        .ok(data::<IntegrationSettings>),
        Op::new(
            Post,
            "/force-sync",
            "force_sync",
            general,
            "Starts a sync of the integration now.",
            Auth::Scoped,
        )
        .optional_body(|s| s.of::<ForceSyncBody>())
        .ok(data::<ForceSyncAnswer>),
        path_values(
            Op::new(
                Get,
                "/tools/{category}",
                "get_tools",
                general,
                "The tools served in a category with what each covers.",
                Auth::Key,
            )
            .ok(data::<AnyObject>),
            "category",
            &["ats", "hris"],
        ),
        Op::new(
            Post,
            "/passthrough/{tool}/{api}",
            "passthrough",
            general,
            "Sends a request to the tool's own API with the integration's credentials.",
            Auth::Scoped,
        )
        .body(|s| s.of::<PassthroughBody>())
        .ok(written::<PassthroughAnswer>),
        // Connect.
        Op::new(
            Post,
            "/connect/create-link",
            "create_connection_link",
            "Connect",
            "Creates a link a customer opens to connect their tool.",
            Auth::Key,
        )
        .body(|s| s.of::<CreateLinkBody>())
        .ok(data::<LinkAnswer>),
        Op::new(
            Get,
            "/connect/integration-by-token/{token}",
            "get_integration_by_token",
            "Connect",
            "The integration a completed link made, by the token handed to the page.",
            Auth::Key,
        )
        .ok(data::<IntegrationByToken>),
        Op::new(
            Post,
            "/integrations/{integration_id}/relink",
            "relink_integration",
            "Connect",
            "Creates a link to reconnect an integration (new credentials).",
            Auth::Key,
        )
        .optional_body(|s| s.of::<RelinkBody>())
        .ok(data::<LinkAnswer>),
        // Webhooks.
        Op::new(
            Post,
            "/webhooks",
            "create_webhook",
            "Webhooks",
            "Subscribes a URL to events; the answer holds its signing secret.",
            Auth::Key,
        )
        .body(|s| s.of::<CreateBody>())
        .ok(data::<WebhookAnswer>),
        Op::new(
            Get,
            "/webhooks",
            "list_webhooks",
            "Webhooks",
            "The subscriptions.",
            Auth::Key,
        )
        .ok(data_list::<WebhookAnswer>),
        Op::new(
            Delete,
            "/webhooks/{webhook_id}",
            "delete_webhook",
            "Webhooks",
            "Removes a subscription.",
            Auth::Key,
        )
        .ok(data::<Empty>),
        Op::new(
            Post,
            "/webhooks/{webhook_id}/rotate-secret",
            "rotate_webhook_secret",
            "Webhooks",
            "Replaces the signing secret.",
            Auth::Key,
        )
        .ok(data::<WebhookAnswer>),
        Op::new(
            Get,
            "/webhooks/{webhook_id}/deliveries",
            "list_webhook_deliveries",
            "Webhooks",
            "The subscription's recent deliveries.",
            Auth::Key,
        )
        .ok(data_list::<DeliveryAnswer>),
        // This document.
        Op::new(
            Get,
            "/openapi.json",
            "get_openapi_document",
            "Meta",
            "This OpenAPI document.",
            Auth::Public,
        )
        .ok(|s| s.of::<AnyObject>()),
    ]
}
