#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use atsbridge_model::connector::Connector;
use atsbridge_model::integration::EndUser;
use atsbridge_model::Timestamp;
use atsbridge_sagehr::{Config, RetryPolicy, SageHr};
use atsbridge_server::{app, serve, AppState, ServerConfig};
use atsbridge_store::testing::{keys, PgDatabase, TempDir};
use atsbridge_store::{Credentials, IntegrationSettings, NewIntegration, Store};
use atsbridge_sync::{ConnectorFactory, Engine, EngineConfig, Outcome};
use reqwest::{Method, RequestBuilder};
use sagehr_sim::{spawn, with_tenant, Running, TenantConfig};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

pub const INTEGRATION: &str = "sagehr:4mUqVHo3bnvKXT6qWZEpn1ds";
pub const SIM_KEY: &str = "server-test-sim-key";
pub const ENVIRONMENT: &str = "env_test";

pub fn factory() -> ConnectorFactory {
    Arc::new(|row, credentials: &Credentials| {
        let mut config = Config::from_credentials(&credentials.0);
        config.retry = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(10),
            max_total_wait: Duration::from_secs(1),
        };
        Ok(Box::new(SageHr::new(&row.id, &config)?) as Box<dyn Connector>)
    })
}

/// A running server with one Sage HR integration connected to a simulator.
pub struct TestApp {
    pub sim: Running,
    pub store: Store,
    pub engine: Engine,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub key: String,
    pub http: reqwest::Client,
    pub shutdown: CancellationToken,
    /// The store's database, to open it again (a "restart").
    pub store_url: String,
    pub _dir: TempDir,
}

pub struct Options {
    pub positions: usize,
    pub applicants: usize,
    pub sync: bool,
    pub config: ServerConfig,
    /// The database to use instead of a fresh SQLite file (e.g. a PostgreSQL test database).
    pub database_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            positions: 6,
            applicants: 4,
            sync: true,
            config: ServerConfig::default(),
            database_url: None,
        }
    }
}

pub async fn spawn_app(options: Options) -> TestApp {
    let tenant = TenantConfig {
        seed: 3,
        positions: options.positions,
        applicants_per_position: options.applicants,
        ..TenantConfig::new("acme", SIM_KEY)
    };
    let sim = spawn(with_tenant(&tenant)).await.unwrap();
    let dir = TempDir::new();
    let store_url = options
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/store.db", dir.path().display()));
    let store = Store::open(&store_url, keys()).await.unwrap();
    let mut credentials = Credentials::default();
    credentials.0.insert("subdomain".into(), json!("acme"));
    credentials.0.insert("api_key".into(), json!(SIM_KEY));
    credentials.0.insert(
        "base_url".into(),
        json!(format!("{}/{{subdomain}}/api", sim.url())),
    );
    store
        .create_integration(
            NewIntegration {
                id: INTEGRATION.into(),
                tool: "sagehr".into(),
                environment_id: ENVIRONMENT.into(),
                end_user: EndUser {
                    organization_name: "Acme Ltd".into(),
                    creator_email: Some("it@acme.example".into()),
                    origin_id: Some("acme-1".into()),
                },
                settings: IntegrationSettings::default(),
                credentials,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let (_, key) = store
        .create_api_key(ENVIRONMENT, "tests", Timestamp::now())
        .await
        .unwrap();
    let engine = Engine::new(
        store.clone(),
        factory(),
        EngineConfig {
            worker_id: "test-server".into(),
            lease_ttl: Duration::from_secs(60),
        },
    );
    if options.sync {
        let outcome = engine
            .run_once(INTEGRATION, "FULL", &CancellationToken::new())
            .await
            .unwrap();
        assert!(matches!(outcome, Outcome::Ran(_)), "{outcome:?}");
    }
    let mut config = options.config;
    // Integrations made by the connect flow reach the simulator.
    config
        .tool_base_urls
        .entry("sagehr".into())
        .or_insert_with(|| format!("{}/{{subdomain}}/api", sim.url()));
    let state = AppState::new(store.clone(), factory(), engine.clone(), config);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(serve(listener, app(state), async move {
        stop.cancelled().await;
    }));
    TestApp {
        sim,
        store,
        engine,
        base,
        key,
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
        shutdown,
        store_url,
        _dir: dir,
    }
}

impl TestApp {
    /// A request with the API key and the integration header.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header("X-Integration-Id", INTEGRATION)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        send(self.request(Method::GET, path)).await
    }

    /// A control call to the simulator.
    pub async fn sim_control(&self, method: Method, path: &str, body: Value) -> Value {
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

    pub async fn sync(&self) {
        self.engine
            .run_once(INTEGRATION, "FULL", &CancellationToken::new())
            .await
            .unwrap();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn send(request: RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The SQLite run (`None`), then the PostgreSQL one when a server is configured; the
/// database goes when its run passed.
pub async fn backends() -> Vec<Option<PgDatabase>> {
    let mut out = vec![None];
    if let Some(db) = PgDatabase::create().await {
        out.push(Some(db));
    }
    out
}
