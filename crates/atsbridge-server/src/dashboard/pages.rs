//! The pages about integrations and their runs: every integration with its state, last run
//! and record counts (`/dashboard`), one integration with its settings, actions and runs,
//! and one run with its counts and log (`log_url` of `sync-finished` points there).

use std::collections::BTreeMap;

use atsbridge_model::integration::IntegrationStatus;
use atsbridge_store::{IntegrationRow, RunRow, StoreError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};

use super::chart;
use super::layout::{badge, changed, error_page, layout, seconds, store_failed, when, when_opt};
use super::page_response;
use super::session::{csrf_field, Operator};
use crate::AppState;

/// Runs in the charts and on an integration's page.
const RUNS_SHOWN: i64 = 50;

fn enabled(row: &IntegrationRow) -> bool {
    row.status != IntegrationStatus::Inactive
}

fn counts_cell(counts: &BTreeMap<String, i64>) -> Markup {
    html! {
        @if counts.is_empty() { span.muted { "none yet" } }
        @for (model, n) in counts {
            div { span.mono { (model) } ": " (n) }
        }
    }
}

fn run_cell(run: Option<&RunRow>) -> Markup {
    html! {
        @match run {
            Some(run) => {
                a href=(format!("/dashboard/runs/{}", run.id)) { (when(run.started_at)) }
                " " (badge(run.state.as_str()))
                @if let Some(error) = &run.error { div.error { (error) } }
            }
            None => span.muted { "never ran" },
        }
    }
}

/// `GET /dashboard`: every integration.
pub(crate) async fn integrations(State(state): State<AppState>, operator: Operator) -> Response {
    match integrations_markup(&state, &operator).await {
        Ok(markup) => page_response(StatusCode::OK, markup),
        Err(e) => store_failed(&e),
    }
}

async fn integrations_markup(state: &AppState, operator: &Operator) -> Result<Markup, StoreError> {
    let rows = state.store.integrations(None).await?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let last = state.store.runs(&row.id, 1).await?.into_iter().next();
        let counts = state.store.counts(&row.id).await?;
        lines.push((row, last, counts));
    }
    let recent = state.store.recent_runs(RUNS_SHOWN).await?;
    let body = html! {
        h1 { "Integrations" }
        h2 { "Runs over time (all integrations)" }
        (chart::figure(&recent))
        h2 { (lines.len()) " integrations" }
        table #integrations {
            thead { tr {
                th { "Integration" } th { "Tool" } th { "Customer" } th { "State" }
                th { "Enabled" } th { "Setup" } th { "Last run" } th { "Records" }
            } }
            tbody {
                @for (row, last, counts) in &lines {
                    tr data-integration=(row.id) {
                        td { a.mono href=(format!("/dashboard/integrations/{}", row.id)) { (row.id) } }
                        td { (row.tool) " " span.muted { (row.category.as_str()) } }
                        td { (row.end_user.organization_name) }
                        td { (badge(row.status.as_str())) }
                        td { @if enabled(row) { "yes" } @else { "no" } }
                        td { (row.setup_status.as_str()) }
                        td { (run_cell(last.as_ref())) }
                        td { (counts_cell(counts)) }
                    }
                }
            }
        }
    };
    Ok(layout(operator, "Integrations", body))
}

/// `GET /dashboard/integrations/{id}`.
pub(crate) async fn integration(
    State(state): State<AppState>,
    operator: Operator,
    Path(id): Path<String>,
) -> Response {
    match integration_markup(&state, &operator, &id).await {
        Ok(Some(markup)) => page_response(StatusCode::OK, markup),
        Ok(None) => error_page(StatusCode::NOT_FOUND, "There is no such integration"),
        Err(e) => store_failed(&e),
    }
}

async fn integration_markup(
    state: &AppState,
    operator: &Operator,
    id: &str,
) -> Result<Option<Markup>, StoreError> {
    let Some(row) = state.store.integration(id).await? else {
        return Ok(None);
    };
    let runs = state.store.runs(id, RUNS_SHOWN).await?;
    let counts = state.store.counts(id).await?;
    let body = html! {
        h1 { "Integration " span.mono { (row.id) } }
        dl.facts {
            dt { "Tool" } dd { (row.tool) " (" (row.category.as_str()) ")" }
            dt { "Customer" } dd { (row.end_user.organization_name)
                @if let Some(email) = &row.end_user.creator_email { " · " (email) } }
            dt { "Environment" } dd.mono { (row.environment_id) }
            dt { "State" } dd #state { (badge(row.status.as_str())) }
            dt { "Enabled" } dd #enabled { @if enabled(&row) { "yes" } @else { "no" } }
            dt { "Setup" } dd { (row.setup_status.as_str()) }
            dt { "Created" } dd { (when(row.created_at)) }
            dt { "First synced" } dd { (when_opt(row.first_synced_at)) }
            dt { "Sync queued" } dd { (when_opt(row.sync_requested_at)) }
            dt { "Records" } dd { (counts_cell(&counts)) }
        }
        h2 { "Settings" }
        dl.facts #settings {
            dt { "Source name for created applications" }
            dd { (row.settings.source_name.as_deref().unwrap_or("—")) }
            dt { "Sync only applications created through atsbridge" }
            dd { @if row.settings.sync_only_created_applications { "yes" } @else { "no" } }
        }
        div.actions {
            form method="post" action=(format!("/dashboard/integrations/{}/sync", row.id)) {
                (csrf_field(operator))
                button #sync-now type="submit" { "Sync now" }
            }
            form method="post" action=(format!("/dashboard/integrations/{}/enabled", row.id)) {
                (csrf_field(operator))
                @if enabled(&row) {
                    input type="hidden" name="value" value="false";
                    button.secondary #toggle-enabled type="submit" { "Disable" }
                } @else {
                    input type="hidden" name="value" value="true";
                    button.secondary #toggle-enabled type="submit" { "Enable" }
                }
            }
        }
        h2 { "Runs over time" }
        (chart::figure(&runs))
        h2 { "Runs" }
        (runs_table(&runs))
    };
    Ok(Some(layout(operator, &row.id, body)))
}

