//! `drsim compare`: several scenarios under common random numbers, side by side.

use std::fmt::Write as _;
use std::path::Path;

use crate::metrics::compare::{column, ecdf, paired_difference, summary_of};
use crate::metrics::row::{METRIC_NAMES, RunRow};
use crate::metrics::summary::quantile_sorted;
use crate::report;
use crate::report::html::Page;
use crate::report::plot::{Bars, BoxPlot, Ecdf, short};
use crate::shard::Kind;

use super::study::{self, Files, Rendered, Study};
use super::{CompareArgs, Outcome};

/// Metrics shown side by side on the terminal.
const SHOWN: [&str; 9] = [
    "rto_s",
    "rto_first_s",
    "detection_s",
    "rpo_s",
    "lost_writes",
    "replication_lag_p99_s",
    "write_latency_p99_ms",
    "availability",
    "cost_monthly",
];

/// The same for horizon studies: yearly figures and counts over the horizon.
const SHOWN_HORIZON: [&str; 12] = [
    "downtime_min_per_year",
    "availability",
    "incidents",
    "failovers",
    "false_failovers",
    "lost_writes_per_year",
    "lost_updates",
    "rpo_s_max",
    "rto_s",
    "replication_lag_p99_s",
    "write_latency_p99_ms",
    "cost_monthly",
];

pub fn execute(args: CompareArgs) -> anyhow::Result<Outcome> {
    // Load everything first: one bad file stops the study before any run.
    let inputs = study::read_inputs(&args.scenarios)?;
    let plan = study::plan(&args.study.mc, &inputs[0].scenario);
    let study = Study::new(Kind::Compare, inputs, Vec::new(), plan.runs, plan.seed)?;
    study::execute(study, &args.study)
}

/// The files of a `compare` study from its rows (one group per scenario).
pub fn render(
    st: &Study,
    labels: &[String],
    all_rows: Vec<Vec<RunRow>>,
    out: &Path,
) -> anyhow::Result<Rendered> {
    let mut files = Files::default();
    let mut results = Vec::new();
    for (i, (input, rows)) in st.inputs.iter().zip(&all_rows).enumerate() {
        let (s, label) = (&input.scenario, &labels[i]);
        files.add(format!("runs-{label}.csv"), report::runs_csv(rows)?);
        files.add(
            format!("scenario-{label}.toml"),
            input.text.clone().into_bytes(),
        );
        results.extend(
            study::judge(s, rows)
                .into_iter()
                .map(|r| (label.clone(), r)),
        );
    }
    files.add("comparison.csv", comparison_csv(labels, &all_rows)?);
    if !results.is_empty() {
        files.add("targets.csv", study::targets_csv(&results)?);
    }
    let reproduce = format!(
        "drsim compare {} --runs {} --seed {} --out {}",
        st.inputs
            .iter()
            .map(|i| study::shell_word(&i.file))
            .collect::<Vec<_>>()
            .join(" "),
        st.runs,
        st.seed,
        study::shell_word(&out.display().to_string())
    );
    let horizon = st.inputs.iter().any(|i| i.scenario.horizon_mode.is_some());
    let shown: &[&'static str] = if horizon { &SHOWN_HORIZON } else { &SHOWN };
    let table = side_by_side(labels, &all_rows, shown);

    let mut page = Page::new(&format!("drsim compare: {}", labels.join(" vs ")));
    let mut facts: Vec<(&str, String)> = vec![
        ("runs per scenario", st.runs.to_string()),
        ("master seed", st.seed.to_string()),
    ];
    for (i, input) in st.inputs.iter().enumerate() {
        facts.push((
            "scenario",
            format!(
                "{} = {} ({}), sha256 {}",
                labels[i], input.scenario.name, input.file, input.scenario.content_hash
            ),
        ));
    }
    page.facts(&facts);
    page.paragraph(
        "Common random numbers: run i of every scenario uses the same seed, so workload and failure draws match wherever the scenarios share those parts. Paired differences (against the first scenario) are therefore much tighter than the difference of two separate intervals.",
    );
    page.paragraph("Reproduce with:").code(&reproduce);
    if !results.is_empty() {
        page.heading("Targets");
        page.table(&study::TARGET_HEADERS, &study::target_rows(&results));
    }
    page.heading("Side by side (mean [95% CI]; paired difference to the first)");
    page.table(
        &table.0.iter().map(String::as_str).collect::<Vec<_>>(),
        &table.1,
    );
    page.heading("Distributions");
    for (metric, stem, title, label) in [
        (
            "rto_s",
            "ecdf_rto",
            "RTO by architecture",
            "RTO, all clients (s)",
        ),
        (
            "rpo_s",
            "ecdf_rpo",
            "RPO window by architecture",
            "RPO window (s)",
        ),
    ] {
        let series = labels
            .iter()
            .zip(&all_rows)
            .map(|(l, rows)| {
                (
                    l.clone(),
                    ecdf(
                        &column(rows, metric)
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>(),
                    ),
                )
            })
            .collect();
        let chart = Ecdf {
            title: title.into(),
            x_label: label.into(),
            series,
        };
        files.figure(
            &mut page,
            stem,
            &format!("Empirical CDF of {metric}, one curve per scenario"),
            &chart,
        )?;
    }
    for (metric, label) in [
        ("rto_s", "RTO (s)"),
        ("lost_writes", "lost writes"),
        ("write_latency_p99_ms", "write latency p99 (ms)"),
    ] {
        let groups: Vec<(String, [f64; 5])> = labels
            .iter()
            .zip(&all_rows)
            .filter_map(|(l, rows)| five_numbers(rows, metric).map(|f| (l.clone(), f)))
            .collect();
        if groups.is_empty() {
            continue;
        }
        let chart = BoxPlot {
            title: format!("{label} by scenario"),
            y_label: label.into(),
            groups,
        };
        files.figure(
            &mut page,
            &format!("box_{metric}"),
            &format!("{metric}: min, quartiles, median, max"),
            &chart,
        )?;
    }
    for (metric, label) in [
        ("availability", "write availability"),
        ("cost_monthly", "monthly cost"),
    ] {
        let bars: Vec<_> = labels
            .iter()
            .zip(&all_rows)
            .filter_map(|(l, rows)| {
                let s = summary_of(rows, metric);
                s.mean.map(|m| (l.clone(), m, s.ci95_low.zip(s.ci95_high)))
            })
            .collect();
        if bars.is_empty() {
            continue;
        }
        let chart = Bars {
            title: format!("{label}: mean and 95% CI"),
            y_label: label.into(),
            bars,
        };
        files.figure(
            &mut page,
            &format!("bar_{metric}"),
            &format!("{label} per scenario"),
            &chart,
        )?;
    }
    files.add("index.html", page.render().into_bytes());

    let terminal = format!(
        "{} scenarios, {} runs each, master seed {} (common random numbers)\n{}{}",
        labels.len(),
        st.runs,
        st.seed,
        render_terminal(&table),
        study::targets_text(&results)
    );
    let outcome = study::outcome(results.iter().map(|r| &r.1));
    let mut summaries = Vec::new();
    for (i, (input, rows)) in st.inputs.iter().zip(&all_rows).enumerate() {
        summaries.push(study::JsonSummary {
            label: labels[i].clone(),
            parameters: None,
            summary_json: report::summary_json(
                &input.scenario,
                &input.file,
                st.runs,
                st.seed,
                reproduce.clone(),
                &crate::metrics::summary::summarize(rows),
            )?,
        });
    }
    let json = study::json_document("compare", &reproduce, outcome, summaries, &results)?;
    Ok(Rendered {
        files,
        terminal,
        reproduce,
        outcome,
        json,
    })
}

/// Unique, file-safe labels: the scenario names, numbered where they repeat.
pub fn labels(names: &[String]) -> Vec<String> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let base = study::sanitize(n);
            if names.iter().filter(|m| *m == n).count() > 1 {
                format!("{}-{}", i + 1, base)
            } else {
                base
            }
        })
        .collect()
}

