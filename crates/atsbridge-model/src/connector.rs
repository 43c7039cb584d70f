//! The connector trait: what atsbridge needs from an ATS, whatever the ATS is. Sage HR is the
//! first implementation; a second ATS implements this trait in its own crate and needs one
//! registry line, nothing else.
//!
//! The trait is object-safe (`Arc<dyn Connector>`) and free of any async runtime: methods
//! return boxed futures, so this crate stays pure.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::application::Application;
use crate::candidate::Candidate;
use crate::envelope::Warning;
use crate::error::ErrorCode;
use crate::hris;
use crate::job::Job;
use crate::stage::ApplicationStage;
use crate::write::{
    AttachmentInput, CandidateInput, GdprConsentInput, ScreeningAnswerInput, SourceInput,
    SourcedByInput,
};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One unified record as a connector reads it. Records carry their own fields only: nested
/// objects that mirror other records (`candidate.applications`, `application.candidate`,
/// `application.job`, `application.current_stage`) are left empty, because the store
/// assembles them from the records themselves when serving. `job.stages` is filled: which
/// stages a job has is something only the connector knows.
///
/// HRIS records follow the same rule: `employee.employments`, `employee.time_off_balances`,
/// `employee.manager`, `employee.teams`, `absence.type` and `balance.type` are left empty
/// (`[]`/`None`; a balance's `type` is required, see [`Record::TimeOffBalance`]) and the store
/// joins them in. The exception is
/// `employee.groups`: which team an employee is in comes only from the employee's own
/// upstream record (Sage HR's `team_id`), so the connector fills `groups` with one
/// [`hris::GroupRef`] per membership (ids, name and type as the connector knows them) and the
/// store derives the Employee<>Group join from it.
// An employee is larger than a job, but every variant is a full record of similar size and
// they travel in short-lived batches; boxing one would only add an allocation per employee.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Job(Job),
    Candidate(Candidate),
    Application(Application),
    /// A stage and the remote id of the job whose pipeline it belongs to.
    ApplicationStage {
        stage: ApplicationStage,
        job_remote_id: String,
    },
    Employee(hris::Employee),
    Employment(hris::Employment),
    Group(hris::Group),
    AbsenceType(hris::AbsenceType),
    /// `kind` (the embedded type) is `None`; `core.type_id` names it.
    Absence(hris::Absence),
    /// Kombo requires the embedded `type` (it cannot be `None`), so the connector puts the
    /// absence type there as it read it in the same pass; the store ignores it (it is not
    /// part of the hash) and joins the stored type by `core.type_id`.
    TimeOffBalance(hris::TimeOffBalance),
}

impl Record {
    pub fn model(&self) -> crate::id::ModelKind {
        use crate::id::ModelKind;
        match self {
            Record::Job(_) => ModelKind::Job,
            Record::Candidate(_) => ModelKind::Candidate,
            Record::Application(_) => ModelKind::Application,
            Record::ApplicationStage { .. } => ModelKind::ApplicationStage,
            Record::Employee(_) => ModelKind::Employee,
            Record::Employment(_) => ModelKind::Employment,
            Record::Group(_) => ModelKind::Group,
            Record::AbsenceType(_) => ModelKind::AbsenceType,
            Record::Absence(_) => ModelKind::Absence,
            Record::TimeOffBalance(_) => ModelKind::TimeOffBalance,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Record::Job(j) => &j.id,
            Record::Candidate(c) => &c.profile.id,
            Record::Application(a) => &a.core.id,
            Record::ApplicationStage { stage, .. } => &stage.id,
            Record::Employee(e) => &e.core.id,
            Record::Employment(e) => &e.id,
            Record::Group(g) => &g.id,
            Record::AbsenceType(t) => &t.id,
            Record::Absence(a) => &a.core.id,
            Record::TimeOffBalance(b) => &b.core.id,
        }
    }
}

/// Where a full read delivers its records, a batch at a time, as they arrive. Returning an
/// error stops the read. The connector never holds more than a bounded part of a tenant
/// (for Sage HR: one page of positions and the applicants of a few of them).
pub trait RecordSink: Send {
    fn accept(&mut self, batch: Vec<Record>) -> BoxFuture<'_, Result<(), ConnectorError>>;
}

