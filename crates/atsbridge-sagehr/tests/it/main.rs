//! The Sage HR connector against the simulator, over real HTTP on loopback.

mod confirm;
mod helpers;
mod hris;
mod read;
mod write;
