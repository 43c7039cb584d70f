//! API keys: stored as SHA-256 hashes only. A key is 32 random bytes, so a fast hash is
//! enough (there is nothing to brute-force that a slow hash would protect).
//!
//! Every API request resolves its key, so resolved keys are cached in the process. A revoke
//! through this store clears the cache at once; one made by another node (or process)
//! sharing the database takes effect here within `CACHE_TTL`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use atsbridge_model::Timestamp;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use crate::{millis, pg, sqlite, Db, Result, Store};

/// How long a resolved key is trusted without asking the database again.
pub const CACHE_TTL: Duration = Duration::from_secs(5);

/// The `kind` of keys that call `/v1`.
pub(crate) const KIND_API: &str = "api";
/// The `kind` of keys that sign in to the dashboard.
pub(crate) const KIND_OPERATOR: &str = "operator";

/// Keys kept at most; past it the cache starts over (a key's lookup is one indexed read).
const CACHE_MAX: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub id: String,
    pub environment_id: String,
    pub label: String,
    pub created_at: Timestamp,
}

/// A key row to insert.
#[derive(Debug, Clone)]
pub(crate) struct NewKey {
    pub id: String,
    pub environment_id: String,
    pub label: String,
    pub secret_hash: String,
    pub created_at: i64,
    /// `api` (calls `/v1`) or `operator` (signs in to the dashboard).
    pub kind: &'static str,
}

/// Resolved keys by secret hash.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    entries: Mutex<HashMap<String, (ApiKeyRow, Instant)>>,
}

impl KeyCache {
    fn get(&self, secret_hash: &str) -> Option<ApiKeyRow> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(secret_hash)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(row, _)| row.clone())
    }

    fn put(&self, secret_hash: String, row: ApiKeyRow) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CACHE_MAX {
            entries.clear();
        }
        entries.insert(secret_hash, (row, Instant::now()));
    }

    fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

pub(crate) fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn new_id() -> String {
    let mut id_bytes = [0u8; 9];
    rand::rng().fill_bytes(&mut id_bytes);
    format!("key_{}", URL_SAFE_NO_PAD.encode(id_bytes))
}

/// 256 random bits, base64url: key secrets and dashboard session ids and CSRF tokens.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Store {
    /// Creates a key and returns it with its secret, which is shown once and never stored.
    pub async fn create_api_key(
        &self,
        environment_id: &str,
        label: &str,
        now: Timestamp,
    ) -> Result<(ApiKeyRow, String)> {
        self.create_key("atsb_", KIND_API, environment_id, label, now)
            .await
    }

    /// Creates a key of `kind` whose secret starts with `prefix` (so a leaked one says what
    /// it is) and returns it with the secret; only the secret's digest is stored.
    pub(crate) async fn create_key(
        &self,
        prefix: &str,
        kind: &'static str,
        environment_id: &str,
        label: &str,
        now: Timestamp,
    ) -> Result<(ApiKeyRow, String)> {
        let secret = format!("{prefix}{}", random_token());
        let key = NewKey {
            id: new_id(),
            environment_id: environment_id.to_owned(),
            label: label.to_owned(),
            secret_hash: hash(&secret),
            created_at: millis(now),
            kind,
        };
        self.insert_key(&key, false).await?;
        Ok((
            ApiKeyRow {
                id: key.id,
                environment_id: key.environment_id,
                label: key.label,
                created_at: now,
            },
            secret,
        ))
    }

    /// Stores a key whose secret the operator chose (e.g. `atsbridge demo --api-key`). The
    /// secret must be long enough not to be guessed.
    pub async fn import_api_key(
        &self,
        environment_id: &str,
        label: &str,
        secret: &str,
        now: Timestamp,
    ) -> Result<ApiKeyRow> {
        if secret.len() < 16 {
            return Err(crate::StoreError::Config(
                "an API key must have at least 16 characters".into(),
            ));
        }
        let key = NewKey {
            id: new_id(),
            environment_id: environment_id.to_owned(),
            label: label.to_owned(),
            secret_hash: hash(secret),
            created_at: millis(now),
            kind: KIND_API,
        };
        self.insert_key(&key, true).await?;
        self.api_key_by_secret(secret)
            .await?
            .ok_or_else(|| crate::StoreError::Conflict("that API key is revoked".into()))
    }

    pub(crate) async fn insert_key(&self, key: &NewKey, or_ignore: bool) -> Result<()> {
        match &self.db {
            Db::Sqlite(s) => {
                let key = key.clone();
                s.write("storing an API key", move |tx| {
                    sqlite::keys::insert(tx, &key, or_ignore)
                })
                .await
            }
            Db::Postgres(p) => pg::keys::insert(p, key, or_ignore).await,
        }
    }

    /// The key a secret belongs to, unless it is unknown or revoked.
    pub async fn api_key_by_secret(&self, secret: &str) -> Result<Option<ApiKeyRow>> {
        let secret_hash = hash(secret);
        if let Some(row) = self.key_cache.get(&secret_hash) {
            return Ok(Some(row));
        }
        let row = match &self.db {
            Db::Sqlite(s) => {
                let secret_hash = secret_hash.clone();
                s.read("checking an API key", move |tx| {
                    sqlite::keys::by_hash(tx, &secret_hash, KIND_API)
                })
                .await?
            }
            Db::Postgres(p) => pg::keys::by_hash(p, &secret_hash, KIND_API).await?,
        };
        if let Some(row) = &row {
            self.key_cache.put(secret_hash, row.clone());
        }
        Ok(row)
    }

    pub async fn revoke_api_key(&self, id: &str, now: Timestamp) -> Result<bool> {
        let now = millis(now);
        let revoked = match &self.db {
            Db::Sqlite(s) => {
                let id = id.to_owned();
                s.write("revoking an API key", move |tx| {
                    sqlite::keys::revoke(tx, &id, now)
                })
                .await?
            }
            Db::Postgres(p) => pg::keys::revoke(p, id, now).await?,
        };
        // The cache is keyed by secret, which a revoke by id does not know: start over.
        self.key_cache.clear();
        Ok(revoked)
    }
}
