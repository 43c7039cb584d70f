//! Records built from the real model types, fixed times, and small readers over the store.

use atsbridge_model::candidate::EmailAddress;
use atsbridge_model::connector::Record;
use atsbridge_model::enums::{EmploymentType, JobStatus, Outcome, Visibility};
use atsbridge_model::event::{
    ConnectionFlowFailed, Event, IntegrationStateChanged, QaStatus, SyncFinished, SyncState,
};
use atsbridge_model::integration::{Category, EndUser, IntegrationStatus, SetupStatus};
use atsbridge_model::{
    record_id, Application, ApplicationCore, ApplicationStage, Candidate, CandidateProfile, Job,
    ModelKind, Stage, Timestamp,
};
use atsbridge_store::{
    BatchCounts, Credentials, Filter, IntegrationRow, IntegrationSettings, NewEvent,
    NewIntegration, RecordInput, Store, StoredRecord,
};
use serde_json::json;

pub use crate::smoke::INTEGRATION as A;

/// A second integration, to check that nothing leaks between tenants.
pub const B: &str = "sagehr:7pQsWbR2nKx9YtLmZcVd3hAe";

/// A fixed instant.
pub fn t(s: &str) -> Timestamp {
    Timestamp::parse(s).expect("a test timestamp")
}

/// Day `d` of January 2026 at noon UTC: the "now" of the d-th sync of a test.
pub fn day(d: u8) -> Timestamp {
    t(&format!("2026-01-{d:02}T12:00:00Z"))
}

/// A placeholder for the `changed_at` a connector fills in; the store ignores it.
fn whenever() -> Timestamp {
    t("2000-01-01T00:00:00Z")
}

pub fn id(integration: &str, model: ModelKind, remote: &str) -> String {
    record_id(integration, model, remote)
}

pub async fn connect(store: &Store, id: &str, environment: &str) -> IntegrationRow {
    connect_at(store, id, environment, day(1)).await
}

pub async fn connect_at(
    store: &Store,
    id: &str,
    environment: &str,
    now: Timestamp,
) -> IntegrationRow {
    let mut credentials = Credentials::default();
    credentials.0.insert("subdomain".into(), json!("acme"));
    credentials
        .0
        .insert("api_key".into(), json!(format!("key-of-{id}")));
    store
        .create_integration(
            NewIntegration {
                id: id.into(),
                tool: "sagehr".into(),
                category: Category::Ats,
                environment_id: environment.into(),
                end_user: EndUser {
                    organization_name: "Acme".into(),
                    creator_email: Some("it@acme.test".into()),
                    origin_id: Some("acme-1".into()),
                },
                settings: IntegrationSettings::default(),
                credentials,
            },
            now,
        )
        .await
        .expect("create an integration")
}

pub fn job(integration: &str, remote: &str, name: &str) -> Job {
    Job {
        id: id(integration, ModelKind::Job, remote),
        remote_id: remote.into(),
        name: Some(name.into()),
        job_code: None,
        description: None,
        confidential: None,
        weekly_hours: None,
        category: None,
        department: None,
        post_url: None,
        experience_level: None,
        salary_amount: None,
        salary_amount_from: None,
        salary_amount_to: None,
        salary_currency: None,
        custom_fields: None,
        remote_url: None,
        opened_at: None,
        closed_at: None,
        remote_created_at: None,
        remote_updated_at: None,
        contact_id: None,
        changed_at: whenever(),
        remote_deleted_at: None,
        stages: Vec::new(),
        screening_questions: Vec::new(),
        job_postings: Vec::new(),
        hiring_team: Vec::new(),
        employment_type: Some(EmploymentType::FullTime),
        status: Some(JobStatus::Open),
        visibility: Some(Visibility::Public),
        remote_work_status: None,
        salary_period: None,
        location: None,
        remote_data: None,
    }
}

/// A job's pipeline entry (the nested `job.stages[]`).
pub fn pipeline_stage(integration: &str, remote: &str, name: &str, index: i64) -> Stage {
    Stage {
        id: id(integration, ModelKind::ApplicationStage, remote),
        remote_id: Some(remote.into()),
        name: Some(name.into()),
        status: None,
        custom_fields: None,
        index: Some(index),
    }
}

