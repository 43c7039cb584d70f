//! Measures one full sync into a fresh SQLite store: time, records and the process's peak
//! resident memory (VmHWM). Run the simulator as its own process so its data does not count:
//!
//! ```sh
//! cargo run --release -p sagehr-sim -- --port 7101 --positions 1000 --applicants-per-position 100 &
//! cargo run --release -p atsbridge-sync --example sync_memory -- http://127.0.0.1:7101/{subdomain}/api sim-acme-1
//! ```

use std::sync::Arc;
use std::time::Instant;

use atsbridge_model::connector::Connector;
use atsbridge_model::integration::EndUser;
use atsbridge_model::Timestamp;
use atsbridge_sagehr::{Config, SageHr};
use atsbridge_store::{Credentials, IntegrationSettings, KeyRing, NewIntegration, Store};
use atsbridge_sync::{Engine, EngineConfig, Outcome};
use tokio_util::sync::CancellationToken;

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base_url = args
        .next()
        .ok_or("usage: sync_memory <base-url-template> <api-key>")?;
    let api_key = args
        .next()
        .ok_or("usage: sync_memory <base-url-template> <api-key>")?;
    let dir = std::env::temp_dir().join(format!("atsbridge-sync-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = Store::open(
        &format!("sqlite://{}/store.db", dir.display()),
        KeyRing::new("bench", [1; 32]),
    )
    .await?;
    let integration = "sagehr:4mUqVHo3bnvKXT6qWZEpn1ds";
    let mut credentials = Credentials::default();
    credentials.0.insert("api_key".into(), api_key.into());
    store
        .create_integration(
            NewIntegration {
                id: integration.into(),
                tool: "sagehr".into(),
                category: atsbridge_model::integration::Category::Ats,
                environment_id: "bench".into(),
                end_user: EndUser {
                    organization_name: "Bench".into(),
                    creator_email: None,
                    origin_id: None,
                },
                settings: IntegrationSettings::default(),
                credentials,
            },
            Timestamp::now(),
        )
        .await?;
    let factory = Arc::new(
        move |row: &atsbridge_store::IntegrationRow,
              credentials: &Credentials,
              observer: &atsbridge_model::connector::Observer| {
            let mut config = Config::new("acme", credentials.get("api_key").unwrap_or_default());
            config.observer = observer.clone();
            config.base_url_template = base_url.clone();
            Ok(Box::new(SageHr::new(&row.id, &config)?) as Box<dyn Connector>)
        },
    );
    let engine = Engine::new(store.clone(), factory, EngineConfig::default());
    let before = peak_rss_kib();
    for label in ["first sync", "unchanged resync"] {
        let started = Instant::now();
        let Outcome::Ran(run) = engine
            .run_once(
                integration,
                atsbridge_model::integration::SyncKind::Full,
                &CancellationToken::new(),
            )
            .await?
        else {
            return Err("the sync did not run".into());
        };
        eprintln!(
            "{label}: {:?} in {:.1}s, {} upstream requests, inserted {:?}, unchanged {:?}, peak RSS {:?} KiB (before the first sync: {:?} KiB)",
            run.state,
            started.elapsed().as_secs_f64(),
            run.upstream_requests,
            run.counts.inserted,
            run.counts.unchanged,
            peak_rss_kib(),
            before
        );
    }
    store.close().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
