//! The connection flow, after Kombo Connect: the vendor asks for a link
//! (`POST /v1/connect/create-link`, or `POST /v1/integrations/{id}/relink` for new
//! credentials), its customer opens it, follows the tool's guide and enters the credentials it
//! asks for; atsbridge checks them with the tool, creates the integration (or replaces its
//! credentials), starts the first sync and hands a short-lived token back to the vendor, who
//! redeems it with `GET /v1/connect/integration-by-token/{token}`.
//!
//! Safety: link and completion tokens are 256 random bits, stored as digests; links expire
//! and complete once; every page carries a strict Content-Security-Policy; form posts from
//! another site are refused (`Sec-Fetch-Site` / `Origin`); secrets are never sent back,
//! logged or stored unencrypted.
//!
//! One module per part of the flow:
//!
//! - `api`: the three `/v1` routes (create-link, integration-by-token, relink) and their bodies;
//! - `address`: how connection-link URLs are built (public URL, listen address, forwarded
//!   headers) and the start-up warnings about them;
//! - `form`: the hosted pages (`GET`/`POST /connect/{token}`), their security headers and assets;
//! - `completion`: what a posted form does, step by step, and what follows a completed link;
//! - `page` and `texts`: the markup and the pages' own words; what a tool asks for and its
//!   guide come from its descriptor (`ToolDescriptor::connect`).

mod address;
pub(crate) mod api;
mod completion;
mod form;
mod page;
pub mod texts;

use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use rand::RngCore as _;
use serde::Deserialize;

pub use self::address::address_warnings;
pub(crate) use self::address::served_over_https;
use self::api::{create_link, integration_by_token, relink};
pub(crate) use self::form::cross_site;
pub use self::form::FORM_BODY_LIMIT;
use self::form::{asset, show_link, submit_link};
use crate::AppState;

/// How long an `EMBEDDED` link is valid (Kombo: 1 hour).
pub const EMBEDDED_LINK_TTL: Duration = Duration::from_secs(3600);
/// How long a `MAGIC_LINK` is valid (Kombo: 1 year).
pub const MAGIC_LINK_TTL: Duration = Duration::from_secs(365 * 24 * 3600);
/// How long the token handed back after completion can be redeemed.
pub const COMPLETION_TTL: Duration = Duration::from_secs(3600);
/// Failed credential checks after which a link is locked (guessing keys through our page).
pub const MAX_FAILED_ATTEMPTS: i64 = 10;

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

/// Kombo's link types: an `EMBEDDED` link is opened in the vendor's page (and may be framed
/// there), a `MAGIC_LINK` is sent to the customer and lives long.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
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

/// 256 random bits, base64url without padding.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_bits() {
        let a = new_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_token());
    }
}
