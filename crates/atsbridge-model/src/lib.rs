//! The unified ATS model of atsbridge, shaped exactly like Kombo's API so that code written
//! against Kombo's SDKs works unchanged: the records (jobs, candidates, applications,
//! application stages) with their nested objects, the HRIS records (employees, employments,
//! groups, absences and their types, time-off balances; see [`hris`]), open and closed enums, the success, write and
//! error envelopes with every Kombo error code, the integration object, the bodies of the two
//! write actions with their validation rules, deterministic ids and the timestamp format.
//!
//! Owns: wire shapes and pure rules about them. Every key is serialized, null or not, because
//! Kombo's clients expect the full object.
//! Must not import: any other atsbridge crate, and no runtime crate (tokio, sqlx, axum,
//! reqwest, hyper, tower): every other crate builds on these types, so they stay pure data.
#![forbid(unsafe_code)]

pub mod application;
pub mod candidate;
pub mod common;
pub mod connector;
pub mod enums;
pub mod envelope;
pub mod error;
pub mod event;
pub mod hris;
pub mod id;
pub mod integration;
pub mod job;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod stage;
pub mod timestamp;
pub mod tool;
pub mod write;

pub use application::{Application, ApplicationCandidate, ApplicationCore, CreatedApplication};
pub use candidate::{Candidate, CandidateApplication, CandidateProfile};
pub use envelope::{
    DataResponse, ErrorBody, ErrorResponse, ListResponse, Page, Warning, WriteResponse,
};
pub use error::ErrorCode;
pub use event::{event_id, Event, EventIdOf};
pub use id::{record_id, user_id, IntegrationId, JobIdRef, ModelKind};
pub use job::Job;
pub use stage::{ApplicationStage, Stage};
pub use timestamp::Timestamp;
