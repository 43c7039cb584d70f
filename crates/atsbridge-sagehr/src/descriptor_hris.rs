//! Sage HR's core-HR API as Kombo's HRIS category sees it: the second descriptor of the same
//! tool (same slug, label and logos; one integration has one category). The coverage follows
//! Kombo's Sage HR HRIS page as far as it is known; where the reference marks a fact as
//! inferred the choice is ours and the README says so.

use atsbridge_model::id::ModelKind;
use atsbridge_model::integration::Category;
use atsbridge_model::integration::CoverageStatus::{Supported as S, Unsupported as U};
use atsbridge_model::tool::{ConnectGuide, Coverage, GuideTexts, ToolDescriptor};

use crate::connect;

pub const DESCRIPTOR: ToolDescriptor = ToolDescriptor {
    slug: "sagehr",
    label: "Sage HR",
    category: Category::Hris,
    logo_svg: crate::descriptor::DESCRIPTOR.logo_svg,
    icon_svg: crate::descriptor::DESCRIPTOR.icon_svg,
    read_models: READ_MODELS,
    missing_models: MISSING_MODELS,
    write_actions: WRITE_ACTIONS,
    // Sage HR has no legal entities, work locations or personal emails.
    unsupported_filters: &[
        (ModelKind::Employee, "legal_entity_ids"),
        (ModelKind::Employee, "work_location_ids"),
        (ModelKind::Employee, "personal_emails"),
    ],
    connect: &GUIDE,
};

/// The same credentials as the ATS connection; only what connecting lets the vendor do
/// differs.
const GUIDE: ConnectGuide = ConnectGuide {
    fields: connect::GUIDE.fields,
    texts: &[EN, DE],
};

const EN: GuideTexts = GuideTexts {
    intro_connect: "{app} asks to connect the Sage HR account of {org}. Once connected, {app} can read your employees, their employments and teams, absences and time-off balances, and add new employees.",
    ..connect::EN
};

const DE: GuideTexts = GuideTexts {
    intro_connect: "{app} möchte das Sage HR-Konto von {org} verbinden. Danach kann {app} Ihre Mitarbeitenden mit ihren Anstellungen und Teams, Abwesenheiten und Urlaubskonten lesen und neue Mitarbeitende anlegen.",
    ..connect::DE
};

/// Kombo's HRIS models Sage HR's API has nothing for.
const MISSING_MODELS: &[(&str, &str)] = &[
    ("hris_legal_entities", "Legal entities"),
    ("hris_locations", "Work locations"),
    ("hris_timesheets", "Timesheets"),
    (
        "hris_employee_document_categories",
        "Employee document categories",
    ),
    ("hris_performance_reviews", "Performance reviews"),
    (
        "hris_performance_review_cycles",
        "Performance review cycles",
    ),
    ("hris_staffing_entities", "Staffing entities"),
];

