//! The Sage HR connector: an HTTP client for the recruitment endpoints of the Sage HR API
//! (`https://{subdomain}.sage.hr/api`, `X-Auth-Token`), the mapping of Sage HR positions and
//! applicants onto the unified model, and the Sage HR implementation of the connector trait.
//!
//! Owns: Sage HR wire types, retries and backoff, error classification into Kombo codes.
//! Must not import: the store, the sync engine, the server or the simulator — it depends on
//! `atsbridge-model` only, so a second ATS can be added beside it without touching it.
#![forbid(unsafe_code)]

pub mod client;
mod confirm;
pub mod connect;
pub mod connector;
pub mod descriptor;
pub mod descriptor_hris;
pub mod hris;
pub mod mapping;
mod read;
pub mod wire;
mod write;
pub use client::{Config, Credentials, RetryPolicy};
pub use connector::SageHr;
pub use hris::{HrisConfig, SageHrHris};
