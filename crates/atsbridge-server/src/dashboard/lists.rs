//! The lists across integrations: webhook deliveries with their attempts (and a redeliver
//! button each), one delivery with every attempt, and connection links with their state.

use atsbridge_model::Timestamp;
use atsbridge_store::{ConnectLink, StoreError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};

use super::layout::{badge, error_page, layout, store_failed, when, when_opt};
use super::session::{csrf_field, Operator};
use super::{page_response, LIST_LIMIT};
use crate::connect::MAX_FAILED_ATTEMPTS;
use crate::AppState;

/// `GET /dashboard/deliveries`: the newest webhook deliveries.
pub(crate) async fn deliveries(State(state): State<AppState>, operator: Operator) -> Response {
    match deliveries_markup(&state, &operator).await {
        Ok(markup) => page_response(StatusCode::OK, markup),
        Err(e) => store_failed(&e),
    }
}

async fn deliveries_markup(state: &AppState, operator: &Operator) -> Result<Markup, StoreError> {
    let deliveries = state.store.recent_deliveries(LIST_LIMIT).await?;
    let body = html! {
        h1 { "Webhook deliveries" }
        p.muted { "The newest " (LIST_LIMIT) ". Redeliver sends one again at the deliverer's next pass, whatever its state." }
        table #deliveries {
            thead { tr {
                th { "Delivery" } th { "Event" } th { "Webhook" } th { "Integration" } th { "State" }
                th.num { "Attempts" } th { "Last answer" } th { "Next attempt" } th { "Delivered" } th {}
            } }
            tbody {
                @for d in &deliveries {
                    tr data-delivery=(d.id) {
                        td.mono { a href=(format!("/dashboard/deliveries/{}", d.id)) { (d.id) } }
                        td { (d.event_type) div.muted.mono { (d.event_id) } }
                        td.mono { (d.webhook_id) }
                        td { @if let Some(i) = &d.integration_id {
                            a.mono href=(format!("/dashboard/integrations/{i}")) { (i) } } }
                        td { (badge(d.state.as_str())) }
                        td.num { (d.attempts) }
                        td {
                            @if let Some(status) = d.last_status { "HTTP " (status) }
                            @if let Some(ms) = d.last_latency_ms { span.muted { " in " (ms) " ms" } }
                            @if let Some(error) = &d.last_error { div.error { (error) } }
                            @if d.attempts == 0 { span.muted { "not tried yet" } }
                        }
                        td { @if d.state.as_str() == "PENDING" { (when(d.next_attempt_at)) } @else { "—" } }
                        td { (when_opt(d.delivered_at)) }
                        td {
                            form method="post" action=(format!("/dashboard/deliveries/{}/redeliver", d.id)) {
                                (csrf_field(operator))
                                button.secondary type="submit" { "Redeliver" }
                            }
                        }
                    }
                }
                @if deliveries.is_empty() { tr { td colspan="10" .muted { "No deliveries yet" } } }
            }
        }
    };
    Ok(layout(operator, "Webhook deliveries", body))
}

/// `GET /dashboard/deliveries/{id}`: one delivery and every attempt made of it.
pub(crate) async fn delivery(
    State(state): State<AppState>,
    operator: Operator,
    Path(id): Path<String>,
) -> Response {
    match delivery_markup(&state, &operator, &id).await {
        Ok(Some(markup)) => page_response(StatusCode::OK, markup),
        Ok(None) => error_page(StatusCode::NOT_FOUND, "There is no such delivery"),
        Err(e) => store_failed(&e),
    }
}

