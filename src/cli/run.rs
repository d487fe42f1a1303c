//! `drsim run`: Monte Carlo over one scenario, then the output folder.

use anyhow::Context;

use crate::metrics::compare::{column, ecdf};
use crate::metrics::summary::{MetricSummary, summarize};
use crate::report::html::Page;
use crate::report::plot::Ecdf;
use crate::report::{self, output, table};
use crate::scenario;

use super::study::{self, Files};
use super::{Outcome, RunArgs};

pub fn execute(args: RunArgs) -> anyhow::Result<Outcome> {
    let scenario = scenario::load(&args.scenario)?;
    let text = std::fs::read(&args.scenario)
        .with_context(|| format!("reading {}", args.scenario.display()))?;
    let plan = study::plan(&args.study, &scenario);
    let out = args
        .study
        .out
        .clone()
        .unwrap_or_else(|| study::default_out(&scenario.name));

    let bar = study::progress_bar(plan.runs, args.study.quiet, "runs");
    let rows = study::monte_carlo(&scenario, &plan, &bar)?;
    bar.finish_and_clear();

    let summary = summarize(&rows);
    let results: Vec<_> = study::judge(&scenario, &rows)
        .into_iter()
        .map(|r| (scenario.name.clone(), r))
        .collect();
    let file = args.scenario.display().to_string();
    let reproduce = format!(
        "drsim run {} --runs {} --seed {} --out {}",
        study::shell_word(&file),
        plan.runs,
        plan.seed,
        study::shell_word(&out.display().to_string())
    );

    let mut files = Files::default();
    files.add("runs.csv", report::runs_csv(&rows)?);
    files.add(
        "summary.json",
        report::summary_json(
            &scenario,
            &file,
            plan.runs,
            plan.seed,
            reproduce.clone(),
            &summary,
        )?,
    );
    files.add("scenario.toml", text);
    if !results.is_empty() {
        files.add("targets.csv", study::targets_csv(&results)?);
    }
    let mut page = Page::new(&format!("drsim run: {}", scenario.name));
    page.facts(&[
        ("scenario", format!("{} ({file})", scenario.name)),
        ("description", scenario.description.clone()),
        ("runs", plan.runs.to_string()),
        ("master seed", plan.seed.to_string()),
        ("scenario sha256", scenario.content_hash.clone()),
    ]);
    page.paragraph("Reproduce with:").code(&reproduce);
    if !results.is_empty() {
        page.heading("Targets");
        page.table(&study::TARGET_HEADERS, &study::target_rows(&results));
    }
    page.heading("Summary over runs");
    page.table(&SUMMARY_HEADERS, &summary_rows(&summary));
    page.heading("Distributions");
    for (metric, stem, title, label) in [
        ("rto_s", "ecdf_rto", "RTO across runs", "RTO (s)"),
        (
            "rpo_s",
            "ecdf_rpo",
            "RPO window across runs",
            "RPO window (s)",
        ),
        (
            "lost_writes",
            "ecdf_lost_writes",
            "Lost acknowledged writes across runs",
            "lost writes",
        ),
    ] {
        let values: Vec<f64> = column(&rows, metric).into_iter().flatten().collect();
        let chart = Ecdf {
            title: title.to_string(),
            x_label: label.to_string(),
            series: vec![(scenario.name.clone(), ecdf(&values))],
        };
        files.figure(
            &mut page,
            stem,
            &format!("Empirical CDF of {metric} over {} runs", values.len()),
            &chart,
        )?;
    }
    files.add("index.html", page.render().into_bytes());
    output::write_all(&out, &files.files)?;

    if !args.study.quiet {
        println!(
            "scenario {} ({}), {} runs, master seed {}",
            scenario.name, file, plan.runs, plan.seed
        );
        print!("{}", table::render(&summary, plan.runs));
        study::print_targets(&results);
        println!(
            "wrote {} (open index.html); reproduce with: {reproduce}",
            out.display()
        );
    }
    Ok(study::outcome(results.iter().map(|r| &r.1)))
}

pub const SUMMARY_HEADERS: [&str; 10] = [
    "metric",
    "n",
    "mean",
    "95% CI low",
    "95% CI high",
    "p50",
    "p90",
    "p99",
    "max",
    "std",
];

pub fn summary_rows(summary: &[MetricSummary]) -> Vec<Vec<String>> {
    let f = |v: Option<f64>| v.map_or("-".to_string(), crate::report::plot::short);
    summary
        .iter()
        .map(|m| {
            vec![
                m.metric.to_string(),
                m.n.to_string(),
                f(m.mean),
                f(m.ci95_low),
                f(m.ci95_high),
                f(m.p50),
                f(m.p90),
                f(m.p99),
                f(m.max),
                f(m.std),
            ]
        })
        .collect()
}
