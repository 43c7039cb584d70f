//! `webhooks` and `deliveries` on PostgreSQL.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row as _, Transaction};

use crate::events::NewEvent;
use crate::webhooks::{
    delivery_id, outbox_webhook_id, webhook_from_row, AttemptRow, ClaimRow, DeliveryRow, Webhook,
    WebhookRow,
};
use crate::{db, millis, Result};

/// The columns `delivery_row` reads, in its order.
pub(crate) const DELIVERY_COLUMNS: &str = "d.seq, d.id, d.event_seq, d.event_id, d.event_type, d.webhook_id, d.integration_id, d.state, d.attempts, d.next_attempt_at, d.first_attempt_at, d.last_status, d.last_latency_ms, d.last_error, d.delivered_at, d.created_at";

pub(crate) fn delivery_row(r: &PgRow) -> sqlx::Result<DeliveryRow> {
    Ok(DeliveryRow {
        seq: r.try_get(0)?,
        id: r.try_get(1)?,
        event_seq: r.try_get(2)?,
        event_id: r.try_get(3)?,
        event_type: r.try_get(4)?,
        webhook_id: r.try_get(5)?,
        integration_id: r.try_get(6)?,
        state: r.try_get(7)?,
        attempts: r.try_get(8)?,
        next_attempt_at: r.try_get(9)?,
        first_attempt_at: r.try_get(10)?,
        last_status: r.try_get(11)?,
        last_latency_ms: r.try_get(12)?,
        last_error: r.try_get(13)?,
        delivered_at: r.try_get(14)?,
        created_at: r.try_get(15)?,
    })
}

pub(crate) async fn insert(pool: &PgPool, row: &WebhookRow, sealed: &str) -> Result<()> {
    let (id, environment_id, url, events, created_at) = row;
    sqlx::query("INSERT INTO webhooks (id, environment_id, url, events, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(environment_id)
        .bind(url)
        .bind(events)
        .bind(sealed)
        .bind(created_at)
        .execute(pool)
        .await
        .map_err(db("creating a webhook"))?;
    Ok(())
}

/// The active webhooks of an environment, oldest first.
pub(crate) async fn active(pool: &PgPool, environment_id: &str) -> Result<Vec<Webhook>> {
    let rows: Vec<WebhookRow> = sqlx::query_as("SELECT id, environment_id, url, events, created_at FROM webhooks WHERE environment_id = $1 AND disabled_at IS NULL ORDER BY created_at, id")
        .bind(environment_id)
        .fetch_all(pool)
        .await
        .map_err(db("listing webhooks"))?;
    rows.into_iter().map(webhook_from_row).collect()
}

pub(crate) async fn one(pool: &PgPool, environment_id: &str, id: &str) -> Result<Option<Webhook>> {
    let row: Option<WebhookRow> = sqlx::query_as("SELECT id, environment_id, url, events, created_at FROM webhooks WHERE environment_id = $1 AND id = $2 AND disabled_at IS NULL")
        .bind(environment_id)
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db("reading a webhook"))?;
    row.map(webhook_from_row).transpose()
}

/// Disables a webhook and fails its pending deliveries, in one transaction; false if it was
/// not active.
pub(crate) async fn remove(
    pool: &PgPool,
    environment_id: &str,
    id: &str,
    now: i64,
) -> Result<bool> {
    let mut tx = pool.begin().await.map_err(db("removing a webhook"))?;
    let done = sqlx::query("UPDATE webhooks SET disabled_at = $1 WHERE environment_id = $2 AND id = $3 AND disabled_at IS NULL")
        .bind(now)
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

pub(crate) async fn set_secret(
    pool: &PgPool,
    environment_id: &str,
    id: &str,
    sealed: &str,
) -> Result<bool> {
    let done = sqlx::query("UPDATE webhooks SET secret_sealed = $1 WHERE environment_id = $2 AND id = $3 AND disabled_at IS NULL")
        .bind(sealed)
        .bind(environment_id)
        .bind(id)
        .execute(pool)
        .await
        .map_err(db("rotating a webhook secret"))?;
    Ok(done.rows_affected() > 0)
}

/// The deliveries of a webhook, newest first.
pub(crate) async fn deliveries(
    pool: &PgPool,
    webhook_id: &str,
    limit: i64,
) -> Result<Vec<DeliveryRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE d.webhook_id = $1 ORDER BY d.seq DESC LIMIT $2"
    ))
    .bind(webhook_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(db("reading deliveries"))?;
    rows.iter()
        .map(|r| delivery_row(r).map_err(db("reading a delivery")))
        .collect()
}

