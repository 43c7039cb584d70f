//! `atsbridge serve`: the API, the sync scheduler and the webhook deliverer in one process, until Ctrl-C/SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use atsbridge_server::{app, serve, AppState, ServerConfig};
use atsbridge_sync::{Deliverer, DelivererConfig, Engine, EngineConfig, Scheduler};
use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::config::{connectors, StoreArgs};

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ATSBRIDGE_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,
    /// Minutes between full syncs of each integration.
    #[arg(long, env = "ATSBRIDGE_SYNC_INTERVAL_MINUTES", default_value_t = 180)]
    pub sync_interval_minutes: u64,
    /// Requests per API key per minute.
    #[arg(long, env = "ATSBRIDGE_RATE_LIMIT", default_value_t = 600)]
    pub rate_limit_per_minute: u32,
    /// Accept webhook URLs on loopback, private or other internal addresses (off: such
    /// URLs are refused when subscribed and when delivered).
    #[arg(long, env = "ATSBRIDGE_ALLOW_PRIVATE_WEBHOOK_URLS")]
    pub allow_private_webhook_urls: bool,
    /// Hours a webhook delivery is retried (with exponential backoff) before it is failed.
    #[arg(long, env = "ATSBRIDGE_WEBHOOK_MAX_AGE_HOURS", default_value_t = 24)]
    pub webhook_max_age_hours: u64,
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

pub async fn run(store_args: &StoreArgs, args: ServeArgs) -> anyhow::Result<()> {
    let store = store_args.open().await?;
    let engine = Engine::new(store.clone(), connectors(), EngineConfig::default());
    let config = ServerConfig {
        rate_limit_per_minute: args.rate_limit_per_minute,
        allow_private_webhook_urls: args.allow_private_webhook_urls,
        ..ServerConfig::default()
    };
    let state = AppState::new(store.clone(), connectors(), engine.clone(), config);
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    tracing::info!(addr = %listener.local_addr()?, database = %atsbridge_store::redact(&store_args.database_url()), "atsbridge serving");
    let shutdown = CancellationToken::new();
    let scheduler = Scheduler::new(
        engine,
        Duration::from_secs(args.sync_interval_minutes.max(1) * 60),
    );
    let syncs = tokio::spawn(scheduler.run(shutdown.clone()));
    let deliverer = Deliverer::new(
        store.clone(),
        DelivererConfig {
            allow_private_urls: args.allow_private_webhook_urls,
            max_age: Duration::from_secs(args.webhook_max_age_hours.max(1) * 3600),
            ..DelivererConfig::default()
        },
    );
    let deliveries = tokio::spawn(deliverer.run(shutdown.clone()));
    let stop = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing open requests; a running sync ends as CANCELLED");
        stop.cancel();
    });
    let done = shutdown.clone();
    serve(listener, app(state), async move { done.cancelled().await }).await?;
    shutdown.cancel();
    let _ = syncs.await;
    let _ = deliveries.await;
    store.close().await;
    Ok(())
}
