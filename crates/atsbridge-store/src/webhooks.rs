//! Webhook subscriptions and their deliveries.
//!
//! When an event is written to the outbox (`enqueue_event`), the same transaction creates one
//! delivery per webhook event it becomes (`Event::webhook_types`) and per subscription of its
//! environment that wants that type. Deliverers claim due deliveries with a lease, one
//! conditional UPDATE per delivery, so with several nodes sharing a database each delivery
//! is sent by one node at a time; a delivery is only claimed when no older undelivered one
//! of the same integration and webhook exists (in order per integration).

use atsbridge_model::event::{event_id, EventIdOf};
use atsbridge_model::Timestamp;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;

use crate::events::{Event, NewEvent};
use crate::{millis, opt_timestamp, pg, sqlite, timestamp, Db, Result, Store, StoreError};

/// The webhook event types atsbridge sends.
pub use atsbridge_model::event::WEBHOOK_TYPES as EVENT_TYPES;

/// The id of webhook event `ty` made from outbox event `event` (`event_id`).
pub(crate) fn outbox_webhook_id(event: &NewEvent, ty: &str) -> String {
    event_id(EventIdOf::Webhook {
        outbox_id: &event.id,
        outbox_type: event.kind(),
        webhook_type: ty,
    })
}

/// A new webhook secret: 32 random bytes, base64url without padding.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}_{hex}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: String,
    pub environment_id: String,
    pub url: String,
    /// The event types wanted; `None` is all of them.
    pub events: Option<Vec<String>>,
    pub created_at: Timestamp,
}

