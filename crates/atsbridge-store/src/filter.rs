//! The filters of the list endpoints and the opaque cursor bound to them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use atsbridge_model::ModelKind;

use crate::StoreError;

/// Every filter of `/ats/jobs`, `/ats/candidates`, `/ats/applications` and
/// `/ats/application-stages`. Filters are AND-ed; values inside a list are OR-ed. Filters
/// that do not apply to a model are ignored by the store (the API decides what to accept).
/// Timestamps are Unix milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filter {
    pub ids: Option<Vec<String>>,
    pub remote_ids: Option<Vec<String>>,
    pub updated_after: Option<i64>,
    pub include_deleted: bool,
    pub statuses: Option<Vec<String>>,
    pub employment_types: Option<Vec<String>>,
    pub visibilities: Option<Vec<String>>,
    pub job_codes: Option<Vec<String>>,
    pub post_url: Option<String>,
    pub name_contains: Option<String>,
    pub remote_created_after: Option<i64>,
    pub email: Option<String>,
    pub job_ids: Option<Vec<String>>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub outcomes: Option<Vec<String>>,
    pub job_remote_ids: Option<Vec<String>>,
    pub current_stage_ids: Option<Vec<String>>,
    // The HRIS filters. Left out of the cursor binding's JSON when unset, so cursors of
    // the ATS endpoints bind to the same digest as before they existed.
    /// Employees' `employment_statuses`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employment_statuses: Option<Vec<String>>,
    /// Employees in any of these groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<String>>,
    /// Employees' work emails, any case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_emails: Option<Vec<String>>,
    /// Filters on employee fields no stored record has (`legal_entity_ids`,
    /// `work_location_ids`, `personal_emails` for Sage HR): each matches nothing, as Kombo
    /// answers such a filter.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub absent_fields: Vec<String>,
    /// Groups' `types`; `None` inside the list is Kombo's literal `null` (untyped groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_types: Option<Vec<Option<String>>>,
    /// Absences' and time-off balances' employee.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<String>,
    /// Absences' absence types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_ids: Option<Vec<String>>,
    /// Absences that have not ended before this day (`yyyy-MM-dd`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_from: Option<String>,
    /// Absences that start on or before this day (`yyyy-MM-dd`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_until: Option<String>,
    /// Employees whose custom field (a key of `custom_fields`) holds this string, number,
    /// boolean or null, of the same JSON type; a field holding a list (tags) matches when
    /// the list holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_field: Option<(String, serde_json::Value)>,
}

/// A column a filtered page is ordered by before `seq` (`Filter::order_column`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderColumn {
    UpdatedAt,
    RemoteCreatedAt,
}

impl OrderColumn {
    /// The column's name in `records`.
    pub fn column(self) -> &'static str {
        match self {
            OrderColumn::UpdatedAt => "updated_at",
            OrderColumn::RemoteCreatedAt => "remote_created_at",
        }
    }
}

impl Filter {
    /// The column a page of `model` is ordered by before `seq`, when the filter is a range
    /// on it: `updated_at` with `updated_after`, else `remote_created_at` with
    /// `remote_created_after` (jobs and applications have it). Walking such a range in its
    /// own order reads only matching rows; walking it in `seq` order could read them all.
    pub fn order_column(&self, model: ModelKind) -> Option<OrderColumn> {
        if self.updated_after.is_some() {
            Some(OrderColumn::UpdatedAt)
        } else if self.remote_created_after.is_some()
            && matches!(model, ModelKind::Job | ModelKind::Application)
        {
            Some(OrderColumn::RemoteCreatedAt)
        } else {
            None
        }
    }

    /// A digest of what the filter selects, for binding cursors to it.
    pub fn binding(&self, integration_id: &str, model: ModelKind) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        let digest = Sha256::digest(format!("{integration_id}\n{model}\n{json}").as_bytes());
        digest[..12].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Where the next page starts: after `seq`, for the filter with digest `binding`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub seq: i64,
    /// The last record's value of the page's order column (`Filter::order_column`).
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub key: Option<i64>,
    #[serde(rename = "b")]
    pub binding: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Decodes `raw` and checks that it was made for the same integration, model and
    /// filters; a cursor replayed with other filters would silently skip or repeat records.
    pub fn decode(raw: &str, binding: &str) -> Result<Cursor, StoreError> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| {
            StoreError::InvalidCursor("it is not a cursor this API returned".into())
        })?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| {
            StoreError::InvalidCursor("it is not a cursor this API returned".into())
        })?;
        if cursor.binding != binding {
            return Err(StoreError::InvalidCursor(
                "it was made for other filters; send the same filters with every page".into(),
            ));
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_other_filters() {
        let f = Filter {
            statuses: Some(vec!["OPEN".into()]),
            ..Filter::default()
        };
        let binding = f.binding("i", ModelKind::Job);
        let c = Cursor {
            seq: 42,
            key: Some(1_767_323_045_678),
            binding: binding.clone(),
        };
        assert_eq!(Cursor::decode(&c.encode(), &binding).unwrap(), c);
        let other = Filter {
            statuses: Some(vec!["CLOSED".into()]),
            ..Filter::default()
        }
        .binding("i", ModelKind::Job);
        assert!(matches!(
            Cursor::decode(&c.encode(), &other),
            Err(StoreError::InvalidCursor(_))
        ));
        assert_ne!(binding, f.binding("i", ModelKind::Candidate));
        assert_ne!(binding, f.binding("j", ModelKind::Job));
        assert!(Cursor::decode("!!!", &binding).is_err());
        assert!(Cursor::decode("e30", &binding).is_err());
    }
}
