//! The HTTP API: Kombo-compatible `/v1` routes (reads, writes, integrations, passthrough,
//! connect pages), authentication, Kombo's error envelope, rate limits and request ids.
//!
//! Owns: routing, extractors, the mapping of errors to Kombo codes and HTTP statuses.
//! Must not import: the CLI or the simulator; it reads through `atsbridge-store`, triggers
//! syncs through `atsbridge-sync` and writes through the connector trait.
//!
//! Empty until the read API issue fills it.
#![forbid(unsafe_code)]
