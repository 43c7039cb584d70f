//! `atsbridge serve`: the API, the sync scheduler and the webhook deliverer in one process, until Ctrl-C/SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use atsbridge_server::{app, serve_with, AppState, HttpConfig, ServerConfig};
use atsbridge_sync::{Deliverer, DelivererConfig, Engine, EngineConfig, Scheduler};
use clap::Args;
use tokio_util::sync::CancellationToken;

use crate::config::{connectors, tools, StoreArgs};
use crate::retention::RetentionArgs;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ATSBRIDGE_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,
    /// A second address serving only `GET /metrics`, without an API key (keep it private).
    /// On the main address `/metrics` always takes an API key.
    #[arg(long, env = "ATSBRIDGE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Minutes between full syncs of each integration.
    #[arg(long, env = "ATSBRIDGE_SYNC_INTERVAL_MINUTES", default_value_t = 180)]
    pub sync_interval_minutes: u64,
    /// Integrations this process syncs at once (at least 1). Several processes sharing a
    /// PostgreSQL database each run up to this many; leases keep one run per integration.
    #[arg(long, env = "ATSBRIDGE_SYNC_CONCURRENCY", default_value_t = atsbridge_sync::DEFAULT_CONCURRENCY)]
    pub sync_concurrency: usize,
    /// Requests per API key per minute.
    #[arg(long, env = "ATSBRIDGE_RATE_LIMIT", default_value_t = 600)]
    pub rate_limit_per_minute: u32,
    /// Requests with a wrong API key per client address per minute before that address
    /// gets 429 for any key until the minute ends (0: no limit).
    #[arg(long, env = "ATSBRIDGE_AUTH_FAILURES_PER_MINUTE", default_value_t = 30)]
    pub auth_failures_per_minute: u32,
    /// Seconds a client may take to send a request's head (request line and headers).
    #[arg(long, env = "ATSBRIDGE_HEADER_READ_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_secs: u64,
    /// Seconds a connection may stay open without a request in progress.
    #[arg(long, env = "ATSBRIDGE_IDLE_TIMEOUT_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_secs: u64,
    /// Connections served at once; more wait until one closes.
    #[arg(long, env = "ATSBRIDGE_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
    /// Accept webhook URLs on loopback, private or other internal addresses (off: such
    /// URLs are refused when subscribed and when delivered).
    #[arg(long, env = "ATSBRIDGE_ALLOW_PRIVATE_WEBHOOK_URLS")]
    pub allow_private_webhook_urls: bool,
    /// Hours a webhook delivery is retried (with exponential backoff) before it is failed.
    #[arg(long, env = "ATSBRIDGE_WEBHOOK_MAX_AGE_HOURS", default_value_t = 24)]
    pub webhook_max_age_hours: u64,
    /// The address customers reach this server at, used in connection links (default: the
    /// --bind address, or with --trust-forwarded-headers the proxy's Host and
    /// X-Forwarded-Proto).
    #[arg(long, env = "ATSBRIDGE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Believe the Host and X-Forwarded-Proto headers of requests (only behind a reverse
    /// proxy that sets them): they make connection links when there is no --public-url.
    #[arg(long, env = "ATSBRIDGE_TRUST_FORWARDED_HEADERS")]
    pub trust_forwarded_headers: bool,
    /// Your product's name, shown on the connection pages.
    #[arg(long, env = "ATSBRIDGE_APP_NAME")]
    pub app_name: Option<String>,
    /// An origin (e.g. `https://app.vendor.example`) that may embed connection pages and
    /// receive the completion token by postMessage; repeat or comma-separate for several.
    #[arg(long, env = "ATSBRIDGE_CONNECT_EMBED_ORIGINS", value_delimiter = ',')]
    pub connect_embed_origin: Vec<String>,
    /// The Sage HR API base URL template for integrations connected through connection
    /// links (default `https://{subdomain}.sage.hr/api`; the demo aims it at its simulator).
    #[arg(long, env = "ATSBRIDGE_SAGEHR_BASE_URL")]
    pub sagehr_base_url: Option<String>,
    #[command(flatten)]
    pub retention: RetentionArgs,
}

