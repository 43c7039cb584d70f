use serde_json::{json, Value};

use super::*;

fn paths(v: &[Violation]) -> Vec<&str> {
    v.iter().map(|v| v.path.as_str()).collect()
}

fn valid_application() -> Value {
    json!({
        "candidate": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email_address": "ada@example.com",
            "location": {"country": "GB", "city": "London"},
            "additional_email_addresses": [{"type": "WORK", "email_address": "ada@work.example"}],
            "social_links": [{"url": "https://example.com/ada"}],
            "availability_date": "2026-02-01"
        },
        "attachments": [{"name": "cv.pdf", "type": "CV", "content_type": "application/pdf", "data": "JVBERi0xLjQ="}],
        "source": {"name": "Example Job Board"}
    })
}

#[test]
fn a_complete_request_is_valid() {
    let req: CreateApplicationRequest = serde_json::from_value(valid_application()).unwrap();
    assert_eq!(req.validate(), vec![]);
    let attachment = &req.attachments.as_ref().unwrap()[0];
    assert_eq!(attachment.decode_data().unwrap().unwrap(), b"%PDF-1.4");
}

#[test]
fn every_missing_required_field_is_named() {
    let req: CreateApplicationRequest = serde_json::from_value(json!({"candidate": {}})).unwrap();
    assert_eq!(
        paths(&req.validate()),
        [
            "candidate.first_name",
            "candidate.last_name",
            "candidate.email_address"
        ]
    );
    let empty: CreateApplicationRequest = serde_json::from_value(json!({})).unwrap();
    assert_eq!(paths(&empty.validate()), ["candidate"]);
    let cand: CreateCandidateRequest = serde_json::from_value(json!({"candidate": {
        "first_name": " ", "last_name": "L", "email_address": "l@example.com"}}))
    .unwrap();
    assert_eq!(
        paths(&cand.validate()),
        ["candidate.first_name", "application"]
    );
    let no_job: CreateCandidateRequest = serde_json::from_value(json!({"candidate": {
        "first_name": "F", "last_name": "L", "email_address": "l@example.com"},
        "application": {"job_id": "remote:"}}))
    .unwrap();
    assert_eq!(paths(&no_job.validate()), ["application.job_id"]);
}

#[test]
fn bad_values_are_reported_together() {
    let mut body = valid_application();
    body["candidate"]["email_address"] = json!("not-an-email");
    body["candidate"]["location"]["country"] = json!("Germany");
    body["candidate"]["gender"] = json!("male");
    body["candidate"]["availability_date"] = json!("next week");
    body["candidate"]["additional_email_addresses"][0]["type"] = json!("HOME");
    body["candidate"]["social_links"][0]["url"] = json!("example dot com");
    body["candidate"]["salary_expectations"] = json!({"period": "WEEK"});
    body["sourced_by"] = json!({});
    body["screening_question_answers"] = json!([{"question_id": "q1"}]);
    let req: CreateApplicationRequest = serde_json::from_value(body).unwrap();
    let v = req.validate();
    assert_eq!(
        paths(&v),
        [
            "candidate.email_address",
            "candidate.additional_email_addresses[0].type",
            "candidate.location.country",
            "candidate.gender",
            "candidate.availability_date",
            "candidate.salary_expectations.period",
            "candidate.salary_expectations.amount",
            "candidate.social_links[0].url",
            "sourced_by.user_id",
            "screening_question_answers[0].answer",
        ]
    );
    assert!(describe(&v)
        .starts_with("candidate.email_address: `not-an-email` is not a valid email address; "));
}

