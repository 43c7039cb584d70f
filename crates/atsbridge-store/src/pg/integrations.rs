//! `integrations` on PostgreSQL.

use atsbridge_model::integration::{IntegrationStatus, SetupStatus};
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, PgPool, Postgres, Row as _, Transaction};

use crate::integrations::{Field, IntegrationInsert, StoredIntegration};
use crate::{db, Result, StoreError};

/// `SELECT` of every column `StoredIntegration` holds, in the order `stored` reads them.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, tool, environment_id, status, setup_status, organization_name, creator_email, origin_id, settings, credentials_version, invalid_credentials_version, created_at, first_synced_at, data_expired_at, sync_requested_at, sync_requested_kind, last_run_started_at, category FROM integrations ",
            $rest
        )
    };
}

fn stored(r: &PgRow) -> Result<StoredIntegration> {
    let read = || -> sqlx::Result<StoredIntegration> {
        Ok(StoredIntegration {
            id: r.try_get(0)?,
            tool: r.try_get(1)?,
            environment_id: r.try_get(2)?,
            status: r.try_get(3)?,
            setup_status: r.try_get(4)?,
            organization_name: r.try_get(5)?,
            creator_email: r.try_get(6)?,
            origin_id: r.try_get(7)?,
            settings: r.try_get(8)?,
            credentials_version: r.try_get(9)?,
            invalid_credentials_version: r.try_get(10)?,
            created_at: r.try_get(11)?,
            first_synced_at: r.try_get(12)?,
            data_expired_at: r.try_get(13)?,
            sync_requested_at: r.try_get(14)?,
            sync_requested_kind: r.try_get(15)?,
            last_run_started_at: r.try_get(16)?,
            category: r.try_get(17)?,
        })
    };
    read().map_err(db("reading an integration"))
}

/// Inserts a new integration: ACTIVE, with its first sync pending. `Conflict` when its id
/// is taken. On the pool or inside a transaction (`&mut *tx`).
pub(crate) async fn insert(e: impl PgExecutor<'_>, new: &IntegrationInsert) -> Result<()> {
    let result = sqlx::query(
        "INSERT INTO integrations (id, tool, environment_id, status, setup_status, organization_name, creator_email, origin_id, settings, credentials, credentials_version, created_at, category) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12)",
    )
    .bind(&new.id)
    .bind(&new.tool)
    .bind(&new.environment_id)
    .bind(IntegrationStatus::Active.as_str())
    .bind(SetupStatus::FinalSyncPending.as_str())
    .bind(&new.organization_name)
    .bind(&new.creator_email)
    .bind(&new.origin_id)
    .bind(&new.settings)
    .bind(&new.sealed_credentials)
    .bind(new.created_at)
    .bind(new.category.as_str())
    .execute(e)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Conflict(
            format!("integration {} exists", new.id),
        )),
        Err(e) => Err(db("creating an integration")(e)),
    }
}

pub(crate) async fn by_id(pool: &PgPool, id: &str) -> Result<Option<StoredIntegration>> {
    let row = sqlx::query(select!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db("reading an integration"))?;
    row.as_ref().map(stored).transpose()
}

/// All integrations, or those of one environment, oldest first.
pub(crate) async fn list(
    pool: &PgPool,
    environment_id: Option<&str>,
) -> Result<Vec<StoredIntegration>> {
    let rows = match environment_id {
        Some(env) => {
            sqlx::query(select!("WHERE environment_id = $1 ORDER BY created_at, id"))
                .bind(env)
                .fetch_all(pool)
                .await
        }
        None => {
            sqlx::query(select!("ORDER BY created_at, id"))
                .fetch_all(pool)
                .await
        }
    }
    .map_err(db("listing integrations"))?;
    rows.iter().map(stored).collect()
}

/// Sets one column; `false` when there is no such integration.
pub(crate) async fn update(pool: &PgPool, id: &str, field: Field, value: &str) -> Result<bool> {
    let sql = match field {
        Field::Status => "UPDATE integrations SET status = $1 WHERE id = $2",
        Field::SetupStatus => "UPDATE integrations SET setup_status = $1 WHERE id = $2",
        Field::Settings => "UPDATE integrations SET settings = $1 WHERE id = $2",
    };
    let done = sqlx::query(sql)
        .bind(value)
        .bind(id)
        .execute(pool)
        .await
        .map_err(db("updating an integration"))?;
    Ok(done.rows_affected() > 0)
}

/// Stores new sealed credentials under the next version (see `Store::set_credentials`);
/// `false` when there is no such integration. On the pool or inside a transaction.
pub(crate) async fn replace_credentials(
    e: impl PgExecutor<'_>,
    id: &str,
    sealed: &str,
    operation: &'static str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE integrations SET credentials = $1, credentials_version = credentials_version + 1, invalid_credentials_version = NULL, status = CASE WHEN status = 'INACTIVE' THEN status ELSE $2 END WHERE id = $3",
    )
    .bind(sealed)
    .bind(IntegrationStatus::Active.as_str())
    .bind(id)
    .execute(e)
    .await
    .map_err(db(operation))?;
    Ok(done.rows_affected() > 0)
}

/// The sealed credentials: `None` when there is no such integration, `Some(None)` when it
/// has none.
pub(crate) async fn credentials(pool: &PgPool, id: &str) -> Result<Option<Option<String>>> {
    sqlx::query_scalar("SELECT credentials FROM integrations WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(db("reading credentials"))
}

pub(crate) async fn mark_credentials_invalid(
    pool: &PgPool,
    id: &str,
    version: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE integrations SET invalid_credentials_version = $1, status = $2 WHERE id = $3 AND credentials_version = $1",
    )
    .bind(version)
    .bind(IntegrationStatus::Invalid.as_str())
    .bind(id)
    .execute(pool)
    .await
    .map_err(db("marking credentials invalid"))?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn mark_synced(pool: &PgPool, id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE integrations SET first_synced_at = COALESCE(first_synced_at, $1), setup_status = $2, data_expired_at = NULL WHERE id = $3",
    )
    .bind(now)
    .bind(SetupStatus::Completed.as_str())
    .bind(id)
    .execute(pool)
    .await
    .map_err(db("recording a completed sync"))?;
    Ok(())
}

/// Locks the integration's row until `tx` ends.
pub(crate) async fn lock(tx: &mut Transaction<'static, Postgres>, id: &str) -> Result<()> {
    sqlx::query("SELECT 1 FROM integrations WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db("locking an integration"))?;
    Ok(())
}

/// Inside a transaction: removes an integration's row (the caller removes what it owns
/// first). `false` when there was no such integration.
pub(crate) async fn delete(tx: &mut Transaction<'static, Postgres>, id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM integrations WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(db("deleting an integration"))?;
    Ok(done.rows_affected() > 0)
}
