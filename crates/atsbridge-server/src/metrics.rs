//! `GET /metrics` and what the HTTP API adds to the app's metrics: every request by method,
//! route template and status with its latency, and write actions by outcome.
//!
//! The metrics themselves (one registry per app) are `atsbridge_sync::Metrics`, shared with
//! the engine and the deliverer. On the main listener `/metrics` takes an API key like the
//! rest of the API (counts of routes and tools are an operator's, not the internet's); the
//! separate listener of `standalone` (`serve --metrics-listen`) serves it without one, for a
//! scraper on a private network.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use atsbridge_model::{ErrorCode, Timestamp};
use atsbridge_sync::metrics::CONTENT_TYPE;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::auth::Caller;
use crate::AppState;

/// The route of a request, once routing found one (filled by `note_route`, read by `track`,
/// which runs outside the router and so never sees `MatchedPath` itself).
#[derive(Clone, Default)]
struct RouteSlot(Arc<OnceLock<String>>);

/// Put on a write action's response by its handler: which action it was.
#[derive(Debug, Clone, Copy)]
pub struct WriteAction(pub &'static str);

/// `response`, marked as the answer of write action `action`.
pub fn tag_write(action: &'static str, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response.extensions_mut().insert(WriteAction(action));
    response
}

/// `/metrics` behind an API key, for the main listener.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(authenticated))
}

/// `/metrics` alone and open, for a listener of its own.
pub fn standalone(state: AppState) -> Router {
    Router::new().route("/metrics", get(open)).with_state(state)
}

async fn authenticated(_: Caller, State(state): State<AppState>) -> Response {
    scrape(&state).await
}

async fn open(State(state): State<AppState>) -> Response {
    scrape(&state).await
}

/// The text, after reading the gauges the store knows. A store that cannot answer leaves
/// them at their last values: the scrape still shows everything counted in this process.
async fn scrape(state: &AppState) -> Response {
    let now = Timestamp::now();
    match state.store.gauges(now).await {
        Ok(gauges) => state.metrics.set_gauges(&gauges, now.unix_millis()),
        Err(e) => tracing::warn!(error = %e, "reading the metrics' gauges failed"),
    }
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics.encode(),
    )
        .into_response()
}

/// Inside the router (a route layer): tells `track` which route matched.
pub(crate) async fn note_route(request: Request, next: Next) -> Response {
    if let (Some(slot), Some(path)) = (
        request.extensions().get::<RouteSlot>(),
        request.extensions().get::<MatchedPath>(),
    ) {
        let _ = slot.0.set(path.as_str().to_owned());
    }
    next.run(request).await
}

/// Around everything: counts the request by its route template (`unmatched` when no route
/// took it: unknown paths, and requests refused before routing such as rate-limited ones)
/// and its final status, and a write action by its outcome.
pub(crate) async fn track(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let slot = RouteSlot::default();
    request.extensions_mut().insert(slot.clone());
    // Clients choose methods freely (`FOO` is a valid one): a label takes only the known.
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let response = next.run(request).await;
    let route = slot.0.get().map_or("unmatched", String::as_str);
    let status = response.status();
    state
        .metrics
        .api_request(method, route, status.as_u16(), started.elapsed());
    if let Some(WriteAction(action)) = response.extensions().get::<WriteAction>() {
        let outcome = match response.extensions().get::<ErrorCode>() {
            Some(code) => code.as_str().to_owned(),
            None if status.is_success() => "succeeded".to_owned(),
            // A replayed answer to an earlier failed attempt carries no code of its own.
            None => format!("http_{}", status.as_u16()),
        };
        state.metrics.write_action(action, &outcome);
    }
    response
}
