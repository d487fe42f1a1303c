//! `drsim run`: Monte Carlo over one scenario, then the output folder.

use std::path::Path;

use crate::metrics::compare::{column, ecdf};
use crate::metrics::row::{IncidentSample, RunRow};
use crate::metrics::summary::{MetricSummary, mark_extrapolations, summarize};
use crate::report::html::Page;
use crate::report::plot::Ecdf;
use crate::report::{self, table};
use crate::shard::Kind;

use super::study::{self, Files, Rendered, Study};
use super::{Outcome, RunArgs};

pub fn execute(args: RunArgs) -> anyhow::Result<Outcome> {
    let inputs = study::read_inputs(std::slice::from_ref(&args.scenario))?;
    let plan = study::plan(&args.study.mc, &inputs[0].scenario);
    let study = Study::new(Kind::Run, inputs, Vec::new(), plan.runs, plan.seed)?;
    study::execute(study, &args.study)
}

/// The files of a `run` study from its rows (a single group).
pub fn render(st: &Study, all_rows: Vec<Vec<RunRow>>, out: &Path) -> anyhow::Result<Rendered> {
    let input = &st.inputs[0];
    let scenario = &input.scenario;
    let rows = all_rows.into_iter().next().unwrap_or_default();
    let mut summary = summarize(&rows);
    mark_extrapolations(&mut summary, scenario.horizon_mode.is_some());
    let results: Vec<_> = study::judge(scenario, &rows)
        .into_iter()
        .map(|r| (scenario.name.clone(), r))
        .collect();
    let file = &input.file;
    let reproduce = format!(
        "drsim run {} --runs {} --seed {} --out {}",
        study::shell_word(file),
        st.runs,
        st.seed,
        study::shell_word(&out.display().to_string())
    );

    let mut files = Files::default();
    files.add("runs.csv", report::runs_csv(&rows)?);
    files.add("incidents.csv", report::incidents_csv(&rows)?);
    let summary_json = report::summary_json(
        scenario,
        file,
        st.runs,
        st.seed,
        reproduce.clone(),
        &summary,
    )?;
    files.add("summary.json", summary_json.clone());
    files.add("scenario.toml", input.text.clone().into_bytes());
    if !results.is_empty() {
        files.add("targets.csv", study::targets_csv(&results)?);
    }
    let mut page = Page::new(&format!("drsim run: {}", scenario.name));
    page.facts(&[
        ("scenario", format!("{} ({file})", scenario.name)),
        ("description", scenario.description.clone()),
        ("runs", st.runs.to_string()),
        ("master seed", st.seed.to_string()),
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
    let incidents = incident_text(&rows);
    if scenario.horizon_mode.is_some() {
        page.heading("Incidents");
        page.paragraph(&format!(
            "{} Every incident is a line of incidents.csv.",
            incidents.trim_end()
        ));
        let samples = |f: fn(&IncidentSample) -> Option<f64>| -> Vec<f64> {
            rows.iter()
                .flat_map(|r| &r.incident_log)
                .filter_map(f)
                .collect()
        };
        for (values, stem, title, label) in [
            (
                samples(|i| i.rto_s),
                "ecdf_incident_rto",
                "RTO per incident",
                "RTO (s)",
            ),
            (
                samples(|i| Some(i.rpo_s)),
                "ecdf_incident_rpo",
                "RPO window per incident",
                "RPO window (s)",
            ),
        ] {
            let chart = Ecdf {
                title: title.to_string(),
                x_label: label.to_string(),
                series: vec![(scenario.name.clone(), ecdf(&values))],
            };
            files.figure(
                &mut page,
                stem,
                &format!(
                    "Empirical CDF over {} incidents of {} runs",
                    values.len(),
                    st.runs
                ),
                &chart,
            )?;
        }
    }
    files.add("index.html", page.render().into_bytes());

    let terminal = format!(
        "scenario {} ({}), {} runs, master seed {}\n{}{}{}",
        scenario.name,
        file,
        st.runs,
        st.seed,
        table::render(&summary, st.runs, scenario.horizon_mode.is_some()),
        if scenario.horizon_mode.is_some() {
            incidents
        } else {
            String::new()
        },
        study::targets_text(&results)
    );
    let outcome = study::outcome(results.iter().map(|r| &r.1));
    let json = study::json_document(
        "run",
        &reproduce,
        outcome,
        vec![study::JsonSummary {
            label: scenario.name.clone(),
            parameters: None,
            summary_json,
        }],
        &results,
    )?;
    Ok(Rendered {
        files,
        terminal,
        reproduce,
        outcome,
        json,
    })
}

/// One line on the incidents of all runs: how many, and their RTO and RPO quantiles.
fn incident_text(rows: &[RunRow]) -> String {
    let all: Vec<&IncidentSample> = rows.iter().flat_map(|r| &r.incident_log).collect();
    if all.is_empty() {
        return "incidents: none in any run\n".to_string();
    }
    let q = |mut v: Vec<f64>, p: f64| -> String {
        if v.is_empty() {
            return "-".into();
        }
        v.sort_by(f64::total_cmp);
        crate::report::plot::short(crate::metrics::summary::quantile_sorted(&v, p))
    };
    let rto: Vec<f64> = all.iter().filter_map(|i| i.rto_s).collect();
    let rpo: Vec<f64> = all.iter().map(|i| i.rpo_s).collect();
    let open = all.len() - rto.len();
    format!(
        "incidents: {} over {} runs ({} still open at the end); per incident RTO p50 {} s, p99 {} s; RPO window p50 {} s, p99 {} s\n",
        all.len(),
        rows.len(),
        open,
        q(rto.clone(), 0.5),
        q(rto, 0.99),
        q(rpo.clone(), 0.5),
        q(rpo, 0.99),
    )
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
