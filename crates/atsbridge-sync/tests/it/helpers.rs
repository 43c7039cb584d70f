use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use atsbridge_model::connector::Connector;
use atsbridge_model::integration::EndUser;
use atsbridge_model::{ModelKind, Timestamp};
use atsbridge_sagehr::{Config, RetryPolicy, SageHr};
use atsbridge_store::testing::{sqlite, PgDatabase};
use atsbridge_store::{
    Credentials, Filter, IntegrationSettings, NewIntegration, RunRow, Store, StoredRecord,
};
use atsbridge_sync::{ConnectorFactory, Engine, EngineConfig, Outcome};
use reqwest::Method;
use sagehr_sim::{spawn, with_tenant, Running, TenantConfig};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

pub const INTEGRATION: &str = "sagehr:4mUqVHo3bnvKXT6qWZEpn1ds";
pub const KEY: &str = "sync-test-key";

pub fn factory() -> ConnectorFactory {
    Arc::new(|row, credentials: &Credentials| {
        let mut config = Config::from_credentials(&credentials.0);
        config.retry = RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(10),
            max_total_wait: Duration::from_secs(2),
        };
        Ok(Box::new(SageHr::new(&row.id, &config)?) as Box<dyn Connector>)
    })
}

pub struct Env {
    pub sim: Running,
    pub store: Store,
    pub engine: Engine,
    pub http: reqwest::Client,
    /// Where a second store for the same database opens from.
    pub url: String,
}

/// Runs `test` on a SQLite store and, when configured, on a PostgreSQL one, each with a
/// fresh simulator holding `positions` × `applicants` generated records.
pub async fn each_backend<F, Fut>(positions: usize, applicants: usize, test: F)
where
    F: Fn(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    // Held here, not in `Env`: a test body that uses only some fields of `Env` captures
    // only those, and would drop the directory under the open database.
    let (store, dir) = sqlite().await;
    let url = format!("sqlite://{}/store.db", dir.path().display());
    test(env(store, url, positions, applicants).await).await;
    drop(dir);
    if let Some(db) = PgDatabase::create().await {
        let store = Store::open(&db.url, atsbridge_store::testing::keys())
            .await
            .unwrap();
        test(env(store, db.url.clone(), positions, applicants).await).await;
    }
}

async fn env(store: Store, url: String, positions: usize, applicants: usize) -> Env {
    let config = TenantConfig {
        seed: 11,
        positions,
        applicants_per_position: applicants,
        ..TenantConfig::new("acme", KEY)
    };
    let sim = spawn(with_tenant(&config)).await.unwrap();
    add_integration(&store, INTEGRATION, &sim).await;
    let engine = engine(&store, "worker-a");
    Env {
        sim,
        store,
        engine,
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
        url,
    }
}

/// Adds integration `id`, connected to the simulator's `acme` account.
pub async fn add_integration(store: &Store, id: &str, sim: &Running) {
    let mut credentials = Credentials::default();
    credentials.0.insert("subdomain".into(), json!("acme"));
    credentials.0.insert("api_key".into(), json!(KEY));
    credentials.0.insert(
        "base_url".into(),
        json!(format!("{}/{{subdomain}}/api", sim.url())),
    );
    store
        .create_integration(
            NewIntegration {
                id: id.into(),
                tool: "sagehr".into(),
                environment_id: "env".into(),
                end_user: EndUser {
                    organization_name: "Acme".into(),
                    creator_email: None,
                    origin_id: None,
                },
                settings: IntegrationSettings::default(),
                credentials,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
}

pub fn engine(store: &Store, worker: &str) -> Engine {
    Engine::new(
        store.clone(),
        factory(),
        EngineConfig {
            worker_id: worker.into(),
            lease_ttl: Duration::from_secs(60),
        },
    )
}

impl Env {
    pub async fn sync(&self) -> RunRow {
        match self
            .engine
            .run_once(INTEGRATION, "FULL", &CancellationToken::new())
            .await
            .unwrap()
        {
            Outcome::Ran(run) => *run,
            other => panic!("expected a run, got {other:?}"),
        }
    }

    pub async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(method, format!("{}/_sim/acme/{path}", self.sim.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    /// Every record of a model, deleted ones included, by id.
    pub async fn all(&self, model: ModelKind) -> BTreeMap<String, StoredRecord> {
        let filter = Filter {
            include_deleted: true,
            ..Filter::default()
        };
        let mut out = BTreeMap::new();
        let mut after = None;
        loop {
            let (page, more) = self
                .store
                .list(INTEGRATION, model, &filter, after, 250)
                .await
                .unwrap();
            after = page.last().map(|r| r.seq);
            out.extend(page.into_iter().map(|r| (r.id.clone(), r)));
            if !more {
                return out;
            }
        }
    }

    /// Every row of a listing of the simulated account (`path` under its API), all pages,
    /// in the order Sage HR gives them.
    pub async fn upstream_rows(&self, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for page in 1.. {
            let body: Value = self
                .http
                .get(format!(
                    "{}/acme/api{path}?per_page=100&page={page}",
                    self.sim.url()
                ))
                .header("X-Auth-Token", KEY)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let data = body["data"].as_array().cloned().unwrap_or_default();
            let more = body["meta"]["next_page"].as_u64().is_some() && !data.is_empty();
            out.extend(data);
            if !more {
                return out;
            }
        }
        out
    }

    /// The ids of `upstream_rows`.
    pub async fn upstream_ids(&self, path: &str) -> Vec<u64> {
        self.upstream_rows(path)
            .await
            .iter()
            .map(|r| r["id"].as_u64().unwrap())
            .collect()
    }

    pub async fn live(&self, model: ModelKind) -> usize {
        self.all(model)
            .await
            .values()
            .filter(|r| r.remote_deleted_at.is_none())
            .count()
    }
}
