//! Integrations: one connected ATS account of one end user, with its encrypted credentials,
//! settings, status and the bookkeeping the scheduler needs.

use std::fmt;

use atsbridge_model::integration::{Category, EndUser, IntegrationStatus, SetupStatus, SyncKind};
use atsbridge_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{db, millis, opt_timestamp, pg, sqlite, timestamp, Db, Result, Store, StoreError};

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
    pub category: Category,
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
            category: self.category,
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
    /// The Kombo category the integration serves (one per integration).
    pub category: Category,
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
    /// What the queued sync asked for.
    pub sync_requested_kind: Option<SyncKind>,
    pub last_run_started_at: Option<Timestamp>,
}

/// An integration's columns as stored, before they are checked.
#[derive(Debug)]
pub(crate) struct StoredIntegration {
    pub id: String,
    pub tool: String,
    pub environment_id: String,
    pub status: String,
    pub setup_status: String,
    pub organization_name: String,
    pub creator_email: Option<String>,
    pub origin_id: Option<String>,
    pub settings: String,
    pub credentials_version: i64,
    pub invalid_credentials_version: Option<i64>,
    pub created_at: i64,
    pub first_synced_at: Option<i64>,
    pub data_expired_at: Option<i64>,
    pub sync_requested_at: Option<i64>,
    pub sync_requested_kind: Option<String>,
    pub last_run_started_at: Option<i64>,
    pub category: String,
}

impl StoredIntegration {
    pub(crate) fn into_row(self) -> Result<IntegrationRow> {
        let status = self.status;
        let setup = self.setup_status;
        let category = self.category;
        Ok(IntegrationRow {
            id: self.id,
            tool: self.tool,
            category: Category::parse(&category)
                .ok_or_else(|| StoreError::Corrupt(format!("integration category `{category}`")))?,
            environment_id: self.environment_id,
            status: IntegrationStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("integration status `{status}`")))?,
            setup_status: SetupStatus::parse(&setup)
                .ok_or_else(|| StoreError::Corrupt(format!("setup status `{setup}`")))?,
            end_user: EndUser {
                organization_name: self.organization_name,
                creator_email: self.creator_email,
                origin_id: self.origin_id,
            },
            settings: serde_json::from_str(&self.settings)
                .map_err(|e| StoreError::Corrupt(format!("integration settings: {e}")))?,
            credentials_version: self.credentials_version,
            invalid_credentials_version: self.invalid_credentials_version,
            created_at: timestamp(self.created_at)?,
            first_synced_at: opt_timestamp(self.first_synced_at)?,
            data_expired_at: opt_timestamp(self.data_expired_at)?,
            sync_requested_at: opt_timestamp(self.sync_requested_at)?,
            sync_requested_kind: self
                .sync_requested_kind
                .map(|k| {
                    SyncKind::parse(&k)
                        .ok_or_else(|| StoreError::Corrupt(format!("sync kind `{k}`")))
                })
                .transpose()?,
            last_run_started_at: opt_timestamp(self.last_run_started_at)?,
        })
    }
}

/// The values a new integration's row is inserted with: credentials sealed, settings as JSON.
#[derive(Debug, Clone)]
pub(crate) struct IntegrationInsert {
    pub id: String,
    pub tool: String,
    pub category: Category,
    pub environment_id: String,
    pub organization_name: String,
    pub creator_email: Option<String>,
    pub origin_id: Option<String>,
    pub settings: String,
    pub sealed_credentials: String,
    pub created_at: i64,
}

/// The one-value columns `update_one` sets.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Field {
    Status,
    SetupStatus,
    Settings,
}

impl Store {
    /// Creates an integration: ACTIVE, with its first sync pending.
    pub async fn create_integration(
        &self,
        new: NewIntegration,
        now: Timestamp,
    ) -> Result<IntegrationRow> {
        let insert = self.integration_insert(&new, now)?;
        let stored = match &self.db {
            Db::Sqlite(s) => {
                s.write("creating an integration", move |tx| {
                    sqlite::integrations::insert(tx, &insert)?;
                    sqlite::integrations::by_id(tx, &insert.id)
                })
                .await?
            }
            Db::Postgres(p) => {
                pg::integrations::insert(p, &insert).await?;
                pg::integrations::by_id(p, &new.id).await?
            }
        };
        stored
            .ok_or_else(|| StoreError::integration_not_found(new.id.clone()))?
            .into_row()
    }

