//! The binary as a user meets it: exit codes, messages, output files.

use std::collections::BTreeSet;
use std::process::Command;

use sha2::{Digest, Sha256};

pub mod outputs;

use outputs::{
    Bound, check_summary, check_targets, close, documented_exit_code, html_table, read_csv, shows,
};

fn drsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_drsim"))
}

fn scenario_path() -> String {
    format!(
        "{}/scenarios/active-passive.toml",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// One row of the terminal table, as printed.
struct Shown {
    label: String,
    n: String,
    mean: String,
    /// The 95% CI of the mean ("-" when there is none).
    ci: Option<(String, String)>,
    /// p50, p90, p99, max.
    q: Vec<String>,
}

fn terminal_rows(stdout: &str) -> Vec<Shown> {
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with("metric "));
    lines.next().expect("the table's header");
    lines
        .take_while(|l| {
            !l.starts_with("targets:") && !l.starts_with("RTO applies") && !l.starts_with("wrote ")
        })
        .map(|l| {
            let mut t: Vec<&str> = l.split_whitespace().collect();
            let q = t
                .split_off(t.len() - 4)
                .into_iter()
                .map(String::from)
                .collect();
            let ci = if t.last() == Some(&"-") {
                t.pop();
                None
            } else {
                let hi = t.pop().unwrap().trim_end_matches(']').to_string();
                let lo = t
                    .pop()
                    .unwrap()
                    .trim_start_matches('[')
                    .trim_end_matches(',');
                Some((lo.to_string(), hi))
            };
            let mean = t.pop().unwrap().to_string();
            let n = t.pop().unwrap().to_string();
            Shown {
                label: t.join(" "),
                n,
                mean,
                ci,
                q,
            }
        })
        .collect()
}

/// The labels of the terminal table (README.md's example) and their metrics.
const LABELS: [(&str, &str); 14] = [
    ("RTO, all clients (s)", "rto_s"),
    ("RTO, first client (s)", "rto_first_s"),
    ("detection (s)", "detection_s"),
    ("drain wait (s)", "drain_wait_s"),
    ("RPO window (s)", "rpo_s"),
    ("lost writes", "lost_writes"),
    ("replication lag p99 (s)", "replication_lag_p99_s"),
    ("replication lag max (s)", "replication_lag_max_s"),
    ("write latency p50 (ms)", "write_latency_p50_ms"),
    ("write latency p99 (ms)", "write_latency_p99_ms"),
    ("write availability", "availability"),
    ("false failovers", "false_failovers"),
    ("error-rate alert after (s)", "alert_errors_s"),
    ("lag alert after (s)", "alert_lag_s"),
];

/// The columns docs/metrics.md documents for runs.csv, in any order.
const DOCUMENTED_COLUMNS: [&str; 44] = [
    "run",
    "seed",
    "rto_s",
    "rto_first_s",
    "detection_s",
    "rpo_s",
    "rpo_s_max",
    "lost_writes",
    "replication_lag_mean_s",
    "replication_lag_p99_s",
    "replication_lag_max_s",
    "write_latency_p50_ms",
    "write_latency_p99_ms",
    "failovers",
    "false_failovers",
    "writes",
    "writes_failed",
    "availability",
    "drain_wait_s",
    "incident",
    "recovered",
    "cost_monthly",
    "conflicts",
    "lost_updates",
    "shed_requests",
    "peak_utilisation",
    "sessions_lost",
    "region_failovers",
    "split_brain_s",
    "divergent_writes",
    "resync_s",
    "failbacks",
    "failback_s",
    "alert_lag_s",
    "alert_latency_s",
    "alert_loss_s",
    "alert_errors_s",
    "alerts",
    "false_alerts",
    "path_switches",
    "incidents",
    "downtime_min_per_year",
    "lost_writes_per_year",
    "events",
];

/// The bundled active-passive scenario's targets, as its file states them.
const AP_TARGETS: [(&str, Bound, f64); 2] = [
    ("rto_s", Bound::Max(300.0), 0.99),
    ("lost_writes", Bound::Max(200.0), 0.95),
];

/// `drsim run` of the bundled active-passive scenario, 6 runs: every output
/// file's contents checked against each other and against statistics
/// recomputed here from runs.csv (docs/metrics.md's definitions).
#[test]
fn run_writes_reproducible_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name);
    let mut stdout = String::new();
    for (name, threads) in [("a", "1"), ("b", "2")] {
        let mut cmd = drsim();
        cmd.args([
            "run",
            &scenario_path(),
            "--runs",
            "6",
            "--seed",
            "3",
            "--threads",
            threads,
            "--out",
        ])
        .arg(out(name));
        if name == "b" {
            cmd.arg("--quiet");
        }
        let o = cmd.output().unwrap();
        // Six runs cannot settle the scenario's targets: exit 3 (undecided).
        assert_eq!(o.status.code(), Some(3), "{o:?}");
        if name == "a" {
            stdout = String::from_utf8(o.stdout).unwrap();
        }
    }
    let a = std::fs::read(out("a").join("runs.csv")).unwrap();
    let b = std::fs::read(out("b").join("runs.csv")).unwrap();
    assert_eq!(a, b, "runs.csv must not depend on --threads");

    // runs.csv: 6 rows in run order, the documented columns, distinct seeds.
    let runs = read_csv(&out("a").join("runs.csv"));
    assert_eq!(runs.rows.len(), 6);
    let header: BTreeSet<&str> = runs.header.iter().map(String::as_str).collect();
    let documented: BTreeSet<&str> = DOCUMENTED_COLUMNS.into_iter().collect();
    assert_eq!(header, documented, "runs.csv columns vs docs/metrics.md");
    assert_eq!(runs.header.len(), header.len(), "a column twice");
    assert_eq!(runs.cells("run"), ["0", "1", "2", "3", "4", "5"]);
    let seeds: BTreeSet<&str> = runs.cells("seed").into_iter().collect();
    assert_eq!(seeds.len(), 6, "one seed per run");
    // The scenario's datacenter outage never ends: every run has an
    // incident, none recovers the old primary, but failover restores service.
    assert_eq!(runs.cells("incident"), ["1"; 6]);
    assert_eq!(runs.present("rto_s").len(), 6);

    // summary.json: recomputed from runs.csv; identical for 2 threads but
    // for the reproduce line, which names the output folder.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out("a").join("summary.json")).unwrap()).unwrap();
    let mut summary_b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out("b").join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["runs"], 6);
    assert_eq!(summary["master_seed"], 3);
    assert_eq!(summary["scenario"]["name"], "active-passive");
    let bytes = std::fs::read(scenario_path()).unwrap();
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(summary["scenario"]["sha256"], sha.as_str());
    assert_eq!(
        std::fs::read(out("a").join("scenario.toml")).unwrap(),
        bytes
    );
    let reproduce = format!(
        "drsim run {} --runs 6 --seed 3 --out {}",
        scenario_path(),
        out("a").display()
    );
    assert_eq!(summary["reproduce"], reproduce.as_str());
    summary_b["reproduce"] = summary["reproduce"].clone();
    assert_eq!(
        summary, summary_b,
        "summary.json must not depend on --threads"
    );
    check_summary(&runs, &summary);

    // incidents.csv: as many rows as the runs' incidents, the first of each
    // run describing the same incident as its runs.csv row.
    let incidents = read_csv(&out("a").join("incidents.csv"));
    let total: f64 = runs.present("incidents").iter().sum();
    assert_eq!(incidents.rows.len() as f64, total);
    for (i, run) in runs.cells("run").iter().enumerate() {
        let first = incidents
            .rows
            .iter()
            .find(|r| r[incidents.col("run")] == *run && r[incidents.col("incident")] == "0")
            .unwrap_or_else(|| panic!("no incident of run {run}"));
        for col in [
            "rto_s",
            "detection_s",
            "rto_first_s",
            "lost_writes",
            "rpo_s",
        ] {
            let a: f64 = first[incidents.col(col)].parse().unwrap();
            let b = runs.values(col)[i].unwrap();
            assert!(
                close(a, b),
                "run {run} {col}: incidents.csv {a}, runs.csv {b}"
            );
        }
    }

    // targets.csv: n, met, estimate, Wilson interval and verdict recomputed
    // from runs.csv; the exit code (3 above) is the documented one for them.
    let targets = read_csv(&out("a").join("targets.csv"));
    let verdicts = check_targets(&targets, &runs, &AP_TARGETS);
    assert_eq!(documented_exit_code(&verdicts), 3);

    // The terminal table: every labelled metric, its numbers those of
    // summary.json at the precision shown.
    assert!(
        stdout.starts_with(&format!(
            "scenario active-passive ({}), 6 runs, master seed 3\n",
            scenario_path()
        )),
        "{stdout}"
    );
    let rows = terminal_rows(&stdout);
    assert_eq!(rows.len(), LABELS.len(), "{stdout}");
    for (label, metric) in LABELS {
        let row = rows
            .iter()
            .find(|r| r.label == label)
            .unwrap_or_else(|| panic!("no row {label:?} in {stdout}"));
        let m = &summary["metrics"][metric];
        assert_eq!(row.n, m["n"].to_string(), "{label}");
        let shown = |text: &str, key: &str| {
            assert!(
                shows(text, m[key].as_f64()),
                "{label}: {key} shown {text}, is {}",
                m[key]
            );
        };
        shown(&row.mean, "mean");
        let (lo, hi) = row.ci.as_ref().expect("a CI with 6 runs");
        shown(lo, "ci95_low");
        shown(hi, "ci95_high");
        for (text, key) in row.q.iter().zip(["p50", "p90", "p99", "max"]) {
            shown(text, key);
        }
    }
    // Its targets lines: the verdicts, counts and intervals of targets.csv.
    let lines: Vec<&str> = stdout
        .lines()
        .skip_while(|l| *l != "targets:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(lines.len(), targets.rows.len(), "{stdout}");
    for (line, row) in lines.iter().zip(&targets.rows) {
        let cell = |c: &str| row[targets.col(c)].as_str();
        let t: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(t[0], cell("verdict"), "{line}");
        assert!(
            line.contains(&format!(
                " {}: {}/{} met, estimate ",
                cell("target"),
                cell("met"),
                cell("n")
            )),
            "{line}"
        );
        let after = line.split("estimate ").nth(1).unwrap();
        let nums: Vec<&str> = after
            .split([' ', '[', ']', ','])
            .filter(|s| !s.is_empty())
            .collect();
        for (text, col) in nums.iter().zip(["estimate", "ci95_low", "ci95_high"]) {
            assert!(shows(text, cell(col).parse().ok()), "{line}: {col}");
        }
        assert!(line.ends_with("(active-passive)"), "{line}");
    }
    assert_eq!(
        stdout.lines().last().unwrap(),
        format!(
            "wrote {} (open index.html); reproduce with: {reproduce}",
            out("a").display()
        )
    );

    // index.html: the targets table and the summary table hold the numbers
    // of targets.csv and summary.json.
    let html = std::fs::read_to_string(out("a").join("index.html")).unwrap();
    let page_targets = html_table(&html, 0);
    assert_eq!(page_targets.len(), targets.rows.len());
    for (tr, row) in page_targets.iter().zip(&targets.rows) {
        let cell = |c: &str| row[targets.col(c)].as_str();
        assert_eq!(tr[0], cell("scenario"));
        assert_eq!(tr[1], cell("target"));
        assert_eq!(tr[2], format!("{}/{}", cell("met"), cell("n")));
        assert!(shows(&tr[3], cell("estimate").parse().ok()), "{tr:?}");
        let (lo, hi) = tr[4].trim_matches(['[', ']']).split_once(", ").unwrap();
        assert!(shows(lo, cell("ci95_low").parse().ok()), "{tr:?}");
        assert!(shows(hi, cell("ci95_high").parse().ok()), "{tr:?}");
        assert_eq!(tr[5], cell("verdict"));
    }
    let page_summary = html_table(&html, 1);
    let metrics = summary["metrics"].as_object().unwrap();
    assert_eq!(page_summary.len(), metrics.len(), "one row per metric");
    for tr in &page_summary {
        let m = &metrics[&tr[0]];
        assert_eq!(tr[1], m["n"].to_string(), "{tr:?}");
        for (text, key) in tr[2..].iter().zip([
            "mean",
            "ci95_low",
            "ci95_high",
            "p50",
            "p90",
            "p99",
            "max",
            "std",
        ]) {
            assert!(
                shows(text, m[key].as_f64()),
                "{}: {key} shown {text}, is {}",
                tr[0],
                m[key]
            );
        }
    }
    assert!(html.contains("<tr><th>runs</th><td>6</td></tr>"));
    assert!(html.contains(&format!("<tr><th>scenario sha256</th><td>{sha}</td></tr>")));
}

