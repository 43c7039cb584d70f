//! `integrations` on SQLite.

use atsbridge_model::integration::{IntegrationStatus, SetupStatus};
use rusqlite::{params, OptionalExtension as _, Row, Transaction};

use super::sq;
use crate::integrations::{Field, IntegrationInsert, StoredIntegration};
use crate::{Result, StoreError};

/// `SELECT` of every column `StoredIntegration` holds, in the order `stored` reads them.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, tool, environment_id, status, setup_status, organization_name, creator_email, origin_id, settings, credentials_version, invalid_credentials_version, created_at, first_synced_at, data_expired_at, sync_requested_at, sync_requested_kind, last_run_started_at, category FROM integrations ",
            $rest
        )
    };
}

fn stored(r: &Row<'_>) -> rusqlite::Result<StoredIntegration> {
    Ok(StoredIntegration {
        id: r.get(0)?,
        tool: r.get(1)?,
        environment_id: r.get(2)?,
        status: r.get(3)?,
        setup_status: r.get(4)?,
        organization_name: r.get(5)?,
        creator_email: r.get(6)?,
        origin_id: r.get(7)?,
        settings: r.get(8)?,
        credentials_version: r.get(9)?,
        invalid_credentials_version: r.get(10)?,
        created_at: r.get(11)?,
        first_synced_at: r.get(12)?,
        data_expired_at: r.get(13)?,
        sync_requested_at: r.get(14)?,
        sync_requested_kind: r.get(15)?,
        last_run_started_at: r.get(16)?,
        category: r.get(17)?,
    })
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

/// Inserts a new integration: ACTIVE, with its first sync pending. `Conflict` when its id
/// is taken.
pub(crate) fn insert(tx: &Transaction<'_>, new: &IntegrationInsert) -> Result<()> {
    let result = tx
        .prepare_cached(
            "INSERT INTO integrations (id, tool, environment_id, status, setup_status, organization_name, creator_email, origin_id, settings, credentials, credentials_version, created_at, category) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?12)",
        )
        .and_then(|mut s| {
            s.execute(params![
                new.id,
                new.tool,
                new.environment_id,
                IntegrationStatus::Active.as_str(),
                SetupStatus::FinalSyncPending.as_str(),
                new.organization_name,
                new.creator_email,
                new.origin_id,
                new.settings,
                new.sealed_credentials,
                new.created_at,
                new.category.as_str(),
            ])
        });
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
            "integration {} exists",
            new.id
        ))),
        Err(e) => Err(sq("creating an integration")(e)),
    }
}

pub(crate) fn by_id(tx: &Transaction<'_>, id: &str) -> Result<Option<StoredIntegration>> {
    tx.prepare_cached(select!("WHERE id = ?1"))
        .and_then(|mut s| s.query_row([id], stored).optional())
        .map_err(sq("reading an integration"))
}

/// All integrations, or those of one environment, oldest first.
pub(crate) fn list(
    tx: &Transaction<'_>,
    environment_id: Option<&str>,
) -> Result<Vec<StoredIntegration>> {
    match environment_id {
        Some(env) => tx
            .prepare_cached(select!("WHERE environment_id = ?1 ORDER BY created_at, id"))
            .and_then(|mut s| s.query_map([env], stored)?.collect()),
        None => tx
            .prepare_cached(select!("ORDER BY created_at, id"))
            .and_then(|mut s| s.query_map([], stored)?.collect()),
    }
    .map_err(sq("listing integrations"))
}

/// Sets one column; `false` when there is no such integration.
pub(crate) fn update(tx: &Transaction<'_>, id: &str, field: Field, value: &str) -> Result<bool> {
    let sql = match field {
        Field::Status => "UPDATE integrations SET status = ?1 WHERE id = ?2",
        Field::SetupStatus => "UPDATE integrations SET setup_status = ?1 WHERE id = ?2",
        Field::Settings => "UPDATE integrations SET settings = ?1 WHERE id = ?2",
    };
    let n = tx
        .prepare_cached(sql)
        .and_then(|mut s| s.execute([value, id]))
        .map_err(sq("updating an integration"))?;
    Ok(n > 0)
}

/// Stores new sealed credentials under the next version (see `Store::set_credentials`);
/// `false` when there is no such integration.
pub(crate) fn replace_credentials(
    tx: &Transaction<'_>,
    id: &str,
    sealed: &str,
    operation: &'static str,
) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "UPDATE integrations SET credentials = ?1, credentials_version = credentials_version + 1, invalid_credentials_version = NULL, status = CASE WHEN status = 'INACTIVE' THEN status ELSE ?2 END WHERE id = ?3",
        )
        .and_then(|mut s| s.execute([sealed, IntegrationStatus::Active.as_str(), id]))
        .map_err(sq(operation))?;
    Ok(n > 0)
}

/// The sealed credentials: `None` when there is no such integration, `Some(None)` when it
/// has none.
pub(crate) fn credentials(tx: &Transaction<'_>, id: &str) -> Result<Option<Option<String>>> {
    tx.prepare_cached("SELECT credentials FROM integrations WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
        .map_err(sq("reading credentials"))
}

pub(crate) fn mark_credentials_invalid(
    tx: &Transaction<'_>,
    id: &str,
    version: i64,
) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "UPDATE integrations SET invalid_credentials_version = ?1, status = ?2 WHERE id = ?3 AND credentials_version = ?1",
        )
        .and_then(|mut s| s.execute(params![version, IntegrationStatus::Invalid.as_str(), id]))
        .map_err(sq("marking credentials invalid"))?;
    Ok(n > 0)
}

pub(crate) fn mark_synced(tx: &Transaction<'_>, id: &str, now: i64) -> Result<()> {
    tx.prepare_cached(
        "UPDATE integrations SET first_synced_at = COALESCE(first_synced_at, ?1), setup_status = ?2, data_expired_at = NULL WHERE id = ?3",
    )
    .and_then(|mut s| s.execute(params![now, SetupStatus::Completed.as_str(), id]))
    .map_err(sq("recording a completed sync"))?;
    Ok(())
}

/// Inside a write: removes an integration's row (the caller removes what it owns first). `false` when there was no such integration.
pub(crate) fn delete(tx: &Transaction<'_>, id: &str) -> Result<bool> {
    let n = tx
        .prepare_cached("DELETE FROM integrations WHERE id = ?1")
        .and_then(|mut s| s.execute([id]))
        .map_err(sq("deleting an integration"))?;
    Ok(n > 0)
}
