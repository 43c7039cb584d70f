//! Hooks: recruiter actions applied at an exact point of a client's read. A test that needs
//! upstream data to change between two pages (a position deleted and another created while a
//! listing is paged) cannot time a control request against a client's concurrent requests;
//! a hook applies the change under the same lock that serves the request, so the outcome is
//! the same on every run.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::control::{self, bad_request, invalid, ControlError, PositionFields};
use crate::create::{self, NewApplicant};
use crate::state::Tenant;

/// The body of `POST /_sim/{subdomain}/hooks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookSpec {
    /// One of `api::ENDPOINTS`.
    pub endpoint: String,
    /// Which request to that endpoint, counted from when the hook is added, 1-based.
    pub nth: u64,
    /// Kept as JSON so the pending list shows them as they were given; parsed on add.
    pub actions: Vec<Value>,
}

/// One change a hook makes, each through the control API's own code path.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum HookAction {
    DeletePosition {
        id: u64,
    },
    CreatePosition {
        fields: PositionFields,
    },
    UpdatePosition {
        id: u64,
        fields: PositionFields,
    },
    DeleteApplicant {
        id: u64,
    },
    CreateApplicant {
        position_id: u64,
        fields: ApplicantFields,
    },
}

/// What R4 takes for an applicant, minus the file and the referral.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApplicantFields {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone_number: Option<String>,
    address: Option<String>,
    summary: Option<String>,
    source: Option<String>,
}

#[derive(Debug)]
struct Hook {
    endpoint: String,
    nth: u64,
    /// Requests to `endpoint` counted so far.
    seen: u64,
    raw: Vec<Value>,
    actions: Vec<HookAction>,
}

/// A tenant's hooks: those waiting for their request, and what the fired ones did.
#[derive(Debug, Default)]
pub struct HookState {
    pending: Vec<Hook>,
    fired: Vec<Value>,
}

impl HookSpec {
    /// Checks the spec and parses its actions; errors name the offending action by index.
    fn parse(self) -> Result<Hook, ControlError> {
        if !crate::api::ENDPOINTS.contains(&self.endpoint.as_str()) {
            return Err(bad_request(format!(
                "unknown endpoint `{}`; one of: {}",
                self.endpoint,
                crate::api::ENDPOINTS.join(", ")
            )));
        }
        if self.nth == 0 {
            return Err(invalid("`nth` counts from 1"));
        }
        if self.actions.is_empty() {
            return Err(invalid("`actions` must not be empty"));
        }
        let mut actions = Vec::with_capacity(self.actions.len());
        for (i, raw) in self.actions.iter().enumerate() {
            let action: HookAction = serde_json::from_value(raw.clone())
                .map_err(|e| bad_request(format!("action {i}: {e}")))?;
            if let HookAction::CreatePosition { fields } = &action {
                control::check_new_position(fields)
                    .map_err(|e| invalid(format!("action {i}: {}", e.message())))?;
            }
            actions.push(action);
        }
        Ok(Hook {
            endpoint: self.endpoint,
            nth: self.nth,
            seen: 0,
            raw: self.actions,
            actions,
        })
    }
}

impl HookState {
    pub fn add(&mut self, spec: HookSpec) -> Result<usize, ControlError> {
        self.pending.push(spec.parse()?);
        Ok(self.pending.len())
    }

    pub fn clear(&mut self) {
        self.pending.clear();
        self.fired.clear();
    }

    /// `{"pending": [...], "fired": N, "log": [...]}`: the log has what each fired hook's
    /// actions did (`id` of what they touched or created, or `error`), oldest first.
    pub fn view(&self) -> Value {
        let pending: Vec<Value> = self
            .pending
            .iter()
            .map(
                |h| json!({"endpoint": h.endpoint, "nth": h.nth, "seen": h.seen, "actions": h.raw}),
            )
            .collect();
        json!({"pending": pending, "fired": self.fired.len(), "log": self.fired})
    }

    /// Counts a request to `endpoint` against every pending hook and takes out those due
    /// now, in the order they were added.
    fn due(&mut self, endpoint: &str) -> Vec<Hook> {
        let mut due = Vec::new();
        let mut i = 0;
        while i < self.pending.len() {
            let hook = &mut self.pending[i];
            if hook.endpoint == endpoint {
                hook.seen += 1;
                if hook.seen >= hook.nth {
                    due.push(self.pending.remove(i));
                    continue;
                }
            }
            i += 1;
        }
        due
    }
}

/// Applies the hooks due at this request to `endpoint`, before it is served. A failing action
/// (say, deleting a position that is already gone) is logged and the others still run: the
/// request must be served either way.
pub fn on_request(t: &mut Tenant, endpoint: &str) {
    if t.hooks.pending.is_empty() {
        return;
    }
    for hook in t.hooks.due(endpoint) {
        let results: Vec<Value> = hook.actions.into_iter().map(|a| run(t, a)).collect();
        let entry = json!({"endpoint": hook.endpoint, "nth": hook.nth, "results": results});
        tracing::info!(hook = %entry, "hook fired");
        t.hooks.fired.push(entry);
    }
}

fn run(t: &mut Tenant, action: HookAction) -> Value {
    let outcome = match action {
        HookAction::DeletePosition { id } => control::delete_position(t, id)
            .map(|()| json!({"op": "delete_position", "id": id}))
            .map_err(|e| ("delete_position", e.message().to_owned())),
        HookAction::CreatePosition { fields } => control::create_position(t, fields)
            .map(|id| json!({"op": "create_position", "id": id}))
            .map_err(|e| ("create_position", e.message().to_owned())),
        HookAction::UpdatePosition { id, fields } => control::update_position(t, id, fields)
            .map(|()| json!({"op": "update_position", "id": id}))
            .map_err(|e| ("update_position", e.message().to_owned())),
        HookAction::DeleteApplicant { id } => control::delete_applicant(t, id)
            .map(|()| json!({"op": "delete_applicant", "id": id}))
            .map_err(|e| ("delete_applicant", e.message().to_owned())),
        HookAction::CreateApplicant {
            position_id,
            fields,
        } => {
            let mut new = NewApplicant::default();
            new.first_name = fields.first_name;
            new.last_name = fields.last_name;
            new.email = fields.email;
            new.phone_number = fields.phone_number;
            new.address = fields.address;
            new.summary = fields.summary;
            new.source = fields.source;
            // Added through the API by the account's admin, as R4 with the admin's key.
            let admin = t.employees.keys().next().copied();
            create::create_applicant(t, position_id, new, admin)
                .map(|id| json!({"op": "create_applicant", "id": id, "position_id": position_id}))
                .map_err(|e| ("create_applicant", e.describe()))
        }
    };
    outcome.unwrap_or_else(|(op, error)| {
        tracing::warn!(op, %error, "hook action failed");
        json!({"op": op, "error": error})
    })
}
