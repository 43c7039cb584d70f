//! Retention: removing what atsbridge may no longer keep.
//!
//! Records deleted in the tool lose their personal and descriptive fields some time after
//! the deletion (`anonymize_deleted`), keeping what identifies them and when things
//! happened; finished outbox events, webhook deliveries, idempotency answers, connection
//! links and sync runs are purged by age (`purge`). Each call does one bounded batch, so the
//! SQLite writer is never held long; the caller (the sync crate's retention worker) repeats
//! until a batch comes back short. Backend-neutral; `sqlite::retention` and `pg::retention`
//! hold the SQL.

use atsbridge_model::Timestamp;
use serde_json::{Map, Value};

use crate::records::{canonical, digest_text};
use crate::{db, millis, pg, sqlite, Db, Result, Store, StoreError};

/// What `Store::purge` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purge {
    /// Outbox events created before the cutoff none of whose deliveries is still pending
    /// (an undelivered event is never purged), with their finished deliveries.
    Events,
    /// Delivered or failed webhook deliveries created before the cutoff.
    Deliveries,
    /// Idempotency answers (and abandoned claims) made before the cutoff.
    IdempotencyKeys,
    /// Connection links used or expired before the cutoff (and whose completion token, if
    /// any, has expired).
    ConnectLinks,
    /// Sync runs that ended before the cutoff, except each integration's latest run.
    Runs,
}

impl Purge {
    pub const ALL: [Purge; 5] = [
        Purge::Events,
        Purge::Deliveries,
        Purge::IdempotencyKeys,
        Purge::ConnectLinks,
        Purge::Runs,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purge::Events => "events",
            Purge::Deliveries => "deliveries",
            Purge::IdempotencyKeys => "idempotency_keys",
            Purge::ConnectLinks => "connect_links",
            Purge::Runs => "runs",
        }
    }
}

/// A deleted record due for anonymizing, as the engines read it.
#[derive(Debug)]
pub(crate) struct ToAnonymize {
    pub seq: i64,
    pub payload: String,
    pub nested: Option<String>,
}

/// What replaces a record's row: its payload, hash, nested part and nested hash.
#[derive(Debug)]
pub(crate) struct Anonymized {
    pub seq: i64,
    pub payload: String,
    pub hash: String,
    pub nested: Option<String>,
    pub nested_hash: Option<String>,
}

/// Whether a field of a record survives anonymizing: what identifies the record, the ids
/// of the records it belongs to (`candidate_id`, `employee_id`, …: Kombo's SDKs type some of
/// them as required, and they name no one), and when things happened to it (`*_at`);
/// nothing that describes a person or a job. `tax_id` is a personal number, not a reference.
fn kept(key: &str) -> bool {
    key == "id"
        || key == "remote_id"
        || (key.ends_with("_id") && key != "tax_id")
        || key.ends_with("_at")
}

/// A record's JSON with every field but the kept ones emptied: lists become `[]`,
/// `custom_fields` `{}` (their types in Kombo's schema), everything else `null`.
/// `remote_data` goes with the rest.
pub fn anonymize(payload: &Value) -> Value {
    let Some(object) = payload.as_object() else {
        return Value::Object(Map::new());
    };
    object
        .iter()
        .map(|(key, value)| {
            let value = if kept(key) {
                value.clone()
            } else {
                match value {
                    Value::Array(_) => Value::Array(Vec::new()),
                    Value::Object(_) if key == "custom_fields" => Value::Object(Map::new()),
                    _ => Value::Null,
                }
            };
            (key.clone(), value)
        })
        .collect()
}

impl ToAnonymize {
    pub(crate) fn anonymized(self) -> Result<Anonymized> {
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("a record's JSON: {e}"));
        let payload = canonical(&anonymize(
            &serde_json::from_str(&self.payload).map_err(corrupt)?,
        ));
        // A nested list (a job's stages) is emptied; a nested object is anonymized like
        // the record.
        let nested = match self.nested {
            None => None,
            Some(text) => Some(
                match serde_json::from_str::<Value>(&text).map_err(corrupt)? {
                    Value::Array(_) => "[]".to_owned(),
                    Value::Null => "null".to_owned(),
                    other => canonical(&anonymize(&other)),
                },
            ),
        };
        Ok(Anonymized {
            seq: self.seq,
            hash: digest_text(&payload),
            nested_hash: nested.as_deref().map(digest_text),
            payload,
            nested,
        })
    }
}