const READ_MODELS: &[Coverage] = &[
    Coverage {
        id: "hris_employees",
        label: "Employees",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("employee_number", S),
            ("first_name", S),
            ("last_name", S),
            ("nationality", S),
            ("display_full_name", U),
            ("job_title", S),
            ("work_email", S),
            ("personal_email", U),
            ("mobile_phone_number", S),
            ("ssn", U),
            ("tax_id", S),
            ("gender", S),
            ("ethnicity", U),
            ("marital_status", S),
            ("employment_status", S),
            ("employment_type", S),
            ("weekly_hours", U),
            ("avatar", S),
            ("work_location_id", U),
            ("legal_entity_id", U),
            ("manager_id", S),
            ("home_address", S),
            ("bank_accounts", U),
            ("date_of_birth", S),
            ("start_date", S),
            ("termination_date", S),
            ("remote_created_at", U),
            ("changed_at", S),
            ("remote_deleted_at", S),
            // H9's values, one request per employee (`hris::mapping::with_custom_fields`).
            ("custom_fields", S),
            ("integration_fields", S),
            ("remote_data", S),
        ],
    },
    Coverage {
        id: "hris_employments",
        label: "Employments",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("employee_id", S),
            ("job_title", S),
            ("pay_rate", S),
            ("pay_period", S),
            ("pay_frequency", U),
            ("employment_type", S),
            ("pay_currency", S),
            ("effective_date", S),
            ("changed_at", S),
            ("remote_deleted_at", S),
            ("custom_fields", U),
        ],
    },
    Coverage {
        id: "hris_teams",
        label: "Groups",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("name", S),
            ("type", S),
            ("parent_id", U),
            ("changed_at", S),
            ("remote_deleted_at", S),
        ],
    },
    Coverage {
        id: "hris_absence_types",
        label: "Absence types",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("name", S),
            ("unit", S),
            ("half_days_supported", S),
            ("exact_times_supported", S),
            ("changed_at", S),
            ("remote_deleted_at", S),
        ],
    },
    Coverage {
        id: "hris_absences",
        label: "Absences",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("employee_id", S),
            ("start_date", S),
            ("end_date", S),
            ("start_half_day", S),
            ("end_half_day", S),
            ("start_time", S),
            ("end_time", S),
            ("amount", S),
            ("unit", S),
            ("status", S),
            ("employee_note", S),
            ("type_id", S),
            ("remote_created_at", U),
            ("remote_updated_at", U),
            ("changed_at", S),
            ("remote_deleted_at", S),
        ],
    },
    // Kombo's page does not show this model for Sage HR; Sage HR has the data (H17), so we
    // read it.
    Coverage {
        id: "hris_time_off_balances",
        label: "Time off balances",
        status: S,
        fields: &[
            ("id", S),
            ("remote_id", S),
            ("employee_id", S),
            ("type_id", S),
            ("balance", S),
            ("balance_unit", S),
            ("used", S),
            ("used_unit", S),
            ("changed_at", S),
            ("remote_deleted_at", S),
        ],
    },
];

const WRITE_ACTIONS: &[Coverage] = &[
    Coverage {
        id: "hris_create_employee",
        label: "Create employee",
        status: S,
        fields: &[
            ("first_name", S),
            ("last_name", S),
            ("work_email", S),
            ("gender", S),
            ("job_title", S),
            ("home_address", S),
            ("date_of_birth", S),
            ("mobile_phone_number", S),
            ("home_phone_number", S),
            ("nationality", S),
            ("start_date", S),
            ("legal_entity_id", U),
            ("location_id", U),
            ("remote_fields", U),
        ],
    },
    Coverage {
        id: "hris_create_absence",
        label: "Create absence",
        status: U,
        fields: &[],
    },
    Coverage {
        id: "hris_delete_absence",
        label: "Delete absence",
        status: U,
        fields: &[],
    },
    Coverage {
        id: "hris_update_employee",
        label: "Update employee",
        status: U,
        fields: &[],
    },
    Coverage {
        id: "hris_add_employee_document",
        label: "Add employee document",
        status: U,
        fields: &[],
    },
    Coverage {
        id: "hris_create_employee_with_form",
        label: "Create employee with form",
        status: U,
        fields: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hris_model_is_described_once_and_nothing_is_both_covered_and_missing() {
        let mut ids = std::collections::BTreeSet::new();
        for c in READ_MODELS {
            assert!(ids.insert(c.id), "{} twice", c.id);
        }
        for (id, _) in MISSING_MODELS {
            assert!(ids.insert(id), "{id} is both covered and missing");
        }
        for kind in ModelKind::HRIS {
            assert!(
                READ_MODELS.iter().any(|c| c.id == kind.as_str()),
                "{kind} is synced but not described"
            );
        }
        assert_eq!(DESCRIPTOR.category, Category::Hris);
        assert_eq!(DESCRIPTOR.slug, crate::descriptor::DESCRIPTOR.slug);
    }

    #[test]
    fn the_connect_guide_asks_for_the_ats_credentials_and_says_what_hris_reads() {
        assert_eq!(
            GUIDE.fields.iter().map(|f| f.key).collect::<Vec<_>>(),
            ["subdomain", "api_key"]
        );
        for lang in ["en", "de"] {
            let t = GUIDE.texts(lang);
            assert_eq!(t.lang, lang);
            assert_ne!(t.intro_connect, connect::GUIDE.texts(lang).intro_connect);
        }
        assert!(GUIDE.texts("en").intro_connect.contains("employees"));
    }
}
