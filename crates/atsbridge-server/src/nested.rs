//! Assembling the served objects from stored records: each record's own JSON, deserialized
//! into its model type (so every key of the unified model is emitted), with its nested objects
//! filled from the store. Lookups are batched per page: one query per related model, never
//! one per record.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use atsbridge_model::application::{Application, ApplicationCandidate, ApplicationCore};
use atsbridge_model::candidate::{Candidate, CandidateApplication, CandidateProfile};
use atsbridge_model::common::{JobRef, StageRef};
use atsbridge_model::{ApplicationStage, Job, ModelKind, Stage};
use atsbridge_store::{ApplicationsPage, RawRecord, Store, StoreError, StoredRecord};
use serde::de::DeserializeOwned;
use serde::Deserialize;
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
    /// The stages' own fields (their `index` is the job's to say).
    stages: HashMap<String, Stage>,
}

impl Related {
    /// Reads the jobs and current stages of `applications` (as stored, one lookup per model)
    /// and builds them as an applications page's are (`from_raw`).
    async fn load(
        store: &Store,
        integration_id: &str,
        applications: &[ApplicationCore],
    ) -> ApiResult<Related> {
        let mut job_ids = BTreeSet::new();
        let mut stage_ids = BTreeSet::new();
        for a in applications {
            job_ids.extend(a.job_id.clone());
            stage_ids.extend(a.current_stage_id.clone());
        }
        let ids = |set: BTreeSet<String>| set.into_iter().collect::<Vec<_>>();
        let jobs = store
            .by_ids_raw(integration_id, ModelKind::Job, &ids(job_ids))
            .await?;
        let stages = store
            .by_ids_raw(integration_id, ModelKind::ApplicationStage, &ids(stage_ids))
            .await?;
        Related::from_raw(&jobs, &stages)
    }

    /// From the jobs and stages of an applications page, as stored: only a job's name and
    /// pipeline and the stages' own fields are parsed.
    fn from_raw(jobs: &[RawRecord], stages: &[RawRecord]) -> ApiResult<Related> {
        /// What a job's reference needs of its JSON; the rest is skipped unparsed.
        #[derive(Deserialize)]
        struct Named<'a> {
            #[serde(borrow, default)]
            name: Option<Cow<'a, str>>,
        }
        let mut by_id = HashMap::with_capacity(jobs.len());
        for record in jobs {
            let named: Named<'_> =
                serde_json::from_str(&record.payload).map_err(|e| corrupt(record, &e))?;
            let pipeline: Vec<Stage> = match &record.nested {
                Some(n) => serde_json::from_str(n).map_err(|e| corrupt(record, &e))?,
                None => vec![],
            };
            let reference = JobRef {
                id: record.id.clone(),
                name: named.name.map(Cow::into_owned),
                remote_id: record.remote_id.clone(),
            };
            by_id.insert(
                record.id.clone(),
                JobInfo {
                    reference,
                    stages: pipeline,
                },
            );
        }
        let mut stage_by_id = HashMap::with_capacity(stages.len());
        for record in stages {
            // The stage record's own fields; `index` comes from the job's pipeline.
            let stage: Stage =
                serde_json::from_str(&record.payload).map_err(|e| corrupt(record, &e))?;
            stage_by_id.insert(record.id.clone(), stage);
        }
        Ok(Related {
            jobs: by_id,
            stages: stage_by_id,
        })
    }

    fn job(&self, application: &ApplicationCore) -> Option<JobRef> {
        self.job_of(application.job_id.as_deref())
    }

    fn job_of(&self, job_id: Option<&str>) -> Option<JobRef> {
        self.jobs.get(job_id?).map(|j| j.reference.clone())
    }

    fn stage(&self, application: &ApplicationCore) -> Option<Stage> {
        self.stage_of(
            application.job_id.as_deref(),
            application.current_stage_id.as_deref(),
        )
    }

    /// The application's current stage: the stage record, with its `index` in the job's
    /// pipeline. When the stage record is missing, the job's own entry for it stands in.
    fn stage_of(&self, job_id: Option<&str>, stage_id: Option<&str>) -> Option<Stage> {
        let id = stage_id?;
        let in_job = job_id
            .and_then(|j| self.jobs.get(j))
            .and_then(|j| j.stages.iter().find(|s| s.id == id));
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

/// An application's job id and current stage id.
type JobAndStage<'a> = (Option<&'a str>, Option<&'a str>);

/// The `results` array of an applications page as JSON text. Each application's own fields
/// are served as stored (the store keeps them as canonical JSON without `changed_at` and
/// `remote_deleted_at`), spliced with those two and the nested candidate, stage and job;
/// only the candidates' summaries of old stores, the jobs' names and the stages are parsed,
/// and each (job, stage) pair is rendered once per page. Through typed values a page of 250
/// took about 20 ms of CPU (the benchmark's profile), most of it parsing and copying JSON.
pub fn applications_json(page: &ApplicationsPage) -> ApiResult<String> {
    let related = Related::from_raw(&page.jobs, &page.stages)?;
    let mut candidates: HashMap<&str, Cow<'_, str>> = HashMap::new();
    for c in &page.candidates {
        let summary = match (&c.summary, &c.payload) {
            (Some(summary), _) => Cow::Borrowed(summary.as_str()),
            // Written before summaries were stored: made from the candidate's JSON (the
            // summary's fields are a subset of the candidate's; serde skips the rest).
            (None, Some(payload)) => {
                let summary: ApplicationCandidate = serde_json::from_str(payload).map_err(|e| {
                    crate::error::ApiError::from(StoreError::Corrupt(format!(
                        "candidate {}: {e}",
                        c.id
                    )))
                })?;
                Cow::Owned(to_json(&summary)?)
            }
            (None, None) => continue,
        };
        candidates.insert(&c.id, summary);
    }
    // Applications of one job in one stage share both nested objects.
    let mut nested: HashMap<JobAndStage<'_>, (String, String)> = HashMap::new();
    let records = &page.records;
    let mut out = String::with_capacity(records.iter().map(|r| r.payload.len() + 600).sum());
    out.push('[');
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let candidate = r
            .candidate_id
            .as_deref()
            .and_then(|id| candidates.get(id))
            .map_or("null", |c| c.as_ref());
        let (job_id, stage_id) = (r.job_id.as_deref(), r.current_stage_id.as_deref());
        let (stage, job) = match nested.entry((job_id, stage_id)) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert((
                to_json(&related.stage_of(job_id, stage_id))?,
                to_json(&related.job_of(job_id))?,
            )),
        };
        push_object(
            &mut out,
            r,
            &[
                ("candidate", candidate),
                ("current_stage", stage),
                ("job", job),
            ],
        )?;
    }
    out.push(']');
    Ok(out)
}