/// What a completed full read saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSummary {
    /// Records delivered per model name (`ats_jobs`, …).
    pub records: BTreeMap<&'static str, u64>,
    /// Upstream HTTP requests made, retries included.
    pub requests: u64,
    /// False when a listing changed while it was paged, so records may have shifted past a
    /// page boundary unseen. Such a read is still complete for what it returned, but must
    /// not be used to infer deletions. True is no proof either (a delete plus a create keep
    /// every total), which is why deletions go through `Connector::confirm_missing`.
    pub stable: bool,
    /// For an HRIS read: the days whose leave requests (absences) were read completely,
    /// first and last day included. Absences are read by date window, so one that is not
    /// delivered may only be taken as deleted when it lies inside this range; stored
    /// absences outside it were simply not asked about. `None` for ATS reads, and for an
    /// HRIS read that read no absences.
    pub absences_window: Option<(hris::PlainDate, hris::PlainDate)>,
}

/// Stored live records that a full read did not deliver, by remote id. Not being listed is no
/// proof of deletion: a listing paged while the ATS changed can skip a live record that moved
/// across a page boundary (one delete before it plus one create after it leave every total
/// unchanged). Each of these must be confirmed gone by `Connector::confirm_missing` before it
/// is marked deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Missing {
    /// Remote ids of jobs.
    pub jobs: BTreeSet<String>,
    /// Remote ids of applications (a candidate shares its application's remote id), each with
    /// the remote id of its job when known. The job lets a connector re-list the few places
    /// the application can be instead of asking for each one.
    pub applications: BTreeMap<String, Option<String>>,
    /// HRIS records by model (not absences), by remote id.
    pub hris: BTreeMap<crate::id::ModelKind, BTreeSet<String>>,
    /// HRIS absences by remote id, each with the days it was stored with (first, last): a
    /// connector that lists absences by date re-lists those days.
    pub absences: BTreeMap<String, (hris::PlainDate, hris::PlainDate)>,
}

impl Missing {
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
            && self.applications.is_empty()
            && self.hris.values().all(BTreeSet::is_empty)
            && self.absences.is_empty()
    }
}

/// What `Connector::confirm_missing` found: the records of a `Missing` that are really gone
/// upstream. Each set is a subset of what was asked; an id asked about and absent here
/// exists upstream and must stay live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confirmed {
    /// Remote ids of jobs the ATS says do not exist.
    pub jobs_gone: BTreeSet<String>,
    /// Remote ids of applications (and so of their candidates) the ATS says do not exist,
    /// directly or because their job does not.
    pub applications_gone: BTreeSet<String>,
    /// HRIS records the tool says do not exist, by model (absences included), by remote id.
    pub hris_gone: BTreeMap<crate::id::ModelKind, BTreeSet<String>>,
}

/// An applicant to create, as the unified API asked for it: validated by Kombo's rules, not
/// yet reduced to what any ATS stores. The connector decides what it keeps
/// (`Connector::prepare`) and how the rest maps onto its API (`Connector::create_applicant`),
/// so the server knows no tool's rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplicantRequest {
    /// The remote id of the job applied to, checked to be a plausible id (at most 64
    /// characters of `[A-Za-z0-9_-]`) but not known to exist upstream.
    pub job_remote_id: String,
    pub candidate: CandidateInput,
    pub attachments: Vec<AttachmentInput>,
    /// Deprecated by Kombo, still honoured: the request's own source.
    pub source: Option<SourceInput>,
    /// The integration's configured source name (`settings.source_name`), for a request
    /// that names none.
    pub default_source_name: Option<String>,
    /// The inputs outside the candidate that the request gave, in the order of
    /// [`OtherInput`]'s variants.
    pub others: Vec<OtherInput>,
}

/// An input of a create request outside the candidate, the attachments and the source. Only
/// given inputs are listed: a missing or empty `remote_fields` object, or an empty answer
/// list, is not.
#[derive(Debug, Clone, PartialEq)]
pub enum OtherInput {
    Stage {
        /// Where the request put it: `stage_id` (create application) or
        /// `application.stage_id` (create candidate).
        path: &'static str,
        stage_id: String,
    },
    SourcedBy(SourcedByInput),
    GdprConsent(GdprConsentInput),
    /// A non-empty object, keyed by tool.
    RemoteFields(serde_json::Map<String, serde_json::Value>),
    /// At least one answer.
    ScreeningAnswers(Vec<ScreeningAnswerInput>),
}

impl OtherInput {
    /// The input's path in the request body, as warnings name it.
    pub fn path(&self) -> &'static str {
        match self {
            OtherInput::Stage { path, .. } => path,
            OtherInput::SourcedBy(_) => "sourced_by",
            OtherInput::GdprConsent(_) => "gdpr_consent",
            OtherInput::RemoteFields(_) => "remote_fields",
            OtherInput::ScreeningAnswers(_) => "screening_question_answers",
        }
    }
}

