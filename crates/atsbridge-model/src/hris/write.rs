//! The body of `POST /v1/hris/employees` (Kombo's deprecated "Create employee", the one HRIS write
//! Kombo offers for Sage HR) with Kombo's validation rules.
//!
//! As with the ATS bodies, fields are loose (`Option`, strings for enum values and dates) so
//! that [`CreateEmployeeRequest::validate`] reports every violation at once with its field
//! path; unknown keys are ignored, as Kombo's schema does not forbid them.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::macros::format_description;
use time::Date;

use super::enums::Gender;
use crate::write::{is_country_code, is_valid_email, Violation};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateEmployeeRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Tools that need a personal address get this one there instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_email: Option<String>,
    /// `MALE`, `FEMALE`, `NON_BINARY` or `NOT_SPECIFIED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_address: Option<HomeAddressInput>,
    /// `yyyy-MM-dd`, or a UTC date-time whose time part is dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_phone_number: Option<String>,
    /// ISO 3166-1 alpha-2, upper case; the connector converts it to what the tool wants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    /// The hire date, in the same form as `date_of_birth`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<String>,
    /// A Kombo legal-entity id; Sage HR has none, so the connector warns and ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_entity_id: Option<String>,
    /// A Kombo work-location id; ignored with a warning like `legal_entity_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    /// Per-tool passthrough (`{"<tool>": {...}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_fields: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HomeAddressInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_code: Option<String>,
    /// ISO 3166-1 alpha-2, upper case. Optional even when an address is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl CreateEmployeeRequest {
    pub fn validate(&self) -> Vec<Violation> {
        let mut v = Vec::new();
        let mut push = |path: &str, message: String| {
            v.push(Violation {
                path: path.to_owned(),
                message,
            });
        };
        for (path, value) in [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
        ] {
            match value.as_deref() {
                None => push(path, "is required".into()),
                Some(s) if s.trim().is_empty() => push(path, "must not be empty".into()),
                Some(_) => {}
            }
        }
        if let Some(email) = self.work_email.as_deref() {
            if !is_valid_email(email) {
                push(
                    "work_email",
                    format!("`{email}` is not a valid email address"),
                );
            }
        }
        if let Some(g) = self.gender.as_deref() {
            if !Gender::from_raw(g).is_known() {
                push(
                    "gender",
                    format!("`{g}` is not one of {}", Gender::KNOWN.join(", ")),
                );
            }
        }
        if let Some(cc) = self
            .home_address
            .as_ref()
            .and_then(|a| a.country.as_deref())
        {
            if !is_country_code(cc) {
                push(
                    "home_address.country",
                    format!("`{cc}` is not an ISO 3166-1 alpha-2 code in upper case (e.g. DE)"),
                );
            }
        }
        if let Some(n) = self.nationality.as_deref() {
            if !is_country_code(n) {
                push(
                    "nationality",
                    format!("`{n}` is not an ISO 3166-1 alpha-2 code in upper case (e.g. FR)"),
                );
            }
        }
        for (path, value) in [
            ("date_of_birth", &self.date_of_birth),
            ("start_date", &self.start_date),
        ] {
            if let Some(s) = value.as_deref() {
                if date_dropping_time(s).is_none() {
                    push(
                        path,
                        format!("`{s}` is not a date (YYYY-MM-DD) or a UTC date-time (YYYY-MM-DDTHH:mm:ss.sssZ)"),
                    );
                }
            }
        }
        if self.remote_fields.as_ref().is_some_and(|r| !r.is_object()) {
            push("remote_fields", "must be an object keyed by tool".into());
        }
        v
    }

    /// `date_of_birth` as the calendar day Kombo keeps (time part dropped), if valid.
    pub fn date_of_birth_date(&self) -> Option<Date> {
        self.date_of_birth.as_deref().and_then(date_dropping_time)
    }

    /// `start_date` as the calendar day Kombo keeps (time part dropped), if valid.
    pub fn start_date_date(&self) -> Option<Date> {
        self.start_date.as_deref().and_then(date_dropping_time)
    }
}

