//! Telling real deletions from records a paged read missed, for the HRIS models: each record
//! a complete read did not deliver is asked about by something a page shift cannot fake.
//!
//! - an employee: looked up by id (H2, else H4 for a terminated one);
//! - an employment or a balance: its employee's own list (H11, H17), which is not paged by
//!   the employees listing (a gone employee takes them along);
//! - a group or an absence type: a fresh listing (H12, H15; short, and H15 is not paged);
//! - an absence: a fresh listing of the days it was stored with (H18 matches on overlap).
//!
//! Any failure other than "does not exist" is an error (an answer without its list too),
//! and the caller then marks nothing.

use std::collections::{BTreeMap, BTreeSet};

use atsbridge_model::connector::{Confirmed, ConnectorError, ConnectorErrorKind as Kind, Missing};
use atsbridge_model::hris::PlainDate;
use atsbridge_model::ModelKind;
use time::Duration;

use super::mapping;
use super::read::data_list;
use super::SageHrHris;

impl SageHrHris {
    pub(crate) async fn confirm(&self, missing: &Missing) -> Result<Confirmed, ConnectorError> {
        let mut gone: BTreeMap<ModelKind, BTreeSet<String>> = BTreeMap::new();
        let asked = |model| missing.hris.get(&model).into_iter().flatten();

        // Employees, and the owners of missing employments and balances.
        let mut owners: BTreeSet<String> = asked(ModelKind::Employee).cloned().collect();
        for model in [ModelKind::Employment, ModelKind::TimeOffBalance] {
            owners.extend(asked(model).filter_map(|r| owner_of(r)).map(str::to_owned));
        }
        let mut existing: BTreeSet<String> = BTreeSet::new();
        for owner in &owners {
            if self.read_employee(owner).await?.is_some() {
                existing.insert(owner.clone());
            }
        }
        for r in asked(ModelKind::Employee).filter(|r| !existing.contains(*r)) {
            gone.entry(ModelKind::Employee)
                .or_default()
                .insert(r.clone());
        }

        // Employments and balances of employees that exist: their own lists.
        let mut employments: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
        for r in asked(ModelKind::Employment) {
            employments
                .entry(owner_of(r).unwrap_or(""))
                .or_default()
                .push(r);
        }
        for (owner, ids) in employments {
            let present = if existing.contains(owner) {
                let path = mapping::COMPENSATIONS_PATH.replace("{id}", owner);
                let rows = match self.list_all(&path, vec![]).await {
                    Ok((rows, _)) => rows,
                    Err(e) if e.kind == Kind::NotFound => vec![],
                    Err(e) => return Err(e),
                };
                let raw = serde_json::json!({"id": owner});
                mapping::employments(self.scope(), &raw, &rows)
                    .into_iter()
                    .filter_map(|e| e.remote_id)
                    .collect()
            } else {
                BTreeSet::new()
            };
            for r in ids.into_iter().filter(|r| !present.contains(*r)) {
                gone.entry(ModelKind::Employment)
                    .or_default()
                    .insert(r.clone());
            }
        }
        let mut balances: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
        for r in asked(ModelKind::TimeOffBalance) {
            balances
                .entry(owner_of(r).unwrap_or(""))
                .or_default()
                .push(r);
        }
        for (owner, ids) in balances {
            let present: BTreeSet<String> = if existing.contains(owner) {
                let path = mapping::BALANCES_PATH.replace("{id}", owner);
                match self.client().get_json(&path, &[]).await {
                    Ok(body) => data_list(&body, &path)?
                        .iter()
                        .filter_map(|b| mapping::text(b, "policy_id"))
                        .map(|policy| format!("{owner}:{policy}"))
                        .collect(),
                    Err(e) if e.kind == Kind::NotFound => BTreeSet::new(),
                    Err(e) => return Err(e),
                }
            } else {
                BTreeSet::new()
            };
            for r in ids.into_iter().filter(|r| !present.contains(*r)) {
                gone.entry(ModelKind::TimeOffBalance)
                    .or_default()
                    .insert(r.clone());
            }
        }

        // Groups and absence types: fresh listings.
        if asked(ModelKind::Group).next().is_some() {
            let (teams, _) = self.list_all(mapping::TEAMS_PATH, vec![]).await?;
            let present: BTreeSet<String> = teams
                .iter()
                .filter_map(|t| mapping::text(t, "id"))
                .collect();
            for r in asked(ModelKind::Group).filter(|r| !present.contains(*r)) {
                gone.entry(ModelKind::Group).or_default().insert(r.clone());
            }
        }
        if asked(ModelKind::AbsenceType).next().is_some() {
            let body = self.client().get_json(mapping::POLICIES_PATH, &[]).await?;
            let present: BTreeSet<String> = data_list(&body, mapping::POLICIES_PATH)?
                .iter()
                .filter_map(|p| mapping::text(p, "id"))
                .collect();
            for r in asked(ModelKind::AbsenceType).filter(|r| !present.contains(*r)) {
                gone.entry(ModelKind::AbsenceType)
                    .or_default()
                    .insert(r.clone());
            }
        }

        // Absences: the days each was stored with, listed again (one listing per distinct
        // window; a window never exceeds Sage HR's limit).
        let mut by_window: BTreeMap<(PlainDate, PlainDate), Vec<&String>> = BTreeMap::new();
        for (r, (first, last)) in &missing.absences {
            let last = PlainDate(
                last.0
                    .min(first.0 + Duration::days(super::read::WINDOW_DAYS - 1)),
            );
            by_window
                .entry((*first, last.max(*first)))
                .or_default()
                .push(r);
        }
        for ((from, to), ids) in by_window {
            let (requests, _) = self
                .list_all(
                    mapping::REQUESTS_PATH,
                    vec![("from", from.to_string()), ("to", to.to_string())],
                )
                .await?;
            let present: BTreeSet<String> = requests
                .iter()
                .filter_map(|r| mapping::text(r, "id"))
                .collect();
            for r in ids.into_iter().filter(|r| !present.contains(*r)) {
                gone.entry(ModelKind::Absence)
                    .or_default()
                    .insert(r.clone());
            }
        }
        Ok(Confirmed {
            hris_gone: gone,
            ..Confirmed::default()
        })
    }
}

/// The employee an employment (`<employee>:<start>…`) or balance (`<employee>:<policy>`)
/// belongs to, from its synthetic remote id.
fn owner_of(remote_id: &str) -> Option<&str> {
    remote_id.split_once(':').map(|(owner, _)| owner)
}
