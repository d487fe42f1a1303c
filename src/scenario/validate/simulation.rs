//! `[simulation]`: horizon, run mode and limits of a run.

use crate::base::time::SimDuration;

use super::super::error::FieldPath;
use super::super::raw::*;
use super::checker::Checker;
use super::*;

pub(super) struct Simulation {
    pub horizon: SimDuration,
    pub horizon_requested: bool,
    pub per_write_window: Option<SimDuration>,
}

/// `[simulation]`.
pub(super) fn simulation(c: &mut Checker, raw: &RawScenario) -> Simulation {
    let root = FieldPath::root();
    let sim = root.key("simulation");
    let horizon = c.positive(sim.key("duration"), raw.simulation.duration);
    if raw.simulation.runs.is_some_and(|n| n > MAX_RUNS) {
        c.fail(
            sim.key("runs"),
            format!(
                "at most {MAX_RUNS} runs, got {}",
                raw.simulation.runs.unwrap_or(0)
            ),
        );
    }
    if raw.simulation.runs == Some(0) {
        c.fail(sim.key("runs"), "must be at least 1");
    }
    if raw.simulation.max_events == Some(0) {
        c.fail(sim.key("max_events"), "must be at least 1");
    }
    let horizon_requested = raw.simulation.mode == Some(RawRunMode::Horizon);
    if !horizon_requested {
        for (key, set) in [
            (
                "per_write_window",
                raw.simulation.per_write_window.is_some(),
            ),
            ("aggregate", raw.simulation.aggregate.is_some()),
        ] {
            if set {
                c.fail(
                    sim.key(key),
                    "applies only to horizon runs; add mode = \"horizon\" to [simulation] or remove it",
                );
            }
        }
    }
    let per_write_window = raw
        .simulation
        .per_write_window
        .map(|w| c.positive(sim.key("per_write_window"), w));
    Simulation {
        horizon,
        horizon_requested,
        per_write_window,
    }
}
