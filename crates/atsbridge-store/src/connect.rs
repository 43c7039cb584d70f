//! Connection links: what a vendor's customer opens to connect (or reconnect) an ATS account,
//! and the short-lived token handed back when that is done.
//!
//! Tokens are stored as SHA-256 digests only. A link is used once: completing it and creating
//! (or updating) the integration happen in one transaction guarded by `completed_at IS NULL`,
//! so two submissions of the same form cannot both connect.

use atsbridge_model::Timestamp;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row as _;

use crate::integrations::{Credentials, NewIntegration};
use crate::{db, millis, opt_timestamp, timestamp, Result, Store, StoreError};

/// What completing a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Creates a new integration.
    Connect,
    /// Replaces the credentials of an existing integration.
    Relink,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Connect => "connect",
            LinkPurpose::Relink => "relink",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "connect" => Some(LinkPurpose::Connect),
            "relink" => Some(LinkPurpose::Relink),
            _ => None,
        }
    }
}

/// A link to be stored. `token` is the secret that goes into the URL; only its digest is kept.
#[derive(Debug, Clone)]
pub struct NewConnectLink {
    pub token: String,
    pub environment_id: String,
    pub tool: String,
    pub purpose: LinkPurpose,
    pub integration_id: Option<String>,
    pub end_user_email: Option<String>,
    pub organization_name: String,
    pub origin_id: Option<String>,
    pub language: String,
    pub link_type: String,
    pub redirect_url: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectLink {
    /// The digest that identifies the link in the store.
    pub token_hash: String,
    pub environment_id: String,
    pub tool: String,
    pub purpose: LinkPurpose,
    pub integration_id: Option<String>,
    pub end_user_email: Option<String>,
    pub organization_name: String,
    pub origin_id: Option<String>,
    pub language: String,
    pub link_type: String,
    pub redirect_url: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub completion_expires_at: Option<Timestamp>,
    pub failed_attempts: i64,
}

/// The completion of a link: the token handed back and how long it can be redeemed.
#[derive(Debug, Clone)]
pub struct Completion {
    pub token: String,
    pub expires_at: Timestamp,
}

/// The hex SHA-256 of a token, as stored.
pub fn token_digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const COLUMNS: &str = "token_hash, environment_id, tool, purpose, integration_id, end_user_email, organization_name, origin_id, language, link_type, redirect_url, created_at, expires_at, completed_at, completion_expires_at, failed_attempts";

fn from_row(row: &AnyRow) -> Result<ConnectLink> {
    let e = |e| db("reading a connection link")(e);
    let purpose: String = row.try_get("purpose").map_err(e)?;
    Ok(ConnectLink {
        token_hash: row.try_get("token_hash").map_err(e)?,
        environment_id: row.try_get("environment_id").map_err(e)?,
        tool: row.try_get("tool").map_err(e)?,
        purpose: LinkPurpose::parse(&purpose)
            .ok_or_else(|| StoreError::Corrupt(format!("link purpose `{purpose}`")))?,
        integration_id: row.try_get("integration_id").map_err(e)?,
        end_user_email: row.try_get("end_user_email").map_err(e)?,
        organization_name: row.try_get("organization_name").map_err(e)?,
        origin_id: row.try_get("origin_id").map_err(e)?,
        language: row.try_get("language").map_err(e)?,
        link_type: row.try_get("link_type").map_err(e)?,
        redirect_url: row.try_get("redirect_url").map_err(e)?,
        created_at: timestamp(row.try_get("created_at").map_err(e)?)?,
        expires_at: timestamp(row.try_get("expires_at").map_err(e)?)?,
        completed_at: opt_timestamp(row.try_get("completed_at").map_err(e)?)?,
        completion_expires_at: opt_timestamp(row.try_get("completion_expires_at").map_err(e)?)?,
        failed_attempts: row.try_get("failed_attempts").map_err(e)?,
    })
}

impl Store {
    pub async fn create_connect_link(&self, link: &NewConnectLink) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO connect_links (token_hash, environment_id, tool, purpose, integration_id, end_user_email, organization_name, origin_id, language, link_type, redirect_url, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(token_digest(&link.token))
        .bind(&link.environment_id)
        .bind(&link.tool)
        .bind(link.purpose.as_str())
        .bind(&link.integration_id)
        .bind(&link.end_user_email)
        .bind(&link.organization_name)
        .bind(&link.origin_id)
        .bind(&link.language)
        .bind(&link.link_type)
        .bind(&link.redirect_url)
        .bind(millis(link.created_at))
        .bind(millis(link.expires_at))
        .execute(&self.pool)
        .await
        .map_err(db("creating a connection link"))?;
        Ok(())
    }

    /// The link whose URL carries `token`, whatever its state.
    pub async fn connect_link(&self, token: &str) -> Result<Option<ConnectLink>> {
        self.connect_link_by_digest(&token_digest(token)).await
    }

