//! Kombo's unified HRIS model (`/v1/hris/*`), as served for Sage HR: employees with their
//! nested employments, balances, manager and groups; employments; groups; absence types;
//! absences; time-off balances; and the body of the (deprecated) create-employee action.
//!
//! The same rules hold as for the ATS records: every key is serialized, null or not, and
//! fields Sage HR does not cover are `null` (or `[]`), never left out.

pub mod absence;
pub mod dates;
pub mod employee;
pub mod employment;
pub mod enums;
pub mod group;
pub mod time_off_balance;
pub mod write;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use absence::{Absence, AbsenceCore, AbsenceType};
pub use dates::{ClockTime, PlainDate};
pub use employee::{
    BankAccount, CreatedEmployee, DomesticBankRouting, Employee, EmployeeCore, GroupRef,
    LegalEntity, Manager, WorkLocation,
};
pub use employment::Employment;
pub use enums::*;
pub use group::Group;
pub use time_off_balance::{TimeOffBalance, TimeOffBalanceCore};
pub use write::{CreateEmployeeRequest, HomeAddressInput};

/// A field of the tool's own record that the customer mapped in Kombo's dashboard
/// (`integration_fields[]`). The SDKs strip these; raw-HTTP clients read them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntegrationField {
    pub id: String,
    /// The field's key in the tool.
    pub key: String,
    #[serde(rename = "type")]
    pub kind: IntegrationFieldType,
    /// Any JSON value, `null` included.
    #[serde(default)]
    pub value: Value,
    pub label: Option<String>,
}

#[cfg(test)]
mod tests;
