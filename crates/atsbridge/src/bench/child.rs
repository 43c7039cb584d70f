//! The part of `atsbridge bench` that runs in a child process, so that its peak memory
//! (VmHWM) is the sync's alone: the simulator and the measuring stay in the parent.
//!
//! `fetch` reads every page through the connector and drops the records (HTTP and JSON
//! parsing, nothing stored): the floor a sync is compared with. `sync` runs a first sync
//! into a fresh store and then an unchanged resync.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use atsbridge_model::connector::{BoxFuture, Connector, ConnectorError, Record, RecordSink};
use atsbridge_model::integration::EndUser;
use atsbridge_model::Timestamp;
use atsbridge_sagehr::{Config, SageHr};
use atsbridge_store::{Credentials, IntegrationSettings, NewIntegration, Store};
use atsbridge_sync::{Engine, EngineConfig, Outcome};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::bench_keys;
use crate::config::connectors;

pub const INTEGRATION: &str = "sagehr:4mUqVHo3bnvKXT6qWZEpn1ds";

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Mode {
    Fetch,
    Sync,
}

#[derive(Debug, Args)]
pub struct ChildArgs {
    #[arg(long, value_enum)]
    pub mode: Mode,
    /// The Sage HR base URL template (`http://127.0.0.1:PORT/{subdomain}/api`).
    #[arg(long)]
    pub base_url: String,
    #[arg(long)]
    pub subdomain: String,
    #[arg(long)]
    pub api_key: String,
    /// The store to sync into (`sync` mode).
    #[arg(long)]
    pub store_url: Option<String>,
}

/// What the child prints as its one line of stdout.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ChildReport {
    /// Seconds of the fetch, or of the first sync.
    pub first_s: f64,
    /// Seconds of the unchanged resync (`sync` mode).
    pub resync_s: f64,
    pub records: u64,
    pub requests: u64,
    /// Rows the resync inserted or updated, by the run's own counts.
    pub resync_rows_written: u64,
    /// Records whose `updated_at` or `changed_at` moved during the resync, read from the
    /// store (independent of the engine's accounting).
    pub resync_rows_moved: u64,
    /// Peak resident memory after the fetch or first sync, and at the end, in KiB.
    pub peak_rss_kib_first: u64,
    pub peak_rss_kib_end: u64,
    /// After the first sync: the database's size, the records stored and the bytes of
    /// their JSON as stored (own fields and nested parts).
    #[serde(default)]
    pub db_bytes: u64,
    #[serde(default)]
    pub stored_records: u64,
    #[serde(default)]
    pub json_bytes: u64,
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Counts records and drops them.
struct Discard(Arc<AtomicU64>);

impl RecordSink for Discard {
    fn accept(&mut self, batch: Vec<Record>) -> BoxFuture<'_, Result<(), ConnectorError>> {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
}

fn credentials(args: &ChildArgs) -> Credentials {
    let mut credentials = Credentials::default();
    credentials
        .0
        .insert("subdomain".into(), json!(args.subdomain));
    credentials.0.insert("api_key".into(), json!(args.api_key));
    credentials
        .0
        .insert("base_url".into(), json!(args.base_url));
    credentials
}

pub async fn run(args: ChildArgs) -> anyhow::Result<()> {
    let report = match args.mode {
        Mode::Fetch => fetch(&args).await?,
        Mode::Sync => sync(&args).await?,
    };
    #[allow(clippy::print_stdout)]
    {
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(())
}

async fn fetch(args: &ChildArgs) -> anyhow::Result<ChildReport> {
    let config = Config::from_credentials(&credentials(args).0);
    let connector = SageHr::new(INTEGRATION, &config)?;
    let count = Arc::new(AtomicU64::new(0));
    let mut sink = Discard(count.clone());
    let started = Instant::now();
    let summary = connector.read_all(&mut sink).await?;
    let elapsed = started.elapsed().as_secs_f64();
    Ok(ChildReport {
        first_s: elapsed,
        records: count.load(Ordering::Relaxed),
        requests: summary.requests,
        peak_rss_kib_first: peak_rss_kib(),
        peak_rss_kib_end: peak_rss_kib(),
        ..ChildReport::default()
    })
}

async fn sync(args: &ChildArgs) -> anyhow::Result<ChildReport> {
    let url = args
        .store_url
        .as_deref()
        .context("--store-url is required for --mode sync")?;
    let store = Store::open(url, bench_keys()).await?;
    store
        .create_integration(
            NewIntegration {
                id: INTEGRATION.into(),
                tool: "sagehr".into(),
                environment_id: "bench".into(),
                end_user: EndUser {
                    organization_name: "Bench".into(),
                    creator_email: None,
                    origin_id: None,
                },
                settings: IntegrationSettings::default(),
                credentials: credentials(args),
            },
            Timestamp::now(),
        )
        .await?;
    let engine = Engine::new(store.clone(), connectors(), EngineConfig::default());
    let mut report = ChildReport::default();
    for pass in 0..2 {
        let started_at = Timestamp::now();
        let started = Instant::now();
        let outcome = engine
            .run_once(INTEGRATION, "FULL", &CancellationToken::new())
            .await?;
        let elapsed = started.elapsed().as_secs_f64();
        let Outcome::Ran(run) = outcome else {
            bail!("the sync did not run: {outcome:?}");
        };
        if run.state.as_str() != "SUCCEEDED" {
            bail!("the sync ended {}: {:?}", run.state.as_str(), run.error);
        }
        let written: u64 = run
            .counts
            .inserted
            .values()
            .chain(run.counts.updated.values())
            .sum();
        if pass == 0 {
            report.first_s = elapsed;
            report.requests = run.upstream_requests as u64;
            report.records = written;
            report.peak_rss_kib_first = peak_rss_kib();
            let (stored, json) = json_bytes(&store).await?;
            report.stored_records = stored;
            report.json_bytes = json;
            report.db_bytes = store
                .database_bytes()
                .await
                .context("measuring the database")?;
        } else {
            report.resync_s = elapsed;
            report.resync_rows_written = written;
            report.resync_rows_moved = store
                .records_changed_since(INTEGRATION, started_at)
                .await
                .context("counting the rows the resync moved")?;
        }
    }
    report.peak_rss_kib_end = peak_rss_kib();
    store.close().await;
    Ok(report)
}

/// Every stored record of the bench's integration and the bytes of its JSON as stored,
/// read through the store's pages.
async fn json_bytes(store: &Store) -> anyhow::Result<(u64, u64)> {
    let filter = atsbridge_store::Filter {
        include_deleted: true,
        ..atsbridge_store::Filter::default()
    };
    let (mut records, mut bytes) = (0u64, 0u64);
    for model in atsbridge_model::ModelKind::ALL {
        let mut after = None;
        loop {
            let (page, more) = store
                .list_raw_after(INTEGRATION, model, &filter, after, 5_000)
                .await
                .context("reading the stored records")?;
            after = page.last().map(|r| atsbridge_store::Position {
                seq: r.seq,
                key: None,
            });
            records += page.len() as u64;
            bytes += page
                .iter()
                .map(|r| (r.payload.len() + r.nested.as_ref().map_or(0, String::len)) as u64)
                .sum::<u64>();
            if !more {
                break;
            }
        }
    }
    Ok((records, bytes))
}
