//! The connection flow, after Kombo Connect: the vendor asks for a link
//! (`POST /v1/connect/create-link`, or `POST /v1/integrations/{id}/relink` for new
//! credentials), its customer opens it, follows the Sage HR guide and enters the subdomain and
//! an API key; atsbridge checks them with Sage HR, creates the integration (or replaces its
//! credentials), starts the first sync and hands a short-lived token back to the vendor, who
//! redeems it with `GET /v1/connect/integration-by-token/{token}`.
//!
//! Safety: link and completion tokens are 256 random bits, stored as digests; links expire
//! and complete once; every page carries a strict Content-Security-Policy; form posts from
//! another site are refused (`Sec-Fetch-Site` / `Origin`); the API key is never sent back,
//! logged or stored unencrypted.

mod page;
pub mod texts;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use atsbridge_model::connector::ConnectorErrorKind;
use atsbridge_model::event::{ConnectionFlowFailed, Event, IntegrationStateChanged, QaStatus};
use atsbridge_model::integration::{Category, EndUser, IntegrationStatus, SetupStatus};
use atsbridge_model::{DataResponse, ErrorCode, IntegrationId, Timestamp};
use atsbridge_store::{
    Completion, ConnectLink, Credentials, IntegrationSettings, LinkPurpose, NewConnectLink,
    NewEvent, NewIntegration, StoreError,
};
use axum::body::HttpBody as _;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use maud::Markup;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::Instrument as _;

use self::page::{FormState, PageContext};
use self::texts::Lang;
use crate::auth::{self, Caller};
use crate::body::{KomboBody, KomboJson, LaterJson};
use crate::error::{ApiError, ApiResult};
use crate::management::{external_base, tool_info};
use crate::{AppState, ServerConfig};

/// How long an `EMBEDDED` link is valid (Kombo: 1 hour).
pub const EMBEDDED_LINK_TTL: Duration = Duration::from_secs(3600);
/// How long a `MAGIC_LINK` is valid (Kombo: 1 year).
pub const MAGIC_LINK_TTL: Duration = Duration::from_secs(365 * 24 * 3600);
/// How long the token handed back after completion can be redeemed.
pub const COMPLETION_TTL: Duration = Duration::from_secs(3600);
/// Failed credential checks after which a link is locked (guessing keys through our page).
pub const MAX_FAILED_ATTEMPTS: i64 = 10;
/// The longest we let the customer wait for Sage HR to answer the credential check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

/// `/v1` routes.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/connect/create-link", post(create_link))
        .route(
            "/connect/integration-by-token/{token}",
            get(integration_by_token),
        )
        .route("/integrations/{integration_id}/relink", post(relink))
}

/// The pages the customer opens (outside `/v1`).
pub fn page_router() -> Router<AppState> {
    Router::new()
        .route("/connect/{token}", get(show_link).post(submit_link))
        .route("/connect/assets/{file}", get(asset))
}

// ---------------------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a JSON object with `end_user_email` and `end_user_organization_name`"
)]
struct CreateLinkBody {
    end_user_email: String,
    end_user_organization_name: String,
    #[serde(default)]
    end_user_origin_id: Option<String>,
    #[serde(default)]
    remote_environment: Option<String>,
    #[serde(default)]
    integration_category: Option<Category>,
    #[serde(default)]
    integration_tool: Option<String>,
    #[serde(default)]
    language: Option<LinkLanguage>,
    #[serde(default)]
    scope_config_id: Option<String>,
    #[serde(default)]
    enable_filtering: Option<bool>,
    #[serde(default)]
    enable_field_mapping: Option<bool>,
    #[serde(default)]
    enable_static_ips: Option<bool>,
    #[serde(default)]
    link_type: Option<LinkType>,
    /// atsbridge addition: where the browser goes after a successful connection, with
    /// `?token=…` appended.
    #[serde(default)]
    redirect_url: Option<String>,
}

impl KomboBody for CreateLinkBody {}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a JSON object")]
struct RelinkBody {
    #[serde(default)]
    language: Option<LinkLanguage>,
    #[serde(default)]
    scope_config_id: Option<String>,
    #[serde(default)]
    link_type: Option<LinkType>,
    #[serde(default)]
    redirect_url: Option<String>,
}

/// Every field is optional, so an empty body is `{}`.
impl KomboBody for RelinkBody {
    const MAY_BE_EMPTY: bool = true;
}

/// Kombo's languages; pages exist in English and German, the rest are shown in English.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum LinkLanguage {
    En,
    De,
    Fr,
    It,
    Es,
}

