//! The simulator's data: tenants, their positions, stages, applicants, files, keys, faults and
//! request counters. All of it lives in memory behind one mutex per tenant.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use time::{Date, OffsetDateTime};

use crate::faults::FaultState;
use crate::hooks::HookState;
use crate::hris::{HrProfile, Hris};

/// The whole simulator: every tenant, addressed by subdomain.
#[derive(Debug, Clone, Default)]
pub struct Sim {
    tenants: Arc<RwLock<HashMap<String, Arc<Mutex<Tenant>>>>>,
}

impl Sim {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a tenant.
    pub fn insert_tenant(&self, tenant: Tenant) {
        let mut tenants = self.tenants.write().unwrap_or_else(|e| e.into_inner());
        tenants.insert(tenant.subdomain.clone(), Arc::new(Mutex::new(tenant)));
    }

    pub fn tenant(&self, subdomain: &str) -> Option<Arc<Mutex<Tenant>>> {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        tenants.get(subdomain).cloned()
    }

    pub fn subdomains(&self) -> Vec<String> {
        let tenants = self.tenants.read().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<String> = tenants.keys().cloned().collect();
        names.sort();
        names
    }
}

/// Locks a tenant; a panic in another request must not make the simulator unusable.
pub fn lock(tenant: &Mutex<Tenant>) -> MutexGuard<'_, Tenant> {
    tenant.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Employee {
    pub id: u64,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// The core-HR side (H1–H11); empty for employees that only recruitment knows about.
    pub hr: HrProfile,
}

impl Employee {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptionBlock {
    pub title: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub id: u64,
    pub title: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiringMember {
    pub employee_id: u64,
    pub role: String,
}

/// The five statuses Sage HR documents for a position.
pub const STATUSES: [&str; 5] = ["draft", "published", "internal", "completed", "cancelled"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub id: u64,
    pub title: String,
    pub status: String,
    pub created_at: Date,
    pub internal_date: Date,
    pub completed_at: Option<Date>,
    pub link: Option<String>,
    pub team: String,
    pub applicants_required: u32,
    pub employment_type: Option<String>,
    pub location: Option<String>,
    pub location_id: Option<u64>,
    pub group: String,
    pub group_id: u64,
    pub priority: u32,
    pub description_blocks: Vec<DescriptionBlock>,
    /// The pipeline, in order; the first stage receives new applicants.
    pub stages: Vec<Stage>,
    pub hiring_team: Vec<HiringMember>,
}

impl Position {
    /// Whether the position takes applicants (published on the careers page, or internal).
    pub fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "published" | "internal")
    }

    /// Whether hiring on the position has ended (completed or cancelled).
    pub fn is_closed(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "cancelled")
    }

    /// Sage HR's `visibility` label: the capitalised status.
    pub fn visibility(&self) -> String {
        let mut chars = self.status.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    }

    pub fn hired_stage(&self) -> Option<&Stage> {
        self.stages
            .iter()
            .rev()
            .find(|s| s.title.eq_ignore_ascii_case("hired"))
            .or_else(|| self.stages.last())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    pub id: u64,
    pub full_name: String,
    pub email: Option<String>,
    pub phone_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub action: String,
    pub message: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applicant {
    pub id: u64,
    pub position_id: u64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub address: Option<String>,
    pub summary: Option<String>,
    pub source: String,
    pub created_at: OffsetDateTime,
    pub disqualified_date: Option<Date>,
    pub hired_date: Option<Date>,
    pub stage_id: u64,
    pub added_by: Option<u64>,
    pub referrer: Option<Referrer>,
    /// Oldest first; R6 serves them newest first.
    pub actions: Vec<Action>,
}

impl Applicant {
    pub fn full_name(&self) -> String {
        match &self.last_name {
            Some(last) if !last.is_empty() => format!("{} {last}", self.first_name),
            _ => self.first_name.clone(),
        }
    }
}

/// A file received with a created applicant, as tests need to check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedFile {
    pub name: String,
    pub content_type: Option<String>,
    pub size: usize,
    pub sha256: String,
}