#[test]
fn bad_scenario_fails_cleanly_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(scenario_path())
        .unwrap()
        .replace("threshold = 3", "threshold = -3");
    assert_eq!(text.matches("threshold = -3").count(), 1);
    std::fs::write(&bad, &text).unwrap();
    let out = dir.path().join("out");
    let o = drsim()
        .arg("run")
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    // The problem located at the bad value's line and column (1-based), as
    // README.md shows: "FILE has 1 problem", then "  FILE:LINE:COL: FIELD: why".
    let (line, col) = text
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.find("-3").map(|c| (i + 1, c + 1)))
        .unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].ends_with(&format!("{} has 1 problem", bad.display())),
        "{err}"
    );
    let located = format!(
        "  {}:{line}:{col}: failover.health_check.threshold: ",
        bad.display()
    );
    assert!(
        lines[1].starts_with(&located),
        "{err}\nexpected {located:?}"
    );
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists(), "no output folder for a rejected scenario");
}

#[test]
fn validate_reports_ok_and_help_explains() {
    let o = drsim()
        .args(["validate", &scenario_path()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    // The file's own counts: 2 [[datacenters]], 1 standby, 1 [[failures]],
    // duration = "1h".
    let text = std::fs::read_to_string(scenario_path()).unwrap();
    assert_eq!(text.matches("\n[[datacenters]]").count(), 2);
    assert_eq!(text.matches("\n[[failures]]").count(), 1);
    assert!(text.contains("standbys = [\"eu-west-1\"]") && text.contains("duration = \"1h\""));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!(
            "{}: ok (2 datacenters, 1 standby, 1 failure, horizon 1h)\n",
            scenario_path()
        )
    );
    // A rejected file: exit 1, and no "ok" for it.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        text.replace("standbys = [\"eu-west-1\"]", "standbys = [\"nowhere\"]"),
    )
    .unwrap();
    let o = drsim().arg("validate").arg(&bad).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("topology.standbys[0]: unknown datacenter \"nowhere\""),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains(": ok"));
    let o = drsim().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("run") && help.contains("validate") && help.contains("disaster-recovery")
    );
    let o = drsim().args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("--runs") && help.contains("--seed") && help.contains("--threads"));
}

