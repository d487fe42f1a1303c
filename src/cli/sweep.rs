//! `drsim sweep`: one scenario over a grid of parameter values, every point
//! with the same run seeds (common random numbers).

use std::fmt::Write as _;
use std::path::Path;

use crate::metrics::compare::{pareto_front, summary_of};
use crate::metrics::row::{METRIC_NAMES, RunRow};
use crate::model::Scenario;
use crate::report::html::Page;
use crate::report::plot::{BandPoint, Heatmap, Lines, ParetoScatter, short};
use crate::shard::Kind;
use crate::sweep::{self, Param};

use super::study::{self, Files, Input, Rendered, Study};
use super::{Outcome, SweepArgs};

/// Metrics plotted against the swept parameters.
const PLOTTED: [(&str, &str); 6] = [
    ("rto_s", "RTO, all clients (s)"),
    ("rpo_s", "RPO window (s)"),
    ("lost_writes", "lost writes"),
    ("availability", "write availability"),
    ("write_latency_p99_ms", "write latency p99 (ms)"),
    ("cost_monthly", "monthly cost"),
];

struct Point {
    label: String,
    index: Vec<usize>,
    rows: Vec<RunRow>,
}

/// A sweep's grid: the parameters, the points (value indices, first
/// parameter slowest) and the validated scenario at each point.
pub struct Grid {
    pub params: Vec<Param>,
    pub points: Vec<Vec<usize>>,
    pub scenarios: Vec<Scenario>,
}

pub fn execute(args: SweepArgs) -> anyhow::Result<Outcome> {
    let inputs = study::read_inputs(std::slice::from_ref(&args.scenario))?;
    let plan = study::plan(&args.study.mc, &inputs[0].scenario);
    let study = Study::new(Kind::Sweep, inputs, args.params, plan.runs, plan.seed)?;
    study::execute(study, &args.study)
}

/// Parses the grid (from --param specs, else the file's [sweep] table) and
/// builds and validates every point before any run.
pub fn prepare(input: &Input, specs: &[String]) -> anyhow::Result<Grid> {
    let file = &input.file;
    let params: Vec<Param> = if specs.is_empty() {
        if input.scenario.sweep.is_empty() {
            anyhow::bail!(
                "{file} has no [sweep] table; give the grid with --param PATH=VALUES (see drsim sweep --help)"
            );
        }
        input.scenario.sweep.clone()
    } else {
        specs
            .iter()
            .map(|s| sweep::parse_spec(s))
            .collect::<Result<_, _>>()?
    };
    let points = sweep::grid(&params)?;
    let mut scenarios = Vec::with_capacity(points.len());
    for point in &points {
        scenarios.push(sweep::scenario_at(file, &input.text, &params, point)?.1);
    }
    Ok(Grid {
        params,
        points,
        scenarios,
    })
}

