//! The OpenAPI 3.1 document of every `/v1` route, served without authentication at
//! `GET /v1/openapi.json` (Kombo publishes its document too).
//!
//! Owns: the document. Schemas come from the types the handlers read and write (derived with
//! utoipa on the model's types behind its `openapi` feature, and on the server's own bodies
//! and answers); [`operations`] lists each route with its parameters, body, success answer
//! and error statuses. The test `openapi` in `tests/it` checks that every route the routers
//! declare is listed here and compares the document with the checked-in snapshot.

mod operations;
mod parts;

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, ServerBuilder,
};

use crate::AppState;

pub use self::parts::{BEARER, INTEGRATION_ID};

/// The `/v1` route of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/openapi.json", get(serve))
}

async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], json())
}

/// The document as pretty JSON with a trailing newline (the form of the snapshot file),
/// built once.
pub fn json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        // Serializing a tree of plain maps and strings cannot fail.
        let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
        text.push('\n');
        text
    })
}

/// The document.
pub fn document() -> OpenApi {
    let mut schemas = parts::Schemas::default();
    let mut paths = Paths::new();
    for op in operations::all() {
        let methods = vec![op.method.clone()];
        let path = format!("/v1{}", op.path);
        paths.add_path_operation(path, methods, op.build(&mut schemas));
    }
    let components = schemas
        .into_components(ComponentsBuilder::new())
        .security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key made with `atsbridge keys create`."))
                    .build(),
            ),
        )
        .security_scheme(
            INTEGRATION_ID,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Integration-Id",
                "The integration the request is about (integration-scoped routes).",
            ))),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("atsbridge")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "A self-hostable, Kombo-compatible unified ATS and HRIS API. Errors use \
                     Kombo's envelope `{\"status\": \"error\", \"error\": {code, title, \
                     message, log_url}}`.",
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new().url("/").build()]))
        .paths(paths)
        .components(Some(components))
        .tags(Some(operations::TAGS.iter().map(|(name, text)| {
            TagBuilder::new()
                .name(*name)
                .description(Some(*text))
                .build()
        })))
        .build()
}
