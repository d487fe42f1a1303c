//! What the study commands (run, compare, sweep) share: resolving options,
//! the progress bar, running Monte Carlo, targets and figures for the report.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::metrics::row::RunRow;
use crate::metrics::targets::{TargetResult, Verdict, evaluate};
use crate::model::Scenario;
use crate::report::html::Page;
use crate::report::plot::{self, Chart};
use crate::runner;

use super::{Outcome, StudyArgs};

/// Runs, master seed and threads for a study, from the flags or the scenario.
pub struct Plan {
    pub runs: u64,
    pub seed: u64,
    pub threads: usize,
}

pub fn plan(args: &StudyArgs, scenario: &Scenario) -> Plan {
    Plan {
        runs: args.runs.unwrap_or(u64::from(scenario.default_runs)),
        seed: args.seed.unwrap_or(scenario.default_seed),
        threads: args.threads.unwrap_or(0) as usize,
    }
}

/// A progress bar on stderr with ETA; hidden with --quiet or when stderr is
/// not a terminal (indicatif checks).
pub fn progress_bar(total: u64, quiet: bool, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template =
        format!("{{spinner}} {what} {{pos}}/{{len}} [{{bar:30}}] {{percent}}% eta {{eta}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub fn monte_carlo(
    scenario: &Scenario,
    plan: &Plan,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<RunRow>> {
    Ok(runner::monte_carlo(
        scenario,
        plan.runs,
        plan.seed,
        plan.threads,
        &|| bar.inc(1),
    )?)
}

/// Several scenarios as one pool of work (common random numbers across them).
pub fn monte_carlo_many(
    scenarios: &[&Scenario],
    plan: &Plan,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<Vec<RunRow>>> {
    Ok(runner::monte_carlo_many(
        scenarios,
        plan.runs,
        plan.seed,
        plan.threads,
        &|| bar.inc(1),
    )?)
}

pub fn judge(scenario: &Scenario, rows: &[RunRow]) -> Vec<TargetResult> {
    scenario.targets.iter().map(|t| evaluate(t, rows)).collect()
}

/// The exit outcome of a set of verdicts: any FAIL fails, else any UNDECIDED.
pub fn outcome<'a>(results: impl IntoIterator<Item = &'a TargetResult>) -> Outcome {
    let mut out = Outcome::Passed;
    for r in results {
        match r.verdict {
            Verdict::Fail => return Outcome::TargetFailed,
            Verdict::Undecided => out = Outcome::Undecided,
            Verdict::Pass => {}
        }
    }
    out
}

pub fn targets_csv(results: &[(String, TargetResult)]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "scenario",
        "target",
        "required_probability",
        "n",
        "met",
        "estimate",
        "ci95_low",
        "ci95_high",
        "verdict",
    ])?;
    for (scenario, r) in results {
        let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        w.write_record([
            scenario.clone(),
            r.target.clone(),
            r.required_probability.to_string(),
            r.n.to_string(),
            r.met.to_string(),
            opt(r.estimate),
            opt(r.ci95_low),
            opt(r.ci95_high),
            r.verdict.as_str().to_string(),
        ])?;
    }
    Ok(w.into_inner().map_err(|e| e.into_error())?)
}

/// Terminal and HTML rows for target verdicts.
pub fn target_rows(results: &[(String, TargetResult)]) -> Vec<Vec<String>> {
    results
        .iter()
        .map(|(s, r)| {
            let pct = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{:.4}", x));
            vec![
                s.clone(),
                r.target.clone(),
                format!("{}/{}", r.met, r.n),
                pct(r.estimate),
                format!("[{}, {}]", pct(r.ci95_low), pct(r.ci95_high)),
                r.verdict.as_str().to_string(),
            ]
        })
        .collect()
}

pub const TARGET_HEADERS: [&str; 6] = [
    "scenario",
    "target",
    "met/runs",
    "estimate",
    "95% Wilson interval",
    "verdict",
];

pub fn print_targets(results: &[(String, TargetResult)]) {
    if results.is_empty() {
        return;
    }
    println!("targets:");
    for row in target_rows(results) {
        println!(
            "  {:<9} {}: {} met, estimate {} {} ({})",
            row[5], row[1], row[2], row[3], row[4], row[0]
        );
    }
}

/// Output files of a study, collected in memory until everything succeeded.
#[derive(Default)]
pub struct Files {
    pub files: Vec<(String, Vec<u8>)>,
}

impl Files {
    pub fn add(&mut self, name: impl Into<String>, bytes: Vec<u8>) {
        self.files.push((name.into(), bytes));
    }

    /// Renders a chart as `stem.svg` and `stem.png` and embeds it in the page.
    pub fn figure<C: Chart>(
        &mut self,
        page: &mut Page,
        stem: &str,
        caption: &str,
        chart: &C,
    ) -> anyhow::Result<()> {
        let r = plot::render(chart)?;
        page.figure(caption, &r.svg, stem);
        self.add(format!("{stem}.svg"), r.svg.into_bytes());
        self.add(format!("{stem}.png"), r.png);
        Ok(())
    }
}

/// A file-name-safe version of a scenario name.
pub fn sanitize(name: &str) -> String {
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

pub fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=,:".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

pub fn default_out(name: &str) -> PathBuf {
    PathBuf::from("output").join(sanitize(name))
}