/// The files of a `sweep` study from its rows (one group per grid point).
pub fn render(
    st: &Study,
    grid: &Grid,
    all_rows: Vec<Vec<RunRow>>,
    out: &Path,
) -> anyhow::Result<Rendered> {
    let params = &grid.params;
    let base = &st.inputs[0].scenario;
    let file = &st.inputs[0].file;
    let points: Vec<Point> = grid
        .points
        .iter()
        .zip(all_rows)
        .map(|(point, rows)| Point {
            label: sweep::describe_point(params, point),
            index: point.to_vec(),
            rows,
        })
        .collect();

    let spec_args: String = params
        .iter()
        .map(|p| {
            let values: Vec<&str> = p.values.iter().map(|v| v.text.as_str()).collect();
            format!(
                " --param {}",
                study::shell_word(&format!("{}={}", p.path, values.join(",")))
            )
        })
        .collect();
    let reproduce = format!(
        "drsim sweep {}{spec_args} --runs {} --seed {} --out {}",
        study::shell_word(file),
        st.runs,
        st.seed,
        study::shell_word(&out.display().to_string())
    );

    let mut files = Files::default();
    files.add("sweep.csv", sweep_csv(params, &points)?);
    files.add("scenario.toml", st.inputs[0].text.clone().into_bytes());
    let mut results = Vec::new();
    for (p, s) in points.iter().zip(&grid.scenarios) {
        results.extend(
            study::judge(s, &p.rows)
                .into_iter()
                .map(|r| (p.label.clone(), r)),
        );
    }
    if !results.is_empty() {
        files.add("targets.csv", study::targets_csv(&results)?);
    }

    let mut page = Page::new(&format!("drsim sweep: {}", base.name));
    let mut facts = vec![
        ("scenario", format!("{} ({file})", base.name)),
        ("grid points", points.len().to_string()),
        ("runs per point", st.runs.to_string()),
        ("master seed", st.seed.to_string()),
    ];
    for p in params {
        let values: Vec<&str> = p.values.iter().map(|v| v.text.as_str()).collect();
        facts.push(("parameter", format!("{} = {}", p.path, values.join(", "))));
    }
    page.facts(&facts);
    page.paragraph("Every grid point uses the same run seeds (common random numbers), so differences between points come from the parameters.");
    page.paragraph("Reproduce with:").code(&reproduce);
    page.heading("Grid (mean [95% CI])");
    let mut headers: Vec<&str> = params.iter().map(|p| p.path.as_str()).collect();
    headers.extend(PLOTTED.iter().map(|m| m.0));
    let table: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            let mut row: Vec<String> = params
                .iter()
                .zip(&p.index)
                .map(|(q, &i)| q.values[i].text.clone())
                .collect();
            for (m, _) in PLOTTED {
                let s = summary_of(&p.rows, m);
                row.push(match (s.mean, s.ci95_low, s.ci95_high) {
                    (Some(x), Some(a), Some(b)) => {
                        format!("{} [{}, {}]", short(x), short(a), short(b))
                    }
                    (Some(x), _, _) => short(x),
                    _ => "-".into(),
                });
            }
            row
        })
        .collect();
    page.table(&headers, &table);
    if !results.is_empty() {
        page.heading("Targets at each point");
        page.table(&study::TARGET_HEADERS, &study::target_rows(&results));
    }
    page.heading("Metrics against the parameters");
    for (metric, label) in PLOTTED {
        if let Some(chart) = lines(params, &points, metric, label) {
            files.figure(
                &mut page,
                &format!("sweep_{metric}"),
                &format!("{label}: mean with 95% confidence band"),
                &chart,
            )?;
        }
    }
    if params.len() == 2 {
        for (metric, label) in PLOTTED.iter().take(2) {
            let chart = heatmap(params, &points, metric, label);
            files.figure(
                &mut page,
                &format!("heatmap_{metric}"),
                &format!("{label}: mean over the grid"),
                &chart,
            )?;
        }
    }
    if points
        .iter()
        .all(|p| summary_of(&p.rows, "cost_monthly").mean.is_some())
    {
        for (metric, label) in [("rpo_s", "RPO window (s)"), ("rto_s", "RTO (s)")] {
            let chart = pareto(&points, metric, label);
            files.figure(
                &mut page,
                &format!("pareto_cost_{metric}"),
                &format!("monthly cost against mean {label}; the Pareto front is joined"),
                &chart,
            )?;
        }
    }
    files.add("index.html", page.render().into_bytes());

    let mut terminal = format!(
        "{} grid points x {} runs, master seed {} (common random numbers)\n",
        points.len(),
        st.runs,
        st.seed
    );
    for row in &table {
        let _ = writeln!(terminal, "  {}", row.join("  "));
    }
    let _ = writeln!(terminal, "  (columns: {})", headers.join(", "));
    if !results.is_empty() {
        let count = |v: &str| results.iter().filter(|r| r.1.verdict.as_str() == v).count();
        let _ = writeln!(
            terminal,
            "targets over all points: {} PASS, {} FAIL, {} UNDECIDED (details in targets.csv)",
            count("PASS"),
            count("FAIL"),
            count("UNDECIDED")
        );
    }
    let outcome = super::study::outcome(results.iter().map(|r| &r.1));
    let mut summaries = Vec::new();
    for (p, s) in points.iter().zip(&grid.scenarios) {
        let parameters = params
            .iter()
            .zip(&p.index)
            .map(|(q, &i)| {
                (
                    q.path.clone(),
                    serde_json::Value::String(q.values[i].text.clone()),
                )
            })
            .collect();
        summaries.push(study::JsonSummary {
            label: p.label.clone(),
            parameters: Some(parameters),
            summary_json: crate::report::summary_json(
                s,
                file,
                st.runs,
                st.seed,
                reproduce.clone(),
                &crate::metrics::summary::summarize(&p.rows),
            )?,
        });
    }
    let json = study::json_document("sweep", &reproduce, outcome, summaries, &results)?;
    Ok(Rendered {
        files,
        terminal,
        reproduce,
        outcome,
        json,
    })
}

