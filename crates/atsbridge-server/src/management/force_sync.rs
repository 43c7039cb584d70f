//! `POST /force-sync`: queue a sync of the caller's integration and start it at once,
//! answering the id of the run that serves the request.

use std::time::Duration;

use atsbridge_model::integration::{IntegrationStatus, SyncKind};
use atsbridge_model::{DataResponse, ErrorCode, Timestamp};
use atsbridge_store::{RunRow, RunState};
use atsbridge_sync::Outcome;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tracing::Instrument as _;

use crate::auth::Scoped;
use crate::body::{KomboBody, KomboJson};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The body's `type`, parsed by serde's derive so that a wrong value is named as the other
/// body errors are.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
pub(crate) enum RequestedKind {
    #[serde(rename = "FULL")]
    Full,
    #[serde(rename = "DELTA")]
    Delta,
}

impl RequestedKind {
    fn kind(self) -> SyncKind {
        match self {
            RequestedKind::Full => SyncKind::Full,
            RequestedKind::Delta => SyncKind::Delta,
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(expecting = "a JSON object like {\"type\": \"FULL\"}")]
pub(crate) struct ForceSyncBody {
    #[serde(rename = "type")]
    pub(super) kind: Option<RequestedKind>,
}

/// Every field is optional, so an empty body is `{}`.
impl KomboBody for ForceSyncBody {
    const MAY_BE_EMPTY: bool = true;
}

/// How long `force-sync` waits for the run it started to get its id.
const RUN_START_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ForceSyncAnswer {
    already_queued: bool,
    sync_id: String,
    /// Always `FULL`: connectors read everything in every run (the first one's API has no
    /// change feed).
    #[serde(rename = "type")]
    #[schema(schema_with = sync_kinds)]
    kind: &'static str,
}

/// Kombo's sync types (atsbridge answers `FULL` only).
fn sync_kinds() -> utoipa::openapi::schema::ObjectBuilder {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["FULL", "DELTA"]))
}

/// The integration's RUNNING run, if its worker is alive: runs whose worker stopped renewing
/// the lease are recorded as failed first (and a replacement queued).
async fn live_run(state: &AppState, integration_id: &str) -> ApiResult<Option<RunRow>> {
    state.engine.reap_abandoned(Some(integration_id)).await?;
    let newest = state
        .store
        .runs(integration_id, 1)
        .await?
        .into_iter()
        .next();
    Ok(newest.filter(|r| r.state == RunState::Running))
}

/// `POST /force-sync` `{"type"?: "FULL"|"DELTA"}`.
///
/// At most one sync runs and one waits per integration (Kombo's rule). A run in progress is
/// the answer (`already_queued: true` and its id); a run whose worker stopped renewing its
/// lease is not in progress: it is recorded as failed first. Otherwise the request is queued
/// in the store (or found queued: `already_queued: true`) and a run is started at once in
/// the background to serve it; the scheduler would also pick the request up.
///
/// About `sync_id`: every run that serves a queued request is named after the request
/// (`atsbridge_sync::requested_run_id`), the run started here as well as a later one when
/// the lease is busy (another node's run) or the run is skipped. So the answer names the run
/// that serves the request, whichever node runs it and however late; we wait briefly
/// (`RUN_START_WAIT`) only to learn whether it started here.
pub(super) async fn force_sync(
    State(state): State<AppState>,
    scoped: Scoped,
    KomboJson(body): KomboJson<ForceSyncBody>,
) -> ApiResult<Json<DataResponse<ForceSyncAnswer>>> {
    let integration = scoped.integration;
    let id = integration.id.clone();
    match integration.status {
        IntegrationStatus::Inactive => {
            return Err(ApiError::new(
                ErrorCode::IntegrationInactive,
                format!(
                    "integration `{id}` is disabled; enable it with PUT /integrations/{id}/enabled"
                ),
            ))
        }
        // A run would be skipped until new credentials arrive; say so instead of queueing
        // a sync that silently does not happen.
        IntegrationStatus::Invalid => {
            let tool = state
                .tools
                .get(&integration.tool, integration.category)
                .map_or(integration.tool.as_str(), |t| t.label);
            return Err(ApiError::new(
                ErrorCode::IntegrationAuthenticationInvalid,
                format!("{tool} rejected this integration's credentials; syncing resumes once new credentials are provided"),
            ));
        }
        IntegrationStatus::Active => {}
    }
    let requested = body.kind.map_or(SyncKind::Full, RequestedKind::kind);
    let (already_queued, sync_id) = start_sync(&state, &id, requested).await?;
    Ok(Json(DataResponse::new(ForceSyncAnswer {
        already_queued,
        sync_id,
        kind: SyncKind::Full.as_str(),
    })))
}