#[test]
fn attachments_need_exactly_one_source_and_valid_data() {
    let body = json!({
        "candidate": {"first_name": "A", "last_name": "B", "email_address": "a@b.co"},
        "attachments": [
            {"name": "both.pdf", "type": "CV", "content_type": "application/pdf", "data": "AA==", "data_url": "https://files.example/x"},
            {"name": "none.pdf", "type": "CV"},
            {"name": "raw.pdf", "type": "CV", "data": "AA=="},
            {"name": "junk.pdf", "type": "RESUME", "content_type": "pdf", "data": "!!not base64!!"},
            {"type": "OTHER", "data_url": "ftp://files.example/x"},
            {"name": "ok.txt", "type": "OTHER", "data_url": "https://files.example/ok.txt"}
        ]
    });
    let req: CreateApplicationRequest = serde_json::from_value(body).unwrap();
    assert_eq!(
        paths(&req.validate()),
        [
            "attachments[0]",
            "attachments[1]",
            "attachments[2].content_type",
            "attachments[3].type",
            "attachments[3].content_type",
            "attachments[3].data",
            "attachments[4].name",
            "attachments[4].data_url",
        ]
    );
}

#[test]
fn attachments_over_ten_mebibytes_in_total_are_rejected() {
    let half = BASE64.encode(vec![0u8; MAX_ATTACHMENTS_BYTES / 2 + 1]);
    let file = |name: &str| json!({"name": name, "type": "OTHER", "content_type": "text/plain", "data": half});
    let body = json!({
        "candidate": {"first_name": "A", "last_name": "B", "email_address": "a@b.co"},
        "attachments": [file("a.txt"), file("b.txt")]
    });
    let req: CreateApplicationRequest = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(paths(&req.validate()), ["attachments"]);
    let mut one = body;
    one["attachments"].as_array_mut().unwrap().pop();
    let req: CreateApplicationRequest = serde_json::from_value(one).unwrap();
    assert_eq!(req.validate(), vec![]);
}

#[test]
fn base64_tolerates_line_breaks_and_missing_padding() {
    let a = AttachmentInput {
        data: Some("JVBE\nRi0x\r\nLjQ".into()),
        ..Default::default()
    };
    assert_eq!(a.decode_data().unwrap().unwrap(), b"%PDF-1.4");
}

#[test]
fn email_country_and_content_type_rules() {
    for ok in ["a@b.co", "first.last+tag@sub.example.org", "ü@münchen.de"] {
        assert!(is_valid_email(ok), "{ok}");
    }
    for bad in [
        "", "a", "a@b", "@b.co", "a@.co", "a@b..co", "a b@c.co", "a@b@c.co", "a.@b.co", "a@-b.co",
    ] {
        assert!(!is_valid_email(bad), "{bad}");
    }
    assert!(is_country_code("DE"));
    for bad in ["de", "DEU", "D", "D1"] {
        assert!(!is_country_code(bad), "{bad}");
    }
    assert!(is_content_type(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ));
    for bad in ["pdf", "application/", "/pdf", "text/plain; charset=utf-8"] {
        assert!(!is_content_type(bad), "{bad}");
    }
}

#[test]
fn serialization_leaves_out_absent_fields() {
    let req: CreateApplicationRequest = serde_json::from_value(valid_application()).unwrap();
    let back = serde_json::to_value(&req).unwrap();
    assert_eq!(back, valid_application());
}

#[test]
fn attachment_names_with_control_characters_are_refused() {
    for name in [
        "cv.pdf\r\nX-Injected: 1",
        "cv\n.pdf",
        "cv\t.pdf",
        "cv\u{0}.pdf",
        "cv\u{7f}.pdf",
    ] {
        let body = json!({
            "candidate": {"first_name": "A", "last_name": "B", "email_address": "a@b.co"},
            "attachments": [
                {"name": "fine name (1).pdf", "type": "CV", "content_type": "application/pdf", "data": "AA=="},
                {"name": name, "type": "CV", "content_type": "application/pdf", "data": "AA=="}
            ]
        });
        let req: CreateApplicationRequest = serde_json::from_value(body).unwrap();
        let violations = req.validate();
        assert_eq!(paths(&violations), ["attachments[1].name"], "{name:?}");
        assert!(
            violations[0].message.contains("control characters"),
            "{name:?}"
        );
    }
}
