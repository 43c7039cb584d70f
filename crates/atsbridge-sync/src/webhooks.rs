//! Webhook delivery from the outbox: signing, the outbox-event → webhook-payload mapping,
//! and the deliverer (`Deliverer::deliver_due`, which tests call directly, and the loop
//! around it that `atsbridge serve` runs beside the scheduler).
//!
//! At least once, in order per integration and webhook, with exponential backoff on non-2xx
//! answers, timeouts and connection errors until `max_age` after the first attempt, then
//! FAILED. Deliveries are claimed with a lease in the store, so several nodes sharing a
//! database never send one delivery at the same time.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use atsbridge_model::event::{event_id, Event, EventIdOf};
use atsbridge_model::Timestamp;
use atsbridge_store::{Attempt, ClaimedDelivery, DeliveryState, Store, StoreError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::Rng as _;
use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::outbound::{Outbound, OutboundError, OutboundRequest, Redirects, NOT_PUBLIC};

/// The signature header: base64url (no padding) of HMAC-SHA256(secret, raw body).
pub const SIGNATURE_HEADER: &str = "X-Kombo-Signature";

/// The `X-Kombo-Signature` value of `body`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// One webhook event: `{id, type, data}`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub id: String,
    pub kind: &'static str,
    pub data: Value,
}

impl WebhookEvent {
    /// The body that is sent (and signed).
    pub fn envelope(&self) -> Value {
        json!({"id": self.id, "type": self.kind, "data": self.data})
    }
}

/// The webhook events outbox event `event` (id `outbox_id`, written at `made_at`) becomes, in
/// `Event::webhook_types` order, with Kombo's payload shapes: a run's `sync-finished` becomes
/// `data-changed` (when it changed models, named with the models that embed them) and
/// `sync-finished` without the list; every other event is sent as it is.
pub fn webhook_events(outbox_id: &str, made_at: Timestamp, event: &Event) -> Vec<WebhookEvent> {
    let id = |kind: &'static str| {
        event_id(EventIdOf::Webhook {
            outbox_id,
            outbox_type: event.kind(),
            webhook_type: kind,
        })
    };
    let data = |value: Result<Value, serde_json::Error>| value.unwrap_or(Value::Null);
    match event {
        Event::SyncFinished(s) => event
            .webhook_types()
            .iter()
            .map(|&kind| WebhookEvent {
                id: id(kind),
                kind,
                data: if kind == "data-changed" {
                    let models = with_nesting(s.changed_models.iter().map(String::as_str));
                    data(serde_json::to_value(s.data_changed(models)))
                } else {
                    data(serde_json::to_value(s.webhook_data(made_at)))
                },
            })
            .collect(),
        Event::DataChanged(_)
        | Event::IntegrationCreated(_)
        | Event::IntegrationDeleted(_)
        | Event::IntegrationStateChanged(_)
        | Event::ConnectionFlowFailed(_) => vec![WebhookEvent {
            id: id(event.kind()),
            kind: event.kind(),
            data: event.payload(),
        }],
    }
}

/// The models whose read answers changed when `changed` did: the stored models themselves
/// plus those that embed them (a candidate lists its applications, a job its stages, an
/// application its candidate and job), so a reader of `ats_candidates` hears about a stage
/// move of one of its applications.
pub fn with_nesting<'a>(changed: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for model in changed {
        out.insert(model.to_owned());
        let embedding: &[&str] = match model {
            "ats_applications" => &["ats_candidates"],
            "ats_application_stages" => &["ats_jobs", "ats_applications"],
            "ats_candidates" | "ats_jobs" => &["ats_applications"],
            // An employee embeds its employments and balances; absences and balances embed
            // their type (the same rules as `updated_after`).
            "hris_employments" | "hris_time_off_balances" => &["hris_employees"],
            "hris_absence_types" => &["hris_absences", "hris_time_off_balances"],
            _ => &[],
        };
        out.extend(embedding.iter().map(|m| (*m).to_owned()));
    }
    out
}

#[derive(Debug, Clone)]
pub struct DelivererConfig {
    /// Who this process is, in delivery leases.
    pub worker_id: String,
    /// The deadline for one POST: resolving, connecting and the answer.
    pub timeout: Duration,
    /// Wait after the first failed attempt; doubled after each further one, up to
    /// `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// After this long since its first attempt, a delivery that still fails is FAILED.
    pub max_age: Duration,
    /// Whether webhook URLs may point to loopback, private or other internal addresses.
    pub allow_private_urls: bool,
    /// How often the loop looks for due deliveries.
    pub tick: Duration,
    /// Deliveries claimed (and sent concurrently) at once.
    pub batch: i64,
}

