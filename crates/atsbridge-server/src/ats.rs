//! The ATS read endpoints under `/v1/ats`: jobs, candidates, applications and (Kombo's
//! deprecated) application stages, each a filtered, cursor-paged list of full unified objects.
//! Every other ATS model Kombo has answers `INTEGRATION.MODEL_NOT_AVAILABLE`: no connector
//! reads it (the tools' descriptors say which models each tool lacks).
//!
//! A request goes: API key and `X-Integration-Id` ([`Scoped`]) → the integration must be
//! enabled and past its first sync → query parameters ([`crate::query`]) → one keyset page
//! from the store, bound to the filters by the cursor → nested objects ([`crate::nested`]).

use atsbridge_model::integration::{Category, CoverageStatus, IntegrationStatus, SetupStatus};
use atsbridge_model::{Candidate, ErrorCode, ListResponse, ModelKind};
use atsbridge_store::{Cursor, IntegrationRow, OrderColumn, Position, RawRecord, StoredRecord};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};

use crate::auth::Scoped;
use crate::error::{ApiError, ApiResult};
use crate::query::{self, ListParams};
use crate::{nested, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ats/jobs", get(jobs))
        .route("/ats/candidates", get(candidates))
        .route("/ats/applications", get(applications))
        .route("/ats/application-stages", get(application_stages))
        // Static routes take precedence, so this catches every other model.
        .route("/ats/{model}", get(model_not_available))
        // Attachments of existing records: no connector reads or adds them.
        .route(
            "/ats/applications/{id}/attachments",
            get(attachments_not_available)
                .post(action_not_available("ats_add_application_attachment")),
        )
        .route(
            "/ats/candidates/{id}/attachments",
            get(attachments_not_available)
                .post(action_not_available("ats_add_candidate_attachment")),
        )
        // Write actions Kombo has that no connector performs.
        .route(
            "/ats/applications/{id}/stage",
            put(action_not_available("ats_move_application_stage")),
        )
        .route(
            "/ats/applications/{id}/reject",
            post(action_not_available("ats_reject_application")),
        )
        .route(
            "/ats/applications/{id}/notes",
            post(action_not_available("ats_add_application_note")),
        )
        .route(
            "/ats/applications/{id}/result-links",
            post(action_not_available("ats_add_application_result_link")),
        )
        .route(
            "/ats/candidates/{id}/result-links",
            post(action_not_available("ats_add_candidate_result_link")),
        )
        .route(
            "/ats/candidates/{id}/tags",
            post(action_not_available("ats_add_candidate_tag"))
                .delete(action_not_available("ats_remove_candidate_tag")),
        )
        .route(
            "/ats/import-tracked-application",
            post(action_not_available("ats_import_tracked_application")),
        )
}

/// A handler for a Kombo write action no connector performs: authenticated like every ATS
/// call (a wrong key is told so first), then `INTEGRATION.ACTION_NOT_AVAILABLE` naming the
/// action, as Kombo answers for a tool without it.
pub(crate) fn action_not_available(
    action: &'static str,
) -> impl Fn(State<AppState>, Scoped) -> std::future::Ready<ApiError> + Clone + Send + Sync + 'static
{
    move |State(state): State<AppState>, scoped: Scoped| {
        let category = if action.starts_with("hris_") {
            Category::Hris
        } else {
            Category::Ats
        };
        if let Err(e) = check_category(&scoped.integration, category) {
            return std::future::ready(e);
        }
        let tool = &scoped.integration.tool;
        let available: Vec<&str> = state
            .tools
            .get(tool, scoped.integration.category)
            .map(|t| {
                t.write_actions
                    .iter()
                    .filter(|a| a.status == CoverageStatus::Supported)
                    .map(|a| a.id)
                    .collect()
            })
            .unwrap_or_default();
        std::future::ready(ApiError::new(
            ErrorCode::IntegrationActionNotAvailable,
            format!(
                "the action `{action}` is not available for {} (`{tool}`): its API offers no way to do it; available: {}",
                tool_label(&state, tool),
                available.join(", ")
            ),
        ))
    }
}

/// `GET /ats/{applications|candidates}/{id}/attachments`.
async fn attachments_not_available(State(state): State<AppState>, scoped: Scoped) -> ApiError {
    if let Err(e) = check_category(&scoped.integration, Category::Ats) {
        return e;
    }
    let tool = &scoped.integration.tool;
    ApiError::new(
        ErrorCode::IntegrationModelNotAvailable,
        format!(
            "the model `ats_attachments` is not available for {} (`{tool}`): its API lists no files of existing applicants",
            tool_label(&state, tool)
        ),
    )
}