pub fn candidate(integration: &str, remote: &str, first: &str, last: &str) -> Candidate {
    Candidate {
        profile: CandidateProfile {
            id: id(integration, ModelKind::Candidate, remote),
            remote_id: remote.into(),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            company: None,
            title: None,
            confidential: None,
            source: None,
            custom_fields: None,
            remote_url: None,
            remote_created_at: None,
            remote_updated_at: None,
            changed_at: whenever(),
            remote_deleted_at: None,
            tags: Vec::new(),
            phone_numbers: Vec::new(),
            email_addresses: vec![EmailAddress {
                email_address: Some(format!("{first}.{last}@example.test").to_lowercase()),
                kind: Some("PRIVATE".into()),
            }],
            social_media: Vec::new(),
            location: None,
            remote_data: None,
        },
        applications: Vec::new(),
    }
}

/// An application of candidate `candidate` to job `job`, in stage `stage` if any.
pub fn application(
    integration: &str,
    remote: &str,
    candidate: &str,
    job: &str,
    stage: Option<&str>,
) -> Application {
    Application {
        core: ApplicationCore {
            id: id(integration, ModelKind::Application, remote),
            remote_id: Some(remote.into()),
            outcome: Some(Outcome::Pending),
            rejection_reason_name: None,
            rejected_at: None,
            current_stage_id: stage.map(|s| id(integration, ModelKind::ApplicationStage, s)),
            job_id: Some(id(integration, ModelKind::Job, job)),
            candidate_id: Some(id(integration, ModelKind::Candidate, candidate)),
            custom_fields: None,
            remote_url: None,
            changed_at: whenever(),
            remote_deleted_at: None,
            remote_created_at: None,
            remote_updated_at: None,
            screening_question_answers: Vec::new(),
            remote_data: None,
        },
        candidate: None,
        current_stage: None,
        job: None,
        interviews: Vec::new(),
        offers: Vec::new(),
    }
}

pub fn stage(integration: &str, remote: &str, name: &str, job_remote: &str) -> Record {
    Record::ApplicationStage {
        stage: ApplicationStage {
            id: id(integration, ModelKind::ApplicationStage, remote),
            remote_id: Some(remote.into()),
            name: Some(name.into()),
            status: None,
            custom_fields: None,
            changed_at: whenever(),
            remote_deleted_at: None,
            remote_data: None,
        },
        job_remote_id: job_remote.into(),
    }
}

pub fn input(record: Record) -> RecordInput {
    RecordInput::from_record(&record).expect("a storable record")
}

pub fn job_in(j: Job) -> RecordInput {
    input(Record::Job(j))
}

pub fn candidate_in(c: Candidate) -> RecordInput {
    input(Record::Candidate(c))
}

/// An application with the remote id of its job, as the sync engine stores it.
pub fn application_in(a: Application, job_remote: &str) -> RecordInput {
    input(Record::Application(a)).with_job_remote_id(Some(job_remote.into()))
}

pub async fn apply(
    store: &Store,
    integration: &str,
    batch: Vec<RecordInput>,
    now: Timestamp,
) -> BatchCounts {
    store
        .apply_batch(integration, &batch, now)
        .await
        .expect("apply a batch")
}

/// One record by id, deleted or not.
pub async fn get(store: &Store, integration: &str, model: ModelKind, id: &str) -> StoredRecord {
    let mut found = store
        .by_ids(integration, model, &[id.to_owned()])
        .await
        .expect("read a record");
    assert_eq!(found.len(), 1, "exactly one {model} with id {id}");
    found.remove(0)
}

/// Every record matching `filter`, paging through small pages.
pub async fn all(
    store: &Store,
    integration: &str,
    model: ModelKind,
    filter: &Filter,
) -> Vec<StoredRecord> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let (page, more) = store
            .list(integration, model, filter, after, 3)
            .await
            .expect("list records");
        after = page.last().map(|r| r.seq).or(after);
        out.extend(page);
        if !more {
            return out;
        }
    }
}

/// The sorted remote ids of every record matching `filter`.
pub async fn remote_ids(
    store: &Store,
    integration: &str,
    model: ModelKind,
    filter: &Filter,
) -> Vec<String> {
    let mut ids: Vec<String> = all(store, integration, model, filter)
        .await
        .into_iter()
        .map(|r| r.remote_id)
        .collect();
    ids.sort();
    ids
}

/// `["a", "b"]` as owned strings.
pub fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

