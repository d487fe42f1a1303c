//! Monte Carlo: many independent runs of one scenario on a rayon pool. Run i's
//! seed comes from (master seed, i) only; results are collected in run order.
//! A study can also run only some of its work units (one shard of a cluster job).

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::base::rng::run_seed;
use crate::metrics::row::RunRow;
use crate::model::Scenario;
use crate::sim::{RunError, simulate};

/// A run that could not finish, with what it takes to reproduce it.
#[derive(Debug)]
pub struct RunFailure {
    pub run: u64,
    pub seed: u64,
    pub error: RunError,
}

impl std::fmt::Display for RunFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "run {} (seed {}) failed: {}",
            self.run, self.seed, self.error
        )
    }
}

impl std::error::Error for RunFailure {}

/// Runs `runs` simulations; `on_done` is called once per finished run (from any
/// thread, in any order) for progress reporting only.
pub fn monte_carlo(
    scenario: &Scenario,
    runs: u64,
    master_seed: u64,
    threads: usize,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<RunRow>, RunFailure> {
    let mut all = monte_carlo_many(&[scenario], runs, master_seed, threads, on_done)?;
    Ok(all.pop().unwrap_or_default())
}

/// Runs `runs` simulations of each scenario as one pool of work units
/// (scenario x run), so short studies keep every core busy. Run i of every
/// scenario has the same seed (common random numbers). Results come back per
/// scenario, in run order.
pub fn monte_carlo_many(
    scenarios: &[&Scenario],
    runs: u64,
    master_seed: u64,
    threads: usize,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<RunRow>>, RunFailure> {
    let units = Units {
        first: 0,
        step: 1,
        count: runs * scenarios.len() as u64,
    };
    let rows = run_units(scenarios, runs, master_seed, units, threads, on_done)?;
    let mut out: Vec<Vec<RunRow>> = (0..scenarios.len())
        .map(|_| Vec::with_capacity(runs as usize))
        .collect();
    for (u, row) in rows.into_iter().enumerate() {
        out[u / runs as usize].push(row);
    }
    Ok(out)
}

/// Work units first, first + step, first + 2 step, ... (`count` of them).
/// Unit u is run `u % runs` of scenario `u / runs`, so its seed depends on u
/// alone: a study split into shards (every N-th unit) reproduces exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Units {
    pub first: u64,
    pub step: u64,
    pub count: u64,
}

impl Units {
    /// The global index of the j-th unit of this set.
    pub fn nth(&self, j: u64) -> u64 {
        self.first + j * self.step
    }
}

/// Runs the given work units of (scenario x run); rows come back in unit order.
pub fn run_units(
    scenarios: &[&Scenario],
    runs: u64,
    master_seed: u64,
    units: Units,
    threads: usize,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<RunRow>, RunFailure> {
    let work = || {
        // The lowest unit known to have failed: units above it are skipped,
        // units below it always run, so the failure reported (the lowest)
        // does not depend on the thread count or scheduling.
        let lowest_failed = AtomicU64::new(u64::MAX);
        (0..units.count)
            .into_par_iter()
            .map(|j| {
                let u = units.nth(j);
                let (k, i) = ((u / runs) as usize, u % runs);
                let seed = run_seed(master_seed, i);
                if j > lowest_failed.load(Ordering::Relaxed) {
                    return Err(RunFailure {
                        run: i,
                        seed,
                        error: RunError::Cancelled,
                    });
                }
                let r = simulate(scenarios[k], i, seed).map_err(|error| RunFailure {
                    run: i,
                    seed,
                    error,
                });
                if r.is_err() {
                    lowest_failed.fetch_min(j, Ordering::Relaxed);
                }
                on_done();
                r
            })
            .collect::<Vec<_>>()
    };
    let results = if threads == 0 {
        work()
    } else {
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool.install(work),
            Err(_) => work(),
        }
    };
    // Report the lowest-indexed failure: every unit below it ran, and a
    // cancelled unit always lies above it.
    let mut out = Vec::with_capacity(results.len());
    let mut first_cancel = None;
    for r in results {
        match r {
            Ok(row) => out.push(row),
            Err(f) if matches!(f.error, RunError::Cancelled) => {
                first_cancel = first_cancel.or(Some(f))
            }
            Err(f) => return Err(f),
        }
    }
    match first_cancel {
        Some(f) => Err(f),
        None => Ok(out),
    }
}
