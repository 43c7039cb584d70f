//! Who is signed in: the session cookie, sign-in with an operator key, sign-out, and the CSRF
//! token every POST must carry.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;

use atsbridge_model::Timestamp;
use atsbridge_store::OperatorSession;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::layout::{bare_layout, error_page};
use super::{page_response, FORM_LIMIT, SESSION_TTL};
use crate::connect::{cross_site, served_over_https};
use crate::limits::client_key;
use crate::AppState;

/// The session cookie's name.
pub(crate) const COOKIE: &str = "atsb_dashboard";

/// A signed-in operator.
#[derive(Debug, Clone)]
pub(crate) struct Operator {
    /// The cookie's value (what sign-out ends).
    id: String,
    pub(crate) session: OperatorSession,
}

/// The session id a request's cookies carry.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for Operator {
    /// Not signed in: to the sign-in page.
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_sign_in = || Redirect::to("/dashboard/sign-in").into_response();
        let id = session_cookie(&parts.headers).ok_or_else(to_sign_in)?;
        match state.store.session(&id, Timestamp::now()).await {
            Ok(Some(session)) => Ok(Operator { id, session }),
            Ok(None) => Err(to_sign_in()),
            Err(e) => {
                tracing::error!(error = %e, "reading a dashboard session failed");
                Err(error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The store cannot be read",
                ))
            }
        }
    }
}

/// Equal without telling by its timing how much of a guess was right.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The fields of a posted form, if its CSRF token is the session's (else answer
/// [`csrf_refused`]).
pub(crate) fn checked_form(operator: &Operator, body: &[u8]) -> Option<BTreeMap<String, String>> {
    let fields: BTreeMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    let token = fields.get("csrf")?;
    same(token, &operator.session.csrf).then_some(fields)
}

/// The answer to a form without the session's CSRF token.
pub(crate) fn csrf_refused() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "This form is out of date or did not come from the dashboard; go back, reload and try again",
    )
}

/// The hidden field every form of a session carries.
pub(crate) fn csrf_field(operator: &Operator) -> maud::Markup {
    html! { input type="hidden" name="csrf" value=(operator.session.csrf); }
}

fn sign_in_form(status: StatusCode, error: Option<&str>) -> Response {
    let body = html! {
        h1 { "atsbridge dashboard" }
        p { "Sign in with an operator key (" code { "atsbridge keys create --operator" } "). API keys cannot sign in." }
        @if let Some(error) = error {
            p.error role="alert" { (error) }
        }
        form method="post" action="/dashboard/sign-in" {
            label for="key" { "Operator key" }
            input #key type="password" name="key" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
    };
    page_response(status, bare_layout("Sign in", body))
}

/// `GET /dashboard/sign-in`.
pub(crate) async fn sign_in_page() -> Response {
    sign_in_form(StatusCode::OK, None)
}

/// `POST /dashboard/sign-in` `key=…`: a session and its cookie, then the integrations page.
pub(crate) async fn sign_in(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let client = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied();
    let Ok(body) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        return error_page(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large");
    };
    if cross_site(&headers, state.config.public_url.as_deref()) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Sign in from the dashboard's own page",
        );
    }
    let client = client.map(|ConnectInfo(addr)| client_key(addr.ip()));
    // Wrong keys count with the API's wrong keys, per address.
    if client
        .as_deref()
        .and_then(|c| state.auth_failures.peek_at(c, Instant::now()))
        .is_some_and(|d| !d.allowed)
    {
        return sign_in_form(
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many wrong keys from this address; wait a minute"),
        );
    }
    let key = form_urlencoded::parse(&body)
        .find(|(name, _)| name == "key")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    let found = if key.is_empty() {
        Ok(None)
    } else {
        state.store.operator_key_by_secret(&key).await
    };
    let operator_key = match found {
        Ok(Some(k)) => k,
        Ok(None) => {
            if let Some(c) = &client {
                state.auth_failures.check(c);
            }
            return sign_in_form(
                StatusCode::UNAUTHORIZED,
                Some("That is not a valid operator key"),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "checking an operator key failed");
            return error_page(StatusCode::SERVICE_UNAVAILABLE, "The store cannot be read");
        }
    };
    let now = Timestamp::now();
    let (id, _) = match state
        .store
        .create_session(&operator_key, now, now.plus(SESSION_TTL))
        .await
    {
        Ok(opened) => opened,
        Err(e) => {
            tracing::error!(error = %e, "opening a dashboard session failed");
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The store cannot be written",
            );
        }
    };
    tracing::info!(key_id = %operator_key.id, "operator signed in to the dashboard");
    let secure = if served_over_https(&state.config, &headers) {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={id}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_TTL.as_secs()
    );
    let mut response = Redirect::to("/dashboard").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// `POST /dashboard/sign-out`: ends the session and clears the cookie.
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    operator: Operator,
    body: Bytes,
) -> Response {
    if checked_form(&operator, &body).is_none() {
        return csrf_refused();
    }
    if let Err(e) = state
        .store
        .end_session(&operator.id, Timestamp::now())
        .await
    {
        tracing::error!(error = %e, "ending a dashboard session failed");
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "The store cannot be written",
        );
    }
    let mut response = Redirect::to("/dashboard/sign-in").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "atsb_dashboard=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; atsb_dashboard=abc; b=2"),
        );
        assert_eq!(session_cookie(&headers).as_deref(), Some("abc"));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("atsb_dashboardx=1"),
        );
        assert_eq!(session_cookie(&headers), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
