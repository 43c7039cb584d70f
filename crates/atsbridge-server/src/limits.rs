//! The middleware around every route: request ids, tracing, panics, compression, Kombo's
//! envelope for errors produced outside our handlers, timeouts, per-key rate limits and the
//! request body limit.
//!
//! Order, outermost first (see `layers`):
//! request id → trace span → request id on the response → panic catcher → gzip →
//! error envelope → timeout → rate limits (authenticates the key; counts wrong keys per
//! client address) → body limits → routes.
//!
//! Limits that apply before a request exists (head size, header and idle timeouts,
//! connections) are in [`crate::connections`].

use std::any::Any;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use atsbridge_model::{ErrorCode, ErrorResponse};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts as _, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use rand::Rng as _;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::{self, Caller, KeyRejected};
use crate::error::ApiError;
use crate::AppState;

/// The longest a request may take before it is answered with `PLATFORM.TASK_TIMED_OUT`.
/// Generous because writes may download an attachment and upload it to the ATS, each with
/// the connector's own 30 s timeout and retries. Work started in the background (force
/// sync) is not bound by it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How many keys the limiter tracks before it sweeps expired windows early. Only keys that
/// authenticated are tracked, so the map is bounded by the number of API keys anyway.
const MAX_TRACKED_KEYS: usize = 10_000;

pub const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
pub const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
pub const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// A fixed-window counter per API key (keyed by the key's id, never by its secret).
/// A limit of 0 disables rate limiting.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    state: Arc<Mutex<Windows>>,
}

#[derive(Debug)]
struct Windows {
    by_key: HashMap<String, Window>,
    last_sweep: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Until the window resets.
    pub reset: Duration,
}

impl Decision {
    /// Whole seconds until the reset, rounded up (at least 1 while the window is open).
    pub fn reset_seconds(&self) -> u64 {
        let secs = self.reset.as_secs();
        if self.reset.subsec_nanos() > 0 {
            secs + 1
        } else {
            secs
        }
    }
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimiter {
            limit,
            window,
            state: Arc::new(Mutex::new(Windows {
                by_key: HashMap::new(),
                last_sweep: Instant::now(),
            })),
        }
    }

    /// Counts one request of `key`; `None` when rate limiting is disabled.
    pub fn check(&self, key: &str) -> Option<Decision> {
        self.check_at(key, Instant::now())
    }

    pub fn check_at(&self, key: &str, now: Instant) -> Option<Decision> {
        if self.limit == 0 {
            return None;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let window = self.window;
        let expired = |w: &Window| now.saturating_duration_since(w.started) >= window;
        if now.saturating_duration_since(state.last_sweep) >= window
            || state.by_key.len() >= MAX_TRACKED_KEYS
        {
            state.by_key.retain(|_, w| !expired(w));
            state.last_sweep = now;
        }
        let entry = state.by_key.entry(key.to_owned()).or_insert(Window {
            started: now,
            count: 0,
        });
        if expired(entry) {
            *entry = Window {
                started: now,
                count: 0,
            };
        }
        entry.count = entry.count.saturating_add(1);
        Some(Decision {
            allowed: entry.count <= self.limit,
            limit: self.limit,
            remaining: self.limit.saturating_sub(entry.count),
            reset: window.saturating_sub(now.saturating_duration_since(entry.started)),
        })
    }

    /// What `check_at` would decide for one more request, without counting it: `allowed`
    /// while fewer than the limit were counted in the current window.
    pub fn peek_at(&self, key: &str, now: Instant) -> Option<Decision> {
        if self.limit == 0 {
            return None;
        }
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (count, reset) = match state.by_key.get(key) {
            Some(w) if now.saturating_duration_since(w.started) < self.window => (
                w.count,
                self.window
                    .saturating_sub(now.saturating_duration_since(w.started)),
            ),
            _ => (0, self.window),
        };
        Some(Decision {
            allowed: count < self.limit,
            limit: self.limit,
            remaining: self.limit.saturating_sub(count),
            reset,
        })
    }

    /// Keys with a window in memory (expired ones until the next sweep).
    pub fn tracked(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_key
            .len()
    }
}

