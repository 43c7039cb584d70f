//! `sync_runs` and the integrations' leases on SQLite.

use rusqlite::{params, OptionalExtension as _, Row, Transaction};

use super::sq;
use crate::events::NewEvent;
use crate::runs::{RunEnd, RunRowRaw};
use crate::{millis, Fence, Result, RunCounts, RunRow, StoreError};

/// The columns `run_row` reads, in its order.
pub(crate) const RUN_COLUMNS: &str = "r.id, r.integration_id, r.kind, r.requested_kind, r.state, r.worker, r.started_at, r.ended_at, r.counts, r.upstream_requests, r.error";

pub(crate) fn run_row(r: &Row<'_>) -> rusqlite::Result<RunRowRaw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

/// Inside a write: extends the run's lease (or fails with `LeaseLost`) and adds `delta` to
/// the run's counts (see `Fence`).
pub(crate) fn hold_fence(
    tx: &Transaction<'_>,
    fence: &Fence,
    delta: &RunCounts,
    now: i64,
) -> Result<()> {
    let held = tx
        .prepare_cached(
            "UPDATE integrations SET lease_expires_at = ?1 WHERE id = ?2 AND lease_owner = ?3",
        )
        .and_then(|mut s| {
            s.execute(params![
                now + fence.lease_ttl_ms,
                fence.integration_id,
                fence.owner
            ])
        })
        .map_err(sq("extending a lease"))?;
    if held != 1 {
        return Err(StoreError::LeaseLost(fence.integration_id.clone()));
    }
    let stored: Option<String> = tx
        .prepare_cached("SELECT counts FROM sync_runs WHERE id = ?1")
        .and_then(|mut s| s.query_row([&fence.run_id], |r| r.get(0)).optional())
        .map_err(sq("counting a run's changes"))?;
    let counts = fence.counts_plus(stored, delta)?;
    tx.prepare_cached("UPDATE sync_runs SET counts = ?1 WHERE id = ?2")
        .and_then(|mut s| s.execute([&counts, &fence.run_id]))
        .map_err(sq("counting a run's changes"))?;
    Ok(())
}

/// Takes the integration's lease for `owner` until `until` if nobody holds an unexpired one
/// (and, with `due_before`, only if the integration is still due).
pub(crate) fn lease(
    tx: &Transaction<'_>,
    integration_id: &str,
    owner: &str,
    now: i64,
    until: i64,
    due_before: Option<i64>,
) -> Result<bool> {
    let n = match due_before {
        None => tx
            .prepare_cached("UPDATE integrations SET lease_owner = ?1, lease_expires_at = ?2 WHERE id = ?3 AND (lease_owner IS NULL OR lease_expires_at < ?4)")
            .and_then(|mut s| s.execute(params![owner, until, integration_id, now])),
        Some(before) => tx
            .prepare_cached("UPDATE integrations SET lease_owner = ?1, lease_expires_at = ?2 WHERE id = ?3 AND (lease_owner IS NULL OR lease_expires_at < ?4) AND (sync_requested_at IS NOT NULL OR last_run_started_at IS NULL OR last_run_started_at <= ?5)")
            .and_then(|mut s| s.execute(params![owner, until, integration_id, now, before])),
    }
    .map_err(sq("taking a lease"))?;
    Ok(n == 1)
}

pub(crate) fn renew_lease(
    tx: &Transaction<'_>,
    integration_id: &str,
    owner: &str,
    until: i64,
) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "UPDATE integrations SET lease_expires_at = ?1 WHERE id = ?2 AND lease_owner = ?3",
        )
        .and_then(|mut s| s.execute(params![until, integration_id, owner]))
        .map_err(sq("renewing a lease"))?;
    Ok(n == 1)
}

pub(crate) fn release_lease(tx: &Transaction<'_>, integration_id: &str, owner: &str) -> Result<()> {
    tx.prepare_cached("UPDATE integrations SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ?1 AND lease_owner = ?2")
        .and_then(|mut s| s.execute([integration_id, owner]))
        .map_err(sq("releasing a lease"))?;
    Ok(())
}

pub(crate) fn request_sync(
    tx: &Transaction<'_>,
    integration_id: &str,
    kind: &str,
    now: i64,
) -> Result<bool> {
    let n = tx
        .prepare_cached("UPDATE integrations SET sync_requested_at = ?1, sync_requested_kind = ?2 WHERE id = ?3 AND sync_requested_at IS NULL")
        .and_then(|mut s| s.execute(params![now, kind, integration_id]))
        .map_err(sq("queueing a sync"))?;
    Ok(n == 1)
}

