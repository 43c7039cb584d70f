//! A record as the store takes it: its own JSON in canonical form, the hash that decides
//! whether it changed, its nested part, and the columns filters use. Backend-neutral.

use atsbridge_model::connector::Record;
use atsbridge_model::integration::Category;
use atsbridge_model::{ApplicationCandidate, ModelKind, Timestamp};
use serde::Deserialize as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{millis, Result, StoreError};

/// A record ready to store: its own payload, its nested part, and the columns filters use.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordInput {
    pub model: ModelKind,
    pub id: String,
    pub remote_id: String,
    /// The record's own JSON, canonical (`canonical`): what is stored and what the hash is
    /// made from, serialized once.
    pub payload: String,
    pub hash: String,
    /// The nested part (a job's stages), canonical JSON as well.
    pub nested: Option<String>,
    pub nested_hash: Option<String>,
    pub remote_created_at: Option<i64>,
    pub parent_remote_id: Option<String>,
    pub name_lower: Option<String>,
    pub status: Option<String>,
    pub employment_type: Option<String>,
    pub visibility: Option<String>,
    pub job_code: Option<String>,
    pub post_url: Option<String>,
    pub email_lower: Option<String>,
    pub first_name_lower: Option<String>,
    pub last_name_lower: Option<String>,
    pub outcome: Option<String>,
    pub job_id: Option<String>,
    pub job_remote_id: Option<String>,
    pub current_stage_id: Option<String>,
    pub candidate_id: Option<String>,
    /// A candidate's summary as applications embed it (Kombo's `application.candidate`),
    /// JSON rendered once here. Not part of the hash: it is made from the payload.
    pub summary: Option<String>,
}

