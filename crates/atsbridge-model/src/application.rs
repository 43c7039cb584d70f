//! The Application model (`GET /v1/ats/applications`) and the shape the create-application
//! write returns.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::candidate::{CandidateProfile, EmailAddress, PhoneNumber, SocialMedia};
use crate::common::{CustomFields, JobRef, Location, StageRef, Tag};
use crate::enums::{OfferStatus, Outcome};
use crate::stage::Stage;
use crate::timestamp::Timestamp;

/// An application with its candidate, current stage and job expanded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Application {
    #[serde(flatten)]
    pub core: ApplicationCore,
    pub candidate: Option<ApplicationCandidate>,
    pub current_stage: Option<Stage>,
    pub job: Option<JobRef>,
    #[serde(default)]
    pub interviews: Vec<Interview>,
    #[serde(default)]
    pub offers: Vec<Offer>,
}

/// The fields an application has of its own, whatever it is embedded in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicationCore {
    pub id: String,
    pub remote_id: Option<String>,
    pub outcome: Option<Outcome>,
    pub rejection_reason_name: Option<String>,
    pub rejected_at: Option<Timestamp>,
    pub current_stage_id: Option<String>,
    pub job_id: Option<String>,
    pub candidate_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub custom_fields: Option<CustomFields>,
    pub remote_url: Option<String>,
    pub changed_at: Timestamp,
    pub remote_deleted_at: Option<Timestamp>,
    pub remote_created_at: Option<Timestamp>,
    pub remote_updated_at: Option<Timestamp>,
    #[serde(default)]
    pub screening_question_answers: Vec<ScreeningQuestionAnswer>,
    pub remote_data: Option<Value>,
}

/// What `POST /v1/ats/jobs/{job_id}/applications` returns: the application with its full
/// candidate (less the candidate's applications list) and without interviews or offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApplication {
    #[serde(flatten)]
    pub core: ApplicationCore,
    pub current_stage: Option<StageRef>,
    pub job: Option<JobRef>,
    pub candidate: Option<CandidateProfile>,
}

/// The candidate as embedded in an application (no company, title or location).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicationCandidate {
    pub id: String,
    pub remote_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub source: Option<String>,
    pub remote_url: Option<String>,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub email_addresses: Vec<EmailAddress>,
    #[serde(default)]
    pub phone_numbers: Vec<PhoneNumber>,
    #[serde(default)]
    pub social_media: Vec<SocialMedia>,
}

impl From<&CandidateProfile> for ApplicationCandidate {
    fn from(c: &CandidateProfile) -> Self {
        ApplicationCandidate {
            id: c.id.clone(),
            remote_id: c.remote_id.clone(),
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            source: c.source.clone(),
            remote_url: c.remote_url.clone(),
            tags: c.tags.clone(),
            email_addresses: c.email_addresses.clone(),
            phone_numbers: c.phone_numbers.clone(),
            social_media: c.social_media.clone(),
        }
    }
}

impl From<&Stage> for StageRef {
    fn from(s: &Stage) -> Self {
        StageRef {
            id: s.id.clone(),
            name: s.name.clone(),
            remote_id: s.remote_id.clone(),
            index: s.index,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interview {
    pub id: String,
    pub remote_id: Option<String>,
    pub title: Option<String>,
    pub starting_at: Option<Timestamp>,
    pub ending_at: Option<Timestamp>,
    pub canceled: Option<bool>,
    pub location: Option<Location>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Offer {
    pub id: String,
    pub remote_id: Option<String>,
    pub status: Option<OfferStatus>,
}

/// A candidate's answer to a screening question: `{question: {remote_id, title, type},
/// answer: {...}}`, where the answer's one key depends on the question type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawAnswer", into = "RawAnswer")]
pub struct ScreeningQuestionAnswer {
    pub question_remote_id: Option<String>,
    pub question_title: String,
    pub answer: Answer,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Text(Option<String>),
    SingleSelect(Option<String>),
    MultiSelect(Vec<String>),
    Boolean(Option<bool>),
    Number(Option<f64>),
    Date(Option<Timestamp>),
    Unknown(Option<Value>),
}

impl Answer {
    fn question_type(&self) -> &'static str {
        match self {
            Answer::Text(_) => "TEXT",
            Answer::SingleSelect(_) => "SINGLE_SELECT",
            Answer::MultiSelect(_) => "MULTI_SELECT",
            Answer::Boolean(_) => "BOOLEAN",
            Answer::Number(_) => "NUMBER",
            Answer::Date(_) => "DATE",
            Answer::Unknown(_) => "UNKNOWN",
        }
    }
}

#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct RawAnswer {
    question: RawQuestion,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    answer: serde_json::Map<String, Value>,
}

#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct RawQuestion {
    remote_id: Option<String>,
    title: String,
    #[serde(rename = "type")]
    kind: String,
}

// The wire form is `RawAnswer`'s (serde converts through it).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ScreeningQuestionAnswer {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        <RawAnswer as utoipa::PartialSchema>::schema()
    }
}
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ScreeningQuestionAnswer {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::Schema>)>) {
        <RawAnswer as utoipa::ToSchema>::schemas(schemas);
    }
}

