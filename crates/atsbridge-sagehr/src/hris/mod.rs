//! `SageHrHris`: the Sage HR connector for an integration of Kombo's HRIS category. It reads
//! Sage HR's core-HR API (`sagehr-hris-api.md`) through the same client as the ATS connector
//! (same credentials, retries, concurrency cap and request count) and maps it per §7 of that
//! reference.
//!
//! Choices where §7 leaves room (each is a place to revisit if Kombo is seen doing otherwise):
//! - custom fields are read for every employee (H9, one call each) and keyed by their
//!   Sage HR label (atsbridge has no mapping step; see `mapping::with_custom_fields`);
//! - one employment per compensation row, for terminated employees too; an employee without
//!   compensation rows has none (no pay-less placeholder);
//! - balances only for active employees (§7.6);
//! - terminated employees come from H3's short form (no phones, address, gender or manager),
//!   not from one H4 call each;
//! - an employee whose start date is after today is `PENDING`; `Other` genders and marital
//!   statuses without a Kombo value pass through raw;
//! - absences: a year back and a year ahead of today (see [`HrisConfig`]), full days counted
//!   as calendar days.

mod confirm;
mod create;
pub mod mapping;
mod read;

use atsbridge_model::connector::{
    ApplicantRequest, ApplicationRecords, BoxFuture, Confirmed, Connector, ConnectorError,
    ConnectorErrorKind as Kind, FileUpload, Missing, PassthroughRequest, PassthroughResponse,
    Prepared, ReadSummary, RecordSink,
};
use atsbridge_model::hris::PlainDate;
use atsbridge_model::Timestamp;

use crate::client::{Client, Config};
use crate::connector::SageHr;

pub use create::nationality;
use mapping::HrisScope;

/// What an HRIS read covers beyond the lists Sage HR gives whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HrisConfig {
    /// Leave requests are only listed by date window (H18), so a read covers a range of
    /// days: this many days before today…
    pub absences_days_back: u32,
    /// …to this many days after it. Absences outside the range are neither read nor, as
    /// `ReadSummary::absences_window` tells the caller, taken as deleted.
    pub absences_days_ahead: u32,
    /// The day the read takes as today; `None` is the current UTC date. Tests pin it.
    pub today: Option<PlainDate>,
}

impl Default for HrisConfig {
    /// A year back and a year ahead: past absences still matter for payroll and balances,
    /// and Sage HR lets employees book leave months ahead. Kombo's own horizon is unknown.
    fn default() -> Self {
        HrisConfig {
            absences_days_back: 365,
            absences_days_ahead: 365,
            today: None,
        }
    }
}

impl HrisConfig {
    /// The days whose leave requests a read lists (first and last included), around
    /// `today`.
    pub fn absences_range(&self, today: PlainDate) -> (PlainDate, PlainDate) {
        let days = |n: u32| time::Duration::days(n.into());
        (
            PlainDate(today.0 - days(self.absences_days_back)),
            PlainDate(today.0 + days(self.absences_days_ahead)),
        )
    }
}

pub use read::windows;

/// One connected Sage HR account, read as an HRIS.
#[derive(Debug, Clone)]
pub struct SageHrHris {
    /// The ATS connector of the same account: the HRIS one shares its client and answers
    /// passthrough requests exactly as it does.
    ats: SageHr,
    integration_id: String,
    hris: HrisConfig,
}

impl SageHrHris {
    pub fn new(
        integration_id: impl Into<String>,
        config: &Config,
        hris: HrisConfig,
    ) -> Result<Self, ConnectorError> {
        let integration_id = integration_id.into();
        Ok(SageHrHris {
            ats: SageHr::new(integration_id.clone(), config)?,
            integration_id,
            hris,
        })
    }

    pub fn client(&self) -> &Client {
        self.ats.client()
    }

    pub fn hris_config(&self) -> &HrisConfig {
        &self.hris
    }

    fn today(&self) -> PlainDate {
        self.hris
            .today
            .unwrap_or_else(|| PlainDate(Timestamp::now().offset_date_time().date()))
    }

    pub(crate) fn scope(&self) -> HrisScope<'_> {
        HrisScope {
            integration_id: &self.integration_id,
            read_at: Timestamp::now(),
            today: self.today(),
        }
    }
}

fn no_applicants() -> ConnectorError {
    ConnectorError::new(
        Kind::Unknown,
        "an HRIS connection has no applicants: Sage HR's HRIS integration reads employees",
    )
}

impl Connector for SageHrHris {
    fn tool(&self) -> &'static str {
        "sagehr"
    }

    fn check_credentials(&self) -> BoxFuture<'_, Result<(), ConnectorError>> {
        Box::pin(async move {
            match self
                .client()
                .get_json("/employees", &[("page", "1".into())])
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if e.kind == Kind::NotFound => Err(ConnectorError::new(
                    Kind::NotFound,
                    format!("no Sage HR account answers at {}", self.client().base_url()),
                )),
                Err(e) => Err(e),
            }
        })
    }

    fn read_all<'a>(
        &'a self,
        sink: &'a mut dyn RecordSink,
    ) -> BoxFuture<'a, Result<ReadSummary, ConnectorError>> {
        Box::pin(self.read(sink))
    }

    fn requests_sent(&self) -> u64 {
        self.client().requests_sent()
    }

    /// HRIS records a read did not deliver, each asked about by something a page shift
    /// cannot fake (see `confirm`). Nothing is handed to `sink`: a record that exists stays
    /// live as stored, and the next read refreshes it.
    fn confirm_missing<'a>(
        &'a self,
        missing: &'a Missing,
        _sink: &'a mut dyn RecordSink,
    ) -> BoxFuture<'a, Result<Confirmed, ConnectorError>> {
        Box::pin(self.confirm(missing))
    }

    /// Never routed to an HRIS connection; nothing to keep.
    fn prepare(&self, _request: &ApplicantRequest) -> Prepared {
        Prepared::default()
    }

    fn create_applicant<'a>(
        &'a self,
        _request: &'a ApplicantRequest,
        _files: Vec<FileUpload>,
    ) -> BoxFuture<'a, Result<String, ConnectorError>> {
        Box::pin(async { Err(no_applicants()) })
    }

    fn read_application<'a>(
        &'a self,
        _remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<ApplicationRecords>, ConnectorError>> {
        Box::pin(async { Err(no_applicants()) })
    }

    fn passthrough(
        &self,
        request: PassthroughRequest,
    ) -> BoxFuture<'_, Result<PassthroughResponse, ConnectorError>> {
        self.ats.passthrough(request)
    }

    fn create_employee<'a>(
        &'a self,
        request: &'a atsbridge_model::hris::CreateEmployeeRequest,
    ) -> BoxFuture<'a, Result<(String, Vec<atsbridge_model::Warning>), ConnectorError>> {
        Box::pin(SageHrHris::create_employee(self, request))
    }

    fn read_employee<'a>(
        &'a self,
        remote_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<atsbridge_model::hris::Employee>, ConnectorError>> {
        Box::pin(SageHrHris::read_employee(self, remote_id))
    }
}
