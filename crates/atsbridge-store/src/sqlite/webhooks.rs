//! `webhooks` and `deliveries` on SQLite.

use rusqlite::{params, OptionalExtension as _, Row, Transaction};

use super::sq;
use crate::events::NewEvent;
use crate::webhooks::{
    delivery_id, outbox_webhook_id, webhook_from_row, AttemptRow, ClaimRow, DeliveryRow, Webhook,
    WebhookRow,
};
use crate::{millis, Result};

fn webhook_row(r: &Row<'_>) -> rusqlite::Result<WebhookRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

/// The columns `delivery_row` reads, in its order.
pub(crate) const DELIVERY_COLUMNS: &str = "d.seq, d.id, d.event_seq, d.event_id, d.event_type, d.webhook_id, d.integration_id, d.state, d.attempts, d.next_attempt_at, d.first_attempt_at, d.last_status, d.last_latency_ms, d.last_error, d.delivered_at, d.created_at";

pub(crate) fn delivery_row(r: &Row<'_>) -> rusqlite::Result<DeliveryRow> {
    Ok(DeliveryRow {
        seq: r.get(0)?,
        id: r.get(1)?,
        event_seq: r.get(2)?,
        event_id: r.get(3)?,
        event_type: r.get(4)?,
        webhook_id: r.get(5)?,
        integration_id: r.get(6)?,
        state: r.get(7)?,
        attempts: r.get(8)?,
        next_attempt_at: r.get(9)?,
        first_attempt_at: r.get(10)?,
        last_status: r.get(11)?,
        last_latency_ms: r.get(12)?,
        last_error: r.get(13)?,
        delivered_at: r.get(14)?,
        created_at: r.get(15)?,
    })
}

pub(crate) fn insert(tx: &Transaction<'_>, row: &WebhookRow, sealed: &str) -> Result<()> {
    let (id, environment_id, url, events, created_at) = row;
    tx.prepare_cached("INSERT INTO webhooks (id, environment_id, url, events, secret_sealed, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .and_then(|mut s| s.execute(params![id, environment_id, url, events, sealed, created_at]))
        .map_err(sq("creating a webhook"))?;
    Ok(())
}

/// The active webhooks of an environment, oldest first.
pub(crate) fn active(
    tx: &Transaction<'_>,
    environment_id: &str,
    operation: &'static str,
) -> Result<Vec<Webhook>> {
    let rows = tx
        .prepare_cached("SELECT id, environment_id, url, events, created_at FROM webhooks WHERE environment_id = ?1 AND disabled_at IS NULL ORDER BY created_at, id")
        .and_then(|mut s| {
            s.query_map([environment_id], webhook_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(sq(operation))?;
    rows.into_iter().map(webhook_from_row).collect()
}

pub(crate) fn one(tx: &Transaction<'_>, environment_id: &str, id: &str) -> Result<Option<Webhook>> {
    tx.prepare_cached("SELECT id, environment_id, url, events, created_at FROM webhooks WHERE environment_id = ?1 AND id = ?2 AND disabled_at IS NULL")
        .and_then(|mut s| s.query_row([environment_id, id], webhook_row).optional())
        .map_err(sq("reading a webhook"))?
        .map(webhook_from_row)
        .transpose()
}

/// Disables a webhook and fails its pending deliveries; false if it was not active.
pub(crate) fn remove(
    tx: &Transaction<'_>,
    environment_id: &str,
    id: &str,
    now: i64,
) -> Result<bool> {
    let removed = tx
        .prepare_cached("UPDATE webhooks SET disabled_at = ?1 WHERE environment_id = ?2 AND id = ?3 AND disabled_at IS NULL")
        .and_then(|mut s| s.execute(params![now, environment_id, id]))
        .map_err(sq("removing a webhook"))?;
    tx.prepare_cached("UPDATE deliveries SET state = 'FAILED', last_error = 'the webhook was removed', lease_owner = NULL, lease_expires_at = NULL WHERE webhook_id = ?1 AND state = 'PENDING'")
        .and_then(|mut s| s.execute([id]))
        .map_err(sq("removing a webhook"))?;
    Ok(removed > 0)
}

pub(crate) fn set_secret(
    tx: &Transaction<'_>,
    environment_id: &str,
    id: &str,
    sealed: &str,
) -> Result<bool> {
    let n = tx
        .prepare_cached("UPDATE webhooks SET secret_sealed = ?1 WHERE environment_id = ?2 AND id = ?3 AND disabled_at IS NULL")
        .and_then(|mut s| s.execute([sealed, environment_id, id]))
        .map_err(sq("rotating a webhook secret"))?;
    Ok(n > 0)
}

/// The deliveries of a webhook, newest first.
pub(crate) fn deliveries(
    tx: &Transaction<'_>,
    webhook_id: &str,
    limit: i64,
) -> Result<Vec<DeliveryRow>> {
    tx.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.webhook_id = ?1 ORDER BY d.seq DESC LIMIT ?2"
    ))
    .and_then(|mut s| {
        s.query_map(params![webhook_id, limit], delivery_row)?
            .collect()
    })
    .map_err(sq("reading deliveries"))
}

/// Inside a write: creates the deliveries of a new outbox event.
pub(crate) fn fan_out(
    tx: &Transaction<'_>,
    seq: i64,
    event: &NewEvent,
    environment_id: &str,
) -> Result<()> {
    let types = event.event.webhook_types();
    if types.is_empty() {
        return Ok(());
    }
    let hooks = active(tx, environment_id, "fanning out an event")?;
    let mut insert = tx
        .prepare_cached("INSERT INTO deliveries (id, event_seq, event_id, event_type, webhook_id, integration_id, state, attempts, next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'PENDING', 0, ?7, ?7) ON CONFLICT (event_seq, event_type, webhook_id) DO NOTHING")
        .map_err(sq("fanning out an event"))?;
    for ty in types {
        for hook in hooks.iter().filter(|h| h.wants(ty)) {
            insert
                .execute(params![
                    delivery_id(),
                    seq,
                    outbox_webhook_id(event, ty),
                    ty,
                    hook.id,
                    event.integration_id,
                    millis(event.created_at)
                ])
                .map_err(sq("fanning out an event"))?;
        }
    }
    Ok(())
}

/// The deliveries to try to claim at `now`, oldest first: pending, due, not leased, of an
/// active webhook, and the oldest undelivered one of their integration and webhook.
pub(crate) fn due(tx: &Transaction<'_>, now: i64, limit: i64) -> Result<Vec<i64>> {
    tx.prepare_cached(
        "SELECT d.seq FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         WHERE d.state = 'PENDING' AND d.next_attempt_at <= ?1 \
           AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ?1) \
           AND w.disabled_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.webhook_id = d.webhook_id \
               AND o.integration_id = d.integration_id AND o.state = 'PENDING' AND o.seq < d.seq) \
         ORDER BY d.seq LIMIT ?2",
    )
    .and_then(|mut s| s.query_map([now, limit], |r| r.get(0))?.collect())
    .map_err(sq("finding due deliveries"))
}

/// Inside a write: leases delivery `seq` to `owner` if it is still pending and unleased at
/// `now`, and reads what sending it needs; `None` if someone else has it.
pub(crate) fn claim(
    tx: &Transaction<'_>,
    seq: i64,
    owner: &str,
    now: i64,
    lease_until: i64,
) -> Result<Option<ClaimRow>> {
    let claimed = tx
        .prepare_cached("UPDATE deliveries SET lease_owner = ?1, lease_expires_at = ?2 WHERE seq = ?3 AND state = 'PENDING' AND (lease_expires_at IS NULL OR lease_expires_at <= ?4)")
        .and_then(|mut s| s.execute(params![owner, lease_until, seq, now]))
        .map_err(sq("claiming a delivery"))?;
    if claimed == 0 {
        return Ok(None);
    }
    let (delivery, url, secret_sealed) = tx
        .prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS}, w.url, w.secret_sealed FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.seq = ?1"
        ))
        .and_then(|mut s| {
            s.query_row([seq], |r| Ok((delivery_row(r)?, r.get(16)?, r.get(17)?)))
        })
        .map_err(sq("reading a claimed delivery"))?;
    let event = super::events::by_seq(tx, delivery.event_seq)?;
    Ok(Some(ClaimRow {
        delivery,
        url,
        secret_sealed,
        event,
    }))
}

