//! The create itself, after validation: the job resolved, the connector asked what the tool
//! keeps (a warning for everything else), only the files it takes fetched, the upstream
//! create, the read-back stored at once and marked as created through atsbridge, and Kombo's
//! answer. Which inputs a tool stores is the connector's to say; messages name the tool by
//! its descriptor's label.

use std::time::Duration;

use atsbridge_model::connector::{ApplicantRequest, ConnectorErrorKind, Record};
use atsbridge_model::event::{ChangedModel, DataChanged, Event};
use atsbridge_model::{
    Candidate, CreatedApplication, ErrorCode, JobIdRef, ModelKind, Timestamp, Warning,
    WriteResponse,
};
use atsbridge_store::{Filter, IntegrationRow, NewEvent, RecordInput, StoredRecord};
use serde_json::Value;

use super::download::file;
use super::plan::Plan;
use super::Action;
use crate::error::{ApiError, ApiResult};
use crate::{nested, AppState};

/// The job to apply to: its remote id, after the checks the store allows.
async fn resolve_job(
    state: &AppState,
    integration: &IntegrationRow,
    job: &JobIdRef,
    field: &str,
    label: &str,
) -> ApiResult<String> {
    let check_open = |record: &StoredRecord| -> ApiResult<()> {
        let status = record.payload.get("status").and_then(Value::as_str);
        if record.remote_deleted_at.is_some() {
            return Err(ApiError::new(
                ErrorCode::AtsJobClosed,
                format!("the job `{}` was deleted in {label}", record.id),
            ));
        }
        if status != Some("OPEN") {
            return Err(ApiError::new(
                ErrorCode::AtsJobClosed,
                format!(
                    "the job `{}` ({label} id {}) is {}, not OPEN, so it takes no applications",
                    record.id,
                    record.remote_id,
                    status.unwrap_or("without a status")
                ),
            ));
        }
        Ok(())
    };
    match job {
        JobIdRef::Id(id) => {
            let records = state
                .store
                .by_ids(&integration.id, ModelKind::Job, std::slice::from_ref(id))
                .await?;
            let Some(record) = records.first() else {
                return Err(ApiError::invalid(
                    field,
                    format!("no job `{id}` in this integration; use an id from GET /v1/ats/jobs, or `remote:<the job's id in {label}>`"),
                ));
            };
            check_open(record)?;
            Ok(record.remote_id.clone())
        }
        JobIdRef::Remote(remote) => {
            let ok = remote.len() <= 64
                && remote
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !ok {
                return Err(ApiError::invalid(
                    field,
                    format!("`remote:{remote}` is not a job id to send to {label}: a remote id has at most 64 letters, digits, `-` or `_`"),
                ));
            }
            let filter = Filter {
                remote_ids: Some(vec![remote.clone()]),
                ..Filter::default()
            };
            let (records, _) = state
                .store
                .list(&integration.id, ModelKind::Job, &filter, None, 1)
                .await?;
            if let Some(record) = records.first() {
                check_open(record)?;
            }
            Ok(remote.clone())
        }
    }
}