impl Store {
    /// Anonymizes up to `limit` records deleted in the tool before `deleted_before` and not
    /// anonymized yet; returns how many. Their `id`, `remote_id`, `changed_at`,
    /// `remote_deleted_at` and other timestamps stay; every other field of their JSON, their
    /// nested part and the columns filters use are emptied, and `anonymized_at` is set so
    /// they are not done again. `changed_at` and `updated_at` do not move: what the tool
    /// holds did not change (the record was deleted there, and its deletion was reported
    /// when it was seen), so a client polling with `updated_after` is not sent every
    /// deleted record again a fortnight later.
    pub async fn anonymize_deleted(
        &self,
        deleted_before: Timestamp,
        now: Timestamp,
        limit: i64,
    ) -> Result<u64> {
        const OPERATION: &str = "anonymizing deleted records";
        let (before, now) = (millis(deleted_before), millis(now));
        match &self.db {
            Db::Sqlite(s) => {
                s.write(OPERATION, move |tx| {
                    let due = sqlite::retention::to_anonymize(tx, before, limit)?;
                    let mut done = 0;
                    for record in due {
                        done += sqlite::retention::anonymize(tx, &record.anonymized()?, now)?;
                    }
                    Ok(done)
                })
                .await
            }
            Db::Postgres(p) => {
                let mut tx = p.begin().await.map_err(db(OPERATION))?;
                let due = pg::retention::to_anonymize(&mut tx, before, limit).await?;
                let mut done = 0;
                for record in due {
                    done += pg::retention::anonymize(&mut tx, &record.anonymized()?, now).await?;
                }
                tx.commit().await.map_err(db(OPERATION))?;
                Ok(done)
            }
        }
    }

    /// Removes up to `limit` rows of `what` older than `before` (see `Purge` for which
    /// count as old and finished); returns how many. `now` decides which completion tokens
    /// of connection links are still usable.
    pub async fn purge(
        &self,
        what: Purge,
        before: Timestamp,
        now: Timestamp,
        limit: i64,
    ) -> Result<u64> {
        let (before, now) = (millis(before), millis(now));
        match &self.db {
            Db::Sqlite(s) => {
                s.write("purging by age", move |tx| {
                    sqlite::retention::purge(tx, what, before, now, limit)
                })
                .await
            }
            Db::Postgres(p) => pg::retention::purge(p, what, before, now, limit).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn anonymizing_keeps_ids_and_times_and_empties_the_rest() {
        let candidate = json!({
            "id": "abc", "remote_id": "17", "first_name": "Ada", "last_name": "Lovelace",
            "email_addresses": [{"email_address": "ada@example.com", "type": "PRIVATE"}],
            "remote_created_at": "2026-01-01T00:00:00.000Z", "remote_updated_at": null,
            "custom_fields": {"Shoe size": 38}, "integration_fields": [{"id": "x"}],
            "remote_data": {"email": "ada@example.com"}, "confidential": true,
            "location": {"city": "London"}, "job_id": "j1", "tax_id": "TX1",
        });
        assert_eq!(
            super::anonymize(&candidate),
            json!({
                "id": "abc", "remote_id": "17", "first_name": null, "last_name": null,
                "email_addresses": [], "remote_created_at": "2026-01-01T00:00:00.000Z",
                "remote_updated_at": null, "custom_fields": {}, "integration_fields": [],
                "remote_data": null, "confidential": null, "location": null,
                "job_id": "j1", "tax_id": null,
            })
        );
    }

    #[test]
    fn a_nested_list_is_emptied_and_the_hashes_match_the_new_text() {
        let record = super::ToAnonymize {
            seq: 1,
            payload: r#"{"id":"j","name":"Chef","remote_id":"3"}"#.into(),
            nested: Some(r#"[{"id":"s","name":"Interview"}]"#.into()),
        }
        .anonymized()
        .unwrap();
        assert_eq!(record.payload, r#"{"id":"j","name":null,"remote_id":"3"}"#);
        assert_eq!(record.nested.as_deref(), Some("[]"));
        assert_eq!(record.hash, super::digest_text(&record.payload));
        assert_eq!(record.nested_hash, Some(super::digest_text("[]")));
    }
}
