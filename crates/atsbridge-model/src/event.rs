//! The events atsbridge announces: one enum, the single shape every producer builds and the
//! outbox stores, and the webhook payloads Kombo's SDKs parse.
//!
//! The outbox keeps an event as its `type` (`Event::kind`) and its `data` (`Event::payload`),
//! the adjacent form serde reads back with `Event::from_stored`. Every kind but
//! `sync-finished` is sent as stored; the outbox's `sync-finished` also lists the models the run
//! changed, and becomes a `data-changed` webhook (when that list is not empty) and Kombo's
//! `sync-finished` (`SyncFinished::webhook_data`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::enums::closed_enum;
use crate::integration::{Category, EndUser, IntegrationStatus, SetupStatus};
use crate::timestamp::Timestamp;

closed_enum!(
    /// How a sync run ended, as `sync-finished` says it.
    SyncState {
        Succeeded => "SUCCEEDED",
        Cancelled => "CANCELLED",
        Failed => "FAILED",
        PartiallyFailed => "PARTIALLY_FAILED",
        AuthenticationFailed => "AUTHENTICATION_FAILED",
        TimedOut => "TIMED_OUT",
    }
);

closed_enum!(
    /// `integration-state-changed`'s `qa_status`; atsbridge has no QA step, so it is always
    /// `PASSED`.
    QaStatus {
        Pending => "PENDING",
        Failed => "FAILED",
        Passed => "PASSED",
    }
);

/// An event, as the outbox stores it and (but for `sync-finished`) as its webhook sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "data")]
pub enum Event {
    /// One per sync run, with the models it changed; see the module docs.
    #[serde(rename = "sync-finished")]
    SyncFinished(SyncFinished),
    /// Data changed outside a sync run (an API write).
    #[serde(rename = "data-changed")]
    DataChanged(DataChanged),
    #[serde(rename = "integration-created")]
    IntegrationCreated(IntegrationCreated),
    #[serde(rename = "integration-deleted")]
    IntegrationDeleted(IntegrationDeleted),
    #[serde(rename = "integration-state-changed")]
    IntegrationStateChanged(IntegrationStateChanged),
    #[serde(rename = "connection-flow-failed")]
    ConnectionFlowFailed(ConnectionFlowFailed),
}

/// The webhook event types atsbridge sends, each the `type` of one webhook.
pub const WEBHOOK_TYPES: &[&str] = &[
    "data-changed",
    "sync-finished",
    "integration-created",
    "integration-deleted",
    "integration-state-changed",
    "connection-flow-failed",
];

/// The outbox's `sync-finished`: Kombo's fields (but `log_url`) and the models the run changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncFinished {
    pub sync_id: String,
    pub sync_state: SyncState,
    pub sync_started_at: Timestamp,
    /// `None` in rows that did not record it; the webhook then says when the event was made.
    pub sync_ended_at: Option<Timestamp>,
    pub sync_duration_seconds: u64,
    pub integration_id: String,
    pub integration_tool: String,
    pub integration_category: Category,
    pub end_user: EndUser,
    /// The stored models with inserted, updated or deleted records, sorted.
    pub changed_models: BTreeSet<String>,
    /// The run's dashboard page; empty when the server's address was not known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub log_url: String,
}

/// Kombo's `sync-finished` webhook data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncFinishedData {
    pub sync_id: String,
    pub sync_state: SyncState,
    pub sync_started_at: Timestamp,
    pub sync_ended_at: Timestamp,
    pub sync_duration_seconds: u64,
    pub integration_id: String,
    pub integration_tool: String,
    pub integration_category: Category,
    pub end_user: EndUser,
    /// The run's page on the operator dashboard (`<public url>/dashboard/runs/<sync_id>`);
    /// empty when the server's address was not known when the run ended.
    pub log_url: String,
}

impl SyncFinished {
    /// The `sync-finished` webhook's data; `made_at` (when the event was written) stands in for
    /// a missing end.
    pub fn webhook_data(&self, made_at: Timestamp) -> SyncFinishedData {
        SyncFinishedData {
            sync_id: self.sync_id.clone(),
            sync_state: self.sync_state,
            sync_started_at: self.sync_started_at,
            sync_ended_at: self.sync_ended_at.unwrap_or(made_at),
            sync_duration_seconds: self.sync_duration_seconds,
            integration_id: self.integration_id.clone(),
            integration_tool: self.integration_tool.clone(),
            integration_category: self.integration_category,
            end_user: self.end_user.clone(),
            log_url: self.log_url.clone(),
        }
    }