/// An integration serves the endpoints of its own category only: an ATS integration on
/// `/v1/hris` (or the reverse) is told which it is, naming the header that chose it.
pub(crate) fn check_category(integration: &IntegrationRow, category: Category) -> ApiResult<()> {
    if integration.category == category {
        return Ok(());
    }
    Err(ApiError::invalid(
        "X-Integration-Id",
        format!(
            "the integration `{}` is an {} integration; /v1/{} endpoints serve {} integrations",
            integration.id,
            integration.category.as_str(),
            category.as_str().to_ascii_lowercase(),
            category.as_str()
        ),
    ))
}

/// Reads are served only once the integration is enabled and its first sync is complete.
/// An integration whose credentials became invalid (`INVALID`) stays readable: its data is
/// what the last good sync stored; only syncing has stopped.
pub(crate) fn check_readable(integration: &IntegrationRow) -> ApiResult<()> {
    if integration.status == IntegrationStatus::Inactive {
        return Err(ApiError::new(
            ErrorCode::IntegrationInactive,
            format!(
                "the integration `{}` is disabled; enable it with PUT /v1/integrations/{}/enabled",
                integration.id, integration.id
            ),
        ));
    }
    match integration.setup_status {
        SetupStatus::Completed => Ok(()),
        SetupStatus::Incomplete => Err(ApiError::new(
            ErrorCode::IntegrationSetupIncomplete,
            format!(
                "the setup of integration `{}` is not finished, so it has no data yet",
                integration.id
            ),
        )),
        SetupStatus::FinalSyncPending => Err(ApiError::new(
            ErrorCode::IntegrationSetupSyncPending,
            format!(
                "the first sync of integration `{}` has not finished yet; its data is readable once it has",
                integration.id
            ),
        )),
    }
}

/// A list request's parameters, the digest its cursors are bound to, and where it starts.
struct PageQuery {
    params: ListParams,
    binding: String,
    after: Option<Position>,
    /// The column pages are ordered by before seq, if any.
    key: Option<OrderColumn>,
}

fn page_query(
    state: &AppState,
    scoped: &Scoped,
    model: ModelKind,
    query: Option<&str>,
) -> ApiResult<PageQuery> {
    check_category(&scoped.integration, model.category())?;
    check_readable(&scoped.integration)?;
    let mut params = query::parse(model, query)?;
    if params.ignore_unsupported_filters {
        ignore_unsupported(state, &scoped.integration, model, &mut params.filter);
    }
    let binding = params.filter.binding(&scoped.integration.id, model);
    let after = params
        .cursor
        .as_deref()
        .map(|raw| Cursor::decode(raw, &binding))
        .transpose()?
        .map(|c| Position {
            seq: c.seq,
            key: c.key,
        });
    let key = params.filter.order_column(model);
    Ok(PageQuery {
        params,
        binding,
        after,
        key,
    })
}

impl PageQuery {
    /// The cursor of the page after the one ending with `last`: its seq and its value of
    /// the page's order column (`key_of` reads it from the record).
    fn next<R>(
        &self,
        last: Option<&R>,
        more: bool,
        seq: impl Fn(&R) -> i64,
        key_of: impl Fn(&R, OrderColumn) -> Option<i64>,
    ) -> Option<String> {
        let last = last.filter(|_| more)?;
        Some(
            Cursor {
                seq: seq(last),
                key: self.key.and_then(|column| key_of(last, column)),
                binding: self.binding.clone(),
            }
            .encode(),
        )
    }
}

/// Drops the filters on fields the tool does not have (`ignore_unsupported_filters=true`), as
/// its descriptor lists them. Without the flag they stay, and as Kombo does they filter out
/// every record: the field is empty on every record of such a tool.
fn ignore_unsupported(
    state: &AppState,
    integration: &IntegrationRow,
    model: ModelKind,
    filter: &mut atsbridge_store::Filter,
) {
    let Some(tool) = state.tools.get(&integration.tool, integration.category) else {
        return;
    };
    for &(m, param) in tool.unsupported_filters {
        if m == model && !query::clear(filter, param) {
            tracing::error!(
                tool = tool.slug,
                param,
                "a tool's descriptor names a filter this server does not know"
            );
        }
    }
}

