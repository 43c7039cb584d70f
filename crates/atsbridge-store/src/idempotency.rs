//! `Idempotency-Key` bookkeeping for write actions. A key is claimed by the first request
//! that carries it (PENDING); its successful answer is then kept (DONE) and replayed to
//! retries with the same request for a limited time. A failed request releases its key, so a
//! retry runs again.

use atsbridge_model::Timestamp;

use crate::{millis, pg, sqlite, Db, Result, Store};

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key was free: this request owns it now and must complete or release it.
    Claimed,
    /// Another request with this key is still running.
    InProgress { request_hash: String },
    /// A request with this key finished; here is what it answered.
    Completed {
        request_hash: String,
        status: u16,
        response: String,
    },
}

/// A claim to make, in Unix milliseconds.
#[derive(Debug, Clone)]
pub(crate) struct Claim {
    pub integration_id: String,
    pub key: String,
    pub request_hash: String,
    pub now: i64,
    /// Keys created before this are forgotten.
    pub expired_before: i64,
    /// PENDING claims created before this are taken over.
    pub stale_before: i64,
}

/// A key's row as stored.
#[derive(Debug)]
pub(crate) struct StoredKey {
    pub request_hash: String,
    pub state: String,
    pub status: Option<i64>,
    pub response: Option<String>,
}

/// What a claim met: `None` when it took the key, else the key's row (`None` if it was
/// released between the insert and the read).
type Found = Option<Option<StoredKey>>;

impl Store {
    /// Claims `key` for a request whose content hashes to `request_hash`. Keys older than
    /// `ttl_ms` are forgotten first; a PENDING claim older than `stale_ms` (its request died)
    /// is taken over.
    pub async fn claim_idempotency_key(
        &self,
        integration_id: &str,
        key: &str,
        request_hash: &str,
        now: Timestamp,
        ttl_ms: i64,
        stale_ms: i64,
    ) -> Result<IdempotencyClaim> {
        let now_ms = millis(now);
        let claim = Claim {
            integration_id: integration_id.to_owned(),
            key: key.to_owned(),
            request_hash: request_hash.to_owned(),
            now: now_ms,
            expired_before: now_ms - ttl_ms,
            stale_before: now_ms - stale_ms,
        };
        let found: Found = match &self.db {
            Db::Sqlite(s) => {
                s.write("claiming an idempotency key", move |tx| {
                    Ok(if sqlite::idempotency::claim(tx, &claim)? {
                        None
                    } else {
                        Some(sqlite::idempotency::get(
                            tx,
                            &claim.integration_id,
                            &claim.key,
                        )?)
                    })
                })
                .await?
            }
            // No transaction, as before: each statement stands alone, and the INSERT's
            // conflict decides which of concurrent claims (from any node) takes the key.
            Db::Postgres(p) => {
                if pg::idempotency::claim(p, &claim).await? {
                    None
                } else {
                    Some(pg::idempotency::get(p, integration_id, key).await?)
                }
            }
        };
        let Some(row) = found else {
            return Ok(IdempotencyClaim::Claimed);
        };
        let Some(row) = row else {
            // Released between our insert and our read: treat it as still busy; the client
            // retries.
            return Ok(IdempotencyClaim::InProgress {
                request_hash: request_hash.to_owned(),
            });
        };
        Ok(match (row.state.as_str(), row.status, row.response) {
            ("DONE", Some(status), Some(response)) => IdempotencyClaim::Completed {
                request_hash: row.request_hash,
                status: u16::try_from(status).unwrap_or(200),
                response,
            },
            _ => IdempotencyClaim::InProgress {
                request_hash: row.request_hash,
            },
        })
    }

    /// Keeps the answer of the request that claimed `key`.
    pub async fn complete_idempotency_key(
        &self,
        integration_id: &str,
        key: &str,
        status: u16,
        response: &str,
    ) -> Result<()> {
        let status = i64::from(status);
        match &self.db {
            Db::Sqlite(s) => {
                let (integration_id, key, response) = (
                    integration_id.to_owned(),
                    key.to_owned(),
                    response.to_owned(),
                );
                s.write("completing an idempotency key", move |tx| {
                    sqlite::idempotency::complete(tx, &integration_id, &key, status, &response)
                })
                .await
            }
            Db::Postgres(p) => {
                pg::idempotency::complete(p, integration_id, key, status, response).await
            }
        }
    }

    /// Frees `key` after its request failed, so that a retry runs again.
    pub async fn release_idempotency_key(&self, integration_id: &str, key: &str) -> Result<()> {
        match &self.db {
            Db::Sqlite(s) => {
                let (integration_id, key) = (integration_id.to_owned(), key.to_owned());
                s.write("releasing an idempotency key", move |tx| {
                    sqlite::idempotency::release(tx, &integration_id, &key)
                })
                .await
            }
            Db::Postgres(p) => pg::idempotency::release(p, integration_id, key).await,
        }
    }

    /// Moves every key `by_ms` into the past (tests of expiry).
    #[cfg(feature = "testing")]
    pub async fn age_idempotency_keys_for_tests(&self, by_ms: i64) -> Result<()> {
        match &self.db {
            Db::Sqlite(s) => {
                s.write("ageing idempotency keys", move |tx| {
                    sqlite::idempotency::age(tx, by_ms)
                })
                .await
            }
            Db::Postgres(p) => pg::idempotency::age(p, by_ms).await,
        }
    }
}
