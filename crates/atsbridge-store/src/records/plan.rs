//! What a batch does to the stored records, decided from what is stored: which records are
//! inserted, rewritten, get new nested parts or stay as they are, and whose `updated_at`
//! moves because something nested in them changed. Backend-neutral; the engines look up
//! what is stored and carry the decisions out in one transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use atsbridge_model::ModelKind;

use crate::records::{BatchCounts, RecordInput};

/// What is stored of a record the batch holds.
#[derive(Debug, Clone)]
pub(crate) struct Existing {
    pub hash: String,
    pub nested_hash: Option<String>,
    pub deleted: bool,
    pub candidate_id: Option<String>,
    /// Whether the stored row lacks the candidate summary the record now has (rows written
    /// before summaries were stored).
    pub summary_missing: bool,
}

/// A batch's records by model, each once: a record listed twice in one batch (pages that
/// shifted under a listing) is stored once, as its last version.
pub(crate) fn latest_by_model(batch: &[RecordInput]) -> BTreeMap<ModelKind, Vec<&RecordInput>> {
    let mut last: HashMap<(ModelKind, &str), usize> = HashMap::with_capacity(batch.len());
    for (i, r) in batch.iter().enumerate() {
        last.insert((r.model, r.id.as_str()), i);
    }
    let mut by_model: BTreeMap<ModelKind, Vec<&RecordInput>> = BTreeMap::new();
    for (i, r) in batch.iter().enumerate() {
        if last[&(r.model, r.id.as_str())] == i {
            by_model.entry(r.model).or_default().push(r);
        }
    }
    by_model
}

/// The writes for one model's records.
#[derive(Debug, Default)]
pub(crate) struct ModelWrites<'a> {
    pub insert: Vec<&'a RecordInput>,
    /// Rewritten whole: their own payload changed, or they come back after a deletion.
    pub update: Vec<&'a RecordInput>,
    /// Only their nested part changed.
    pub nested: Vec<&'a RecordInput>,
    /// Unchanged, but stored without the summary they now have: it is filled in (nothing
    /// else is written, nothing moves).
    pub summary: Vec<&'a RecordInput>,
}

/// Whose `updated_at` moves after a batch, because something nested in them changed (Kombo's
/// `updated_after` rules: a candidate's applications, an application's candidate and
/// current stage; an employee's employments, time-off balances and manager, an absence's
/// and a balance's type).
#[derive(Debug, Default)]
pub(crate) struct Touches {
    /// Candidates by id.
    pub candidates: BTreeSet<String>,
    /// Applications by candidate id.
    pub applications_of_candidates: BTreeSet<String>,
    /// Applications by current stage id.
    pub applications_of_stages: BTreeSet<String>,
    /// Employees by id (their employments or balances changed).
    pub employees: BTreeSet<String>,
    /// Employees by their manager's id.
    pub employees_of_managers: BTreeSet<String>,
    /// Absences by absence type id.
    pub absences_of_types: BTreeSet<String>,
    /// Time-off balances by absence type id.
    pub balances_of_types: BTreeSet<String>,
}

impl Touches {
    /// Adds what embeds a record of `model` that changed or was deleted: the one place
    /// Kombo's nesting is written down. A candidate embeds its applications (so a changed
    /// application moves its candidate, given as `owner`); an application embeds its
    /// candidate and its current stage (so a changed candidate or stage `id` moves their
    /// applications). A job's stages are its nested part, hashed with it. An employee embeds
    /// its employments and balances (their `owner`) and its manager; absences and balances
    /// embed their type. An employee's group memberships are its own nested part, and a
    /// group's own change moves no employee (Kombo's rule).
    pub(crate) fn embedders_of(&mut self, model: ModelKind, id: &str, owner: Option<&str>) {
        match model {
            ModelKind::Application => self.candidates.extend(owner.map(str::to_owned)),
            ModelKind::Candidate => {
                self.applications_of_candidates.insert(id.to_owned());
            }
            ModelKind::ApplicationStage => {
                self.applications_of_stages.insert(id.to_owned());
            }
            ModelKind::Employment | ModelKind::TimeOffBalance => {
                self.employees.extend(owner.map(str::to_owned));
            }
            ModelKind::Employee => {
                self.employees_of_managers.insert(id.to_owned());
            }
            ModelKind::AbsenceType => {
                self.absences_of_types.insert(id.to_owned());
                self.balances_of_types.insert(id.to_owned());
            }
            ModelKind::Job | ModelKind::Group | ModelKind::Absence => {}
        }
    }

    /// Whether a changed record of `model` moves the record that owns it (its
    /// `candidate_id` column): then the owner must be read before a deletion.
    pub(crate) fn moves_owner(model: ModelKind) -> bool {
        matches!(
            model,
            ModelKind::Application | ModelKind::Employment | ModelKind::TimeOffBalance
        )
    }

    /// `(model, column, values)` for each touch an engine runs.
    pub(crate) fn each(&self) -> [(ModelKind, &'static str, &BTreeSet<String>); 7] {
        [
            (ModelKind::Candidate, "id", &self.candidates),
            (
                ModelKind::Application,
                "candidate_id",
                &self.applications_of_candidates,
            ),
            (
                ModelKind::Application,
                "current_stage_id",
                &self.applications_of_stages,
            ),
            (ModelKind::Employee, "id", &self.employees),
            // An employee's manager id is kept in this column (`input::hris_columns`).
            (
                ModelKind::Employee,
                "current_stage_id",
                &self.employees_of_managers,
            ),
            (ModelKind::Absence, "job_id", &self.absences_of_types),
            (ModelKind::TimeOffBalance, "job_id", &self.balances_of_types),
        ]
    }
}

/// Decides the writes for `records` (one model's, not stored by a first sync's insert
/// already) given what is stored of them, adding to `counts` and `touches`.
pub(crate) fn decide<'a>(
    model: ModelKind,
    records: &[&'a RecordInput],
    existing: &HashMap<String, Existing>,
    counts: &mut BatchCounts,
    touches: &mut Touches,
) -> ModelWrites<'a> {
    let m = model.as_str();
    let mut writes = ModelWrites::default();
    for &r in records {
        match existing.get(&r.id) {
            None => {
                writes.insert.push(r);
                *counts.inserted.entry(m).or_default() += 1;
            }
            Some(old) if old.hash != r.hash || old.deleted => {
                writes.update.push(r);
                *counts.updated.entry(m).or_default() += 1;
                if let Some(previous) = &old.candidate_id {
                    // A record that moved to another owner (an application to another
                    // candidate, an employment to another employee) changes both.
                    touches.embedders_of(model, "", Some(previous));
                }
            }
            Some(old) if old.nested_hash != r.nested_hash => {
                writes.nested.push(r);
                counts.touched += 1;
                *counts.unchanged.entry(m).or_default() += 1;
                continue;
            }
            Some(old) => {
                if old.summary_missing && r.summary.is_some() {
                    writes.summary.push(r);
                }
                *counts.unchanged.entry(m).or_default() += 1;
                continue;
            }
        }
        touches.embedders_of(model, &r.id, r.candidate_id.as_deref());
    }
    writes
}