/// Each verdict, and the exit code README.md documents for it, recomputed
/// from runs.csv: n, met, estimate, Wilson interval and verdict of every
/// targets.csv row, the terminal's verdict lines and the exit code.
#[test]
fn target_verdicts_set_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(scenario_path()).unwrap();
    let cut = base.find("[[targets]]").unwrap();
    let cost = base.find("[cost]").unwrap();
    let without = format!("{}{}", &base[..cut], &base[cost..]);
    // A second target that every run meets (availability is about 0.95):
    // with it, the exit code still follows the RTO target's verdict.
    let availability = "metric = \"availability\"\nmin = 0.5\nprobability = 0.5";
    for (target, bound, code, verdict) in [
        (
            "metric = \"rto_s\"\nmax = \"10m\"\nprobability = 0.5",
            600.0,
            0,
            "PASS",
        ),
        (
            "metric = \"rto_s\"\nmax = \"10s\"\nprobability = 0.5",
            10.0,
            2,
            "FAIL",
        ),
        (
            "metric = \"rto_s\"\nmax = \"195s\"\nprobability = 0.5",
            195.0,
            3,
            "UNDECIDED",
        ),
    ] {
        let file = dir.path().join("t.toml");
        std::fs::write(
            &file,
            format!("{without}\n[[targets]]\n{target}\n\n[[targets]]\n{availability}\n"),
        )
        .unwrap();
        let out = dir.path().join(format!("out-{code}"));
        let o = drsim()
            .arg("run")
            .arg(&file)
            .args(["--runs", "40", "--seed", "1"])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&o.stdout);
        let runs = read_csv(&out.join("runs.csv"));
        assert_eq!(runs.rows.len(), 40);
        let targets = read_csv(&out.join("targets.csv"));
        let verdicts = check_targets(
            &targets,
            &runs,
            &[
                ("rto_s", Bound::Max(bound), 0.5),
                ("availability", Bound::Min(0.5), 0.5),
            ],
        );
        assert_eq!(verdicts, [verdict, "PASS"], "{target}");
        assert_eq!(documented_exit_code(&verdicts), code);
        assert_eq!(o.status.code(), Some(code), "{target}: {stdout}");
        for (row, v) in targets.rows.iter().zip(&verdicts) {
            let line = format!(
                "  {v:<9} {}: {}/{} met",
                row[targets.col("target")],
                row[targets.col("met")],
                row[targets.col("n")]
            );
            assert!(stdout.contains(&line), "{line:?} not in {stdout}");
        }
    }
}