/// One Sage HR account.
#[derive(Debug)]
pub struct Tenant {
    pub subdomain: String,
    /// API key → the employee it belongs to (keys are per user in Sage HR).
    pub api_keys: HashMap<String, u64>,
    /// Keys that still exist but get 403 (their user lost admin rights, or an edge blocks them).
    pub forbidden_keys: BTreeSet<String>,
    pub employees: BTreeMap<u64, Employee>,
    pub positions: BTreeMap<u64, Position>,
    pub applicants: BTreeMap<u64, Applicant>,
    /// Applicant ids of each position, in creation order.
    pub by_position: BTreeMap<u64, Vec<u64>>,
    pub custom_sources: BTreeSet<String>,
    pub files: BTreeMap<u64, Vec<ReceivedFile>>,
    /// Deleted applicants and positions (with their applicants), for restoring.
    pub trash_applicants: BTreeMap<u64, Applicant>,
    pub trash_positions: BTreeMap<u64, (Position, Vec<Applicant>)>,
    pub faults: FaultState,
    /// Control actions waiting for the nth request to an endpoint.
    pub hooks: HookState,
    /// Requests received per endpoint (`GET /recruitment/positions`, …).
    pub stats: BTreeMap<String, u64>,
    /// API requests being served right now, and the most there ever were at once.
    pub in_flight: u64,
    pub max_in_flight: u64,
    pub next_id: u64,
    pub hris: Hris,
}

impl Tenant {
    pub fn new(subdomain: impl Into<String>) -> Self {
        Tenant {
            subdomain: subdomain.into(),
            api_keys: HashMap::new(),
            forbidden_keys: BTreeSet::new(),
            employees: BTreeMap::new(),
            positions: BTreeMap::new(),
            applicants: BTreeMap::new(),
            by_position: BTreeMap::new(),
            custom_sources: BTreeSet::new(),
            files: BTreeMap::new(),
            trash_applicants: BTreeMap::new(),
            trash_positions: BTreeMap::new(),
            faults: FaultState::default(),
            hooks: HookState::default(),
            stats: BTreeMap::new(),
            in_flight: 0,
            max_in_flight: 0,
            next_id: 1,
            hris: Hris::default(),
        }
    }

    /// Ids are unique across all kinds of a tenant's records, like database sequences that
    /// never collide in tests that mix them up.
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub fn applicants_count(&self, position_id: u64) -> usize {
        self.by_position.get(&position_id).map_or(0, Vec::len)
    }

    pub fn insert_applicant(&mut self, applicant: Applicant) {
        self.by_position
            .entry(applicant.position_id)
            .or_default()
            .push(applicant.id);
        self.applicants.insert(applicant.id, applicant);
    }

    /// Deletes an applicant (kept in the trash for `restore_applicant`).
    pub fn remove_applicant(&mut self, id: u64) -> Option<Applicant> {
        let applicant = self.applicants.remove(&id)?;
        if let Some(ids) = self.by_position.get_mut(&applicant.position_id) {
            ids.retain(|&other| other != id);
        }
        self.trash_applicants.insert(id, applicant.clone());
        Some(applicant)
    }

    /// Brings a deleted applicant back, with its id, if its position still exists.
    pub fn restore_applicant(&mut self, id: u64) -> Option<&Applicant> {
        let position = self.trash_applicants.get(&id)?.position_id;
        if !self.positions.contains_key(&position) {
            return None;
        }
        let applicant = self.trash_applicants.remove(&id)?;
        let ids = self.by_position.entry(position).or_default();
        // Back in creation order, where it was.
        let at = ids.partition_point(|&other| other < id);
        ids.insert(at, id);
        self.applicants.insert(id, applicant);
        self.applicants.get(&id)
    }

    /// Deletes a position with its applicants (kept in the trash for `restore_position`).
    pub fn remove_position(&mut self, id: u64) -> Option<Position> {
        let position = self.positions.remove(&id)?;
        let applicants = self
            .by_position
            .remove(&id)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|a| self.applicants.remove(&a))
            .collect();
        self.trash_positions
            .insert(id, (position.clone(), applicants));
        Some(position)
    }

    /// Brings a deleted position back with the applicants it had.
    pub fn restore_position(&mut self, id: u64) -> Option<&Position> {
        let (position, applicants) = self.trash_positions.remove(&id)?;
        self.positions.insert(id, position);
        for applicant in applicants {
            self.insert_applicant(applicant);
        }
        self.positions.get(&id)
    }

    /// The stage of a position by id, with its title.
    pub fn stage(&self, position_id: u64, stage_id: u64) -> Option<&Stage> {
        self.positions
            .get(&position_id)?
            .stages
            .iter()
            .find(|s| s.id == stage_id)
    }
}
