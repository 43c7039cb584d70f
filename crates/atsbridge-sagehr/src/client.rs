//! The HTTP client for Sage HR's recruitment endpoints: authentication, timeouts, a
//! per-tenant concurrency cap, retries with backoff, and error classification.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use atsbridge_model::connector::{
    ConnectorError, ConnectorErrorKind as Kind, FileUpload, NoObserver, Observer, UpstreamAttempt,
};
use rand::Rng as _;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::wire;

pub const DEFAULT_BASE_URL: &str = "https://{subdomain}.sage.hr/api";

/// How to reach one Sage HR account.
#[derive(Clone)]
pub struct Config {
    /// `{subdomain}` is replaced by the account's subdomain.
    pub base_url_template: String,
    pub subdomain: String,
    pub api_key: String,
    /// Limit for one whole request, body included.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Requests in flight at once for this account (Sage HR publishes no limit; 4 is what
    /// other connectors stay under).
    pub concurrency: usize,
    pub per_page: u32,
    pub retry: RetryPolicy,
    /// Told of every attempt (metrics); nobody by default.
    pub observer: Observer,
}

impl Config {
    /// The configuration stored for an integration: `subdomain`, `api_key` and, optionally,
    /// `base_url` (a template with `{subdomain}`, e.g. to aim at the simulator). One place
    /// knows these keys, so the CLI, the server and tests build connectors alike.
    pub fn from_credentials(credentials: &serde_json::Map<String, Value>) -> Self {
        let credentials = Credentials::from_map(credentials);
        let mut config = Config::new(credentials.subdomain, credentials.api_key);
        if let Some(base) = credentials.base_url {
            config.base_url_template = base;
        }
        config
    }

    pub fn new(subdomain: impl Into<String>, api_key: impl Into<String>) -> Self {
        Config {
            base_url_template: DEFAULT_BASE_URL.into(),
            subdomain: subdomain.into(),
            api_key: api_key.into(),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            concurrency: 4,
            per_page: 100,
            retry: RetryPolicy::default(),
            observer: NoObserver::shared(),
        }
    }
}

/// A Sage HR integration's stored credentials as a type: the one place their keys are
/// spelled. Stored as a JSON object (`subdomain`, `api_key`, optionally `base_url`).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub subdomain: String,
    pub api_key: String,
    /// A base URL template with `{subdomain}` instead of Sage HR's (the simulator's, say).
    pub base_url: Option<String>,
}

impl Credentials {
    /// The stored form.
    pub fn to_map(&self) -> serde_json::Map<String, Value> {
        let mut map = serde_json::Map::new();
        map.insert("subdomain".into(), Value::String(self.subdomain.clone()));
        map.insert("api_key".into(), Value::String(self.api_key.clone()));
        if let Some(base) = &self.base_url {
            map.insert("base_url".into(), Value::String(base.clone()));
        }
        map
    }

    /// From the stored form; a missing key reads as empty (the account then refuses it).
    pub fn from_map(map: &serde_json::Map<String, Value>) -> Self {
        let get = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
        Credentials {
            subdomain: get("subdomain").unwrap_or_default(),
            api_key: get("api_key").unwrap_or_default(),
            base_url: get("base_url"),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("subdomain", &self.subdomain)
            .field("api_key", &"<redacted>")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url_template", &self.base_url_template)
            .field("subdomain", &self.subdomain)
            .field("api_key", &"<redacted>")
            .field("concurrency", &self.concurrency)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Exponential backoff with full jitter, honouring `Retry-After`, within a total budget.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The most one request may spend waiting between attempts; when the next wait would
    /// pass it, the request fails instead.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_total_wait: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (attempt counts from 1): a random share of
    /// `base * 2^(attempt-1)`, capped, and never shorter than what the server asked for.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << (attempt - 1).min(20))
            .min(self.max_delay);
        let jittered = exp.mul_f64(rand::rng().random_range(0.5..=1.0));
        retry_after.map_or(jittered, |ra| ra.max(jittered))
    }
}

/// What a request is allowed to do when it fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Reads: retry on 429, 5xx, timeouts, connection errors and unparseable bodies.
    Idempotent,
    /// Creates: retry on 429 and 5xx, and on connection errors only when the request
    /// never left (a lost answer to a create must not create the applicant twice).
    Create,
    /// Passthrough: every status is the caller's answer; retry only failed connections.
    ConnectOnly,
}

