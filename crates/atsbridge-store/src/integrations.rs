//! Integrations: one connected ATS account of one end user, with its encrypted credentials,
//! settings, status and the bookkeeping the scheduler needs.

use std::fmt;

use atsbridge_model::integration::{EndUser, IntegrationStatus, SetupStatus};
use atsbridge_model::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row as _;

use crate::{db, millis, opt_timestamp, timestamp, Result, Store, StoreError};

/// Per-integration settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntegrationSettings {
    /// Limit candidates and applications to those created through atsbridge.
    pub sync_only_created_applications: bool,
    /// The source written into the ATS for applications created through atsbridge when the
    /// request names none (source writing / application attribution).
    pub source_name: Option<String>,
}

/// The secrets needed to reach the ATS (for Sage HR: subdomain, API key, optional base URL),
/// kept encrypted at rest. `Debug` never shows values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials(pub serde_json::Map<String, serde_json::Value>);

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Credentials {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct NewIntegration {
    pub id: String,
    pub tool: String,
    pub environment_id: String,
    pub end_user: EndUser,
    pub settings: IntegrationSettings,
    pub credentials: Credentials,
}

impl NewIntegration {
    /// The row this integration will have once created, for work that needs one before
    /// it exists (checking the credentials with a connector).
    pub fn draft_row(&self, now: Timestamp) -> IntegrationRow {
        IntegrationRow {
            id: self.id.clone(),
            tool: self.tool.clone(),
            environment_id: self.environment_id.clone(),
            status: IntegrationStatus::Active,
            setup_status: SetupStatus::FinalSyncPending,
            end_user: self.end_user.clone(),
            settings: self.settings.clone(),
            credentials_version: 1,
            invalid_credentials_version: None,
            created_at: now,
            first_synced_at: None,
            data_expired_at: None,
            sync_requested_at: None,
            sync_requested_kind: None,
            last_run_started_at: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationRow {
    pub id: String,
    pub tool: String,
    pub environment_id: String,
    pub status: IntegrationStatus,
    pub setup_status: SetupStatus,
    pub end_user: EndUser,
    pub settings: IntegrationSettings,
    /// Bumped whenever the credentials change.
    pub credentials_version: i64,
    /// The credentials version the ATS rejected, if the current one was.
    pub invalid_credentials_version: Option<i64>,
    pub created_at: Timestamp,
    pub first_synced_at: Option<Timestamp>,
    pub data_expired_at: Option<Timestamp>,
    pub sync_requested_at: Option<Timestamp>,
    /// What the queued sync asked for (`FULL` or `DELTA`).
    pub sync_requested_kind: Option<String>,
    pub last_run_started_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, tool, environment_id, status, setup_status, organization_name, creator_email, origin_id, settings, credentials_version, invalid_credentials_version, created_at, first_synced_at, data_expired_at, sync_requested_at, sync_requested_kind, last_run_started_at";

fn from_row(row: &AnyRow) -> Result<IntegrationRow> {
    let get_s = |c: &str| {
        row.try_get::<String, _>(c)
            .map_err(db("reading an integration"))
    };
    let get_os = |c: &str| {
        row.try_get::<Option<String>, _>(c)
            .map_err(db("reading an integration"))
    };
    let get_oi = |c: &str| {
        row.try_get::<Option<i64>, _>(c)
            .map_err(db("reading an integration"))
    };
    let status = get_s("status")?;
    let setup = get_s("setup_status")?;
    Ok(IntegrationRow {
        id: get_s("id")?,
        tool: get_s("tool")?,
        environment_id: get_s("environment_id")?,
        status: IntegrationStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("integration status `{status}`")))?,
        setup_status: SetupStatus::parse(&setup)
            .ok_or_else(|| StoreError::Corrupt(format!("setup status `{setup}`")))?,
        end_user: EndUser {
            organization_name: get_s("organization_name")?,
            creator_email: get_os("creator_email")?,
            origin_id: get_os("origin_id")?,
        },
        settings: serde_json::from_str(&get_s("settings")?)
            .map_err(|e| StoreError::Corrupt(format!("integration settings: {e}")))?,
        credentials_version: row
            .try_get::<i64, _>("credentials_version")
            .map_err(db("reading an integration"))?,
        invalid_credentials_version: get_oi("invalid_credentials_version")?,
        created_at: timestamp(
            row.try_get::<i64, _>("created_at")
                .map_err(db("reading an integration"))?,
        )?,
        first_synced_at: opt_timestamp(get_oi("first_synced_at")?)?,
        data_expired_at: opt_timestamp(get_oi("data_expired_at")?)?,
        sync_requested_at: opt_timestamp(get_oi("sync_requested_at")?)?,
        sync_requested_kind: get_os("sync_requested_kind")?,
        last_run_started_at: opt_timestamp(get_oi("last_run_started_at")?)?,
    })
}

impl Store {
    /// Creates an integration: ACTIVE, with its first sync pending.
    pub async fn create_integration(
        &self,
        new: NewIntegration,
        now: Timestamp,
    ) -> Result<IntegrationRow> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(db("creating an integration"))?;
        self.insert_integration(&mut conn, &new, now).await?;
        drop(conn);
        self.integration(&new.id)
            .await?
            .ok_or_else(|| StoreError::NotFound(new.id.clone()))
    }

    /// The INSERT of `create_integration`, on a connection or inside a transaction.
    pub(crate) async fn insert_integration(
        &self,
        conn: &mut sqlx::AnyConnection,
        new: &NewIntegration,
        now: Timestamp,
    ) -> Result<()> {
        let sealed = self.keys.encrypt(
            &serde_json::to_vec(&new.credentials)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        )?;
        let settings =
            serde_json::to_string(&new.settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let result = sqlx::query(
            "INSERT INTO integrations (id, tool, environment_id, status, setup_status, organization_name, creator_email, origin_id, settings, credentials, credentials_version, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11)",
        )
        .bind(&new.id)
        .bind(&new.tool)
        .bind(&new.environment_id)
        .bind(IntegrationStatus::Active.as_str())
        .bind(SetupStatus::FinalSyncPending.as_str())
        .bind(&new.end_user.organization_name)
        .bind(&new.end_user.creator_email)
        .bind(&new.end_user.origin_id)
        .bind(settings)
        .bind(sealed)
        .bind(millis(now))
        .execute(&mut *conn)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Conflict(
                format!("integration {} exists", new.id),
            )),
            Err(e) => Err(db("creating an integration")(e)),
        }
    }

    pub async fn integration(&self, id: &str) -> Result<Option<IntegrationRow>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM integrations WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading an integration"))?;
        row.as_ref().map(from_row).transpose()
    }

    /// All integrations, or those of one environment, oldest first.
    pub async fn integrations(&self, environment_id: Option<&str>) -> Result<Vec<IntegrationRow>> {
        let rows = match environment_id {
            Some(env) => sqlx::query(&format!("SELECT {COLUMNS} FROM integrations WHERE environment_id = $1 ORDER BY created_at, id")).bind(env).fetch_all(&self.pool).await,
            None => sqlx::query(&format!("SELECT {COLUMNS} FROM integrations ORDER BY created_at, id")).fetch_all(&self.pool).await,
        }
        .map_err(db("listing integrations"))?;
        rows.iter().map(from_row).collect()
    }

    pub async fn set_integration_status(&self, id: &str, status: IntegrationStatus) -> Result<()> {
        self.update_one(
            id,
            "UPDATE integrations SET status = $1 WHERE id = $2",
            status.as_str(),
        )
        .await
    }

    pub async fn set_setup_status(&self, id: &str, status: SetupStatus) -> Result<()> {
        self.update_one(
            id,
            "UPDATE integrations SET setup_status = $1 WHERE id = $2",
            status.as_str(),
        )
        .await
    }

    pub async fn update_settings(&self, id: &str, settings: &IntegrationSettings) -> Result<()> {
        let json =
            serde_json::to_string(settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.update_one(
            id,
            "UPDATE integrations SET settings = $1 WHERE id = $2",
            &json,
        )
        .await
    }

    async fn update_one(&self, id: &str, sql: &str, value: &str) -> Result<()> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(sql)
            .bind(value)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("updating an integration"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("integration {id}")));
        }
        Ok(())
    }

    /// Replaces the credentials; a new version clears an earlier rejection, so syncing
    /// resumes, and an INVALID integration becomes ACTIVE again. A disabled (INACTIVE) one
    /// stays disabled: new credentials are not the vendor's decision to enable it.
    pub async fn set_credentials(&self, id: &str, credentials: &Credentials) -> Result<()> {
        let sealed = self.keys.encrypt(
            &serde_json::to_vec(credentials).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        )?;
        let _turn = self.write_turn().await;
        let done = sqlx::query(
            "UPDATE integrations SET credentials = $1, credentials_version = credentials_version + 1, invalid_credentials_version = NULL, status = CASE WHEN status = 'INACTIVE' THEN status ELSE $2 END WHERE id = $3",
        )
        .bind(sealed)
        .bind(IntegrationStatus::Active.as_str())
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db("replacing credentials"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("integration {id}")));
        }
        Ok(())
    }

    /// The decrypted credentials.
    pub async fn credentials(&self, id: &str) -> Result<Credentials> {
        let sealed: Option<Option<String>> =
            sqlx::query_scalar("SELECT credentials FROM integrations WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db("reading credentials"))?;
        let sealed = sealed
            .ok_or_else(|| StoreError::NotFound(format!("integration {id}")))?
            .ok_or_else(|| StoreError::Crypto("the integration has no credentials".into()))?;
        serde_json::from_slice(&self.keys.decrypt(&sealed)?)
            .map_err(|e| StoreError::Corrupt(format!("credentials: {e}")))
    }

    /// Marks the current credentials as rejected by the ATS and the integration INVALID.
    /// Only the version that failed is marked: credentials replaced meanwhile stay valid.
    pub async fn mark_credentials_invalid(&self, id: &str, version: i64) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("UPDATE integrations SET invalid_credentials_version = $1, status = $2 WHERE id = $3 AND credentials_version = $4")
            .bind(version)
            .bind(IntegrationStatus::Invalid.as_str())
            .bind(id)
            .bind(version)
            .execute(&self.pool)
            .await
            .map_err(db("marking credentials invalid"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Records that the first sync completed: setup is then COMPLETED.
    pub async fn mark_synced(&self, id: &str, now: Timestamp) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE integrations SET first_synced_at = COALESCE(first_synced_at, $1), setup_status = $2, data_expired_at = NULL WHERE id = $3")
            .bind(millis(now))
            .bind(SetupStatus::Completed.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db("recording a completed sync"))?;
        Ok(())
    }

    /// Deletes an integration with everything stored for it: records, runs, created-
    /// application marks and credentials. Its events stay in the outbox for delivery.
    pub async fn delete_integration(&self, id: &str) -> Result<bool> {
        let (mut tx, _turn) = self.begin_write("deleting an integration").await?;
        for sql in [
            "DELETE FROM records WHERE integration_id = $1",
            "DELETE FROM sync_runs WHERE integration_id = $1",
            "DELETE FROM created_applications WHERE integration_id = $1",
            "DELETE FROM idempotency_keys WHERE integration_id = $1",
        ] {
            sqlx::query(sql)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db("deleting an integration"))?;
        }
        let done = sqlx::query("DELETE FROM integrations WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db("deleting an integration"))?;
        tx.commit().await.map_err(db("deleting an integration"))?;
        Ok(done.rows_affected() > 0)
    }
}
