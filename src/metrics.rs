//! Measurement: the per-run recorder, the per-run row, and the cross-run summary.

pub mod compare;
pub mod recorder;
pub mod row;
pub mod summary;
pub mod targets;
