//! What Sage HR keeps of a unified create request: its applicant form has first and last
//! name, one email, one phone number, one address string, a summary, a source name and one
//! file. Everything else is dropped with a warning that says why.

use atsbridge_model::connector::{ApplicantRequest, FileUpload, OtherInput, Prepared};
use atsbridge_model::write::{AttachmentInput, CandidateInput};
use atsbridge_model::Warning;

/// The fields of Sage HR's applicant form (R4), already trimmed and reduced.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct NewApplicant {
    pub(crate) job_remote_id: String,
    pub(crate) first_name: String,
    pub(crate) last_name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) phone_number: Option<String>,
    pub(crate) address: Option<String>,
    pub(crate) summary: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) attachment: Option<FileUpload>,
}

impl NewApplicant {
    /// The form for `request`; `files` are what `prepare` chose, so at most one.
    pub(crate) fn from_request(request: &ApplicantRequest, files: Vec<FileUpload>) -> Self {
        let c = &request.candidate;
        // A request's own source wins; the integration's configured name fills in, and
        // without either Sage HR records "api".
        let source = request
            .source
            .as_ref()
            .and_then(|s| non_blank(s.name.as_deref()))
            .or_else(|| non_blank(request.default_source_name.as_deref()));
        NewApplicant {
            job_remote_id: request.job_remote_id.clone(),
            first_name: c
                .first_name
                .as_deref()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            last_name: non_blank(c.last_name.as_deref()),
            email: non_blank(c.email_address.as_deref()),
            phone_number: non_blank(c.phone_number.as_deref()),
            address: address(c),
            summary: non_blank(c.title.as_deref()),
            source,
            attachment: files.into_iter().next(),
        }
    }

    /// The form's text fields, by their Sage HR names.
    pub(crate) fn fields(&self) -> Vec<(String, String)> {
        let mut fields = vec![("applicant[first_name]".to_owned(), self.first_name.clone())];
        let optional = [
            ("applicant[last_name]", &self.last_name),
            ("applicant[email]", &self.email),
            ("applicant[phone_number]", &self.phone_number),
            ("applicant[address]", &self.address),
            ("applicant[summary]", &self.summary),
            ("applicant[source]", &self.source),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                fields.push((name.to_owned(), v.clone()));
            }
        }
        fields
    }
}

const STAGE: &str = "Sage HR always places a new applicant in the position's first stage";
const COMPANY: &str = "Sage HR applicants have no company field";
const ONE_EMAIL: &str = "Sage HR keeps one email address per applicant";
const ONE_PHONE: &str = "Sage HR keeps one phone number per applicant";
const NO_FIELD: &str = "Sage HR applicants have no such field";
const SOURCE_BY_NAME: &str = "Sage HR takes a source by name only";

/// Which file Sage HR takes and a warning for each input it drops: candidate fields first,
/// then the other inputs in the request's order, then the source's id-like keys, then the
/// files left out. Clients compare these texts, so they do not change lightly.
pub(crate) fn prepare(request: &ApplicantRequest) -> Prepared {
    let c = &request.candidate;
    let candidate = [
        ("candidate.company", c.company.is_some(), COMPANY),
        (
            "candidate.additional_email_addresses",
            c.additional_email_addresses
                .as_ref()
                .is_some_and(|v| !v.is_empty()),
            ONE_EMAIL,
        ),
        (
            "candidate.additional_phone_numbers",
            c.additional_phone_numbers
                .as_ref()
                .is_some_and(|v| !v.is_empty()),
            ONE_PHONE,
        ),
        ("candidate.gender", c.gender.is_some(), NO_FIELD),
        (
            "candidate.availability_date",
            c.availability_date.is_some(),
            NO_FIELD,
        ),
        (
            "candidate.salary_expectations",
            c.salary_expectations.is_some(),
            NO_FIELD,
        ),
        (
            "candidate.social_links",
            c.social_links.as_ref().is_some_and(|v| !v.is_empty()),
            NO_FIELD,
        ),
    ];
    let mut dropped: Vec<(&str, &str)> = candidate
        .into_iter()
        .filter(|(_, given, _)| *given)
        .map(|(path, _, why)| (path, why))
        .collect();
    for other in &request.others {
        let why = match other {
            OtherInput::Stage { .. } => STAGE,
            OtherInput::SourcedBy(_) => {
                "Sage HR records the API key's owner as the one who added the applicant"
            }
            OtherInput::GdprConsent(_) => "Sage HR's API has no consent field",
            OtherInput::RemoteFields(_) => "there are no remote fields for Sage HR",
            OtherInput::ScreeningAnswers(_) => "Sage HR's API has no screening questions",
        };
        dropped.push((other.path(), why));
    }
    if let Some(s) = &request.source {
        if s.unified_key.is_some() {
            dropped.push(("source.unified_key", SOURCE_BY_NAME));
        }
        if s.id.is_some() {
            dropped.push(("source.id", SOURCE_BY_NAME));
        }
    }
    let mut warnings: Vec<Warning> = dropped
        .into_iter()
        .map(|(path, why)| Warning::new(format!("`{path}` was not stored: {why}.")))
        .collect();

    let chosen = chosen_attachment(&request.attachments);
    for (i, a) in request.attachments.iter().enumerate() {
        if Some(i) != chosen {
            warnings.push(Warning::new(format!(
                "`attachments[{i}]` ({}) was not uploaded: Sage HR takes one file per applicant, and the first CV (else the first attachment) was uploaded.",
                a.name.as_deref().unwrap_or_default()
            )));
        }
    }
    Prepared {
        attachments: chosen.into_iter().collect(),
        warnings,
    }
}

