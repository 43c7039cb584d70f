//! Sage HR as atsbridge describes it (`ToolDescriptor`): label, logos, what the connector
//! covers per model and field, and the filters it cannot apply. Review the coverage against
//! DESIGN.md's "Sage HR → unified mapping" when the mapping changes.

use atsbridge_model::id::ModelKind;
use atsbridge_model::integration::Category;
use atsbridge_model::integration::CoverageStatus::{Supported as S, Unsupported as U};
use atsbridge_model::tool::{Coverage, ToolDescriptor};

/// Sage HR's recruitment API, as the ATS category sees it.
pub const DESCRIPTOR: ToolDescriptor = ToolDescriptor {
    slug: "sagehr",
    label: "Sage HR",
    category: Category::Ats,
    logo_svg: LOGO,
    icon_svg: ICON,
    read_models: READ_MODELS,
    missing_models: MISSING_MODELS,
    write_actions: WRITE_ACTIONS,
    // Sage HR positions have no job code.
    unsupported_filters: &[(ModelKind::Job, "job_codes")],
    connect: &crate::connect::GUIDE,
};

/// Kombo's ATS models Sage HR's API has nothing for (no users, tags, interviews, offers, …).
const MISSING_MODELS: &[(&str, &str)] = &[
    ("ats_users", "Users"),
    ("ats_job_postings", "Job postings"),
    ("ats_screening_questions", "Screening questions"),
    ("ats_tags", "Tags"),
    ("ats_interviews", "Interviews"),
    ("ats_offers", "Offers"),
    ("ats_rejection_reasons", "Rejection reasons"),
    ("ats_roles", "Roles"),
    ("ats_notes", "Notes"),
    ("ats_scorecards", "Scorecards"),
    ("ats_attachments", "Attachments"),
];

/// SUPPORTED: Sage HR has it and we fill it. NOT_IMPLEMENTED: Sage HR has it (R2's hiring
/// team) but we do not read it. UNSUPPORTED: Sage HR's API has no such data; the key is
/// still emitted (null, `[]` or `{}`).
const READ_MODELS: &[Coverage] = &[
    Coverage {
        id: "ats_jobs",
        label: "Jobs",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("name", S),
            ("job_code", U),
            ("description", S),
            ("confidential", U),
            ("weekly_hours", U),
            ("category", U),
            ("department", S),
            ("post_url", S),
            ("experience_level", U),
            ("salary_amount", U),
            ("salary_amount_from", U),
            ("salary_amount_to", U),
            ("salary_currency", U),
            ("salary_period", U),
            ("custom_fields", U),
            ("remote_url", U),
            ("opened_at", S),
            ("closed_at", S),
            ("remote_created_at", S),
            ("remote_updated_at", U),
            ("contact_id", U),
            ("changed_at", S),
            ("remote_deleted_at", S),
            ("stages", S),
            ("screening_questions", U),
            ("job_postings", U),
            ("hiring_team", S),
            ("employment_type", S),
            ("status", S),
            ("visibility", S),
            ("remote_work_status", U),
            ("location", S),
            ("remote_data", S),
        ],
    },
    Coverage {
        id: "ats_candidates",
        label: "Candidates",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("first_name", S),
            ("last_name", S),
            ("company", U),
            ("title", S),
            ("confidential", U),
            ("source", S),
            ("custom_fields", U),
            ("remote_url", U),
            ("remote_created_at", S),
            ("remote_updated_at", U),
            ("changed_at", S),
            ("remote_deleted_at", S),
            ("tags", U),
            ("phone_numbers", S),
            ("email_addresses", S),
            ("social_media", U),
            ("location", S),
            ("applications", S),
            ("remote_data", S),
        ],
    },
    Coverage {
        id: "ats_applications",
        label: "Applications",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("outcome", S),
            ("rejection_reason_name", U),
            ("rejected_at", S),
            ("current_stage_id", S),
            ("current_stage", S),
            ("job_id", S),
            ("job", S),
            ("candidate_id", S),
            ("candidate", S),
            ("custom_fields", U),
            ("remote_url", U),
            ("changed_at", S),
            ("remote_deleted_at", S),
            ("remote_created_at", S),
            ("remote_updated_at", U),
            ("screening_question_answers", U),
            ("interviews", U),
            ("offers", U),
            ("remote_data", S),
        ],
    },
    Coverage {
        id: "ats_application_stages",
        label: "Application stages",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("name", S),
            ("status", U),
            ("custom_fields", U),
            ("changed_at", S),
            ("remote_deleted_at", S),
            ("remote_data", S),
        ],
    },
];