impl Webhook {
    pub fn wants(&self, ty: &str) -> bool {
        self.events
            .as_ref()
            .is_none_or(|list| list.iter().any(|e| e == ty))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "PENDING",
            DeliveryState::Delivered => "DELIVERED",
            DeliveryState::Failed => "FAILED",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "PENDING" => Some(DeliveryState::Pending),
            "DELIVERED" => Some(DeliveryState::Delivered),
            "FAILED" => Some(DeliveryState::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub seq: i64,
    pub id: String,
    pub event_seq: i64,
    pub event_id: String,
    pub event_type: String,
    pub webhook_id: String,
    pub integration_id: Option<String>,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub first_attempt_at: Option<Timestamp>,
    pub last_status: Option<i64>,
    pub last_latency_ms: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A delivery this worker holds the lease of, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub delivery: Delivery,
    pub url: String,
    /// The webhook's secret, decrypted.
    pub secret: String,
    /// The outbox event the webhook event is made from.
    pub event: Event,
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub status: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub at: Timestamp,
    /// The new state; when `Pending`, the next attempt is at `next_attempt_at`.
    pub state: DeliveryState,
    pub next_attempt_at: Timestamp,
}

/// A `webhooks` row as both drivers read it: id, environment_id, url, events, created_at.
pub(crate) type WebhookRow = (String, String, String, String, i64);

pub(crate) fn webhook_from_row(
    (id, environment_id, url, events, created_at): WebhookRow,
) -> Result<Webhook> {
    let events = if events == "*" {
        None
    } else {
        Some(
            serde_json::from_str(&events)
                .map_err(|e| StoreError::Corrupt(format!("webhook events: {e}")))?,
        )
    };
    Ok(Webhook {
        id,
        environment_id,
        url,
        events,
        created_at: timestamp(created_at)?,
    })
}

/// A `deliveries` row as both drivers read it.
#[derive(Debug)]
pub(crate) struct DeliveryRow {
    pub seq: i64,
    pub id: String,
    pub event_seq: i64,
    pub event_id: String,
    pub event_type: String,
    pub webhook_id: String,
    pub integration_id: Option<String>,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub first_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_latency_ms: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    pub created_at: i64,
}

impl DeliveryRow {
    pub(crate) fn into_delivery(self) -> Result<Delivery> {
        let state = DeliveryState::parse(&self.state)
            .ok_or_else(|| StoreError::Corrupt(format!("delivery state `{}`", self.state)))?;
        Ok(Delivery {
            seq: self.seq,
            id: self.id,
            event_seq: self.event_seq,
            event_id: self.event_id,
            event_type: self.event_type,
            webhook_id: self.webhook_id,
            integration_id: self.integration_id,
            state,
            attempts: self.attempts,
            next_attempt_at: timestamp(self.next_attempt_at)?,
            first_attempt_at: opt_timestamp(self.first_attempt_at)?,
            last_status: self.last_status,
            last_latency_ms: self.last_latency_ms,
            last_error: self.last_error,
            delivered_at: opt_timestamp(self.delivered_at)?,
            created_at: timestamp(self.created_at)?,
        })
    }
}

/// A delivery just claimed, as read after the claim: its row, its webhook's URL and sealed
/// secret, and its outbox event (`None` if that is gone).
#[derive(Debug)]
pub(crate) struct ClaimRow {
    pub delivery: DeliveryRow,
    pub url: String,
    pub secret_sealed: String,
    pub event: Option<Event>,
}

/// The id of a new delivery.
pub(crate) fn delivery_id() -> String {
    random_id("dlv")
}

/// An attempt's values as written: state, at, status, latency, error, next attempt,
/// delivered at.
#[derive(Debug, Clone)]
pub(crate) struct AttemptRow {
    pub state: &'static str,
    pub at: i64,
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
}

impl Store {
    /// Subscribes `url` to `events` (`None`: all) in `environment_id`; the secret is kept
    /// encrypted.
    pub async fn create_webhook(
        &self,
        environment_id: &str,
        url: &str,
        events: Option<&[String]>,
        secret: &str,
        now: Timestamp,
    ) -> Result<Webhook> {
        let id = random_id("whk");
        let events_text = match events {
            None => "*".to_owned(),
            Some(list) => {
                serde_json::to_string(list).map_err(|e| StoreError::Corrupt(e.to_string()))?
            }
        };
        let sealed = self.keys.encrypt(secret.as_bytes())?;
        let row: WebhookRow = (
            id,
            environment_id.to_owned(),
            url.to_owned(),
            events_text,
            millis(now),
        );
        match &self.db {
            Db::Sqlite(s) => {
                let row = row.clone();
                s.write("creating a webhook", move |tx| {
                    sqlite::webhooks::insert(tx, &row, &sealed)
                })
                .await?;
            }
            Db::Postgres(p) => pg::webhooks::insert(p, &row, &sealed).await?,
        }
        let (id, environment_id, url, _, _) = row;
        Ok(Webhook {
            id,
            environment_id,
            url,
            events: events.map(<[String]>::to_vec),
            created_at: now,
        })
    }

    /// The active webhooks of an environment, oldest first.
    pub async fn webhooks(&self, environment_id: &str) -> Result<Vec<Webhook>> {
        match &self.db {
            Db::Sqlite(s) => {
                let environment_id = environment_id.to_owned();
                s.read("listing webhooks", move |tx| {
                    sqlite::webhooks::active(tx, &environment_id, "listing webhooks")
                })
                .await
            }
            Db::Postgres(p) => pg::webhooks::active(p, environment_id).await,
        }
    }

    /// An active webhook of an environment.
    pub async fn webhook(&self, environment_id: &str, id: &str) -> Result<Option<Webhook>> {
        match &self.db {
            Db::Sqlite(s) => {
                let (environment_id, id) = (environment_id.to_owned(), id.to_owned());
                s.read("reading a webhook", move |tx| {
                    sqlite::webhooks::one(tx, &environment_id, &id)
                })
                .await
            }
            Db::Postgres(p) => pg::webhooks::one(p, environment_id, id).await,
        }
    }

    /// Removes a webhook: it gets no new deliveries, and its pending ones fail.
    pub async fn remove_webhook(
        &self,
        environment_id: &str,
        id: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let now = millis(now);
        match &self.db {
            Db::Sqlite(s) => {
                let (environment_id, id) = (environment_id.to_owned(), id.to_owned());
                s.write("removing a webhook", move |tx| {
                    sqlite::webhooks::remove(tx, &environment_id, &id, now)
                })
                .await
            }
            Db::Postgres(p) => pg::webhooks::remove(p, environment_id, id, now).await,
        }
    }

    /// Replaces a webhook's secret.
    pub async fn set_webhook_secret(
        &self,
        environment_id: &str,
        id: &str,
        secret: &str,
    ) -> Result<bool> {
        let sealed = self.keys.encrypt(secret.as_bytes())?;
        match &self.db {
            Db::Sqlite(s) => {
                let (environment_id, id) = (environment_id.to_owned(), id.to_owned());
                s.write("rotating a webhook secret", move |tx| {
                    sqlite::webhooks::set_secret(tx, &environment_id, &id, &sealed)
                })
                .await
            }
            Db::Postgres(p) => pg::webhooks::set_secret(p, environment_id, id, &sealed).await,
        }
    }

    /// The deliveries of a webhook, newest first.
    pub async fn deliveries(&self, webhook_id: &str, limit: i64) -> Result<Vec<Delivery>> {
        let rows = match &self.db {
            Db::Sqlite(s) => {
                let webhook_id = webhook_id.to_owned();
                s.read("reading deliveries", move |tx| {
                    sqlite::webhooks::deliveries(tx, &webhook_id, limit)
                })
                .await?
            }
            Db::Postgres(p) => pg::webhooks::deliveries(p, webhook_id, limit).await?,
        };
        rows.into_iter().map(DeliveryRow::into_delivery).collect()
    }

    /// Claims up to `limit` due deliveries for `owner` until `lease_until`: pending, due, not
    /// leased by anyone else, of an active webhook, and the oldest undelivered one of their
    /// integration and webhook.
    pub async fn claim_deliveries(
        &self,
        owner: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>> {
        let (now, lease_until) = (millis(now), millis(lease_until));
        let candidates = match &self.db {
            Db::Sqlite(s) => {
                s.read("finding due deliveries", move |tx| {
                    sqlite::webhooks::due(tx, now, limit)
                })
                .await?
            }
            Db::Postgres(p) => pg::webhooks::due(p, now, limit).await?,
        };
        let mut claimed = Vec::new();
        // One claim at a time, each a conditional UPDATE of its own: another node may claim
        // any of the candidates meanwhile, and then this one skips it.
        for seq in candidates {
            let row = match &self.db {
                Db::Sqlite(s) => {
                    let owner = owner.to_owned();
                    s.write("claiming a delivery", move |tx| {
                        sqlite::webhooks::claim(tx, seq, &owner, now, lease_until)
                    })
                    .await?
                }
                Db::Postgres(p) => pg::webhooks::claim(p, seq, owner, now, lease_until).await?,
            };
            let Some(row) = row else {
                continue;
            };
            let delivery = row.delivery.into_delivery()?;
            let secret = String::from_utf8(self.keys.decrypt(&row.secret_sealed)?)
                .map_err(|_| StoreError::Corrupt("a webhook secret is not UTF-8".into()))?;
            let event = row.event.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "event {} of a delivery is gone",
                    delivery.event_seq
                ))
            })?;
            claimed.push(ClaimedDelivery {
                delivery,
                url: row.url,
                secret,
                event,
            });
        }
        Ok(claimed)
    }

    /// Records an attempt of a delivery `owner` holds and releases the lease. Returns false
    /// when the lease was lost meanwhile (nothing is written then).
    pub async fn record_attempt(&self, seq: i64, owner: &str, attempt: &Attempt) -> Result<bool> {
        let row = AttemptRow {
            state: attempt.state.as_str(),
            at: millis(attempt.at),
            status: attempt.status.map(i64::from),
            latency_ms: attempt.latency_ms,
            error: attempt.error.clone(),
            next_attempt_at: millis(attempt.next_attempt_at),
            delivered_at: (attempt.state == DeliveryState::Delivered).then(|| millis(attempt.at)),
        };
        match &self.db {
            Db::Sqlite(s) => {
                let owner = owner.to_owned();
                s.write("recording a delivery attempt", move |tx| {
                    sqlite::webhooks::record_attempt(tx, seq, &owner, &row)
                })
                .await
            }
            Db::Postgres(p) => pg::webhooks::record_attempt(p, seq, owner, &row).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_base64url() {
        let s = generate_secret();
        assert_eq!(s.len(), 43);
        assert!(!s.contains('=') && !s.contains('+') && !s.contains('/'));
        assert_ne!(s, generate_secret());
    }
}
