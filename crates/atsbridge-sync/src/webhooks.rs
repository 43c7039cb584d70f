//! Webhook delivery from the outbox: signing, the outbox-event → webhook-payload mapping,
//! and the deliverer (`Deliverer::deliver_due`, which tests call directly, and the loop
//! around it that `atsbridge serve` runs beside the scheduler).
//!
//! At least once, in order per integration and webhook, with exponential backoff on non-2xx
//! answers, timeouts and connection errors until `max_age` after the first attempt, then
//! FAILED. Deliveries are claimed with a lease in the store, so several nodes sharing a
//! database never send one delivery at the same time.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use atsbridge_model::event::{event_id, Event, EventIdOf};
use atsbridge_model::Timestamp;
use atsbridge_store::{Attempt, ClaimedDelivery, DeliveryState, Store, StoreError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::Rng as _;
use serde_json::{json, Value};
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

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
    /// Limit for one POST.
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
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    crate::engine::later(t, d)
}

impl Deliverer {
    pub fn new(store: Store, config: DelivererConfig) -> Self {
        Deliverer { store, config }
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
                self.post(&claimed.url, &claimed.secret, body).await
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
        if !self
            .store
            .record_attempt(d.seq, &self.config.worker_id, &attempt)
            .await?
        {
            tracing::warn!(delivery = %d.id, "the lease of a delivery expired while it was sent");
        }
        Ok(())
    }

    /// POSTs `body`; `Ok(status)` for a 2xx answer, else the status (if any) and why.
    async fn post(
        &self,
        raw: &str,
        secret: &str,
        body: String,
    ) -> Result<u16, (Option<u16>, String)> {
        let url = url::Url::parse(raw).map_err(|e| (None, format!("bad URL: {e}")))?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.config.timeout)
            .connect_timeout(self.config.timeout);
        if !self.config.allow_private_urls {
            // Resolved here and pinned, so the address checked is the address called.
            let addrs = resolve(&url, self.config.timeout)
                .await
                .map_err(|e| (None, e))?;
            if addrs.iter().any(|a| is_internal(a.ip())) {
                return Err((
                    None,
                    format!("the URL's host is {NOT_PUBLIC}; private webhook URLs are not allowed"),
                ));
            }
            if let Some(url::Host::Domain(d)) = url.host() {
                builder = builder.resolve_to_addrs(d, &addrs);
            }
        }
        let client = builder.build().map_err(|e| (None, e.to_string()))?;
        let signature = sign(secret, body.as_bytes());
        let response = client
            .post(url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                let why = if e.is_timeout() {
                    "timed out".to_owned()
                } else if e.is_connect() {
                    "could not connect".to_owned()
                } else {
                    format!("request failed: {e}")
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

async fn resolve(url: &url::Url, limit: Duration) -> Result<Vec<SocketAddr>, String> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| format!("`{url}` has no port"))?;
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(url::Host::Domain(d)) => {
            tokio::time::timeout(limit, tokio::net::lookup_host((d, port)))
                .await
                .map_err(|_| format!("resolving `{d}` timed out"))?
                .map_err(|e| format!("`{d}` could not be resolved: {e}"))?
                .collect()
        }
        None => return Err(format!("`{url}` has no host")),
    };
    if addrs.is_empty() {
        return Err(format!("`{url}` resolves to no address"));
    }
    Ok(addrs)
}

/// Checks a webhook URL when it is subscribed: http(s), with a host, and unless
/// `allow_private`, not a loopback, private or otherwise internal address (names are
/// resolved; they are checked again at every delivery).
pub async fn validate_url(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| format!("`{raw}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{raw}` is not an http(s) URL"));
    }
    if url.host().is_none() {
        return Err(format!("`{raw}` has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials in webhook URLs are not supported".into());
    }
    if !allow_private {
        let refused = || {
            format!("`{raw}` is {NOT_PUBLIC}; private webhook URLs are not allowed on this server")
        };
        if matches!(url.host(), Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost"))
        {
            return Err(refused());
        }
        let addrs = resolve(&url, Duration::from_secs(5)).await?;
        if addrs.iter().any(|a| is_internal(a.ip())) {
            return Err(refused());
        }
    }
    Ok(url)
}

/// What a refused address is called in messages. Never the address itself: a client
/// must not learn what an internal name resolves to.
pub const NOT_PUBLIC: &str = "not a public address";

/// Whether `ip` is an address a server should not be made to call on a client's behalf:
/// loopback, private, link-local, carrier-grade NAT, unspecified, multicast, broadcast,
/// reserved and documentation ranges, IPv6 unique-local and site-local, NAT64 local-use
/// prefixes, and IPv4 addresses embedded in IPv6 (mapped, translated, IPv4-compatible,
/// NAT64, 6to4, Teredo) that are any of these.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let v4_at = |hi: u16, lo: u16| {
                std::net::Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
            };
            let embedded = match s {
                // ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated, RFC 2765)
                [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0xffff, 0, hi, lo] => {
                    vec![v4_at(hi, lo)]
                }
                // 64:ff9b::a.b.c.d, the well-known NAT64 prefix (RFC 6052)
                [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => vec![v4_at(hi, lo)],
                // 2002:aabb:ccdd::/48, 6to4 (RFC 3056): the relay calls a.b.c.d
                [0x2002, hi, lo, ..] => vec![v4_at(hi, lo)],
                // 2001:0::/32, Teredo (RFC 4380): the server's address, then the client's
                // with its bits inverted
                [0x2001, 0, server_hi, server_lo, _, _, client_hi, client_lo] => {
                    vec![v4_at(server_hi, server_lo), v4_at(!client_hi, !client_lo)]
                }
                _ => Vec::new(),
            };
            if embedded.into_iter().any(is_internal_v4) {
                return true;
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                // 64:ff9b:1::/48, NAT64 for local use (RFC 8215): where the IPv4 address sits
                // depends on the operator's prefix length, so none of it is trusted.
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
                // IPv4-compatible (deprecated) ::a.b.c.d
                || (s[0..6] == [0, 0, 0, 0, 0, 0])
        }
    }
}

