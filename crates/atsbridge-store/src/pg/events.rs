//! `events` (the outbox) on PostgreSQL.

use sqlx::{PgPool, Postgres, Transaction};

use crate::events::{event_from_row, Event, EventRow, NewEvent};
use crate::{db, millis, Result};

/// Inside `tx`: writes `event` and its webhook deliveries, so they commit with the change it
/// announces. `environment_id` `None` looks it up from the integration.
pub(crate) async fn insert_event(
    tx: &mut Transaction<'static, Postgres>,
    environment_id: Option<&str>,
    event: &NewEvent,
) -> Result<()> {
    let environment_id = match (environment_id, &event.integration_id) {
        (Some(env), _) => Some(env.to_owned()),
        (None, Some(integration)) => {
            sqlx::query_scalar::<_, String>("SELECT environment_id FROM integrations WHERE id = $1")
                .bind(integration)
                .fetch_optional(&mut **tx)
                .await
                .map_err(db("writing an event"))?
        }
        (None, None) => None,
    };
    let seq: i64 = sqlx::query_scalar("INSERT INTO events (id, integration_id, type, payload, created_at, environment_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq")
        .bind(&event.id)
        .bind(&event.integration_id)
        .bind(event.kind())
        .bind(event.payload())
        .bind(millis(event.created_at))
        .bind(&environment_id)
        .fetch_one(&mut **tx)
        .await
        .map_err(db("writing an event"))?;
    if let Some(env) = &environment_id {
        super::webhooks::fan_out(tx, seq, event, env).await?;
    }
    Ok(())
}

pub(crate) async fn by_seq(pool: &PgPool, seq: i64) -> Result<Option<Event>> {
    let row: Option<EventRow> = sqlx::query_as(
        "SELECT seq, id, integration_id, type, payload, created_at FROM events WHERE seq = $1",
    )
    .bind(seq)
    .fetch_optional(pool)
    .await
    .map_err(db("reading an event"))?;
    row.map(event_from_row).transpose()
}

/// Events after `after_seq`, oldest first.
pub(crate) async fn after(pool: &PgPool, after_seq: i64, limit: i64) -> Result<Vec<Event>> {
    let rows: Vec<EventRow> = sqlx::query_as("SELECT seq, id, integration_id, type, payload, created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
        .bind(after_seq)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(db("reading events"))?;
    rows.into_iter().map(event_from_row).collect()
}
