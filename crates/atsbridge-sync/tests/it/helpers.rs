use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use atsbridge_model::{ModelKind, Timestamp};
use atsbridge_store::{Credentials, RunRow, Store, StoredRecord};
use atsbridge_sync::{Clock, ConnectorFactory, Engine, EngineConfig, Outcome};
use atsbridge_test_support::assert::all_records;
use atsbridge_test_support::sagehr::{self, end_user, fast_retry, new_integration};
use atsbridge_test_support::{keys, sqlite, sqlite_url, PgDatabase, Sim};
use sagehr_sim::TenantConfig;
use tokio_util::sync::CancellationToken;

pub const INTEGRATION: &str = "sagehr:4mUqVHo3bnvKXT6qWZEpn1ds";
pub const KEY: &str = "sync-test-key";

pub fn factory() -> ConnectorFactory {
    Arc::new(|row, credentials: &Credentials, observer| {
        sagehr::connector(
            &row.id,
            credentials,
            fast_retry(6, Duration::from_secs(2)),
            observer,
        )
    })
}

pub struct Env {
    pub sim: Sim,
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
    let url = sqlite_url(&dir);
    test(env(store, url, positions, applicants).await).await;
    drop(dir);
    if let Some(db) = PgDatabase::create().await {
        let store = Store::open(&db.url, keys()).await.unwrap();
        test(env(store, db.url.clone(), positions, applicants).await).await;
    }
}

async fn env(store: Store, url: String, positions: usize, applicants: usize) -> Env {
    let sim = Sim::start(&TenantConfig {
        seed: 11,
        positions,
        applicants_per_position: applicants,
        ..TenantConfig::new("acme", KEY)
    })
    .await;
    add_integration(&store, INTEGRATION, &sim).await;
    let engine = engine(&store, "worker-a");
    Env {
        sim,
        store,
        engine,
        http: atsbridge_test_support::http(),
        url,
    }
}

/// Adds integration `id`, connected to the simulator's `acme` account.
pub async fn add_integration(store: &Store, id: &str, sim: &Sim) {
    let integration = new_integration(id, "env", end_user("Acme"), sim.credentials());
    sagehr::add_integration(store, integration).await;
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

/// An engine's clock that the test moves forward instead of waiting: the wall clock plus how
/// far it has been moved.
#[derive(Clone, Default)]
pub struct Ahead(Arc<AtomicU64>);

impl Ahead {
    pub fn clock(&self) -> Clock {
        let ahead = self.0.clone();
        Clock::new(move || {
            Timestamp::now().plus(Duration::from_millis(ahead.load(Ordering::SeqCst)))
        })
    }

    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Env {
    pub async fn sync(&self) -> RunRow {
        match self
            .engine
            .run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &CancellationToken::new(),
            )
            .await
            .unwrap()
        {
            Outcome::Ran(run) => *run,
            other => panic!("expected a run, got {other:?}"),
        }
    }

    /// Every record of a model, deleted ones included, by id.
    pub async fn all(&self, model: ModelKind) -> BTreeMap<String, StoredRecord> {
        all_records(&self.store, INTEGRATION, model).await
    }

    pub async fn live(&self, model: ModelKind) -> usize {
        self.all(model)
            .await
            .values()
            .filter(|r| r.remote_deleted_at.is_none())
            .count()
    }
}
