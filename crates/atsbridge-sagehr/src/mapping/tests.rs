//! One test per row of DESIGN.md's mapping table, and the edge cases around it.

use serde_json::json;

use super::*;

const INTEGRATION: &str = "sagehr:4mUqVHo3bnvKXT6qWZEpn1ds";

fn scope() -> Scope<'static> {
    Scope {
        integration_id: INTEGRATION,
        read_at: Timestamp::parse("2026-01-02T03:04:05.678Z").unwrap(),
    }
}

fn position() -> Value {
    json!({
        "id": 17, "title": "Backend Engineer", "status": "published", "visibility": "Published",
        "created_at": "2025-09-01", "internal_date": "2025-10-01", "completed_at": null,
        "link": "https://talent.sage.hr/jobs/acme-17", "team": "Engineering",
        "applicants_required": 2, "applicants_count": 3, "employment_type": "Full-time",
        "location": "London", "location_id": 9182712, "group": "Hiring Group", "group_id": 871621,
        "priority": 1,
        "description_blocks": [
            {"title": "Description", "content": "<p>Rust</p>"},
            {"title": "Perks & <More Details>", "content": "<p>Fruit &amp; tea</p>"}
        ]
    })
}

fn applicant() -> Value {
    json!({
        "id": 901, "full_name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace",
        "email": "ada@example.com", "phone_number": "+44 20 7946 0000", "address": "BD23 8UL",
        "summary": "Mathematician", "source": "linkedin", "created_at": "2025-10-15T10:58:57Z",
        "disqualified_date": null, "hired_date": null,
        "stage": {"id": 4, "title": "Interview", "created_at": "2025-09-01T08:00:00Z"}
    })
}

#[test]
fn position_fields_map_to_the_job() {
    let job = job(scope(), &position(), vec![], &Value::Null).unwrap();
    assert_eq!(job.id, record_id(INTEGRATION, ModelKind::Job, "17"));
    assert_eq!(job.remote_id, "17");
    assert_eq!(job.name.as_deref(), Some("Backend Engineer"));
    assert_eq!(job.department.as_deref(), Some("Engineering"));
    assert_eq!(
        job.post_url.as_deref(),
        Some("https://talent.sage.hr/jobs/acme-17")
    );
    let location = job.location.clone().unwrap();
    assert_eq!(
        (location.city.as_deref(), location.raw.as_deref()),
        (Some("London"), Some("London"))
    );
    assert_eq!(location.country, None);
    assert_eq!(
        job.remote_created_at.unwrap().to_string(),
        "2025-09-01T00:00:00.000Z"
    );
    assert_eq!(job.opened_at, job.remote_created_at);
    assert_eq!(job.closed_at, None);
    assert_eq!(job.status, Some(JobStatus::Open));
    assert_eq!(job.visibility, Some(Visibility::Public));
    assert_eq!(job.employment_type, Some(EmploymentType::FullTime));
    assert_eq!(job.changed_at, scope().read_at);
    assert_eq!(
        job.remote_data,
        Some(json!({"/recruitment/positions": position()}))
    );
    assert_eq!(job.custom_fields, Some(CustomFields::new()));
    assert!(
        job.screening_questions.is_empty()
            && job.job_postings.is_empty()
            && job.hiring_team.is_empty()
    );
}

#[test]
fn every_position_status_maps_to_status_visibility_and_opened_at() {
    let cases = [
        ("draft", Some(JobStatus::Draft), None, false),
        (
            "published",
            Some(JobStatus::Open),
            Some(Visibility::Public),
            true,
        ),
        (
            "internal",
            Some(JobStatus::Open),
            Some(Visibility::Internal),
            true,
        ),
        ("completed", Some(JobStatus::Closed), None, true),
        ("cancelled", Some(JobStatus::Closed), None, true),
        (
            "on_hold",
            Some(JobStatus::Other("on_hold".into())),
            None,
            true,
        ),
    ];
    for (status, expected_status, expected_visibility, opened) in cases {
        let mut raw = position();
        raw["status"] = json!(status);
        let job = job(scope(), &raw, vec![], &Value::Null).unwrap();
        assert_eq!(job.status, expected_status, "{status}");
        assert_eq!(job.visibility, expected_visibility, "{status}");
        assert_eq!(job.opened_at.is_some(), opened, "{status}");
    }
    let mut no_status = position();
    no_status["status"] = json!(null);
    let job = job(scope(), &no_status, vec![], &Value::Null).unwrap();
    assert_eq!((job.status, job.visibility), (None, None));
}

