//! Absence types (`GET /v1/hris/absence-types`) and absences (`GET /v1/hris/absences`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::dates::{ClockTime, PlainDate};
use super::enums::{AbsenceStatus, TimeUnit};
use crate::common::CustomFields;
use crate::timestamp::Timestamp;

/// A kind of leave. Also embedded, whole, as `absence.type` and `time_off_balance.type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AbsenceType {
    pub id: String,
    pub remote_id: String,
    pub name: Option<String>,
    pub unit: Option<TimeUnit>,
    /// Whether absences of this type may use `start_half_day`/`end_half_day`.
    pub half_days_supported: Option<bool>,
    /// Whether absences of this type may carry `start_time`/`end_time`.
    pub exact_times_supported: Option<bool>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_fields: Option<CustomFields>,
    pub changed_at: Timestamp,
    pub remote_deleted_at: Option<Timestamp>,
    pub remote_data: Option<Value>,
}

/// An absence with its type embedded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Absence {
    #[serde(flatten)]
    pub core: AbsenceCore,
    /// The type the store joins in by `type_id`; `null` when the type is unknown.
    #[serde(rename = "type")]
    pub kind: Option<AbsenceType>,
}

/// The fields an absence has of its own: the list record less its embedded `type`, which is
/// also the shape Kombo's absence writes answer with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AbsenceCore {
    pub id: String,
    pub remote_id: Option<String>,
    pub employee_id: String,
    /// Deprecated by Kombo and gone from its SDKs; still emitted (as `null` for Sage HR) for
    /// clients that read the older shape over raw HTTP.
    pub approver_id: Option<String>,
    pub start_date: Option<PlainDate>,
    pub end_date: Option<PlainDate>,
    /// `true`: only the second half of the first day is taken.
    pub start_half_day: Option<bool>,
    /// `true`: only the first half of the last day is taken.
    pub end_half_day: Option<bool>,
    pub start_time: Option<ClockTime>,
    pub end_time: Option<ClockTime>,
    pub amount: Option<f64>,
    pub unit: Option<TimeUnit>,
    pub status: Option<AbsenceStatus>,
    pub employee_note: Option<String>,
    /// The Kombo id of the absence type.
    pub type_id: Option<String>,
    pub remote_created_at: Option<Timestamp>,
    pub remote_updated_at: Option<Timestamp>,
    pub changed_at: Timestamp,
    pub remote_deleted_at: Option<Timestamp>,
    pub remote_data: Option<Value>,
}
