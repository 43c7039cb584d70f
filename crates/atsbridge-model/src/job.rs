//! The Job model (`GET /v1/ats/jobs`) and its nested objects.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::common::{CustomFields, Location};
use crate::enums::{
    EmploymentType, HiringTeamRole, JobPostingStatus, JobPostingVisibility, JobRoleScope,
    JobRoleType, JobStatus, RemoteWorkStatus, SalaryPeriod, ScreeningQuestionCategory, Visibility,
};
use crate::stage::Stage;
use crate::timestamp::Timestamp;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    pub id: String,
    pub remote_id: String,
    pub name: Option<String>,
    pub job_code: Option<String>,
    /// Usually HTML.
    pub description: Option<String>,
    /// Deprecated by Kombo in favour of `visibility`.
    pub confidential: Option<bool>,
    pub weekly_hours: Option<f64>,
    pub category: Option<String>,
    /// The raw department or team name (a plain string, not an object).
    pub department: Option<String>,
    pub post_url: Option<String>,
    pub experience_level: Option<String>,
    pub salary_amount: Option<f64>,
    pub salary_amount_from: Option<f64>,
    pub salary_amount_to: Option<f64>,
    pub salary_currency: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_fields: Option<CustomFields>,
    pub remote_url: Option<String>,
    pub opened_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub remote_created_at: Option<Timestamp>,
    pub remote_updated_at: Option<Timestamp>,
    /// Deprecated by Kombo in favour of `hiring_team`.
    pub contact_id: Option<String>,
    pub changed_at: Timestamp,
    pub remote_deleted_at: Option<Timestamp>,
    #[serde(default)]
    pub stages: Vec<Stage>,
    #[serde(default)]
    pub screening_questions: Vec<ScreeningQuestion>,
    #[serde(default)]
    pub job_postings: Vec<JobPosting>,
    #[serde(default)]
    pub hiring_team: Vec<HiringTeamMember>,
    pub employment_type: Option<EmploymentType>,
    pub status: Option<JobStatus>,
    pub visibility: Option<Visibility>,
    pub remote_work_status: Option<RemoteWorkStatus>,
    pub salary_period: Option<SalaryPeriod>,
    pub location: Option<Location>,
    /// The raw ATS payload, keyed by the endpoint path it came from.
    pub remote_data: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScreeningQuestion {
    pub id: String,
    pub remote_id: Option<String>,
    pub title: Option<String>,
    /// May be HTML.
    pub description: Option<String>,
    pub category: Option<ScreeningQuestionCategory>,
    pub required: Option<bool>,
    pub format: Option<QuestionFormat>,
    pub index: Option<i64>,
    pub precondition_question_id: Option<String>,
    pub precondition_options: Option<PreconditionOptions>,
}

/// The answer format of a screening question, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type")]
pub enum QuestionFormat {
    #[serde(rename = "TEXT")]
    Text {
        display_type: Option<TextDisplayType>,
        max_length: Option<i64>,
    },
    #[serde(rename = "NUMBER")]
    Number {
        display_type: Option<NumberDisplayType>,
        max: Option<f64>,
        min: Option<f64>,
    },
    #[serde(rename = "FILE")]
    File {
        accepted_mime_types: Option<Vec<String>>,
        max_file_size_bytes: Option<i64>,
    },
    #[serde(rename = "SINGLE_SELECT")]
    SingleSelect {
        options: Vec<QuestionOption>,
        display_type: Option<SelectDisplayType>,
    },
    #[serde(rename = "BOOLEAN")]
    Boolean,
    #[serde(rename = "DATE")]
    Date,
    #[serde(rename = "MULTI_SELECT")]
    MultiSelect { options: Vec<QuestionOption> },
    #[serde(rename = "INFORMATION")]
    Information,
    #[serde(rename = "UNKNOWN")]
    Unknown { raw_question: Option<Value> },
}

crate::enums::closed_enum!(TextDisplayType {
    SingleLine => "SINGLE_LINE",
    MultiLine => "MULTI_LINE",
    Email => "EMAIL",
    Url => "URL",
});

crate::enums::closed_enum!(NumberDisplayType {
    Slider => "SLIDER",
    Field => "FIELD",
});

crate::enums::closed_enum!(SelectDisplayType {
    Dropdown => "DROPDOWN",
    Radio => "RADIO",
});

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuestionOption {
    pub id: String,
    pub name: String,
    pub remote_id: Option<String>,
}

/// The options of the precondition question under which this question is shown: option ids
/// for select questions, `[true]` or `[false]` for boolean ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum PreconditionOptions {
    OptionIds(Vec<String>),
    Booleans(Vec<bool>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobPosting {
    pub id: String,
    pub remote_id: Option<String>,
    pub title: Option<String>,
    pub description_html: Option<String>,
    pub status: Option<JobPostingStatus>,
    pub visibility: Option<JobPostingVisibility>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HiringTeamMember {
    pub id: String,
    pub remote_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Deprecated by Kombo in favour of `job_roles`.
    #[serde(default)]
    pub hiring_team_roles: Vec<HiringTeamRole>,
    #[serde(default)]
    pub job_roles: Vec<JobRole>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobRole {
    pub remote_id: Option<String>,
    pub remote_label: Option<String>,
    pub unified_type: Option<JobRoleType>,
    pub scope: JobRoleScope,
}
