//! `drsim drill`: the reference design's DR drill (check standby health, fail
//! the primary, verify failover, verify service, restore, fail back) simulated
//! over many runs: each step's success rate and simulated duration. Every
//! architecture has its drill: active-passive fails the primary over and
//! back; hybrid fails its whole active region over to the standby region and
//! back (the reference design's region drill); active-active takes one
//! active site out, so its clients drain to the others (no primary, so no
//! restore or failback steps: those are reported as not applicable).

use std::fmt::Write as _;

use anyhow::{bail, ensure};
use serde::Serialize;

use crate::base::time::SimDuration;
use crate::metrics::row::RunRow;
use crate::metrics::summary::{MetricSummary, describe, quantile_sorted};
use crate::metrics::targets::wilson;
use crate::model::{
    Architecture, Bound, Dist, FailureKind, FailureSpec, ReplicationMode, Scenario,
};
use crate::report::html::Page;
use crate::report::plot::{BoxPlot, short};
use crate::report::{self, ScenarioInfo, output};
use crate::runner;
use crate::scenario::units::parse_duration;

use super::DrillArgs;
use super::study::{self, Files, Input, shell_word};

/// The reference design alerts when replication lags more than this.
const LAG_ALERT_S: f64 = 30.0;
/// Room after the repair for the resync and the failback to finish.
const TAIL_S: f64 = 2.0 * 3600.0;

/// The drill's steps: name and what its duration and success mean.
const STEPS: [(&str, &str); 6] = [
    (
        "check standby health",
        "replication lag p99 before the failure (the same run, stopped at --fail-at) below 30 s (the reference design's lag alert); no duration",
    ),
    (
        "fail the primary",
        "from the failure until the failover manager declares the primary down (detection_s)",
    ),
    (
        "verify failover",
        "from detection until the first client is served by the promoted standby: promotion and DNS update (rto_first_s - detection_s)",
    ),
    (
        "verify service",
        "from the failure until every client is served again (rto_s); success needs recovery within the scenario's RTO target, if any",
    ),
    (
        "restore",
        "the repaired primary rejoins as a standby and catches up (resync_s)",
    ),
    (
        "fail back",
        "the planned switchover back to the original primary, until every client is back on it (failback_s)",
    ),
];

/// A duration option as given (for the reproduce line) and in seconds.
struct Opt {
    flag: &'static str,
    text: String,
    secs: f64,
}

fn opt(flag: &'static str, text: &str) -> anyhow::Result<Opt> {
    let secs = parse_duration(text).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
    // Keep the horizon representable in integer nanoseconds (u64: ~584 years).
    ensure!(
        secs < 100.0 * 365.0 * 86_400.0,
        "{flag}: {text} is too long (at most 100 years)"
    );
    Ok(Opt {
        flag,
        text: text.to_string(),
        secs,
    })
}

#[derive(Clone, Copy)]
struct Step {
    duration: Option<f64>,
    success: bool,
}

/// What the drill fails, per architecture.
struct Subject {
    /// The site (or region) failed, and where its traffic goes.
    failed: String,
    takeover: String,
    /// Which of the six steps the architecture has.
    applies: [bool; 6],
}

/// A drill as planned: what it runs and everything its files depend on.
struct Drill {
    input: Input,
    /// The scenario as the drill runs it.
    scenario: Scenario,
    runs: u64,
    seed: u64,
    /// --fail-at, --restore-after, --failback-delay.
    opts: [Opt; 3],
    rto_max: Option<f64>,
    reproduce: String,
    subject: Subject,
}

