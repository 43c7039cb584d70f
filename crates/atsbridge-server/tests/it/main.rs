//! The API over real HTTP on loopback, backed by a SQLite store synced from the simulator.

mod background;
mod connect;
mod connect_browser;
mod connect_hardening;
mod dashboard;
mod dashboard_browser;
mod deletion;
mod general_errors;
mod hardening_http;
mod helpers;
mod hris;
mod management;
mod metrics;
mod openapi;
mod reads;
mod webhooks;
mod writes;
