//! drsim's integration tests: one binary, one module per concern.

mod active_active;
mod browser;
mod bundled;
mod cli;
mod closed_forms;
mod common;
mod common_random_numbers;
mod compare;
mod conveniences;
mod determinism;
mod drill;
mod failure_library;
mod failure_modes;
mod horizon;
mod horizon_active_active;
mod input_errors;
mod intervals;
mod lint;
mod mechanisms;
mod pins;
mod shard;
mod slurm;
mod sweep;
mod trace;