impl TryFrom<RawAnswer> for ScreeningQuestionAnswer {
    type Error = String;
    fn try_from(raw: RawAnswer) -> Result<Self, String> {
        fn field<T: serde::de::DeserializeOwned + Default>(
            answer: &serde_json::Map<String, Value>,
            key: &str,
        ) -> Result<T, String> {
            match answer.get(key) {
                None | Some(Value::Null) => Ok(T::default()),
                Some(v) => {
                    serde_json::from_value(v.clone()).map_err(|e| format!("answer.{key}: {e}"))
                }
            }
        }
        let a = &raw.answer;
        let answer = match raw.question.kind.as_str() {
            "TEXT" => Answer::Text(field(a, "content")?),
            "SINGLE_SELECT" => Answer::SingleSelect(field(a, "choice")?),
            "MULTI_SELECT" => Answer::MultiSelect(field(a, "choices")?),
            "BOOLEAN" => Answer::Boolean(field(a, "checked")?),
            "NUMBER" => Answer::Number(field(a, "number")?),
            "DATE" => Answer::Date(field(a, "date")?),
            "UNKNOWN" => Answer::Unknown(field(a, "raw")?),
            other => return Err(format!("unknown screening question type `{other}`")),
        };
        Ok(ScreeningQuestionAnswer {
            question_remote_id: raw.question.remote_id,
            question_title: raw.question.title,
            answer,
        })
    }
}

impl From<ScreeningQuestionAnswer> for RawAnswer {
    fn from(a: ScreeningQuestionAnswer) -> Self {
        let kind = a.answer.question_type().to_owned();
        let (key, value) = match a.answer {
            Answer::Text(v) => ("content", json(v)),
            Answer::SingleSelect(v) => ("choice", json(v)),
            Answer::MultiSelect(v) => ("choices", json(v)),
            Answer::Boolean(v) => ("checked", json(v)),
            Answer::Number(v) => ("number", json(v)),
            Answer::Date(v) => ("date", json(v)),
            Answer::Unknown(v) => ("raw", v.unwrap_or(Value::Null)),
        };
        let mut answer = serde_json::Map::new();
        answer.insert(key.to_owned(), value);
        RawAnswer {
            question: RawQuestion {
                remote_id: a.question_remote_id,
                title: a.question_title,
                kind,
            },
            answer,
        }
    }
}

fn json<T: Serialize>(v: T) -> Value {
    // Serializing these plain types (strings, numbers, timestamps) cannot fail.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screening_answers_round_trip_with_the_key_their_type_needs() {
        let cases = [
            (Answer::Text(Some("yes".into())), "content"),
            (Answer::SingleSelect(Some("opt1".into())), "choice"),
            (Answer::MultiSelect(vec!["a".into(), "b".into()]), "choices"),
            (Answer::Boolean(Some(true)), "checked"),
            (Answer::Number(Some(3.5)), "number"),
            (
                Answer::Date(Some(Timestamp::parse("2026-01-02T00:00:00Z").unwrap())),
                "date",
            ),
            (Answer::Unknown(Some(serde_json::json!({"x": 1}))), "raw"),
        ];
        for (answer, key) in cases {
            let a = ScreeningQuestionAnswer {
                question_remote_id: Some("q1".into()),
                question_title: "Q".into(),
                answer,
            };
            let v = serde_json::to_value(&a).unwrap();
            assert_eq!(v["question"]["type"], a.answer.question_type());
            assert!(v["answer"].get(key).is_some(), "{v}");
            let back: ScreeningQuestionAnswer = serde_json::from_value(v).unwrap();
            assert_eq!(back, a);
        }
        let bad = serde_json::json!({"question": {"remote_id": null, "title": "Q", "type": "ESSAY"}, "answer": {}});
        assert!(serde_json::from_value::<ScreeningQuestionAnswer>(bad).is_err());
    }
}
