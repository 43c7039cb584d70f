//! The HTTP API: Kombo-compatible `/v1` routes (reads, writes, integrations, passthrough,
//! connect pages, webhook subscriptions), authentication, Kombo's error envelope, rate limits and request ids.
//!
//! Owns: routing, extractors, the mapping of errors to Kombo codes and HTTP statuses.
//! Must not import: the CLI or the simulator; it reads through `atsbridge-store`, triggers
//! syncs through `atsbridge-sync` and writes through the connector trait.
#![forbid(unsafe_code)]

pub mod ats;
pub mod auth;
pub mod body;
pub mod connect;
pub mod connections;
pub mod dashboard;
pub mod error;
pub mod general_errors;
pub mod hris;
pub mod limits;
pub mod management;
pub mod metrics;
pub mod nested;
pub mod openapi;
pub mod query;
pub mod webhooks;
pub mod write;

use std::future::Future;
use std::time::Duration;

use atsbridge_model::tool::Tools;
use atsbridge_model::ErrorCode;
use atsbridge_store::Store;
use atsbridge_sync::{ConnectorFactory, Engine, Metrics};
use axum::middleware;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

pub use crate::connections::HttpConfig;
use crate::error::ApiError;

/// Server settings that are not about storage.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Requests per API key per minute before 429.
    pub rate_limit_per_minute: u32,
    /// Requests with a wrong API key per client address per minute; further requests with
    /// any key from that address get 429 until the minute is over. 0 turns this off.
    pub auth_failures_per_minute: u32,
    /// Largest request body accepted.
    pub body_limit_bytes: usize,
    /// Write actions in flight at once per integration before 429
    /// `PLATFORM.CONCURRENCY_LIMIT_EXCEEDED` (Kombo's cap is 30).
    pub write_concurrency_per_integration: usize,
    /// Whether an attachment's `data_url` may point to a loopback, private, link-local or
    /// otherwise internal address. Off in production (a guard against server-side request
    /// forgery); tests that serve files from 127.0.0.1 turn it on.
    pub allow_private_attachment_urls: bool,
    /// Limit for downloading one attachment's `data_url`, redirects included.
    pub attachment_download_timeout: Duration,
    /// Whether webhook URLs may point to loopback, private or other internal addresses
    /// (refused by default; the demo and tests allow them). The deliverer has the same
    /// switch in `DelivererConfig`.
    pub allow_private_webhook_urls: bool,
    /// The address vendors and their customers reach this server at (e.g.
    /// `https://ats.vendor.example`), used in connection links. Without it links are built
    /// from `listen_addr`, or from the request's `Host` and `X-Forwarded-Proto` when
    /// `trust_forwarded_headers` is on.
    pub public_url: Option<String>,
    /// Whether a reverse proxy in front sets `Host` and `X-Forwarded-Proto` (so they can be
    /// believed). Off: a client could make connection links point at any host.
    pub trust_forwarded_headers: bool,
    /// The address the server listens on, for connection links when there is no
    /// `public_url`. `None` when the embedder did not say (then only a loopback `Host` is
    /// believed).
    pub listen_addr: Option<std::net::SocketAddr>,
    /// Per tool, the API base URL template stored with integrations created by the connect
    /// flow (e.g. `sagehr` → `http://127.0.0.1:9000/{subdomain}/api` to aim at the
    /// simulator). Tools not listed use their public API.
    pub tool_base_urls: std::collections::BTreeMap<String, String>,
    /// The vendor's product name on the connection pages ("Acme Jobs asks to connect …").
    pub connect_app_name: Option<String>,
    /// Origins allowed to frame `EMBEDDED` connection pages and to receive the completion
    /// token by `postMessage` (e.g. `https://app.vendor.example`). Empty: pages can only be
    /// framed by this server's own origin.
    pub connect_embed_origins: Vec<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            rate_limit_per_minute: 600,
            auth_failures_per_minute: 30,
            body_limit_bytes: 25 * 1024 * 1024,
            write_concurrency_per_integration: 30,
            allow_private_attachment_urls: false,
            attachment_download_timeout: Duration::from_secs(30),
            allow_private_webhook_urls: false,
            public_url: None,
            trust_forwarded_headers: false,
            listen_addr: None,
            tool_base_urls: std::collections::BTreeMap::new(),
            connect_app_name: None,
            connect_embed_origins: Vec::new(),
        }
    }
}

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub connectors: ConnectorFactory,
    /// The tools served, each as its connector describes it.
    pub tools: Tools,
    pub engine: Engine,
    pub config: ServerConfig,
    pub limiter: limits::RateLimiter,
    /// Requests with a wrong API key, per client address.
    pub auth_failures: limits::RateLimiter,
    /// Write actions in flight per integration.
    pub writes: write::InFlight,
    /// The app's metrics: the engine's, so runs, upstream requests and API requests share
    /// one registry.
    pub metrics: Metrics,
}

impl AppState {
    pub fn new(
        store: Store,
        connectors: ConnectorFactory,
        tools: Tools,
        engine: Engine,
        config: ServerConfig,
    ) -> Self {
        let limiter =
            limits::RateLimiter::new(config.rate_limit_per_minute, Duration::from_secs(60));
        let auth_failures =
            limits::RateLimiter::new(config.auth_failures_per_minute, Duration::from_secs(60));
        AppState {
            store,
            connectors,
            tools,
            metrics: engine.metrics().clone(),
            engine,
            config,
            limiter,
            auth_failures,
            writes: write::InFlight::default(),
        }
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The whole application: every route with its middleware.
pub fn app(state: AppState) -> Router {
    let v1 = Router::new()
        .merge(ats::router())
        .merge(hris::router())
        .merge(write::router())
        .merge(management::router())
        .merge(webhooks::router())
        .merge(connect::api_router())
        .merge(openapi::router());
    let router = Router::new()
        .route("/health", get(|| async { "ok" }))
        .nest("/v1", v1)
        .merge(metrics::router())
        .merge(management::assets_router())
        .merge(connect::page_router())
        .merge(dashboard::router())
        .route_layer(middleware::from_fn(metrics::note_route))
        .fallback(|| async {
            ApiError::new(
                ErrorCode::PlatformInputInvalid,
                "no such endpoint; see the API reference for the routes under /v1",
            )
        });
    limits::layers(general_errors::layer(router), state.clone())
        .layer(middleware::from_fn_with_state(state, metrics::track))
}

/// Serves `app` on `listener` with the default HTTP limits until `shutdown` resolves, then
/// finishes open requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, HttpConfig::default(), shutdown).await
}

/// [`serve`] with the given limits on connections (header read and idle timeouts, how many
/// at once).
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    http: HttpConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    connections::serve(listener, app, http, shutdown).await
}