/// Everything after validation: the upstream create, the read-back, and the answer's JSON.
pub(super) async fn perform(
    state: &AppState,
    integration: &IntegrationRow,
    plan: Plan,
) -> ApiResult<Value> {
    let label = state
        .tools
        .get(&integration.tool, integration.category)
        .map_or(integration.tool.as_str(), |t| t.label);
    let Plan {
        candidate,
        attachments,
        source,
        action,
        job,
        others,
    } = plan;
    let job_remote_id = resolve_job(state, integration, &job, action.job_field(), label).await?;
    let request = ApplicantRequest {
        job_remote_id: job_remote_id.clone(),
        candidate,
        attachments,
        source,
        default_source_name: integration.settings.source_name.clone(),
        others,
    };

    let credentials = state.store.credentials(&integration.id).await?;
    let connector = (state.connectors)(integration, &credentials, &state.metrics.observer())
        .map_err(|e| ApiError::new(e.code(), e.message))?;
    // Asked before any download, so a file the tool would not take is never fetched.
    let prepared = connector.prepare(&request);
    let mut warnings = prepared.warnings;
    let mut files = Vec::with_capacity(prepared.attachments.len());
    // A connector names attachments by index; one it made up is a bug, not a reason to panic.
    for i in prepared
        .attachments
        .into_iter()
        .filter(|&i| i < request.attachments.len())
    {
        files.push(file(&state.config, &request.attachments, i).await?);
    }

    let remote_id = match connector.create_applicant(&request, files).await {
        Ok(id) => id,
        Err(e) => {
            tracing::info!(integration_id = %integration.id, error = %e.message, "creating an applicant failed");
            return Err(match &e.kind {
                ConnectorErrorKind::NotFound => ApiError::invalid(
                    action.job_field(),
                    format!("{label} has no job `{job_remote_id}`"),
                ),
                ConnectorErrorKind::InvalidInput(messages) if !messages.is_empty() => {
                    ApiError::new(
                        e.code(),
                        format!("{label} rejected the applicant: {}", messages.join("; ")),
                    )
                }
                _ => ApiError::new(e.code(), e.message.clone()),
            });
        }
    };
    tracing::info!(integration_id = %integration.id, remote_id = %remote_id, job_remote_id = %job_remote_id, "applicant created");
    // From here on the applicant exists in the tool: the answer is a success whatever the
    // local store does (a client told otherwise would retry and create it twice). Storing
    // waits and retries; what still fails is logged and said in `warnings`.
    let now = Timestamp::now();
    // Remembered first, so that a sync in "only created applications" mode keeps it.
    if let Err(e) = retrying("remembering a created applicant", || {
        state.store.mark_created(&integration.id, &remote_id, now)
    })
    .await
    {
        tracing::error!(error = ?e, integration_id = %integration.id, %remote_id, "could not remember an applicant as created through atsbridge");
        warnings.push(Warning::new(format!("The applicant was created in {label}, but atsbridge could not record that it was created through the API; with \"sync only created applications\" on, it does not appear until it is recorded.")));
    }

    let mut read = None;
    for attempt in 1..=READ_BACK_ATTEMPTS {
        match connector.read_application(&remote_id).await {
            Ok(Some(r)) => {
                read = Some(r);
                break;
            }
            Ok(None) => {
                tracing::warn!(%remote_id, attempt, tool = %integration.tool, "the tool does not find the applicant it just created");
            }
            Err(e) => {
                tracing::warn!(%remote_id, attempt, error = %e.message, "reading a created applicant back failed");
            }
        }
        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
    }
    let Some(records) = read else {
        return Err(ApiError::new(
            ErrorCode::RemoteServiceUnavailable,
            format!("the applicant was created in {label} (id {remote_id}), but reading it back failed {READ_BACK_ATTEMPTS} times; it appears with the next sync. Do not retry the create: it would be refused as a duplicate or create the applicant twice"),
        ));
    };
    let candidate_id = records.candidate.profile.id.clone();
    let application_id = records.application.core.id.clone();
    let mut inputs = vec![
        RecordInput::from_record(&Record::Candidate(records.candidate.clone()))?,
        RecordInput::from_record(&Record::Application(records.application.clone()))?
            .with_job_remote_id(Some(job_remote_id.clone())),
    ];
    if let Some(stage) = &records.stage {
        inputs.push(RecordInput::from_record(stage)?);
    }
    // The create is announced with the records, in one transaction, also when a sync
    // stored the same applicant first: every create has its `data-changed`.
    let event = NewEvent::new(
        Event::DataChanged(DataChanged {
            integration_id: integration.id.clone(),
            integration_tool: integration.tool.clone(),
            integration_category: integration.category,
            changed_models: [ModelKind::Application, ModelKind::Candidate]
                .map(|m| ChangedModel {
                    name: m.as_str().to_owned(),
                })
                .into(),
        }),
        now,
    );
    if let Err(e) = retrying("storing a created applicant", || {
        state
            .store
            .apply_batch_announced(&integration.id, &inputs, now, &event)
    })
    .await
    {
        tracing::error!(error = ?e, integration_id = %integration.id, %remote_id, "could not store a created applicant; it is stored by the next sync");
        warnings.push(Warning::new(format!("The applicant was created in {label}, but atsbridge could not store it yet; it is readable after the next sync.")));
        if let Err(e) = retrying("announcing a created applicant", || {
            state.store.enqueue_event(&event)
        })
        .await
        {
            tracing::error!(error = ?e, integration_id = %integration.id, %remote_id, "the data-changed event of a create could not be written");
        }
        return answer_from_read_back(action, records, warnings);
    }
    match answer_from_store(
        state,
        integration,
        action,
        &candidate_id,
        &application_id,
        &warnings,
    )
    .await
    {
        Ok(value) => Ok(value),
        Err(e) => {
            tracing::error!(error = ?e, integration_id = %integration.id, %remote_id, "reading a stored applicant back failed; answering with what the tool returned");
            answer_from_read_back(action, records, warnings)
        }
    }
}

