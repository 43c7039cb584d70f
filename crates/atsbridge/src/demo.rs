//! `atsbridge demo`: everything in one process on a fresh machine — a simulated Sage HR
//! account with seeded data, the API, a key, a connected integration and its first sync.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use atsbridge_model::Timestamp;
use atsbridge_server::{app, serve, AppState, ServerConfig};
use atsbridge_sync::{Deliverer, DelivererConfig, Engine, EngineConfig, Scheduler};
use clap::Args;
use sagehr_sim::{spawn, with_tenant, TenantConfig};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::admin::{
    add_integration, add_webhook, sync_with_progress, AddArgs, DEFAULT_ENVIRONMENT,
};
use crate::config::{connectors, tools, StoreArgs};
use crate::serve::shutdown_signal;

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Port of the API (on 127.0.0.1).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// The API key to create (default: a random one).
    #[arg(long)]
    pub api_key: Option<String>,
    #[arg(long, default_value_t = 40)]
    pub positions: usize,
    #[arg(long, default_value_t = 12)]
    pub applicants_per_position: usize,
    /// Seed of the simulated data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Subscribe this URL to all webhook events at start (private addresses allowed); the
    /// signing secret is printed.
    #[arg(long)]
    pub webhook_url: Option<String>,
    #[command(flatten)]
    pub retention: crate::retention::RetentionArgs,
    /// Requests per API key per minute before 429 (the fuzz run raises it).
    #[arg(long, default_value_t = 600)]
    pub rate_limit_per_minute: u32,
    /// Requests with a wrong API key per client address per minute before 429; 0 turns the
    /// limit off (the fuzz run sends requests without a key on purpose).
    #[arg(long, default_value_t = 30)]
    pub auth_failures_per_minute: u32,
}

/// Runs the demo, keeping its database, key file and `demo.json` in `dir` (`--data-dir`).
pub async fn run(args: DemoArgs, dir: PathBuf) -> anyhow::Result<()> {
    crate::config::create_private_dir(&dir)?;
    // A demo starts from scratch: the simulated account is regenerated on every start.
    for name in ["demo.db", "demo.db-wal", "demo.db-shm"] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    let sim_key = format!("sim-acme-{}", args.seed);
    let tenant = TenantConfig {
        seed: args.seed,
        positions: args.positions,
        applicants_per_position: args.applicants_per_position,
        ..TenantConfig::new("acme", sim_key.clone())
    };
    let sim = spawn(with_tenant(&tenant))
        .await
        .context("starting the Sage HR simulator")?;
    eprintln!(
        "Sage HR simulator: {} ({} positions, {} applicants each)",
        sim.base_url("acme"),
        args.positions,
        args.applicants_per_position
    );

    let store_args = StoreArgs {
        data_dir: dir.clone(),
        database_url: Some(format!("sqlite://{}", dir.join("demo.db").display())),
        master_key: std::env::var("ATSBRIDGE_MASTER_KEY").ok(),
    };
    let store = store_args.open().await?;
    let api_key = match &args.api_key {
        Some(secret) => {
            store
                .import_api_key(DEFAULT_ENVIRONMENT, "demo", secret, Timestamp::now())
                .await?;
            secret.clone()
        }
        None => {
            store
                .create_api_key(DEFAULT_ENVIRONMENT, "demo", Timestamp::now())
                .await?
                .1
        }
    };
    if let Some(url) = &args.webhook_url {
        let (id, secret) = add_webhook(&store, DEFAULT_ENVIRONMENT, url, Vec::new(), true).await?;
        eprintln!("Webhook {id} subscribed: {url}");
        eprintln!("Webhook signing secret (X-Kombo-Signature): {secret}");
    }
    let add = AddArgs {
        tool: "sagehr".into(),
        subdomain: "acme".into(),
        api_key_env: String::new(),
        base_url: Some(format!("{}/{{subdomain}}/api", sim.url())),
        organization: "Acme (simulated)".into(),
        environment: DEFAULT_ENVIRONMENT.into(),
        source_name: Some("atsbridge demo".into()),
        only_created: false,
        no_check: false,
        category: crate::admin::CategoryArg::Ats,
    };
    let integration_id = add_integration(&store, &add, sim_key.clone()).await?;
    // The same account as an HRIS integration: Kombo keeps one category per integration.
    let hris_add = AddArgs {
        category: crate::admin::CategoryArg::Hris,
        ..add.clone()
    };
    let hris_integration_id = add_integration(&store, &hris_add, sim_key.clone()).await?;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("port {} is taken; pick another with --port", args.port))?;
    let base_url = format!("http://{}/v1", listener.local_addr()?);
    let dashboard_url = format!("http://{}/dashboard", listener.local_addr()?);
    let engine = Engine::new(store.clone(), connectors(), EngineConfig::default())
        .with_log_url(&format!("http://{}", listener.local_addr()?));
    let (_, operator_key) = store.create_operator_key("demo", Timestamp::now()).await?;
    eprintln!("First sync:");
    sync_with_progress(&engine, &integration_id).await?;
    eprintln!("First HRIS sync:");
    sync_with_progress(&engine, &hris_integration_id).await?;

    let info = json!({
        "base_url": base_url,
        "api_key": api_key,
        "integration_id": integration_id,
        "hris_integration_id": hris_integration_id,
        "sim_url": sim.base_url("acme"),
        "sim_subdomain": "acme",
        "sim_api_key": sim_key,
        "sim_control_url": format!("{}/_sim/acme", sim.url()),
        "dashboard_url": dashboard_url,
        "operator_key": operator_key,
    });
    let info_path = dir.join("demo.json");
    std::fs::write(&info_path, serde_json::to_string_pretty(&info)?)?;
    print_instructions(
        &base_url,
        &api_key,
        &integration_id,
        &hris_integration_id,
        &sim_key,
        &info_path,
    );
    eprintln!("Dashboard: {dashboard_url} (sign in with the operator key {operator_key})");

    let state = AppState::new(
        store.clone(),
        connectors(),
        tools(),
        engine.clone(),
        ServerConfig {
            allow_private_webhook_urls: true,
            // Customers connected through connection links reach the simulator too.
            tool_base_urls: [(
                "sagehr".to_owned(),
                format!("{}/{{subdomain}}/api", sim.url()),
            )]
            .into(),
            connect_app_name: Some("atsbridge demo".into()),
            rate_limit_per_minute: args.rate_limit_per_minute,
            auth_failures_per_minute: args.auth_failures_per_minute,
            ..ServerConfig::default()
        },
    );
    let shutdown = CancellationToken::new();
    let syncs = tokio::spawn(
        Scheduler::new(engine.clone(), Duration::from_secs(3 * 3600)).run(shutdown.clone()),
    );
    let deliveries = tokio::spawn(
        Deliverer::new(
            store.clone(),
            DelivererConfig {
                allow_private_urls: true,
                ..DelivererConfig::default()
            },
        )
        .with_metrics(engine.metrics().clone())
        .run(shutdown.clone()),
    );
    let retention = args.retention.spawn(store.clone(), shutdown.clone());
    let stop = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.cancel();
    });
    let done = shutdown.clone();
    serve(listener, app(state), async move { done.cancelled().await }).await?;
    shutdown.cancel();
    let _ = syncs.await;
    // Runs started by requests (force sync, connect) end as CANCELLED, recorded and with
    // their leases released, before the store closes.
    engine.shutdown().await;
    let _ = deliveries.await;
    let _ = retention.await;
    store.close().await;
    sim.shutdown().await;
    Ok(())
}

