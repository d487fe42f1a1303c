//! The discrete-event engine and the active-passive model it runs.
//!
//! Invariants: integer time only; events ordered by (time, insertion sequence);
//! every random draw comes from a per-purpose stream seeded by the run seed; no
//! I/O, no threads, no wall clock, no hash-map iteration.

mod active_active;
mod admission;
mod alerts;
mod connection;
pub mod event;
mod failover;
mod faults;
mod health;
mod horizon;
pub mod network;
mod paths;
pub mod queue;
mod replication;
pub mod trace;
mod workload;
pub mod world;

pub use trace::Trace;
pub use world::{RunError, World, simulate, simulate_traced};