/// Adds the middleware stack and the state.
pub fn layers(router: Router<AppState>, state: AppState) -> Router {
    let body_limit = state.config.body_limit_bytes;
    let stack = ServiceBuilder::new()
        .layer(SetRequestIdLayer::x_request_id(RandomRequestId))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %logged_path(request.uri().path()),
                        request_id = %id,
                        api_key = tracing::field::Empty,
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(CompressionLayer::new())
        .layer(middleware::map_response_with_state(
            state.clone(),
            envelope_errors,
        ))
        .layer(middleware::from_fn(timeout))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        // Extractors (`Bytes`, `Json`, `Multipart`) take the configured limit instead of
        // axum's 2 MB default; the layer below rejects larger bodies up front.
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit));
    router.layer(stack).with_state(state)
}

/// The path as logged: the secret tokens in connection links and completion tokens stay
/// out of the logs.
fn logged_path(path: &str) -> &str {
    if path.starts_with("/connect/") && !path.starts_with("/connect/assets/") {
        "/connect/{token}"
    } else if path.starts_with("/v1/connect/integration-by-token/") {
        "/v1/connect/integration-by-token/{token}"
    } else {
        path
    }
}

/// Request ids: 128 random bits in hex. An id the client sent is kept.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let n: u128 = rand::rng().random();
        HeaderValue::from_str(&format!("{n:032x}"))
            .ok()
            .map(RequestId::new)
    }
}

/// A handler panicked: log it and answer in the envelope; the server keeps serving.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a request handler panicked");
    ApiError::new(
        ErrorCode::PlatformUnknownError,
        "an internal error occurred; it has been logged",
    )
    .into_response()
}

async fn timeout(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_s = REQUEST_TIMEOUT.as_secs(), "request timed out");
            ApiError::new(
                ErrorCode::PlatformTaskTimedOut,
                format!(
                    "the request took longer than {} seconds",
                    REQUEST_TIMEOUT.as_secs()
                ),
            )
            .into_response()
        }
    }
}

/// Authenticates the key once (handlers reuse the `Caller` from the request's extensions),
/// counts the request against it and adds the `ratelimit-*` headers. Requests without a
/// valid key are not counted against a key: the handler answers them with 401. A wrong key
/// counts against the client's address instead, and an address that sent too many is
/// answered 429 without its key being looked at, valid or not, until its window ends.
async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let client = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| client_key(addr.ip()));
    let caller = if auth::bearer(&parts).is_some() {
        if let Some(blocked) = client
            .as_deref()
            .and_then(|c| state.auth_failures.peek_at(c, Instant::now()))
            .filter(|d| !d.allowed)
        {
            return too_many_wrong_keys(blocked);
        }
        match Caller::from_request_parts(&mut parts, &state).await {
            Ok(caller) => Some(caller),
            Err(e) => {
                if e.code == ErrorCode::PlatformAuthenticationInvalid {
                    // The handler answers without a second lookup.
                    parts.extensions.insert(KeyRejected);
                    if let Some(c) = &client {
                        state.auth_failures.check(c);
                    }
                }
                None
            }
        }
    } else {
        None
    };
    let request = Request::from_parts(parts, body);
    let Some(caller) = caller else {
        return next.run(request).await;
    };
    tracing::Span::current().record("api_key", caller.0.id.as_str());
    let Some(decision) = state.limiter.check(&caller.0.id) else {
        return next.run(request).await;
    };
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        let seconds = decision.reset_seconds().max(1);
        tracing::info!(
            limit = decision.limit,
            retry_after_s = seconds,
            "rate limit exceeded"
        );
        ApiError {
            code: ErrorCode::PlatformRateLimitExceeded,
            message: format!(
                "this API key made more than {} requests in the current minute; retry in {seconds} seconds",
                decision.limit
            ),
            retry_after: Some(seconds),
        }
        .into_response()
    };
    ratelimit_headers(&mut response, &decision);
    response
}

/// The address wrong keys are counted against: IPv4 addresses one by one, IPv6 by /64 (the
/// block one host typically gets, and can pick addresses from at will).
pub(crate) fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn too_many_wrong_keys(decision: Decision) -> Response {
    let seconds = decision.reset_seconds().max(1);
    tracing::info!(
        limit = decision.limit,
        retry_after_s = seconds,
        "too many requests with a wrong API key from one address"
    );
    let mut response = ApiError {
        code: ErrorCode::PlatformRateLimitExceeded,
        message: format!(
            "more than {} requests with an invalid API key came from this address in the current minute; retry in {seconds} seconds",
            decision.limit
        ),
        retry_after: Some(seconds),
    }
    .into_response();
    ratelimit_headers(&mut response, &decision);
    response
}

