//! The cap on write actions in flight per integration (Kombo's is 30): a slot is taken
//! before anything else is done, a request finding none answers 429
//! `PLATFORM.CONCURRENCY_LIMIT_EXCEEDED`, and every answer says how many slots are left.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use atsbridge_model::integration::Category;
use atsbridge_model::ErrorCode;
use atsbridge_store::IntegrationRow;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::idempotency::execute;
use super::plan::WriteBody;
use crate::error::ApiError;
use crate::AppState;

/// Write actions in flight per integration.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<Mutex<HashMap<String, usize>>>);

/// One slot under the cap; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit {
    map: Arc<Mutex<HashMap<String, usize>>>,
    key: String,
    /// Slots left for the integration after this one was taken.
    pub remaining: usize,
}

impl InFlight {
    /// A slot for `integration_id`, unless `cap` are taken already.
    pub fn acquire(&self, integration_id: &str, cap: usize) -> Option<Permit> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(integration_id.to_owned()).or_default();
        if *n >= cap {
            if *n == 0 {
                map.remove(integration_id);
            }
            return None;
        }
        *n += 1;
        let remaining = cap - *n;
        Some(Permit {
            map: self.0.clone(),
            key: integration_id.to_owned(),
            remaining,
        })
    }

    /// Write actions in flight for `integration_id` now.
    pub fn count(&self, integration_id: &str) -> usize {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(integration_id).copied().unwrap_or(0)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

const CONCURRENCY_REMAINING: &str = "concurrency-remaining";

/// Runs the write in a slot under the integration's cap, or answers 429 at once. Either way
/// the answer says how many slots are left.
pub(super) async fn limited(
    state: &AppState,
    integration: &IntegrationRow,
    body: WriteBody,
    headers: &HeaderMap,
) -> Response {
    if let Err(e) = crate::ats::check_category(integration, Category::Ats) {
        return e.into_response();
    }
    let cap = state.config.write_concurrency_per_integration;
    let Some(permit) = state.writes.acquire(&integration.id, cap) else {
        tracing::info!(integration_id = %integration.id, cap, "write concurrency limit exceeded");
        let mut response = ApiError::new(
            ErrorCode::PlatformConcurrencyLimitExceeded,
            format!(
                "integration `{}` already has {cap} write actions in flight; retry when one has finished",
                integration.id
            ),
        )
        .into_response();
        response
            .headers_mut()
            .insert(CONCURRENCY_REMAINING, HeaderValue::from(0u64));
        return response;
    };
    let remaining = permit.remaining;
    let mut response = execute(state, integration, body, headers)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    drop(permit);
    response
        .headers_mut()
        .insert(CONCURRENCY_REMAINING, HeaderValue::from(remaining as u64));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_counts_and_frees_slots() {
        let f = InFlight::default();
        let a = f.acquire("i", 2).unwrap();
        assert_eq!(a.remaining, 1);
        let b = f.acquire("i", 2).unwrap();
        assert_eq!(b.remaining, 0);
        assert!(f.acquire("i", 2).is_none());
        assert!(f.acquire("other", 2).is_some());
        drop(a);
        assert_eq!(f.count("i"), 1);
        drop(b);
        assert_eq!(f.count("i"), 0);
    }
}
