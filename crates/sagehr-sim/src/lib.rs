//! A local, faithful fake of the Sage HR recruitment and core-HR (HRIS) APIs for tests, the
//! demo and benchmarks: tenants by subdomain, the six recruitment endpoints and the core-HR
//! endpoints H1–H18 with Sage HR's envelopes and errors, a seeded data generator, and a control
//! API under `/_sim/...` for recruiter and HR-admin actions, API keys, the tenant's "today" and
//! injected faults. See this crate's README for the API and the choices it makes where
//! Sage HR's documentation is silent.
//!
//! Owns: its own wire JSON, written from the Sage HR reference, not from the connector.
//! Must not import: any atsbridge crate. It is an independent implementation of a third-party
//! system; sharing wire types with the connector would hide the connector's mistakes.
#![forbid(unsafe_code)]

pub mod api;
pub mod control;
pub mod create;
pub mod faults;
pub mod generate;
pub mod hooks;
pub mod hris;
pub mod hris_api;
pub mod hris_control;
pub mod hris_gen;
pub mod render;
pub mod server;
pub mod state;

pub use generate::{generate, TenantConfig};
pub use server::{app, serve, spawn, Running};
pub use state::{Sim, Tenant};

/// A simulator with one generated tenant.
pub fn with_tenant(config: &TenantConfig) -> Sim {
    let sim = Sim::new();
    sim.insert_tenant(generate(config));
    sim
}
