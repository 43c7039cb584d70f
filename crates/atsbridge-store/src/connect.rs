//! Connection links: what a vendor's customer opens to connect (or reconnect) an ATS account,
//! and the short-lived token handed back when that is done.
//!
//! Tokens are stored as SHA-256 digests only. A link is used once: completing it and creating
//! (or updating) the integration happen in one transaction guarded by `completed_at IS NULL`,
//! so two submissions of the same form cannot both connect.

use atsbridge_model::integration::Category;
use atsbridge_model::Timestamp;
use sha2::{Digest, Sha256};

use crate::integrations::{Credentials, NewIntegration};
use crate::{db, millis, opt_timestamp, pg, sqlite, timestamp, Db, Result, Store, StoreError};

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
    /// The category of the integration the link connects.
    pub category: Category,
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
    pub category: Category,
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

/// A link's columns as stored, before they are checked.
#[derive(Debug)]
pub(crate) struct StoredLink {
    pub token_hash: String,
    pub environment_id: String,
    pub tool: String,
    pub purpose: String,
    pub integration_id: Option<String>,
    pub end_user_email: Option<String>,
    pub organization_name: String,
    pub origin_id: Option<String>,
    pub language: String,
    pub link_type: String,
    pub redirect_url: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub completed_at: Option<i64>,
    pub completion_expires_at: Option<i64>,
    pub failed_attempts: i64,
    pub category: String,
}

impl StoredLink {
    pub(crate) fn into_link(self) -> Result<ConnectLink> {
        let purpose = self.purpose;
        let category = self.category;
        Ok(ConnectLink {
            token_hash: self.token_hash,
            environment_id: self.environment_id,
            tool: self.tool,
            category: Category::parse(&category)
                .ok_or_else(|| StoreError::Corrupt(format!("link category `{category}`")))?,
            purpose: LinkPurpose::parse(&purpose)
                .ok_or_else(|| StoreError::Corrupt(format!("link purpose `{purpose}`")))?,
            integration_id: self.integration_id,
            end_user_email: self.end_user_email,
            organization_name: self.organization_name,
            origin_id: self.origin_id,
            language: self.language,
            link_type: self.link_type,
            redirect_url: self.redirect_url,
            created_at: timestamp(self.created_at)?,
            expires_at: timestamp(self.expires_at)?,
            completed_at: opt_timestamp(self.completed_at)?,
            completion_expires_at: opt_timestamp(self.completion_expires_at)?,
            failed_attempts: self.failed_attempts,
        })
    }
}

/// The completion of a link to record, in Unix milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct LinkClaim {
    pub token_hash: String,
    pub integration_id: String,
    pub completion_hash: String,
    pub completion_expires_at: i64,
    pub now: i64,
}

impl LinkClaim {
    fn new(
        token_hash: &str,
        integration_id: &str,
        completion: &Completion,
        now: Timestamp,
    ) -> Self {
        LinkClaim {
            token_hash: token_hash.to_owned(),
            integration_id: integration_id.to_owned(),
            completion_hash: token_digest(&completion.token),
            completion_expires_at: millis(completion.expires_at),
            now: millis(now),
        }
    }
}

/// Whether the claim of a link found it open; refusing rolls the completion back.
fn claimed(claimed: bool) -> Result<()> {
    if claimed {
        Ok(())
    } else {
        Err(StoreError::Conflict(
            "the link was already used or has expired".into(),
        ))
    }
}

impl Store {
    pub async fn create_connect_link(&self, link: &NewConnectLink) -> Result<()> {
        let token_hash = token_digest(&link.token);
        match &self.db {
            Db::Sqlite(s) => {
                let link = link.clone();
                s.write("creating a connection link", move |tx| {
                    sqlite::connect::insert(tx, &link, &token_hash)
                })
                .await
            }
            Db::Postgres(p) => pg::connect::insert(p, link, &token_hash).await,
        }
    }

    /// The link whose URL carries `token`, whatever its state.
    pub async fn connect_link(&self, token: &str) -> Result<Option<ConnectLink>> {
        self.connect_link_by_digest(&token_digest(token)).await
    }