    /// The `data-changed` webhook's data, naming `changed_models`.
    pub fn data_changed(&self, changed_models: impl IntoIterator<Item = String>) -> DataChanged {
        DataChanged {
            integration_id: self.integration_id.clone(),
            integration_tool: self.integration_tool.clone(),
            integration_category: self.integration_category,
            changed_models: changed_models
                .into_iter()
                .map(|name| ChangedModel { name })
                .collect(),
        }
    }
}

/// `data-changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataChanged {
    pub integration_id: String,
    pub integration_tool: String,
    pub integration_category: Category,
    pub changed_models: Vec<ChangedModel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangedModel {
    pub name: String,
}

/// `integration-created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntegrationCreated {
    pub id: String,
    pub tool: String,
    pub category: Category,
    pub end_user: EndUser,
}

/// `integration-deleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntegrationDeleted {
    pub id: String,
    pub tool: String,
    pub category: Category,
    pub end_user: EndUser,
    pub deleted_at: Timestamp,
}

/// `integration-state-changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IntegrationStateChanged {
    pub integration_tool: String,
    pub integration_id: String,
    pub integration_category: Category,
    pub end_user: EndUser,
    pub qa_status: QaStatus,
    pub setup_status: SetupStatus,
    pub state: IntegrationStatus,
    pub updated_at: Timestamp,
}

/// `connection-flow-failed`: a connect link's first failed attempt, before or without an
/// integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionFlowFailed {
    pub integration_tool: String,
    pub integration_category: Category,
    pub end_user: EndUser,
    pub log_url: String,
}

/// An outbox row that is not an event of this version.
#[derive(Debug, thiserror::Error)]
#[error("outbox event `{kind}` cannot be read: {reason}")]
pub struct EventError {
    pub kind: String,
    pub reason: String,
}

impl Event {
    /// The event's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::SyncFinished(_) => "sync-finished",
            Event::DataChanged(_) => "data-changed",
            Event::IntegrationCreated(_) => "integration-created",
            Event::IntegrationDeleted(_) => "integration-deleted",
            Event::IntegrationStateChanged(_) => "integration-state-changed",
            Event::ConnectionFlowFailed(_) => "connection-flow-failed",
        }
    }

    /// The event's `data`, as the outbox stores it.
    pub fn payload(&self) -> Value {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut o)) => o.remove("data").unwrap_or(Value::Null),
            // Plain structs of strings, numbers and lists always serialize to an object.
            _ => Value::Null,
        }
    }

    /// The event an outbox row of `kind` with `payload` holds.
    pub fn from_stored(kind: &str, payload: Value) -> Result<Event, EventError> {
        let mut tagged = serde_json::Map::new();
        tagged.insert("type".into(), Value::String(kind.to_owned()));
        tagged.insert("data".into(), payload);
        serde_json::from_value(Value::Object(tagged)).map_err(|e| EventError {
            kind: kind.to_owned(),
            reason: e.to_string(),
        })
    }

    /// The integration the event is about, where its data names one.
    pub fn integration_id(&self) -> Option<&str> {
        match self {
            Event::SyncFinished(e) => Some(&e.integration_id),
            Event::DataChanged(e) => Some(&e.integration_id),
            Event::IntegrationCreated(e) => Some(&e.id),
            Event::IntegrationDeleted(e) => Some(&e.id),
            Event::IntegrationStateChanged(e) => Some(&e.integration_id),
            Event::ConnectionFlowFailed(_) => None,
        }
    }

    /// The webhook types the event is sent as, in sending order: a `sync-finished` that
    /// changed models is `data-changed` then `sync-finished`; every other event is itself.
    pub fn webhook_types(&self) -> &'static [&'static str] {
        match self {
            Event::SyncFinished(s) if !s.changed_models.is_empty() => {
                &["data-changed", "sync-finished"]
            }
            Event::SyncFinished(_) => &["sync-finished"],
            Event::DataChanged(_) => &["data-changed"],
            Event::IntegrationCreated(_) => &["integration-created"],
            Event::IntegrationDeleted(_) => &["integration-deleted"],
            Event::IntegrationStateChanged(_) => &["integration-state-changed"],
            Event::ConnectionFlowFailed(_) => &["connection-flow-failed"],
        }
    }
}

/// Where an event id comes from.
#[derive(Debug, Clone, Copy)]
pub enum EventIdOf<'a> {
    /// A new outbox event; `entropy` is random (the caller draws it: this crate has no
    /// randomness). A `sync-finished` is named after its run instead, so a run announced
    /// twice (finished and recorded as abandoned) cannot make two events.
    Outbox { event: &'a Event, entropy: u64 },
    /// Webhook event `webhook_type` made from outbox event `outbox_id` of `outbox_type`: the
    /// outbox id itself when the types match, else derived from both, so every retry of a
    /// delivery carries the same id.
    Webhook {
        outbox_id: &'a str,
        outbox_type: &'a str,
        webhook_type: &'a str,
    },
}

