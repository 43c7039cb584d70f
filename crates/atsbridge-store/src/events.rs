//! The event outbox: events are written in the same store as the data they describe and
//! delivered later (webhooks), so none is lost when a process stops.

use atsbridge_model::Timestamp;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Row as _, Transaction};

use crate::{db, millis, timestamp, Result, Store, StoreError};

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

/// Writes `event` and its webhook deliveries inside `tx`, so it commits with the change it
/// announces. `environment_id` `None` looks it up from the integration.
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
        let stored = Event {
            seq,
            id: event.id.clone(),
            integration_id: event.integration_id.clone(),
            kind: event.kind.clone(),
            payload: event.payload.clone(),
            created_at: event.created_at,
        };
        Store::fan_out(tx, &stored, env).await?;
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
        let (mut tx, _turn) = self.begin_write("writing an event").await?;
        let event = NewEvent {
            id: id.to_owned(),
            integration_id: integration_id.map(str::to_owned),
            kind: kind.to_owned(),
            payload: payload.clone(),
            created_at: now,
        };
        insert_event(&mut tx, environment_id, &event).await?;
        tx.commit().await.map_err(db("writing an event"))?;
        Ok(())
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
        let row = sqlx::query(
            "SELECT seq, id, integration_id, type, payload, created_at FROM events WHERE seq = $1",
        )
        .bind(seq)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading an event"))?;
        row.as_ref().map(event_from_row).transpose()
    }

    /// Events after `after_seq`, oldest first.
    pub async fn events(&self, after_seq: i64, limit: i64) -> Result<Vec<Event>> {
        let rows = sqlx::query("SELECT seq, id, integration_id, type, payload, created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(db("reading events"))?;
        rows.iter().map(event_from_row).collect()
    }
}

fn event_from_row(r: &AnyRow) -> Result<Event> {
    let e = |e| db("reading events")(e);
    let payload: String = r.try_get("payload").map_err(e)?;
    Ok(Event {
        seq: r.try_get("seq").map_err(e)?,
        id: r.try_get("id").map_err(e)?,
        integration_id: r.try_get("integration_id").map_err(e)?,
        kind: r.try_get("type").map_err(e)?,
        payload: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_at: timestamp(r.try_get("created_at").map_err(e)?)?,
    })
}