/// Queues a sync of integration `id` and starts a run to serve it (see `force_sync`): whether
/// one was already running or queued, and the id of the run that serves the request. The
/// operator dashboard's "sync now" goes through here too.
pub(crate) async fn start_sync(
    state: &AppState,
    id: &str,
    requested: SyncKind,
) -> ApiResult<(bool, String)> {
    let id = id.to_owned();
    if let Some(run) = live_run(state, &id).await? {
        return Ok((true, run.id));
    }
    let now = Timestamp::now();
    let queued_now = state.store.request_sync(&id, requested, now).await?;
    // A request queued earlier (another call, or the replacement of a run whose worker died)
    // that nobody runs yet is served now as well.
    let queued_at = if queued_now {
        now
    } else {
        state
            .store
            .integration(&id)
            .await?
            .and_then(|r| r.sync_requested_at)
            .unwrap_or(now)
    };

    let (done_tx, done_rx) = oneshot::channel();
    let engine = state.engine.clone();
    let run_for = id.clone();
    let span = tracing::info_span!("force_sync", integration_id = %id);
    // Owned by the engine, not the request: the run continues after the answer is sent, and
    // a shutdown cancels it, records it and releases its lease.
    // Named after the request, like any run that serves it: the answer names the run
    // whether this one or, if the lease is busy, a later one serves the request.
    let named = atsbridge_sync::requested_run_id(&id, queued_at);
    let run = engine.spawn_run_as(run_for, requested, named.clone());
    tokio::spawn(
        async move {
            let outcome = run.await.unwrap_or_else(|e| {
                Err(atsbridge_store::StoreError::Corrupt(format!("the sync task failed: {e}")))
            });
            let ran = match outcome {
                Ok(Outcome::Ran(run)) => Some(run.id),
                Ok(Outcome::Busy) => {
                    tracing::info!("another worker is syncing this integration; the request stays queued for the scheduler");
                    None
                }
                Ok(Outcome::Skipped(why)) => {
                    tracing::info!(reason = why, "forced sync skipped; the request stays queued");
                    None
                }
                Err(e) => {
                    tracing::error!(error = ?e, "forced sync failed");
                    None
                }
            };
            let _ = done_tx.send(ran);
        }
        .instrument(span),
    );
    let sync_id = wait_for_run(state, &named, done_rx).await.unwrap_or(named);
    Ok((!queued_now, sync_id))
}

/// `run_id` once the run of that id (started by the caller) is recorded, or the id of the
/// run the background task reports; `None` if neither happens within `RUN_START_WAIT`.
async fn wait_for_run(
    state: &AppState,
    run_id: &str,
    mut done: oneshot::Receiver<Option<String>>,
) -> Option<String> {
    let deadline = tokio::time::Instant::now() + RUN_START_WAIT;
    let mut pause = Duration::from_millis(2);
    loop {
        tokio::select! {
            ran = &mut done => return ran.ok().flatten(),
            () = tokio::time::sleep(pause) => {}
        }
        if let Ok(Some(run)) = state.store.run(run_id).await {
            return Some(run.id);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
