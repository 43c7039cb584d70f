//! Time-off balances (`GET /v1/hris/time-off-balances`, and `employee.time_off_balances[]`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::absence::AbsenceType;
use super::enums::TimeUnit;
use crate::timestamp::Timestamp;

/// A balance with its absence type embedded, as the list endpoint returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeOffBalance {
    #[serde(flatten)]
    pub core: TimeOffBalanceCore,
    /// Required by Kombo (never `null`): a balance without a known type is not listed.
    #[serde(rename = "type")]
    pub kind: AbsenceType,
}

/// A balance's own fields; the employee embeds balances in this form, without `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeOffBalanceCore {
    pub id: String,
    /// Sage HR balances have no id of their own; the connector synthesises one or leaves it
    /// `null`.
    pub remote_id: Option<String>,
    pub employee_id: String,
    pub type_id: String,
    /// Time still available.
    pub balance: Option<f64>,
    pub balance_unit: Option<TimeUnit>,
    /// Time already taken.
    pub used: Option<f64>,
    pub used_unit: Option<TimeUnit>,
    pub changed_at: Timestamp,
    pub remote_deleted_at: Option<Timestamp>,
    pub remote_data: Option<Value>,
}
