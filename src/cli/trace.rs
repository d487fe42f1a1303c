//! `drsim trace`: re-runs one Monte Carlo run of `drsim run` (same master
//! seed, same run index, hence the same row) with the engine's trace on, and
//! writes its event log, timeline figures and an index.html explaining it.

use std::path::PathBuf;

use anyhow::Context;

use crate::base::rng::run_seed;
use crate::base::time::{SimDuration, SimTime};
use crate::metrics::row::RunRow;
use crate::model::Scenario;
use crate::report::html::Page;
use crate::report::timeline::{self, KeyMoment, Timeline};
use crate::report::{self, output, plot};
use crate::scenario;
use crate::sim::{Trace, simulate_traced};

use super::study::{sanitize, shell_word};
use super::{TraceArgs, TraceFormat};

pub fn execute(args: TraceArgs) -> anyhow::Result<()> {
    let scenario = scenario::load(&args.scenario)?;
    let text = std::fs::read(&args.scenario)
        .with_context(|| format!("reading {}", args.scenario.display()))?;
    let master = args.seed.unwrap_or(scenario.default_seed);
    let seed = run_seed(master, args.run);
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("output").join(format!("{}-trace-{}", sanitize(&scenario.name), args.run))
    });
    let (row, trace) =
        simulate_traced(&scenario, args.run, seed).map_err(|error| crate::runner::RunFailure {
            run: args.run,
            seed,
            error,
        })?;

    let file = args.scenario.display().to_string();
    let format = match args.format {
        TraceFormat::Csv => "csv",
        TraceFormat::Jsonl => "jsonl",
    };
    let reproduce = format!(
        "drsim trace {} --run {} --seed {master} --out {} --format {format}",
        shell_word(&file),
        args.run,
        shell_word(&out.display().to_string())
    );

    let rows = timeline::event_log(&scenario, &trace);
    let log_name = format!("events.{format}");
    let log = match args.format {
        TraceFormat::Csv => timeline::log_csv(&rows)?,
        TraceFormat::Jsonl => timeline::log_jsonl(&rows)?,
    };
    drop(rows);
    let moments = timeline::key_moments(&scenario, &trace);

    let mut page = Page::new(&format!("drsim trace: {} run {}", scenario.name, args.run));
    page.facts(&[
        ("scenario", format!("{} ({file})", scenario.name)),
        ("description", scenario.description.clone()),
        ("scenario sha256", scenario.content_hash.clone()),
        ("run index", args.run.to_string()),
        ("run seed", seed.to_string()),
        ("master seed", master.to_string()),
        ("events", row.events.to_string()),
    ]);
    page.paragraph(&format!(
        "This is run {run} of drsim run with master seed {master} (with any --runs above {run}): the metrics below equal that run's line in its runs.csv. Reproduce these files with:",
        run = args.run,
    ));
    page.code(&reproduce);

    page.heading("Key moments");
    page.paragraph(
        "The numbers match the dashed lines in the figures. Times are seconds since the start of the run.",
    );
    page.table(
        &[
            "#",
            "moment",
            "time (s)",
            "since failure (s)",
            "site",
            "note",
        ],
        &moment_rows(&scenario, &moments),
    );

    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let title = format!("{}: run {} (seed {seed})", scenario.name, args.run);
    let whole = Timeline::new(
        &scenario,
        &trace,
        title.clone(),
        SimTime::ZERO,
        trace.horizon,
    );
    figure(
        &mut files,
        &mut page,
        "timeline",
        "The whole run: site states and failover phases, replication lag at each standby, and the share of clients whose writes a serving primary accepts",
        &whole,
    )?;
    if let Some((from, to)) = incident_window(&trace) {
        let zoom = Timeline::new(
            &scenario,
            &trace,
            format!("{title}: the incident"),
            from,
            to,
        );
        figure(
            &mut files,
            &mut page,
            "incident",
            "The same, around the incident",
            &zoom,
        )?;
    }

    page.heading("Metrics of this run");
    page.table(&["metric", "value"], &metric_rows(&row)?);
    page.heading("Files");
    page.paragraph(&format!(
        "{log_name}: every event of the run, one per line (time_s, event, site, details), in the order the engine handled them; timeline.svg/png (and incident.svg/png when the primary failed): the figures above; scenario.toml: the scenario as run."
    ));

    files.push((log_name.clone(), log));
    files.push(("scenario.toml".into(), text));
    files.push(("index.html".into(), page.render().into_bytes()));
    let owner = output::Owner {
        command: format!("trace --run {}", args.run),
        scenarios: vec![output::OwnerScenario {
            file: file.clone(),
            name: scenario.name.clone(),
            sha256: scenario.content_hash.clone(),
        }],
        runs: 1,
        master_seed: master,
    };
    output::write_folder(&out, &owner, &files, args.force)?;

    println!(
        "traced run {} (seed {seed}) of {} ({file}), master seed {master}: {} events, rto_s {}, detection_s {}",
        args.run,
        scenario.name,
        row.events,
        opt(row.rto_s),
        opt(row.detection_s),
    );
    println!(
        "wrote {} ({log_name}, timeline.svg/png, index.html); reproduce with: {reproduce}",
        out.display()
    );
    Ok(())
}

fn figure(
    files: &mut Vec<(String, Vec<u8>)>,
    page: &mut Page,
    stem: &str,
    caption: &str,
    chart: &Timeline,
) -> anyhow::Result<()> {
    let r = plot::render(chart)?;
    page.figure(caption, &r.svg, stem);
    files.push((format!("{stem}.svg"), r.svg.into_bytes()));
    files.push((format!("{stem}.png"), r.png));
    Ok(())
}

/// From a little before the failure to a little after recovery (or the end
/// of the run), when the run had an incident.
fn incident_window(trace: &Trace) -> Option<(SimTime, SimTime)> {
    let inc = trace.incident?;
    let end = inc.recovered.unwrap_or(trace.horizon);
    let span = end - inc.start;
    let pad = SimDuration((span.0 / 10).max(SimDuration::from_secs(30).0));
    let from = SimTime(inc.start.0.saturating_sub(pad.0));
    Some((from, (end + pad).min(trace.horizon)))
}

fn moment_rows(s: &Scenario, moments: &[KeyMoment]) -> Vec<Vec<String>> {
    let failure = moments.first().and_then(|m| m.at);
    moments
        .iter()
        .enumerate()
        .map(|(i, m)| {
            vec![
                (i + 1).to_string(),
                m.name.to_string(),
                m.at.map_or("-".into(), timeline::secs_text),
                match (m.at, failure) {
                    (Some(t), Some(f)) => timeline::secs_text(SimTime((t - f).0)),
                    _ => "-".into(),
                },
                m.site
                    .and_then(|i| s.datacenters.get(i))
                    .map_or(String::new(), |d| d.name.clone()),
                m.note.clone(),
            ]
        })
        .collect()
}

/// The row as (column, value) pairs, in runs.csv order and formatting.
fn metric_rows(row: &RunRow) -> anyhow::Result<Vec<Vec<String>>> {
    let csv = report::runs_csv(std::slice::from_ref(row))?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(csv.as_slice());
    let headers = r.headers()?.clone();
    let values = r.records().next().context("the row did not render")??;
    Ok(headers
        .iter()
        .zip(values.iter())
        .map(|(h, v)| {
            vec![
                h.to_string(),
                if v.is_empty() { "-".into() } else { v.into() },
            ]
        })
        .collect())
}

fn opt(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.3}"))
}