fn print_instructions(
    base_url: &str,
    api_key: &str,
    integration_id: &str,
    hris_integration_id: &str,
    sim_key: &str,
    info_path: &std::path::Path,
) {
    println!(
        r#"
atsbridge is serving a Kombo-compatible API at {base_url}
(details in {info}; Ctrl-C stops it)

Try it:

  curl -s {base_url}/check-api-key -H 'Authorization: Bearer {api_key}'
  curl -s '{base_url}/ats/jobs?page_size=2' -H 'Authorization: Bearer {api_key}' -H 'X-Integration-Id: {integration_id}'
  curl -s '{base_url}/ats/applications?page_size=2&outcomes=HIRED' -H 'Authorization: Bearer {api_key}' -H 'X-Integration-Id: {integration_id}'

The same account as an HRIS integration:

  curl -s '{base_url}/hris/employees?page_size=2&employment_statuses=ACTIVE' -H 'Authorization: Bearer {api_key}' -H 'X-Integration-Id: {hris_integration_id}'
  curl -s '{base_url}/hris/absences?page_size=2&date_from=2026-12-01&date_until=2026-12-31' -H 'Authorization: Bearer {api_key}' -H 'X-Integration-Id: {hris_integration_id}'

With Kombo's official Python SDK (pip install kombo):

  from kombo import Kombo
  kombo = Kombo(api_key="{api_key}", integration_id="{integration_id}", server_url="{base_url}")
  page = kombo.ats.get_jobs(page_size=5)
  for job in page.result.data.results:
      print(job.id, job.name, job.status)

Connect a customer through the hosted page (the simulator's account: subdomain `acme`,
API key {sim_key}); open the link in a browser:

  curl -s -X POST {base_url}/connect/create-link -H 'Authorization: Bearer {api_key}' -H 'Content-Type: application/json' \
    -d '{{"end_user_email":"it@globex.example","end_user_organization_name":"Globex","integration_category":"ATS","integration_tool":"sagehr"}}'
"#,
        info = info_path.display()
    );
}
