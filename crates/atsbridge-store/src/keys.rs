//! API keys: stored as SHA-256 hashes only. A key is 32 random bytes, so a fast hash is
//! enough (there is nothing to brute-force that a slow hash would protect).

use atsbridge_model::Timestamp;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use sqlx::Row as _;

use crate::{db, millis, timestamp, Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub id: String,
    pub environment_id: String,
    pub label: String,
    pub created_at: Timestamp,
}

fn hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Store {
    /// Creates a key and returns it with its secret, which is shown once and never stored.
    pub async fn create_api_key(
        &self,
        environment_id: &str,
        label: &str,
        now: Timestamp,
    ) -> Result<(ApiKeyRow, String)> {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!("atsb_{}", URL_SAFE_NO_PAD.encode(bytes));
        let mut id_bytes = [0u8; 9];
        rand::rng().fill_bytes(&mut id_bytes);
        let id = format!("key_{}", URL_SAFE_NO_PAD.encode(id_bytes));
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO api_keys (id, environment_id, label, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&id)
            .bind(environment_id)
            .bind(label)
            .bind(hash(&secret))
            .bind(millis(now))
            .execute(&self.pool)
            .await
            .map_err(db("creating an API key"))?;
        Ok((
            ApiKeyRow {
                id,
                environment_id: environment_id.to_owned(),
                label: label.to_owned(),
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
        let mut id_bytes = [0u8; 9];
        rand::rng().fill_bytes(&mut id_bytes);
        let id = format!("key_{}", URL_SAFE_NO_PAD.encode(id_bytes));
        let _turn = self.write_turn().await;
        sqlx::query("INSERT INTO api_keys (id, environment_id, label, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (secret_hash) DO NOTHING")
            .bind(&id)
            .bind(environment_id)
            .bind(label)
            .bind(hash(secret))
            .bind(millis(now))
            .execute(&self.pool)
            .await
            .map_err(db("importing an API key"))?;
        self.api_key_by_secret(secret)
            .await?
            .ok_or_else(|| crate::StoreError::Conflict("that API key is revoked".into()))
    }

    /// The key a secret belongs to, unless it is unknown or revoked.
    pub async fn api_key_by_secret(&self, secret: &str) -> Result<Option<ApiKeyRow>> {
        let row = sqlx::query("SELECT id, environment_id, label, created_at FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL")
            .bind(hash(secret))
            .fetch_optional(&self.pool)
            .await
            .map_err(db("checking an API key"))?;
        row.map(|r| {
            Ok(ApiKeyRow {
                id: r.try_get("id").map_err(db("reading an API key"))?,
                environment_id: r
                    .try_get("environment_id")
                    .map_err(db("reading an API key"))?,
                label: r.try_get("label").map_err(db("reading an API key"))?,
                created_at: timestamp(r.try_get("created_at").map_err(db("reading an API key"))?)?,
            })
        })
        .transpose()
    }

    pub async fn revoke_api_key(&self, id: &str, now: Timestamp) -> Result<bool> {
        let _turn = self.write_turn().await;
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(millis(now))
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(db("revoking an API key"))?;
        Ok(done.rows_affected() > 0)
    }
}
