//! Webhook subscriptions and their deliveries.
//!
//! When an event is written to the outbox (`enqueue_event`), the same transaction creates one
//! delivery per webhook event it becomes (`webhook_types`) and per subscription of its
//! environment that wants that type. Deliverers claim due deliveries with a lease, one
//! conditional UPDATE per delivery, so with several nodes sharing a database each delivery
//! is sent by one node at a time; a delivery is only claimed when no older undelivered one
//! of the same integration and webhook exists (in order per integration).

use atsbridge_model::Timestamp;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row as _;

use crate::events::Event;
use crate::{db, millis, opt_timestamp, timestamp, Result, Store, StoreError};

/// The webhook event types atsbridge sends.
pub const EVENT_TYPES: &[&str] = &[
    "data-changed",
    "sync-finished",
    "integration-created",
    "integration-deleted",
    "integration-state-changed",
    "connection-flow-failed",
];

/// The webhook events an outbox event becomes, in sending order: a `sync-finished` outbox
/// event (written once per run, with the models it changed) is a `data-changed` webhook when
/// it changed something, then a `sync-finished` webhook; every other known type is itself.
pub fn webhook_types(kind: &str, payload: &Value) -> Vec<&'static str> {
    if kind == "sync-finished" {
        let changed = payload
            .get("changed_models")
            .and_then(Value::as_array)
            .is_some_and(|m| !m.is_empty());
        return if changed {
            vec!["data-changed", "sync-finished"]
        } else {
            vec!["sync-finished"]
        };
    }
    EVENT_TYPES.iter().copied().filter(|t| *t == kind).collect()
}

/// The id of webhook event `ty` made from outbox event `outbox_id` (of type `outbox_kind`):
/// the outbox id itself when the types match, else derived from both, so every retry of a
/// delivery carries the same id.
pub fn webhook_event_id(outbox_id: &str, outbox_kind: &str, ty: &str) -> String {
    if ty == outbox_kind {
        return outbox_id.to_owned();
    }
    let digest = Sha256::digest(format!("{outbox_id}\n{ty}").as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("evt_{hex}")
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

const DELIVERY_COLUMNS: &str = "d.seq, d.id, d.event_seq, d.event_id, d.event_type, d.webhook_id, d.integration_id, d.state, d.attempts, d.next_attempt_at, d.first_attempt_at, d.last_status, d.last_latency_ms, d.last_error, d.delivered_at, d.created_at";

fn delivery_from_row(r: &AnyRow) -> Result<Delivery> {
    let e = |e| db("reading a delivery")(e);
    let state: String = r.try_get("state").map_err(e)?;
    Ok(Delivery {
        seq: r.try_get("seq").map_err(e)?,
        id: r.try_get("id").map_err(e)?,
        event_seq: r.try_get("event_seq").map_err(e)?,
        event_id: r.try_get("event_id").map_err(e)?,
        event_type: r.try_get("event_type").map_err(e)?,
        webhook_id: r.try_get("webhook_id").map_err(e)?,
        integration_id: r.try_get("integration_id").map_err(e)?,
        state: DeliveryState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("delivery state `{state}`")))?,
        attempts: r.try_get("attempts").map_err(e)?,
        next_attempt_at: timestamp(r.try_get("next_attempt_at").map_err(e)?)?,
        first_attempt_at: opt_timestamp(r.try_get("first_attempt_at").map_err(e)?)?,
        last_status: r.try_get("last_status").map_err(e)?,
        last_latency_ms: r.try_get("last_latency_ms").map_err(e)?,
        last_error: r.try_get("last_error").map_err(e)?,
        delivered_at: opt_timestamp(r.try_get("delivered_at").map_err(e)?)?,
        created_at: timestamp(r.try_get("created_at").map_err(e)?)?,
    })
}

fn webhook_from_row(r: &AnyRow) -> Result<Webhook> {
    let e = |e| db("reading a webhook")(e);
    let events: String = r.try_get("events").map_err(e)?;
    let events = if events == "*" {
        None
    } else {
        Some(
            serde_json::from_str(&events)
                .map_err(|e| StoreError::Corrupt(format!("webhook events: {e}")))?,
        )
    };
    Ok(Webhook {
        id: r.try_get("id").map_err(e)?,
        environment_id: r.try_get("environment_id").map_err(e)?,
        url: r.try_get("url").map_err(e)?,
        events,
        created_at: timestamp(r.try_get("created_at").map_err(e)?)?,
    })
}