    /// The row `new` is inserted with (`seal_credentials` says why before the write).
    pub(crate) fn integration_insert(
        &self,
        new: &NewIntegration,
        now: Timestamp,
    ) -> Result<IntegrationInsert> {
        Ok(IntegrationInsert {
            id: new.id.clone(),
            tool: new.tool.clone(),
            category: new.category,
            environment_id: new.environment_id.clone(),
            organization_name: new.end_user.organization_name.clone(),
            creator_email: new.end_user.creator_email.clone(),
            origin_id: new.end_user.origin_id.clone(),
            settings: serde_json::to_string(&new.settings)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            sealed_credentials: self.seal_credentials(&new.credentials)?,
            created_at: millis(now),
        })
    }

    /// Credentials encrypted with the current key, as stored. Sealed before a write
    /// begins: the SQLite writer runs one transaction at a time and should not spend it on
    /// serializing and encrypting.
    pub(crate) fn seal_credentials(&self, credentials: &Credentials) -> Result<String> {
        self.keys.encrypt(
            &serde_json::to_vec(credentials).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        )
    }

    pub async fn integration(&self, id: &str) -> Result<Option<IntegrationRow>> {
        let stored = match &self.db {
            Db::Sqlite(s) => {
                let id = id.to_owned();
                s.read("reading an integration", move |tx| {
                    sqlite::integrations::by_id(tx, &id)
                })
                .await?
            }
            Db::Postgres(p) => pg::integrations::by_id(p, id).await?,
        };
        stored.map(StoredIntegration::into_row).transpose()
    }

    /// All integrations, or those of one environment, oldest first.
    pub async fn integrations(&self, environment_id: Option<&str>) -> Result<Vec<IntegrationRow>> {
        let stored = match &self.db {
            Db::Sqlite(s) => {
                let environment_id = environment_id.map(str::to_owned);
                s.read("listing integrations", move |tx| {
                    sqlite::integrations::list(tx, environment_id.as_deref())
                })
                .await?
            }
            Db::Postgres(p) => pg::integrations::list(p, environment_id).await?,
        };
        stored
            .into_iter()
            .map(StoredIntegration::into_row)
            .collect()
    }

    pub async fn set_integration_status(&self, id: &str, status: IntegrationStatus) -> Result<()> {
        self.update_one(id, Field::Status, status.as_str()).await
    }

    pub async fn set_setup_status(&self, id: &str, status: SetupStatus) -> Result<()> {
        self.update_one(id, Field::SetupStatus, status.as_str())
            .await
    }