/// What a connector keeps of an `ApplicantRequest`, decided before anything is downloaded or
/// sent, so that files the ATS would not take are never fetched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prepared {
    /// Indices into `ApplicantRequest::attachments` of the files the ATS takes, in the order
    /// `create_applicant` expects them.
    pub attachments: Vec<usize>,
    /// One warning for each given input the ATS does not store, each naming its path.
    pub warnings: Vec<Warning>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct FileUpload {
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

impl fmt::Debug for FileUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileUpload")
            .field("name", &self.name)
            .field("content_type", &self.content_type)
            .field("bytes", &self.data.len())
            .finish()
    }
}

/// The records of one application as read back from the ATS.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationRecords {
    pub candidate: Candidate,
    pub application: Application,
    pub stage: Option<Record>,
}

/// A raw request to the ATS API, relative to the integration's base URL. Authentication is
/// added by the connector.
#[derive(Debug, Clone, PartialEq)]
pub struct PassthroughRequest {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub params: BTreeMap<String, String>,
    pub body: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PassthroughResponse {
    /// The full URL called (without credentials).
    pub url: String,
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    /// JSON when the body parses as JSON, else the body as a string.
    pub body: serde_json::Value,
    /// The body as received, for callers that want it byte for byte (`response_as_base64`).
    pub raw_body: Vec<u8>,
}

/// The ways an ATS call fails, each with the Kombo code a client sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectorErrorKind {
    /// The credentials were rejected (401/403).
    AuthInvalid,
    /// The addressed object does not exist upstream.
    NotFound,
    /// Still rate limited after the retry budget.
    RateLimited,
    /// Server errors, timeouts or connection failures after the retry budget.
    Unavailable,
    /// The ATS rejected the input, with its messages.
    InvalidInput(Vec<String>),
    /// A duplicate the ATS refused (e.g. the same email on the same job).
    AlreadyExists,
    /// The job does not take applications.
    JobClosed,
    /// Anything else: unexpected statuses, unparseable answers.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorError {
    pub kind: ConnectorErrorKind,
    /// What failed, for logs and the error message (never contains credentials).
    pub message: String,
}