/// sweep.csv: one row per grid point; parameters, then mean, CI and p99 of every metric.
fn sweep_csv(params: &[Param], points: &[Point]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string()];
    header.extend(params.iter().map(|p| p.path.clone()));
    for m in METRIC_NAMES {
        for stat in ["n", "mean", "ci95_low", "ci95_high", "p99"] {
            header.push(format!("{m}_{stat}"));
        }
    }
    w.write_record(&header)?;
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for (k, p) in points.iter().enumerate() {
        let mut rec = vec![k.to_string()];
        rec.extend(
            params
                .iter()
                .zip(&p.index)
                .map(|(q, &i)| q.values[i].text.clone()),
        );
        for m in METRIC_NAMES {
            let s = summary_of(&p.rows, m);
            rec.extend([
                s.n.to_string(),
                opt(s.mean),
                opt(s.ci95_low),
                opt(s.ci95_high),
                opt(s.p99),
            ]);
        }
        w.write_record(&rec)?;
    }
    Ok(w.into_inner().map_err(|e| e.into_error())?)
}

/// The metric against the first parameter, one line per value of the second.
fn lines(params: &[Param], points: &[Point], metric: &'static str, label: &str) -> Option<Lines> {
    let first = &params[0];
    if first.values.iter().any(|v| v.number.is_none()) {
        return None;
    }
    let groups = params.get(1).map_or(1, |p| p.values.len());
    let mut series = Vec::new();
    for g in 0..groups {
        let mut pts: Vec<BandPoint> = Vec::new();
        for p in points
            .iter()
            .filter(|p| params.len() < 2 || p.index[1] == g)
        {
            // Further parameters: plot only their first value.
            if p.index.iter().skip(2).any(|&i| i != 0) {
                continue;
            }
            let s = summary_of(&p.rows, metric);
            if let (Some(x), Some(m)) = (first.values[p.index[0]].number, s.mean) {
                pts.push((x, m, s.ci95_low.unwrap_or(m), s.ci95_high.unwrap_or(m)));
            }
        }
        if !pts.is_empty() {
            let name = params.get(1).map_or(label.to_string(), |p| {
                format!("{} = {}", p.path, p.values[g].text)
            });
            series.push((name, pts));
        }
    }
    (!series.is_empty()).then(|| Lines {
        title: format!("{label} against {}", first.path),
        x_label: axis_label(first),
        y_label: label.to_string(),
        log_x: first.log,
        series,
    })
}

/// The parameter's path, with "(s)" when its values are durations (plotted in seconds).
fn axis_label(p: &Param) -> String {
    if p.values
        .iter()
        .all(|v| crate::scenario::units::parse_duration(&v.text).is_ok())
    {
        format!("{} (s)", p.path)
    } else {
        p.path.clone()
    }
}

fn heatmap(params: &[Param], points: &[Point], metric: &'static str, label: &str) -> Heatmap {
    let (px, py) = (&params[0], &params[1]);
    let mut values = vec![vec![None; px.values.len()]; py.values.len()];
    for p in points {
        values[p.index[1]][p.index[0]] = summary_of(&p.rows, metric).mean;
    }
    Heatmap {
        title: format!("{label}: mean"),
        x_label: px.path.clone(),
        y_label: py.path.clone(),
        x_ticks: px.values.iter().map(|v| v.text.clone()).collect(),
        y_ticks: py.values.iter().map(|v| v.text.clone()).collect(),
        values,
    }
}

fn pareto(points: &[Point], metric: &'static str, label: &str) -> ParetoScatter {
    let xy: Vec<(f64, f64)> = points
        .iter()
        .map(|p| {
            (
                summary_of(&p.rows, "cost_monthly").mean.unwrap_or(f64::NAN),
                summary_of(&p.rows, metric).mean.unwrap_or(f64::NAN),
            )
        })
        .collect();
    let front = pareto_front(&xy);
    ParetoScatter {
        title: format!("Cost against {label}"),
        x_label: "monthly cost".into(),
        y_label: label.into(),
        points: points
            .iter()
            .zip(&xy)
            .zip(front)
            .map(|((p, &(x, y)), f)| (p.label.clone(), x, y, f))
            .collect(),
    }
}