    pub async fn update_settings(&self, id: &str, settings: &IntegrationSettings) -> Result<()> {
        let json =
            serde_json::to_string(settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.update_one(id, Field::Settings, &json).await
    }

    async fn update_one(&self, id: &str, field: Field, value: &str) -> Result<()> {
        let updated = match &self.db {
            Db::Sqlite(s) => {
                let (id, value) = (id.to_owned(), value.to_owned());
                s.write("updating an integration", move |tx| {
                    sqlite::integrations::update(tx, &id, field, &value)
                })
                .await?
            }
            Db::Postgres(p) => pg::integrations::update(p, id, field, value).await?,
        };
        if !updated {
            return Err(StoreError::integration_not_found(id));
        }
        Ok(())
    }

    /// Replaces the credentials; a new version clears an earlier rejection, so syncing
    /// resumes, and an INVALID integration becomes ACTIVE again. A disabled (INACTIVE) one
    /// stays disabled: new credentials are not the vendor's decision to enable it.
    pub async fn set_credentials(&self, id: &str, credentials: &Credentials) -> Result<()> {
        let sealed = self.seal_credentials(credentials)?;
        const OPERATION: &str = "replacing credentials";
        let replaced = match &self.db {
            Db::Sqlite(s) => {
                let id = id.to_owned();
                s.write(OPERATION, move |tx| {
                    sqlite::integrations::replace_credentials(tx, &id, &sealed, OPERATION)
                })
                .await?
            }
            Db::Postgres(p) => {
                pg::integrations::replace_credentials(p, id, &sealed, OPERATION).await?
            }
        };
        if !replaced {
            return Err(StoreError::integration_not_found(id));
        }
        Ok(())
    }

    /// The decrypted credentials.
    pub async fn credentials(&self, id: &str) -> Result<Credentials> {
        let sealed = match &self.db {
            Db::Sqlite(s) => {
                let id = id.to_owned();
                s.read("reading credentials", move |tx| {
                    sqlite::integrations::credentials(tx, &id)
                })
                .await?
            }
            Db::Postgres(p) => pg::integrations::credentials(p, id).await?,
        };
        let sealed = sealed
            .ok_or_else(|| StoreError::integration_not_found(id))?
            .ok_or_else(|| StoreError::Crypto("the integration has no credentials".into()))?;
        serde_json::from_slice(&self.keys.decrypt(&sealed)?)
            .map_err(|e| StoreError::Corrupt(format!("credentials: {e}")))
    }

    /// Marks the current credentials as rejected by the ATS and the integration INVALID.
    /// Only the version that failed is marked: credentials replaced meanwhile stay valid.
    pub async fn mark_credentials_invalid(&self, id: &str, version: i64) -> Result<bool> {
        match &self.db {
            Db::Sqlite(s) => {
                let id = id.to_owned();
                s.write("marking credentials invalid", move |tx| {
                    sqlite::integrations::mark_credentials_invalid(tx, &id, version)
                })
                .await
            }
            Db::Postgres(p) => pg::integrations::mark_credentials_invalid(p, id, version).await,
        }
    }

    /// Records that the first sync completed: setup is then COMPLETED.
    pub async fn mark_synced(&self, id: &str, now: Timestamp) -> Result<()> {
        let now = millis(now);
        match &self.db {
            Db::Sqlite(s) => {
                let id = id.to_owned();
                s.write("recording a completed sync", move |tx| {
                    sqlite::integrations::mark_synced(tx, &id, now)
                })
                .await
            }
            Db::Postgres(p) => pg::integrations::mark_synced(p, id, now).await,
        }
    }

    /// Deletes an integration with everything stored for it, in one transaction: records,
    /// created-application marks, runs, outbox events and their deliveries, idempotency
    /// answers, the connection links that made or relinked it, its integer key, settings
    /// and credentials. The caller announces the deletion with an event of its own.
    pub async fn delete_integration(&self, id: &str) -> Result<bool> {
        const OPERATION: &str = "deleting an integration";
        match &self.db {
            Db::Sqlite(s) => {
                let id = id.to_owned();
                s.write(OPERATION, move |tx| {
                    sqlite::records::delete_all(tx, &id)?;
                    sqlite::idempotency::delete_all(tx, &id)?;
                    sqlite::retention::delete_integration_data(tx, &id)?;
                    sqlite::integrations::delete(tx, &id)
                })
                .await
            }
            Db::Postgres(p) => {
                let mut tx = p.begin().await.map_err(db(OPERATION))?;
                // The integration's row first: a run's fenced write locks it too, so one
                // committing meanwhile is either deleted below or, waiting, finds no lease
                // and fails, and none leaves records behind.
                pg::integrations::lock(&mut tx, id).await?;
                pg::records::delete_all(&mut tx, id).await?;
                pg::idempotency::delete_all(&mut tx, id).await?;
                pg::retention::delete_integration_data(&mut tx, id).await?;
                let deleted = pg::integrations::delete(&mut tx, id).await?;
                tx.commit().await.map_err(db(OPERATION))?;
                Ok(deleted)
            }
        }
    }
}