#[test]
fn closed_at_comes_from_completed_at() {
    let mut raw = position();
    raw["status"] = json!("completed");
    raw["completed_at"] = json!("2025-10-12");
    let job = job(scope(), &raw, vec![], &Value::Null).unwrap();
    assert_eq!(
        job.closed_at.unwrap().to_string(),
        "2025-10-12T00:00:00.000Z"
    );
}

#[test]
fn every_employment_type_spelling_maps() {
    use EmploymentType::*;
    let cases = [
        ("Full-time", FullTime),
        ("Full time", FullTime),
        ("full-time", FullTime),
        ("FULL_TIME", FullTime),
        ("Fulltime", FullTime),
        ("Part-time", PartTime),
        ("Part time", PartTime),
        ("part_time", PartTime),
        ("Contract", Contract),
        ("Contractor", Contract),
        ("Fixed-term", Contract),
        ("fixed term", Contract),
        ("Temporary", Seasonal),
        ("Seasonal", Seasonal),
        ("Internship", Internship),
        ("Intern", Internship),
        ("Trainee", Internship),
        ("Freelance", Other("Freelance".into())),
        ("Zero hours", Other("Zero hours".into())),
    ];
    for (raw, expected) in cases {
        assert_eq!(employment_type(raw), expected, "{raw}");
        let mut p = position();
        p["employment_type"] = json!(raw);
        assert_eq!(
            job(scope(), &p, vec![], &Value::Null)
                .unwrap()
                .employment_type,
            Some(expected),
            "{raw}"
        );
    }
    let mut none = position();
    none["employment_type"] = json!(null);
    assert_eq!(
        job(scope(), &none, vec![], &Value::Null)
            .unwrap()
            .employment_type,
        None
    );
}

#[test]
fn description_blocks_become_html_with_escaped_titles() {
    let job = job(scope(), &position(), vec![], &Value::Null).unwrap();
    assert_eq!(
        job.description.as_deref(),
        Some("<h3>Description</h3><p>Rust</p><h3>Perks &amp; &lt;More Details&gt;</h3><p>Fruit &amp; tea</p>")
    );
    for empty in [json!([]), json!(null)] {
        let mut raw = position();
        raw["description_blocks"] = empty;
        assert_eq!(
            super::job(scope(), &raw, vec![], &Value::Null)
                .unwrap()
                .description,
            None
        );
    }
    let mut untitled = position();
    untitled["description_blocks"] = json!([{"title": null, "content": "<p>Only text</p>"}]);
    assert_eq!(
        super::job(scope(), &untitled, vec![], &Value::Null)
            .unwrap()
            .description
            .as_deref(),
        Some("<p>Only text</p>")
    );
}

#[test]
fn missing_and_null_position_fields_give_nulls_not_errors() {
    let job = job(
        scope(),
        &json!({"id": "5", "team": "", "location": null}),
        vec![],
        &Value::Null,
    )
    .unwrap();
    assert_eq!(job.remote_id, "5");
    assert_eq!(job.name, None);
    assert_eq!(job.department, None, "an empty team is no department");
    assert_eq!(job.location, None);
    assert_eq!(
        (job.remote_created_at, job.opened_at, job.closed_at),
        (None, None, None)
    );
    assert_eq!(job.description, None);
    assert!(super::job(scope(), &json!({"title": "no id"}), vec![], &Value::Null).is_none());
    assert!(super::job(scope(), &json!("not an object"), vec![], &Value::Null).is_none());
    let mut bad_date = position();
    bad_date["created_at"] = json!("sometime");
    assert_eq!(
        super::job(scope(), &bad_date, vec![], &Value::Null)
            .unwrap()
            .remote_created_at,
        None
    );
}

#[test]
fn job_stages_are_the_distinct_stages_seen_ordered_by_id() {
    let seen = |id: &str, title: &str| SeenStage {
        remote_id: id.into(),
        title: Some(title.into()),
        raw: json!({"id": id}),
    };
    let stages = job_stages(
        scope(),
        &[
            seen("10", "Hired"),
            seen("4", "Interview"),
            seen("9", "Offer"),
            seen("4", "Interview"),
            seen("2", "New"),
        ],
    );
    let got: Vec<(Option<&str>, Option<i64>)> = stages
        .iter()
        .map(|s| (s.remote_id.as_deref(), s.index))
        .collect();
    assert_eq!(
        got,
        [
            (Some("2"), Some(0)),
            (Some("4"), Some(1)),
            (Some("9"), Some(2)),
            (Some("10"), Some(3))
        ]
    );
    assert_eq!(
        stages[1].id,
        record_id(INTEGRATION, ModelKind::ApplicationStage, "4")
    );
    assert_eq!(stages[1].name.as_deref(), Some("Interview"));
    assert!(job_stages(scope(), &[]).is_empty());
}

