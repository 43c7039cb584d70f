//! The Sage HR connector against the simulator, over real HTTP on loopback.

mod confirm;
mod helpers;
mod read;
mod write;