pub fn execute(args: DrillArgs) -> anyhow::Result<()> {
    let opts = [
        opt("--fail-at", &args.fail_at)?,
        opt("--restore-after", &args.restore_after)?,
        opt("--failback-delay", &args.failback_delay)?,
    ];
    ensure!(
        opts[1].secs > 0.0,
        "--restore-after must be positive: the primary has to be down for the standby to take over"
    );
    let input = study::read_inputs(std::slice::from_ref(&args.scenario))?.remove(0);
    let (scenario, subject) = drill_scenario(&input.scenario, &input.file, &opts)?;
    let plan = study::plan(&args.mc, &input.scenario);
    let out = args
        .mc
        .out
        .clone()
        .unwrap_or_else(|| study::default_out(&format!("{}-drill", input.scenario.name)));
    let reproduce = format!(
        "drsim drill {} --runs {} --seed {} {} --out {}",
        shell_word(&input.file),
        plan.runs,
        plan.seed,
        opts.each_ref()
            .map(|o| format!("{} {}", o.flag, shell_word(&o.text)))
            .join(" "),
        shell_word(&out.display().to_string())
    );
    let drill = Drill {
        rto_max: rto_target(&input.scenario),
        input,
        scenario,
        runs: plan.runs,
        seed: plan.seed,
        opts,
        reproduce,
        subject,
    };

    let bar = study::progress_bar(drill.runs, args.mc.quiet, "drill runs");
    let threads = args.mc.threads.unwrap_or(0) as usize;
    let rows = runner::monte_carlo(&drill.scenario, drill.runs, drill.seed, threads, &|| {
        bar.inc(1)
    })?;
    // Step 1 looks at the standbys before the drill: the same runs (same
    // seeds, so the same draws) stopped at --fail-at, before the failure.
    let mut before = drill.scenario.clone();
    before.horizon = SimDuration::from_secs_f64(drill.opts[0].secs.max(1.0));
    let before = runner::monte_carlo(&before, drill.runs, drill.seed, threads, &|| {})?;
    bar.finish_and_clear();

    let (files, terminal) = render(&drill, &rows, &before)?;
    // Nothing is written unless every run and every file succeeded.
    let owner = output::Owner {
        command: "drill".into(),
        scenarios: vec![output::OwnerScenario {
            file: drill.input.file.clone(),
            name: drill.input.scenario.name.clone(),
            sha256: drill.input.scenario.content_hash.clone(),
        }],
        runs: drill.runs,
        master_seed: drill.seed,
    };
    output::write_folder(&out, &owner, &files.files, args.mc.force)?;
    if !args.mc.quiet {
        print!("{terminal}");
        println!(
            "wrote {} (open index.html); reproduce with: {}",
            out.display(),
            drill.reproduce
        );
    }
    Ok(())
}

