//! Bodies of the two write actions, `POST /v1/ats/jobs/{job_id}/applications` and
//! `POST /v1/ats/candidates`, with Kombo's validation rules.
//!
//! Fields are deliberately loose (`Option`, strings for enum values) so that one pass of
//! [`CreateApplicationRequest::validate`] can report *every* violation with its field path,
//! instead of serde stopping at the first missing field. Only a value of the wrong JSON type
//! fails deserialization itself.

use std::fmt;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::id::JobIdRef;
use crate::timestamp::Timestamp;

/// Kombo asks that all attachments of one request add up to less than 10 MB; atsbridge reads
/// that as 10 MiB of decoded bytes.
pub const MAX_ATTACHMENTS_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateApplicationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub candidate: Option<CandidateInput>,
    /// Ignored by tools that cannot place an applicant in a stage (a warning says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentInput>>,
    /// Deprecated by Kombo in favour of the integration's attribution source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sourced_by: Option<SourcedByInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gdpr_consent: Option<GdprConsentInput>,
    /// Per-tool passthrough (`{"<tool>": {...}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_fields: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screening_question_answers: Option<Vec<ScreeningAnswerInput>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateCandidateRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub candidate: Option<CandidateInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub application: Option<ApplicationInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screening_question_answers: Option<Vec<ScreeningAnswerInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sourced_by: Option<SourcedByInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gdpr_consent: Option<GdprConsentInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_fields: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CandidateInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub email_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_email_addresses: Option<Vec<TypedEmailInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_phone_numbers: Option<Vec<TypedPhoneInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationInput>,
    /// `MALE`, `FEMALE` or `OTHER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::gender))]
    pub gender: Option<String>,
    /// A date (`YYYY-MM-DD`) or a date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salary_expectations: Option<SalaryExpectationsInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub social_links: Option<Vec<SocialLinkInput>>,
}

/// An extra email address; `type` is `PERSONAL`, `WORK` or `OTHER`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TypedEmailInput {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::contact_type))]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub email_address: Option<String>,
}

/// An extra phone number; `type` is `PERSONAL`, `WORK` or `OTHER`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TypedPhoneInput {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::contact_type))]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub phone_number: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LocationInput {
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_code: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SalaryExpectationsInput {
    /// `MONTH` or `YEAR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::salary_period))]
    pub period: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub amount: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SocialLinkInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub url: Option<String>,
}

/// A file: exactly one of `data` (base64, with `content_type`) or `data_url` (fetched once,
/// without auth headers).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub name: Option<String>,
    /// `CV`, `COVER_LETTER` or `OTHER`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::attachment_type))]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unified_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourcedByInput {
    /// A user id, or `remote:<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GdprConsentInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScreeningAnswerInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub question_id: Option<String>,
    /// A string, boolean, number, list of option ids, date or file object, depending on the
    /// question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Value>,
}

/// The application part of a create-candidate request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicationInput {
    /// A job id, or `remote:<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_id: Option<String>,
}

