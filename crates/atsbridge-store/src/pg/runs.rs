//! `sync_runs` and the integrations' leases on PostgreSQL. Every lease and run-state change
//! is one conditional UPDATE, so nodes sharing the database cannot both win: the row lock it
//! takes makes a concurrent one wait and then re-check its condition.

use sqlx::{PgPool, Postgres, Transaction};

use crate::events::NewEvent;
use crate::runs::{RunEnd, RunRowRaw};
use crate::{db, millis, Fence, Result, RunCounts, RunRow, StoreError};

/// The columns of `RunRowRaw`, in its order.
pub(crate) const RUN_COLUMNS: &str = "r.id, r.integration_id, r.kind, r.requested_kind, r.state, r.worker, r.started_at, r.ended_at, r.counts, r.upstream_requests, r.error";

/// Inside `tx`: extends the run's lease (or fails with `LeaseLost`) and adds `delta` to the
/// run's counts (see `Fence`). The lease UPDATE locks the integration's row first, so two
/// writers of one run add their counts one after the other.
pub(crate) async fn hold_fence(
    tx: &mut Transaction<'static, Postgres>,
    fence: &Fence,
    delta: &RunCounts,
    now: i64,
) -> Result<()> {
    let held = sqlx::query(
        "UPDATE integrations SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3",
    )
    .bind(now + fence.lease_ttl_ms)
    .bind(&fence.integration_id)
    .bind(&fence.owner)
    .execute(&mut **tx)
    .await
    .map_err(db("extending a lease"))?;
    if held.rows_affected() != 1 {
        return Err(StoreError::LeaseLost(fence.integration_id.clone()));
    }
    let stored: Option<String> = sqlx::query_scalar("SELECT counts FROM sync_runs WHERE id = $1")
        .bind(&fence.run_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db("counting a run's changes"))?;
    let counts = fence.counts_plus(stored, delta)?;
    sqlx::query("UPDATE sync_runs SET counts = $1 WHERE id = $2")
        .bind(counts)
        .bind(&fence.run_id)
        .execute(&mut **tx)
        .await
        .map_err(db("counting a run's changes"))?;
    Ok(())
}

