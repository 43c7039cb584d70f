//! The pages the customer opens: `GET /connect/{token}` (the guide and the form),
//! `POST /connect/{token}` up to reading the form (cross-site refusal, link state, body
//! limit), the security headers every page carries, the message pages, and the form's CSS
//! and JavaScript. What a read form then does is in `completion`.

use std::collections::BTreeMap;

use atsbridge_model::tool::ConnectGuide;
use atsbridge_model::{ErrorCode, Timestamp};
use atsbridge_store::{ConnectLink, LinkPurpose, StoreError};
use axum::body::{Body, HttpBody as _};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::Markup;
use tracing::Instrument as _;

use super::address::served_over_https;
use super::completion::submit;
use super::page::{self, FormState, PageContext};
use super::texts::{fill, Lang, Names};
use super::{LinkType, MAX_FAILED_ATTEMPTS};
use crate::error::ApiError;
use crate::AppState;

/// The security headers of every page. `frame_ancestors` and `form_action` depend on the
/// link: embedded links may be framed by the origins the operator allowed; a redirect
/// after the form needs its origin in `form-action` (browsers apply it to the redirect).
pub(super) fn page_response(
    status: StatusCode,
    markup: Markup,
    frame_ancestors: &str,
    form_action: &str,
) -> Response {
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; form-action {form_action}; frame-ancestors {frame_ancestors}; base-uri 'none'"
    );
    let mut response = (status, markup.into_string()).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // `same-origin`, not `no-referrer`: with `no-referrer` browsers send `Origin: null` on
    // our own form posts, and the cross-site check could not tell them apart.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if frame_ancestors == "'none'" {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

/// Where a link's page may be framed.
pub(super) fn frame_ancestors(state: &AppState, link: Option<&ConnectLink>) -> String {
    let embedded = link.is_some_and(|l| l.link_type == LinkType::Embedded.as_str());
    if embedded && !state.config.connect_embed_origins.is_empty() {
        format!("'self' {}", state.config.connect_embed_origins.join(" "))
    } else if embedded {
        "'self'".to_owned()
    } else {
        "'none'".to_owned()
    }
}

fn form_action(link: Option<&ConnectLink>) -> String {
    let redirect_origin = link
        .and_then(|l| l.redirect_url.as_deref())
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization());
    match redirect_origin {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    }
}

/// A page that only says something, in the link's language and with its tool's name filled
/// in (`{tool}`).
pub(super) fn message_page(
    state: &AppState,
    link: Option<&ConnectLink>,
    status: StatusCode,
    title: &str,
    text: &str,
) -> Response {
    let lang = link.map_or(Lang::En, |l| Lang::for_code(&l.language));
    let tool = link.and_then(|l| state.tools.get(&l.tool, l.category));
    let names = Names {
        tool: tool.map_or_else(|| link.map_or("", |l| l.tool.as_str()), |t| t.label),
        ..Names::default()
    };
    page_response(
        status,
        page::message(lang, tool, &fill(title, &names), &fill(text, &names)),
        &frame_ancestors(state, link),
        "'none'",
    )
}

/// Why a link cannot be used now, as a page; `None` when it can.
pub(super) fn unusable(
    state: &AppState,
    link: Option<&ConnectLink>,
    now: Timestamp,
) -> Option<Response> {
    let Some(l) = link else {
        let t = Lang::En.texts();
        return Some(message_page(
            state,
            None,
            StatusCode::NOT_FOUND,
            t.invalid_title,
            t.invalid_body,
        ));
    };
    let t = Lang::for_code(&l.language).texts();
    if l.completed_at.is_some() {
        return Some(message_page(
            state,
            link,
            StatusCode::GONE,
            t.used_title,
            t.used_body,
        ));
    }
    if l.expires_at <= now {
        return Some(message_page(
            state,
            link,
            StatusCode::GONE,
            t.expired_title,
            t.expired_body,
        ));
    }
    if l.failed_attempts >= MAX_FAILED_ATTEMPTS {
        return Some(message_page(
            state,
            link,
            StatusCode::TOO_MANY_REQUESTS,
            t.locked_title,
            t.locked_body,
        ));
    }
    None
}