/// The drill's files and its terminal summary, from its rows.
fn render(d: &Drill, rows: &[RunRow], before: &[RunRow]) -> anyhow::Result<(Files, String)> {
    let (input, s) = (&d.input, &d.scenario);
    let per_run: Vec<[Step; 6]> = rows
        .iter()
        .zip(before)
        .map(|(r, b)| steps(r, b, d.rto_max))
        .collect();
    let stats: Vec<StepStats> = (0..STEPS.len())
        .map(|k| step_stats(k, &per_run, d.subject.applies[k]))
        .collect();
    let lost: Vec<f64> = rows.iter().map(|r| r.lost_writes as f64).collect();
    let lost = describe("lost_writes", &lost);
    let lost_note = lost_writes_note(s, &lost);
    let params = Params {
        architecture: match s.architecture {
            Architecture::ActivePassive => "active-passive",
            Architecture::ActiveActive => "active-active",
            Architecture::Hybrid => "hybrid",
        },
        primary: d.subject.failed.clone(),
        standby: d.subject.takeover.clone(),
        fail_at_s: d.opts[0].secs,
        restore_after_s: d.opts[1].secs,
        failback_delay_s: d.opts[2].secs,
        horizon_s: s.horizon.as_secs_f64(),
        lag_alert_s: LAG_ALERT_S,
        rto_target_s: d.rto_max,
    };

    let mut files = Files::default();
    files.add("drill.csv", drill_csv(rows, &per_run)?);
    files.add("steps.csv", steps_csv(&stats)?);
    files.add("runs.csv", report::runs_csv(rows)?);
    files.add("scenario.toml", input.text.clone().into_bytes());
    let summary = SummaryFile {
        drsim_version: env!("CARGO_PKG_VERSION"),
        scenario: ScenarioInfo {
            name: &s.name,
            description: &s.description,
            file: &input.file,
            sha256: &s.content_hash,
        },
        runs: d.runs,
        master_seed: d.seed,
        drill: &params,
        reproduce: d.reproduce.clone(),
        steps: &stats,
        lost_writes: &lost,
    };
    let mut json = serde_json::to_vec_pretty(&summary)?;
    json.push(b'\n');
    files.add("summary.json", json);

    let interval = crate::report::plot::short(s.failover.health_check.interval.as_secs_f64());
    let what = if d.subject.applies[5] {
        format!(
            "{} failed at {} plus up to one {interval} s check interval, repaired {} later, failback {} after its resync; taken over by {}",
            params.primary, d.opts[0].text, d.opts[1].text, d.opts[2].text, params.standby
        )
    } else {
        format!(
            "{} failed at {} plus up to one {interval} s check interval, repaired {} later; its clients drain to {}",
            params.primary, d.opts[0].text, d.opts[1].text, params.standby
        )
    };
    let mut page = Page::new(&format!("drsim drill: {}", s.name));
    page.facts(&[
        ("scenario", format!("{} ({})", s.name, input.file)),
        ("description", s.description.clone()),
        ("drill", what.clone()),
        ("simulated per run", format!("{} s", params.horizon_s)),
        ("runs", d.runs.to_string()),
        ("master seed", d.seed.to_string()),
        ("scenario sha256", s.content_hash.clone()),
    ]);
    page.paragraph("Reproduce with:").code(&d.reproduce);
    page.heading("Steps");
    page.table(&HEADERS, &table_rows(&stats));
    let defs: Vec<Vec<String>> = STEPS
        .iter()
        .enumerate()
        .map(|(k, (name, def))| vec![(k + 1).to_string(), name.to_string(), def.to_string()])
        .collect();
    page.table(&["step", "name", "duration and success"], &defs);
    page.heading("Lost writes");
    page.paragraph(&format!(
        "{} Per run: the lost_writes column of runs.csv.",
        lost_note.trim_end()
    ));
    let groups: Vec<(String, [f64; 5])> = (0..STEPS.len())
        .filter_map(|k| {
            let v: Vec<f64> = per_run.iter().filter_map(|s| s[k].duration).collect();
            five_numbers(v).map(|f| (format!("{} {}", k + 1, STEPS[k].0), f))
        })
        .collect();
    if !groups.is_empty() {
        let chart = BoxPlot {
            title: "Drill step durations".into(),
            y_label: "simulated duration (s)".into(),
            groups,
        };
        files.figure(
            &mut page,
            "box_steps",
            "Step durations over runs: min, quartiles, median, max",
            &chart,
        )?;
    }
    files.add("index.html", page.render().into_bytes());

    let terminal = format!(
        "drill of {} ({}), {} runs, master seed {}\n{what}\n{}{lost_note}",
        s.name,
        input.file,
        d.runs,
        d.seed,
        terminal_table(&stats)
    );
    Ok((files, terminal))
}