/// Both writes become one `POST /recruitment/positions/{id}/applicants`; what Sage HR cannot
/// take is answered with a warning, never dropped silently.
const WRITE_ACTIONS: &[Coverage] = &[
    Coverage {
        id: "ats_create_application",
        label: "Create application",
        status: S,
        fields: &[
            ("candidate.first_name", S),
            ("candidate.last_name", S),
            ("candidate.email_address", S),
            ("candidate.phone_number", S),
            ("candidate.title", S),
            ("candidate.location.city", S),
            ("candidate.location.country", S),
            ("candidate.location.state", S),
            ("candidate.location.zip_code", S),
            ("candidate.location.street_1", S),
            ("candidate.company", U),
            ("candidate.additional_email_addresses", U),
            ("candidate.additional_phone_numbers", U),
            ("candidate.gender", U),
            ("candidate.availability_date", U),
            ("candidate.salary_expectations", U),
            ("candidate.social_links", U),
            ("attachments", S),
            ("source", S),
            ("stage_id", U),
            ("sourced_by", U),
            ("gdpr_consent", U),
            ("remote_fields", U),
            ("screening_question_answers", U),
        ],
    },
    Coverage {
        id: "ats_create_candidate",
        label: "Create candidate",
        status: S,
        fields: &[
            ("candidate.first_name", S),
            ("candidate.last_name", S),
            ("candidate.email_address", S),
            ("candidate.phone_number", S),
            ("candidate.title", S),
            ("candidate.location.city", S),
            ("candidate.location.country", S),
            ("candidate.location.state", S),
            ("candidate.location.zip_code", S),
            ("candidate.location.street_1", S),
            ("candidate.company", U),
            ("candidate.additional_email_addresses", U),
            ("candidate.additional_phone_numbers", U),
            ("candidate.gender", U),
            ("candidate.availability_date", U),
            ("candidate.salary_expectations", U),
            ("candidate.social_links", U),
            ("application.job_id", S),
            ("application.stage_id", U),
            ("attachments", S),
            ("source", S),
            ("sourced_by", U),
            ("gdpr_consent", U),
            ("remote_fields", U),
            ("screening_question_answers", U),
        ],
    },
];

const LOGO: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="160" height="48" viewBox="0 0 160 48" role="img" aria-label="Sage HR"><rect width="48" height="48" rx="10" fill="#00D639"/><text x="24" y="33" font-family="Helvetica,Arial,sans-serif" font-size="26" font-weight="700" text-anchor="middle" fill="#000">S</text><text x="58" y="32" font-family="Helvetica,Arial,sans-serif" font-size="22" font-weight="700" fill="#000">Sage HR</text></svg>
"##;

const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 48 48" role="img" aria-label="Sage HR"><rect width="48" height="48" rx="10" fill="#00D639"/><text x="24" y="33" font-family="Helvetica,Arial,sans-serif" font-size="26" font-weight="700" text-anchor="middle" fill="#000">S</text></svg>
"##;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use atsbridge_model::id::ModelKind;

    use super::DESCRIPTOR;

    /// Each model and action is described once, with each field once, and a model is either
    /// covered or listed as missing, never both.
    #[test]
    fn the_descriptor_names_each_model_and_field_once() {
        let mut models = BTreeSet::new();
        for c in DESCRIPTOR
            .read_models
            .iter()
            .chain(DESCRIPTOR.write_actions)
        {
            assert!(models.insert(c.id), "{} twice", c.id);
            let fields: BTreeSet<_> = c.fields.iter().map(|(f, _)| f).collect();
            assert_eq!(fields.len(), c.fields.len(), "{}: a field twice", c.id);
        }
        for (id, _) in DESCRIPTOR.missing_models {
            assert!(models.insert(id), "{id} is both covered and missing");
        }
        for kind in ModelKind::ATS {
            assert!(
                DESCRIPTOR.read_models.iter().any(|c| c.id == kind.as_str()),
                "{kind} is synced but not described"
            );
        }
    }
}
