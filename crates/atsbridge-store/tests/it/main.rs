//! The store's contract: every test runs against SQLite and, when `ATSBRIDGE_TEST_PG_URL` is
//! set (always in CI), against PostgreSQL.

mod changes;
mod connect_links;
mod deletions;
mod filters;
mod filters_people;
mod fixtures;
mod gauges;
mod harness;
mod integrations;
mod keys_runs_events;
mod paging;
mod raw;
mod retention;
mod schema;
mod smoke;
mod upgrade;
mod webhooks;
