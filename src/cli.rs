//! Command-line interface: argument parsing and the commands. Progress bars
//! and terminal output live here, never in the engine.

mod run;
mod validate;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// drsim: a deterministic discrete-event simulator of cross-datacenter
/// disaster-recovery architectures.
///
/// It answers questions such as "with a 30 s health check, threshold 3 and a
/// 60 s DNS TTL, what is our RTO at p99, and how many acknowledged writes do we
/// lose when the primary datacenter burns?" by running a scenario file many
/// times (Monte Carlo) and summarising RTO, RPO, lost writes, replication lag
/// and write latency. The same scenario and seed always give byte-identical
/// results, whatever the number of threads.
#[derive(Parser, Debug)]
#[command(name = "drsim", version, about, long_about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario many times and summarise RTO, RPO, lag and latency.
    ///
    /// Writes runs.csv (one row per run), summary.json (statistics per metric,
    /// with the seed and scenario hash) and a copy of the scenario into the
    /// output folder, and prints a summary table.
    ///
    /// Example: drsim run scenarios/active-passive.toml --runs 1000 --seed 42 --out output/ap
    Run(RunArgs),
    /// Check scenario files and explain every problem found, with line and field.
    ///
    /// Example: drsim validate scenarios/*.toml
    Validate {
        /// Scenario files (TOML) to check.
        #[arg(required = true, value_name = "SCENARIO")]
        files: Vec<PathBuf>,
    },
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The scenario file (TOML); see docs/scenarios.md for its format.
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Number of Monte Carlo runs [default: simulation.runs in the file, else 100].
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub runs: Option<u64>,
    /// Master seed; run i uses a seed derived from (seed, i) [default: simulation.seed, else 1].
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Output folder [default: output/<scenario name>].
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (results do not depend on it) [default: all cores].
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// No progress bar and no summary table (errors are still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Runs the parsed command; the exit code is the caller's business.
pub fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(args) => run::execute(args),
        Command::Validate { files } => validate::execute(&files),
    }
}
