//! `drsim run`: Monte Carlo over one scenario, then the output folder.

use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::metrics::summary::summarize;
use crate::report::{self, output, table};
use crate::{runner, scenario};

use super::RunArgs;

pub fn execute(args: RunArgs) -> anyhow::Result<super::Outcome> {
    let scenario = scenario::load(&args.scenario)?;
    let text = std::fs::read(&args.scenario)
        .with_context(|| format!("reading {}", args.scenario.display()))?;
    let runs = args.study.runs.unwrap_or(u64::from(scenario.default_runs));
    let seed = args.study.seed.unwrap_or(scenario.default_seed);
    let out = args
        .study
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(sanitize(&scenario.name)));
    let threads = args.study.threads.unwrap_or(0) as usize;

    let bar = progress_bar(runs, args.study.quiet);
    let rows = runner::monte_carlo(&scenario, runs, seed, threads, &|| bar.inc(1))?;
    bar.finish_and_clear();

    let summary = summarize(&rows);
    let file = args.scenario.display().to_string();
    let reproduce = format!(
        "drsim run {} --runs {runs} --seed {seed} --out {}",
        shell_word(&file),
        shell_word(&out.display().to_string())
    );
    let files = [
        ("runs.csv", report::runs_csv(&rows)?),
        (
            "summary.json",
            report::summary_json(&scenario, &file, runs, seed, reproduce.clone(), &summary)?,
        ),
        ("scenario.toml", text),
    ];
    output::write_all(&out, &files)?;

    if !args.study.quiet {
        println!(
            "scenario {} ({}), {runs} runs, master seed {seed}",
            scenario.name, file
        );
        print!("{}", table::render(&summary, runs));
        println!(
            "wrote {}/runs.csv and summary.json; reproduce with: {reproduce}",
            out.display()
        );
    }
    Ok(super::Outcome::Passed)
}

fn progress_bar(runs: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    // indicatif hides itself when stderr is not a terminal.
    let bar = ProgressBar::with_draw_target(Some(runs), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} runs {pos}/{len} [{bar:30}] {percent}% eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// A file-name-safe version of a scenario name.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
