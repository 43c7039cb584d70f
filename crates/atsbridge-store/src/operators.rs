//! Operators of the dashboard: operator keys (kept beside API keys with `kind = 'operator'`,
//! so neither kind can stand in for the other) and the sessions a key is exchanged for.
//!
//! A session id is 256 random bits handed to the browser once; only its SHA-256 is stored,
//! with an expiry and the CSRF token the session's forms must carry. A revoked key's sessions
//! stop working at once (every lookup checks the key).

use atsbridge_model::Timestamp;

use crate::keys::{hash, random_token, ApiKeyRow, KIND_OPERATOR};
use crate::{millis, pg, sqlite, Db, Result, Store};

/// The environment operator keys are filed under: they see every environment.
pub const OPERATOR_ENVIRONMENT: &str = "*";

/// A signed-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSession {
    /// The operator key it was opened with.
    pub key_id: String,
    pub key_label: String,
    /// The token every form posted in this session carries.
    pub csrf: String,
    pub expires_at: Timestamp,
}

/// A session row to insert, in Unix milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct NewSession {
    pub id_hash: String,
    pub key_id: String,
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
}

impl Store {
    /// Creates an operator key and returns it with its secret, which is shown once.
    pub async fn create_operator_key(
        &self,
        label: &str,
        now: Timestamp,
    ) -> Result<(ApiKeyRow, String)> {
        self.create_key("atsbop_", KIND_OPERATOR, OPERATOR_ENVIRONMENT, label, now)
            .await
    }

    /// The operator key a secret belongs to, unless it is unknown, revoked or an API key.
    pub async fn operator_key_by_secret(&self, secret: &str) -> Result<Option<ApiKeyRow>> {
        let secret_hash = hash(secret);
        match &self.db {
            Db::Sqlite(s) => {
                s.read("checking an operator key", move |tx| {
                    sqlite::keys::by_hash(tx, &secret_hash, KIND_OPERATOR)
                })
                .await
            }
            Db::Postgres(p) => pg::keys::by_hash(p, &secret_hash, KIND_OPERATOR).await,
        }
    }

    /// Opens a session for `key` until `expires_at`; returns the session id (the cookie's
    /// value, not stored) and the session.
    pub async fn create_session(
        &self,
        key: &ApiKeyRow,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(String, OperatorSession)> {
        let id = random_token();
        let row = NewSession {
            id_hash: hash(&id),
            key_id: key.id.clone(),
            csrf: random_token(),
            created_at: millis(now),
            expires_at: millis(expires_at),
        };
        let session = OperatorSession {
            key_id: key.id.clone(),
            key_label: key.label.clone(),
            csrf: row.csrf.clone(),
            expires_at,
        };
        match &self.db {
            Db::Sqlite(s) => {
                s.write("opening a dashboard session", move |tx| {
                    sqlite::operators::insert_session(tx, &row)
                })
                .await?;
            }
            Db::Postgres(p) => pg::operators::insert_session(p, &row).await?,
        }
        Ok((id, session))
    }

    /// The live session of a session id: not expired at `now`, its key not revoked.
    pub async fn session(&self, id: &str, now: Timestamp) -> Result<Option<OperatorSession>> {
        let id_hash = hash(id);
        let now = millis(now);
        let row = match &self.db {
            Db::Sqlite(s) => {
                s.read("checking a dashboard session", move |tx| {
                    sqlite::operators::session(tx, &id_hash, now)
                })
                .await?
            }
            Db::Postgres(p) => pg::operators::session(p, &id_hash, now).await?,
        };
        row.map(|(key_id, key_label, csrf, expires_at)| {
            Ok(OperatorSession {
                key_id,
                key_label,
                csrf,
                expires_at: crate::timestamp(expires_at)?,
            })
        })
        .transpose()
    }

    /// Ends a session (sign-out), and with it every session that expired before `now`.
    pub async fn end_session(&self, id: &str, now: Timestamp) -> Result<()> {
        let id_hash = hash(id);
        let now = millis(now);
        match &self.db {
            Db::Sqlite(s) => {
                s.write("ending a dashboard session", move |tx| {
                    sqlite::operators::end_session(tx, &id_hash, now)
                })
                .await
            }
            Db::Postgres(p) => pg::operators::end_session(p, &id_hash, now).await,
        }
    }
}