/// The one attachment Sage HR takes: the first CV, else the first attachment.
fn chosen_attachment(attachments: &[AttachmentInput]) -> Option<usize> {
    attachments
        .iter()
        .position(|a| a.kind.as_deref() == Some("CV"))
        .or(if attachments.is_empty() {
            None
        } else {
            Some(0)
        })
}

fn non_blank(s: Option<&str>) -> Option<String> {
    non_blank_ref(s).map(str::to_owned)
}

fn non_blank_ref(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// `street, zip city, state, country`, leaving out what is missing: Sage HR keeps one
/// address string.
fn address(c: &CandidateInput) -> Option<String> {
    let loc = c.location.as_ref()?;
    let town = [loc.zip_code.as_deref(), loc.city.as_deref()]
        .into_iter()
        .filter_map(non_blank_ref)
        .collect::<Vec<_>>()
        .join(" ");
    let parts: Vec<String> = [
        non_blank(loc.street_1.as_deref()),
        Some(town).filter(|t| !t.is_empty()),
        non_blank(loc.state.as_deref()),
        non_blank(loc.country.as_deref()),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use atsbridge_model::write::{
        CreateApplicationRequest, GdprConsentInput, ScreeningAnswerInput, SourceInput,
        SourcedByInput,
    };
    use serde_json::json;

    use super::*;

    fn attachment(name: &str, kind: &str) -> AttachmentInput {
        AttachmentInput {
            name: Some(name.into()),
            kind: Some(kind.into()),
            ..Default::default()
        }
    }

    fn messages(p: &Prepared) -> Vec<&str> {
        p.warnings.iter().map(|w| w.message.as_str()).collect()
    }

    fn file(name: &str) -> FileUpload {
        FileUpload {
            name: name.into(),
            content_type: "text/plain".into(),
            data: b"x".to_vec(),
        }
    }

    #[test]
    fn the_first_cv_wins() {
        let a = |kind: &str| attachment("f", kind);
        assert_eq!(chosen_attachment(&[]), None);
        assert_eq!(chosen_attachment(&[a("OTHER"), a("CV"), a("CV")]), Some(1));
        assert_eq!(chosen_attachment(&[a("OTHER"), a("COVER_LETTER")]), Some(0));
    }

    #[test]
    fn prepare_chooses_the_cv_over_the_first_attachment_and_warns_for_the_rest() {
        let request = ApplicantRequest {
            attachments: vec![
                attachment("letter.txt", "COVER_LETTER"),
                attachment("cv.pdf", "CV"),
                attachment("other.pdf", "OTHER"),
            ],
            ..Default::default()
        };
        let p = prepare(&request);
        assert_eq!(p.attachments, vec![1]);
        let one_file = "was not uploaded: Sage HR takes one file per applicant, and the first CV (else the first attachment) was uploaded.";
        assert_eq!(
            messages(&p),
            vec![
                format!("`attachments[0]` (letter.txt) {one_file}"),
                format!("`attachments[2]` (other.pdf) {one_file}"),
            ]
        );

        let without_cv = ApplicantRequest {
            attachments: vec![attachment("a", "OTHER"), attachment("b", "OTHER")],
            ..Default::default()
        };
        assert_eq!(prepare(&without_cv).attachments, vec![0]);
    }

    #[test]
    fn nothing_given_nothing_dropped() {
        let p = prepare(&ApplicantRequest {
            job_remote_id: "1".into(),
            candidate: serde_json::from_value(json!({
                "first_name": "Ada", "last_name": "L", "email_address": "a@example.com",
                "phone_number": "1", "title": "T", "location": {"city": "London"},
                "additional_email_addresses": [], "additional_phone_numbers": [],
                "social_links": []
            }))
            .unwrap(),
            source: Some(SourceInput {
                name: Some("Board".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(p, Prepared::default(), "no attachments, no warnings");
    }

    #[test]
    fn every_dropped_input_has_its_warning_in_order() {
        let candidate: CandidateInput = serde_json::from_value(json!({
            "first_name": "Ada",
            "company": "Analytical Engines",
            "additional_email_addresses": [{"type": "WORK", "email_address": "w@example.com"}],
            "additional_phone_numbers": [{"type": "WORK", "phone_number": "2"}],
            "gender": "FEMALE",
            "availability_date": "2026-01-01",
            "salary_expectations": {"period": "YEAR", "amount": 1.0},
            "social_links": [{"url": "https://example.com"}]
        }))
        .unwrap();
        let request = ApplicantRequest {
            job_remote_id: "1".into(),
            candidate,
            attachments: vec![attachment("a.pdf", "OTHER"), attachment("cv.pdf", "CV")],
            source: Some(SourceInput {
                name: Some("Board".into()),
                unified_key: Some("k".into()),
                id: Some("x".into()),
            }),
            default_source_name: None,
            others: vec![
                OtherInput::Stage {
                    path: "application.stage_id",
                    stage_id: "s".into(),
                },
                OtherInput::SourcedBy(SourcedByInput {
                    user_id: Some("remote:1".into()),
                }),
                OtherInput::GdprConsent(GdprConsentInput {
                    given: Some(true),
                    ..Default::default()
                }),
                OtherInput::RemoteFields(
                    json!({"greenhouse": {"a": 1}}).as_object().unwrap().clone(),
                ),
                OtherInput::ScreeningAnswers(vec![ScreeningAnswerInput::default()]),
            ],
        };
        let p = prepare(&request);
        assert_eq!(p.attachments, vec![1]);
        assert_eq!(
            messages(&p),
            vec![
                "`candidate.company` was not stored: Sage HR applicants have no company field.",
                "`candidate.additional_email_addresses` was not stored: Sage HR keeps one email address per applicant.",
                "`candidate.additional_phone_numbers` was not stored: Sage HR keeps one phone number per applicant.",
                "`candidate.gender` was not stored: Sage HR applicants have no such field.",
                "`candidate.availability_date` was not stored: Sage HR applicants have no such field.",
                "`candidate.salary_expectations` was not stored: Sage HR applicants have no such field.",
                "`candidate.social_links` was not stored: Sage HR applicants have no such field.",
                "`application.stage_id` was not stored: Sage HR always places a new applicant in the position's first stage.",
                "`sourced_by` was not stored: Sage HR records the API key's owner as the one who added the applicant.",
                "`gdpr_consent` was not stored: Sage HR's API has no consent field.",
                "`remote_fields` was not stored: there are no remote fields for Sage HR.",
                "`screening_question_answers` was not stored: Sage HR's API has no screening questions.",
                "`source.unified_key` was not stored: Sage HR takes a source by name only.",
                "`source.id` was not stored: Sage HR takes a source by name only.",
                "`attachments[0]` (a.pdf) was not uploaded: Sage HR takes one file per applicant, and the first CV (else the first attachment) was uploaded.",
            ]
        );
    }

    #[test]
    fn the_form_is_trimmed_and_keeps_one_file() {
        let body: CreateApplicationRequest = serde_json::from_value(json!({"candidate": {
            "first_name": "  Ada ", "last_name": " ", "email_address": " ada@example.com ",
            "title": "Mathematician", "location": {"country": "DE", "city": "Berlin",
            "zip_code": "10115", "street_1": "Invalidenstr. 1"}}}))
        .unwrap();
        let request = ApplicantRequest {
            job_remote_id: "7".into(),
            candidate: body.candidate.unwrap(),
            default_source_name: Some("Careers page".into()),
            ..Default::default()
        };
        let form = NewApplicant::from_request(&request, vec![file("cv.txt"), file("extra")]);
        assert_eq!(
            form,
            NewApplicant {
                job_remote_id: "7".into(),
                first_name: "Ada".into(),
                last_name: None,
                email: Some("ada@example.com".into()),
                phone_number: None,
                address: Some("Invalidenstr. 1, 10115 Berlin, DE".into()),
                summary: Some("Mathematician".into()),
                source: Some("Careers page".into()),
                attachment: Some(file("cv.txt")),
            }
        );
        assert_eq!(
            form.fields().first(),
            Some(&("applicant[first_name]".to_owned(), "Ada".to_owned()))
        );
    }

    #[test]
    fn the_request_source_wins_over_the_integration_default() {
        let mut request = ApplicantRequest {
            source: Some(SourceInput {
                name: Some(" Board ".into()),
                ..Default::default()
            }),
            default_source_name: Some("Careers page".into()),
            ..Default::default()
        };
        let source = |r: &ApplicantRequest| NewApplicant::from_request(r, vec![]).source;
        assert_eq!(source(&request).as_deref(), Some("Board"));
        request.source = Some(SourceInput {
            name: Some("  ".into()),
            id: Some("x".into()),
            ..Default::default()
        });
        assert_eq!(source(&request).as_deref(), Some("Careers page"));
        request.default_source_name = Some(" ".into());
        assert_eq!(source(&request), None, "Sage HR then records `api`");
    }
}
