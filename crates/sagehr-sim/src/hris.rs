//! The core-HR (HRIS) half of a tenant: employees' HR profiles, teams, the job-title catalogue,
//! termination reasons, custom fields, compensation, leave policies and leave requests, plus
//! the tenant's "today", which decides when a termination takes effect.

use std::collections::BTreeMap;

use time::{Date, OffsetDateTime};

use crate::state::{Employee, Tenant};

/// A dated entry of one of the three employee histories; `ref_id` is the team, employment
/// status or job-title position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryItem {
    pub ref_id: u64,
    pub start_date: Date,
    pub end_date: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Termination {
    /// The last working day.
    pub date: Date,
    pub reason_id: u64,
    pub comments: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Compensation {
    pub start_date: Date,
    pub end_date: Option<Date>,
    pub currency: String,
    pub amount: f64,
    pub period: String,
    pub comment: Option<String>,
    pub category: String,
}

/// A custom field's value: a dropdown holds one string, tags hold several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomValue {
    One(Option<String>),
    Many(Vec<String>),
}

/// What Sage HR keeps about an employee beyond the identity recruitment uses. Every field
/// that Sage HR may leave empty is an `Option`, rendered as `null`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HrProfile {
    pub picture_url: Option<String>,
    pub employment_start_date: Option<Date>,
    pub date_of_birth: Option<Date>,
    pub team_id: Option<u64>,
    pub position_id: Option<u64>,
    pub reports_to_employee_id: Option<u64>,
    pub work_phone: Option<String>,
    pub home_phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub gender: Option<String>,
    pub street_first: Option<String>,
    pub street_second: Option<String>,
    pub city: Option<String>,
    pub post_code: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub employee_number: Option<String>,
    pub employment_status_id: Option<u64>,
    pub nationality: Option<String>,
    pub marital_status: Option<String>,
    pub personal_identification_number: Option<String>,
    pub tax_number: Option<String>,
    pub irregular_contract_worker: bool,
    pub location_id: Option<u64>,
    pub team_history: Vec<HistoryItem>,
    pub employment_status_history: Vec<HistoryItem>,
    pub position_history: Vec<HistoryItem>,
    pub termination: Option<Termination>,
    pub compensations: Vec<Compensation>,
    /// Custom field id → value.
    pub custom_fields: BTreeMap<u64, CustomValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: u64,
    pub name: String,
    pub manager_ids: Vec<u64>,
}

/// An entry of the job-title catalogue (H13), not a recruitment position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobTitle {
    pub id: u64,
    pub title: String,
    pub description: Option<String>,
    pub code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminationReason {
    pub id: u64,
    pub name: String,
    pub code: Option<String>,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomFieldDef {
    pub id: u64,
    pub label: String,
    /// `CustomDropdownField` or `CustomTags`.
    pub kind: String,
    pub options: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeavePolicy {
    pub id: u64,
    pub name: String,
    pub color: String,
    /// `days` or `hours`.
    pub unit: String,
    /// `yearly` or `no_tracking`.
    pub accrue_type: String,
    pub do_not_accrue: bool,
    pub default_allowance: f64,
    pub max_carryover: f64,
    pub only_full_days: bool,
    pub auto_approves: bool,
    pub require_details: bool,
}

impl LeavePolicy {
    pub fn tracks_allowance(&self) -> bool {
        self.accrue_type != "no_tracking"
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LeaveStatus {
    Approved,
    Pending,
    Declined,
    Canceled,
}

impl LeaveStatus {
    pub const ALL: [LeaveStatus; 4] = [
        LeaveStatus::Approved,
        LeaveStatus::Pending,
        LeaveStatus::Declined,
        LeaveStatus::Canceled,
    ];

    /// The display label and the code, in the pairs Sage HR sends them.
    pub fn label(self) -> &'static str {
        match self {
            LeaveStatus::Approved => "Approved",
            LeaveStatus::Pending => "Pending",
            LeaveStatus::Declined => "Declined",
            LeaveStatus::Canceled => "Canceled",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            LeaveStatus::Approved => "approved",
            LeaveStatus::Pending => "pending",
            LeaveStatus::Declined => "declined",
            LeaveStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| {
            st.code().eq_ignore_ascii_case(s) || (s == "cancelled" && *st == LeaveStatus::Canceled)
        })
    }
}

/// Which part of the day a request takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayPart {
    AllDay,
    First,
    Second,
    /// `specific_timespan`: from and to, as (hour, minute).
    Specific {
        from: (u8, u8),
        to: (u8, u8),
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeaveRequest {
    pub id: u64,
    pub employee_id: u64,
    pub policy_id: u64,
    pub status: LeaveStatus,
    pub start_date: Date,
    pub end_date: Date,
    pub part: DayPart,
    pub hours: f64,
    pub details: Option<String>,
    pub request_date: Date,
    pub approval_date: Option<Date>,
    pub replacement_id: Option<u64>,
    /// Custom questions: (title, answer).
    pub fields: Vec<(String, String)>,
}

impl LeaveRequest {
    /// What the request takes from a balance, in the policy's unit. Full days count as
    /// calendar days and a part of a day as half a day (INFERRED: Sage HR's working-day
    /// calendars are not in the API).
    pub fn amount(&self, policy: &LeavePolicy) -> f64 {
        if policy.unit == "hours" {
            return self.hours;
        }
        match self.part {
            DayPart::AllDay => ((self.end_date - self.start_date).whole_days() + 1) as f64,
            _ => 0.5,
        }
    }
}

/// The HRIS data of a tenant. Employees themselves live in `Tenant::employees`, shared with
/// recruitment (hiring teams refer to them).
#[derive(Debug, Clone, Default)]
pub struct Hris {
    /// Set by the control API; `None` follows the real (UTC) date.
    pub today: Option<Date>,
    pub teams: BTreeMap<u64, Team>,
    pub job_titles: BTreeMap<u64, JobTitle>,
    /// Employment status id → label ("Full-time", …): the company's configurable list.
    pub employment_statuses: BTreeMap<u64, String>,
    pub termination_reasons: BTreeMap<u64, TerminationReason>,
    pub custom_fields: BTreeMap<u64, CustomFieldDef>,
    pub policies: BTreeMap<u64, LeavePolicy>,
    pub requests: BTreeMap<u64, LeaveRequest>,
}

impl Hris {
    pub fn today(&self) -> Date {
        self.today
            .unwrap_or_else(|| OffsetDateTime::now_utc().date())
    }
}

impl Employee {
    /// Terminated once the last working day has passed; until then the employee is active.
    pub fn is_terminated(&self, today: Date) -> bool {
        self.hr.termination.as_ref().is_some_and(|t| t.date < today)
    }
}

impl Tenant {
    pub fn today(&self) -> Date {
        self.hris.today()
    }

    /// Employees in H1 (active), in id order.
    pub fn active_employees(&self) -> impl Iterator<Item = &Employee> {
        let today = self.today();
        self.employees
            .values()
            .filter(move |e| !e.is_terminated(today))
    }

    /// Employees in H3 (terminated), in id order.
    pub fn terminated_employees(&self) -> impl Iterator<Item = &Employee> {
        let today = self.today();
        self.employees
            .values()
            .filter(move |e| e.is_terminated(today))
    }

    pub fn active_employee(&self, id: u64) -> Option<&Employee> {
        let today = self.today();
        self.employees.get(&id).filter(|e| !e.is_terminated(today))
    }

    pub fn terminated_employee(&self, id: u64) -> Option<&Employee> {
        let today = self.today();
        self.employees.get(&id).filter(|e| e.is_terminated(today))
    }
}
