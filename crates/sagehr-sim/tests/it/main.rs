//! Integration tests of the simulator over real HTTP on a loopback port, one binary.

mod binary;
mod control;
mod endpoints;
mod faults;
mod generator;
mod helpers;
mod hooks;
mod hris;
mod hris_writes;
mod writes;