impl ServeArgs {
    /// The server settings these flags describe.
    pub fn server_config(&self) -> anyhow::Result<ServerConfig> {
        for origin in &self.connect_embed_origin {
            let parsed = url::Url::parse(origin)
                .with_context(|| format!("--connect-embed-origin `{origin}` is not a URL"))?;
            if parsed.origin().ascii_serialization() != origin.trim_end_matches('/') {
                anyhow::bail!("--connect-embed-origin `{origin}` must be an origin like https://app.vendor.example (no path)");
            }
        }
        let mut tool_base_urls = std::collections::BTreeMap::new();
        if let Some(base) = &self.sagehr_base_url {
            tool_base_urls.insert("sagehr".to_owned(), base.clone());
        }
        Ok(ServerConfig {
            rate_limit_per_minute: self.rate_limit_per_minute,
            auth_failures_per_minute: self.auth_failures_per_minute,
            allow_private_webhook_urls: self.allow_private_webhook_urls,
            public_url: self.public_url.clone(),
            trust_forwarded_headers: self.trust_forwarded_headers,
            connect_app_name: self.app_name.clone(),
            connect_embed_origins: self
                .connect_embed_origin
                .iter()
                .map(|o| o.trim_end_matches('/').to_owned())
                .collect(),
            tool_base_urls,
            ..ServerConfig::default()
        })
    }

    /// The limits of the HTTP layer these flags describe.
    pub fn http_config(&self) -> HttpConfig {
        HttpConfig {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        }
    }
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
    let mut config = args.server_config()?;
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    config.listen_addr = Some(listener.local_addr()?);
    // `log_url` in `sync-finished` points to the run's dashboard page.
    let mut engine = Engine::new(store.clone(), connectors(), EngineConfig::default());
    match dashboard_base(config.public_url.as_deref(), listener.local_addr()?) {
        Some(base) => engine = engine.with_log_url(&base),
        None => tracing::warn!(
            "log_url in sync-finished webhooks will be empty: atsbridge listens on every interface and does not know the address operators reach; set --public-url"
        ),
    }
    for warning in atsbridge_server::connect::address_warnings(&config) {
        tracing::warn!("{warning}");
    }
    let state = AppState::new(store.clone(), connectors(), tools(), engine.clone(), config);
    let metrics_listener = match args.metrics_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr} for metrics"))?,
        ),
        None => None,
    };
    tracing::info!(addr = %listener.local_addr()?, database = %atsbridge_store::redact(&store_args.database_url()), "atsbridge serving");
    let shutdown = CancellationToken::new();
    let scheduler = Scheduler::new(
        engine.clone(),
        Duration::from_secs(args.sync_interval_minutes.max(1) * 60),
    )
    .with_concurrency(args.sync_concurrency);
    let syncs = tokio::spawn(scheduler.run(shutdown.clone()));
    let deliverer = Deliverer::new(
        store.clone(),
        DelivererConfig {
            allow_private_urls: args.allow_private_webhook_urls,
            max_age: Duration::from_secs(args.webhook_max_age_hours.max(1) * 3600),
            ..DelivererConfig::default()
        },
    );
    let retention = args.retention.spawn(store.clone(), shutdown.clone());
    let deliveries = tokio::spawn(
        deliverer
            .with_metrics(engine.metrics().clone())
            .run(shutdown.clone()),
    );
    let metrics = metrics_listener.map(|listener| {
        let stop = shutdown.clone();
        tracing::info!(addr = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(), "serving /metrics");
        tokio::spawn(serve_with(
            listener,
            atsbridge_server::metrics::standalone(state.clone()),
            args.http_config(),
            async move { stop.cancelled().await },
        ))
    });
    let stop = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing open requests; a running sync ends as CANCELLED");
        stop.cancel();
    });
    let done = shutdown.clone();
    serve_with(listener, app(state), args.http_config(), async move {
        done.cancelled().await;
    })
    .await?;
    shutdown.cancel();
    if let Some(metrics) = metrics {
        let _ = metrics.await;
    }
    let _ = syncs.await;
    // Runs started by requests (force sync, connect) end as CANCELLED, recorded and with
    // their leases released, before the store closes.
    engine.shutdown().await;
    let _ = deliveries.await;
    let _ = retention.await;
    store.close().await;
    Ok(())
}

/// Where the dashboard is for links sent away (`log_url`): the public URL, else the address
/// listened on; none when that is every interface (`0.0.0.0:8080/...` leads nowhere, and an
/// empty `log_url` says so more honestly than a broken link).
fn dashboard_base(public_url: Option<&str>, listening: SocketAddr) -> Option<String> {
    match public_url {
        Some(url) => Some(url.to_owned()),
        None if listening.ip().is_unspecified() => None,
        None => Some(format!("http://{listening}")),
    }
}

#[cfg(test)]
mod dashboard_base_tests {
    use super::dashboard_base;

    #[test]
    fn the_public_url_wins_and_every_interface_is_no_address() {
        let any = "0.0.0.0:8080".parse().unwrap();
        let local = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(
            dashboard_base(Some("https://ats.example"), any).as_deref(),
            Some("https://ats.example")
        );
        assert_eq!(dashboard_base(None, any), None);
        assert_eq!(dashboard_base(None, "[::]:8080".parse().unwrap()), None);
        assert_eq!(
            dashboard_base(None, local).as_deref(),
            Some("http://127.0.0.1:8080")
        );
    }
}
