//! Sage HR's JSON as the connector reads it: lenient on purpose. Unknown keys are ignored,
//! every field may be missing or null, ids and phone numbers may come as numbers or strings,
//! and dates may come as dates or date-times. Each record keeps its raw JSON for
//! `remote_data`.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A string that Sage HR may send as a number (e.g. `referrer.phone_number`), a boolean, or
/// an empty string meaning nothing.
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    })
}

/// An id that may come as a number or a numeric string.
fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Position {
    #[serde(deserialize_with = "lenient_id")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub status: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub created_at: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub completed_at: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub link: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub team: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub employment_type: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub location: Option<String>,
    #[serde(deserialize_with = "blocks")]
    pub description_blocks: Vec<DescriptionBlock>,
}

/// A member of a position's hiring team (R2 only); `id` is an employee id.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HiringMember {
    #[serde(deserialize_with = "lenient_id")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub full_name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub role: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DescriptionBlock {
    #[serde(deserialize_with = "lenient_string")]
    pub title: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub content: Option<String>,
}

/// `description_blocks` may be missing, null, or hold malformed entries; keep what parses.
fn blocks<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DescriptionBlock>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        _ => Vec::new(),
    })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Applicant {
    #[serde(deserialize_with = "lenient_id")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub first_name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub last_name: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub email: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub phone_number: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub address: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub source: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub summary: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub created_at: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub disqualified_date: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub hired_date: Option<String>,
    #[serde(deserialize_with = "stage")]
    pub stage: Option<StageRef>,
    /// Only in R5's detail form.
    #[serde(deserialize_with = "lenient_id")]
    pub position_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StageRef {
    #[serde(deserialize_with = "lenient_id")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub title: Option<String>,
}

fn stage<'de, D: Deserializer<'de>>(d: D) -> Result<Option<StageRef>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(v @ Value::Object(_)) => serde_json::from_value(v).ok(),
        _ => None,
    })
}

/// will_paginate's `meta` block; only what paging needs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Meta {
    pub current_page: Option<u64>,
    pub next_page: Option<u64>,
    pub total_pages: Option<u64>,
    pub total_entries: Option<u64>,
}

/// Parses a record leniently; a record that is not even an object is `None`.
pub fn parse<T: Default + serde::de::DeserializeOwned>(raw: &Value) -> Option<T> {
    if !raw.is_object() {
        return None;
    }
    serde_json::from_value(raw.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn applicants_parse_leniently() {
        let raw = json!({
            "id": "901", "first_name": "Ada", "last_name": null, "email": "",
            "phone_number": 5550100, "created_at": "2020-10-15 10:58:57+00:00",
            "stage": {"id": 4, "title": "Interview", "created_at": "x"},
            "position_id": 17, "unexpected": {"nested": true}
        });
        let a: Applicant = parse(&raw).unwrap();
        assert_eq!(a.id.as_deref(), Some("901"));
        assert_eq!(a.last_name, None);
        assert_eq!(a.email, None, "an empty string is no email");
        assert_eq!(a.phone_number.as_deref(), Some("5550100"));
        assert_eq!(a.stage.unwrap().id.as_deref(), Some("4"));
        assert_eq!(a.position_id.as_deref(), Some("17"));
        let odd: Applicant = parse(&json!({"id": 1, "stage": "Interview"})).unwrap();
        assert!(odd.stage.is_none());
        assert!(parse::<Applicant>(&json!([1])).is_none());
    }

    #[test]
    fn positions_keep_the_blocks_that_parse() {
        let p: Position = parse(&json!({
            "id": 17, "title": "CEO", "description_blocks": [{"title": "A", "content": "<p>x</p>"}, 5, {"title": null}]
        }))
        .unwrap();
        assert_eq!(p.description_blocks.len(), 2);
        let none: Position = parse(&json!({"id": 1, "description_blocks": null})).unwrap();
        assert!(none.description_blocks.is_empty());
    }
}
