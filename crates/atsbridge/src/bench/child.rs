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
use atsbridge_sagehr::hris::{HrisConfig, SageHrHris};
use atsbridge_sagehr::{Config, SageHr};
use atsbridge_store::{Credentials, IntegrationSettings, NewIntegration, RecordInput, Store};
use atsbridge_sync::{Engine, EngineConfig, Outcome};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::bench_keys;
use crate::admin::CategoryArg;
use crate::config::connectors;

pub const INTEGRATION: &str = "sagehr:4mUqVHo3bnvKXT6qWZEpn1ds";

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Mode {
    Fetch,
    Sync,
    /// Fetches every record first (untimed), then times converting them to the store's
    /// form and writing them into a fresh store as a first sync does: what storing costs
    /// with nothing fetched alongside, the floor of a sync's cost beyond the fetch.
    Store,
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
    /// The category of the bench's integration (`fetch` and `sync` modes).
    #[arg(long, value_enum, default_value_t = CategoryArg::Ats)]
    pub category: CategoryArg,
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
    /// CPU seconds (user and system) this process spent on the fetch or the first sync.
    #[serde(default)]
    pub cpu_s: f64,
    /// `store` mode: seconds converting the records, and seconds writing them.
    #[serde(default)]
    pub convert_s: f64,
    #[serde(default)]
    pub write_s: f64,
}

/// CPU seconds this process has used (user and system), from `/proc/self/stat` (in clock
/// ticks, 100 a second on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces; fields after its `)` are plain.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the `)`.
    (ticks(11) + ticks(12)) as f64 / 100.0
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
    Credentials(
        atsbridge_sagehr::Credentials {
            subdomain: args.subdomain.clone(),
            api_key: args.api_key.clone(),
            base_url: Some(args.base_url.clone()),
        }
        .to_map(),
    )
}

pub async fn run(args: ChildArgs) -> anyhow::Result<()> {
    let report = match args.mode {
        Mode::Fetch => fetch(&args).await?,
        Mode::Sync => sync(&args).await?,
        Mode::Store => store_only(&args).await?,
    };
    #[allow(clippy::print_stdout)]
    {
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(())
}

async fn fetch(args: &ChildArgs) -> anyhow::Result<ChildReport> {
    let config = Config::from_credentials(&credentials(args).0);
    let connector: Box<dyn Connector> = match args.category {
        CategoryArg::Ats => Box::new(SageHr::new(INTEGRATION, &config)?),
        CategoryArg::Hris => Box::new(SageHrHris::new(
            INTEGRATION,
            &config,
            HrisConfig::default(),
        )?),
    };
    let count = Arc::new(AtomicU64::new(0));
    let mut sink = Discard(count.clone());
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let summary = connector.read_all(&mut sink).await?;
    let elapsed = started.elapsed().as_secs_f64();
    Ok(ChildReport {
        first_s: elapsed,
        cpu_s: cpu_seconds() - cpu,
        records: count.load(Ordering::Relaxed),
        requests: summary.requests,
        peak_rss_kib_first: peak_rss_kib(),
        peak_rss_kib_end: peak_rss_kib(),
        ..ChildReport::default()
    })
}

/// A fresh store at `url` holding the bench's integration of the simulated account.
async fn open_with_integration(url: &str, args: &ChildArgs) -> anyhow::Result<Store> {
    let store = Store::open(url, bench_keys()).await?;
    store
        .create_integration(
            NewIntegration {
                id: INTEGRATION.into(),
                tool: "sagehr".into(),
                category: args.category.into(),
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
    Ok(store)
}

/// Keeps every record.
struct Collect(Vec<Vec<Record>>);

impl RecordSink for Collect {
    fn accept(&mut self, batch: Vec<Record>) -> BoxFuture<'_, Result<(), ConnectorError>> {
        self.0.push(batch);
        Box::pin(async { Ok(()) })
    }
}

/// Records per transaction, as a sync's storing task joins them (`COALESCE_RECORDS`).
const WRITE_BATCH: usize = 2000;

async fn store_only(args: &ChildArgs) -> anyhow::Result<ChildReport> {
    let url = args
        .store_url
        .as_deref()
        .context("--store-url is required for --mode store")?;
    let config = Config::from_credentials(&credentials(args).0);
    let connector = SageHr::new(INTEGRATION, &config)?;
    let mut fetched = Collect(Vec::new());
    let summary = connector.read_all(&mut fetched).await?;
    let store = open_with_integration(url, args).await?;
    // Converted as the sync's sink does: an application's hash includes its job's remote id.
    let started = Instant::now();
    let mut job_remote_ids = std::collections::HashMap::new();
    let mut inputs = Vec::new();
    for record in fetched.0.into_iter().flatten() {
        if let Record::Job(job) = &record {
            job_remote_ids.insert(job.id.clone(), job.remote_id.clone());
        }
        let job_remote = match &record {
            Record::Application(a) => Some(
                a.core
                    .job_id
                    .as_ref()
                    .and_then(|j| job_remote_ids.get(j))
                    .cloned(),
            ),
            _ => None,
        };
        let mut input = RecordInput::from_owned(record)?;
        if let Some(job_remote) = job_remote {
            input = input.with_job_remote_id(job_remote);
        }
        inputs.push(input);
    }
    let convert_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for batch in inputs.chunks(WRITE_BATCH) {
        store
            .apply_batch_with(INTEGRATION, batch, Timestamp::now(), true)
            .await?;
    }
    let write_s = started.elapsed().as_secs_f64();
    Ok(ChildReport {
        first_s: convert_s + write_s,
        records: inputs.len() as u64,
        requests: summary.requests,
        convert_s,
        write_s,
        ..ChildReport::default()
    })
}

async fn sync(args: &ChildArgs) -> anyhow::Result<ChildReport> {
    let url = args
        .store_url
        .as_deref()
        .context("--store-url is required for --mode sync")?;
    let store = open_with_integration(url, args).await?;
    let engine = Engine::new(store.clone(), connectors(), EngineConfig::default());
    let mut report = ChildReport::default();
    for pass in 0..2 {
        let started_at = Timestamp::now();
        let (started, cpu) = (Instant::now(), cpu_seconds());
        let outcome = engine
            .run_once(
                INTEGRATION,
                atsbridge_model::integration::SyncKind::Full,
                &CancellationToken::new(),
            )
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
            report.cpu_s = cpu_seconds() - cpu;
            report.requests = run.upstream_requests as u64;
            report.records = written;
            report.peak_rss_kib_first = peak_rss_kib();
            let (stored, json) = json_bytes(&store, args.category.into()).await?;
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
async fn json_bytes(
    store: &Store,
    category: atsbridge_model::integration::Category,
) -> anyhow::Result<(u64, u64)> {
    let filter = atsbridge_store::Filter {
        include_deleted: true,
        ..atsbridge_store::Filter::default()
    };
    let (mut records, mut bytes) = (0u64, 0u64);
    for &model in atsbridge_model::ModelKind::of(category) {
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