fn runs_table(runs: &[RunRow]) -> Markup {
    html! {
        table #runs {
            thead { tr {
                th { "Run" } th { "Started" } th { "State" } th.num { "Seconds" }
                th.num { "Changed" } th.num { "Requests" } th { "Error" }
            } }
            tbody {
                @for run in runs {
                    tr data-run=(run.id) {
                        td { a.mono href=(format!("/dashboard/runs/{}", run.id)) { (run.id) } }
                        td { (when(run.started_at)) }
                        td { (badge(run.state.as_str())) }
                        td.num { @if let Some(s) = seconds(run) { (format!("{s:.1}")) } @else { "—" } }
                        td.num { (changed(run)) }
                        td.num { (run.upstream_requests) }
                        td.error { (run.error.as_deref().unwrap_or("")) }
                    }
                }
                @if runs.is_empty() { tr { td colspan="7" .muted { "No runs yet" } } }
            }
        }
    }
}

/// `GET /dashboard/runs/{id}`: a run, its counts per model and its log.
pub(crate) async fn run(
    State(state): State<AppState>,
    operator: Operator,
    Path(id): Path<String>,
) -> Response {
    match run_markup(&state, &operator, &id).await {
        Ok(Some(markup)) => page_response(StatusCode::OK, markup),
        Ok(None) => error_page(StatusCode::NOT_FOUND, "There is no such run"),
        Err(e) => store_failed(&e),
    }
}

async fn run_markup(
    state: &AppState,
    operator: &Operator,
    id: &str,
) -> Result<Option<Markup>, StoreError> {
    let Some(run) = state.store.run(id).await? else {
        return Ok(None);
    };
    let log = state.store.run_log(id).await?;
    let c = &run.counts;
    let models: std::collections::BTreeSet<&String> = c
        .inserted
        .keys()
        .chain(c.updated.keys())
        .chain(c.unchanged.keys())
        .chain(c.deleted.keys())
        .collect();
    let n = |m: &BTreeMap<String, u64>, k: &String| m.get(k).copied().unwrap_or(0);
    let body = html! {
        h1 { "Run " span.mono { (run.id) } }
        dl.facts {
            dt { "Integration" }
            dd { a.mono href=(format!("/dashboard/integrations/{}", run.integration_id)) { (run.integration_id) } }
            dt { "State" } dd #run-state { (badge(run.state.as_str())) }
            dt { "Kind" } dd { (run.kind.as_str()) " (asked for " (run.requested_kind.as_str()) ")" }
            dt { "Worker" } dd.mono { (run.worker) }
            dt { "Started" } dd { (when(run.started_at)) }
            dt { "Ended" } dd { (when_opt(run.ended_at)) }
            dt { "Seconds" } dd { @if let Some(s) = seconds(&run) { (format!("{s:.1}")) } @else { "still running" } }
            dt { "Upstream requests" } dd { (run.upstream_requests) }
            @if let Some(error) = &run.error { dt { "Why it failed" } dd.error #run-error { (error) } }
        }
        h2 { "Records" }
        table #counts {
            thead { tr { th { "Model" } th.num { "Inserted" } th.num { "Updated" } th.num { "Unchanged" } th.num { "Deleted" } } }
            tbody {
                @for m in &models {
                    tr { td.mono { (m) } td.num { (n(&c.inserted, m)) } td.num { (n(&c.updated, m)) }
                         td.num { (n(&c.unchanged, m)) } td.num { (n(&c.deleted, m)) } }
                }
                @if models.is_empty() { tr { td colspan="5" .muted { "Nothing stored" } } }
            }
        }
        h2 { "Log" }
        @if log.is_empty() {
            p.muted #log { "No log: the run started before logs were kept." }
        } @else {
            ol.log #log {
                @for line in &log {
                    li class=(format!("level-{}", line.level.as_str())) {
                        span.muted { (when(line.at)) } " " (line.level.as_str()) " " (line.message)
                    }
                }
            }
        }
    };
    Ok(Some(layout(operator, &run.id, body)))
}