impl LinkLanguage {
    fn code(self) -> &'static str {
        match self {
            LinkLanguage::En => "en",
            LinkLanguage::De => "de",
            LinkLanguage::Fr => "fr",
            LinkLanguage::It => "it",
            LinkLanguage::Es => "es",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
enum LinkType {
    #[default]
    #[serde(rename = "EMBEDDED")]
    Embedded,
    #[serde(rename = "MAGIC_LINK")]
    MagicLink,
}

impl LinkType {
    fn as_str(self) -> &'static str {
        match self {
            LinkType::Embedded => "EMBEDDED",
            LinkType::MagicLink => "MAGIC_LINK",
        }
    }

    fn ttl(self) -> Duration {
        match self {
            LinkType::Embedded => EMBEDDED_LINK_TTL,
            LinkType::MagicLink => MAGIC_LINK_TTL,
        }
    }
}

#[derive(Debug, Serialize)]
struct LinkAnswer {
    link: String,
}

#[derive(Debug, Serialize)]
struct IntegrationByToken {
    tool: String,
    id: String,
    end_user_origin_id: Option<String>,
    end_user_organization_name: String,
    end_user_email: Option<String>,
    setup_status: SetupStatus,
}

/// 256 random bits, base64url without padding.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn required_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

fn optional_text(field: &str, value: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => required_text(field, v, max).map(Some),
    }
}

/// A plausible email address: one `@`, something on both sides, a dot in the domain, no
/// spaces. Kombo only documents the field as an email.
fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
}

