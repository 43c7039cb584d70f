//! The store's contract: every test runs against SQLite and, when `ATSBRIDGE_TEST_PG_URL` is
//! set (always in CI), against PostgreSQL.

mod harness;
mod smoke;