    /// The link stored under `token_hash` (`ConnectLink::token_hash`), whatever its state.
    pub async fn connect_link_by_digest(&self, token_hash: &str) -> Result<Option<ConnectLink>> {
        let stored = match &self.db {
            Db::Sqlite(s) => {
                let token_hash = token_hash.to_owned();
                s.read("reading a connection link", move |tx| {
                    sqlite::connect::by_digest(tx, &token_hash)
                })
                .await?
            }
            Db::Postgres(p) => pg::connect::by_digest(p, token_hash).await?,
        };
        stored.map(StoredLink::into_link).transpose()
    }

    /// The completed link a completion token was handed out for, if the token has not
    /// expired at `now`.
    pub async fn link_by_completion(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<ConnectLink>> {
        let completion_hash = token_digest(token);
        let now = millis(now);
        let stored = match &self.db {
            Db::Sqlite(s) => {
                s.read("reading a connection link", move |tx| {
                    sqlite::connect::by_completion(tx, &completion_hash, now)
                })
                .await?
            }
            Db::Postgres(p) => pg::connect::by_completion(p, &completion_hash, now).await?,
        };
        stored.map(StoredLink::into_link).transpose()
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
        let now = millis(now);
        match &self.db {
            Db::Sqlite(s) => {
                let token_hash = token_hash.to_owned();
                s.write("reserving a connection attempt", move |tx| {
                    sqlite::connect::reserve_attempt(tx, &token_hash, max_attempts, now)
                })
                .await
            }
            Db::Postgres(p) => pg::connect::reserve_attempt(p, token_hash, max_attempts, now).await,
        }
    }

    /// Gives back an attempt reserved by `reserve_link_attempt` that did not fail (the
    /// credentials were accepted, or the ATS could not be asked).
    pub async fn release_link_attempt(&self, token_hash: &str) -> Result<()> {
        match &self.db {
            Db::Sqlite(s) => {
                let token_hash = token_hash.to_owned();
                s.write("releasing a connection attempt", move |tx| {
                    sqlite::connect::release_attempt(tx, &token_hash)
                })
                .await
            }
            Db::Postgres(p) => pg::connect::release_attempt(p, token_hash).await,
        }
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
        const OPERATION: &str = "completing a connection link";
        let claim = LinkClaim::new(token_hash, &integration.id, completion, now);
        let insert = self.integration_insert(integration, now)?;
        match &self.db {
            Db::Sqlite(s) => {
                s.write(OPERATION, move |tx| {
                    claimed(sqlite::connect::claim(tx, &claim)?)?;
                    sqlite::integrations::insert(tx, &insert)
                })
                .await
            }
            Db::Postgres(p) => {
                let mut tx = p.begin().await.map_err(db(OPERATION))?;
                claimed(pg::connect::claim(&mut *tx, &claim).await?)?;
                pg::integrations::insert(&mut *tx, &insert).await?;
                tx.commit().await.map_err(db(OPERATION))
            }
        }
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
        const OPERATION: &str = "completing a relink";
        let sealed = self.seal_credentials(credentials)?;
        let claim = LinkClaim::new(token_hash, integration_id, completion, now);
        let not_found = || StoreError::integration_not_found(integration_id);
        match &self.db {
            Db::Sqlite(s) => {
                let not_found = not_found();
                s.write(OPERATION, move |tx| {
                    claimed(sqlite::connect::claim(tx, &claim)?)?;
                    if !sqlite::integrations::replace_credentials(
                        tx,
                        &claim.integration_id,
                        &sealed,
                        OPERATION,
                    )? {
                        return Err(not_found);
                    }
                    Ok(())
                })
                .await
            }
            Db::Postgres(p) => {
                let mut tx = p.begin().await.map_err(db(OPERATION))?;
                claimed(pg::connect::claim(&mut *tx, &claim).await?)?;
                if !pg::integrations::replace_credentials(
                    &mut *tx,
                    integration_id,
                    &sealed,
                    OPERATION,
                )
                .await?
                {
                    return Err(not_found());
                }
                tx.commit().await.map_err(db(OPERATION))
            }
        }
    }
}