/// The `results` array of a jobs page as JSON text: each job as stored with its pipeline.
pub fn jobs_json(records: &[RawRecord]) -> ApiResult<String> {
    array(records, |out, r| {
        push_object(out, r, &[("stages", r.nested.as_deref().unwrap_or("[]"))])
    })
}

/// The `results` array of an application-stages page as JSON text.
pub fn application_stages_json(records: &[RawRecord]) -> ApiResult<String> {
    array(records, |out, r| push_object(out, r, &[]))
}

pub(crate) fn array(
    records: &[RawRecord],
    mut each: impl FnMut(&mut String, &RawRecord) -> ApiResult<()>,
) -> ApiResult<String> {
    let mut out = String::with_capacity(records.iter().map(|r| r.payload.len() + 100).sum());
    out.push('[');
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(&mut out, r)?;
    }
    out.push(']');
    Ok(out)
}

/// Writes a stored record as a JSON object: `changed_at` and `remote_deleted_at` from the
/// store, the given members (already JSON), then the stored fields. The stored text is an
/// object without those keys, so no key appears twice.
pub(crate) fn push_object(
    out: &mut String,
    r: &RawRecord,
    members: &[(&str, &str)],
) -> ApiResult<()> {
    let body = r
        .payload
        .strip_prefix('{')
        .filter(|rest| rest.trim_start().starts_with('"'))
        .ok_or_else(|| corrupt(r, &"not a JSON object with fields"))?;
    out.push_str("{\"changed_at\":");
    out.push_str(&to_json(&r.changed_at)?);
    out.push_str(",\"remote_deleted_at\":");
    out.push_str(&to_json(&r.remote_deleted_at)?);
    for (name, value) in members {
        out.push_str(",\"");
        out.push_str(name);
        out.push_str("\":");
        out.push_str(value);
    }
    out.push(',');
    out.push_str(body);
    Ok(())
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> ApiResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()).into())
}

pub(crate) fn corrupt(record: &RawRecord, e: &dyn std::fmt::Display) -> crate::error::ApiError {
    StoreError::Corrupt(format!("record {}: {e}", record.id)).into()
}