/// One broken rule, with the path of the field that breaks it (`candidate.email_address`,
/// `attachments[1].data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// All violations in one line, for the `message` of a `PLATFORM.INPUT_INVALID` error.
pub fn describe(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl CreateApplicationRequest {
    pub fn validate(&self) -> Vec<Violation> {
        let mut v = Checker::default();
        v.candidate(self.candidate.as_ref());
        v.shared(
            self.attachments.as_deref(),
            self.sourced_by.as_ref(),
            self.gdpr_consent.as_ref(),
            self.remote_fields.as_ref(),
            self.screening_question_answers.as_deref(),
        );
        v.0
    }
}

impl CreateCandidateRequest {
    pub fn validate(&self) -> Vec<Violation> {
        let mut v = Checker::default();
        v.candidate(self.candidate.as_ref());
        match &self.application {
            None => v.push("application", "is required"),
            Some(app) => match app.job_id.as_deref() {
                None => v.push("application.job_id", "is required"),
                Some(id) if JobIdRef::parse(id).is_none() => v.push(
                    "application.job_id",
                    "must be a job id or `remote:<id>` with a non-empty id",
                ),
                Some(_) => {}
            },
        }
        v.shared(
            self.attachments.as_deref(),
            self.sourced_by.as_ref(),
            self.gdpr_consent.as_ref(),
            self.remote_fields.as_ref(),
            self.screening_question_answers.as_deref(),
        );
        v.0
    }
}

pub(crate) const CONTACT_TYPES: &[&str] = &["PERSONAL", "WORK", "OTHER"];
pub(crate) const GENDERS: &[&str] = &["MALE", "FEMALE", "OTHER"];
pub(crate) const SALARY_PERIODS: &[&str] = &["MONTH", "YEAR"];
pub(crate) const ATTACHMENT_TYPES: &[&str] = &["CV", "COVER_LETTER", "OTHER"];

#[derive(Default)]
struct Checker(Vec<Violation>);

impl Checker {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Violation {
            path: path.into(),
            message: message.into(),
        });
    }

    fn required_text(&mut self, path: &str, value: Option<&str>) -> Option<()> {
        match value {
            None => self.push(path, "is required"),
            Some(s) if s.trim().is_empty() => self.push(path, "must not be empty"),
            Some(_) => return Some(()),
        }
        None
    }

    fn one_of(&mut self, path: &str, value: Option<&str>, allowed: &[&str], required: bool) {
        match value {
            None if required => {
                self.push(path, format!("is required (one of {})", allowed.join(", ")));
            }
            Some(s) if !allowed.contains(&s) => {
                self.push(path, format!("`{s}` is not one of {}", allowed.join(", ")));
            }
            _ => {}
        }
    }

    fn email(&mut self, path: &str, value: Option<&str>) {
        if self.required_text(path, value).is_some() {
            let s = value.unwrap_or_default();
            if !is_valid_email(s) {
                self.push(path, format!("`{s}` is not a valid email address"));
            }
        }
    }

    fn date(&mut self, path: &str, value: Option<&str>) {
        if let Some(s) = value {
            if Timestamp::parse_date_or_datetime(s).is_err() {
                self.push(
                    path,
                    format!("`{s}` is not a date (YYYY-MM-DD) or an ISO 8601 date-time"),
                );
            }
        }
    }

    fn candidate(&mut self, candidate: Option<&CandidateInput>) {
        let Some(c) = candidate else {
            self.push("candidate", "is required");
            return;
        };
        self.required_text("candidate.first_name", c.first_name.as_deref());
        self.required_text("candidate.last_name", c.last_name.as_deref());
        self.email("candidate.email_address", c.email_address.as_deref());
        for (i, e) in c.additional_email_addresses.iter().flatten().enumerate() {
            let path = format!("candidate.additional_email_addresses[{i}]");
            self.one_of(
                &format!("{path}.type"),
                e.kind.as_deref(),
                CONTACT_TYPES,
                true,
            );
            self.email(&format!("{path}.email_address"), e.email_address.as_deref());
        }
        for (i, p) in c.additional_phone_numbers.iter().flatten().enumerate() {
            let path = format!("candidate.additional_phone_numbers[{i}]");
            self.one_of(
                &format!("{path}.type"),
                p.kind.as_deref(),
                CONTACT_TYPES,
                true,
            );
            self.required_text(&format!("{path}.phone_number"), p.phone_number.as_deref());
        }
        if let Some(loc) = &c.location {
            match loc.country.as_deref() {
                None => self.push(
                    "candidate.location.country",
                    "is required when a location is given",
                ),
                Some(cc) if !is_country_code(cc) => self.push(
                    "candidate.location.country",
                    format!("`{cc}` is not an ISO 3166-1 alpha-2 code in upper case (e.g. DE)"),
                ),
                Some(_) => {}
            }
        }
        self.one_of("candidate.gender", c.gender.as_deref(), GENDERS, false);
        self.date(
            "candidate.availability_date",
            c.availability_date.as_deref(),
        );
        if let Some(s) = &c.salary_expectations {
            self.one_of(
                "candidate.salary_expectations.period",
                s.period.as_deref(),
                SALARY_PERIODS,
                true,
            );
            match s.amount {
                None => self.push("candidate.salary_expectations.amount", "is required"),
                Some(a) if !a.is_finite() || a < 0.0 => {
                    self.push(
                        "candidate.salary_expectations.amount",
                        "must be a non-negative number",
                    );
                }
                Some(_) => {}
            }
        }
        for (i, link) in c.social_links.iter().flatten().enumerate() {
            let path = format!("candidate.social_links[{i}].url");
            if self.required_text(&path, link.url.as_deref()).is_some() {
                let u = link.url.as_deref().unwrap_or_default();
                if url::Url::parse(u).is_err() {
                    self.push(path, format!("`{u}` is not an absolute URL"));
                }
            }
        }
    }

    fn shared(
        &mut self,
        attachments: Option<&[AttachmentInput]>,
        sourced_by: Option<&SourcedByInput>,
        gdpr: Option<&GdprConsentInput>,
        remote_fields: Option<&Value>,
        answers: Option<&[ScreeningAnswerInput]>,
    ) {
        let mut total = 0usize;
        for (i, a) in attachments.unwrap_or_default().iter().enumerate() {
            total = total.saturating_add(self.attachment(i, a));
        }
        if total > MAX_ATTACHMENTS_BYTES {
            self.push(
                "attachments",
                format!(
                    "add up to {total} bytes; the limit is {MAX_ATTACHMENTS_BYTES} bytes (10 MiB)"
                ),
            );
        }
        if let Some(s) = sourced_by {
            self.required_text("sourced_by.user_id", s.user_id.as_deref());
        }
        if let Some(g) = gdpr {
            self.date("gdpr_consent.expires_at", g.expires_at.as_deref());
        }
        if let Some(r) = remote_fields {
            if !r.is_object() {
                self.push("remote_fields", "must be an object keyed by tool");
            }
        }
        for (i, a) in answers.unwrap_or_default().iter().enumerate() {
            let path = format!("screening_question_answers[{i}]");
            self.required_text(&format!("{path}.question_id"), a.question_id.as_deref());
            if a.answer.as_ref().is_none_or(Value::is_null) {
                self.push(format!("{path}.answer"), "is required");
            }
        }
    }

    /// Checks one attachment and returns its decoded size (0 when it has no valid `data`).
    fn attachment(&mut self, i: usize, a: &AttachmentInput) -> usize {
        let path = format!("attachments[{i}]");
        if self
            .required_text(&format!("{path}.name"), a.name.as_deref())
            .is_some()
        {
            // The name becomes the file name in the multipart header sent to the ATS: a
            // control character (CR/LF above all) would let it write headers of its own.
            if a.name
                .as_deref()
                .is_some_and(|n| n.chars().any(char::is_control))
            {
                self.push(
                    format!("{path}.name"),
                    "must not contain control characters (line breaks, tabs, …)",
                );
            }
        }
        self.one_of(
            &format!("{path}.type"),
            a.kind.as_deref(),
            ATTACHMENT_TYPES,
            true,
        );
        if let Some(ct) = a.content_type.as_deref() {
            if !is_content_type(ct) {
                self.push(
                    format!("{path}.content_type"),
                    format!("`{ct}` is not a media type like application/pdf"),
                );
            }
        }
        match (a.data.as_deref(), a.data_url.as_deref()) {
            (Some(_), Some(_)) => {
                self.push(path, "give exactly one of `data` and `data_url`, not both");
                0
            }
            (None, None) => {
                self.push(path, "give exactly one of `data` and `data_url`");
                0
            }
            (None, Some(u)) => {
                let ok = url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
                if !ok {
                    self.push(
                        format!("{path}.data_url"),
                        format!("`{u}` is not an http(s) URL"),
                    );
                }
                0
            }
            (Some(data), None) => {
                if a.content_type.is_none() {
                    self.push(format!("{path}.content_type"), "is required with `data`");
                }
                match a.decode_data() {
                    Some(Ok(bytes)) => bytes.len(),
                    _ => {
                        let shown: String = data.chars().take(16).collect();
                        self.push(
                            format!("{path}.data"),
                            format!("is not valid base64 (starts `{shown}`)"),
                        );
                        0
                    }
                }
            }
        }
    }
}

/// Standard base64 with or without padding; line breaks and spaces (as in MIME-wrapped
/// base64) are ignored.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl AttachmentInput {
    /// The decoded bytes of `data`, if the attachment has inline data.
    pub fn decode_data(&self) -> Option<Result<Vec<u8>, base64::DecodeError>> {
        let data = self.data.as_deref()?;
        let compact: Vec<u8> = data.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        Some(BASE64.decode(compact))
    }
}

/// A pragmatic address check: one `@`, a local part, and a dotted domain of letters, digits
/// and hyphens. Stricter than RFC 5322 on purpose; ATSs reject the exotic forms anyway.
pub fn is_valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

/// `^[A-Z]{2}$`
pub fn is_country_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// `^[\w.-]+/[\w.-]+$`
pub fn is_content_type(s: &str) -> bool {
    let part =
        |p: &str| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || "_.-".contains(c));
    s.split_once('/').is_some_and(|(a, b)| part(a) && part(b))
}

#[cfg(test)]
mod tests;