/// One page of `model`'s records for the request, and the cursor of the next page.
async fn page(
    state: &AppState,
    scoped: &Scoped,
    model: ModelKind,
    query: Option<&str>,
) -> ApiResult<(Vec<StoredRecord>, Option<String>, ListParams)> {
    let q = page_query(state, scoped, model, query)?;
    let (records, more) = state
        .store
        .list_after(
            &scoped.integration.id,
            model,
            &q.params.filter,
            q.after,
            q.params.page_size,
        )
        .await?;
    let next = q.next(records.last(), more, |r| r.seq, StoredRecord::order_key);
    Ok((records, next, q.params))
}

async fn jobs(
    State(state): State<AppState>,
    scoped: Scoped,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let (records, next) = raw_page(&state, &scoped, ModelKind::Job, query.as_deref()).await?;
    Ok(list_body(&nested::jobs_json(&records)?, next))
}

async fn candidates(
    State(state): State<AppState>,
    scoped: Scoped,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<ListResponse<Candidate>>> {
    let (records, next, params) =
        page(&state, &scoped, ModelKind::Candidate, query.as_deref()).await?;
    let results = nested::candidates(
        &state.store,
        &scoped.integration.id,
        &records,
        params.filter.include_deleted,
    )
    .await?;
    Ok(Json(ListResponse::new(results, next)))
}

/// A page of raw records (JSON text as stored) and its next cursor.
pub(crate) async fn raw_page(
    state: &AppState,
    scoped: &Scoped,
    model: ModelKind,
    query: Option<&str>,
) -> ApiResult<(Vec<RawRecord>, Option<String>)> {
    let q = page_query(state, scoped, model, query)?;
    let (records, more) = state
        .store
        .list_raw_after(
            &scoped.integration.id,
            model,
            &q.params.filter,
            q.after,
            q.params.page_size,
        )
        .await?;
    let next = q.next(records.last(), more, |r| r.seq, RawRecord::order_key);
    Ok((records, next))
}

/// Kombo's list envelope around a `results` array that is already JSON text.
pub(crate) fn list_body(results: &str, next: Option<String>) -> Response {
    let next = serde_json::to_string(&next).unwrap_or_else(|_| "null".into());
    let body = format!(r#"{{"status":"success","data":{{"next":{next},"results":{results}}}}}"#);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Served from the stored JSON text without parsing it (see `nested::applications_json`):
/// the busiest list, and the one whose objects embed three others.
async fn applications(
    State(state): State<AppState>,
    scoped: Scoped,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let q = page_query(&state, &scoped, ModelKind::Application, query.as_deref())?;
    let page = state
        .store
        .applications_page(
            &scoped.integration.id,
            &q.params.filter,
            q.after,
            q.params.page_size,
        )
        .await?;
    let next = q.next(
        page.records.last(),
        page.more,
        |r| r.seq,
        RawRecord::order_key,
    );
    Ok(list_body(&nested::applications_json(&page)?, next))
}

async fn application_stages(
    State(state): State<AppState>,
    scoped: Scoped,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let (records, next) = raw_page(
        &state,
        &scoped,
        ModelKind::ApplicationStage,
        query.as_deref(),
    )
    .await?;
    Ok(list_body(&nested::application_stages_json(&records)?, next))
}

/// The tool's label, as its descriptor says it (the slug for a tool the registry lacks).
fn tool_label<'a>(state: &AppState, tool: &'a str) -> &'a str {
    state
        .tools
        .get(tool, Category::Ats)
        .map_or(tool, |t| t.label)
}

/// Any other `GET /ats/{model}` (users, tags, interviews, offers, rejection reasons, job
/// postings, screening questions, roles, notes, scorecards, attachments, …).
async fn model_not_available(
    State(state): State<AppState>,
    scoped: Scoped,
    model: Result<Path<String>, PathRejection>,
) -> ApiError {
    if let Err(e) = check_category(&scoped.integration, Category::Ats) {
        return e;
    }
    // A segment that does not decode (invalid UTF-8) is still answered in the envelope.
    let model = model.map_or_else(|_| "unknown".to_owned(), |Path(m)| m);
    let tool = &scoped.integration.tool;
    ApiError::new(
        ErrorCode::IntegrationModelNotAvailable,
        format!(
            "the model `ats_{}` (GET /v1/ats/{model}) is not available for {} (`{tool}`); it offers jobs, candidates, applications and application-stages",
            model.replace('-', "_"),
            tool_label(&state, tool),
        ),
    )
}