/// JSON with object keys sorted at every level, whatever map type serde_json was built with.
/// The output is what hashes compare, so it must never change for the same value (a test
/// pins it against the straightforward version); it is written without allocating per key
/// or per string, as it runs for every record a sync stores.
pub fn canonical(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(map) => {
                out.push('{');
                // serde_json's default map is already sorted; sort only when it is not.
                if map.keys().zip(map.keys().skip(1)).all(|(a, b)| a < b) {
                    for (i, (k, v)) in map.iter().enumerate() {
                        member(i, k, v, out);
                    }
                } else {
                    let mut sorted: Vec<(&String, &Value)> = map.iter().collect();
                    sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
                    for (i, (k, v)) in sorted.into_iter().enumerate() {
                        member(i, k, v, out);
                    }
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            Value::String(s) => string(s, out),
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => out.push_str(&n.to_string()),
        }
    }
    fn member(i: usize, k: &str, v: &Value, out: &mut String) {
        if i > 0 {
            out.push(',');
        }
        string(k, out);
        out.push(':');
        write(v, out);
    }
    /// A JSON string exactly as serde_json writes it: only `"`, `\` and control characters
    /// need escaping, and text without them is copied as it is.
    fn string(s: &str, out: &mut String) {
        if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
            out.push_str(&Value::String(s.to_owned()).to_string());
        } else {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

pub(crate) fn digest_text(text: &str) -> String {
    use std::fmt::Write as _;
    Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// The hash that decides whether a record changed: its own payload, and the stored columns
/// that come from beside it (an application's job remote id, a stage's job), so a change in
/// those is written too. They are not part of the served JSON.
fn own_hash(
    payload_text: &str,
    job_remote_id: Option<&str>,
    parent_remote_id: Option<&str>,
) -> String {
    if job_remote_id.is_none() && parent_remote_id.is_none() {
        return digest_text(payload_text);
    }
    // The canonical JSON of {"job_remote_id", "parent_remote_id", "payload"} (the keys in
    // canonical order), put together around the payload's canonical text instead of
    // serializing the whole payload again; a test holds it to the `canonical` of that object,
    // which the stored hashes were made with.
    let opt = |v: Option<&str>| canonical(&v.map_or(Value::Null, |s| Value::String(s.into())));
    let mut text = String::with_capacity(payload_text.len() + 80);
    text.push_str("{\"job_remote_id\":");
    text.push_str(&opt(job_remote_id));
    text.push_str(",\"parent_remote_id\":");
    text.push_str(&opt(parent_remote_id));
    text.push_str(",\"payload\":");
    text.push_str(payload_text);
    text.push('}');
    digest_text(&text)
}

fn lower(s: Option<&str>) -> Option<String> {
    s.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty())
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl RecordInput {
    /// `from_record` for a record the caller gives away: its `remote_data` (often most of
    /// it) is moved into the stored form instead of being copied by serialization. The
    /// result is the same as `from_record`'s.
    pub fn from_owned(mut record: Record) -> Result<Self> {
        let remote = match &mut record {
            Record::Job(j) => j.remote_data.take(),
            Record::Candidate(c) => c.profile.remote_data.take(),
            Record::Application(a) => a.core.remote_data.take(),
            Record::ApplicationStage { stage, .. } => stage.remote_data.take(),
            Record::Employee(e) => e.core.remote_data.take(),
            Record::Employment(e) => e.remote_data.take(),
            Record::Group(g) => g.remote_data.take(),
            Record::AbsenceType(t) => t.remote_data.take(),
            Record::Absence(a) => a.core.remote_data.take(),
            Record::TimeOffBalance(b) => b.core.remote_data.take(),
        };
        let (model, mut payload, parent) = Self::split(&record)?;
        if let (Some(remote), Some(object)) = (remote, payload.as_object_mut()) {
            object.insert("remote_data".into(), remote);
        }
        Self::from_parts(model, payload, parent)
    }

    /// Splits a record into what is its own (hashed for `changed_at`) and what is nested.
    pub fn from_record(record: &Record) -> Result<Self> {
        let (model, payload, parent) = Self::split(record)?;
        Self::from_parts(model, payload, parent)
    }

    /// The record's model, its JSON and (for a stage) its job's remote id.
    fn split(record: &Record) -> Result<(ModelKind, Value, Option<String>)> {
        let to_value = |r: Result<Value, serde_json::Error>| {
            r.map_err(|e| StoreError::Corrupt(format!("serializing a record: {e}")))
        };
        let (model, payload, parent) = match record {
            Record::Job(j) => (ModelKind::Job, to_value(serde_json::to_value(j))?, None),
            Record::Candidate(c) => (
                ModelKind::Candidate,
                to_value(serde_json::to_value(c))?,
                None,
            ),
            Record::Application(a) => (
                ModelKind::Application,
                to_value(serde_json::to_value(a))?,
                None,
            ),
            Record::ApplicationStage {
                stage,
                job_remote_id,
            } => (
                ModelKind::ApplicationStage,
                to_value(serde_json::to_value(stage))?,
                Some(job_remote_id.clone()),
            ),
            Record::Employee(e) => (
                ModelKind::Employee,
                to_value(serde_json::to_value(e))?,
                None,
            ),
            Record::Employment(e) => (
                ModelKind::Employment,
                to_value(serde_json::to_value(e))?,
                None,
            ),
            Record::Group(g) => (ModelKind::Group, to_value(serde_json::to_value(g))?, None),
            Record::AbsenceType(t) => (
                ModelKind::AbsenceType,
                to_value(serde_json::to_value(t))?,
                None,
            ),
            Record::Absence(a) => (ModelKind::Absence, to_value(serde_json::to_value(a))?, None),
            Record::TimeOffBalance(b) => (
                ModelKind::TimeOffBalance,
                to_value(serde_json::to_value(b))?,
                None,
            ),
        };
        Ok((model, payload, parent))
    }

    fn from_parts(model: ModelKind, mut payload: Value, parent: Option<String>) -> Result<Self> {
        let object = payload
            .as_object_mut()
            .ok_or_else(|| StoreError::Corrupt("a record is not an object".into()))?;
        // The store owns these two; they are not part of what the ATS says.
        object.remove("changed_at");
        object.remove("remote_deleted_at");
        let nested = match model {
            ModelKind::Job => object.remove("stages"),
            ModelKind::Candidate => {
                object.remove("applications");
                None
            }
            ModelKind::Application => {
                for key in ["candidate", "current_stage", "job"] {
                    object.remove(key);
                }
                None
            }
            // What Kombo nests in HRIS objects mirrors other records, assembled when read;
            // only an employee's group memberships are its own, kept as its nested part so a
            // membership change moves `updated_at` and not `changed_at` (Kombo's rule).
            ModelKind::Employee => {
                for key in [
                    "employments",
                    "time_off_balances",
                    "manager",
                    "teams",
                    "legal_entity",
                    "work_location",
                ] {
                    object.remove(key);
                }
                object.remove("groups").map(|groups| membership(&groups))
            }
            ModelKind::Absence | ModelKind::TimeOffBalance => {
                object.remove("type");
                None
            }
            ModelKind::ApplicationStage
            | ModelKind::Employment
            | ModelKind::Group
            | ModelKind::AbsenceType => None,
        };
        let id =
            text(&payload, "id").ok_or_else(|| StoreError::Corrupt("a record has no id".into()))?;
        let remote_id = text(&payload, "remote_id").unwrap_or_default();
        let remote_created_at = text(&payload, "remote_created_at")
            .and_then(|t| Timestamp::parse(&t).ok())
            .map(millis);
        let payload_text = canonical(&payload);
        // A candidate whose fields do not make a summary gets none; readers then parse
        // its JSON as before.
        let summary = (model == ModelKind::Candidate)
            .then(|| {
                ApplicationCandidate::deserialize(&payload)
                    .ok()
                    .and_then(|c| serde_json::to_string(&c).ok())
            })
            .flatten();
        let nested = nested.as_ref().map(canonical);
        let first_email = payload
            .get("email_addresses")
            .and_then(|e| e.get(0))
            .and_then(|e| e.get("email_address"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        if model.category() == Category::Hris {
            let mut columns = hris_columns(model, id, remote_id, &payload);
            if model == ModelKind::Employee {
                // Sage HR puts an employee in one team; the `group_ids` filter reads it here.
                columns.job_id = nested
                    .as_deref()
                    .and_then(|n| serde_json::from_str::<Value>(n).ok())
                    .and_then(|n| text(n.get(0)?, "id"));
            }
            return Ok(RecordInput {
                model,
                hash: own_hash(&payload_text, None, parent.as_deref()),
                nested_hash: nested.as_deref().map(digest_text),
                parent_remote_id: parent,
                payload: payload_text,
                nested,
                ..columns
            });
        }
        Ok(RecordInput {
            model,
            hash: own_hash(&payload_text, None, parent.as_deref()),
            nested_hash: nested.as_deref().map(digest_text),
            remote_created_at,
            parent_remote_id: parent,
            name_lower: lower(payload.get("name").and_then(Value::as_str))
                .filter(|_| model == ModelKind::Job),
            status: text(&payload, "status").filter(|_| model == ModelKind::Job),
            employment_type: text(&payload, "employment_type"),
            visibility: text(&payload, "visibility"),
            job_code: text(&payload, "job_code"),
            post_url: text(&payload, "post_url"),
            email_lower: lower(first_email.as_deref()),
            first_name_lower: lower(payload.get("first_name").and_then(Value::as_str)),
            last_name_lower: lower(payload.get("last_name").and_then(Value::as_str)),
            outcome: text(&payload, "outcome"),
            job_id: text(&payload, "job_id"),
            job_remote_id: None,
            current_stage_id: text(&payload, "current_stage_id"),
            candidate_id: text(&payload, "candidate_id"),
            id,
            remote_id,
            payload: payload_text,
            nested,
            summary,
        })
    }

    /// Sets the remote id of an application's job (known to the caller, not in the record).
    pub fn with_job_remote_id(mut self, job_remote_id: Option<String>) -> Self {
        self.job_remote_id = job_remote_id;
        self.hash = own_hash(
            &self.payload,
            self.job_remote_id.as_deref(),
            self.parent_remote_id.as_deref(),
        );
        self
    }
}

/// An employee's memberships as stored: `[{id, remote_id}]` in the order given. The group's
/// name and type are the group's own, added when the employee is read.
fn membership(groups: &Value) -> Value {
    let refs = groups
        .as_array()
        .map(|gs| {
            gs.iter()
                .map(|g| {
                    serde_json::json!({
                        "id": g.get("id").cloned().unwrap_or(Value::Null),
                        "remote_id": g.get("remote_id").cloned().unwrap_or(Value::Null),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Value::Array(refs)
}

/// The filter columns of an HRIS record. The columns are named after their first (ATS) use;
/// HRIS records fill them as follows, and `records::query` filters on them the same way:
///
/// | column | employee | employment | group | absence | time-off balance |
/// |---|---|---|---|---|---|
/// | `status` | `employment_status` | | `type` | `status` | |
/// | `email_lower` | `work_email` | | | | |
/// | `first_name_lower`, `last_name_lower` | names | | | | |
/// | `name_lower` | | | `name` | | |
/// | `candidate_id` (the owner) | | `employee_id` | | `employee_id` | `employee_id` |
/// | `job_id` (the reference) | its first group's id | | | `type_id` | `type_id` |
/// | `current_stage_id` | `manager_id` | | | | |
/// | `job_code`, `post_url` (a day range) | | | | `start_date`, `end_date` | |
///
/// Days are `yyyy-MM-dd` text, which orders as the dates do, so an overlap is two text
/// comparisons. Reusing the columns keeps one write statement and one row shape for every
/// model; each HRIS filter has its own partial index (migrations `0012_hris_indexes` on SQLite, `0014_hris_indexes` on PostgreSQL).
fn hris_columns(model: ModelKind, id: String, remote_id: String, payload: &Value) -> RecordInput {
    let mut r = RecordInput {
        model,
        id,
        remote_id,
        payload: String::new(),
        hash: String::new(),
        nested: None,
        nested_hash: None,
        remote_created_at: text(payload, "remote_created_at")
            .and_then(|t| Timestamp::parse(&t).ok())
            .map(millis),
        parent_remote_id: None,
        name_lower: None,
        status: None,
        employment_type: None,
        visibility: None,
        job_code: None,
        post_url: None,
        email_lower: None,
        first_name_lower: None,
        last_name_lower: None,
        outcome: None,
        job_id: None,
        job_remote_id: None,
        current_stage_id: None,
        candidate_id: None,
        summary: None,
    };
    match model {
        ModelKind::Employee => {
            r.status = text(payload, "employment_status");
            r.email_lower = lower(payload.get("work_email").and_then(Value::as_str));
            r.first_name_lower = lower(payload.get("first_name").and_then(Value::as_str));
            r.last_name_lower = lower(payload.get("last_name").and_then(Value::as_str));
            r.current_stage_id = text(payload, "manager_id");
        }
        ModelKind::Group => {
            r.status = text(payload, "type");
            r.name_lower = lower(payload.get("name").and_then(Value::as_str));
        }
        ModelKind::Employment => r.candidate_id = text(payload, "employee_id"),
        ModelKind::Absence => {
            r.status = text(payload, "status");
            r.candidate_id = text(payload, "employee_id");
            r.job_id = text(payload, "type_id");
            r.job_code = text(payload, "start_date");
            r.post_url = text(payload, "end_date");
        }
        ModelKind::TimeOffBalance => {
            r.candidate_id = text(payload, "employee_id");
            r.job_id = text(payload, "type_id");
        }
        ModelKind::AbsenceType
        | ModelKind::Job
        | ModelKind::Candidate
        | ModelKind::Application
        | ModelKind::ApplicationStage => {}
    }
    r
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{json, Value};

    use super::{canonical, digest_text, own_hash};

    fn digest(v: &Value) -> String {
        digest_text(&canonical(v))
    }

    /// The hash with a job's or parent's remote id is put together around the payload's
    /// canonical text; it must be the digest of the object it was first made from, or every
    /// stored record would look changed after an upgrade.
    #[test]
    fn own_hash_is_the_digest_of_the_object_with_the_remote_ids() {
        let payload = json!({"id": "a\"1", "nested": {"z": [1, {"y": null}], "a": "ü"}});
        let text = canonical(&payload);
        for (job, parent) in [
            (Some("j-1"), None),
            (None, Some("p\"2")),
            (Some("j"), Some("p")),
        ] {
            assert_eq!(
                own_hash(&text, job, parent),
                digest(
                    &json!({"payload": payload, "job_remote_id": job, "parent_remote_id": parent})
                ),
                "{job:?} {parent:?}"
            );
        }
        assert_eq!(own_hash(&text, None, None), digest(&payload));
    }

    /// The straightforward version `canonical` was first written as; stored hashes were made
    /// with it, so the fast one must agree byte for byte.
    fn reference(v: &Value) -> String {
        match v {
            Value::Object(map) => {
                let sorted: BTreeMap<&String, &Value> = map.iter().collect();
                let members: Vec<String> = sorted
                    .into_iter()
                    .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), reference(v)))
                    .collect();
                format!("{{{}}}", members.join(","))
            }
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(reference).collect();
                format!("[{}]", items.join(","))
            }
            other => other.to_string(),
        }
    }

    #[test]
    fn canonical_json_is_what_the_stored_hashes_were_made_with() {
        let values = [
            json!({"b": 1, "a": [true, null, 2.5, -7], "c": {"z": "x", "y": ""}}),
            json!({"quote\"d": "line\nbreak\ttab \\ slash", "ctl": "\u{1}\u{1f}", "del": "\u{7f}"}),
            json!({"ümlaut": "Zoë 😀", "id": "22usoyrftUwUcjavdDLURyWE", "n": 12345678901234_i64}),
            json!([{"k": []}, {}, "", 0, 1e300]),
            json!("plain"),
        ];
        for v in &values {
            assert_eq!(canonical(v), reference(v), "{v}");
        }
        assert_eq!(
            canonical(&json!({"b": "x\"y", "a": [1, null]})),
            r#"{"a":[1,null],"b":"x\"y"}"#
        );
    }

    fn hris(model: atsbridge_model::ModelKind, payload: Value) -> super::RecordInput {
        super::RecordInput::from_parts(model, payload, None).unwrap()
    }

    #[test]
    fn an_employee_keeps_its_memberships_apart_and_fills_its_filter_columns() {
        use atsbridge_model::ModelKind::Employee;
        let employee = |team: &str, title: &str| {
            json!({
                "id": "e1", "remote_id": "19", "first_name": " Ada ", "last_name": "Lovelace",
                "work_email": "Ada@Example.com", "employment_status": "ACTIVE", "job_title": title,
                "changed_at": "2026-01-01T00:00:00.000Z", "remote_deleted_at": null,
                "groups": [{"id": team, "remote_id": "7", "name": "Engineering", "type": "TEAM"}],
                "teams": [], "employments": [], "time_off_balances": [], "manager": null,
                "legal_entity": null, "work_location": null,
            })
        };
        let a = hris(Employee, employee("g1", "Engineer"));
        assert_eq!(a.job_id.as_deref(), Some("g1"));
        assert_eq!(a.status.as_deref(), Some("ACTIVE"));
        assert_eq!(a.email_lower.as_deref(), Some("ada@example.com"));
        assert_eq!(a.first_name_lower.as_deref(), Some("ada"));
        assert_eq!(
            a.nested.as_deref(),
            Some(r#"[{"id":"g1","remote_id":"7"}]"#)
        );
        for key in ["groups", "teams", "employments", "manager", "changed_at"] {
            assert!(
                !a.payload.contains(&format!("\"{key}\"")),
                "{key} in {}",
                a.payload
            );
        }
        // A new team is a nested change only; a new title is the employee's own.
        let moved = hris(Employee, employee("g2", "Engineer"));
        assert_eq!(moved.hash, a.hash);
        assert_ne!(moved.nested_hash, a.nested_hash);
        let retitled = hris(Employee, employee("g1", "Lead"));
        assert_ne!(retitled.hash, a.hash);
        assert_eq!(retitled.nested_hash, a.nested_hash);
    }

    #[test]
    fn absences_and_balances_name_their_employee_type_and_days() {
        use atsbridge_model::ModelKind::{Absence, TimeOffBalance};
        let absence = hris(
            Absence,
            json!({
                "id": "a1", "remote_id": "5", "employee_id": "e1", "type_id": "t1",
                "status": "APPROVED", "start_date": "2026-03-30", "end_date": "2026-04-02",
                "type": {"id": "t1"},
            }),
        );
        assert_eq!(
            (
                absence.candidate_id.as_deref(),
                absence.job_id.as_deref(),
                absence.status.as_deref(),
                absence.job_code.as_deref(),
                absence.post_url.as_deref()
            ),
            (
                Some("e1"),
                Some("t1"),
                Some("APPROVED"),
                Some("2026-03-30"),
                Some("2026-04-02")
            )
        );
        assert!(!absence.payload.contains("\"type\""), "{}", absence.payload);
        let balance = hris(
            TimeOffBalance,
            json!({"id": "b1", "remote_id": "19:3", "employee_id": "e1", "type_id": "t1", "type": {"id": "t1"}}),
        );
        assert_eq!(
            (balance.candidate_id.as_deref(), balance.job_id.as_deref()),
            (Some("e1"), Some("t1"))
        );
    }
}

#[cfg(test)]
mod hris_tests {
    use atsbridge_model::connector::Record;
    use atsbridge_model::ModelKind;
    use serde_json::{json, Value};

    use super::RecordInput;

    /// An employee keeps its group membership (which only the connector knows) as the nested
    /// part, as references; what mirrors other records leaves the payload, and so the hash.
    #[test]
    fn an_employee_keeps_its_groups_apart_and_drops_what_the_store_assembles() {
        let group = json!({"id": "g1", "remote_id": "39", "name": "Engineering", "type": "TEAM"});
        let employee = json!({
            "id": "e1", "remote_id": "5", "changed_at": "2026-06-15T00:00:00.000Z",
            "groups": [group], "teams": [group], "remote_data": {"/employees": {"id": 5}},
        });
        let input =
            RecordInput::from_owned(Record::Employee(serde_json::from_value(employee).unwrap()))
                .unwrap();
        assert_eq!(input.model, ModelKind::Employee);
        assert_eq!((input.id.as_str(), input.remote_id.as_str()), ("e1", "5"));
        let payload: Value = serde_json::from_str(&input.payload).unwrap();
        for key in [
            "groups",
            "teams",
            "employments",
            "time_off_balances",
            "manager",
            "changed_at",
        ] {
            assert!(payload.get(key).is_none(), "{key}");
        }
        assert_eq!(payload["remote_data"], json!({"/employees": {"id": 5}}));
        // Only the reference is kept: the group's name and type are the group's own.
        assert_eq!(
            serde_json::from_str::<Value>(input.nested.as_deref().unwrap()).unwrap(),
            json!([{"id": "g1", "remote_id": "39"}])
        );
        assert_eq!(input.job_id.as_deref(), Some("g1"));
    }

    #[test]
    fn a_balance_and_an_absence_leave_their_type_to_the_store() {
        let kind =
            json!({"id": "t1", "remote_id": "236", "changed_at": "2026-06-15T00:00:00.000Z"});
        let balance = json!({
            "id": "b1", "remote_id": "5:236", "employee_id": "e1", "type_id": "t1",
            "changed_at": "2026-06-15T00:00:00.000Z", "type": kind,
        });
        let input = RecordInput::from_record(&Record::TimeOffBalance(
            serde_json::from_value(balance).unwrap(),
        ))
        .unwrap();
        let payload: Value = serde_json::from_str(&input.payload).unwrap();
        assert!(payload.get("type").is_none());
        assert_eq!(payload["type_id"], "t1");
        let absence = json!({
            "id": "a1", "remote_id": "9", "employee_id": "e1", "type_id": "t1",
            "start_date": "2026-06-01", "changed_at": "2026-06-15T00:00:00.000Z", "type": null,
        });
        let input =
            RecordInput::from_record(&Record::Absence(serde_json::from_value(absence).unwrap()))
                .unwrap();
        assert_eq!(input.model, ModelKind::Absence);
        let payload: Value = serde_json::from_str(&input.payload).unwrap();
        assert!(payload.get("type").is_none());
        assert_eq!(payload["start_date"], "2026-06-01");
    }
}