impl Default for DelivererConfig {
    fn default() -> Self {
        let suffix: u32 = rand::rng().random();
        DelivererConfig {
            worker_id: format!("deliverer-{}-{suffix:08x}", std::process::id()),
            timeout: Duration::from_secs(10),
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(3600),
            max_age: Duration::from_secs(24 * 3600),
            allow_private_urls: false,
            tick: Duration::from_secs(1),
            batch: 32,
        }
    }
}

impl DelivererConfig {
    /// The wait before the attempt after `attempts` failed ones (1, 2, …).
    pub fn backoff(&self, attempts: i64) -> Duration {
        let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.backoff_base
            .saturating_mul(2u32.saturating_pow(exp))
            .min(self.backoff_max)
    }
}

#[derive(Debug, Clone)]
pub struct Deliverer {
    store: Store,
    config: DelivererConfig,
    outbound: Outbound,
    metrics: Metrics,
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    crate::engine::later(t, d)
}

impl Deliverer {
    pub fn new(store: Store, config: DelivererConfig) -> Self {
        let outbound = Outbound::new(config.allow_private_urls);
        Deliverer {
            store,
            config,
            outbound,
            metrics: Metrics::default(),
        }
    }

    /// This deliverer counting its attempts in `metrics` (the app's).
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn config(&self) -> &DelivererConfig {
        &self.config
    }

    /// Sends every delivery due at `now` (each at most once per call; a delivery that
    /// becomes due because an earlier one of its integration went out is sent in the same
    /// call) and records the outcomes. Returns the number of attempts made.
    pub async fn deliver_due(&self, now: Timestamp) -> Result<usize, StoreError> {
        let mut attempts = 0;
        // Bounded: each round delivers or reschedules (past `now`) what it claimed.
        for _ in 0..1000 {
            let lease_until = plus(
                Timestamp::now(),
                self.config.timeout.saturating_mul(2) + Duration::from_secs(30),
            );
            let claimed = self
                .store
                .claim_deliveries(&self.config.worker_id, now, lease_until, self.config.batch)
                .await?;
            if claimed.is_empty() {
                break;
            }
            attempts += claimed.len();
            let results =
                futures_util::future::join_all(claimed.into_iter().map(|c| self.attempt(c, now)))
                    .await;
            for r in results {
                r?;
            }
        }
        Ok(attempts)
    }

    async fn attempt(&self, claimed: ClaimedDelivery, now: Timestamp) -> Result<(), StoreError> {
        let d = &claimed.delivery;
        let stored = &claimed.event;
        let event = stored.typed().map(|event| {
            webhook_events(&stored.id, stored.created_at, &event)
                .into_iter()
                .find(|e| e.kind == d.event_type)
        });
        let started = Instant::now();
        let result = match event {
            Ok(Some(event)) => {
                let body = event.envelope().to_string();
                post(
                    &self.outbound,
                    self.config.timeout,
                    &claimed.url,
                    &claimed.secret,
                    body,
                )
                .await
            }
            Ok(None) => Err((
                None,
                format!("`{}` is not an event atsbridge sends", d.event_type),
            )),
            Err(e) => Err((None, e.to_string())),
        };
        let latency_ms = started.elapsed().as_millis() as i64;
        // Not before `now`: the caller's clock decides when a delivery is due, retried and
        // too old (a test moves it past backoffs and max ages instead of sleeping).
        let at = Timestamp::now().max(now);
        let attempt = match result {
            Ok(status) => Attempt {
                status: Some(status),
                latency_ms,
                error: None,
                at,
                state: DeliveryState::Delivered,
                next_attempt_at: at,
            },
            Err((status, error)) => {
                let first = d.first_attempt_at.unwrap_or(at);
                let expired = at.unix_millis() - first.unix_millis()
                    >= self.config.max_age.as_millis() as i64;
                let next = plus(now.max(at), self.config.backoff(d.attempts + 1));
                tracing::warn!(delivery = %d.id, event_id = %d.event_id, attempts = d.attempts + 1, error = %error, "webhook delivery failed");
                Attempt {
                    status,
                    latency_ms,
                    error: Some(error),
                    at,
                    state: if expired {
                        DeliveryState::Failed
                    } else {
                        DeliveryState::Pending
                    },
                    next_attempt_at: next,
                }
            }
        };
        self.metrics.webhook_delivery(match attempt.state {
            DeliveryState::Delivered => "delivered",
            DeliveryState::Pending => "retrying",
            DeliveryState::Failed => "failed",
        });
        if !self
            .store
            .record_attempt(d.seq, &self.config.worker_id, &attempt)
            .await?
        {
            tracing::warn!(delivery = %d.id, "the lease of a delivery expired while it was sent");
        }
        Ok(())
    }