fn is_internal_v4(v4: std::net::Ipv4Addr) -> bool {
    let o = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || o[0] >= 240
}

#[cfg(test)]
mod tests {
    use atsbridge_model::event::{IntegrationDeleted, SyncFinished, SyncState};
    use atsbridge_model::integration::{Category, EndUser};

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
    }

    fn internal(ip: &str) -> bool {
        is_internal(ip.parse().unwrap())
    }

    #[test]
    fn ipv4_in_6to4_is_checked() {
        // 2002:AABB:CCDD::/48 relays to AA.BB.CC.DD.
        for ip in [
            "2002:7f00:1::1",     // 127.0.0.1
            "2002:a00:1::",       // 10.0.0.1
            "2002:c0a8:101:1::1", // 192.168.1.1
            "2002:a9fe:a9fe::1",  // 169.254.169.254
            "2002:6440:1::1",     // 100.64.0.1
            "2002::1",            // 0.0.0.0
        ] {
            assert!(internal(ip), "{ip}");
        }
        assert!(!internal("2002:808:808::1"), "8.8.8.8");
    }

    #[test]
    fn ipv4_in_teredo_is_checked() {
        // 2001:0:SERVER:FLAGS:PORT:~CLIENT, the client's address inverted.
        let teredo = |server: [u8; 4], client: [u8; 4]| {
            let inv = client.map(|b| !b);
            format!(
                "2001:0:{:x}:{:x}:0:0:{:x}:{:x}",
                u16::from_be_bytes([server[0], server[1]]),
                u16::from_be_bytes([server[2], server[3]]),
                u16::from_be_bytes([inv[0], inv[1]]),
                u16::from_be_bytes([inv[2], inv[3]]),
            )
        };
        let public = [8, 8, 8, 8];
        for private in [
            [127, 0, 0, 1],
            [10, 1, 2, 3],
            [169, 254, 169, 254],
            [192, 168, 0, 1],
        ] {
            assert!(internal(&teredo(public, private)), "client {private:?}");
            assert!(internal(&teredo(private, public)), "server {private:?}");
        }
        assert!(!internal(&teredo(public, [1, 1, 1, 1])));
        // RFC 4380's example: server 65.54.227.120, client 192.0.2.45 (documentation).
        assert!(internal("2001:0:4136:e378:8000:63bf:3fff:fdd2"));
    }

    #[test]
    fn nat64_prefixes_are_checked() {
        // The well-known prefix embeds the IPv4 address in the last 32 bits.
        assert!(internal("64:ff9b::7f00:1"));
        assert!(internal("64:ff9b::a9fe:a9fe"));
        assert!(!internal("64:ff9b::808:808"));
        // The local-use prefix is the operator's: none of it is public.
        assert!(internal("64:ff9b:1::808:808"));
        assert!(internal("64:ff9b:1:ffff::1"));
        assert!(!internal("64:ff9b:2::808:808"));
    }

    #[test]
    fn ipv4_mapped_and_translated_are_checked() {
        assert!(internal("::ffff:127.0.0.1"));
        assert!(internal("::ffff:10.0.0.1"));
        assert!(!internal("::ffff:8.8.8.8"));
        assert!(internal("::ffff:0:127.0.0.1"));
        assert!(internal("::ffff:0:192.168.1.1"));
        assert!(!internal("::ffff:0:8.8.8.8"));
        assert!(internal("::127.0.0.1"));
        assert!(!internal("2606:4700:4700::1111"));
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
