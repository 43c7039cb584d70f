//! The Employee model (`GET /v1/hris/employees`) and the flat employee that
//! `POST /v1/hris/employees` answers with.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::employment::Employment;
use super::enums::{
    DomesticBankRoutingType, EmploymentStatus, EmploymentType, Ethnicity, Gender, GroupType,
    MaritalStatus,
};
use super::time_off_balance::TimeOffBalanceCore;
use super::IntegrationField;
use crate::common::{CustomFields, Location};
use crate::timestamp::Timestamp;

/// An employee with the related records the store joins in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Employee {
    #[serde(flatten)]
    pub core: EmployeeCore,
    #[serde(default)]
    pub employments: Vec<Employment>,
    #[serde(default)]
    pub time_off_balances: Vec<TimeOffBalanceCore>,
    pub manager: Option<Manager>,
    #[serde(default)]
    pub groups: Vec<GroupRef>,
    /// Deprecated copy of `groups`, absent from Kombo's SDKs but still in its API; older
    /// raw-HTTP clients read it.
    #[serde(default)]
    pub teams: Vec<GroupRef>,
    /// Sage HR has no legal entities: always `null` there.
    pub legal_entity: Option<LegalEntity>,
    /// Sage HR has no work locations: always `null` there.
    pub work_location: Option<WorkLocation>,
}

impl Employee {
    /// Assembles the listed employee, keeping `teams` equal to `groups` as Kombo does.
    pub fn new(
        core: EmployeeCore,
        employments: Vec<Employment>,
        time_off_balances: Vec<TimeOffBalanceCore>,
        manager: Option<Manager>,
        groups: Vec<GroupRef>,
    ) -> Self {
        Employee {
            core,
            employments,
            time_off_balances,
            manager,
            teams: groups.clone(),
            groups,
            legal_entity: None,
            work_location: None,
        }
    }
}

/// The fields an employee has of its own. It is also, whole, the `data` of the
/// create-employee answer, where Kombo leaves the nested objects out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmployeeCore {
    pub id: String,
    pub remote_id: String,
    pub employee_number: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Free text as the tool has it (e.g. `French`), not a country code.
    pub nationality: Option<String>,
    pub display_full_name: Option<String>,
    /// The current title.
    pub job_title: Option<String>,
    /// `null` when the tool's value is not a valid address.
    pub work_email: Option<String>,
    pub personal_email: Option<String>,
    pub mobile_phone_number: Option<String>,
    pub ssn: Option<String>,
    pub tax_id: Option<String>,
    pub gender: Option<Gender>,
    pub ethnicity: Option<Ethnicity>,
    pub marital_status: Option<MaritalStatus>,
    pub employment_status: Option<EmploymentStatus>,
    pub employment_type: Option<EmploymentType>,
    pub weekly_hours: Option<f64>,
    /// The tool's URL of the picture, or a copy atsbridge serves.
    pub avatar: Option<String>,
    pub work_location_id: Option<String>,
    pub legal_entity_id: Option<String>,
    /// The Kombo employee id of the manager.
    pub manager_id: Option<String>,
    pub home_address: Option<Location>,
    /// Nullable on the wire; an uncovered list is `[]` rather than `null` for Sage HR.
    pub bank_accounts: Option<Vec<BankAccount>>,
    /// Midnight UTC of the day, like every HRIS date outside absences.
    pub date_of_birth: Option<Timestamp>,
    /// The hire date.
    pub start_date: Option<Timestamp>,
    /// May lie in the future.
    pub termination_date: Option<Timestamp>,
    pub remote_created_at: Option<Timestamp>,
    pub changed_at: Timestamp,
    pub remote_deleted_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_fields: Option<CustomFields>,
    #[serde(default)]
    pub integration_fields: Vec<IntegrationField>,
    pub remote_data: Option<Value>,
}

/// What `POST /v1/hris/employees` returns as `data`.
pub type CreatedEmployee = EmployeeCore;

/// The short form of the manager, an employee too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Manager {
    pub id: String,
    pub remote_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_full_name: Option<String>,
    pub employee_number: Option<String>,
    pub work_email: Option<String>,
    pub employment_status: Option<EmploymentStatus>,
    pub termination_date: Option<Timestamp>,
}

/// A group the employee belongs to, as listed in `groups[]` and `teams[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupRef {
    pub id: String,
    pub remote_id: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<GroupType>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BankAccount {
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub account_number: Option<String>,
    pub holder_name: Option<String>,
    pub bank_name: Option<String>,
    pub domestic_bank_routing: Option<DomesticBankRouting>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomesticBankRouting {
    /// Unformatted: may contain the tool's delimiters (`01-23-45`).
    pub number: String,
    /// `null` when the kind of routing number is uncertain.
    #[serde(rename = "type")]
    pub kind: Option<DomesticBankRoutingType>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegalEntity {
    pub id: String,
    pub remote_id: Option<String>,
    pub name: Option<String>,
    pub address: Option<Location>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkLocation {
    pub id: String,
    pub remote_id: Option<String>,
    pub name: Option<String>,
    /// Free text, e.g. `OFFICE`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub address: Option<Location>,
    pub changed_at: Timestamp,
    pub remote_deleted_at: Option<Timestamp>,
    pub remote_data: Option<Value>,
}
