//! Small shapes shared by several models.

use serde::{Deserialize, Serialize};

/// A postal location. `raw` keeps the unparsed address as the ATS sent it; `country` is an
/// ISO 3166-1 alpha-2 code when it could be mapped, else the original value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Location {
    pub city: Option<String>,
    pub country: Option<String>,
    pub raw: Option<String>,
    pub state: Option<String>,
    pub street_1: Option<String>,
    pub street_2: Option<String>,
    pub zip_code: Option<String>,
}

/// A candidate tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tag {
    pub id: String,
    pub name: Option<String>,
    pub remote_id: Option<String>,
}

/// The short form of a job inside another record (`application.job`,
/// `candidate.applications[].job`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobRef {
    pub id: String,
    pub name: Option<String>,
    pub remote_id: String,
}

/// The short form of a stage inside `candidate.applications[]` and write responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageRef {
    pub id: String,
    pub name: Option<String>,
    pub remote_id: Option<String>,
    pub index: Option<i64>,
}

/// A JSON object of custom fields (`{}` when the ATS has none mapped).
pub type CustomFields = serde_json::Map<String, serde_json::Value>;