/// The scenario with its failures replaced by the drill's planned outage:
/// of the primary (active-passive), of the active region (hybrid), or of the
/// first active site (active-active).
fn drill_scenario(
    s: &Scenario,
    file: &str,
    opts: &[Opt; 3],
) -> anyhow::Result<(Scenario, Subject)> {
    let [fail_at, restore, failback] = opts;
    let names = |ids: &[usize]| {
        ids.iter()
            .map(|&i| s.datacenters[i].name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (kind, subject) = match s.architecture {
        Architecture::ActivePassive => {
            if s.topology.standbys.is_empty() {
                bail!(
                    "{file}: drsim drill needs at least one standby in topology.standbys to fail over to"
                );
            }
            let kind = FailureKind::DatacenterOutage {
                site: s.topology.primary,
            };
            (
                kind,
                Subject {
                    failed: s.datacenters[s.topology.primary].name.clone(),
                    takeover: s.datacenters[s.topology.standbys[0]].name.clone(),
                    applies: [true; 6],
                },
            )
        }
        Architecture::Hybrid => {
            let region = s.datacenters[s.topology.active[0]].region;
            (
                FailureKind::RegionOutage { region },
                Subject {
                    failed: format!("region {}", s.regions[region]),
                    takeover: names(&s.topology.standbys),
                    applies: [true; 6],
                },
            )
        }
        Architecture::ActiveActive => {
            // The site that carries the largest share of the clients at the
            // start (the first such in topology.active): failing one that
            // serves nobody would drill nothing.
            let routes = crate::sim::World::new(s, 0).initial_routes();
            let carried = |site: usize| -> f64 {
                routes
                    .iter()
                    .zip(&s.workload.clients)
                    .filter(|(r, _)| **r == site)
                    .map(|(_, g)| g.share)
                    .sum()
            };
            let mut site = s.topology.active[0];
            for &a in &s.topology.active {
                if carried(a) > carried(site) {
                    site = a;
                }
            }
            let others: Vec<usize> = s
                .topology
                .active
                .iter()
                .copied()
                .filter(|&a| a != site)
                .collect();
            if others.is_empty() {
                bail!(
                    "{file}: drsim drill needs a second active site in topology.active to drain to"
                );
            }
            (
                FailureKind::DatacenterOutage { site },
                Subject {
                    failed: s.datacenters[site].name.clone(),
                    takeover: names(&others),
                    applies: [true, true, true, true, false, false],
                },
            )
        }
    };
    let mut d = s.clone();
    d.failures = vec![FailureSpec {
        kind,
        // At an unannounced moment of the health-check cycle: a failure on a
        // check (or shipping) tick is a degenerate phase, not a typical one.
        at: Some(Dist::Uniform {
            min: fail_at.secs,
            max: fail_at.secs + s.failover.health_check.interval.as_secs_f64(),
        }),
        duration: Some(Dist::Constant(restore.secs)),
        every: None,
    }];
    if subject.applies[5] {
        d.failover.rejoin = true;
        d.failover.failback = Some(SimDuration::from_secs_f64(failback.secs));
    }
    d.horizon_mode = None;
    d.horizon = SimDuration::from_secs_f64(fail_at.secs + restore.secs + TAIL_S);
    Ok((d, subject))
}

/// The tightest `rto_s <= max` target of the scenario, if any.
fn rto_target(s: &Scenario) -> Option<f64> {
    s.targets
        .iter()
        .filter(|t| t.metric == "rto_s")
        .filter_map(|t| match t.bound {
            Bound::AtMost(m) => Some(m),
            Bound::AtLeast(_) => None,
        })
        .reduce(f64::min)
}

/// Run `r`'s steps; `before` is the same run stopped before the failure.
fn steps(r: &RunRow, before: &RunRow, rto_max: Option<f64>) -> [Step; 6] {
    let step = |duration, success| Step { duration, success };
    [
        step(
            None,
            before
                .replication_lag_p99_s
                .is_some_and(|l| l < LAG_ALERT_S),
        ),
        step(r.detection_s, r.detection_s.is_some()),
        step(
            r.rto_first_s.zip(r.detection_s).map(|(f, d)| f - d),
            r.failovers >= 1 && r.rto_first_s.is_some(),
        ),
        step(
            r.rto_s,
            r.recovered == 1 && rto_max.is_none_or(|m| r.rto_s.is_some_and(|v| v <= m)),
        ),
        step(r.resync_s, r.resync_s.is_some()),
        step(r.failback_s, r.failbacks >= 1 && r.failback_s.is_some()),
    ]
}

#[derive(Serialize)]
struct StepStats {
    step: usize,
    name: &'static str,
    /// The architecture has this step (active-active has no restore or
    /// failback of a primary); if not, the counts are 0.
    applies: bool,
    runs: usize,
    successes: usize,
    success_rate: f64,
    success_ci95_low: f64,
    success_ci95_high: f64,
    /// Over the runs where the step has a duration (successful or not).
    duration_s: MetricSummary,
}

fn step_stats(k: usize, per_run: &[[Step; 6]], applies: bool) -> StepStats {
    let runs = if applies { per_run.len() } else { 0 };
    let per_run = &per_run[..runs];
    let successes = per_run.iter().filter(|s| s[k].success).count();
    let (lo, hi) = wilson(successes, runs);
    let durations: Vec<f64> = per_run.iter().filter_map(|s| s[k].duration).collect();
    StepStats {
        step: k + 1,
        name: STEPS[k].0,
        applies,
        runs,
        successes,
        success_rate: if runs == 0 {
            0.0
        } else {
            successes as f64 / runs as f64
        },
        success_ci95_low: lo,
        success_ci95_high: hi,
        duration_s: describe(STEPS[k].0, &durations),
    }
}

#[derive(Serialize)]
struct Params {
    architecture: &'static str,
    /// What the drill fails (a site, or a region) and who takes over.
    primary: String,
    standby: String,
    fail_at_s: f64,
    restore_after_s: f64,
    failback_delay_s: f64,
    horizon_s: f64,
    lag_alert_s: f64,
    rto_target_s: Option<f64>,
}

#[derive(Serialize)]
struct SummaryFile<'a> {
    drsim_version: &'static str,
    scenario: ScenarioInfo<'a>,
    runs: u64,
    master_seed: u64,
    drill: &'a Params,
    reproduce: String,
    steps: &'a [StepStats],
    lost_writes: &'a MetricSummary,
}

fn opt_num(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn drill_csv(rows: &[RunRow], per_run: &[[Step; 6]]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["run", "seed", "step", "name", "duration_s", "success"])?;
    for (r, steps) in rows.iter().zip(per_run) {
        for (k, s) in steps.iter().enumerate() {
            w.write_record([
                r.run.to_string(),
                r.seed.to_string(),
                (k + 1).to_string(),
                STEPS[k].0.to_string(),
                opt_num(s.duration),
                u8::from(s.success).to_string(),
            ])?;
        }
    }
    Ok(w.into_inner().map_err(|e| e.into_error())?)
}

fn steps_csv(stats: &[StepStats]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "step",
        "name",
        "applies",
        "runs",
        "successes",
        "success_rate",
        "success_ci95_low",
        "success_ci95_high",
        "duration_n",
        "duration_mean_s",
        "duration_p50_s",
        "duration_p99_s",
        "duration_max_s",
    ])?;
    for s in stats {
        let d = &s.duration_s;
        w.write_record([
            s.step.to_string(),
            s.name.to_string(),
            u8::from(s.applies).to_string(),
            s.runs.to_string(),
            s.successes.to_string(),
            s.success_rate.to_string(),
            s.success_ci95_low.to_string(),
            s.success_ci95_high.to_string(),
            d.n.to_string(),
            opt_num(d.mean),
            opt_num(d.p50),
            opt_num(d.p99),
            opt_num(d.max),
        ])?;
    }
    Ok(w.into_inner().map_err(|e| e.into_error())?)
}

