//! The event outbox: events are written in the same store as the data they describe and
//! delivered later (webhooks), so none is lost when a process stops.

use atsbridge_model::Timestamp;
use serde_json::Value;

use crate::{db, pg, sqlite, timestamp, Db, Result, Store, StoreError};

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