fn ratelimit_headers(response: &mut Response, decision: &Decision) {
    let headers = response.headers_mut();
    headers.insert(RATELIMIT_LIMIT, HeaderValue::from(decision.limit));
    headers.insert(RATELIMIT_REMAINING, HeaderValue::from(decision.remaining));
    headers.insert(RATELIMIT_RESET, HeaderValue::from(decision.reset_seconds()));
}

/// Errors that did not come from our handlers (axum's extractor rejections, the body limit,
/// a wrong method) are plain text or empty: answer them in Kombo's envelope, keeping the
/// status.
async fn envelope_errors(State(state): State<AppState>, response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // JSON is already an envelope; HTML is a connection page meant for a person.
    let own_body = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if own_body {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let code = match status {
        StatusCode::UNAUTHORIZED => ErrorCode::PlatformAuthenticationInvalid,
        StatusCode::TOO_MANY_REQUESTS => ErrorCode::PlatformRateLimitExceeded,
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => {
            ErrorCode::PlatformTaskTimedOut
        }
        s if s.is_server_error() => ErrorCode::PlatformUnknownError,
        _ => ErrorCode::PlatformInputInvalid,
    };
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!(
                "body: the request body is larger than the limit of {} bytes",
                state.config.body_limit_bytes
            )
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            "this endpoint does not accept this HTTP method".to_owned()
        }
        _ if code == ErrorCode::PlatformUnknownError => {
            if !text.is_empty() {
                tracing::error!(status = status.as_u16(), body = %text, "an error outside the handlers");
            }
            "an internal error occurred; it has been logged".to_owned()
        }
        _ if !text.is_empty() => text,
        _ => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_owned(),
    };
    let mut answer = (status, Json(ErrorResponse::new(code, message))).into_response();
    // Keep what the error carried besides its body (Allow, Retry-After, …).
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window_counts_per_key_and_resets() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        let a1 = limiter.check_at("a", t0).unwrap();
        assert!(a1.allowed);
        assert_eq!(a1.remaining, 1);
        assert_eq!(a1.reset_seconds(), 60);
        assert!(limiter.check_at("a", t0).unwrap().allowed);
        let a3 = limiter
            .check_at("a", t0 + Duration::from_millis(1500))
            .unwrap();
        assert!(!a3.allowed);
        assert_eq!(a3.remaining, 0);
        assert_eq!(a3.reset_seconds(), 59);
        // Another key has its own window.
        assert!(limiter.check_at("b", t0).unwrap().allowed);
        // A new window after the old one ends.
        let later = limiter.check_at("a", t0 + Duration::from_secs(60)).unwrap();
        assert!(later.allowed);
        assert_eq!(later.remaining, 1);
    }

    #[test]
    fn expired_windows_are_evicted() {
        let limiter = RateLimiter::new(5, Duration::from_secs(1));
        let t0 = Instant::now();
        for i in 0..100 {
            limiter.check_at(&format!("key-{i}"), t0);
        }
        assert_eq!(limiter.tracked(), 100);
        limiter.check_at("fresh", t0 + Duration::from_secs(2));
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn peeking_does_not_count() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(limiter.peek_at("a", t0).unwrap().allowed);
        limiter.check_at("a", t0);
        let one = limiter.peek_at("a", t0).unwrap();
        assert!(one.allowed);
        assert_eq!(one.remaining, 1);
        limiter.check_at("a", t0);
        assert!(!limiter.peek_at("a", t0).unwrap().allowed);
        assert!(!limiter.peek_at("a", t0).unwrap().allowed);
        assert!(
            limiter
                .peek_at("a", t0 + Duration::from_secs(60))
                .unwrap()
                .allowed
        );
    }

    #[test]
    fn wrong_keys_count_per_ipv4_address_and_ipv6_block() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(key("2001:db8:1:2:3:4:5:6"), key("2001:db8:1:2:ffff::1"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    }

    #[test]
    fn zero_disables_the_limit() {
        assert!(RateLimiter::new(0, Duration::from_secs(60))
            .check("a")
            .is_none());
    }

    #[test]
    fn panics_answer_in_the_envelope() {
        let response = panic_response(Box::new("boom"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
    }
}
