//! The foundation below the model and the engine: integer simulated time,
//! seeded portable random streams, and the distributions sampled from them.
//! Nothing here knows about scenarios, runs or reports.

pub mod dist;
pub mod rng;
pub mod time;
