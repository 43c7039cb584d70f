//! The event outbox: events are written in the same store as the data they describe and
//! delivered later (webhooks), so none is lost when a process stops.

use atsbridge_model::Timestamp;
use serde_json::Value;
use sqlx::Row as _;

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

impl Store {
    pub async fn enqueue_event(
        &self,
        id: &str,
        integration_id: Option<&str>,
        kind: &str,
        payload: &Value,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query("INSERT INTO events (id, integration_id, type, payload, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(integration_id)
            .bind(kind)
            .bind(payload.to_string())
            .bind(millis(now))
            .execute(&self.pool)
            .await
            .map_err(db("writing an event"))?;
        Ok(())
    }

    /// Events after `after_seq`, oldest first.
    pub async fn events(&self, after_seq: i64, limit: i64) -> Result<Vec<Event>> {
        let rows = sqlx::query("SELECT seq, id, integration_id, type, payload, created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(db("reading events"))?;
        rows.iter()
            .map(|r| {
                let e = |e| db("reading events")(e);
                let payload: String = r.try_get("payload").map_err(e)?;
                Ok(Event {
                    seq: r.try_get("seq").map_err(e)?,
                    id: r.try_get("id").map_err(e)?,
                    integration_id: r.try_get("integration_id").map_err(e)?,
                    kind: r.try_get("type").map_err(e)?,
                    payload: serde_json::from_str(&payload)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    created_at: timestamp(r.try_get("created_at").map_err(e)?)?,
                })
            })
            .collect()
    }
}