impl ConnectorError {
    pub fn new(kind: ConnectorErrorKind, message: impl Into<String>) -> Self {
        ConnectorError {
            kind,
            message: message.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self.kind {
            ConnectorErrorKind::AuthInvalid => ErrorCode::IntegrationAuthenticationInvalid,
            ConnectorErrorKind::NotFound | ConnectorErrorKind::Unknown => {
                ErrorCode::RemoteUnknownHttpError
            }
            ConnectorErrorKind::RateLimited => ErrorCode::RemoteRateLimitExceeded,
            ConnectorErrorKind::Unavailable => ErrorCode::RemoteServiceUnavailable,
            ConnectorErrorKind::InvalidInput(_) => ErrorCode::RemoteInputInvalid,
            ConnectorErrorKind::AlreadyExists => ErrorCode::AtsApplicationAlreadyExists,
            ConnectorErrorKind::JobClosed => ErrorCode::AtsJobClosed,
        }
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectorError {}

/// One attempt at an upstream HTTP request, as a connector's client reports it to its
/// [`UpstreamObserver`] (for metrics). Carries nothing of the tenant: no ids, no body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamAttempt<'a> {
    /// The tool's short name (`sagehr`).
    pub tool: &'static str,
    /// The method and templated path, never a raw id: `GET /employees/{id}/compensations`.
    pub endpoint: &'a str,
    /// The answer's status; `None` when no answer came (timeout, refused connection, a body
    /// cut short).
    pub status: Option<u16>,
    /// Whether the client will try this request again.
    pub will_retry: bool,
}

/// Told of every upstream attempt a connector makes, retries included. Called on the
/// request's task: keep it cheap and never block.
pub trait UpstreamObserver: Send + Sync {
    fn attempt(&self, attempt: &UpstreamAttempt<'_>);
}

/// How connectors hold their observer.
pub type Observer = std::sync::Arc<dyn UpstreamObserver>;

/// The observer of connectors nobody watches (command-line tools, tests).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl UpstreamObserver for NoObserver {
    fn attempt(&self, _: &UpstreamAttempt<'_>) {}
}

impl NoObserver {
    /// A shared `NoObserver`.
    pub fn shared() -> Observer {
        std::sync::Arc::new(NoObserver)
    }
}

/// One connected ATS account.
pub trait Connector: Send + Sync {
    /// The tool slug, e.g. `sagehr`.
    fn tool(&self) -> &'static str;

    /// Checks the credentials with one cheap call: `AuthInvalid` for rejected credentials,
    /// `NotFound` when no account answers at the configured address.
    fn check_credentials(&self) -> BoxFuture<'_, Result<(), ConnectorError>>;

    /// Reads every record of every model and hands them to `sink` as they arrive. Returns
    /// only after everything was read; any failure is an error, never a shorter listing. A
    /// record deleted upstream while the read runs is left out rather than failing the read.
    /// Even a successful read may miss live records that shifted between pages, so a record
    /// it did not deliver is only a candidate for deletion: see `confirm_missing`.
    fn read_all<'a>(
        &'a self,
        sink: &'a mut dyn RecordSink,
    ) -> BoxFuture<'a, Result<ReadSummary, ConnectorError>>;

    /// Upstream HTTP requests this connector has made so far, retries included. A run reads it
    /// before and after and records the difference, whether the run succeeded or not (a
    /// failed read returns no `ReadSummary`).
    fn requests_sent(&self) -> u64;

    /// Of `requests_sent`, the attempts that repeated a failed request (after a 429, a 5xx,
    /// a timeout…). A run logs the difference; connectors that never retry keep the default.
    fn retries(&self) -> u64 {
        0
    }

    /// Tells real deletions from records that shifted past a page boundary while `read_all`
    /// paged. For every id in `missing` it asks the ATS about that record by something a
    /// shift cannot fake (a lookup by id, or a fresh listing of the record's own parent):
    ///
    /// - a record the ATS says does not exist goes into `Confirmed` (an application also
    ///   when its job does not exist, without a request of its own);
    /// - a record that exists stays out of `Confirmed`. When the connector can read it in the
    ///   exact form `read_all` delivers (same fields, same `remote_data`, so the same hash),
    ///   it hands those records to `sink`, together with whatever else that form brings
    ///   along (for Sage HR: the whole position, its stages and every applicant), so the
    ///   caller can store them as if the listing had not missed them. A record that exists
    ///   but is only readable in another form is not delivered; it simply stays live.
    ///
    /// Any failure other than "does not exist" (rate limits after retries, server errors,
    /// rejected credentials, an account that no longer answers) is an error, and the caller
    /// must then mark nothing deleted. Records reaching `sink` before an error are correct
    /// and may be kept.
    fn confirm_missing<'a>(
        &'a self,
        missing: &'a Missing,
        sink: &'a mut dyn RecordSink,
    ) -> BoxFuture<'a, Result<Confirmed, ConnectorError>>;

    /// Which parts of `request` the ATS stores, without any I/O: the attachments it takes and
    /// a warning for every given input it drops. The caller downloads only those attachments
    /// and returns the warnings with the answer.
    fn prepare(&self, request: &ApplicantRequest) -> Prepared;

    /// Creates an applicant and returns its remote id. `files` are the attachments `prepare`
    /// chose, downloaded, in its order; inputs `prepare` warned about are left out.
    fn create_applicant<'a>(
        &'a self,
        request: &'a ApplicantRequest,
        files: Vec<FileUpload>,
    ) -> BoxFuture<'a, Result<String, ConnectorError>>;

    /// Reads one application (and its candidate) by remote id; `None` if it is gone.
    fn read_application<'a>(
        &'a self,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ApplicationRecords>, ConnectorError>>;

    /// Forwards a raw request to the ATS API with the integration's credentials.
    fn passthrough(
        &self,
        request: PassthroughRequest,
    ) -> BoxFuture<'_, Result<PassthroughResponse, ConnectorError>>;

    /// HRIS: creates an employee from the validated unified request and returns its remote
    /// id with a warning for each input the tool did not store. A connector of another
    /// category keeps this default, which says it creates no employees.
    fn create_employee<'a>(
        &'a self,
        request: &'a hris::CreateEmployeeRequest,
    ) -> BoxFuture<'a, Result<(String, Vec<Warning>), ConnectorError>> {
        let _ = request;
        Box::pin(std::future::ready(Err(ConnectorError::new(
            ConnectorErrorKind::Unknown,
            "this connection creates no employees",
        ))))
    }

    /// HRIS: reads one employee by remote id in exactly the form `read_all` delivers it;
    /// `None` if it does not exist.
    fn read_employee<'a>(
        &'a self,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<hris::Employee>, ConnectorError>> {
        let _ = remote_id;
        Box::pin(std::future::ready(Err(ConnectorError::new(
            ConnectorErrorKind::Unknown,
            "this connection reads no employees",
        ))))
    }
}