const WEBHOOK_COLUMNS: &str = "id, environment_id, url, events, created_at";

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
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO webhooks (id, environment_id, url, events, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(environment_id)
            .bind(url)
            .bind(events_text)
            .bind(sealed)
            .bind(millis(now))
            .execute(&self.pool)
            .await
            .map_err(db("creating a webhook"))?;
        Ok(Webhook {
            id,
            environment_id: environment_id.to_owned(),
            url: url.to_owned(),
            events: events.map(<[String]>::to_vec),
            created_at: now,
        })
    }

    /// The active webhooks of an environment, oldest first.
    pub async fn webhooks(&self, environment_id: &str) -> Result<Vec<Webhook>> {
        let rows = sqlx::query(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE environment_id = $1 AND disabled_at IS NULL ORDER BY created_at, id"))
            .bind(environment_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db("listing webhooks"))?;
        rows.iter().map(webhook_from_row).collect()
    }

    /// An active webhook of an environment.
    pub async fn webhook(&self, environment_id: &str, id: &str) -> Result<Option<Webhook>> {
        let row = sqlx::query(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE environment_id = $1 AND id = $2 AND disabled_at IS NULL"))
            .bind(environment_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading a webhook"))?;
        row.as_ref().map(webhook_from_row).transpose()
    }

    /// Removes a webhook: it gets no new deliveries, and its pending ones fail.
    pub async fn remove_webhook(
        &self,
        environment_id: &str,
        id: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let (mut tx, _turn) = self.begin_write("removing a webhook").await?;
        let done = sqlx::query("UPDATE webhooks SET disabled_at = $1 WHERE environment_id = $2 AND id = $3 AND disabled_at IS NULL")
            .bind(millis(now))
            .bind(environment_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db("removing a webhook"))?;
        sqlx::query("UPDATE deliveries SET state = 'FAILED', last_error = 'the webhook was removed', lease_owner = NULL, lease_expires_at = NULL WHERE webhook_id = $1 AND state = 'PENDING'")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db("removing a webhook"))?;
        tx.commit().await.map_err(db("removing a webhook"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Replaces a webhook's secret.
    pub async fn set_webhook_secret(
        &self,
        environment_id: &str,
        id: &str,
        secret: &str,
    ) -> Result<bool> {
        let sealed = self.keys.encrypt(secret.as_bytes())?;
        let _turn = self.write_turn().await;
        let done = sqlx::query("UPDATE webhooks SET secret_sealed = $1 WHERE environment_id = $2 AND id = $3 AND disabled_at IS NULL")
            .bind(sealed)
            .bind(environment_id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("rotating a webhook secret"))?;
        Ok(done.rows_affected() > 0)
    }

    /// The deliveries of a webhook, newest first.
    pub async fn deliveries(&self, webhook_id: &str, limit: i64) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.webhook_id = $1 ORDER BY d.seq DESC LIMIT $2"
        ))
        .bind(webhook_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db("reading deliveries"))?;
        rows.iter().map(delivery_from_row).collect()
    }

    /// Creates the deliveries of a new outbox event, inside its transaction.
    pub(crate) async fn fan_out(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        event: &Event,
        environment_id: &str,
    ) -> Result<()> {
        let types = webhook_types(&event.kind, &event.payload);
        if types.is_empty() {
            return Ok(());
        }
        let rows = sqlx::query(&format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE environment_id = $1 AND disabled_at IS NULL ORDER BY created_at, id"))
            .bind(environment_id)
            .fetch_all(&mut **tx)
            .await
            .map_err(db("fanning out an event"))?;
        let hooks = rows
            .iter()
            .map(webhook_from_row)
            .collect::<Result<Vec<_>>>()?;
        for ty in types {
            for hook in hooks.iter().filter(|h| h.wants(ty)) {
                sqlx::query("INSERT INTO deliveries (id, event_seq, event_id, event_type, webhook_id, integration_id, state, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', 0, $7, $8) ON CONFLICT (event_seq, event_type, webhook_id) DO NOTHING")
                    .bind(random_id("dlv"))
                    .bind(event.seq)
                    .bind(webhook_event_id(&event.id, &event.kind, ty))
                    .bind(ty)
                    .bind(&hook.id)
                    .bind(&event.integration_id)
                    .bind(millis(event.created_at))
                    .bind(millis(event.created_at))
                    .execute(&mut **tx)
                    .await
                    .map_err(db("fanning out an event"))?;
            }
        }
        Ok(())
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
        let candidates: Vec<i64> = sqlx::query_scalar(
            "SELECT d.seq FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
             WHERE d.state = 'PENDING' AND d.next_attempt_at <= $1 \
               AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $2) \
               AND w.disabled_at IS NULL \
               AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.webhook_id = d.webhook_id \
                   AND o.integration_id = d.integration_id AND o.state = 'PENDING' AND o.seq < d.seq) \
             ORDER BY d.seq LIMIT $3",
        )
        .bind(millis(now))
        .bind(millis(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db("finding due deliveries"))?;
        let mut claimed = Vec::new();
        for seq in candidates {
            let _turn = self.write_turn().await;
            let done = sqlx::query("UPDATE deliveries SET lease_owner = $1, lease_expires_at = $2 WHERE seq = $3 AND state = 'PENDING' AND (lease_expires_at IS NULL OR lease_expires_at <= $4)")
                .bind(owner)
                .bind(millis(lease_until))
                .bind(seq)
                .bind(millis(now))
                .execute(&self.pool)
                .await
                .map_err(db("claiming a delivery"))?;
            if done.rows_affected() == 0 {
                continue;
            }
            let row = sqlx::query(&format!(
                "SELECT {DELIVERY_COLUMNS}, w.url, w.secret_sealed FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.seq = $1"
            ))
            .bind(seq)
            .fetch_one(&self.pool)
            .await
            .map_err(db("reading a claimed delivery"))?;
            let delivery = delivery_from_row(&row)?;
            let url: String = row.try_get("url").map_err(db("reading a webhook"))?;
            let sealed: String = row
                .try_get("secret_sealed")
                .map_err(db("reading a webhook"))?;
            let secret = String::from_utf8(self.keys.decrypt(&sealed)?)
                .map_err(|_| StoreError::Corrupt("a webhook secret is not UTF-8".into()))?;
            let event = self.event(delivery.event_seq).await?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "event {} of a delivery is gone",
                    delivery.event_seq
                ))
            })?;
            claimed.push(ClaimedDelivery {
                delivery,
                url,
                secret,
                event,
            });
        }
        Ok(claimed)
    }

    /// Records an attempt of a delivery `owner` holds and releases the lease. Returns false
    /// when the lease was lost meanwhile (nothing is written then).
    pub async fn record_attempt(&self, seq: i64, owner: &str, attempt: &Attempt) -> Result<bool> {
        let delivered_at = (attempt.state == DeliveryState::Delivered).then(|| millis(attempt.at));
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE deliveries SET state = $1, attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, $2), \
             last_status = $3, last_latency_ms = $4, last_error = $5, next_attempt_at = $6, delivered_at = $7, \
             lease_owner = NULL, lease_expires_at = NULL WHERE seq = $8 AND lease_owner = $9 AND state = 'PENDING'",
        )
        .bind(attempt.state.as_str())
        .bind(millis(attempt.at))
        .bind(attempt.status.map(i64::from))
        .bind(attempt.latency_ms)
        .bind(&attempt.error)
        .bind(millis(attempt.next_attempt_at))
        .bind(delivered_at)
        .bind(seq)
        .bind(owner)
        .execute(&self.pool)
        .await
        .map_err(db("recording a delivery attempt"))?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sync_finished_becomes_data_changed_only_with_changes() {
        assert_eq!(
            webhook_types("sync-finished", &json!({"changed_models": ["ats_jobs"]})),
            ["data-changed", "sync-finished"]
        );
        assert_eq!(
            webhook_types("sync-finished", &json!({"changed_models": []})),
            ["sync-finished"]
        );
        assert_eq!(
            webhook_types("integration-deleted", &json!({})),
            ["integration-deleted"]
        );
        assert!(webhook_types("something-else", &json!({})).is_empty());
    }

    #[test]
    fn webhook_event_ids_are_stable_and_distinct() {
        let a = webhook_event_id("evt_1", "sync-finished", "data-changed");
        assert_eq!(
            a,
            webhook_event_id("evt_1", "sync-finished", "data-changed")
        );
        assert_ne!(a, "evt_1");
        assert_eq!(
            webhook_event_id("evt_1", "sync-finished", "sync-finished"),
            "evt_1"
        );
        assert_ne!(
            a,
            webhook_event_id("evt_2", "sync-finished", "data-changed")
        );
    }

    #[test]
    fn secrets_are_random_base64url() {
        let s = generate_secret();
        assert_eq!(s.len(), 43);
        assert!(!s.contains('=') && !s.contains('+') && !s.contains('/'));
        assert_ne!(s, generate_secret());
    }
}
