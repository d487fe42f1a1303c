//! Command-line interface: argument parsing and the commands. Progress bars
//! and terminal output live here, never in the engine.

mod compare;
mod drill;
mod init;
mod merge;
mod run;
mod study;
mod sweep;
mod trace;
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
    /// with the seed and scenario hash), targets.csv when the scenario states
    /// targets, plots and an index.html report into the output folder, and
    /// prints a summary table. Exit code: 0 when every target passes (or there
    /// are none), 2 when a target fails, 3 when one is undecided (more runs
    /// needed), 1 on errors.
    ///
    /// Example: drsim run scenarios/active-passive.toml --runs 1000 --seed 42 --out output/ap
    Run(RunArgs),
    /// Run several scenarios with common random numbers and compare them.
    ///
    /// Run i of every scenario sees the same random draws wherever the
    /// scenarios share those parts, so differences come from the architecture,
    /// not from luck. Writes comparison.csv (every metric per scenario, plus
    /// paired differences against the first scenario with confidence
    /// intervals), each scenario's runs, plots and index.html.
    ///
    /// Example: drsim compare scenarios/active-passive.toml scenarios/active-passive-semisync.toml --runs 500 --out output/cmp
    Compare(CompareArgs),
    /// Run a scenario over a grid of parameter values (cartesian product).
    ///
    /// Each --param is PATH=VALUES where PATH is a dotted field of the scenario
    /// file and VALUES is a list ("5s,10s,30s") or a range
    /// ("0.1s..10s:log:12", "1..5:lin:5"). Without --param, the grid comes from
    /// the scenario's [sweep] table. Every grid point uses the same run seeds.
    /// Exit code: as for run, over the targets of every grid point.
    ///
    /// Example: drsim sweep scenarios/active-passive.toml --param replication.interval=0.1s..10s:log:6 --runs 200
    Sweep(SweepArgs),
    /// Merge the shard folders of a study run on several machines.
    ///
    /// Each shard folder comes from `drsim run|compare|sweep ... --shard K/N
    /// --out DIR`. Merge checks that every shard 0..N-1 is there exactly once,
    /// that their manifests describe the same study (scenario hashes, runs,
    /// seed, parameters, drsim version) and that every work unit is present
    /// exactly once; then it writes the files the single-machine command would
    /// have written, byte for byte, provided --out is the same path as that
    /// command's --out (the folder appears in the reproduce line). On any
    /// problem it names what is wrong and writes nothing. Exit code: as the
    /// single-machine command's.
    ///
    /// Example: drsim merge shards/0 shards/1 shards/2 --out output/ap
    Merge(MergeArgs),
    /// Write the event log and a timeline of one run, to see why it went as it did.
    ///
    /// Example: drsim trace scenarios/active-passive.toml --run 3 --seed 42
    Trace(TraceArgs),
    /// Simulate a planned DR drill: fail the primary, fail over, restore, fail back.
    ///
    /// Replaces the scenario's failures with one outage of the primary (at a
    /// random moment of the health-check interval that starts at --fail-at,
    /// repaired after --restore-after), lets the repaired primary
    /// rejoin and resync, then fails back to it --failback-delay later. Over
    /// many runs it reports each step of the reference design's drill (check
    /// standby health, fail the primary, verify failover, verify service,
    /// restore, fail back): success rate with a 95% Wilson interval and
    /// simulated duration. Hybrid drills its whole active region (over to
    /// the standby region and back); active-active takes its busiest site
    /// out (restore and failback do not apply).
    /// Writes drill.csv (run x step), steps.csv, runs.csv, summary.json,
    /// a box plot and index.html. Exit code: 0 when it ran, 1 on errors.
    ///
    /// Example: drsim drill scenarios/active-passive.toml --runs 200 --restore-after 1h
    Drill(DrillArgs),
    /// Check scenario files and explain every problem found, with line and field.
    ///
    /// Example: drsim validate scenarios/*.toml
    Validate {
        /// Scenario files (TOML) to check.
        #[arg(required = true, value_name = "SCENARIO")]
        files: Vec<PathBuf>,
    },
    /// Write a commented scenario template to start from.
    ///
    /// Active-passive between two sites (us-east primary, eu-west standby)
    /// with a quorum witness in a third (us-west), every main table present
    /// and its defaults explained in comments. It validates and runs as is.
    /// Never overwrites an existing file (exit 1). Without FILE it prints the
    /// template on stdout.
    ///
    /// Example: drsim init my-scenario.toml && drsim run my-scenario.toml
    Init {
        /// Where to write the template [default: print it on stdout].
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Print the JSON Schema of the scenario format on stdout.
    ///
    /// Generated from the types the scenario file is read into: every table
    /// and field, their types, units (as patterns), allowed values and
    /// defaults. Point an editor at it for completion and checks as you type
    /// (see "Editor support" in docs/scenarios.md); `drsim validate` checks
    /// more (ranges, references between fields).
    ///
    /// Example: drsim schema > drsim.schema.json
    Schema,
    /// Print a shell completion script for drsim on stdout.
    ///
    /// Load it in the running shell, or install it where the shell looks for
    /// completions:
    ///
    ///   bash: drsim completions bash > ~/.local/share/bash-completion/completions/drsim
    ///
    ///   zsh:  drsim completions zsh > ~/.zfunc/_drsim  (with fpath+=~/.zfunc before compinit)
    ///
    ///   fish: drsim completions fish > ~/.config/fish/completions/drsim.fish
    ///
    /// Example: source <(drsim completions bash)
    Completions {
        /// The shell to complete for.
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

/// Options of every command that runs Monte Carlo runs.
#[derive(clap::Args, Debug, Clone)]
pub struct MonteCarloArgs {
    /// Number of Monte Carlo runs [default: simulation.runs in the file, else 100].
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub runs: Option<u64>,
    /// Master seed; run i uses a seed derived from (seed, i) [default: simulation.seed, else 1].
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Output folder [default: a folder under output/ named after the study].
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads (results do not depend on it) [default: all cores].
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// No progress bar and no summary table (errors are still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Replace the output folder even if it holds another study's files or
    /// files drsim did not write (the whole folder is replaced). Without it,
    /// only an absent or empty folder, or one written by an earlier run of
    /// the same command over the same scenarios, is replaced.
    #[arg(long)]
    pub force: bool,
}

/// Options shared by the commands that run Monte Carlo studies.
#[derive(clap::Args, Debug, Clone)]
pub struct StudyArgs {
    #[command(flatten)]
    pub mc: MonteCarloArgs,
    /// Run only shard K of N: the work units (run x scenario or grid point)
    /// whose index is K modulo N, and write their rows with a manifest for
    /// `drsim merge` instead of the report. `auto` takes K and N from a Slurm
    /// job array or a Kubernetes Indexed Job (see docs/cluster.md).
    #[arg(long, value_name = "K/N|auto")]
    pub shard: Option<crate::shard::ShardArg>,
    /// Print one JSON document on stdout instead of the summary table: the
    /// summary (as in summary.json) and the target verdicts (as in
    /// targets.csv), with the outcome and exit code. Progress stays on stderr;
    /// the output folder is written as usual.
    #[arg(long, conflicts_with = "shard")]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The scenario file (TOML); see docs/scenarios.md for its format.
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    #[command(flatten)]
    pub study: StudyArgs,
}

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// Two or more scenario files; the first is the baseline for paired differences.
    #[arg(value_name = "SCENARIO", num_args = 2.., required = true)]
    pub scenarios: Vec<PathBuf>,
    #[command(flatten)]
    pub study: StudyArgs,
}

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The scenario file to vary.
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// PATH=VALUES, e.g. replication.interval=0.1s..10s:log:12 or failover.health_check.interval=5s,10s,30s (repeatable).
    #[arg(long = "param", short = 'p', value_name = "PATH=VALUES")]
    pub params: Vec<String>,
    #[command(flatten)]
    pub study: StudyArgs,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Shard folders, in any order (e.g. shards/*).
    #[arg(value_name = "SHARD_DIR", required = true)]
    pub shards: Vec<PathBuf>,
    /// Output folder: the single-machine command's --out, for identical files
    /// [default: that command's default folder].
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No summary table (errors are still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print one JSON document on stdout (summary and verdicts) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Replace the output folder even if it holds another study's files or
    /// files drsim did not write (the whole folder is replaced). Without it,
    /// only an absent or empty folder, or one written by an earlier run of
    /// the same command over the same scenarios, is replaced.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args, Debug)]
pub struct DrillArgs {
    /// The scenario file (TOML): active-passive, with at least one standby.
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// When the primary is failed, from the start of each run (plus a
    /// uniform draw within one health-check interval).
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub fail_at: String,
    /// How long the primary stays down before it is repaired.
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    pub restore_after: String,
    /// Wait after the repaired primary's resync before failing back to it.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub failback_delay: String,
    #[command(flatten)]
    pub mc: MonteCarloArgs,
}

#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// The scenario file.
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Which Monte Carlo run to trace (its seed is derived from --seed and this index).
    #[arg(long, short = 'r', default_value_t = 0)]
    pub run: u64,
    /// Master seed [default: simulation.seed, else 1].
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Output folder [default: output/<scenario name>-trace-<run>].
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Event log format.
    #[arg(long, value_enum, default_value_t = TraceFormat::Csv)]
    pub format: TraceFormat,
    /// Replace the output folder even if it holds another study's files or
    /// files drsim did not write (the whole folder is replaced). Without it,
    /// only an absent or empty folder, or one written by an earlier run of
    /// the same command over the same scenarios, is replaced.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    Csv,
    Jsonl,
}

/// Why a study ended: decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Finished; every target passed or there were none.
    Passed,
    /// Finished; at least one target failed.
    TargetFailed,
    /// Finished; no target failed but at least one needs more runs.
    Undecided,
}

/// Runs the parsed command; the exit code is the caller's business.
pub fn execute(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Run(args) => run::execute(args),
        Command::Compare(args) => compare::execute(args),
        Command::Sweep(args) => sweep::execute(args),
        Command::Merge(args) => merge::execute(args),
        Command::Trace(args) => trace::execute(args).map(|()| Outcome::Passed),
        Command::Drill(args) => drill::execute(args).map(|()| Outcome::Passed),
        Command::Validate { files } => validate::execute(&files).map(|()| Outcome::Passed),
        Command::Init { file } => init::execute(file.as_deref()).map(|()| Outcome::Passed),
        Command::Schema => {
            let mut text = serde_json::to_string_pretty(&crate::scenario::raw::json_schema())?;
            text.push('\n');
            use std::io::Write as _;
            std::io::stdout().write_all(text.as_bytes())?;
            Ok(Outcome::Passed)
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "drsim", &mut std::io::stdout());
            Ok(Outcome::Passed)
        }
    }
}
