//! The event outbox: events are written in the same store as the data they describe and
//! delivered later (webhooks), so none is lost when a process stops.

use atsbridge_model::Timestamp;
use serde_json::Value;
use sqlx::{Any, Transaction};

use crate::webhooks::{webhook_event_id, webhook_from_row, webhook_types, WebhookRow};
use crate::{db, millis, pg, sqlite, timestamp, Db, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub seq: i64,
    pub id: String,
    pub integration_id: Option<String>,
    pub kind: String,
    pub payload: Value,
    pub created_at: Timestamp,
}

/// An event to write, with what it changes (a run's end, a batch, an API write).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: String,
    pub integration_id: Option<String>,
    pub kind: String,
    pub payload: Value,
    pub created_at: Timestamp,
}

impl NewEvent {
    /// The event as written at `seq`, which the database chose.
    pub(crate) fn stored(&self, seq: i64) -> Event {
        Event {
            seq,
            id: self.id.clone(),
            integration_id: self.integration_id.clone(),
            kind: self.kind.clone(),
            payload: self.payload.clone(),
            created_at: self.created_at,
        }
    }
}

/// An `events` row as both drivers read it: seq, id, integration_id, type, payload,
/// created_at.
pub(crate) type EventRow = (i64, String, Option<String>, String, String, i64);

pub(crate) fn event_from_row(
    (seq, id, integration_id, kind, payload, created_at): EventRow,
) -> Result<Event> {
    Ok(Event {
        seq,
        id,
        integration_id,
        kind,
        payload: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_at: timestamp(created_at)?,
    })
}

/// Writes `event` and its webhook deliveries inside `tx` (of the generic pool), so it commits
/// with the change it announces. `environment_id` `None` looks it up from the integration.
/// For the writers still on the generic pool (records); the native drivers have their own
/// (`sqlite::events::insert_event`, `pg::events::insert_event`). Goes with its last caller.
pub(crate) async fn insert_event(
    tx: &mut Transaction<'static, Any>,
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
        .bind(&event.kind)
        .bind(event.payload.to_string())
        .bind(millis(event.created_at))
        .bind(&environment_id)
        .fetch_one(&mut **tx)
        .await
        .map_err(db("writing an event"))?;
    if let Some(env) = &environment_id {
        fan_out(tx, &event.stored(seq), env).await?;
    }
    Ok(())
}

/// Creates the deliveries of a new outbox event inside `tx` (of the generic pool).
async fn fan_out(
    tx: &mut Transaction<'static, Any>,
    event: &Event,
    environment_id: &str,
) -> Result<()> {
    let types = webhook_types(&event.kind, &event.payload);
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
            sqlx::query("INSERT INTO deliveries (id, event_seq, event_id, event_type, webhook_id, integration_id, state, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', 0, $7, $8) ON CONFLICT (event_seq, event_type, webhook_id) DO NOTHING")
                .bind(crate::webhooks::delivery_id())
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

impl Store {
    /// Writes an event of an integration's environment (looked up from the integration) and
    /// the webhook deliveries it leads to, in one transaction.
    pub async fn enqueue_event(
        &self,
        id: &str,
        integration_id: Option<&str>,
        kind: &str,
        payload: &Value,
        now: Timestamp,
    ) -> Result<()> {
        self.enqueue_event_in(None, id, integration_id, kind, payload, now)
            .await
    }

    /// Like `enqueue_event`, with the environment given (for events of integrations that no
    /// longer exist, such as `integration-deleted`); `None` looks it up.
    pub async fn enqueue_event_in(
        &self,
        environment_id: Option<&str>,
        id: &str,
        integration_id: Option<&str>,
        kind: &str,
        payload: &Value,
        now: Timestamp,
    ) -> Result<()> {
        let event = NewEvent {
            id: id.to_owned(),
            integration_id: integration_id.map(str::to_owned),
            kind: kind.to_owned(),
            payload: payload.clone(),
            created_at: now,
        };
        match &self.db {
            Db::Sqlite(s) => {
                let environment_id = environment_id.map(str::to_owned);
                s.write("writing an event", move |tx| {
                    sqlite::events::insert_event(tx, environment_id.as_deref(), &event)
                })
                .await
            }
            Db::Postgres(p) => {
                let mut tx = p.begin().await.map_err(db("writing an event"))?;
                pg::events::insert_event(&mut tx, environment_id, &event).await?;
                tx.commit().await.map_err(db("writing an event"))
            }
        }
    }

    /// Writes the `integration-created` event of a new integration.
    pub async fn enqueue_integration_created(
        &self,
        row: &crate::IntegrationRow,
        now: Timestamp,
    ) -> Result<()> {
        let mut entropy = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut entropy);
        let hex: String = entropy.iter().map(|b| format!("{b:02x}")).collect();
        let payload = serde_json::json!({
            "id": row.id,
            "tool": row.tool,
            "category": "ATS",
            "end_user": {
                "organization_name": row.end_user.organization_name,
                "creator_email": row.end_user.creator_email,
                "origin_id": row.end_user.origin_id,
            },
        });
        self.enqueue_event_in(
            Some(&row.environment_id),
            &format!("evt_{hex}"),
            Some(&row.id),
            "integration-created",
            &payload,
            now,
        )
        .await
    }

    /// One event by its sequence number.
    pub async fn event(&self, seq: i64) -> Result<Option<Event>> {
        match &self.db {
            Db::Sqlite(s) => {
                s.read("reading an event", move |tx| {
                    sqlite::events::by_seq(tx, seq)
                })
                .await
            }
            Db::Postgres(p) => pg::events::by_seq(p, seq).await,
        }
    }

    /// Events after `after_seq`, oldest first.
    pub async fn events(&self, after_seq: i64, limit: i64) -> Result<Vec<Event>> {
        match &self.db {
            Db::Sqlite(s) => {
                s.read("reading events", move |tx| {
                    sqlite::events::after(tx, after_seq, limit)
                })
                .await
            }
            Db::Postgres(p) => pg::events::after(p, after_seq, limit).await,
        }
    }
}
