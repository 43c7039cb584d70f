//! A Sage HR connector whose runs can be interrupted on purpose: it stops forever after a
//! given number of batches (a crash, once its task is aborted), or runs a step of the test
//! between its read and the run's sweep (an API write landing mid-run).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use atsbridge_model::connector::{
    ApplicantRequest, ApplicationRecords, BoxFuture, Confirmed, Connector, ConnectorError,
    FileUpload, Missing, PassthroughRequest, PassthroughResponse, Prepared, ReadSummary, Record,
    RecordSink,
};
use atsbridge_sagehr::{Config, SageHr};
use atsbridge_store::Credentials;
use atsbridge_sync::ConnectorFactory;
use atsbridge_test_support::sagehr::fast_retry;

pub type Step = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// What the next runs do; shared by every connector the factory builds.
#[derive(Clone, Default)]
pub struct Script {
    /// Hang forever before handing over batch number `n` (0-based) of a full read.
    pub hang_before_batch: Option<usize>,
    /// Runs once, after the next full read and before the run's sweep.
    pub after_read: Option<Step>,
}

pub type Knobs = Arc<Mutex<Script>>;

pub fn sagehr_config(credentials: &Credentials, per_page: u32) -> Config {
    let mut config = Config::from_credentials(&credentials.0);
    config.per_page = per_page;
    config.retry = fast_retry(4, Duration::from_secs(1));
    config
}

/// Connectors reading `per_page` rows a page and following `knobs`.
pub fn scripted_factory(per_page: u32, knobs: Knobs) -> ConnectorFactory {
    Arc::new(move |row, credentials: &Credentials, observer| {
        let mut config = sagehr_config(credentials, per_page);
        config.observer = observer.clone();
        let inner = SageHr::new(&row.id, &config)?;
        Ok(Box::new(Scripted {
            inner,
            knobs: knobs.clone(),
        }) as Box<dyn Connector>)
    })
}

pub struct Scripted {
    pub inner: SageHr,
    knobs: Knobs,
}

struct Counting<'a> {
    sink: &'a mut dyn RecordSink,
    passed: usize,
    hang_before: Option<usize>,
}

impl RecordSink for Counting<'_> {
    fn accept(&mut self, batch: Vec<Record>) -> BoxFuture<'_, Result<(), ConnectorError>> {
        Box::pin(async move {
            if self.hang_before == Some(self.passed) {
                std::future::pending::<()>().await;
            }
            self.passed += 1;
            self.sink.accept(batch).await
        })
    }
}

impl Connector for Scripted {
    fn tool(&self) -> &'static str {
        self.inner.tool()
    }

    fn check_credentials(&self) -> BoxFuture<'_, Result<(), ConnectorError>> {
        self.inner.check_credentials()
    }

    fn read_all<'a>(
        &'a self,
        sink: &'a mut dyn RecordSink,
    ) -> BoxFuture<'a, Result<ReadSummary, ConnectorError>> {
        Box::pin(async move {
            let (hang_before, after) = {
                let mut k = self.knobs.lock().unwrap();
                (k.hang_before_batch, k.after_read.take())
            };
            let mut counting = Counting {
                sink,
                passed: 0,
                hang_before,
            };
            let summary = self.inner.read_all(&mut counting).await?;
            if let Some(step) = after {
                step().await;
            }
            Ok(summary)
        })
    }

    fn requests_sent(&self) -> u64 {
        self.inner.requests_sent()
    }

    fn confirm_missing<'a>(
        &'a self,
        missing: &'a Missing,
        sink: &'a mut dyn RecordSink,
    ) -> BoxFuture<'a, Result<Confirmed, ConnectorError>> {
        self.inner.confirm_missing(missing, sink)
    }

    fn prepare(&self, request: &ApplicantRequest) -> Prepared {
        self.inner.prepare(request)
    }

    fn create_applicant<'a>(
        &'a self,
        request: &'a ApplicantRequest,
        files: Vec<FileUpload>,
    ) -> BoxFuture<'a, Result<String, ConnectorError>> {
        self.inner.create_applicant(request, files)
    }

    fn read_application<'a>(
        &'a self,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ApplicationRecords>, ConnectorError>> {
        self.inner.read_application(remote_id)
    }

    fn passthrough(
        &self,
        request: PassthroughRequest,
    ) -> BoxFuture<'_, Result<PassthroughResponse, ConnectorError>> {
        self.inner.passthrough(request)
    }
}

/// What `POST /v1/ats/jobs/{id}/applications` does after validation (crates/atsbridge-server
/// src/write/create.rs): create in Sage HR, remember it, read it back, store it with its event.
pub async fn api_create(
    store: &atsbridge_store::Store,
    connector: &dyn Connector,
    integration_id: &str,
    job_remote_id: &str,
    email: &str,
) -> String {
    use atsbridge_model::event::{ChangedModel, DataChanged, Event};
    use atsbridge_model::integration::Category;
    use atsbridge_store::{NewEvent, RecordInput};
    let remote_id = connector
        .create_applicant(
            &ApplicantRequest {
                job_remote_id: job_remote_id.into(),
                candidate: serde_json::from_value(serde_json::json!({
                    "first_name": "Api", "last_name": "Write", "email_address": email
                }))
                .unwrap(),
                ..ApplicantRequest::default()
            },
            vec![],
        )
        .await
        .expect("create upstream");
    let now = atsbridge_model::Timestamp::now();
    store
        .mark_created(integration_id, &remote_id, now)
        .await
        .unwrap();
    let records = connector
        .read_application(&remote_id)
        .await
        .unwrap()
        .expect("read back");
    let mut inputs = vec![
        RecordInput::from_record(&Record::Candidate(records.candidate)).unwrap(),
        RecordInput::from_record(&Record::Application(records.application))
            .unwrap()
            .with_job_remote_id(Some(job_remote_id.into())),
    ];
    if let Some(stage) = &records.stage {
        inputs.push(RecordInput::from_record(stage).unwrap());
    }
    let event = NewEvent {
        id: format!("evt_api_{remote_id}"),
        ..NewEvent::new(
            Event::DataChanged(DataChanged {
                integration_id: integration_id.into(),
                integration_tool: "sagehr".into(),
                integration_category: Category::Ats,
                changed_models: vec![ChangedModel {
                    name: "ats_applications".into(),
                }],
            }),
            now,
        )
    };
    store
        .apply_batch_announced(integration_id, &inputs, now, &event)
        .await
        .expect("stored");
    remote_id
}