#[test]
fn applicant_fields_map_to_the_candidate() {
    let m = super::applicant(scope(), &applicant(), "17", APPLICANTS_PATH).unwrap();
    let c = &m.candidate.profile;
    assert_eq!(c.id, record_id(INTEGRATION, ModelKind::Candidate, "901"));
    assert_eq!(c.remote_id, "901");
    assert_eq!(
        (c.first_name.as_deref(), c.last_name.as_deref()),
        (Some("Ada"), Some("Lovelace"))
    );
    assert_eq!(
        c.email_addresses,
        vec![EmailAddress {
            email_address: Some("ada@example.com".into()),
            kind: None
        }]
    );
    assert_eq!(
        c.phone_numbers,
        vec![PhoneNumber {
            phone_number: "+44 20 7946 0000".into(),
            kind: None
        }]
    );
    assert_eq!(
        c.location.as_ref().and_then(|l| l.raw.as_deref()),
        Some("BD23 8UL")
    );
    assert_eq!(c.location.as_ref().and_then(|l| l.city.as_deref()), None);
    assert_eq!(c.source.as_deref(), Some("linkedin"));
    assert_eq!(
        c.remote_created_at.unwrap().to_string(),
        "2025-10-15T10:58:57.000Z"
    );
    let mut person = applicant();
    for key in ["stage", "hired_date", "disqualified_date"] {
        person.as_object_mut().unwrap().remove(key);
    }
    assert_eq!(
        c.remote_data,
        Some(json!({"/recruitment/positions/{id}/applicants": person})),
        "application fields stay with the application"
    );
    assert_eq!(
        m.application.core.remote_data,
        Some(json!({"/recruitment/positions/{id}/applicants": applicant()}))
    );
    assert!(
        m.candidate.applications.is_empty(),
        "the store links applications"
    );
}

#[test]
fn applicant_fields_map_to_the_application() {
    let m = super::applicant(scope(), &applicant(), "17", APPLICANTS_PATH).unwrap();
    let a = &m.application.core;
    assert_eq!(a.id, record_id(INTEGRATION, ModelKind::Application, "901"));
    assert_ne!(
        a.id, m.candidate.profile.id,
        "one applicant, two records, two ids"
    );
    assert_eq!(a.remote_id.as_deref(), Some("901"));
    assert_eq!(a.outcome, Some(Outcome::Pending));
    assert_eq!(a.rejected_at, None);
    assert_eq!(
        a.current_stage_id,
        Some(record_id(INTEGRATION, ModelKind::ApplicationStage, "4"))
    );
    assert_eq!(a.job_id, Some(record_id(INTEGRATION, ModelKind::Job, "17")));
    assert_eq!(a.candidate_id, Some(m.candidate.profile.id.clone()));
    assert_eq!(a.remote_created_at, m.candidate.profile.remote_created_at);
    assert_eq!(m.stage.as_ref().map(|s| s.remote_id.as_str()), Some("4"));
}

#[test]
fn outcome_follows_hired_and_disqualified_dates() {
    let cases = [
        (json!(null), json!(null), Outcome::Pending, None),
        (json!("2025-11-01"), json!(null), Outcome::Hired, None),
        (
            json!(null),
            json!("2025-11-02"),
            Outcome::Declined,
            Some("2025-11-02T00:00:00.000Z"),
        ),
        (
            json!("2025-11-01"),
            json!("2025-11-02"),
            Outcome::Hired,
            Some("2025-11-02T00:00:00.000Z"),
        ),
    ];
    for (hired, disqualified, outcome, rejected_at) in cases {
        let mut raw = applicant();
        raw["hired_date"] = hired.clone();
        raw["disqualified_date"] = disqualified.clone();
        let m = super::applicant(scope(), &raw, "17", APPLICANTS_PATH).unwrap();
        assert_eq!(
            m.application.core.outcome,
            Some(outcome),
            "{hired} {disqualified}"
        );
        assert_eq!(
            m.application
                .core
                .rejected_at
                .map(|t| t.to_string())
                .as_deref(),
            rejected_at
        );
    }
}

#[test]
fn sparse_applicants_map_to_empty_lists_and_nulls() {
    let m = super::applicant(
        scope(),
        &json!({"id": 7, "first_name": "Solo", "last_name": null, "email": null, "stage": null}),
        "17",
        APPLICANT_PATH,
    )
    .unwrap();
    let c = &m.candidate.profile;
    assert!(c.email_addresses.is_empty() && c.phone_numbers.is_empty());
    assert_eq!(c.location, None);
    assert_eq!(c.last_name, None);
    assert_eq!(m.application.core.current_stage_id, None);
    assert!(m.stage.is_none());
    assert_eq!(
        c.remote_data,
        Some(
            json!({"/recruitment/applicants/{id}": {"id": 7, "first_name": "Solo", "last_name": null, "email": null}})
        )
    );
    assert!(super::applicant(
        scope(),
        &json!({"first_name": "no id"}),
        "17",
        APPLICANTS_PATH
    )
    .is_none());
}

