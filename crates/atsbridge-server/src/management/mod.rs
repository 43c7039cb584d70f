//! Management endpoints: API key check, integrations (read, delete, enable/disable,
//! settings), force sync and the passthrough API; plus the tool logos the integration object
//! points to. One module per job:
//!
//! - `tools`: the coverage tables, `GET /tools/{category}`, the logos and link bases;
//! - `integrations`: `GET`/`DELETE /integrations/{id}`, `enabled` and `settings`;
//! - `force_sync`: `POST /force-sync`;
//! - `passthrough`: `POST /passthrough/{tool}/{api}`;
//! - `check_api_key`: `GET /check-api-key`.
//!
//! Request bodies come through `crate::body`, so malformed JSON and wrong types answer
//! `PLATFORM.INPUT_INVALID` naming the field instead of axum's plain-text rejections.

mod check_api_key;
pub(crate) mod force_sync;
pub(crate) mod integrations;
pub(crate) mod passthrough;
mod tools;

use atsbridge_model::connector::ConnectorError;
use atsbridge_model::DataResponse;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{Map, Value};

use self::check_api_key::check_api_key;
use self::force_sync::force_sync;
pub(crate) use self::force_sync::start_sync;
pub(crate) use self::integrations::change_enabled;
use self::integrations::{
    delete_integration, get_integration, get_settings, put_settings, set_enabled,
};
use self::passthrough::passthrough;
pub use self::tools::external_base;
use self::tools::{asset, tools};
use crate::error::ApiError;
use crate::AppState;

/// The `/v1` routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/check-api-key", get(check_api_key))
        .route(
            "/integrations/{integration_id}",
            get(get_integration).delete(delete_integration),
        )
        .route("/integrations/{integration_id}/enabled", put(set_enabled))
        .route(
            "/integrations/{integration_id}/settings",
            get(get_settings).put(put_settings),
        )
        .route("/force-sync", post(force_sync))
        .route("/tools/{category}", get(tools))
        .route("/passthrough/{tool}/{api}", post(passthrough))
}

/// Routes outside `/v1`: the logos `tool.logo_url` and `tool.icon_url` point to.
pub fn assets_router() -> Router<AppState> {
    Router::new().route("/assets/{file}", get(asset))
}

/// The `{}` data of answers that carry nothing.
type Empty = Json<DataResponse<Map<String, Value>>>;

fn empty_data() -> Empty {
    Json(DataResponse::new(Map::new()))
}

fn connector_error(e: ConnectorError) -> ApiError {
    ApiError::new(e.code(), e.message)
}

#[cfg(test)]
mod tests {
    use super::force_sync::ForceSyncBody;
    use super::integrations::EnabledBody;
    use crate::body::parse_json;

    #[test]
    fn bodies_name_the_bad_field() {
        let e = parse_json::<EnabledBody>(br#"{"value": "yes"}"#, false).unwrap_err();
        assert!(
            e.message.starts_with("value: invalid type"),
            "{}",
            e.message
        );
        let e = parse_json::<EnabledBody>(b"{}", false).unwrap_err();
        assert!(e.message.contains("`value`"), "{}", e.message);
        let e = parse_json::<EnabledBody>(b"{\"value\": tru", false).unwrap_err();
        assert!(
            e.message.starts_with("body: malformed JSON"),
            "{}",
            e.message
        );
        let e = parse_json::<EnabledBody>(b"", false).unwrap_err();
        assert!(e.message.starts_with("body:"), "{}", e.message);
        let e = parse_json::<EnabledBody>(b"[true]", false).unwrap_err();
        assert!(e.message.contains("JSON object"), "{}", e.message);
        assert!(parse_json::<ForceSyncBody>(b"", true)
            .unwrap()
            .kind
            .is_none());
        let e = parse_json::<ForceSyncBody>(br#"{"type": "WEEKLY"}"#, true).unwrap_err();
        assert!(
            e.message.starts_with("type: unknown variant"),
            "{}",
            e.message
        );
        // Whitespace alone is no JSON, even where the body may be left out.
        for blank in [&b"\r"[..], b" ", b"\n\t"] {
            let e = parse_json::<ForceSyncBody>(blank, true).unwrap_err();
            assert!(
                e.message.starts_with("body: malformed JSON"),
                "{}",
                e.message
            );
            let e = parse_json::<EnabledBody>(blank, false).unwrap_err();
            assert!(e.message.starts_with("body:"), "{}", e.message);
        }
        let e = parse_json::<ForceSyncBody>(br#"{} x"#, true).unwrap_err();
        assert!(
            e.message.starts_with("body: malformed JSON"),
            "{}",
            e.message
        );
    }
}