/// Every event id atsbridge makes: `evt_` and hex digits.
pub fn event_id(of: EventIdOf<'_>) -> String {
    match of {
        EventIdOf::Outbox {
            event: Event::SyncFinished(s),
            ..
        } => format!("evt_{}", s.sync_id.trim_start_matches("sync_")),
        EventIdOf::Outbox { entropy, .. } => format!("evt_{entropy:016x}"),
        EventIdOf::Webhook {
            outbox_id,
            outbox_type,
            webhook_type,
        } => {
            if webhook_type == outbox_type {
                return outbox_id.to_owned();
            }
            let digest = Sha256::digest(format!("{outbox_id}\n{webhook_type}").as_bytes());
            let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
            format!("evt_{hex}")
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn acme() -> EndUser {
        EndUser {
            organization_name: "Acme".into(),
            creator_email: Some("it@acme.test".into()),
            origin_id: None,
        }
    }

    fn acme_json() -> Value {
        json!({"organization_name": "Acme", "creator_email": "it@acme.test", "origin_id": null})
    }

    fn sync_finished(changed: &[&str], ended: Option<&str>) -> SyncFinished {
        SyncFinished {
            sync_id: "sync_0123456789abcdef".into(),
            sync_state: SyncState::Succeeded,
            sync_started_at: at("2023-11-14T22:13:10.000Z"),
            sync_ended_at: ended.map(at),
            sync_duration_seconds: 10,
            integration_id: "sagehr:x".into(),
            integration_tool: "sagehr".into(),
            integration_category: Category::Ats,
            end_user: acme(),
            changed_models: changed.iter().map(|m| (*m).to_owned()).collect(),
            log_url: String::new(),
        }
    }

    /// Serializes, checks kind and payload against what the producers wrote before the enum
    /// (pinned), and reads the stored form back.
    fn pin(event: Event, kind: &str, payload: Value) {
        assert_eq!(event.kind(), kind);
        assert_eq!(event.payload(), payload);
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"type": kind, "data": payload})
        );
        assert_eq!(Event::from_stored(kind, payload).unwrap(), event);
    }

    #[test]
    fn sync_finished_is_stored_with_its_changed_models() {
        pin(
            Event::SyncFinished(sync_finished(
                &["ats_jobs", "ats_applications"],
                Some("2023-11-14T22:13:20.000Z"),
            )),
            "sync-finished",
            json!({
                "sync_id": "sync_0123456789abcdef",
                "sync_state": "SUCCEEDED",
                "sync_started_at": "2023-11-14T22:13:10.000Z",
                "sync_ended_at": "2023-11-14T22:13:20.000Z",
                "sync_duration_seconds": 10,
                "integration_id": "sagehr:x",
                "integration_tool": "sagehr",
                "integration_category": "ATS",
                "end_user": acme_json(),
                "changed_models": ["ats_applications", "ats_jobs"],
            }),
        );
        // An end that was not recorded is stored as null.
        assert_eq!(
            Event::SyncFinished(sync_finished(&[], None)).payload()["sync_ended_at"],
            Value::Null
        );
    }

    #[test]
    fn sync_finished_webhook_data_is_kombos_shape() {
        let s = sync_finished(&["ats_jobs"], None);
        let made_at = at("2023-11-14T22:13:21.000Z");
        assert_eq!(
            serde_json::to_value(s.webhook_data(made_at)).unwrap(),
            json!({
                "sync_id": "sync_0123456789abcdef",
                "sync_state": "SUCCEEDED",
                "sync_started_at": "2023-11-14T22:13:10.000Z",
                "sync_ended_at": "2023-11-14T22:13:21.000Z",
                "sync_duration_seconds": 10,
                "integration_id": "sagehr:x",
                "integration_tool": "sagehr",
                "integration_category": "ATS",
                "end_user": acme_json(),
                "log_url": "",
            })
        );
        assert_eq!(
            serde_json::to_value(s.data_changed(["ats_jobs".to_owned()])).unwrap(),
            json!({
                "integration_id": "sagehr:x",
                "integration_tool": "sagehr",
                "integration_category": "ATS",
                "changed_models": [{"name": "ats_jobs"}],
            })
        );
    }

    #[test]
    fn data_changed_names_models() {
        pin(
            Event::DataChanged(DataChanged {
                integration_id: "sagehr:x".into(),
                integration_tool: "sagehr".into(),
                integration_category: Category::Ats,
                changed_models: vec![
                    ChangedModel {
                        name: "ats_applications".into(),
                    },
                    ChangedModel {
                        name: "ats_candidates".into(),
                    },
                ],
            }),
            "data-changed",
            json!({
                "integration_id": "sagehr:x",
                "integration_tool": "sagehr",
                "integration_category": "ATS",
                "changed_models": [{"name": "ats_applications"}, {"name": "ats_candidates"}],
            }),
        );
    }

    #[test]
    fn integration_created() {
        pin(
            Event::IntegrationCreated(IntegrationCreated {
                id: "sagehr:x".into(),
                tool: "sagehr".into(),
                category: Category::Ats,
                end_user: acme(),
            }),
            "integration-created",
            json!({"id": "sagehr:x", "tool": "sagehr", "category": "ATS", "end_user": acme_json()}),
        );
    }

    #[test]
    fn integration_deleted() {
        pin(
            Event::IntegrationDeleted(IntegrationDeleted {
                id: "sagehr:x".into(),
                tool: "sagehr".into(),
                category: Category::Ats,
                end_user: acme(),
                deleted_at: at("2024-01-02T03:04:05.678Z"),
            }),
            "integration-deleted",
            json!({
                "id": "sagehr:x",
                "tool": "sagehr",
                "category": "ATS",
                "end_user": acme_json(),
                "deleted_at": "2024-01-02T03:04:05.678Z",
            }),
        );
    }

    #[test]
    fn integration_state_changed() {
        pin(
            Event::IntegrationStateChanged(IntegrationStateChanged {
                integration_tool: "sagehr".into(),
                integration_id: "sagehr:x".into(),
                integration_category: Category::Ats,
                end_user: acme(),
                qa_status: QaStatus::Passed,
                setup_status: SetupStatus::Completed,
                state: IntegrationStatus::Invalid,
                updated_at: at("2024-01-02T03:04:05.678Z"),
            }),
            "integration-state-changed",
            json!({
                "integration_tool": "sagehr",
                "integration_id": "sagehr:x",
                "integration_category": "ATS",
                "end_user": acme_json(),
                "qa_status": "PASSED",
                "setup_status": "COMPLETED",
                "state": "INVALID",
                "updated_at": "2024-01-02T03:04:05.678Z",
            }),
        );
    }

    #[test]
    fn connection_flow_failed() {
        pin(
            Event::ConnectionFlowFailed(ConnectionFlowFailed {
                integration_tool: "sagehr".into(),
                integration_category: Category::Ats,
                end_user: EndUser {
                    organization_name: "Acme".into(),
                    creator_email: None,
                    origin_id: Some("acme-1".into()),
                },
                log_url: String::new(),
            }),
            "connection-flow-failed",
            json!({
                "integration_tool": "sagehr",
                "integration_category": "ATS",
                "end_user": {"organization_name": "Acme", "creator_email": null, "origin_id": "acme-1"},
                "log_url": "",
            }),
        );
    }

    #[test]
    fn unknown_or_malformed_rows_are_errors() {
        assert!(Event::from_stored("nonsense", json!({})).is_err());
        assert!(Event::from_stored("integration-deleted", json!({"id": "x"})).is_err());
    }

    #[test]
    fn webhook_types_follow_the_event() {
        let changed = Event::SyncFinished(sync_finished(&["ats_jobs"], None));
        assert_eq!(changed.webhook_types(), ["data-changed", "sync-finished"]);
        let unchanged = Event::SyncFinished(sync_finished(&[], None));
        assert_eq!(unchanged.webhook_types(), ["sync-finished"]);
        for t in unchanged.webhook_types() {
            assert!(WEBHOOK_TYPES.contains(t));
        }
    }

    #[test]
    fn event_ids() {
        let run = Event::SyncFinished(sync_finished(&[], None));
        assert_eq!(
            event_id(EventIdOf::Outbox {
                event: &run,
                entropy: 1
            }),
            "evt_0123456789abcdef"
        );
        let other = Event::IntegrationCreated(IntegrationCreated {
            id: "sagehr:x".into(),
            tool: "sagehr".into(),
            category: Category::Ats,
            end_user: acme(),
        });
        assert_eq!(
            event_id(EventIdOf::Outbox {
                event: &other,
                entropy: 0xab
            }),
            "evt_00000000000000ab"
        );
        let webhook = |outbox_id, webhook_type| {
            event_id(EventIdOf::Webhook {
                outbox_id,
                outbox_type: "sync-finished",
                webhook_type,
            })
        };
        assert_eq!(webhook("evt_1", "sync-finished"), "evt_1");
        let derived = webhook("evt_1", "data-changed");
        // Pinned: the id the previous version gave this webhook event.
        assert_eq!(derived, "evt_597b755c4e0be346d8c08e04");
        assert_ne!(derived, webhook("evt_2", "data-changed"));
    }
}