    /// Delivers until `shutdown` is cancelled.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                r = self.deliver_due(Timestamp::now()) => {
                    if let Err(e) = r {
                        tracing::error!(error = %e, "delivering webhooks failed");
                    }
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(self.config.tick) => {}
            }
        }
        tracing::info!("webhook deliverer stopped");
    }
}

/// Checks a webhook URL when it is subscribed, by the rules every delivery is sent by
/// (`Outbound`): http(s), with a host, no credentials, and unless `allow_private`, not a
/// loopback, private or otherwise internal address. Names are resolved here only when that
/// matters, unless `allow_private` (a receiver on one's own network need not be up yet);
/// every delivery resolves and checks them again.
pub async fn validate_url(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let outbound = Outbound::new(allow_private);
    let checked = if allow_private {
        outbound.check_unresolved(raw.trim())
    } else {
        let target = outbound.check(raw.trim(), VALIDATE_TIMEOUT).await;
        target.map(|t| t.url().clone())
    };
    checked.map_err(|e| match e {
        OutboundError::NotHttp { .. } => format!("`{raw}` is not an http(s) URL"),
        OutboundError::NoHost { .. } => format!("`{raw}` has no host"),
        OutboundError::Credentials { .. } => {
            "credentials in webhook URLs are not supported".to_owned()
        }
        OutboundError::NotPublic { .. } => {
            format!("`{raw}` is {NOT_PUBLIC}; private webhook URLs are not allowed on this server")
        }
        OutboundError::Timeout => format!("resolving the host of `{raw}` timed out"),
        other => other.to_string(),
    })
}

/// The limit for resolving a URL's host when it is subscribed.
const VALIDATE_TIMEOUT: Duration = Duration::from_secs(5);

/// POSTs `body` to `raw` through `outbound` within `timeout`; `Ok(status)` for a 2xx answer,
/// else the status (if any) and why. A redirect is not followed: the receiver did not take
/// the delivery, so it is retried like any other non-2xx answer.
async fn post(
    outbound: &Outbound,
    timeout: Duration,
    raw: &str,
    secret: &str,
    body: String,
) -> Result<u16, (Option<u16>, String)> {
    let signature = HeaderValue::from_str(&sign(secret, body.as_bytes()))
        .expect("base64url is a valid header value");
    let request = OutboundRequest::post(raw, body.into_bytes())
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(
            HeaderName::from_bytes(SIGNATURE_HEADER.as_bytes()).expect("a valid header name"),
            signature,
        );
    let response = outbound
        .send(request, timeout, Redirects::Return)
        .await
        .map_err(|e| {
            let why = match e {
                OutboundError::NotUrl { why, .. } => format!("bad URL: {why}"),
                OutboundError::NotPublic { .. } => {
                    format!("the URL's host is {NOT_PUBLIC}; private webhook URLs are not allowed")
                }
                other => other.to_string(),
            };
            (None, why)
        })?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        Ok(status)
    } else {
        Err((Some(status), format!("answered HTTP {status}")))
    }
}

#[cfg(test)]
mod tests {
    use atsbridge_model::event::{IntegrationDeleted, SyncFinished, SyncState};
    use atsbridge_model::integration::{Category, EndUser};
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;

    const ID: &str = "evt_0123456789abcdef";

    fn made_at() -> Timestamp {
        Timestamp::from_unix_millis(1_700_000_000_000).unwrap()
    }

    fn end_user() -> EndUser {
        EndUser {
            organization_name: "Acme".into(),
            creator_email: None,
            origin_id: None,
        }
    }

    fn sync_finished(changed: &[&str]) -> Event {
        Event::SyncFinished(SyncFinished {
            sync_id: "sync_0123456789abcdef".into(),
            sync_state: SyncState::Succeeded,
            sync_started_at: Timestamp::parse("2023-11-14T22:13:10.000Z").unwrap(),
            sync_ended_at: Some(Timestamp::parse("2023-11-14T22:13:20.000Z").unwrap()),
            sync_duration_seconds: 10,
            integration_id: "sagehr:x".into(),
            integration_tool: "sagehr".into(),
            integration_category: Category::Ats,
            end_user: end_user(),
            changed_models: changed.iter().map(|m| (*m).to_owned()).collect(),
            log_url: String::new(),
        })
    }