/// What the link's pages need; the failure page when its tool is not offered (any more).
pub(super) fn context<'a>(
    state: &'a AppState,
    link: &'a ConnectLink,
    secure: bool,
) -> Result<PageContext<'a>, Box<Response>> {
    let lang = Lang::for_code(&link.language);
    let Some(tool) = state.tools.get(&link.tool, link.category) else {
        tracing::error!(tool = %link.tool, "a connection link names a tool this server does not offer");
        let t = lang.texts();
        return Err(Box::new(message_page(
            state,
            Some(link),
            StatusCode::SERVICE_UNAVAILABLE,
            t.failed_title,
            t.failed_body,
        )));
    };
    Ok(PageContext {
        secure,
        lang,
        app: state
            .config
            .connect_app_name
            .as_deref()
            .unwrap_or(lang.texts().app_fallback),
        organization: &link.organization_name,
        relink: link.purpose == LinkPurpose::Relink,
        tool,
        guide: tool.connect.texts(lang.code()),
    })
}

pub(super) fn form_page(
    state: &AppState,
    link: &ConnectLink,
    ctx: &PageContext<'_>,
    status: StatusCode,
    form: &FormState,
) -> Response {
    page_response(
        status,
        page::form(ctx, form),
        &frame_ancestors(state, Some(link)),
        &form_action(Some(link)),
    )
}

/// What a relink form starts with: the field that names the account, as stored, and the
/// source name.
async fn relink_defaults(state: &AppState, link: &ConnectLink, ctx: &PageContext<'_>) -> FormState {
    let mut form = FormState::default();
    if let Some(id) = &link.integration_id {
        if let (Ok(credentials), Some(field)) = (
            state.store.credentials(id).await,
            ctx.tool.connect.account_field(),
        ) {
            if let Some(value) = credentials.get(field.key) {
                form.values.insert(field.key, value.to_owned());
            }
        }
        if let Ok(Some(row)) = state.store.integration(id).await {
            form.source_name = row.settings.source_name.unwrap_or_default();
        }
    }
    form
}

/// `GET /connect/{token}`: the guide and the form.
pub(super) async fn show_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let link = match state.store.connect_link(&token).await {
        Ok(link) => link,
        Err(e) => return store_failure(&state, None, &e),
    };
    if let Some(page) = unusable(&state, link.as_ref(), Timestamp::now()) {
        return page;
    }
    let Some(link) = link else {
        unreachable!("unusable() answers for a missing link")
    };
    let ctx = match context(&state, &link, served_over_https(&state.config, &headers)) {
        Ok(ctx) => ctx,
        Err(page) => return *page,
    };
    let form = if link.purpose == LinkPurpose::Relink {
        relink_defaults(&state, &link, &ctx).await
    } else {
        FormState::default()
    };
    form_page(&state, &link, &ctx, StatusCode::OK, &form)
}

pub(super) fn store_failure(
    state: &AppState,
    link: Option<&ConnectLink>,
    e: &StoreError,
) -> Response {
    tracing::error!(error = ?e, "connection page: store error");
    let t = link
        .map_or(Lang::En, |l| Lang::for_code(&l.language))
        .texts();
    message_page(
        state,
        link,
        StatusCode::SERVICE_UNAVAILABLE,
        t.failed_title,
        t.failed_body,
    )
}

/// Whether a form post comes from another site. Browsers send `Sec-Fetch-Site` and, on
/// POST, `Origin`; a request with neither (curl, scripts) is no cross-site browser post.
pub(crate) fn cross_site(headers: &HeaderMap, public_url: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return true;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let by_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .is_some_and(|rest| Some(rest) == host);
    let by_public_url = public_url
        .and_then(|u| url::Url::parse(u).ok())
        .is_some_and(|u| u.origin().ascii_serialization() == origin);
    !(by_host || by_public_url)
}

/// The form fields, from an `application/x-www-form-urlencoded` body.
#[derive(Debug, Default)]
pub(super) struct Submitted {
    /// The tool's credential fields, by key (a field not posted is empty).
    pub(super) fields: BTreeMap<&'static str, String>,
    pub(super) source_name: String,
}

/// The fields of the tool's form; anything else posted is ignored.
fn parse_form(body: &[u8], guide: &ConnectGuide) -> Submitted {
    let mut form = Submitted::default();
    for (name, value) in form_urlencoded::parse(body) {
        if name == "source_name" {
            form.source_name = value.into_owned();
        } else if let Some(field) = guide.fields.iter().find(|f| f.key == name) {
            form.fields.insert(field.key, value.into_owned());
        }
    }
    form
}

