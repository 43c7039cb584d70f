//! A local, faithful fake of the Sage HR recruitment API for tests, the demo and benchmarks:
//! tenants by subdomain, the six recruitment endpoints with Sage HR's envelopes and errors, and
//! a control API under `/_sim/{subdomain}/...` for recruiter actions and injected faults.
//!
//! Owns: its own wire JSON, written from the Sage HR reference, not from the connector.
//! Must not import: any atsbridge crate. It is an independent implementation of a third-party
//! system; sharing wire types with the connector would hide the connector's mistakes.
//!
//! Empty until the simulator issue fills it.
#![forbid(unsafe_code)]
