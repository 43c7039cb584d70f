//! Assembling the served objects from stored records: each record's own JSON, deserialized
//! into its model type (so every key of the unified model is emitted), with its nested objects
//! filled from the store. Lookups are batched per page: one query per related model, never
//! one per record.

use std::collections::{BTreeSet, HashMap};

use atsbridge_model::application::{Application, ApplicationCandidate, ApplicationCore};
use atsbridge_model::candidate::{Candidate, CandidateApplication, CandidateProfile};
use atsbridge_model::common::{JobRef, StageRef};
use atsbridge_model::{ApplicationStage, Job, ModelKind, Stage};
use atsbridge_store::{Store, StoreError, StoredRecord};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiResult;

/// A stored JSON value as a model type; failing means the stored data does not match the
/// model, which is our fault, not the caller's.
fn decode<T: DeserializeOwned>(value: Value, record: &StoredRecord) -> ApiResult<T> {
    serde_json::from_value(value).map_err(|e| {
        StoreError::Corrupt(format!("record {} ({}): {e}", record.id, record.model)).into()
    })
}

/// The job of a record with the stage list stored beside it.
fn job(record: &StoredRecord) -> ApiResult<Job> {
    let mut json = record.json();
    if let Some(o) = json.as_object_mut() {
        o.insert(
            "stages".into(),
            record.nested.clone().unwrap_or(Value::Array(vec![])),
        );
    }
    decode(json, record)
}

pub fn jobs(records: &[StoredRecord]) -> ApiResult<Vec<Job>> {
    records.iter().map(job).collect()
}

pub fn application_stages(records: &[StoredRecord]) -> ApiResult<Vec<ApplicationStage>> {
    records.iter().map(|r| decode(r.json(), r)).collect()
}

/// What nested objects need of a job: its short form and its pipeline (for stage indexes).
struct JobInfo {
    reference: JobRef,
    stages: Vec<Stage>,
}

/// The jobs and stages that a page's applications point to, read in one query each.
struct Related {
    jobs: HashMap<String, JobInfo>,
    stages: HashMap<String, ApplicationStage>,
}

impl Related {
    async fn load(
        store: &Store,
        integration_id: &str,
        applications: &[ApplicationCore],
    ) -> ApiResult<Related> {
        let job_ids: BTreeSet<String> = applications
            .iter()
            .filter_map(|a| a.job_id.clone())
            .collect();
        let stage_ids: BTreeSet<String> = applications
            .iter()
            .filter_map(|a| a.current_stage_id.clone())
            .collect();
        let mut jobs = HashMap::new();
        if !job_ids.is_empty() {
            let ids: Vec<String> = job_ids.into_iter().collect();
            for record in store.by_ids(integration_id, ModelKind::Job, &ids).await? {
                let stages: Vec<Stage> = match &record.nested {
                    Some(n) => decode(n.clone(), &record)?,
                    None => vec![],
                };
                let reference = JobRef {
                    id: record.id.clone(),
                    name: record
                        .payload
                        .get("name")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    remote_id: record.remote_id.clone(),
                };
                jobs.insert(record.id.clone(), JobInfo { reference, stages });
            }
        }
        let mut stages = HashMap::new();
        if !stage_ids.is_empty() {
            let ids: Vec<String> = stage_ids.into_iter().collect();
            for record in store
                .by_ids(integration_id, ModelKind::ApplicationStage, &ids)
                .await?
            {
                let stage: ApplicationStage = decode(record.json(), &record)?;
                stages.insert(record.id.clone(), stage);
            }
        }
        Ok(Related { jobs, stages })
    }

    fn job(&self, application: &ApplicationCore) -> Option<JobRef> {
        let id = application.job_id.as_ref()?;
        self.jobs.get(id).map(|j| j.reference.clone())
    }

    /// The application's current stage: the stage record, with its `index` in the job's
    /// pipeline. When the stage record is missing, the job's own entry for it stands in.
    fn stage(&self, application: &ApplicationCore) -> Option<Stage> {
        let id = application.current_stage_id.as_ref()?;
        let in_job = application
            .job_id
            .as_ref()
            .and_then(|j| self.jobs.get(j))
            .and_then(|j| j.stages.iter().find(|s| &s.id == id));
        match self.stages.get(id) {
            Some(s) => Some(Stage {
                id: s.id.clone(),
                remote_id: s.remote_id.clone(),
                name: s.name.clone(),
                status: s.status,
                custom_fields: s.custom_fields.clone(),
                index: in_job.and_then(|s| s.index),
            }),
            None => in_job.cloned(),
        }
    }
}

/// Candidates with their applications (deleted ones only with `include_deleted`), each with
/// its current stage and job.
pub async fn candidates(
    store: &Store,
    integration_id: &str,
    records: &[StoredRecord],
    include_deleted: bool,
) -> ApiResult<Vec<Candidate>> {
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let mut applications: Vec<(String, ApplicationCore)> = Vec::new();
    if !ids.is_empty() {
        for record in store.applications_of(integration_id, &ids).await? {
            if record.remote_deleted_at.is_some() && !include_deleted {
                continue;
            }
            let Some(candidate_id) = record.candidate_id.clone() else {
                continue;
            };
            applications.push((candidate_id, decode(record.json(), &record)?));
        }
    }
    let cores: Vec<ApplicationCore> = applications.iter().map(|(_, a)| a.clone()).collect();
    let related = Related::load(store, integration_id, &cores).await?;
    let mut by_candidate: HashMap<String, Vec<CandidateApplication>> = HashMap::new();
    for (candidate_id, a) in applications {
        let short = CandidateApplication {
            current_stage: related.stage(&a).as_ref().map(StageRef::from),
            job: related.job(&a),
            id: a.id,
            remote_id: a.remote_id,
            outcome: a.outcome,
            rejection_reason_name: a.rejection_reason_name,
            rejected_at: a.rejected_at,
            remote_url: a.remote_url,
            changed_at: a.changed_at,
            remote_created_at: a.remote_created_at,
            remote_updated_at: a.remote_updated_at,
        };
        by_candidate.entry(candidate_id).or_default().push(short);
    }
    records
        .iter()
        .map(|r| {
            let profile: CandidateProfile = decode(r.json(), r)?;
            Ok(Candidate {
                applications: by_candidate.remove(&r.id).unwrap_or_default(),
                profile,
            })
        })
        .collect()
}

/// Applications with their candidate, current stage and job.
pub async fn applications(
    store: &Store,
    integration_id: &str,
    records: &[StoredRecord],
) -> ApiResult<Vec<Application>> {
    let cores: Vec<ApplicationCore> = records
        .iter()
        .map(|r| decode(r.json(), r))
        .collect::<ApiResult<_>>()?;
    let related = Related::load(store, integration_id, &cores).await?;
    let candidate_ids: Vec<String> = cores
        .iter()
        .filter_map(|a| a.candidate_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut candidates: HashMap<String, ApplicationCandidate> = HashMap::new();
    if !candidate_ids.is_empty() {
        for record in store
            .by_ids(integration_id, ModelKind::Candidate, &candidate_ids)
            .await?
        {
            let profile: CandidateProfile = decode(record.json(), &record)?;
            candidates.insert(record.id.clone(), ApplicationCandidate::from(&profile));
        }
    }
    Ok(cores
        .into_iter()
        .map(|core| Application {
            candidate: core
                .candidate_id
                .as_ref()
                .and_then(|id| candidates.get(id).cloned()),
            current_stage: related.stage(&core),
            job: related.job(&core),
            interviews: vec![],
            offers: vec![],
            core,
        })
        .collect())
}