/// The largest form body accepted: a form's few fields with room to spare. The server-wide
/// limit is meant for CVs; a form needs far less.
pub const FORM_BODY_LIMIT: usize = 16 * 1024;

/// `POST /connect/{token}`: checks the credentials and connects.
///
/// The body is read last, after the link proved usable, and only up to
/// `FORM_BODY_LIMIT`: whoever posts needs no credentials, so nothing may make the server
/// hold more than a form's worth for them.
pub(super) async fn submit_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let link = match state.store.connect_link(&token).await {
        Ok(link) => link,
        Err(e) => return store_failure(&state, None, &e),
    };
    if cross_site(headers, state.config.public_url.as_deref()) {
        let t = link
            .as_ref()
            .map_or(Lang::En, |l| Lang::for_code(&l.language))
            .texts();
        tracing::warn!("connection form posted from another site; refused");
        return message_page(
            &state,
            link.as_ref(),
            StatusCode::FORBIDDEN,
            t.cross_site_title,
            t.cross_site_body,
        );
    }
    let now = Timestamp::now();
    if let Some(page) = unusable(&state, link.as_ref(), now) {
        return page;
    }
    let Some(link) = link else {
        unreachable!("unusable() answers for a missing link")
    };
    let too_large = || {
        let t = Lang::for_code(&link.language).texts();
        message_page(
            &state,
            Some(&link),
            StatusCode::PAYLOAD_TOO_LARGE,
            t.too_large_title,
            t.too_large_body,
        )
    };
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > FORM_BODY_LIMIT as u64) {
        return too_large();
    }
    let form = match read_form_body(body).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return too_large(),
        Err(e) => {
            tracing::info!(error = %e, "the connection form could not be read");
            let t = Lang::for_code(&link.language).texts();
            return message_page(
                &state,
                Some(&link),
                StatusCode::BAD_REQUEST,
                t.failed_title,
                t.failed_body,
            );
        }
    };
    let span = tracing::info_span!(
        "connect",
        purpose = link.purpose.as_str(),
        integration_id = tracing::field::Empty
    );
    let secure = served_over_https(&state.config, headers);
    let Some(tool) = state.tools.get(&link.tool, link.category) else {
        // `submit` answers the page for a tool this server does not offer.
        return submit(state, link, Submitted::default(), secure, now).await;
    };
    submit(state, link, parse_form(&form, tool.connect), secure, now)
        .instrument(span)
        .await
}

/// The body, or `None` as soon as it grows past `FORM_BODY_LIMIT` (without reading on).
async fn read_form_body(body: Body) -> Result<Option<Vec<u8>>, axum::Error> {
    let mut body = std::pin::pin!(body);
    let mut bytes = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        if let Ok(data) = frame?.into_data() {
            if bytes.len() + data.len() > FORM_BODY_LIMIT {
                return Ok(None);
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(Some(bytes))
}

pub(super) async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "connect.css" => (page::CSS, "text/css; charset=utf-8"),
        "connect.js" => (page::JS, "text/javascript; charset=utf-8"),
        _ => {
            return ApiError::new(
                ErrorCode::PlatformInputInvalid,
                format!("no asset `{file}`"),
            )
            .into_response()
        }
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_site_posts_are_told_apart() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            h
        };
        let host = ("host", "127.0.0.1:8080");
        assert!(!cross_site(&headers(&[host]), None));
        assert!(!cross_site(
            &headers(&[
                host,
                ("origin", "http://127.0.0.1:8080"),
                ("sec-fetch-site", "same-origin")
            ]),
            None
        ));
        assert!(cross_site(
            &headers(&[host, ("origin", "https://evil.example")]),
            None
        ));
        assert!(cross_site(
            &headers(&[host, ("sec-fetch-site", "cross-site")]),
            None
        ));
        assert!(cross_site(
            &headers(&[host, ("sec-fetch-site", "same-site")]),
            None
        ));
        assert!(cross_site(&headers(&[host, ("origin", "null")]), None));
        assert!(!cross_site(
            &headers(&[
                ("host", "internal:8080"),
                ("origin", "https://connect.vendor.example")
            ]),
            Some("https://connect.vendor.example/base")
        ));
    }
}