fn redirect_url(value: Option<&str>) -> ApiResult<Option<String>> {
    let Some(raw) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let url = url::Url::parse(raw)
        .map_err(|e| ApiError::invalid("redirect_url", format!("not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ApiError::invalid(
            "redirect_url",
            "must be an http(s) URL with a host",
        ));
    }
    if raw.len() > 2000 {
        return Err(ApiError::invalid(
            "redirect_url",
            "must be at most 2000 characters",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::invalid(
            "redirect_url",
            "must not contain credentials",
        ));
    }
    Ok(Some(url.to_string()))
}

/// The address customers reach the pages at, for links: the public URL; else, behind a
/// proxy the operator trusts, the request's `Host` and `X-Forwarded-Proto`; else the
/// address the server listens on. Both headers are the client's to choose, so believing
/// them by default would let any API caller hand out links to a host of theirs.
fn link_base(config: &ServerConfig, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(url) = configured_public_url(config) {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    if config.trust_forwarded_headers {
        let base = external_base(headers, None);
        if base.is_empty() {
            return Err(ApiError::invalid(
                "Host",
                "missing or not a host name; the proxy in front of atsbridge must pass it on (or set --public-url)",
            ));
        }
        return Ok(base);
    }
    match config.listen_addr {
        Some(addr) if addr.ip().is_unspecified() => Err(ApiError::new(
            ErrorCode::PlatformUnknownError,
            format!(
                "connection links need the address customers reach atsbridge at, and it listens on {addr} (every interface): start `atsbridge serve` with --public-url (e.g. https://ats.vendor.example), or with --trust-forwarded-headers behind a reverse proxy that sets Host and X-Forwarded-Proto"
            ),
        )),
        Some(addr) => Ok(format!("http://{addr}")),
        // Embedded without being told its address (tests, the demo): a loopback Host can
        // only point the customer at their own machine, never at somebody else's.
        None => match request_host(headers) {
            Some(host) if is_loopback_host(host) => Ok(format!("http://{host}")),
            host => Err(ApiError::invalid(
                "Host",
                format!(
                    "`{}` is not an address this server knows as its own; set --public-url to the address customers reach (or --trust-forwarded-headers behind a reverse proxy)",
                    host.unwrap_or_default()
                ),
            )),
        },
    }
}

fn configured_public_url(config: &ServerConfig) -> Option<&str> {
    config
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
}

fn request_host(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
}

/// `127.0.0.1:3000`, `[::1]:3000`, `localhost:3000`, with or without the port.
fn is_loopback_host(host: &str) -> bool {
    if let Ok(addr) = host.parse::<SocketAddr>() {
        return addr.ip().is_loopback();
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && port.chars().all(|c| c.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether the customer reaches the pages over https, as far as this server can know: it
/// speaks plain HTTP itself, so only the public URL or a trusted proxy can say so.
fn served_over_https(config: &ServerConfig, headers: &HeaderMap) -> bool {
    if let Some(url) = configured_public_url(config) {
        return url::Url::parse(url).is_ok_and(|u| u.scheme() == "https");
    }
    config.trust_forwarded_headers
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// What an operator should hear at start about the address in connection links: that the
/// pages, which take API keys, are served over plain HTTP beyond this machine, or that
/// links cannot be made at all.
pub fn address_warnings(config: &ServerConfig) -> Vec<String> {
    let loopback = |host: Option<url::Host<&str>>| match host {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let mut warnings = Vec::new();
    if let Some(public) = configured_public_url(config) {
        match url::Url::parse(public) {
            Ok(u) if u.scheme() == "http" && !loopback(u.host()) => warnings.push(format!(
                "the public URL {public} is plain HTTP: the Sage HR API keys customers enter on connection pages cross the network unencrypted; serve atsbridge behind TLS and set --public-url to its https:// address"
            )),
            Ok(_) => {}
            Err(e) => warnings.push(format!(
                "the public URL `{public}` is not a URL ({e}); connection links will carry it as given"
            )),
        }
        return warnings;
    }
    if config.trust_forwarded_headers {
        return warnings;
    }
    match config.listen_addr {
        Some(addr) if addr.ip().is_unspecified() => warnings.push(format!(
            "connection links cannot be created: atsbridge listens on {addr} (every interface) and does not know the address customers reach; set --public-url (or --trust-forwarded-headers behind a reverse proxy)"
        )),
        Some(addr) if !addr.ip().is_loopback() => warnings.push(format!(
            "connection links point at http://{addr}, plain HTTP: the Sage HR API keys customers enter cross the network unencrypted; serve atsbridge behind TLS and set --public-url to its https:// address"
        )),
        _ => {}
    }
    warnings
}

/// `POST /connect/create-link`
async fn create_link(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    KomboJson(body): KomboJson<CreateLinkBody>,
) -> ApiResult<Json<DataResponse<LinkAnswer>>> {
    let email = required_text("end_user_email", &body.end_user_email, 254)?;
    if !valid_email(&email) {
        return Err(ApiError::invalid(
            "end_user_email",
            "must be an email address",
        ));
    }
    let organization = required_text(
        "end_user_organization_name",
        &body.end_user_organization_name,
        200,
    )?;
    let origin_id = optional_text(
        "end_user_origin_id",
        body.end_user_origin_id.as_deref(),
        200,
    )?;
    // The SDKs send Kombo's default category (HRIS) when the caller sets none; atsbridge
    // is an ATS API, so that has to be said rather than silently turned into ATS.
    match body.integration_category {
        None | Some(Category::Ats) => {}
        Some(other) => {
            return Err(ApiError::invalid(
                "integration_category",
                format!(
                    "atsbridge connects ATS integrations; `{}` is not served (send \"ATS\")",
                    other.as_str()
                ),
            ))
        }
    }
    let tool = body.integration_tool.as_deref().unwrap_or("sagehr");
    if tool_info(tool).is_none() {
        return Err(ApiError::invalid(
            "integration_tool",
            format!("atsbridge cannot connect `{tool}`; the available tool is `sagehr`"),
        ));
    }
    if body.remote_environment.is_some() {
        return Err(ApiError::invalid(
            "remote_environment",
            "Sage HR has no remote environments; leave it out",
        ));
    }
    for (field, value) in [
        ("enable_filtering", body.enable_filtering),
        ("enable_field_mapping", body.enable_field_mapping),
        ("enable_static_ips", body.enable_static_ips),
    ] {
        if value == Some(true) {
            return Err(ApiError::invalid(
                field,
                "atsbridge's connection flow has no such step; leave it out or send false",
            ));
        }
    }
    let _ = body.scope_config_id;
    let link_type = body.link_type.unwrap_or_default();
    let language = body.language.unwrap_or(LinkLanguage::En);
    let redirect = redirect_url(body.redirect_url.as_deref())?;
    let answer = issue_link(&state, &headers, |token, now| NewConnectLink {
        token,
        environment_id: caller.0.environment_id.clone(),
        tool: tool.to_owned(),
        purpose: LinkPurpose::Connect,
        integration_id: None,
        end_user_email: Some(email),
        organization_name: organization,
        origin_id,
        language: language.code().to_owned(),
        link_type: link_type.as_str().to_owned(),
        redirect_url: redirect,
        created_at: now,
        expires_at: now.plus(link_type.ttl()),
    })
    .await?;
    tracing::info!(link_type = link_type.as_str(), "connection link created");
    Ok(answer)
}

/// Stores the link `make` builds from a new token and the current time, and answers its URL.
async fn issue_link(
    state: &AppState,
    headers: &HeaderMap,
    make: impl FnOnce(String, Timestamp) -> NewConnectLink,
) -> ApiResult<Json<DataResponse<LinkAnswer>>> {
    // Before storing: a link nobody can open is not worth keeping.
    let base = link_base(&state.config, headers)?;
    let token = new_token();
    state
        .store
        .create_connect_link(&make(token.clone(), Timestamp::now()))
        .await?;
    Ok(Json(DataResponse::new(LinkAnswer {
        link: format!("{base}/connect/{token}"),
    })))
}

/// `POST /integrations/{integration_id}/relink`: a link that replaces the integration's
/// credentials (its customer enters a new API key for the same Sage HR account).
async fn relink(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: LaterJson<RelinkBody>,
) -> ApiResult<Json<DataResponse<LinkAnswer>>> {
    let row = auth::integration_of(&state, &caller, &id).await?;
    let body = body.take()?;
    let _ = body.scope_config_id;
    let link_type = body.link_type.unwrap_or_default();
    let language = body.language.unwrap_or(LinkLanguage::En);
    let redirect = redirect_url(body.redirect_url.as_deref())?;
    let answer = issue_link(&state, &headers, |token, now| NewConnectLink {
        token,
        environment_id: row.environment_id.clone(),
        tool: row.tool.clone(),
        purpose: LinkPurpose::Relink,
        integration_id: Some(row.id.clone()),
        end_user_email: row.end_user.creator_email.clone(),
        organization_name: row.end_user.organization_name.clone(),
        origin_id: row.end_user.origin_id.clone(),
        language: language.code().to_owned(),
        link_type: link_type.as_str().to_owned(),
        redirect_url: redirect,
        created_at: now,
        expires_at: now.plus(link_type.ttl()),
    })
    .await?;
    tracing::info!(integration_id = %row.id, link_type = link_type.as_str(), "relink link created");
    Ok(answer)
}

/// `GET /connect/integration-by-token/{token}`: the integration a completed connection
/// flow handed this token back for (valid for `COMPLETION_TTL`).
async fn integration_by_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(token): Path<String>,
) -> ApiResult<Json<DataResponse<IntegrationByToken>>> {
    let not_found = || {
        ApiError::new(
            ErrorCode::PlatformIntegrationNotFound,
            "no integration for this token: it is unknown, belongs to another environment, or expired (tokens are valid for one hour after the connection)",
        )
    };
    let link = state
        .store
        .link_by_completion(&token, Timestamp::now())
        .await?
        .filter(|l| l.environment_id == caller.0.environment_id)
        .ok_or_else(not_found)?;
    let id = link.integration_id.ok_or_else(not_found)?;
    let row = auth::integration_of(&state, &caller, &id).await?;
    Ok(Json(DataResponse::new(IntegrationByToken {
        tool: row.tool,
        id: row.id,
        end_user_origin_id: row.end_user.origin_id,
        end_user_organization_name: row.end_user.organization_name,
        end_user_email: row.end_user.creator_email,
        setup_status: row.setup_status,
    })))
}

// ---------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------

/// The security headers of every page. `frame_ancestors` and `form_action` depend on the
/// link: embedded links may be framed by the origins the operator allowed; a redirect
/// after the form needs its origin in `form-action` (browsers apply it to the redirect).
fn page_response(
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
fn frame_ancestors(state: &AppState, link: Option<&ConnectLink>) -> String {
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

fn message_page(
    state: &AppState,
    link: Option<&ConnectLink>,
    status: StatusCode,
    title: &str,
    text: &str,
) -> Response {
    let lang = link.map_or(Lang::En, |l| Lang::for_code(&l.language));
    page_response(
        status,
        page::message(lang, title, text),
        &frame_ancestors(state, link),
        "'none'",
    )
}

/// Why a link cannot be used now, as a page; `None` when it can.
fn unusable(state: &AppState, link: Option<&ConnectLink>, now: Timestamp) -> Option<Response> {
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

fn context<'a>(state: &'a AppState, link: &'a ConnectLink, secure: bool) -> PageContext<'a> {
    let lang = Lang::for_code(&link.language);
    PageContext {
        secure,
        lang,
        app: state
            .config
            .connect_app_name
            .as_deref()
            .unwrap_or(lang.texts().app_fallback),
        organization: &link.organization_name,
        relink: link.purpose == LinkPurpose::Relink,
    }
}

fn form_page(
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

/// What a relink form starts with: the account's subdomain and source name.
async fn relink_defaults(state: &AppState, link: &ConnectLink) -> FormState {
    let mut form = FormState::default();
    if let Some(id) = &link.integration_id {
        if let Ok(credentials) = state.store.credentials(id).await {
            form.subdomain = credentials.get("subdomain").unwrap_or_default().to_owned();
        }
        if let Ok(Some(row)) = state.store.integration(id).await {
            form.source_name = row.settings.source_name.unwrap_or_default();
        }
    }
    form
}

/// `GET /connect/{token}`: the guide and the form.
async fn show_link(
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
    let form = if link.purpose == LinkPurpose::Relink {
        relink_defaults(&state, &link).await
    } else {
        FormState::default()
    };
    let ctx = context(&state, &link, served_over_https(&state.config, &headers));
    form_page(&state, &link, &ctx, StatusCode::OK, &form)
}

fn store_failure(state: &AppState, link: Option<&ConnectLink>, e: &StoreError) -> Response {
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
fn cross_site(headers: &HeaderMap, public_url: Option<&str>) -> bool {
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
struct Submitted {
    subdomain: String,
    api_key: String,
    source_name: String,
}

fn parse_form(body: &[u8]) -> Submitted {
    let mut form = Submitted::default();
    for (name, value) in form_urlencoded::parse(body) {
        match name.as_ref() {
            "subdomain" => form.subdomain = value.into_owned(),
            "api_key" => form.api_key = value.into_owned(),
            "source_name" => form.source_name = value.into_owned(),
            _ => {}
        }
    }
    form
}

/// The subdomain of what the customer typed: `acme`, `acme.sage.hr` and
/// `https://acme.sage.hr/dashboard` all give `acme`. `None` if it is no DNS label.
pub fn normalize_subdomain(input: &str) -> Option<String> {
    let mut s = input.trim().to_ascii_lowercase();
    for prefix in ["https://", "http://"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.to_owned();
        }
    }
    if let Some(i) = s.find(['/', '?', '#']) {
        s.truncate(i);
    }
    if let Some(rest) = s.strip_suffix(".sage.hr") {
        s = rest.to_owned();
    }
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    ok.then_some(s)
}

/// The largest form body accepted: the three fields with room to spare. The server-wide
/// limit is meant for CVs; a form needs far less.
pub const FORM_BODY_LIMIT: usize = 16 * 1024;

/// `POST /connect/{token}`: checks the credentials and connects.
///
/// The body is read last, after the link proved usable, and only up to
/// `FORM_BODY_LIMIT`: whoever posts needs no credentials, so nothing may make the server
/// hold more than a form's worth for them.
async fn submit_link(
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
    submit(state, link, parse_form(&form), secure, now)
        .instrument(span)
        .await
}

/// The body, or `None` as soon as it grows past `FORM_BODY_LIMIT` (without reading on).
async fn read_form_body(body: axum::body::Body) -> Result<Option<Vec<u8>>, axum::Error> {
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

async fn submit(
    state: AppState,
    link: ConnectLink,
    input: Submitted,
    secure: bool,
    now: Timestamp,
) -> Response {
    let ctx = context(&state, &link, secure);
    let t = ctx.lang.texts();
    let mut form = FormState {
        subdomain: input.subdomain.trim().to_owned(),
        source_name: input.source_name.trim().to_owned(),
        ..FormState::default()
    };
    let subdomain = normalize_subdomain(&input.subdomain);
    if input.subdomain.trim().is_empty() {
        form.subdomain_error = Some(t.err_subdomain_missing.to_owned());
    } else if subdomain.is_none() {
        form.subdomain_error = Some(t.err_subdomain_format.to_owned());
    }
    let api_key = input.api_key.trim();
    if api_key.is_empty() {
        form.api_key_error = Some(t.err_key_missing.to_owned());
    } else if api_key.len() > 512 || api_key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        form.api_key_error = Some(t.err_key_format.to_owned());
    }
    if form.source_name.chars().count() > 100 {
        form.source_error = Some(t.err_source_long.to_owned());
    }
    // For a relink the account must stay the same: new credentials for another account
    // would mix two accounts' data under one integration.
    let mut existing = None;
    if link.purpose == LinkPurpose::Relink {
        let id = link.integration_id.clone().unwrap_or_default();
        match state.store.integration(&id).await {
            Ok(Some(row)) => existing = Some(row),
            Ok(None) => {
                return message_page(
                    &state,
                    Some(&link),
                    StatusCode::GONE,
                    t.invalid_title,
                    t.invalid_body,
                )
            }
            Err(e) => return store_failure(&state, Some(&link), &e),
        }
        let current = match state.store.credentials(&id).await {
            Ok(c) => c.get("subdomain").map(str::to_owned),
            Err(e) => return store_failure(&state, Some(&link), &e),
        };
        if let (Some(current), Some(typed)) = (&current, &subdomain) {
            if current != typed && form.subdomain_error.is_none() {
                form.subdomain_error = Some(texts::fill(
                    t.err_subdomain_other_account,
                    ctx.app,
                    ctx.organization,
                    &format!("{current}.sage.hr"),
                ));
            }
        }
    }
    if form.subdomain_error.is_some() || form.api_key_error.is_some() || form.source_error.is_some()
    {
        return form_page(&state, &link, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &form);
    }
    let subdomain = subdomain.unwrap_or_default();
    let host = format!("{subdomain}.sage.hr");

    let mut credentials = Credentials::default();
    credentials.0.insert("subdomain".into(), json!(subdomain));
    credentials.0.insert("api_key".into(), json!(api_key));
    if let Some(base) = state.config.tool_base_urls.get(&link.tool) {
        credentials.0.insert("base_url".into(), json!(base));
    }
    let source_name = (!form.source_name.is_empty()).then(|| form.source_name.clone());
    let new = match &existing {
        Some(row) => NewIntegration {
            id: row.id.clone(),
            tool: row.tool.clone(),
            environment_id: row.environment_id.clone(),
            end_user: row.end_user.clone(),
            settings: row.settings.clone(),
            credentials,
        },
        None => {
            let mut entropy = [0u8; 24];
            rand::rng().fill_bytes(&mut entropy);
            let id = match IntegrationId::from_entropy(&link.tool, entropy) {
                Ok(id) => id.to_string(),
                Err(e) => {
                    tracing::error!(error = ?e, tool = %link.tool, "cannot make an integration id");
                    return message_page(
                        &state,
                        Some(&link),
                        StatusCode::INTERNAL_SERVER_ERROR,
                        t.failed_title,
                        t.failed_body,
                    );
                }
            };
            NewIntegration {
                id,
                tool: link.tool.clone(),
                environment_id: link.environment_id.clone(),
                end_user: EndUser {
                    organization_name: link.organization_name.clone(),
                    creator_email: link.end_user_email.clone(),
                    origin_id: link.origin_id.clone(),
                },
                settings: IntegrationSettings {
                    sync_only_created_applications: false,
                    source_name: source_name.clone(),
                },
                credentials,
            }
        }
    };
    tracing::Span::current().record("integration_id", new.id.as_str());

    // The attempt counts as failed from before the check until it is known not to be: a
    // count taken after the check let parallel posts all pass the lock. An attempt whose
    // request is dropped mid-check stays counted, which errs on the side of the lock.
    let attempt = match state
        .store
        .reserve_link_attempt(&link.token_hash, MAX_FAILED_ATTEMPTS, now)
        .await
    {
        Ok(Some(n)) => n,
        Ok(None) => return spent_meanwhile(&state, &link, now).await,
        Err(e) => return store_failure(&state, Some(&link), &e),
    };
    let checked = check_credentials(&state, &new, now, t, &ctx, &host).await;
    if !matches!(&checked, Err(failure) if failure.count_as_failure) {
        if let Err(e) = state.store.release_link_attempt(&link.token_hash).await {
            tracing::error!(error = ?e, "could not give back a connection attempt");
        }
    }
    if let Err(failure) = checked {
        form.error = Some(failure.text);
        // The first number goes out again only after it was given back, so the event is
        // sent at most once per link (a first attempt given back while a second fails
        // can leave it unsent; a duplicate would be worse).
        if failure.count_as_failure && attempt == 1 {
            connection_flow_failed(&state, &link, existing.as_ref().map(|r| r.id.as_str())).await;
        }
        return form_page(&state, &link, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &form);
    }

    let completion = Completion {
        token: new_token(),
        expires_at: now.plus(COMPLETION_TTL),
    };
    let stored = match &existing {
        None => {
            state
                .store
                .complete_connect_link(&link.token_hash, &new, &completion, now)
                .await
        }
        Some(row) => {
            let result = state
                .store
                .complete_relink(
                    &link.token_hash,
                    &row.id,
                    &new.credentials,
                    &completion,
                    now,
                )
                .await;
            if result.is_ok() && source_name.is_some() && source_name != row.settings.source_name {
                let settings = IntegrationSettings {
                    source_name: source_name.clone(),
                    ..row.settings.clone()
                };
                if let Err(e) = state.store.update_settings(&row.id, &settings).await {
                    tracing::error!(error = ?e, "could not save the source name of a relink");
                }
            }
            result
        }
    };
    match stored {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return message_page(
                &state,
                Some(&link),
                StatusCode::GONE,
                t.used_title,
                t.used_body,
            )
        }
        Err(e) => return store_failure(&state, Some(&link), &e),
    }
    after_completion(&state, &new.id, existing.as_ref(), now).await;
    tracing::info!(integration_id = %new.id, "connection flow completed");

    if let Some(target) = &link.redirect_url {
        if let Ok(mut url) = url::Url::parse(target) {
            url.query_pairs_mut()
                .append_pair("token", &completion.token);
            if let Ok(location) = HeaderValue::from_str(url.as_str()) {
                let mut response = page_response(
                    StatusCode::SEE_OTHER,
                    page::done(&ctx, &host, &completion.token, &link.tool, &[]),
                    &frame_ancestors(&state, Some(&link)),
                    "'none'",
                );
                response.headers_mut().insert(header::LOCATION, location);
                return response;
            }
        }
    }
    page_response(
        StatusCode::OK,
        page::done(
            &ctx,
            &host,
            &completion.token,
            &link.tool,
            &state.config.connect_embed_origins,
        ),
        &frame_ancestors(&state, Some(&link)),
        "'none'",
    )
}

/// The page for a link that could not reserve an attempt: other posts locked, used or
/// let it expire since it was read.
async fn spent_meanwhile(state: &AppState, link: &ConnectLink, now: Timestamp) -> Response {
    let current = match state.store.connect_link_by_digest(&link.token_hash).await {
        Ok(current) => current,
        Err(e) => return store_failure(state, Some(link), &e),
    };
    unusable(state, current.as_ref(), now).unwrap_or_else(|| {
        let t = Lang::for_code(&link.language).texts();
        message_page(
            state,
            Some(link),
            StatusCode::TOO_MANY_REQUESTS,
            t.locked_title,
            t.locked_body,
        )
    })
}

struct CheckFailure {
    text: String,
    /// Whether the customer's input was wrong (counts toward the lock), as opposed to Sage HR
    /// being unreachable.
    count_as_failure: bool,
}

async fn check_credentials(
    state: &AppState,
    new: &NewIntegration,
    now: Timestamp,
    t: &texts::Texts,
    ctx: &PageContext<'_>,
    host: &str,
) -> Result<(), CheckFailure> {
    let fill = |text: &str| texts::fill(text, ctx.app, ctx.organization, host);
    let connector = match (state.connectors)(&new.draft_row(now), &new.credentials) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e.message, "cannot build a connector for the check");
            return Err(CheckFailure {
                text: fill(t.err_unreachable),
                count_as_failure: false,
            });
        }
    };
    match tokio::time::timeout(CHECK_TIMEOUT, connector.check_credentials()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => {
            tracing::info!(kind = ?e.kind, error = %e.message, "credential check failed");
            let (text, count) = match e.kind {
                ConnectorErrorKind::AuthInvalid => (t.err_key_rejected, true),
                ConnectorErrorKind::NotFound => (t.err_account_unknown, true),
                _ => (t.err_unreachable, false),
            };
            Err(CheckFailure {
                text: fill(text),
                count_as_failure: count,
            })
        }
        Err(_) => {
            tracing::warn!(
                timeout_s = CHECK_TIMEOUT.as_secs(),
                "credential check timed out"
            );
            Err(CheckFailure {
                text: fill(t.err_unreachable),
                count_as_failure: false,
            })
        }
    }
}

/// The `connection-flow-failed` webhook, sent once per link (at its first failed attempt).
async fn connection_flow_failed(
    state: &AppState,
    link: &ConnectLink,
    integration_id: Option<&str>,
) {
    let event = Event::ConnectionFlowFailed(ConnectionFlowFailed {
        integration_tool: link.tool.clone(),
        integration_category: Category::Ats,
        end_user: EndUser {
            organization_name: link.organization_name.clone(),
            creator_email: link.end_user_email.clone(),
            origin_id: link.origin_id.clone(),
        },
        log_url: String::new(),
    });
    let event = NewEvent::new(event, Timestamp::now()).for_integration(integration_id);
    if let Err(e) = state
        .store
        .enqueue_event_in(&link.environment_id, &event)
        .await
    {
        tracing::error!(error = ?e, "the connection-flow-failed event could not be written");
    }
}

/// Events and the first sync after a completed link.
async fn after_completion(
    state: &AppState,
    integration_id: &str,
    before: Option<&atsbridge_store::IntegrationRow>,
    now: Timestamp,
) {
    let row = match state.store.integration(integration_id).await {
        Ok(Some(row)) => row,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = ?e, "reading the connected integration");
            return;
        }
    };
    let event = match before {
        None => state.store.enqueue_integration_created(&row, now).await,
        Some(old) if old.status != row.status => {
            let event = Event::IntegrationStateChanged(IntegrationStateChanged {
                integration_tool: row.tool.clone(),
                integration_id: row.id.clone(),
                integration_category: Category::Ats,
                end_user: row.end_user.clone(),
                qa_status: QaStatus::Passed,
                setup_status: row.setup_status,
                state: row.status,
                updated_at: now,
            });
            state.store.enqueue_event(&NewEvent::new(event, now)).await
        }
        Some(_) => Ok(()),
    };
    if let Err(e) = event {
        tracing::error!(error = ?e, "the integration event could not be written");
    }
    if row.status != IntegrationStatus::Active {
        // A disabled integration got new credentials; it syncs once it is enabled.
        return;
    }
    match state.store.request_sync(&row.id, "FULL", now).await {
        Ok(_) => {}
        Err(e) => tracing::error!(error = ?e, "could not queue the first sync"),
    }
    let engine = state.engine.clone();
    let id = row.id.clone();
    let span = tracing::info_span!("connect_sync", integration_id = %id);
    // Owned by the engine, not the request (a shutdown cancels and records it); the
    // scheduler would also serve the queued request.
    let run = engine.spawn_run(id, "FULL".to_owned());
    tokio::spawn(
        async move {
            match run.await {
                Ok(Ok(outcome)) => tracing::info!(?outcome, "sync after connecting finished"),
                Ok(Err(e)) => tracing::error!(error = ?e, "sync after connecting failed"),
                Err(e) => tracing::error!(error = ?e, "the sync task after connecting failed"),
            }
        }
        .instrument(span),
    );
}

async fn asset(Path(file): Path<String>) -> Response {
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
    fn subdomains_are_taken_from_what_people_paste() {
        for (input, want) in [
            ("acme", Some("acme")),
            ("  Acme ", Some("acme")),
            ("acme.sage.hr", Some("acme")),
            ("https://acme.sage.hr/dashboard?x=1", Some("acme")),
            ("http://my-firm-2.sage.hr", Some("my-firm-2")),
            ("", None),
            ("-acme", None),
            ("ac me", None),
            ("acme.example.com", None),
            ("<script>", None),
            ("acme.sage.hr/../evil", Some("acme")),
            ("evil.example/acme", None),
        ] {
            assert_eq!(normalize_subdomain(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn emails_are_checked_loosely() {
        assert!(valid_email("it@acme.example"));
        for bad in [
            "",
            "acme",
            "@acme.example",
            "it@",
            "it@acme",
            "it @acme.example",
            "a@b@c.d",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn tokens_carry_256_bits() {
        let a = new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_token());
    }

    #[test]
    fn loopback_hosts_are_recognized() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:3000",
            "127.9.9.9:1",
            "[::1]:3000",
            "[::1]",
            "::1",
            "localhost",
            "LocalHost:8080",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:3000",
            "10.0.0.1:3000",
            "[2001:db8::1]:80",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn plain_http_beyond_this_machine_is_warned_about_at_start() {
        let config = |public_url: Option<&str>, listen: Option<&str>, trust: bool| ServerConfig {
            public_url: public_url.map(str::to_owned),
            listen_addr: listen.map(|a| a.parse().unwrap()),
            trust_forwarded_headers: trust,
            ..ServerConfig::default()
        };
        let warned = |c: &ServerConfig, about: &str| {
            let w = address_warnings(c);
            assert_eq!(w.len(), 1, "{w:?}");
            assert!(w[0].contains(about), "{w:?}");
        };
        warned(
            &config(Some("http://ats.vendor.example"), None, false),
            "plain HTTP",
        );
        warned(&config(None, Some("10.1.2.3:3000"), false), "plain HTTP");
        warned(&config(None, Some("0.0.0.0:3000"), false), "--public-url");
        for quiet in [
            config(
                Some("https://ats.vendor.example"),
                Some("0.0.0.0:3000"),
                false,
            ),
            config(Some("http://127.0.0.1:3000"), None, false),
            config(Some("http://localhost:3000/"), None, false),
            config(None, Some("127.0.0.1:3000"), false),
            config(None, Some("0.0.0.0:3000"), true),
            config(None, None, false),
        ] {
            assert!(address_warnings(&quiet).is_empty(), "{quiet:?}");
        }
    }

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
