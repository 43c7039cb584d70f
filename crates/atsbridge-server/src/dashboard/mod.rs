//! The operator dashboard (`/dashboard`): server-rendered pages (maud, no script) for whoever
//! runs atsbridge, signed in with an operator key (`atsbridge keys create --operator`).
//!
//! Safety: an operator key is exchanged for a session (`session`): an HttpOnly,
//! `SameSite=Strict` cookie scoped to `/dashboard` (`Secure` over https) holding 256 random
//! bits, stored as a digest with an expiry. Every POST carries the session's CSRF token and
//! is refused without it; the sign-in form also refuses cross-site posts. Every page has a
//! strict Content-Security-Policy (no script at all, styles from the served stylesheet only,
//! no framing, forms only to this origin). API keys cannot sign in; operator keys cannot
//! call `/v1`.
//!
//! One module per part:
//!
//! - `session`: the signed-in operator (extractor), sign-in and sign-out, CSRF checks;
//! - `pages`: integrations, one integration, one run with its log;
//! - `lists`: webhook deliveries (one with every attempt) and connection links;
//! - `chart`: the SVG chart of run durations and records changed;
//! - `actions`: sync now, enable/disable, redeliver;
//! - `layout`: the frame every page shares, formatting helpers and the stylesheet.

mod actions;
mod chart;
mod layout;
mod lists;
mod pages;
mod session;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Path};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;

use crate::AppState;

/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// The largest form the dashboard accepts (a key or a CSRF token and a field or two).
const FORM_LIMIT: usize = 8 * 1024;

/// Rows shown in each list.
const LIST_LIMIT: i64 = 100;

/// The dashboard's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(pages::integrations))
        .route(
            "/dashboard/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/dashboard/sign-out", post(session::sign_out))
        .route("/dashboard/integrations/{id}", get(pages::integration))
        .route("/dashboard/integrations/{id}/sync", post(actions::sync_now))
        .route(
            "/dashboard/integrations/{id}/enabled",
            post(actions::set_enabled),
        )
        .route("/dashboard/runs/{id}", get(pages::run))
        .route("/dashboard/deliveries", get(lists::deliveries))
        .route("/dashboard/deliveries/{id}", get(lists::delivery))
        .route(
            "/dashboard/deliveries/{id}/redeliver",
            post(actions::redeliver),
        )
        .route("/dashboard/links", get(lists::links))
        .route("/dashboard/assets/{file}", get(asset))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
}

/// The policy of every page: nothing but this origin's stylesheet, no script, no framing,
/// forms only to this origin.
pub(crate) const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A page with the dashboard's security headers.
fn page_response(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// `GET /dashboard/assets/{file}`: the stylesheet.
async fn asset(Path(file): Path<String>) -> Response {
    if file != "dashboard.css" {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        layout::CSS,
    )
        .into_response()
}
