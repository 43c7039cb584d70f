use std::time::Duration;

use atsbridge_model::connector::{BoxFuture, ConnectorError, Record, RecordSink};
use atsbridge_sagehr::{Config, RetryPolicy, SageHr};
use reqwest::Method;
use sagehr_sim::{spawn, with_tenant, Running, Tenant, TenantConfig};
use serde_json::Value;

pub const INTEGRATION: &str = "sagehr:4mUqVHo3bnvKXT6qWZEpn1ds";
pub const KEY: &str = "connector-test-key";

pub struct Env {
    pub sim: Running,
    /// The same data the simulator serves, generated independently for expectations.
    pub expected: Tenant,
    pub http: reqwest::Client,
}

pub fn tenant_config(positions: usize, applicants_per_position: usize) -> TenantConfig {
    TenantConfig {
        seed: 5,
        positions,
        applicants_per_position,
        ..TenantConfig::new("acme", KEY)
    }
}

pub async fn start(positions: usize, applicants_per_position: usize) -> Env {
    let config = tenant_config(positions, applicants_per_position);
    let sim = spawn(with_tenant(&config)).await.expect("bind loopback");
    Env {
        sim,
        expected: sagehr_sim::generate(&config),
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
    }
}

/// Retries fast enough for tests, with room for a handful of injected failures.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 20,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        max_total_wait: Duration::from_secs(5),
    }
}

impl Env {
    pub fn config(&self, key: &str) -> Config {
        let mut c = Config::new("acme", key);
        c.base_url_template = format!("{}/{{subdomain}}/api", self.sim.url());
        c.retry = fast_retries();
        c
    }

    pub fn connector(&self) -> SageHr {
        SageHr::new(INTEGRATION, &self.config(KEY)).unwrap()
    }

    pub async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}/_sim/acme/{path}", self.sim.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "control {path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    pub async fn stats(&self) -> Value {
        self.http
            .get(format!("{}/_sim/acme/stats", self.sim.url()))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["data"]
            .clone()
    }
}

/// Collects what a read delivers, remembering how it arrived.
#[derive(Default)]
pub struct Collect {
    pub records: Vec<Record>,
    pub batches: usize,
    pub largest_batch: usize,
}

impl RecordSink for Collect {
    fn accept(&mut self, batch: Vec<Record>) -> BoxFuture<'_, Result<(), ConnectorError>> {
        self.batches += 1;
        self.largest_batch = self.largest_batch.max(batch.len());
        self.records.extend(batch);
        Box::pin(async { Ok(()) })
    }
}

impl Collect {
    pub fn jobs(&self) -> Vec<&atsbridge_model::Job> {
        self.records
            .iter()
            .filter_map(|r| {
                if let Record::Job(j) = r {
                    Some(j)
                } else {
                    None
                }
            })
            .collect()
    }

    pub fn candidates(&self) -> Vec<&atsbridge_model::Candidate> {
        self.records
            .iter()
            .filter_map(|r| {
                if let Record::Candidate(c) = r {
                    Some(c)
                } else {
                    None
                }
            })
            .collect()
    }

    pub fn applications(&self) -> Vec<&atsbridge_model::Application> {
        self.records
            .iter()
            .filter_map(|r| {
                if let Record::Application(a) = r {
                    Some(a)
                } else {
                    None
                }
            })
            .collect()
    }

    pub fn stages(&self) -> Vec<(&atsbridge_model::ApplicationStage, &str)> {
        self.records
            .iter()
            .filter_map(|r| {
                if let Record::ApplicationStage {
                    stage,
                    job_remote_id,
                } = r
                {
                    Some((stage, job_remote_id.as_str()))
                } else {
                    None
                }
            })
            .collect()
    }

    /// The records as JSON without the read time, to compare two reads.
    pub fn comparable(&self) -> Vec<Value> {
        let mut out: Vec<Value> = self
            .records
            .iter()
            .map(|r| {
                let mut v = match r {
                    Record::Job(j) => serde_json::to_value(j),
                    Record::Candidate(c) => serde_json::to_value(c),
                    Record::Application(a) => serde_json::to_value(a),
                    Record::ApplicationStage { stage, .. } => serde_json::to_value(stage),
                    Record::Employee(e) => serde_json::to_value(e),
                    Record::Employment(e) => serde_json::to_value(e),
                    Record::Group(g) => serde_json::to_value(g),
                    Record::AbsenceType(t) => serde_json::to_value(t),
                    Record::Absence(a) => serde_json::to_value(a),
                    Record::TimeOffBalance(b) => serde_json::to_value(b),
                }
                .unwrap();
                v.as_object_mut().unwrap().remove("changed_at");
                v
            })
            .collect();
        out.sort_by_key(|v| v["id"].as_str().unwrap_or_default().to_owned());
        out
    }
}
