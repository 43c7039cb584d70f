//! `Idempotency-Key` bookkeeping for write actions. A key is claimed by the first request
//! that carries it (PENDING); its successful answer is then kept (DONE) and replayed to
//! retries with the same request for a limited time. A failed request releases its key, so a
//! retry runs again.

use atsbridge_model::Timestamp;
use sqlx::Row as _;

use crate::{db, millis, Result, Store};

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
        let _turn = self.write_turn().await;
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(now_ms - ttl_ms)
            .execute(&self.pool)
            .await
            .map_err(db("forgetting expired idempotency keys"))?;
        sqlx::query("DELETE FROM idempotency_keys WHERE integration_id = $1 AND idem_key = $2 AND state = 'PENDING' AND created_at < $3")
            .bind(integration_id)
            .bind(key)
            .bind(now_ms - stale_ms)
            .execute(&self.pool)
            .await
            .map_err(db("taking over a stale idempotency key"))?;
        let inserted = sqlx::query("INSERT INTO idempotency_keys (integration_id, idem_key, request_hash, state, created_at) VALUES ($1, $2, $3, 'PENDING', $4) ON CONFLICT (integration_id, idem_key) DO NOTHING")
            .bind(integration_id)
            .bind(key)
            .bind(request_hash)
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(db("claiming an idempotency key"))?;
        if inserted.rows_affected() == 1 {
            return Ok(IdempotencyClaim::Claimed);
        }
        let row = sqlx::query("SELECT request_hash, state, status, response FROM idempotency_keys WHERE integration_id = $1 AND idem_key = $2")
            .bind(integration_id)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db("reading an idempotency key"))?;
        let Some(row) = row else {
            // Released between our insert and our read: treat it as still busy; the client
            // retries.
            return Ok(IdempotencyClaim::InProgress {
                request_hash: request_hash.to_owned(),
            });
        };
        let r = |e| db("reading an idempotency key")(e);
        let stored_hash: String = row.try_get("request_hash").map_err(r)?;
        let state: String = row.try_get("state").map_err(r)?;
        let status: Option<i64> = row.try_get("status").map_err(r)?;
        let response: Option<String> = row.try_get("response").map_err(r)?;
        Ok(match (state.as_str(), status, response) {
            ("DONE", Some(status), Some(response)) => IdempotencyClaim::Completed {
                request_hash: stored_hash,
                status: u16::try_from(status).unwrap_or(200),
                response,
            },
            _ => IdempotencyClaim::InProgress {
                request_hash: stored_hash,
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
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE idempotency_keys SET state = 'DONE', status = $1, response = $2 WHERE integration_id = $3 AND idem_key = $4")
            .bind(i64::from(status))
            .bind(response)
            .bind(integration_id)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db("completing an idempotency key"))?;
        Ok(())
    }

    /// Frees `key` after its request failed, so that a retry runs again.
    pub async fn release_idempotency_key(&self, integration_id: &str, key: &str) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("DELETE FROM idempotency_keys WHERE integration_id = $1 AND idem_key = $2 AND state = 'PENDING'")
            .bind(integration_id)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db("releasing an idempotency key"))?;
        Ok(())
    }

    /// Moves every key `by_ms` into the past (tests of expiry).
    #[cfg(feature = "testing")]
    pub async fn age_idempotency_keys_for_tests(&self, by_ms: i64) -> Result<()> {
        let _turn = self.write_turn().await;
        sqlx::query("UPDATE idempotency_keys SET created_at = created_at - $1")
            .bind(by_ms)
            .execute(&self.pool)
            .await
            .map_err(db("ageing idempotency keys"))?;
        Ok(())
    }
}
