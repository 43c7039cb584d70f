//! The frame every dashboard page shares (navigation, sign-out), small formatting helpers and
//! the stylesheet. maud escapes every interpolated value: names typed by vendors, customers
//! or upstream tools cannot become markup.

use atsbridge_model::Timestamp;
use atsbridge_store::RunRow;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup, DOCTYPE};

use super::page_response;
use super::session::{csrf_field, Operator};

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="robots" content="noindex";
            title { (title) " · atsbridge" }
            link rel="stylesheet" href="/dashboard/assets/dashboard.css";
        }
    }
}

/// A page outside a session (sign-in, errors).
pub(crate) fn bare_layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body { main.narrow { (body) } }
        }
    }
}

/// A page of a signed-in operator.
pub(crate) fn layout(operator: &Operator, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                header {
                    nav {
                        a.brand href="/dashboard" { "atsbridge" }
                        a href="/dashboard" { "Integrations" }
                        a href="/dashboard/deliveries" { "Webhook deliveries" }
                        a href="/dashboard/links" { "Connection links" }
                    }
                    form.signout method="post" action="/dashboard/sign-out" {
                        (csrf_field(operator))
                        span.who { (operator.session.key_label) }
                        button type="submit" { "Sign out" }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A page that only says what went wrong.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let body = html! {
        h1 { (status.canonical_reason().unwrap_or("Error")) }
        p role="alert" { (message) }
        p { a href="/dashboard" { "Back to the dashboard" } }
    };
    page_response(status, bare_layout("Error", body))
}

/// `2026-11-30 19:15:17` (UTC).
pub(crate) fn when(t: Timestamp) -> String {
    let s = t.to_string();
    s.get(..19).map_or(s.clone(), |d| d.replace('T', " "))
}

pub(crate) fn when_opt(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "—".to_owned(), when)
}

/// How long a run took, in seconds; `None` while it runs.
pub(crate) fn seconds(run: &RunRow) -> Option<f64> {
    run.ended_at
        .map(|end| (end.unix_millis() - run.started_at.unix_millis()).max(0) as f64 / 1000.0)
}

/// Records a run inserted, updated or deleted.
pub(crate) fn changed(run: &RunRow) -> u64 {
    run.counts
        .inserted
        .values()
        .chain(run.counts.updated.values())
        .chain(run.counts.deleted.values())
        .sum()
}

/// A state as a badge whose colour says good, bad or neither.
pub(crate) fn badge(state: &str) -> Markup {
    let class = match state {
        "SUCCEEDED" | "ACTIVE" | "DELIVERED" | "COMPLETED" | "open" | "used" => "badge good",
        "FAILED" | "AUTHENTICATION_FAILED" | "INVALID" | "PARTIALLY_FAILED" | "locked" => {
            "badge bad"
        }
        _ => "badge",
    };
    html! { span class=(class) { (state) } }
}

pub(crate) const CSS: &str = r#"
:root { --fg: #1d2430; --muted: #5b6575; --line: #d9dee7; --bg: #f6f7f9; --accent: #2456c9; --good: #17794a; --bad: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; justify-content: space-between; align-items: center; padding: .6rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
nav a { margin-right: 1.2rem; color: var(--fg); text-decoration: none; }
nav a.brand { font-weight: 700; color: var(--accent); }
nav a:hover { text-decoration: underline; }
.signout { display: flex; gap: .6rem; align-items: center; margin: 0; }
.who { color: var(--muted); font-size: .9rem; }
main { padding: 1.2rem 1.5rem 3rem; max-width: 1200px; }
main.narrow { max-width: 28rem; margin: 4rem auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1.5rem 2rem; }
h1 { font-size: 1.4rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.8rem 0 .6rem; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; font-size: .92rem; }
th { background: #eef1f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .86rem; }
a { color: var(--accent); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; background: #e7eaf0; font-size: .8rem; font-weight: 600; }
.badge.good { background: #dcf3e6; color: var(--good); }
.badge.bad { background: #fde4e1; color: var(--bad); }
.error, .level-ERROR { color: var(--bad); }
.level-WARN { color: #9a5b00; }
.muted { color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.2rem; background: #fff; border: 1px solid var(--line); padding: .8rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.actions { display: flex; gap: .6rem; margin: 1rem 0; }
.actions form { margin: 0; }
button { font: inherit; padding: .35rem .9rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
td form { margin: 0; }
td button { padding: .15rem .6rem; font-size: .85rem; }
label { display: block; margin: .8rem 0 .3rem; font-weight: 600; }
input[type=password] { width: 100%; padding: .45rem; font: inherit; border: 1px solid var(--line); border-radius: 6px; margin-bottom: 1rem; }
ol.log { background: #fff; border: 1px solid var(--line); padding: .6rem 1rem .6rem 3rem; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
ol.log li { padding: .1rem 0; }
figure.chart { margin: 0; background: #fff; border: 1px solid var(--line); padding: .6rem; }
figure.chart figcaption { color: var(--muted); font-size: .85rem; }
"#;

/// The page when the store fails (logged; the operator sees no internals).
pub(crate) fn store_failed(e: &atsbridge_store::StoreError) -> Response {
    tracing::error!(error = %e, "a dashboard page could not read the store");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "The store cannot be read right now",
    )
}