    /// The link stored under `token_hash` (`ConnectLink::token_hash`), whatever its state.
    pub async fn connect_link_by_digest(&self, token_hash: &str) -> Result<Option<ConnectLink>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM connect_links WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a connection link"))?;
        row.as_ref().map(from_row).transpose()
    }

    /// The completed link a completion token was handed out for, if the token has not
    /// expired at `now`.
    pub async fn link_by_completion(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<ConnectLink>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM connect_links WHERE completion_hash = $1 AND completion_expires_at > $2"
        ))
        .bind(token_digest(token))
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading a connection link"))?;
        row.as_ref().map(from_row).transpose()
    }

    /// Reserves one credential check of an open link, counted as failed until
    /// `release_link_attempt` gives it back. Answers the attempt's number (1 for the first),
    /// or `None` when `max_attempts` are counted or reserved already, or the link is used,
    /// expired or unknown.
    ///
    /// Checking and counting in one conditional statement is what makes the limit hold
    /// for parallel submissions: a count read first and written after the check would let
    /// every post that read it in between through.
    pub async fn reserve_link_attempt(
        &self,
        token_hash: &str,
        max_attempts: i64,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        let _turn = self.write_turn().await;
        sqlx::query_scalar(
            "UPDATE connect_links SET failed_attempts = failed_attempts + 1 \
             WHERE token_hash = $1 AND failed_attempts < $2 AND completed_at IS NULL AND expires_at > $3 \
             RETURNING failed_attempts",
        )
        .bind(token_hash)
        .bind(max_attempts)
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reserving a connection attempt"))
    }

    /// Gives back an attempt reserved by `reserve_link_attempt` that did not fail (the
    /// credentials were accepted, or the ATS could not be asked).
    pub async fn release_link_attempt(&self, token_hash: &str) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "UPDATE connect_links SET failed_attempts = failed_attempts - 1 WHERE token_hash = $1 AND failed_attempts > 0",
        )
        .bind(token_hash)
        .execute(&self.pool)
        .await
        .map_err(db("releasing a connection attempt"))?;
        Ok(())
    }

    /// Completes a `connect` link by creating `integration`, in one transaction. Fails with
    /// `Conflict` when the link was completed (or expired) meanwhile, creating nothing.
    pub async fn complete_connect_link(
        &self,
        token_hash: &str,
        integration: &NewIntegration,
        completion: &Completion,
        now: Timestamp,
    ) -> Result<()> {
        let (mut tx, _turn) = self.begin_write("completing a connection link").await?;
        self.claim_link(&mut tx, token_hash, &integration.id, completion, now)
            .await?;
        self.insert_integration(&mut tx, integration, now).await?;
        tx.commit()
            .await
            .map_err(db("completing a connection link"))?;
        Ok(())
    }

    /// Completes a `relink` link by replacing its integration's credentials, in one
    /// transaction (see `set_credentials` for what that does to the status).
    pub async fn complete_relink(
        &self,
        token_hash: &str,
        integration_id: &str,
        credentials: &Credentials,
        completion: &Completion,
        now: Timestamp,
    ) -> Result<()> {
        let sealed = self.keys.encrypt(
            &serde_json::to_vec(credentials).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        )?;
        let (mut tx, _turn) = self.begin_write("completing a relink").await?;
        self.claim_link(&mut tx, token_hash, integration_id, completion, now)
            .await?;
        let done = sqlx::query(
            "UPDATE integrations SET credentials = $1, credentials_version = credentials_version + 1, invalid_credentials_version = NULL, status = CASE WHEN status = 'INACTIVE' THEN status ELSE 'ACTIVE' END WHERE id = $2",
        )
        .bind(sealed)
        .bind(integration_id)
        .execute(&mut *tx)
        .await
        .map_err(db("completing a relink"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "integration {integration_id}"
            )));
        }
        tx.commit().await.map_err(db("completing a relink"))?;
        Ok(())
    }

    async fn claim_link(
        &self,
        conn: &mut sqlx::AnyConnection,
        token_hash: &str,
        integration_id: &str,
        completion: &Completion,
        now: Timestamp,
    ) -> Result<()> {
        let claimed = sqlx::query(
            "UPDATE connect_links SET completed_at = $1, integration_id = $2, completion_hash = $3, completion_expires_at = $4 \
             WHERE token_hash = $5 AND completed_at IS NULL AND expires_at > $6",
        )
        .bind(millis(now))
        .bind(integration_id)
        .bind(token_digest(&completion.token))
        .bind(millis(completion.expires_at))
        .bind(token_hash)
        .bind(millis(now))
        .execute(&mut *conn)
        .await
        .map_err(db("completing a connection link"))?;
        if claimed.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "the link was already used or has expired".into(),
            ));
        }
        Ok(())
    }
}
