//! Application stages: the per-job pipeline entry (`job.stages[]`, `application.current_stage`)
//! and the deprecated global model (`GET /v1/ats/application-stages`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::common::CustomFields;
use crate::enums::StageStatus;
use crate::timestamp::Timestamp;

/// A stage of one job's pipeline, ordered by `index`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stage {
    pub id: String,
    pub remote_id: Option<String>,
    pub name: Option<String>,
    pub status: Option<StageStatus>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_fields: Option<CustomFields>,
    pub index: Option<i64>,
}

/// A record of `GET /v1/ats/application-stages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicationStage {
    pub id: String,
    pub remote_id: Option<String>,
    pub name: Option<String>,
    pub status: Option<StageStatus>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_fields: Option<CustomFields>,
    pub changed_at: Timestamp,
    pub remote_deleted_at: Option<Timestamp>,
    pub remote_data: Option<Value>,
}
