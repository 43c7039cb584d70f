//! The API over real HTTP on loopback, backed by a SQLite store synced from the simulator.

mod helpers;
mod management;
mod reads;
mod webhooks;
mod writes;
