//! Webhook subscriptions of the caller's environment (an atsbridge addition; Kombo configures
//! them in its dashboard): create (the secret is shown once), list, remove, rotate the
//! secret, and read a webhook's delivery log. Delivery itself is `atsbridge_sync::webhooks`.

use atsbridge_model::{DataResponse, Timestamp};
use atsbridge_store::webhooks::{generate_secret, EVENT_TYPES};
use atsbridge_store::{Delivery, Webhook};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::body::{KomboBody, KomboJson};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", post(create).get(list))
        .route("/webhooks/{webhook_id}", axum::routing::delete(remove))
        .route("/webhooks/{webhook_id}/rotate-secret", post(rotate))
        .route("/webhooks/{webhook_id}/deliveries", get(deliveries))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(expecting = "a JSON object like {\"url\": \"https://example.com/hook\"}")]
pub(crate) struct CreateBody {
    url: String,
    #[serde(default)]
    events: Option<Vec<String>>,
}

impl KomboBody for CreateBody {}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct WebhookAnswer {
    id: String,
    url: String,
    /// The event types sent; all of them when none were chosen.
    events: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    created_at: Timestamp,
}

fn answer(w: Webhook, secret: Option<String>) -> WebhookAnswer {
    WebhookAnswer {
        id: w.id,
        url: w.url,
        events: w
            .events
            .unwrap_or_else(|| EVENT_TYPES.iter().map(|&t| t.to_owned()).collect()),
        secret,
        created_at: w.created_at,
    }
}

/// Checks the event types asked for; `None` or `[]` mean all.
pub fn check_events(events: Option<Vec<String>>) -> Result<Option<Vec<String>>, String> {
    let Some(events) = events.filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let mut out: Vec<String> = Vec::new();
    for e in events {
        let e = e.trim().to_owned();
        if !EVENT_TYPES.contains(&e.as_str()) {
            return Err(format!(
                "`{e}` is not an event type; the types are {}",
                EVENT_TYPES.join(", ")
            ));
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(Some(out))
}

fn not_found(id: &str) -> ApiError {
    ApiError::invalid(
        "webhook_id",
        format!("no webhook `{id}` in this environment"),
    )
}

/// `POST /webhooks {url, events?}`: subscribes; the answer holds the signing secret, which
/// is not shown again.
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    KomboJson(body): KomboJson<CreateBody>,
) -> ApiResult<Json<DataResponse<WebhookAnswer>>> {
    let url =
        atsbridge_sync::webhooks::validate_url(&body.url, state.config.allow_private_webhook_urls)
            .await
            .map_err(|e| ApiError::invalid("url", e))?;
    let events = check_events(body.events).map_err(|e| ApiError::invalid("events", e))?;
    let secret = generate_secret();
    let webhook = state
        .store
        .create_webhook(
            &caller.0.environment_id,
            url.as_str(),
            events.as_deref(),
            &secret,
            Timestamp::now(),
        )
        .await?;
    tracing::info!(webhook_id = %webhook.id, url = %webhook.url, "webhook created");
    Ok(Json(DataResponse::new(answer(webhook, Some(secret)))))
}

/// `GET /webhooks`: the environment's webhooks, without secrets.
async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<DataResponse<Vec<WebhookAnswer>>>> {
    let hooks = state.store.webhooks(&caller.0.environment_id).await?;
    Ok(Json(DataResponse::new(
        hooks.into_iter().map(|w| answer(w, None)).collect(),
    )))
}

/// `DELETE /webhooks/{id}`: no new deliveries; pending ones are marked FAILED.
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DataResponse<Map<String, Value>>>> {
    if !state
        .store
        .remove_webhook(&caller.0.environment_id, &id, Timestamp::now())
        .await?
    {
        return Err(not_found(&id));
    }
    tracing::info!(webhook_id = %id, "webhook removed");
    Ok(Json(DataResponse::new(Map::new())))
}

/// `POST /webhooks/{id}/rotate-secret`: a new secret, used from the next attempt on.
async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DataResponse<WebhookAnswer>>> {
    let env = &caller.0.environment_id;
    let Some(webhook) = state.store.webhook(env, &id).await? else {
        return Err(not_found(&id));
    };
    let secret = generate_secret();
    if !state.store.set_webhook_secret(env, &id, &secret).await? {
        return Err(not_found(&id));
    }
    tracing::info!(webhook_id = %id, "webhook secret rotated");
    Ok(Json(DataResponse::new(answer(webhook, Some(secret)))))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryAnswer {
    id: String,
    event_id: String,
    #[serde(rename = "type")]
    kind: String,
    integration_id: Option<String>,
    state: &'static str,
    attempts: i64,
    last_status: Option<i64>,
    last_latency_ms: Option<i64>,
    last_error: Option<String>,
    first_attempt_at: Option<Timestamp>,
    next_attempt_at: Option<Timestamp>,
    delivered_at: Option<Timestamp>,
    created_at: Timestamp,
}

impl From<Delivery> for DeliveryAnswer {
    fn from(d: Delivery) -> Self {
        let pending = d.state == atsbridge_store::DeliveryState::Pending;
        DeliveryAnswer {
            id: d.id,
            event_id: d.event_id,
            kind: d.event_type,
            integration_id: d.integration_id,
            state: d.state.as_str(),
            attempts: d.attempts,
            last_status: d.last_status,
            last_latency_ms: d.last_latency_ms,
            last_error: d.last_error,
            first_attempt_at: d.first_attempt_at,
            next_attempt_at: pending.then_some(d.next_attempt_at),
            delivered_at: d.delivered_at,
            created_at: d.created_at,
        }
    }
}

/// `GET /webhooks/{id}/deliveries`: the newest 500 deliveries, newest first.
async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DataResponse<Vec<DeliveryAnswer>>>> {
    if state
        .store
        .webhook(&caller.0.environment_id, &id)
        .await?
        .is_none()
    {
        return Err(not_found(&id));
    }
    let list = state.store.deliveries(&id, 500).await?;
    Ok(Json(DataResponse::new(
        list.into_iter().map(Into::into).collect(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::parse_json;

    #[test]
    fn event_lists_are_checked() {
        assert_eq!(check_events(None), Ok(None));
        assert_eq!(check_events(Some(vec![])), Ok(None));
        assert_eq!(
            check_events(Some(vec!["data-changed".into(), "data-changed".into()])),
            Ok(Some(vec!["data-changed".into()]))
        );
        assert!(check_events(Some(vec!["nope".into()]))
            .unwrap_err()
            .contains("`nope`"));
    }

    #[test]
    fn bodies_name_the_bad_field() {
        let e = parse_json::<CreateBody>(br#"{"url": 3}"#, false).unwrap_err();
        assert!(e.message.starts_with("url:"), "{}", e.message);
        let e = parse_json::<CreateBody>(br#"{"url": "x", "events": "a"}"#, false).unwrap_err();
        assert!(e.message.starts_with("events:"), "{}", e.message);
    }
}
