//! `connect_links` on PostgreSQL.

use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, PgPool, Row as _};

use crate::connect::{LinkClaim, NewConnectLink, StoredLink};
use crate::{db, millis, Result};

/// `SELECT` of every column `StoredLink` holds, in the order `stored` reads them.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT token_hash, environment_id, tool, purpose, integration_id, end_user_email, organization_name, origin_id, language, link_type, redirect_url, created_at, expires_at, completed_at, completion_expires_at, failed_attempts, category FROM connect_links ",
            $rest
        )
    };
}

pub(crate) fn stored(r: &PgRow) -> Result<StoredLink> {
    let read = || -> sqlx::Result<StoredLink> {
        Ok(StoredLink {
            token_hash: r.try_get(0)?,
            environment_id: r.try_get(1)?,
            tool: r.try_get(2)?,
            purpose: r.try_get(3)?,
            integration_id: r.try_get(4)?,
            end_user_email: r.try_get(5)?,
            organization_name: r.try_get(6)?,
            origin_id: r.try_get(7)?,
            language: r.try_get(8)?,
            link_type: r.try_get(9)?,
            redirect_url: r.try_get(10)?,
            created_at: r.try_get(11)?,
            expires_at: r.try_get(12)?,
            completed_at: r.try_get(13)?,
            completion_expires_at: r.try_get(14)?,
            failed_attempts: r.try_get(15)?,
            category: r.try_get(16)?,
        })
    };
    read().map_err(db("reading a connection link"))
}

pub(crate) async fn insert(pool: &PgPool, link: &NewConnectLink, token_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO connect_links (token_hash, environment_id, tool, purpose, integration_id, end_user_email, organization_name, origin_id, language, link_type, redirect_url, created_at, expires_at, category) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(token_hash)
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
    .bind(link.category.as_str())
    .execute(pool)
    .await
    .map_err(db("creating a connection link"))?;
    Ok(())
}

pub(crate) async fn by_digest(pool: &PgPool, token_hash: &str) -> Result<Option<StoredLink>> {
    let row = sqlx::query(select!("WHERE token_hash = $1"))
        .bind(token_hash)
        .fetch_optional(pool)
        .await
        .map_err(db("reading a connection link"))?;
    row.as_ref().map(stored).transpose()
}

/// The link a completion token that has not expired at `now` was handed out for.
pub(crate) async fn by_completion(
    pool: &PgPool,
    completion_hash: &str,
    now: i64,
) -> Result<Option<StoredLink>> {
    let row = sqlx::query(select!(
        "WHERE completion_hash = $1 AND completion_expires_at > $2"
    ))
    .bind(completion_hash)
    .bind(now)
    .fetch_optional(pool)
    .await
    .map_err(db("reading a connection link"))?;
    row.as_ref().map(stored).transpose()
}

/// See `Store::reserve_link_attempt`: the check and the count are one statement, which
/// the row lock of the UPDATE serializes across nodes.
pub(crate) async fn reserve_attempt(
    pool: &PgPool,
    token_hash: &str,
    max_attempts: i64,
    now: i64,
) -> Result<Option<i64>> {
    sqlx::query_scalar(
        "UPDATE connect_links SET failed_attempts = failed_attempts + 1 \
         WHERE token_hash = $1 AND failed_attempts < $2 AND completed_at IS NULL AND expires_at > $3 \
         RETURNING failed_attempts",
    )
    .bind(token_hash)
    .bind(max_attempts)
    .bind(now)
    .fetch_optional(pool)
    .await
    .map_err(db("reserving a connection attempt"))
}

pub(crate) async fn release_attempt(pool: &PgPool, token_hash: &str) -> Result<()> {
    sqlx::query(
        "UPDATE connect_links SET failed_attempts = failed_attempts - 1 WHERE token_hash = $1 AND failed_attempts > 0",
    )
    .bind(token_hash)
    .execute(pool)
    .await
    .map_err(db("releasing a connection attempt"))?;
    Ok(())
}

/// Marks an open link completed; `false` when it was used already or has expired. A
/// concurrent completion of the same link waits for this one's row lock and then finds
/// `completed_at` set.
pub(crate) async fn claim(e: impl PgExecutor<'_>, claim: &LinkClaim) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE connect_links SET completed_at = $1, integration_id = $2, completion_hash = $3, completion_expires_at = $4 \
         WHERE token_hash = $5 AND completed_at IS NULL AND expires_at > $1",
    )
    .bind(claim.now)
    .bind(&claim.integration_id)
    .bind(&claim.completion_hash)
    .bind(claim.completion_expires_at)
    .bind(&claim.token_hash)
    .execute(e)
    .await
    .map_err(db("completing a connection link"))?;
    Ok(done.rows_affected() > 0)
}
