//! The Group model (`GET /v1/hris/groups`, and the deprecated `GET /v1/hris/teams`, which
//! returns the same object).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::enums::GroupType;
use crate::timestamp::Timestamp;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Group {
    pub id: String,
    pub remote_id: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<GroupType>,
    /// The Kombo id of the parent group; Sage HR's teams are flat, so `null` there.
    pub parent_id: Option<String>,
    pub changed_at: Timestamp,
    pub remote_deleted_at: Option<Timestamp>,
    pub remote_data: Option<Value>,
}