/// Records an attempt of a delivery `owner` holds and releases the lease; false (nothing
/// written) when the lease was lost.
pub(crate) fn record_attempt(
    tx: &Transaction<'_>,
    seq: i64,
    owner: &str,
    attempt: &AttemptRow,
) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "UPDATE deliveries SET state = ?1, attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, ?2), \
             last_status = ?3, last_latency_ms = ?4, last_error = ?5, next_attempt_at = ?6, delivered_at = ?7, \
             lease_owner = NULL, lease_expires_at = NULL WHERE seq = ?8 AND lease_owner = ?9 AND state = 'PENDING'",
        )
        .and_then(|mut s| {
            s.execute(params![
                attempt.state,
                attempt.at,
                attempt.status,
                attempt.latency_ms,
                attempt.error,
                attempt.next_attempt_at,
                attempt.delivered_at,
                seq,
                owner
            ])
        })
        .map_err(sq("recording a delivery attempt"))?;
    if n == 0 {
        return Ok(false);
    }
    tx.prepare_cached(
        "INSERT INTO delivery_attempts (delivery_seq, attempt, at, status, latency_ms, error) \
         SELECT seq, attempts, ?2, ?3, ?4, ?5 FROM deliveries WHERE seq = ?1",
    )
    .and_then(|mut s| {
        s.execute(params![
            seq,
            attempt.at,
            attempt.status,
            attempt.latency_ms,
            attempt.error
        ])
    })
    .map_err(sq("recording a delivery attempt"))?;
    Ok(true)
}