#[test]
fn seen_stages_map_to_application_stages() {
    let m = super::applicant(scope(), &applicant(), "17", APPLICANTS_PATH).unwrap();
    let stage = application_stage(scope(), m.stage.as_ref().unwrap());
    assert_eq!(
        stage.id,
        record_id(INTEGRATION, ModelKind::ApplicationStage, "4")
    );
    assert_eq!(stage.remote_id.as_deref(), Some("4"));
    assert_eq!(stage.name.as_deref(), Some("Interview"));
    assert_eq!(stage.remote_deleted_at, None);
    assert_eq!(
        stage.remote_data,
        Some(json!({"/recruitment/positions/{id}/applicants": {"stage": applicant()["stage"]}}))
    );
}

#[test]
fn timestamps_parse_in_every_form_sage_hr_uses() {
    for (raw, expected) in [
        ("2020-10-15T10:58:57Z", "2020-10-15T10:58:57.000Z"),
        ("2020-10-15T10:58:57.123Z", "2020-10-15T10:58:57.123Z"),
        ("2020-10-15 10:58:57+00:00", "2020-10-15T10:58:57.000Z"),
        ("2020-10-15T12:58:57+02:00", "2020-10-15T10:58:57.000Z"),
        ("2020-10-15", "2020-10-15T00:00:00.000Z"),
    ] {
        assert_eq!(
            parse_when(raw).map(|t| t.to_string()).as_deref(),
            Some(expected),
            "{raw}"
        );
    }
    assert_eq!(parse_when("15/10/2020"), None);
}

#[test]
fn a_title_like_summary_is_the_candidates_title_and_a_sentence_is_not() {
    assert!(looks_like_title("Head of Analytics"));
    assert!(looks_like_title("Senior Engineer, Payments"));
    assert!(!looks_like_title(
        "Five years of experience in a similar role."
    ));
    assert!(!looks_like_title("Line one\nline two"));
    assert!(!looks_like_title(""));
    assert!(!looks_like_title(&"x".repeat(101)));
}

#[test]
fn the_hiring_team_comes_from_the_position_detail() {
    let team = json!([
        {"id": 251, "full_name": "Grace Brewster Hopper", "role": "hiring_manager"},
        {"id": "121", "full_name": "Alan", "role": "interviewer"},
        {"id": 251, "full_name": "Grace Brewster Hopper", "role": "interviewer"},
        {"id": 9, "full_name": null, "role": "panel_chair"},
        {"full_name": "No Id", "role": "interviewer"},
        "not an object"
    ]);
    let job = job(scope(), &position(), vec![], &team).unwrap();
    let ids: Vec<_> = job
        .hiring_team
        .iter()
        .map(|m| m.remote_id.as_deref().unwrap())
        .collect();
    assert_eq!(ids, ["251", "121", "9"]);
    let grace = &job.hiring_team[0];
    assert_eq!(grace.id, user_id(INTEGRATION, "251"));
    assert_ne!(grace.id, record_id(INTEGRATION, ModelKind::Job, "251"));
    assert_eq!(grace.first_name.as_deref(), Some("Grace"));
    assert_eq!(grace.last_name.as_deref(), Some("Brewster Hopper"));
    assert_eq!(
        grace.hiring_team_roles,
        [HiringTeamRole::HiringManager, HiringTeamRole::Interviewer]
    );
    assert_eq!(
        grace
            .job_roles
            .iter()
            .map(|r| r.unified_type)
            .collect::<Vec<_>>(),
        [
            Some(JobRoleType::HiringManager),
            Some(JobRoleType::Interviewer)
        ]
    );
    assert_eq!(job.hiring_team[1].first_name.as_deref(), Some("Alan"));
    assert_eq!(job.hiring_team[1].last_name, None);
    // A role Kombo has no name for keeps its label and no unified type.
    let chair = &job.hiring_team[2];
    assert!(chair.hiring_team_roles.is_empty() && chair.first_name.is_none());
    assert_eq!(
        chair.job_roles[0].remote_label.as_deref(),
        Some("panel_chair")
    );
    assert_eq!(chair.job_roles[0].unified_type, None);
    assert_eq!(
        job.remote_data,
        Some(json!({"/recruitment/positions": position(),
            "/recruitment/positions/{id}": {"hiring_team": team}}))
    );
}