/// A finished exchange.
#[derive(Debug)]
pub struct Exchange {
    pub url: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The request body, rebuilt for every attempt (multipart forms cannot be cloned).
#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Json(Value),
    Text(String),
    Form(Vec<(String, String)>, Option<FileUpload>),
}

/// One request, described so it can be sent again.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// Relative to the base URL, starting with `/`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Request {
    pub fn get(path: impl Into<String>) -> Self {
        Request {
            method: Method::GET,
            path: path.into(),
            query: vec![],
            headers: vec![],
            body: Body::Empty,
        }
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    api_key: Arc<str>,
    permits: Arc<Semaphore>,
    concurrency: usize,
    per_page: u32,
    retry: RetryPolicy,
    requests: Arc<AtomicU64>,
    /// Attempts that repeated a failed one (each a request of `requests` too).
    retries: Arc<AtomicU64>,
    observer: Observer,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// A subdomain is a DNS label; anything else could point the template at another host.
fn valid_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

impl Client {
    pub fn new(config: &Config) -> Result<Self, ConnectorError> {
        let subdomain = config.subdomain.trim().to_ascii_lowercase();
        if !valid_subdomain(&subdomain) {
            return Err(ConnectorError::new(
                Kind::InvalidInput(vec![format!(
                    "`{}` is not a Sage HR subdomain",
                    config.subdomain
                )]),
                "invalid subdomain",
            ));
        }
        if config.api_key.trim().is_empty() {
            return Err(ConnectorError::new(
                Kind::AuthInvalid,
                "the Sage HR API key is empty",
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(concat!("atsbridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ConnectorError::new(Kind::Unknown, format!("HTTP client setup failed: {e}"))
            })?;
        let base_url = config
            .base_url_template
            .replace("{subdomain}", &subdomain)
            .trim_end_matches('/')
            .to_owned();
        Ok(Client {
            http,
            base_url,
            api_key: config.api_key.trim().into(),
            permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
            concurrency: config.concurrency.max(1),
            per_page: config.per_page.clamp(1, 100),
            retry: config.retry.clone(),
            requests: Arc::new(AtomicU64::new(0)),
            retries: Arc::new(AtomicU64::new(0)),
            observer: config.observer.clone(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    pub fn per_page(&self) -> u32 {
        self.per_page
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Attempts so far that repeated a failed request.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// The URL of `path` under the account's API. The final URL is what is checked, after
    /// the URL parser has resolved dot segments (`%2e%2e` counts as `..`) and backslashes:
    /// its scheme, host and port must be the base's and its path must stay under the base
    /// path. Encodings that some server could still decode into a traversal (encoded dots,
    /// slashes, backslashes or percent signs, `;` parameters, empty segments) are refused
    /// outright: no Sage HR path needs them.
    pub fn url_for(&self, path: &str) -> Result<reqwest::Url, ConnectorError> {
        let refuse = |why: &str| {
            let message = format!("path: `{path}` {why}");
            ConnectorError::new(Kind::InvalidInput(vec![message.clone()]), message)
        };
        let base = reqwest::Url::parse(&self.base_url)
            .map_err(|_| refuse("cannot be joined to the account's API address"))?;
        if !path.starts_with('/') {
            return Err(refuse("must start with `/`"));
        }
        let lower = path.to_ascii_lowercase();
        for bad in [
            "%2e", "%2f", "%5c", "%25", "%3b", "%00", ";", "\\", "//", "?", "#", "@",
        ] {
            if lower.contains(bad) {
                return Err(refuse("must stay under the account's API (no encoded dots, slashes or percent signs, `;`, empty segments, query or fragment)"));
            }
        }
        if path.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(refuse("must not contain whitespace or control characters"));
        }
        let url = reqwest::Url::parse(&format!("{}{path}", self.base_url))
            .map_err(|_| refuse("is not a valid URL path"))?;
        let prefix = format!("{}/", base.path().trim_end_matches('/'));
        let under =
            url.path() == base.path().trim_end_matches('/') || url.path().starts_with(&prefix);
        let same_origin = url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default()
            && url.username().is_empty()
            && url.password().is_none();
        if !(same_origin && under) || url.path().split('/').any(|s| s == "." || s == "..") {
            return Err(refuse("must stay under the account's API"));
        }
        Ok(url)
    }

    fn build(&self, req: &Request) -> Result<reqwest::RequestBuilder, ConnectorError> {
        let url = self.url_for(&req.path)?;
        let mut builder = self
            .http
            .request(req.method.clone(), url)
            .query(&req.query)
            .header("Accept", "application/json");
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder = builder.header("X-Auth-Token", &*self.api_key);
        builder = match &req.body {
            Body::Empty => builder,
            Body::Json(v) => builder.json(v),
            Body::Text(s) => builder.body(s.clone()),
            Body::Form(fields, file) => {
                let mut form = reqwest::multipart::Form::new();
                for (name, value) in fields {
                    form = form.text(name.clone(), value.clone());
                }
                if let Some(f) = file {
                    let part = reqwest::multipart::Part::bytes(f.data.clone())
                        .file_name(f.name.clone())
                        .mime_str(&f.content_type)
                        .map_err(|_| {
                            ConnectorError::new(
                                Kind::InvalidInput(vec![format!(
                                    "`{}` is not a content type",
                                    f.content_type
                                )]),
                                "invalid attachment content type",
                            )
                        })?;
                    form = form.part("applicant[attachment]", part);
                }
                builder.multipart(form)
            }
        };
        Ok(builder)
    }

    /// Sends `req`, retrying as `retry` allows, and returns the final exchange. With
    /// `Retry::Idempotent` and `Retry::Create`, a non-success final status is an error; with
    /// `Retry::ConnectOnly` every status is returned.
    pub async fn execute(&self, req: &Request, retry: Retry) -> Result<Exchange, ConnectorError> {
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        let mut attempt = 0;
        let endpoint = endpoint(req, retry);
        loop {
            attempt += 1;
            let mut sent = Sent::No;
            let outcome = self.attempt(req, retry, &mut sent).await;
            let observe = |will_retry| self.observe(&endpoint, sent, will_retry);
            let (error, retry_after) = match outcome {
                Ok(exchange) => {
                    observe(false);
                    return Ok(exchange);
                }
                Err(Failure::Final(e)) => {
                    observe(false);
                    return Err(e);
                }
                Err(Failure::Transient(e, retry_after)) => (e, retry_after),
            };
            let delay = self.retry.delay(attempt, retry_after);
            let give_up =
                attempt >= self.retry.max_attempts || waited + delay > self.retry.max_total_wait;
            observe(!give_up);
            if give_up {
                tracing::warn!(path = %req.path, attempt, waited_ms = waited.as_millis() as u64, error = %error, "giving up on Sage HR request");
                return Err(ConnectorError::new(
                    error.kind,
                    format!(
                        "{} (gave up after {attempt} attempts in {:.1}s)",
                        error.message,
                        started.elapsed().as_secs_f64()
                    ),
                ));
            }
            tracing::debug!(path = %req.path, attempt, delay_ms = delay.as_millis() as u64, error = %error, "retrying Sage HR request");
            tokio::time::sleep(delay).await;
            waited += delay;
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn observe(&self, endpoint: &str, sent: Sent, will_retry: bool) {
        let status = match sent {
            Sent::No => return,
            Sent::NoAnswer => None,
            Sent::Answered(status) => Some(status),
        };
        self.observer.attempt(&UpstreamAttempt {
            tool: "sagehr",
            endpoint,
            status,
            will_retry,
        });
    }

    /// One try of `req`; `sent` says how far it got (for the observer).
    async fn attempt(
        &self,
        req: &Request,
        retry: Retry,
        sent: &mut Sent,
    ) -> Result<Exchange, Failure> {
        let builder = self.build(req).map_err(Failure::Final)?;
        // The permit is held for the exchange only, never while backing off.
        let _permit = self.permits.acquire().await.map_err(|_| {
            Failure::Final(ConnectorError::new(
                Kind::Unknown,
                "the client was shut down",
            ))
        })?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        *sent = Sent::NoAnswer;
        let what = format!("{} {}", req.method, req.path);
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                let never_sent = e.is_connect();
                let message = format!("{what}: {}", describe(&e));
                let kind = Kind::Unavailable;
                return Err(match retry {
                    Retry::Idempotent => {
                        Failure::Transient(ConnectorError::new(kind, message), None)
                    }
                    Retry::Create | Retry::ConnectOnly if never_sent => {
                        Failure::Transient(ConnectorError::new(kind, message), None)
                    }
                    _ => Failure::Final(ConnectorError::new(kind, message)),
                });
            }
        };
        let status = response.status();
        *sent = Sent::Answered(status.as_u16());
        let headers = response.headers().clone();
        let url = redact_url(response.url());
        let body = match response.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                let error = ConnectorError::new(
                    Kind::Unavailable,
                    format!("{what}: reading the answer failed: {}", describe(&e)),
                );
                return Err(if retry == Retry::Create {
                    Failure::Final(error)
                } else {
                    Failure::Transient(error, None)
                });
            }
        };
        let exchange = Exchange {
            url,
            status,
            headers,
            body,
        };
        if retry == Retry::ConnectOnly {
            return Ok(exchange);
        }
        classify(&what, exchange, retry)
    }

    /// GET `path` and parse its JSON, retrying unparseable answers like failed ones.
    pub async fn get_json(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, ConnectorError> {
        let mut req = Request::get(path);
        req.query = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        self.execute(&req, Retry::Idempotent)
            .await
            .map(|e| parse_json_lossless(&e.body))
    }

    /// One page of a paginated listing: its records and its `meta`.
    pub async fn page(
        &self,
        path: &str,
        page: u64,
    ) -> Result<(Vec<Value>, wire::Meta), ConnectorError> {
        let body = self
            .get_json(
                path,
                &[
                    ("page", page.to_string()),
                    ("per_page", self.per_page.to_string()),
                ],
            )
            .await?;
        let data = match body.get("data") {
            Some(Value::Array(items)) => items.clone(),
            _ => {
                return Err(ConnectorError::new(
                    Kind::Unknown,
                    format!("GET {path}: the answer has no `data` list"),
                ));
            }
        };
        let meta = body
            .get("meta")
            .and_then(|m| serde_json::from_value(m.clone()).ok())
            .unwrap_or_default();
        Ok((data, meta))
    }
}

/// How far an attempt got.
#[derive(Debug, Clone, Copy)]
enum Sent {
    /// Refused before it left (an invalid path, a client shutting down).
    No,
    /// Sent, with no answer (timeout, connection error).
    NoAnswer,
    Answered(u16),
}

/// The endpoint of `req` for metrics: its method and its path with every segment that is
/// not a plain word (ids: digits, mixed case, dots) as `{id}`. Passthrough paths are the
/// caller's own, so they are one endpoint whatever they name.
fn endpoint(req: &Request, retry: Retry) -> String {
    if retry == Retry::ConnectOnly {
        return format!("{} passthrough", req.method);
    }
    let path: Vec<&str> = req
        .path
        .split('/')
        .map(|segment| {
            let word = segment
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-');
            if word {
                segment
            } else {
                "{id}"
            }
        })
        .collect();
    format!("{} {}", req.method, path.join("/"))
}

enum Failure {
    /// Worth another attempt, with the server's `Retry-After` if it sent one.
    Transient(ConnectorError, Option<Duration>),
    Final(ConnectorError),
}

/// The parsed body; a body that turned out not to be JSON was already retried by `classify`.
fn parse_json_lossless(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// Sage HR's `errors` list, or the raw body when it has none.
pub fn error_messages(body: &[u8]) -> Vec<String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => match v.get("errors") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_owned))
                .collect(),
            Some(Value::Object(map)) => map.iter().map(|(k, v)| format!("{k}: {v}")).collect(),
            _ => vec![],
        },
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                vec![]
            } else {
                vec![text.chars().take(300).collect()]
            }
        }
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let delta = when - time::OffsetDateTime::now_utc();
    Some(Duration::from_secs_f64(delta.as_seconds_f64().max(0.0)))
}

fn classify(what: &str, exchange: Exchange, retry: Retry) -> Result<Exchange, Failure> {
    let status = exchange.status;
    let messages = || error_messages(&exchange.body);
    let detail = |label: &str| {
        let m = messages();
        if m.is_empty() {
            format!("{what}: Sage HR answered {} ({label})", status.as_u16())
        } else {
            format!(
                "{what}: Sage HR answered {} ({label}): {}",
                status.as_u16(),
                m.join("; ")
            )
        }
    };
    if status.is_success() {
        if retry == Retry::Idempotent && serde_json::from_slice::<Value>(&exchange.body).is_err() {
            let error = ConnectorError::new(
                Kind::Unavailable,
                format!("{what}: Sage HR answered with a body that is not JSON"),
            );
            return Err(Failure::Transient(error, None));
        }
        return Ok(exchange);
    }
    let error = match status.as_u16() {
        401 | 403 => {
            return Err(Failure::Final(ConnectorError::new(
                Kind::AuthInvalid,
                detail("credentials rejected"),
            )))
        }
        404 => {
            return Err(Failure::Final(ConnectorError::new(
                Kind::NotFound,
                detail("not found"),
            )))
        }
        422 => {
            return Err(Failure::Final(ConnectorError::new(
                Kind::InvalidInput(messages()),
                detail("input rejected"),
            )))
        }
        429 => {
            let wait = retry_after(&exchange.headers);
            return Err(Failure::Transient(
                ConnectorError::new(Kind::RateLimited, detail("rate limited")),
                wait,
            ));
        }
        500..=599 => ConnectorError::new(Kind::Unavailable, detail("server error")),
        _ => {
            return Err(Failure::Final(ConnectorError::new(
                Kind::Unknown,
                detail("unexpected status"),
            )))
        }
    };
    Err(Failure::Transient(error, retry_after(&exchange.headers)))
}

/// The chain of a reqwest error without the URL's query (which never holds the key anyway,
/// but keeps messages short).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn redact_url(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.to_string()
}

#[cfg(test)]
mod tests {
    /// The typed credentials are what is stored, both ways, and never print the key.
    #[test]
    fn credentials_round_trip_through_their_stored_form() {
        let c = Credentials {
            subdomain: "acme".into(),
            api_key: "k-123".into(),
            base_url: Some("http://127.0.0.1:9/{subdomain}/api".into()),
        };
        let stored = c.to_map();
        assert_eq!(
            Value::Object(stored.clone()),
            serde_json::json!({"subdomain": "acme", "api_key": "k-123", "base_url": "http://127.0.0.1:9/{subdomain}/api"})
        );
        assert_eq!(Credentials::from_map(&stored), c);
        let plain = Credentials {
            base_url: None,
            ..c.clone()
        };
        assert!(!plain.to_map().contains_key("base_url"));
        assert!(!format!("{c:?}").contains("k-123"));
        let config = Config::from_credentials(&stored);
        assert_eq!(
            (
                config.subdomain.as_str(),
                config.api_key.as_str(),
                config.base_url_template.as_str()
            ),
            ("acme", "k-123", "http://127.0.0.1:9/{subdomain}/api")
        );
    }

    use super::*;

    fn client(template: &str) -> Client {
        let mut config = Config::from_credentials(
            serde_json::json!({"subdomain": "acme", "api_key": "k", "base_url": template})
                .as_object()
                .unwrap(),
        );
        config.concurrency = 1;
        Client::new(&config).unwrap()
    }

    #[test]
    fn every_url_stays_under_the_accounts_api() {
        for template in [
            "http://127.0.0.1:9/{subdomain}/api",
            "https://{subdomain}.sage.hr/api",
        ] {
            let c = client(template);
            for ok in [
                "/recruitment/positions",
                "/employees/17",
                "/",
                "/a/b.c/d..e",
            ] {
                let url = c.url_for(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
                assert!(url.as_str().starts_with(c.base_url()), "{url}");
            }
            for bad in [
                "/../_sim/acme/stats",
                "/%2e%2e/%2e%2e/_sim/acme/stats",
                "/%2E%2E/_sim",
                "/%2e./x",
                "/.%2E/x",
                "/%252e%252e/x",
                "/..%2f..%2f_sim",
                "/..%2F_sim",
                "/..\\..\\_sim",
                "/%5c..%5c_sim",
                "/..;/_sim",
                "/x/..;/..;/_sim",
                "/x;a=b",
                "//evil.example/x",
                "///evil",
                "/a//b",
                "http://evil.example/x",
                "//127.0.0.1:9/x",
                "https:evil.example",
                "@evil.example/x",
                "/@evil.example",
                "/a?b=1",
                "/a#b",
                "/a b",
                "/a\tb",
                "/a%00b",
                "relative",
                "/..",
                "/x/../../y",
            ] {
                let e = c.url_for(bad).expect_err(bad);
                assert!(matches!(e.kind, Kind::InvalidInput(_)), "{bad}");
                assert!(e.message.starts_with("path: "), "{bad}: {}", e.message);
            }
        }
    }

    #[test]
    fn endpoints_are_templated_paths_without_ids() {
        let mut req = Request::get("/employees/17/compensations");
        assert_eq!(
            endpoint(&req, Retry::Idempotent),
            "GET /employees/{id}/compensations"
        );
        req.path = "/recruitment/positions/aB3/applicants".into();
        req.method = Method::POST;
        assert_eq!(
            endpoint(&req, Retry::Create),
            "POST /recruitment/positions/{id}/applicants"
        );
        req.path = "/leave-management/requests".into();
        assert_eq!(
            endpoint(&req, Retry::Idempotent),
            "POST /leave-management/requests"
        );
        req.path = "/anything/the/caller/asks/42".into();
        assert_eq!(endpoint(&req, Retry::ConnectOnly), "POST passthrough");
    }

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_total_wait: Duration::from_secs(10),
        };
        for attempt in 1..=10 {
            let d = p.delay(attempt, None);
            let full =
                Duration::from_millis(100 * (1 << (attempt - 1))).min(Duration::from_secs(1));
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
        assert!(p.delay(1, Some(Duration::from_secs(5))) >= Duration::from_secs(5));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(
            retry_after(&h),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn error_messages_come_from_the_envelope_or_the_body() {
        assert_eq!(
            error_messages(
                br#"{"error_code":"validation_failed","errors":["Email has already been taken"]}"#
            ),
            ["Email has already been taken"]
        );
        assert_eq!(
            error_messages(b"<html>Bad gateway</html>"),
            ["<html>Bad gateway</html>"]
        );
        assert!(error_messages(b"").is_empty());
    }

    #[test]
    fn subdomains_must_be_dns_labels() {
        for ok in ["acme", "acme-eu", "a1"] {
            assert!(valid_subdomain(ok), "{ok}");
        }
        for bad in ["", "acme.evil.com", "acme/x", "-acme", "a b", "evil.com#"] {
            assert!(!valid_subdomain(bad), "{bad}");
        }
        assert!(Client::new(&Config::new("evil.com/", "k")).is_err());
        assert!(Client::new(&Config::new("acme", " ")).is_err());
        let c = Client::new(&Config::new("ACME", "k")).unwrap();
        assert_eq!(c.base_url(), "https://acme.sage.hr/api");
    }

    #[test]
    fn stored_credentials_give_the_config() {
        let stored = serde_json::json!({"subdomain": "acme", "api_key": "k", "base_url": "http://127.0.0.1:9/{subdomain}/api"});
        let config = Config::from_credentials(stored.as_object().unwrap());
        assert_eq!(
            (config.subdomain.as_str(), config.api_key.as_str()),
            ("acme", "k")
        );
        assert_eq!(
            Client::new(&config).unwrap().base_url(),
            "http://127.0.0.1:9/acme/api"
        );
        let plain = serde_json::json!({"subdomain": "acme", "api_key": "k"});
        assert_eq!(
            Config::from_credentials(plain.as_object().unwrap()).base_url_template,
            DEFAULT_BASE_URL
        );
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let config = Config::new("acme", "super-secret-key");
        assert!(!format!("{config:?}").contains("super-secret"));
        let client = Client::new(&config).unwrap();
        assert!(!format!("{client:?}").contains("super-secret"));
    }
}
