//! `GET /check-api-key`: which environment the caller's API key belongs to.

use atsbridge_model::integration::ApiKeyCheck;
use atsbridge_model::DataResponse;
use axum::Json;

use crate::auth::Caller;

/// `GET /check-api-key`
pub(super) async fn check_api_key(caller: Caller) -> Json<DataResponse<ApiKeyCheck>> {
    Json(DataResponse::new(ApiKeyCheck {
        environment_id: caller.0.environment_id,
    }))
}