/// Inside a write: records the start of a run and clears the queued request it serves.
pub(crate) fn start(tx: &Transaction<'_>, run: &RunRow) -> Result<()> {
    tx.prepare_cached("INSERT INTO sync_runs (id, integration_id, kind, requested_kind, state, worker, started_at, counts, upstream_requests) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, '{}', 0)")
        .and_then(|mut s| {
            s.execute(params![
                run.id,
                run.integration_id,
                run.kind.as_str(),
                run.requested_kind.as_str(),
                run.state.as_str(),
                run.worker,
                millis(run.started_at)
            ])
        })
        .map_err(sq("starting a run"))?;
    let n = tx.prepare_cached("UPDATE integrations SET sync_requested_at = NULL, sync_requested_kind = NULL, last_run_started_at = ?1 WHERE id = ?2")
        .and_then(|mut s| s.execute(params![millis(run.started_at), run.integration_id]))
        .map_err(sq("starting a run"))?;
    // A run of an integration deleted meanwhile would leave its row behind.
    if n != 1 {
        return Err(StoreError::integration_not_found(
            run.integration_id.clone(),
        ));
    }
    Ok(())
}

/// Inside a write: records how a run ended and writes `event`, only if the run is still
/// RUNNING; false (nothing written) if it had ended.
pub(crate) fn finish(tx: &Transaction<'_>, end: &RunEnd, event: Option<&NewEvent>) -> Result<bool> {
    let n = tx
        .prepare_cached("UPDATE sync_runs SET state = ?1, ended_at = ?2, counts = ?3, upstream_requests = ?4, error = ?5 WHERE id = ?6 AND state = 'RUNNING'")
        .and_then(|mut s| {
            s.execute(params![
                end.state,
                end.ended_at,
                end.counts,
                end.upstream_requests,
                end.error,
                end.id
            ])
        })
        .map_err(sq("finishing a run"))?;
    if n != 1 {
        return Ok(false);
    }
    if let Some(event) = event {
        super::events::insert_event(tx, None, event)?;
    }
    Ok(true)
}

/// RUNNING runs whose worker no longer holds the integration's lease at `now` (it lapsed, or
/// another worker holds it), of one integration or of all, oldest first.
pub(crate) fn abandoned(
    tx: &Transaction<'_>,
    integration_id: Option<&str>,
    now: i64,
) -> Result<Vec<RunRowRaw>> {
    match integration_id {
        Some(id) => tx
            .prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM sync_runs r WHERE r.state = 'RUNNING' AND NOT EXISTS (SELECT 1 FROM integrations i WHERE i.id = r.integration_id AND i.lease_owner = r.worker AND i.lease_expires_at >= ?1) AND r.integration_id = ?2 ORDER BY r.seq"))
            .and_then(|mut s| s.query_map(params![now, id], run_row)?.collect()),
        None => tx
            .prepare_cached(&format!("SELECT {RUN_COLUMNS} FROM sync_runs r WHERE r.state = 'RUNNING' AND NOT EXISTS (SELECT 1 FROM integrations i WHERE i.id = r.integration_id AND i.lease_owner = r.worker AND i.lease_expires_at >= ?1) ORDER BY r.seq"))
            .and_then(|mut s| s.query_map([now], run_row)?.collect()),
    }
    .map_err(sq("finding abandoned runs"))
}

/// Inside a write: records an abandoned run as ended, writes `event` and queues a run to
/// replace it, only if the run is still abandoned at `now`; false (nothing written) if not.
pub(crate) fn end_abandoned(
    tx: &Transaction<'_>,
    end: &RunEnd,
    event: &NewEvent,
    now: i64,
) -> Result<bool> {
    let n = tx
        .prepare_cached("UPDATE sync_runs SET state = ?1, ended_at = ?2, error = ?3 WHERE id = ?4 AND EXISTS (SELECT 1 FROM sync_runs r WHERE r.id = ?4 AND r.state = 'RUNNING' AND NOT EXISTS (SELECT 1 FROM integrations i WHERE i.id = r.integration_id AND i.lease_owner = r.worker AND i.lease_expires_at >= ?5))")
        .and_then(|mut s| s.execute(params![end.state, end.ended_at, end.error, end.id, now]))
        .map_err(sq("ending an abandoned run"))?;
    if n != 1 {
        return Ok(false);
    }
    super::events::insert_event(tx, None, event)?;
    tx.prepare_cached("UPDATE integrations SET sync_requested_at = COALESCE(sync_requested_at, ?1), sync_requested_kind = COALESCE(sync_requested_kind, ?2) WHERE id = ?3")
        .and_then(|mut s| s.execute(params![now, end.requested_kind, end.integration_id]))
        .map_err(sq("queueing a replacement run"))?;
    Ok(true)
}

/// The newest runs of an integration first.
pub(crate) fn newest(
    tx: &Transaction<'_>,
    integration_id: &str,
    limit: i64,
) -> Result<Vec<RunRowRaw>> {
    tx.prepare_cached(&format!(
        "SELECT {RUN_COLUMNS} FROM sync_runs r WHERE r.integration_id = ?1 ORDER BY r.seq DESC LIMIT ?2"
    ))
    .and_then(|mut s| s.query_map(params![integration_id, limit], run_row)?.collect())
    .map_err(sq("listing runs"))
}

pub(crate) fn by_id(tx: &Transaction<'_>, id: &str) -> Result<Option<RunRowRaw>> {
    tx.prepare_cached(&format!(
        "SELECT {RUN_COLUMNS} FROM sync_runs r WHERE r.id = ?1"
    ))
    .and_then(|mut s| s.query_row([id], run_row).optional())
    .map_err(sq("reading a run"))
}