/// Takes the integration's lease for `owner` until `until` if nobody holds an unexpired one
/// (and, with `due_before`, only if the integration is still due).
pub(crate) async fn lease(
    pool: &PgPool,
    integration_id: &str,
    owner: &str,
    now: i64,
    until: i64,
    due_before: Option<i64>,
) -> Result<bool> {
    let q = match due_before {
        None => sqlx::query("UPDATE integrations SET lease_owner = $1, lease_expires_at = $2 WHERE id = $3 AND (lease_owner IS NULL OR lease_expires_at < $4)"),
        Some(_) => sqlx::query("UPDATE integrations SET lease_owner = $1, lease_expires_at = $2 WHERE id = $3 AND (lease_owner IS NULL OR lease_expires_at < $4) AND (sync_requested_at IS NOT NULL OR last_run_started_at IS NULL OR last_run_started_at <= $5)"),
    };
    let mut q = q.bind(owner).bind(until).bind(integration_id).bind(now);
    if let Some(before) = due_before {
        q = q.bind(before);
    }
    let done = q.execute(pool).await.map_err(db("taking a lease"))?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn renew_lease(
    pool: &PgPool,
    integration_id: &str,
    owner: &str,
    until: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE integrations SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3",
    )
    .bind(until)
    .bind(integration_id)
    .bind(owner)
    .execute(pool)
    .await
    .map_err(db("renewing a lease"))?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn release_lease(pool: &PgPool, integration_id: &str, owner: &str) -> Result<()> {
    sqlx::query("UPDATE integrations SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2")
        .bind(integration_id)
        .bind(owner)
        .execute(pool)
        .await
        .map_err(db("releasing a lease"))?;
    Ok(())
}

pub(crate) async fn request_sync(
    pool: &PgPool,
    integration_id: &str,
    kind: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query("UPDATE integrations SET sync_requested_at = $1, sync_requested_kind = $2 WHERE id = $3 AND sync_requested_at IS NULL")
        .bind(now)
        .bind(kind)
        .bind(integration_id)
        .execute(pool)
        .await
        .map_err(db("queueing a sync"))?;
    Ok(done.rows_affected() == 1)
}

/// Records the start of a run and clears the queued request it serves, in one transaction.
pub(crate) async fn start(pool: &PgPool, run: &RunRow) -> Result<()> {
    let mut tx = pool.begin().await.map_err(db("starting a run"))?;
    sqlx::query(
        "INSERT INTO sync_runs (id, integration_id, kind, requested_kind, state, worker, started_at, counts, upstream_requests) VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', 0)",
    )
    .bind(&run.id)
    .bind(&run.integration_id)
    .bind(run.kind.as_str())
    .bind(run.requested_kind.as_str())
    .bind(run.state.as_str())
    .bind(&run.worker)
    .bind(millis(run.started_at))
    .execute(&mut *tx)
    .await
    .map_err(db("starting a run"))?;
    let done = sqlx::query("UPDATE integrations SET sync_requested_at = NULL, sync_requested_kind = NULL, last_run_started_at = $1 WHERE id = $2")
        .bind(millis(run.started_at))
        .bind(&run.integration_id)
        .execute(&mut *tx)
        .await
        .map_err(db("starting a run"))?;
    // A run of an integration deleted meanwhile would leave its row behind (dropping `tx`
    // rolls the insert back).
    if done.rows_affected() != 1 {
        return Err(StoreError::integration_not_found(
            run.integration_id.clone(),
        ));
    }
    tx.commit().await.map_err(db("starting a run"))
}

/// Records how a run ended and writes `event`, in one transaction, only if the run is still
/// RUNNING; false (nothing written) if it had ended.
pub(crate) async fn finish(pool: &PgPool, end: &RunEnd, event: Option<&NewEvent>) -> Result<bool> {
    let mut tx = pool.begin().await.map_err(db("finishing a run"))?;
    let done = sqlx::query("UPDATE sync_runs SET state = $1, ended_at = $2, counts = $3, upstream_requests = $4, error = $5 WHERE id = $6 AND state = 'RUNNING'")
        .bind(end.state)
        .bind(end.ended_at)
        .bind(&end.counts)
        .bind(end.upstream_requests)
        .bind(&end.error)
        .bind(&end.id)
        .execute(&mut *tx)
        .await
        .map_err(db("finishing a run"))?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    if let Some(event) = event {
        super::events::insert_event(&mut tx, None, event).await?;
    }
    tx.commit().await.map_err(db("finishing a run"))?;
    Ok(true)
}

/// RUNNING runs whose worker no longer holds the integration's lease at `now` (it lapsed, or
/// another worker holds it), of one integration or of all, oldest first.
pub(crate) async fn abandoned(
    pool: &PgPool,
    integration_id: Option<&str>,
    now: i64,
) -> Result<Vec<RunRowRaw>> {
    match integration_id {
        Some(id) => sqlx::query_as(&format!("SELECT {RUN_COLUMNS} FROM sync_runs r WHERE r.state = 'RUNNING' AND NOT EXISTS (SELECT 1 FROM integrations i WHERE i.id = r.integration_id AND i.lease_owner = r.worker AND i.lease_expires_at >= $1) AND r.integration_id = $2 ORDER BY r.seq"))
            .bind(now)
            .bind(id)
            .fetch_all(pool)
            .await,
        None => sqlx::query_as(&format!("SELECT {RUN_COLUMNS} FROM sync_runs r WHERE r.state = 'RUNNING' AND NOT EXISTS (SELECT 1 FROM integrations i WHERE i.id = r.integration_id AND i.lease_owner = r.worker AND i.lease_expires_at >= $1) ORDER BY r.seq"))
            .bind(now)
            .fetch_all(pool)
            .await,
    }
    .map_err(db("finding abandoned runs"))
}

/// Records an abandoned run as ended, writes `event` and queues a run to replace it, in one
/// transaction, only if the run is still abandoned at `now`; false (nothing written) if not.
pub(crate) async fn end_abandoned(
    pool: &PgPool,
    end: &RunEnd,
    event: &NewEvent,
    now: i64,
) -> Result<bool> {
    let mut tx = pool.begin().await.map_err(db("ending an abandoned run"))?;
    let done = sqlx::query("UPDATE sync_runs SET state = $1, ended_at = $2, error = $3 WHERE id = $4 AND EXISTS (SELECT 1 FROM sync_runs r WHERE r.id = $4 AND r.state = 'RUNNING' AND NOT EXISTS (SELECT 1 FROM integrations i WHERE i.id = r.integration_id AND i.lease_owner = r.worker AND i.lease_expires_at >= $5))")
        .bind(end.state)
        .bind(end.ended_at)
        .bind(&end.error)
        .bind(&end.id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db("ending an abandoned run"))?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    super::events::insert_event(&mut tx, None, event).await?;
    sqlx::query("UPDATE integrations SET sync_requested_at = COALESCE(sync_requested_at, $1), sync_requested_kind = COALESCE(sync_requested_kind, $2) WHERE id = $3")
        .bind(now)
        .bind(end.requested_kind)
        .bind(&end.integration_id)
        .execute(&mut *tx)
        .await
        .map_err(db("queueing a replacement run"))?;
    tx.commit().await.map_err(db("ending an abandoned run"))?;
    Ok(true)
}

/// The newest runs of an integration first.
pub(crate) async fn newest(
    pool: &PgPool,
    integration_id: &str,
    limit: i64,
) -> Result<Vec<RunRowRaw>> {
    sqlx::query_as(&format!(
        "SELECT {RUN_COLUMNS} FROM sync_runs r WHERE r.integration_id = $1 ORDER BY r.seq DESC LIMIT $2"
    ))
    .bind(integration_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(db("listing runs"))
}

pub(crate) async fn by_id(pool: &PgPool, id: &str) -> Result<Option<RunRowRaw>> {
    sqlx::query_as(&format!(
        "SELECT {RUN_COLUMNS} FROM sync_runs r WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db("reading a run"))
}
