//! What an operator can do: sync an integration now, enable or disable it, and redeliver a
//! webhook delivery. Each is a POST form carrying the session's CSRF token, answered with a
//! redirect back to the page it came from; they go through the same code as the API's
//! `force-sync` and `enabled` routes.

use atsbridge_model::integration::{IntegrationStatus, SyncKind};
use atsbridge_model::Timestamp;
use atsbridge_store::IntegrationRow;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::layout::{error_page, store_failed};
use super::session::{checked_form, csrf_refused, Operator};
use crate::management::{change_enabled, start_sync};
use crate::AppState;

fn back_to_integration(id: &str) -> Response {
    Redirect::to(&format!("/dashboard/integrations/{id}")).into_response()
}

/// The integration an action is about, or the page saying why there is none.
async fn integration(state: &AppState, id: &str) -> Result<IntegrationRow, Response> {
    match state.store.integration(id).await {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(error_page(
            StatusCode::NOT_FOUND,
            "There is no such integration",
        )),
        Err(e) => Err(store_failed(&e)),
    }
}

fn refused(e: &crate::error::ApiError) -> Response {
    error_page(StatusCode::CONFLICT, &e.message)
}

/// `POST /dashboard/integrations/{id}/sync`: queues a full sync and starts it.
pub(crate) async fn sync_now(
    State(state): State<AppState>,
    operator: Operator,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if checked_form(&operator, &body).is_none() {
        return csrf_refused();
    }
    let row = match integration(&state, &id).await {
        Ok(row) => row,
        Err(page) => return page,
    };
    if row.status == IntegrationStatus::Inactive {
        return error_page(
            StatusCode::CONFLICT,
            "The integration is disabled; enable it first",
        );
    }
    match start_sync(&state, &row.id, SyncKind::Full).await {
        Ok((_, run_id)) => {
            tracing::info!(integration_id = %row.id, %run_id, key_id = %operator.session.key_id, "sync started from the dashboard");
            back_to_integration(&row.id)
        }
        Err(e) => refused(&e),
    }
}

/// `POST /dashboard/integrations/{id}/enabled` `value=true|false`.
pub(crate) async fn set_enabled(
    State(state): State<AppState>,
    operator: Operator,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(fields) = checked_form(&operator, &body) else {
        return csrf_refused();
    };
    let value = match fields.get("value").map(String::as_str) {
        Some("true") => true,
        Some("false") => false,
        _ => return error_page(StatusCode::BAD_REQUEST, "`value` must be true or false"),
    };
    let row = match integration(&state, &id).await {
        Ok(row) => row,
        Err(page) => return page,
    };
    match change_enabled(&state, &row, value).await {
        Ok(()) => {
            tracing::info!(integration_id = %row.id, value, key_id = %operator.session.key_id, "integration enabled or disabled from the dashboard");
            back_to_integration(&row.id)
        }
        Err(e) => refused(&e),
    }
}

/// `POST /dashboard/deliveries/{id}/redeliver`.
pub(crate) async fn redeliver(
    State(state): State<AppState>,
    operator: Operator,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if checked_form(&operator, &body).is_none() {
        return csrf_refused();
    }
    match state.store.redeliver(&id, Timestamp::now()).await {
        Ok(true) => {
            tracing::info!(delivery_id = %id, key_id = %operator.session.key_id, "delivery queued again from the dashboard");
            Redirect::to("/dashboard/deliveries").into_response()
        }
        Ok(false) => error_page(StatusCode::NOT_FOUND, "There is no such delivery"),
        Err(e) => store_failed(&e),
    }
}