/// Inside `tx`: creates the deliveries of a new outbox event.
pub(crate) async fn fan_out(
    tx: &mut Transaction<'static, Postgres>,
    seq: i64,
    event: &NewEvent,
    environment_id: &str,
) -> Result<()> {
    let types = event.event.webhook_types();
    if types.is_empty() {
        return Ok(());
    }
    let rows: Vec<WebhookRow> = sqlx::query_as("SELECT id, environment_id, url, events, created_at FROM webhooks WHERE environment_id = $1 AND disabled_at IS NULL ORDER BY created_at, id")
        .bind(environment_id)
        .fetch_all(&mut **tx)
        .await
        .map_err(db("fanning out an event"))?;
    let hooks = rows
        .into_iter()
        .map(webhook_from_row)
        .collect::<Result<Vec<_>>>()?;
    for ty in types {
        for hook in hooks.iter().filter(|h| h.wants(ty)) {
            sqlx::query("INSERT INTO deliveries (id, event_seq, event_id, event_type, webhook_id, integration_id, state, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', 0, $7, $7) ON CONFLICT (event_seq, event_type, webhook_id) DO NOTHING")
                .bind(delivery_id())
                .bind(seq)
                .bind(outbox_webhook_id(event, ty))
                .bind(*ty)
                .bind(&hook.id)
                .bind(&event.integration_id)
                .bind(millis(event.created_at))
                .execute(&mut **tx)
                .await
                .map_err(db("fanning out an event"))?;
        }
    }
    Ok(())
}

/// The deliveries to try to claim at `now`, oldest first: pending, due, not leased, of an
/// active webhook, and the oldest undelivered one of their integration and webhook.
pub(crate) async fn due(pool: &PgPool, now: i64, limit: i64) -> Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT d.seq FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         WHERE d.state = 'PENDING' AND d.next_attempt_at <= $1 \
           AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1) \
           AND w.disabled_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.webhook_id = d.webhook_id \
               AND o.integration_id = d.integration_id AND o.state = 'PENDING' AND o.seq < d.seq) \
         ORDER BY d.seq LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(db("finding due deliveries"))
}

/// Leases delivery `seq` to `owner` if it is still pending and unleased at `now` (the
/// conditional UPDATE is what keeps two nodes from both claiming it), then reads what
/// sending it needs; `None` if someone else has it.
pub(crate) async fn claim(
    pool: &PgPool,
    seq: i64,
    owner: &str,
    now: i64,
    lease_until: i64,
) -> Result<Option<ClaimRow>> {
    let done = sqlx::query("UPDATE deliveries SET lease_owner = $1, lease_expires_at = $2 WHERE seq = $3 AND state = 'PENDING' AND (lease_expires_at IS NULL OR lease_expires_at <= $4)")
        .bind(owner)
        .bind(lease_until)
        .bind(seq)
        .bind(now)
        .execute(pool)
        .await
        .map_err(db("claiming a delivery"))?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let row = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS}, w.url, w.secret_sealed FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.seq = $1"
    ))
    .bind(seq)
    .fetch_one(pool)
    .await
    .map_err(db("reading a claimed delivery"))?;
    let delivery = delivery_row(&row).map_err(db("reading a delivery"))?;
    let url: String = row.try_get(16).map_err(db("reading a webhook"))?;
    let secret_sealed: String = row.try_get(17).map_err(db("reading a webhook"))?;
    let event = super::events::by_seq(pool, delivery.event_seq).await?;
    Ok(Some(ClaimRow {
        delivery,
        url,
        secret_sealed,
        event,
    }))
}

/// Records an attempt of a delivery `owner` holds and releases the lease; false (nothing
/// written) when the lease was lost.
pub(crate) async fn record_attempt(
    pool: &PgPool,
    seq: i64,
    owner: &str,
    attempt: &AttemptRow,
) -> Result<bool> {
    // One statement, so the attempt's row is written exactly when the delivery's is.
    let done = sqlx::query(
        "WITH d AS (UPDATE deliveries SET state = $1, attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, $2), \
         last_status = $3, last_latency_ms = $4, last_error = $5, next_attempt_at = $6, delivered_at = $7, \
         lease_owner = NULL, lease_expires_at = NULL WHERE seq = $8 AND lease_owner = $9 AND state = 'PENDING' \
         RETURNING seq, attempts) \
         INSERT INTO delivery_attempts (delivery_seq, attempt, at, status, latency_ms, error) \
         SELECT seq, attempts, $2, $3, $4, $5 FROM d",
    )
    .bind(attempt.state)
    .bind(attempt.at)
    .bind(attempt.status)
    .bind(attempt.latency_ms)
    .bind(&attempt.error)
    .bind(attempt.next_attempt_at)
    .bind(attempt.delivered_at)
    .bind(seq)
    .bind(owner)
    .execute(pool)
    .await
    .map_err(db("recording a delivery attempt"))?;
    Ok(done.rows_affected() > 0)
}