/// `drsim compare` of two bundled scenarios: each scenario's rows are those
/// `drsim run` gives it (common random numbers: run i has the same seed in
/// both), comparison.csv's statistics and paired differences recomputed
/// from the two runs files, verdicts and the documented exit code.
#[test]
fn compare_outputs_agree_with_their_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let semi = format!("{root}/scenarios/active-passive-semisync.toml");
    let out = dir.path().join("cmp");
    let o = drsim()
        .args(["compare", &scenario_path(), &semi])
        .args(["--runs", "6", "--seed", "3", "-q", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let a = read_csv(&out.join("runs-active-passive.csv"));
    let b = read_csv(&out.join("runs-active-passive-semisync.csv"));
    assert_eq!((a.rows.len(), b.rows.len()), (6, 6));
    assert_eq!(a.cells("seed"), b.cells("seed"), "run i shares its seed");
    // The first scenario's rows are a `drsim run` of it with the same seed.
    let single = dir.path().join("single");
    let st = drsim()
        .args([
            "run",
            &scenario_path(),
            "--runs",
            "6",
            "--seed",
            "3",
            "-q",
            "--out",
        ])
        .arg(&single)
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(3));
    assert_eq!(
        std::fs::read(single.join("runs.csv")).unwrap(),
        std::fs::read(out.join("runs-active-passive.csv")).unwrap()
    );

    let cmp = read_csv(&out.join("comparison.csv"));
    let metrics = outputs::metric_columns(&a);
    assert_eq!(
        cmp.rows.len(),
        2 * metrics.len(),
        "a row per (metric, scenario)"
    );
    let mut compared = 0;
    for row in &cmp.rows {
        let cell = |c: &str| row[cmp.col(c)].as_str();
        let metric = cell("metric");
        let (runs, first) = match cell("scenario") {
            "active-passive" => (&a, true),
            "active-passive-semisync" => (&b, false),
            other => panic!("unknown scenario {other}"),
        };
        let x = runs.present(metric);
        assert_eq!(cell("n"), x.len().to_string(), "{row:?}");
        let num = |c: &str| cell(c).parse::<f64>().ok();
        let near = |c: &str, want: Option<f64>| match (num(c), want) {
            (Some(v), Some(w)) => {
                assert!(
                    close(v, w),
                    "{metric} {}: {c} = {v}, recomputed {w}",
                    cell("scenario")
                )
            }
            (None, None) => {}
            (v, w) => panic!(
                "{metric} {}: {c} = {v:?}, recomputed {w:?}",
                cell("scenario")
            ),
        };
        let stat = |f: &dyn Fn(&[f64]) -> f64| (!x.is_empty()).then(|| f(&x));
        near("mean", stat(&outputs::mean));
        near("p50", stat(&|v| outputs::quantile(v, 0.5)));
        near("p90", stat(&|v| outputs::quantile(v, 0.9)));
        near("p99", stat(&|v| outputs::quantile(v, 0.99)));
        near("max", stat(&|v| v.iter().copied().fold(f64::MIN, f64::max)));
        if first {
            for c in ["diff_n", "diff_mean", "diff_ci95_low", "diff_ci95_high"] {
                assert!(cell(c).is_empty(), "{metric}: {c} of the first scenario");
            }
            continue;
        }
        // Paired differences, run by run, where both values exist: B - A.
        let d: Vec<f64> = b
            .values(metric)
            .iter()
            .zip(a.values(metric))
            .filter_map(|(y, x)| Some((*y)? - x?))
            .collect();
        assert_eq!(cell("diff_n"), d.len().to_string(), "{metric}");
        if d.is_empty() {
            continue;
        }
        near("diff_mean", Some(outputs::mean(&d)));
        if d.len() >= 2 {
            let half = outputs::t975(d.len() - 1) * outputs::std(&d) / (d.len() as f64).sqrt();
            let m = outputs::mean(&d);
            for (c, want) in [("diff_ci95_low", m - half), ("diff_ci95_high", m + half)] {
                let tol = 1e-4 * half + 1e-9 * want.abs().max(1.0);
                assert!((num(c).unwrap() - want).abs() <= tol, "{metric}: {c}");
            }
        }
        compared += 1;
    }
    assert!(compared > 30, "{compared} paired differences checked");

    // The targets: only the first file states any; the exit code follows them.
    let targets = read_csv(&out.join("targets.csv"));
    let verdicts = check_targets(&targets, &a, &AP_TARGETS);
    assert!(
        targets
            .cells("scenario")
            .iter()
            .all(|s| *s == "active-passive")
    );
    assert_eq!(
        o.status.code(),
        Some(documented_exit_code(&verdicts)),
        "{o:?}"
    );
}
