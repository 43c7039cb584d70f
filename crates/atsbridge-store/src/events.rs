//! The event outbox: events are written in the same store as the data they describe and
//! delivered later (webhooks), so none is lost when a process stops.

use atsbridge_model::event::{event_id, EventError, EventIdOf, IntegrationCreated};
use atsbridge_model::{self as model, Timestamp};
use serde_json::Value;

use crate::{db, pg, sqlite, timestamp, Db, Result, Store, StoreError};

/// An outbox row as stored: the event's `type` and `data` (`payload`) as written, read back
/// as they are so rows of any version can be looked at; `typed` reads the event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub seq: i64,
    pub id: String,
    pub integration_id: Option<String>,
    pub kind: String,
    pub payload: Value,
    pub created_at: Timestamp,
}

impl Event {
    /// The event the row holds; an error for a type or payload this version does not know.
    pub fn typed(&self) -> std::result::Result<model::Event, EventError> {
        model::Event::from_stored(&self.kind, self.payload.clone())
    }
}

/// An event to write, with what it changes (a run's end, a batch, an API write).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: String,
    /// The integration whose deliveries it joins (sent in order per integration).
    pub integration_id: Option<String>,
    pub event: model::Event,
    pub created_at: Timestamp,
}

impl NewEvent {
    /// `event`, made at `now`, with a new id (`event_id`) and the integration its data names.
    pub fn new(event: model::Event, now: Timestamp) -> Self {
        let id = event_id(EventIdOf::Outbox {
            event: &event,
            entropy: rand::random(),
        });
        NewEvent {
            id,
            integration_id: event.integration_id().map(str::to_owned),
            event,
            created_at: now,
        }
    }

    /// With `integration_id` as the integration it belongs to (for events whose data names
    /// none, such as `connection-flow-failed` of a link that has one).
    pub fn for_integration(mut self, integration_id: Option<&str>) -> Self {
        self.integration_id = integration_id.map(str::to_owned);
        self
    }

    /// The event's `type` column.
    pub(crate) fn kind(&self) -> &'static str {
        self.event.kind()
    }

    /// The event's `payload` column.
    pub(crate) fn payload(&self) -> String {
        self.event.payload().to_string()
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
    /// Writes an event of an integration's environment (looked up from its integration) and
    /// the webhook deliveries it leads to, in one transaction.
    pub async fn enqueue_event(&self, event: &NewEvent) -> Result<()> {
        self.enqueue(None, event).await
    }

    /// Like `enqueue_event`, in `environment_id` (for events of integrations that no longer
    /// exist, such as `integration-deleted`, or not yet, such as `connection-flow-failed`).
    pub async fn enqueue_event_in(&self, environment_id: &str, event: &NewEvent) -> Result<()> {
        self.enqueue(Some(environment_id), event).await
    }

    async fn enqueue(&self, environment_id: Option<&str>, event: &NewEvent) -> Result<()> {
        match &self.db {
            Db::Sqlite(s) => {
                let environment_id = environment_id.map(str::to_owned);
                let event = event.clone();
                s.write("writing an event", move |tx| {
                    sqlite::events::insert_event(tx, environment_id.as_deref(), &event)
                })
                .await
            }
            Db::Postgres(p) => {
                let mut tx = p.begin().await.map_err(db("writing an event"))?;
                pg::events::insert_event(&mut tx, environment_id, event).await?;
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
        let event = model::Event::IntegrationCreated(IntegrationCreated {
            id: row.id.clone(),
            tool: row.tool.clone(),
            category: row.category,
            end_user: row.end_user.clone(),
        });
        self.enqueue_event_in(&row.environment_id, &NewEvent::new(event, now))
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