// A small tenant shared by the change and deletion tests:
//   jobs j1 (pipeline s1 "New", s2 "Interview") and j2 (no pipeline);
//   candidates c1 Ada Lovelace and c2 Grace Hopper;
//   applications a1 (c1 → j1, in s1), a2 (c2 → j1, in s2), a3 (c1 → j2, no stage).

pub fn j1(i: &str) -> Job {
    let mut j = job(i, "j1", "Rust Engineer");
    j.stages = vec![
        pipeline_stage(i, "s1", "New", 0),
        pipeline_stage(i, "s2", "Interview", 1),
    ];
    j
}

pub fn j2(i: &str) -> Job {
    job(i, "j2", "Office Manager")
}

pub fn s1(i: &str) -> Record {
    stage(i, "s1", "New", "j1")
}

pub fn s2(i: &str) -> Record {
    stage(i, "s2", "Interview", "j1")
}

pub fn c1(i: &str) -> Candidate {
    candidate(i, "c1", "Ada", "Lovelace")
}

pub fn c2(i: &str) -> Candidate {
    candidate(i, "c2", "Grace", "Hopper")
}

pub fn a1(i: &str) -> Application {
    application(i, "a1", "c1", "j1", Some("s1"))
}

pub fn a2(i: &str) -> Application {
    application(i, "a2", "c2", "j1", Some("s2"))
}

pub fn a3(i: &str) -> Application {
    application(i, "a3", "c1", "j2", None)
}

/// The whole small tenant, with record ids made for integration `i`.
pub fn seed(i: &str) -> Vec<RecordInput> {
    vec![
        job_in(j1(i)),
        job_in(j2(i)),
        input(s1(i)),
        input(s2(i)),
        candidate_in(c1(i)),
        candidate_in(c2(i)),
        application_in(a1(i), "j1"),
        application_in(a2(i), "j1"),
        application_in(a3(i), "j2"),
    ]
}

/// Connects integration `A` and stores the small tenant on day 1.
pub async fn seeded(store: &Store) {
    connect(store, A, "env").await;
    apply(store, A, seed(A), day(1)).await;
}

/// `(changed_at, updated_at)` of a record of integration `A` by remote id.
pub async fn times(store: &Store, model: ModelKind, remote: &str) -> (Timestamp, Timestamp) {
    let r = get(store, A, model, &id(A, model, remote)).await;
    (r.changed_at, r.updated_at)
}

fn end_user() -> EndUser {
    EndUser {
        organization_name: "Acme".into(),
        creator_email: None,
        origin_id: None,
    }
}

/// A `sync-finished` outbox event `id` of `integration`'s run changing `changed`, at `at`.
pub fn sync_finished(id: &str, integration: &str, changed: &[&str], at: Timestamp) -> NewEvent {
    let event = Event::SyncFinished(SyncFinished {
        sync_id: format!("sync_{id}"),
        sync_state: SyncState::Succeeded,
        sync_started_at: at,
        sync_ended_at: Some(at),
        sync_duration_seconds: 0,
        integration_id: integration.into(),
        integration_tool: "sagehr".into(),
        integration_category: Category::Ats,
        end_user: end_user(),
        changed_models: changed.iter().map(|m| (*m).to_owned()).collect(),
        log_url: String::new(),
    });
    NewEvent {
        id: id.into(),
        ..NewEvent::new(event, at)
    }
}

/// An `integration-state-changed` outbox event `id` of `integration`, to `state`, at `at`.
pub fn state_changed(
    id: &str,
    integration: &str,
    state: IntegrationStatus,
    at: Timestamp,
) -> NewEvent {
    let event = Event::IntegrationStateChanged(IntegrationStateChanged {
        integration_tool: "sagehr".into(),
        integration_id: integration.into(),
        integration_category: Category::Ats,
        end_user: end_user(),
        qa_status: QaStatus::Passed,
        setup_status: SetupStatus::Completed,
        state,
        updated_at: at,
    });
    NewEvent {
        id: id.into(),
        ..NewEvent::new(event, at)
    }
}

/// A `connection-flow-failed` outbox event `id` of no integration, at `at`.
pub fn flow_failed(id: &str, at: Timestamp) -> NewEvent {
    let event = Event::ConnectionFlowFailed(ConnectionFlowFailed {
        integration_tool: "sagehr".into(),
        integration_category: Category::Ats,
        end_user: end_user(),
        log_url: String::new(),
    });
    NewEvent {
        id: id.into(),
        ..NewEvent::new(event, at)
    }
}
