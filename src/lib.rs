//! drsim: a deterministic discrete-event simulator of cross-datacenter
//! disaster-recovery architectures. See ARCHITECTURE.md for the module map.

pub mod base;
pub mod cli;
pub mod metrics;
pub mod model;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod shard;
pub mod sim;
pub mod sweep;