    #[test]
    fn signatures_are_base64url_hmac_sha256_without_padding() {
        // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?")
        // = 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843
        let sig = sign("Jefe", b"what do ya want for nothing?");
        assert_eq!(sig, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
        assert!(!sig.contains('='));
        assert_ne!(sign("Jefe", b"what do ya want for nothing!"), sig);
    }

    #[test]
    fn a_sync_that_changed_data_becomes_data_changed_and_sync_finished() {
        let events = webhook_events(
            ID,
            made_at(),
            &sync_finished(&["ats_applications", "ats_candidates"]),
        );
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].kind, "data-changed");
        assert_eq!(
            events[0].data,
            json!({
                "integration_id": "sagehr:x",
                "integration_tool": "sagehr",
                "integration_category": "ATS",
                "changed_models": [{"name": "ats_applications"}, {"name": "ats_candidates"}],
            })
        );
        assert_eq!(events[1].kind, "sync-finished");
        assert_eq!(events[1].id, ID);
        // The derived id the previous version gave this webhook event.
        assert_eq!(
            events[0].id,
            event_id(EventIdOf::Webhook {
                outbox_id: ID,
                outbox_type: "sync-finished",
                webhook_type: "data-changed"
            })
        );
        assert_ne!(events[0].id, events[1].id);
        let data = &events[1].data;
        assert!(data.get("changed_models").is_none());
        for key in [
            "sync_id",
            "sync_state",
            "sync_started_at",
            "sync_ended_at",
            "sync_duration_seconds",
            "integration_id",
            "integration_tool",
            "integration_category",
            "end_user",
            "log_url",
        ] {
            assert!(data.get(key).is_some(), "{key}");
        }
        assert_eq!(data["sync_duration_seconds"], 10);
        let envelope = events[1].envelope();
        assert_eq!(envelope["type"], "sync-finished");
        assert_eq!(envelope["id"], "evt_0123456789abcdef");
    }

    #[test]
    fn changed_models_include_the_models_that_embed_them() {
        let names = |changed: &[&str]| -> Vec<String> {
            webhook_events(ID, made_at(), &sync_finished(changed))[0].data["changed_models"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            names(&["ats_applications"]),
            ["ats_applications", "ats_candidates"]
        );
        assert_eq!(
            names(&["ats_application_stages"]),
            ["ats_application_stages", "ats_applications", "ats_jobs"]
        );
        assert_eq!(
            names(&["hris_employments"]),
            ["hris_employees", "hris_employments"]
        );
        assert_eq!(
            names(&["hris_absence_types"]),
            [
                "hris_absence_types",
                "hris_absences",
                "hris_time_off_balances"
            ]
        );
        assert_eq!(names(&["hris_teams"]), ["hris_teams"]);
    }

    #[test]
    fn an_unchanged_sync_is_only_sync_finished() {
        let events = webhook_events(ID, made_at(), &sync_finished(&[]));
        assert_eq!(
            events.iter().map(|e| e.kind).collect::<Vec<_>>(),
            ["sync-finished"]
        );
        // The ids do not change between calls (retries carry the same id).
        assert_eq!(
            webhook_events(ID, made_at(), &sync_finished(&["ats_jobs"]))[0].id,
            webhook_events(ID, made_at(), &sync_finished(&["ats_jobs"]))[0].id
        );
    }

    #[test]
    fn other_events_pass_through() {
        let e = Event::IntegrationDeleted(IntegrationDeleted {
            id: "sagehr:x".into(),
            tool: "sagehr".into(),
            category: Category::Ats,
            end_user: end_user(),
            deleted_at: made_at(),
        });
        let out = webhook_events(ID, made_at(), &e);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, "integration-deleted");
        assert_eq!(out[0].data, e.payload());
        assert_eq!(out[0].id, ID);
    }

    #[test]
    fn a_sync_finished_without_its_end_says_when_it_was_made() {
        let Event::SyncFinished(mut s) = sync_finished(&[]) else {
            unreachable!()
        };
        s.sync_ended_at = None;
        let out = webhook_events(ID, made_at(), &Event::SyncFinished(s));
        assert_eq!(out[0].data["sync_ended_at"], "2023-11-14T22:13:20.000Z");
        assert_eq!(out[0].data["log_url"], "");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = DelivererConfig {
            backoff_base: Duration::from_secs(10),
            backoff_max: Duration::from_secs(3600),
            ..DelivererConfig::default()
        };
        assert_eq!(c.backoff(1), Duration::from_secs(10));
        assert_eq!(c.backoff(2), Duration::from_secs(20));
        assert_eq!(c.backoff(3), Duration::from_secs(40));
        assert_eq!(c.backoff(20), Duration::from_secs(3600));
        assert_eq!(c.backoff(1000), Duration::from_secs(3600));
    }

    #[tokio::test]
    async fn urls_are_validated() {
        assert!(validate_url("ftp://example.com/x", true).await.is_err());
        assert!(validate_url("not a url", true).await.is_err());
        assert!(validate_url("http://127.0.0.1:9/hook", false)
            .await
            .is_err());
        assert!(validate_url("http://localhost:9/hook", false)
            .await
            .is_err());
        assert!(validate_url("http://10.1.2.3/hook", false).await.is_err());
        assert!(validate_url("http://[::1]/hook", false).await.is_err());
        assert!(validate_url("http://127.0.0.1:9/hook", true).await.is_ok());
        assert!(validate_url("https://93.184.215.14/hook", false)
            .await
            .is_ok());
        // Resolved at subscription only where the answer decides anything.
        assert!(validate_url("http://receiver.invalid/hook", true)
            .await
            .is_ok());
        assert!(validate_url("http://receiver.invalid/hook", false)
            .await
            .is_err());
        assert_eq!(
            validate_url("https://user:pw@93.184.215.14/hook", true).await,
            Err("credentials in webhook URLs are not supported".to_owned())
        );
    }

    /// A receiver on 127.0.0.1 that answers every request with `answer`; returns its URL
    /// and the requests it read (head and body).
    async fn receiver(answer: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Head and the small JSON body: until the body's length is in.
                loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    let complete = text.split_once("\r\n\r\n").is_some_and(|(head, body)| {
                        head.lines()
                            .find_map(|l| l.strip_prefix("content-length: "))
                            .and_then(|n| n.trim().parse::<usize>().ok())
                            .is_some_and(|n| body.len() >= n)
                    });
                    if n == 0 || complete {
                        log.lock().unwrap().push(text);
                        break;
                    }
                }
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            }
        });
        (url, seen)
    }

    #[tokio::test]
    async fn a_redirecting_receiver_has_not_taken_the_delivery() {
        let (url, seen) = receiver(
            "HTTP/1.1 302 Found\r\nlocation: /elsewhere\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        )
        .await;
        let outbound = Outbound::new(true);
        let timeout = Duration::from_secs(10);
        let result = post(&outbound, timeout, &url, "s3cret", "{}".into()).await;
        assert_eq!(result, Err((Some(302), "answered HTTP 302".to_owned())));
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1, "not followed: {seen:?}");
        assert!(seen[0].starts_with("POST /hook "), "{seen:?}");
        let signature = format!("x-kombo-signature: {}", sign("s3cret", b"{}"));
        assert!(seen[0].contains(&signature), "{seen:?}");
        assert!(
            seen[0].contains("content-type: application/json"),
            "{seen:?}"
        );

        let (url, _) = receiver("HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n").await;
        assert_eq!(
            post(&outbound, timeout, &url, "s", "{}".into()).await,
            Ok(204)
        );
        // Refused before anything is sent where private URLs are not allowed.
        let (url, seen) = receiver("HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n").await;
        let result = post(&Outbound::new(false), timeout, &url, "s", "{}".into()).await;
        assert_eq!(
            result,
            Err((
                None,
                "the URL's host is not a public address; private webhook URLs are not allowed"
                    .to_owned()
            ))
        );
        assert!(seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_refusal_does_not_say_what_the_address_is() {
        for url in [
            "http://[::ffff:7f00:1]/hook",
            "http://[2002:7f00:1::1]/hook",
            "http://[64:ff9b::7f00:1]/hook",
            "http://localhost:9/hook",
        ] {
            let message = validate_url(url, false).await.unwrap_err();
            assert!(message.contains("is not a public address"), "{message}");
            assert!(!message.contains("127.0.0.1"), "{message}");
            assert!(!message.contains("loopback"), "{message}");
            assert!(!message.contains("internal"), "{message}");
        }
    }
}