fn five_numbers(rows: &[RunRow], metric: &str) -> Option<[f64; 5]> {
    let mut v: Vec<f64> = column(rows, metric)
        .into_iter()
        .flatten()
        .filter(|x| x.is_finite())
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p| quantile_sorted(&v, p);
    Some([v[0], q(0.25), q(0.5), q(0.75), v[v.len() - 1]])
}

/// comparison.csv: one row per (metric, scenario).
pub fn comparison_csv(labels: &[String], all_rows: &[Vec<RunRow>]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "metric",
        "scenario",
        "n",
        "mean",
        "ci95_low",
        "ci95_high",
        "p50",
        "p90",
        "p99",
        "max",
        "diff_n",
        "diff_mean",
        "diff_ci95_low",
        "diff_ci95_high",
    ])?;
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for metric in METRIC_NAMES {
        for (i, rows) in all_rows.iter().enumerate() {
            let s = summary_of(rows, metric);
            let d = (i > 0).then(|| paired_difference(metric, &all_rows[0], rows));
            w.write_record([
                metric.to_string(),
                labels[i].clone(),
                s.n.to_string(),
                opt(s.mean),
                opt(s.ci95_low),
                opt(s.ci95_high),
                opt(s.p50),
                opt(s.p90),
                opt(s.p99),
                opt(s.max),
                d.as_ref().map(|d| d.n.to_string()).unwrap_or_default(),
                opt(d.as_ref().and_then(|d| d.mean)),
                opt(d.as_ref().and_then(|d| d.ci95_low)),
                opt(d.as_ref().and_then(|d| d.ci95_high)),
            ])?;
        }
    }
    Ok(w.into_inner().map_err(|e| e.into_error())?)
}

type Table = (Vec<String>, Vec<Vec<String>>);

fn side_by_side(labels: &[String], all_rows: &[Vec<RunRow>], shown: &[&'static str]) -> Table {
    let mut headers = vec!["metric".to_string()];
    headers.extend(labels.iter().cloned());
    let mut rows = Vec::new();
    for &metric in shown {
        let mut row = vec![metric.to_string()];
        let mut any = false;
        for (i, r) in all_rows.iter().enumerate() {
            let s = summary_of(r, metric);
            let Some(mean) = s.mean else {
                row.push("-".into());
                continue;
            };
            any = true;
            let ci = match (s.ci95_low, s.ci95_high) {
                (Some(a), Some(b)) => format!(" [{}, {}]", short(a), short(b)),
                _ => String::new(),
            };
            let mut cell = format!("{}{}", short(mean), ci);
            if i > 0 {
                let d = paired_difference(metric, &all_rows[0], r);
                if let (Some(m), Some(a), Some(b)) = (d.mean, d.ci95_low, d.ci95_high) {
                    let _ = write!(
                        cell,
                        "; diff {}{} [{}, {}]",
                        if m >= 0.0 { "+" } else { "" },
                        short(m),
                        short(a),
                        short(b)
                    );
                }
            }
            row.push(cell);
        }
        if any {
            rows.push(row);
        }
    }
    (headers, rows)
}

fn render_terminal((headers, rows): &Table) -> String {
    let widths: Vec<usize> = (0..headers.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len())
                .chain(std::iter::once(headers[c].len()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in std::iter::once(headers).chain(rows.iter()) {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}
