//! `connect_links` on SQLite.

use rusqlite::{params, OptionalExtension as _, Row, Transaction};

use super::sq;
use crate::connect::{LinkClaim, NewConnectLink, StoredLink};
use crate::{millis, Result};

/// `SELECT` of every column `StoredLink` holds, in the order `stored` reads them.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT token_hash, environment_id, tool, purpose, integration_id, end_user_email, organization_name, origin_id, language, link_type, redirect_url, created_at, expires_at, completed_at, completion_expires_at, failed_attempts, category FROM connect_links ",
            $rest
        )
    };
}

pub(crate) fn stored(r: &Row<'_>) -> rusqlite::Result<StoredLink> {
    Ok(StoredLink {
        token_hash: r.get(0)?,
        environment_id: r.get(1)?,
        tool: r.get(2)?,
        purpose: r.get(3)?,
        integration_id: r.get(4)?,
        end_user_email: r.get(5)?,
        organization_name: r.get(6)?,
        origin_id: r.get(7)?,
        language: r.get(8)?,
        link_type: r.get(9)?,
        redirect_url: r.get(10)?,
        created_at: r.get(11)?,
        expires_at: r.get(12)?,
        completed_at: r.get(13)?,
        completion_expires_at: r.get(14)?,
        failed_attempts: r.get(15)?,
        category: r.get(16)?,
    })
}

pub(crate) fn insert(tx: &Transaction<'_>, link: &NewConnectLink, token_hash: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO connect_links (token_hash, environment_id, tool, purpose, integration_id, end_user_email, organization_name, origin_id, language, link_type, redirect_url, created_at, expires_at, category) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )
    .and_then(|mut s| {
        s.execute(params![
            token_hash,
            link.environment_id,
            link.tool,
            link.purpose.as_str(),
            link.integration_id,
            link.end_user_email,
            link.organization_name,
            link.origin_id,
            link.language,
            link.link_type,
            link.redirect_url,
            millis(link.created_at),
            millis(link.expires_at),
            link.category.as_str(),
        ])
    })
    .map_err(sq("creating a connection link"))?;
    Ok(())
}

pub(crate) fn by_digest(tx: &Transaction<'_>, token_hash: &str) -> Result<Option<StoredLink>> {
    tx.prepare_cached(select!("WHERE token_hash = ?1"))
        .and_then(|mut s| s.query_row([token_hash], stored).optional())
        .map_err(sq("reading a connection link"))
}

/// The link a completion token that has not expired at `now` was handed out for.
pub(crate) fn by_completion(
    tx: &Transaction<'_>,
    completion_hash: &str,
    now: i64,
) -> Result<Option<StoredLink>> {
    tx.prepare_cached(select!(
        "WHERE completion_hash = ?1 AND completion_expires_at > ?2"
    ))
    .and_then(|mut s| {
        s.query_row(params![completion_hash, now], stored)
            .optional()
    })
    .map_err(sq("reading a connection link"))
}

/// See `Store::reserve_link_attempt`: the check and the count are one statement.
pub(crate) fn reserve_attempt(
    tx: &Transaction<'_>,
    token_hash: &str,
    max_attempts: i64,
    now: i64,
) -> Result<Option<i64>> {
    tx.prepare_cached(
        "UPDATE connect_links SET failed_attempts = failed_attempts + 1 \
         WHERE token_hash = ?1 AND failed_attempts < ?2 AND completed_at IS NULL AND expires_at > ?3 \
         RETURNING failed_attempts",
    )
    .and_then(|mut s| {
        s.query_row(params![token_hash, max_attempts, now], |r| r.get(0))
            .optional()
    })
    .map_err(sq("reserving a connection attempt"))
}

pub(crate) fn release_attempt(tx: &Transaction<'_>, token_hash: &str) -> Result<()> {
    tx.prepare_cached(
        "UPDATE connect_links SET failed_attempts = failed_attempts - 1 WHERE token_hash = ?1 AND failed_attempts > 0",
    )
    .and_then(|mut s| s.execute([token_hash]))
    .map_err(sq("releasing a connection attempt"))?;
    Ok(())
}

/// Marks an open link completed; `false` when it was used already or has expired.
pub(crate) fn claim(tx: &Transaction<'_>, claim: &LinkClaim) -> Result<bool> {
    let n = tx
        .prepare_cached(
            "UPDATE connect_links SET completed_at = ?1, integration_id = ?2, completion_hash = ?3, completion_expires_at = ?4 \
             WHERE token_hash = ?5 AND completed_at IS NULL AND expires_at > ?1",
        )
        .and_then(|mut s| {
            s.execute(params![
                claim.now,
                claim.integration_id,
                claim.completion_hash,
                claim.completion_expires_at,
                claim.token_hash,
            ])
        })
        .map_err(sq("completing a connection link"))?;
    Ok(n > 0)
}
