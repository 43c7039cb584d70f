//! The Employment model (`GET /v1/hris/employments`, and `employee.employments[]`): one
//! pay/position record of an employee.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::enums::{EmploymentType, PayFrequency, PayPeriod};
use super::IntegrationField;
use crate::common::CustomFields;
use crate::timestamp::Timestamp;

/// Embedded in the employee exactly as listed: Kombo's own example of `GET /hris/employees`
/// carries `remote_data` and `integration_fields` on each nested employment too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Employment {
    pub id: String,
    /// Sage HR compensations have no id of their own; the connector synthesises one.
    pub remote_id: Option<String>,
    /// The Kombo id of the employee.
    pub employee_id: String,
    /// May be a historic title; the current one is `employee.job_title`.
    pub job_title: Option<String>,
    pub pay_rate: Option<f64>,
    pub pay_period: Option<PayPeriod>,
    pub pay_frequency: Option<PayFrequency>,
    pub employment_type: Option<EmploymentType>,
    /// ISO 4217 as a rule.
    pub pay_currency: Option<String>,
    /// Midnight UTC of the day this record takes effect.
    pub effective_date: Option<Timestamp>,
    pub changed_at: Timestamp,
    pub remote_deleted_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_fields: Option<CustomFields>,
    #[serde(default)]
    pub integration_fields: Vec<IntegrationField>,
    pub remote_data: Option<Value>,
}