/// How often a created applicant is read back from the tool before giving up.
const READ_BACK_ATTEMPTS: u32 = 3;

/// Runs a store operation until it succeeds, a few times with a growing pause: after an
/// upstream create, a busy or briefly unavailable database must not turn the answer into
/// a failure.
async fn retrying<T, F, Fut>(
    what: &'static str,
    mut operation: F,
) -> Result<T, atsbridge_store::StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, atsbridge_store::StoreError>>,
{
    let mut pause = Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match operation().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < 6 => {
                tracing::warn!(error = ?e, attempt, "{what} failed; trying again");
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The answer as the read API would serve it: from the store, with the nested objects.
async fn answer_from_store(
    state: &AppState,
    integration: &IntegrationRow,
    action: Action,
    candidate_id: &str,
    application_id: &str,
    warnings: &[Warning],
) -> ApiResult<Value> {
    let candidate_records = state
        .store
        .by_ids(
            &integration.id,
            ModelKind::Candidate,
            &[candidate_id.to_owned()],
        )
        .await?;
    let candidate: Candidate =
        nested::candidates(&state.store, &integration.id, &candidate_records, false)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                atsbridge_store::StoreError::Corrupt(format!(
                    "candidate {candidate_id} vanished after it was stored"
                ))
            })?;
    let value = if action == Action::CreateApplication {
        let application_records = state
            .store
            .by_ids(
                &integration.id,
                ModelKind::Application,
                &[application_id.to_owned()],
            )
            .await?;
        let application = nested::applications(&state.store, &integration.id, &application_records)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                atsbridge_store::StoreError::Corrupt(format!(
                    "application {application_id} vanished after it was stored"
                ))
            })?;
        let created = CreatedApplication {
            current_stage: application.current_stage.as_ref().map(Into::into),
            job: application.job,
            candidate: Some(candidate.profile),
            core: application.core,
        };
        serde_json::to_value(WriteResponse::new(created, warnings.to_vec()))
    } else {
        serde_json::to_value(WriteResponse::new(candidate, warnings.to_vec()))
    };
    value.map_err(|e| {
        atsbridge_store::StoreError::Corrupt(format!("serializing a write answer: {e}")).into()
    })
}

/// The answer from the records the tool returned, when the store cannot give it: the same
/// fields, without the nested job (which only the store knows).
fn answer_from_read_back(
    action: Action,
    records: atsbridge_model::connector::ApplicationRecords,
    warnings: Vec<Warning>,
) -> ApiResult<Value> {
    let value = if action == Action::CreateApplication {
        let current_stage = match &records.stage {
            // Its place in the job's pipeline is only known to the store.
            Some(Record::ApplicationStage { stage, .. }) => {
                Some(atsbridge_model::common::StageRef {
                    id: stage.id.clone(),
                    name: stage.name.clone(),
                    remote_id: stage.remote_id.clone(),
                    index: None,
                })
            }
            _ => None,
        };
        let created = CreatedApplication {
            current_stage,
            job: None,
            candidate: Some(records.candidate.profile),
            core: records.application.core,
        };
        serde_json::to_value(WriteResponse::new(created, warnings))
    } else {
        serde_json::to_value(WriteResponse::new(records.candidate, warnings))
    };
    value.map_err(|e| {
        atsbridge_store::StoreError::Corrupt(format!("serializing a write answer: {e}")).into()
    })
}