/// Kombo's pattern `^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?)?Z?$`, read as a calendar
/// day: the time part, when present, must be well-formed but is dropped, not converted.
/// There is no offset to convert from, since the pattern allows only `Z` or nothing.
pub fn date_dropping_time(s: &str) -> Option<Date> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    let (day, time) = match s.split_once('T') {
        Some((day, time)) => (day, Some(time)),
        None => (s, None),
    };
    if let Some(time) = time {
        let (hms, fraction) = match time.split_once('.') {
            Some((hms, f)) => (hms, Some(f)),
            None => (time, None),
        };
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        let parts: Vec<&str> = hms.split(':').collect();
        let hms_ok = parts.len() == 3 && parts.iter().all(|p| digits(p, 2));
        let fraction_ok = fraction.is_none_or(|f| !f.is_empty() && digits(f, f.len()));
        if !hms_ok || !fraction_ok {
            return None;
        }
    }
    // `[year]` would also take a sign or more digits; the pattern wants exactly four.
    if day.len() != 10 || !day.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    Date::parse(day, format_description!("[year]-[month]-[day]")).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::write::describe;

    fn paths(v: &[Violation]) -> Vec<&str> {
        v.iter().map(|v| v.path.as_str()).collect()
    }

    fn valid() -> Value {
        json!({
            "first_name": "Ada",
            "last_name": "Lovelace",
            "work_email": "ada@acme.example",
            "gender": "FEMALE",
            "job_title": "Engineer",
            "home_address": {"street_1": "Sonnenallee 63", "city": "Berlin", "zip_code": "12045", "country": "DE"},
            "date_of_birth": "1986-01-01",
            "mobile_phone_number": "+49 30 1234567",
            "home_phone_number": "+49 30 7654321",
            "nationality": "GB",
            "start_date": "2026-04-01T00:00:00.000Z",
            "remote_fields": {}
        })
    }

    #[test]
    fn a_complete_request_is_valid_and_round_trips() {
        let req: CreateEmployeeRequest = serde_json::from_value(valid()).unwrap();
        assert_eq!(req.validate(), vec![]);
        assert_eq!(serde_json::to_value(&req).unwrap(), valid());
        assert_eq!(
            req.start_date_date().unwrap().to_string(),
            "2026-04-01",
            "the time part is dropped"
        );
    }

    #[test]
    fn only_the_names_are_required() {
        let req: CreateEmployeeRequest = serde_json::from_value(json!({})).unwrap();
        let v = req.validate();
        assert_eq!(paths(&v), ["first_name", "last_name"]);
        assert_eq!(
            describe(&v),
            "first_name: is required; last_name: is required"
        );
        let blank: CreateEmployeeRequest =
            serde_json::from_value(json!({"first_name": " ", "last_name": "L"})).unwrap();
        assert_eq!(paths(&blank.validate()), ["first_name"]);
        let minimal: CreateEmployeeRequest =
            serde_json::from_value(json!({"first_name": "F", "last_name": "L"})).unwrap();
        assert_eq!(minimal.validate(), vec![]);
    }

    #[test]
    fn bad_values_are_reported_together_by_field_path() {
        let mut body = valid();
        body["work_email"] = json!("not-an-email");
        body["gender"] = json!("female");
        body["home_address"]["country"] = json!("Germany");
        body["nationality"] = json!("British");
        body["date_of_birth"] = json!("01.01.1986");
        body["start_date"] = json!("2026-04-01T00:00:00+02:00");
        body["remote_fields"] = json!([]);
        let req: CreateEmployeeRequest = serde_json::from_value(body).unwrap();
        let v = req.validate();
        assert_eq!(
            paths(&v),
            [
                "work_email",
                "gender",
                "home_address.country",
                "nationality",
                "date_of_birth",
                "start_date",
                "remote_fields",
            ]
        );
        assert!(describe(&v).starts_with(
            "work_email: `not-an-email` is not a valid email address; gender: `female` is not one of MALE, FEMALE, NON_BINARY, NOT_SPECIFIED; "
        ));
    }

    #[test]
    fn unknown_keys_are_ignored_like_the_ats_bodies_do() {
        let mut body = valid();
        body["favourite_colour"] = json!("green");
        let req: CreateEmployeeRequest = serde_json::from_value(body).unwrap();
        assert_eq!(req.validate(), vec![]);
        assert_eq!(serde_json::to_value(&req).unwrap(), valid());
    }

    #[test]
    fn dates_follow_kombos_pattern_and_drop_the_time() {
        for (s, day) in [
            ("2026-04-01", "2026-04-01"),
            ("2026-04-01Z", "2026-04-01"),
            ("2026-04-01T23:59:59", "2026-04-01"),
            ("2026-04-01T23:59:59.999Z", "2026-04-01"),
        ] {
            assert_eq!(date_dropping_time(s).unwrap().to_string(), day, "{s}");
        }
        for bad in [
            "2026-4-1",
            "2026-02-30",
            "2026-04-01T23:59",
            "2026-04-01T23:59:59.Z",
            "2026-04-01T23:59:59+01:00",
            "2026-04-01 23:59:59",
            "+2026-04-01",
            "",
        ] {
            assert!(date_dropping_time(bad).is_none(), "{bad}");
        }
    }
}