const HEADERS: [&str; 7] = [
    "step",
    "name",
    "succeeded",
    "success rate [95% Wilson]",
    "mean (s)",
    "p50 (s)",
    "p99 (s)",
];

fn table_rows(stats: &[StepStats]) -> Vec<Vec<String>> {
    let f = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{x:.1}"));
    stats
        .iter()
        .map(|s| {
            if !s.applies {
                let na = "n/a".to_string();
                return vec![
                    s.step.to_string(),
                    s.name.to_string(),
                    na.clone(),
                    "not in this architecture".to_string(),
                    na.clone(),
                    na.clone(),
                    na,
                ];
            }
            vec![
                s.step.to_string(),
                s.name.to_string(),
                format!("{}/{}", s.successes, s.runs),
                format!(
                    "{:.4} [{:.4}, {:.4}]",
                    s.success_rate, s.success_ci95_low, s.success_ci95_high
                ),
                f(s.duration_s.mean),
                f(s.duration_s.p50),
                f(s.duration_s.p99),
            ]
        })
        .collect()
}

fn terminal_table(stats: &[StepStats]) -> String {
    let mut out = String::new();
    let line = |out: &mut String, c: &[String]| {
        let _ = writeln!(
            out,
            "{:<4} {:<22} {:>9} {:>26} {:>9} {:>9} {:>9}",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6]
        );
    };
    line(&mut out, &HEADERS.map(String::from));
    for row in table_rows(stats) {
        line(&mut out, &row);
    }
    out
}

/// Lost writes over runs, and why a drill loses any.
fn lost_writes_note(s: &Scenario, lost: &MetricSummary) -> String {
    let f = |v: Option<f64>| v.map_or("-".to_string(), short);
    let mut note = format!(
        "lost writes per run: mean {}, p50 {}, p99 {}, max {}",
        f(lost.mean),
        f(lost.p50),
        f(lost.p99),
        f(lost.max)
    );
    if lost.max.is_some_and(|m| m > 0.0) {
        note.push_str(if s.replication.mode == ReplicationMode::Async {
            " (asynchronous replication: the drill fails the primary abruptly, so acknowledged writes not yet shipped to the standby are lost)"
        } else {
            " (the drill fails the primary abruptly: acknowledged writes the promoted standby never had are lost)"
        });
    }
    note.push('\n');
    note
}

/// [min, p25, p50, p75, max] for a box plot; `None` without values.
fn five_numbers(mut v: Vec<f64>) -> Option<[f64; 5]> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p| quantile_sorted(&v, p);
    Some([v[0], q(0.25), q(0.5), q(0.75), v[v.len() - 1]])
}