async fn delivery_markup(
    state: &AppState,
    operator: &Operator,
    id: &str,
) -> Result<Option<Markup>, StoreError> {
    let Some((d, attempts)) = state.store.delivery_with_attempts(id).await? else {
        return Ok(None);
    };
    let body = html! {
        h1 { "Delivery " span.mono { (d.id) } }
        dl.facts {
            dt { "Event" } dd { (d.event_type) " " span.muted.mono { (d.event_id) } }
            dt { "Webhook" } dd.mono { (d.webhook_id) }
            dt { "Integration" } dd { @if let Some(i) = &d.integration_id {
                a.mono href=(format!("/dashboard/integrations/{i}")) { (i) } } @else { "—" } }
            dt { "State" } dd #delivery-state { (badge(d.state.as_str())) }
            dt { "Created" } dd { (when(d.created_at)) }
            dt { "Next attempt" } dd { @if d.state.as_str() == "PENDING" { (when(d.next_attempt_at)) } @else { "—" } }
            dt { "Delivered" } dd { (when_opt(d.delivered_at)) }
        }
        form method="post" action=(format!("/dashboard/deliveries/{}/redeliver", d.id)) {
            (csrf_field(operator))
            button.secondary type="submit" { "Redeliver" }
        }
        h2 { "Attempts" }
        table #attempts {
            thead { tr { th.num { "#" } th { "At" } th { "Answer" } th.num { "Milliseconds" } th { "Error" } } }
            tbody {
                @for a in &attempts {
                    tr data-attempt=(a.attempt) {
                        td.num { (a.attempt) }
                        td { (when(a.at)) }
                        td { @if let Some(status) = a.status { "HTTP " (status) } @else { span.muted { "no answer" } } }
                        td.num { (a.latency_ms) }
                        td { @if let Some(error) = &a.error { span.error { (error) } } }
                    }
                }
                @if attempts.is_empty() { tr { td colspan="5" .muted { "Not tried yet" } } }
            }
        }
    };
    Ok(Some(layout(operator, "Webhook delivery", body)))
}

/// What a link is now: `used`, `expired`, `locked` (too many failed attempts) or `open`.
pub(crate) fn link_state(link: &ConnectLink, now: Timestamp) -> &'static str {
    if link.completed_at.is_some() {
        "used"
    } else if link.expires_at <= now {
        "expired"
    } else if link.failed_attempts >= MAX_FAILED_ATTEMPTS {
        "locked"
    } else {
        "open"
    }
}

/// `GET /dashboard/links`: the newest connection links.
pub(crate) async fn links(State(state): State<AppState>, operator: Operator) -> Response {
    match links_markup(&state, &operator).await {
        Ok(markup) => page_response(StatusCode::OK, markup),
        Err(e) => store_failed(&e),
    }
}

async fn links_markup(state: &AppState, operator: &Operator) -> Result<Markup, StoreError> {
    let links = state.store.recent_connect_links(LIST_LIMIT).await?;
    let now = Timestamp::now();
    let body = html! {
        h1 { "Connection links" }
        p.muted { "The newest " (LIST_LIMIT) ". Links are stored as digests: the links themselves cannot be shown again." }
        table #links {
            thead { tr {
                th { "Created" } th { "Tool" } th { "Customer" } th { "Purpose" } th { "Type" }
                th { "State" } th { "Expires" } th.num { "Failed attempts" } th { "Integration" }
            } }
            tbody {
                @for l in &links {
                    tr data-link-state=(link_state(l, now)) {
                        td { (when(l.created_at)) }
                        td { (l.tool) }
                        td { (l.organization_name)
                            @if let Some(email) = &l.end_user_email { div.muted { (email) } } }
                        td { (l.purpose.as_str()) }
                        td { (l.link_type) }
                        td { (badge(link_state(l, now))) }
                        td { (when(l.expires_at)) }
                        td.num { (l.failed_attempts) }
                        td { @if let Some(i) = &l.integration_id {
                            a.mono href=(format!("/dashboard/integrations/{i}")) { (i) } } }
                    }
                }
                @if links.is_empty() { tr { td colspan="9" .muted { "No connection links yet" } } }
            }
        }
    };
    Ok(layout(operator, "Connection links", body))
}
