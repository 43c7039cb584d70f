//! The Candidate model (`GET /v1/ats/candidates`, `POST /v1/ats/candidates`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::common::{CustomFields, JobRef, Location, StageRef, Tag};
use crate::enums::Outcome;
use crate::timestamp::Timestamp;

/// A candidate with the short form of each of their applications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    #[serde(flatten)]
    pub profile: CandidateProfile,
    #[serde(default)]
    pub applications: Vec<CandidateApplication>,
}

/// Everything of a candidate except the applications list. It is what the create-application
/// response embeds as `candidate`, where Kombo leaves the list out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CandidateProfile {
    pub id: String,
    pub remote_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Current employer.
    pub company: Option<String>,
    /// Current job title.
    pub title: Option<String>,
    pub confidential: Option<bool>,
    /// Hiring source; job boards read it back to verify attribution.
    pub source: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_fields: Option<CustomFields>,
    pub remote_url: Option<String>,
    pub remote_created_at: Option<Timestamp>,
    pub remote_updated_at: Option<Timestamp>,
    pub changed_at: Timestamp,
    pub remote_deleted_at: Option<Timestamp>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
    #[serde(default)]
    pub email_addresses: Vec<EmailAddress>,
    #[serde(default)]
    pub social_media: Vec<SocialMedia>,
    pub location: Option<Location>,
    pub remote_data: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhoneNumber {
    pub phone_number: String,
    /// Free text, e.g. `HOME`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailAddress {
    pub email_address: Option<String>,
    /// Free text, e.g. `PRIVATE`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SocialMedia {
    pub link: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub username: Option<String>,
}

/// An application as listed inside its candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CandidateApplication {
    pub id: String,
    pub remote_id: Option<String>,
    pub outcome: Option<Outcome>,
    pub rejection_reason_name: Option<String>,
    pub rejected_at: Option<Timestamp>,
    pub remote_url: Option<String>,
    pub changed_at: Timestamp,
    pub remote_created_at: Option<Timestamp>,
    pub remote_updated_at: Option<Timestamp>,
    pub current_stage: Option<StageRef>,
    pub job: Option<JobRef>,
}
