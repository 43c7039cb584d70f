//! `events` (the outbox) on SQLite.

use rusqlite::{params, OptionalExtension as _, Row, Transaction};

use super::sq;
use crate::events::{event_from_row, Event, EventRow, NewEvent};
use crate::{millis, Result};

fn event_row(r: &Row<'_>) -> rusqlite::Result<EventRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

/// Inside a write: writes `event` and its webhook deliveries, so they commit with the change
/// it announces. `environment_id` `None` looks it up from the integration.
pub(crate) fn insert_event(
    tx: &Transaction<'_>,
    environment_id: Option<&str>,
    event: &NewEvent,
) -> Result<()> {
    let environment_id = match (environment_id, &event.integration_id) {
        (Some(env), _) => Some(env.to_owned()),
        (None, Some(integration)) => tx
            .prepare_cached("SELECT environment_id FROM integrations WHERE id = ?1")
            .and_then(|mut s| s.query_row([integration], |r| r.get(0)).optional())
            .map_err(sq("writing an event"))?,
        (None, None) => None,
    };
    let seq: i64 = tx
        .prepare_cached("INSERT INTO events (id, integration_id, type, payload, created_at, environment_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING seq")
        .and_then(|mut s| {
            s.query_row(
                params![
                    event.id,
                    event.integration_id,
                    event.kind(),
                    event.payload(),
                    millis(event.created_at),
                    environment_id
                ],
                |r| r.get(0),
            )
        })
        .map_err(sq("writing an event"))?;
    if let Some(env) = &environment_id {
        super::webhooks::fan_out(tx, seq, event, env)?;
    }
    Ok(())
}

pub(crate) fn by_seq(tx: &Transaction<'_>, seq: i64) -> Result<Option<Event>> {
    tx.prepare_cached(
        "SELECT seq, id, integration_id, type, payload, created_at FROM events WHERE seq = ?1",
    )
    .and_then(|mut s| s.query_row([seq], event_row).optional())
    .map_err(sq("reading an event"))?
    .map(event_from_row)
    .transpose()
}

/// Events after `after_seq`, oldest first.
pub(crate) fn after(tx: &Transaction<'_>, after_seq: i64, limit: i64) -> Result<Vec<Event>> {
    let rows = tx
        .prepare_cached("SELECT seq, id, integration_id, type, payload, created_at FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
        .and_then(|mut s| {
            s.query_map([after_seq, limit], event_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(sq("reading events"))?;
    rows.into_iter().map(event_from_row).collect()
}
