#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use atsbridge_model::integration::EndUser;
use atsbridge_model::tool::Tools;
use atsbridge_model::Timestamp;
use atsbridge_server::{app, serve, AppState, ServerConfig};
use atsbridge_store::{Credentials, Store};
use atsbridge_sync::{ConnectorFactory, Engine, EngineConfig, Outcome};
pub use atsbridge_test_support::assert::send;
pub use atsbridge_test_support::backends;
use atsbridge_test_support::sagehr::{self, fast_retry, new_integration};
use atsbridge_test_support::{keys, sqlite_url, Sim, TempDir};
use reqwest::{Method, RequestBuilder};
use sagehr_sim::TenantConfig;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub const INTEGRATION: &str = "sagehr:4mUqVHo3bnvKXT6qWZEpn1ds";
pub const SIM_KEY: &str = "server-test-sim-key";
pub const ENVIRONMENT: &str = "env_test";

/// The day HRIS connectors of an integration take as today, by integration id (unset: the
/// real date). Keyed by id so that tests running at once do not see each other's days.
pub static HRIS_TODAY: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, atsbridge_model::hris::PlainDate>>,
> = std::sync::LazyLock::new(Default::default);

pub fn factory() -> ConnectorFactory {
    Arc::new(|row, credentials: &Credentials, observer| {
        let retry = fast_retry(4, Duration::from_secs(1));
        match row.category {
            atsbridge_model::integration::Category::Hris => {
                let today = HRIS_TODAY
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get(&row.id)
                    .copied();
                sagehr::hris_connector(&row.id, credentials, retry, today, observer)
            }
            _ => sagehr::connector(&row.id, credentials, retry, observer),
        }
    })
}

/// A running server with one Sage HR integration connected to a simulator.
pub struct TestApp {
    pub sim: Sim,
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
    /// The tool registry instead of Sage HR's.
    pub tools: Option<Tools>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            positions: 6,
            applicants: 4,
            sync: true,
            config: ServerConfig::default(),
            database_url: None,
            tools: None,
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
    let sim = Sim::start(&tenant).await;
    let dir = TempDir::new();
    let store_url = options
        .database_url
        .clone()
        .unwrap_or_else(|| sqlite_url(&dir));
    let store = Store::open(&store_url, keys()).await.unwrap();
    let end_user = EndUser {
        organization_name: "Acme Ltd".into(),
        creator_email: Some("it@acme.example".into()),
        origin_id: Some("acme-1".into()),
    };
    let integration = new_integration(INTEGRATION, ENVIRONMENT, end_user, sim.credentials());
    sagehr::add_integration(&store, integration).await;
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
            .run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &CancellationToken::new(),
            )
            .await
            .unwrap();
        assert!(matches!(outcome, Outcome::Ran(_)), "{outcome:?}");
    }
    let mut config = options.config;
    // Integrations made by the connect flow reach the simulator.
    config
        .tool_base_urls
        .entry("sagehr".into())
        .or_insert_with(|| sim.base_url_template());
    let state = AppState::new(
        store.clone(),
        factory(),
        options.tools.unwrap_or_else(sagehr::tools),
        engine.clone(),
        config,
    );
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
        http: atsbridge_test_support::http(),
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

    pub async fn sync(&self) {
        self.engine
            .run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &CancellationToken::new(),
            )
            .await
            .unwrap();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
