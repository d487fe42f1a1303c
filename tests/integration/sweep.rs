//! `drsim sweep`: grid rows agree with separate runs; bad specs are explained.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::browser::data_marks;
use crate::cli::outputs::{self, Table, check_summary, html_table_with_header, read_csv, shows};

fn drsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_drsim"))
}

fn bundled(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `drsim run` of `text` (a scenario) with `runs` runs and seed `seed` into
/// `dir/name`: its runs.csv and summary.json, the summary checked against
/// statistics recomputed from runs.csv.
fn separate_run(dir: &Path, name: &str, text: &str, runs: &str, seed: &str) -> (Table, Value) {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, text).unwrap();
    let out = dir.join(name);
    let st = drsim()
        .arg("run")
        .arg(&file)
        .args(["--runs", runs, "--seed", seed, "-q", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    // A target verdict (0, 2 or 3; a few runs rarely settle the file's p99
    // target), not an error and not a crash.
    assert!(matches!(st.code(), Some(0 | 2 | 3)), "{st:?}");
    let table = read_csv(&out.join("runs.csv"));
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    check_summary(&table, &summary);
    (table, summary)
}

/// Every metric cell of a sweep.csv row (`_n`, `_mean`, `_ci95_low`,
/// `_ci95_high`, `_p99`) equals that metric of a separate run's summary.json;
/// returns how many metrics were compared.
fn row_equals_run(sweep: &Table, row: &[String], summary: &Value) -> usize {
    let metrics = summary["metrics"].as_object().unwrap();
    for (metric, m) in metrics {
        for (suffix, key) in [
            ("n", "n"),
            ("mean", "mean"),
            ("ci95_low", "ci95_low"),
            ("ci95_high", "ci95_high"),
            ("p99", "p99"),
        ] {
            let cell = &row[sweep.col(&format!("{metric}_{suffix}"))];
            match m[key].as_f64() {
                Some(v) => assert_eq!(
                    cell.parse::<f64>().ok(),
                    Some(v),
                    "point {}: {metric}_{suffix}",
                    row[0]
                ),
                None => assert!(
                    cell.is_empty(),
                    "point {}: {metric}_{suffix} = {cell}",
                    row[0]
                ),
            }
        }
    }
    // The sweep has no other metric columns than those.
    let metric_cols = sweep.header.len() - 1 - (sweep.header.len() - 1) % 5;
    assert_eq!(metric_cols, 5 * metrics.len(), "{:?}", sweep.header);
    metrics.len()
}

/// The reference file with its shipping interval set to `interval`.
fn with_interval(text: &str, interval: &str) -> String {
    let edited = text.replace(
        "interval = \"1s\"        # the reference",
        &format!("interval = \"{interval}\"        # the reference"),
    );
    assert_ne!(text, edited);
    edited
}

/// The exit code the README documents for a study's targets.csv: 2 if any
/// target failed, else 3 if any is undecided, else 0 (also without targets).
fn documented_exit_code(out: &std::path::Path) -> i32 {
    let Ok(text) = std::fs::read_to_string(out.join("targets.csv")) else {
        return 0;
    };
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let col = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "verdict")
        .unwrap();
    let verdicts: Vec<String> = r.records().map(|x| x.unwrap()[col].to_string()).collect();
    assert!(!verdicts.is_empty(), "targets.csv without rows");
    if verdicts.iter().any(|v| v == "FAIL") {
        2
    } else if verdicts.iter().any(|v| v == "UNDECIDED") {
        3
    } else {
        0
    }
}

#[test]
fn each_sweep_row_equals_a_separate_run_at_that_point() {
    let dir = tempfile::tempdir().unwrap();
    let st = drsim()
        .args([
            "sweep",
            &bundled("active-passive.toml"),
            "--param",
            "replication.interval=0.5s,2s",
            "--runs",
            "30",
            "--seed",
            "9",
            "-q",
            "--out",
        ])
        .arg(dir.path().join("sweep"))
        .status()
        .unwrap();
    // The verdicts of every point decide the exit code, as for `run`.
    assert_eq!(
        st.code(),
        Some(documented_exit_code(&dir.path().join("sweep")))
    );
    let sweep = read_csv(&dir.path().join("sweep/sweep.csv"));
    assert_eq!(sweep.rows.len(), 2);
    assert_eq!(sweep.header[..2], ["point", "replication.interval"]);
    assert_eq!(sweep.cells("point"), ["0", "1"]);
    assert_eq!(sweep.cells("replication.interval"), ["0.5s", "2s"]);

    // Each point written by hand, run with `drsim run`, the same seeds.
    let text = std::fs::read_to_string(bundled("active-passive.toml")).unwrap();
    for (row, (interval, secs)) in sweep.rows.iter().zip([("0.5s", 0.5), ("2s", 2.0)]) {
        let (runs, summary) = separate_run(
            dir.path(),
            &format!("point-{}", row[0]),
            &with_interval(&text, interval),
            "30",
            "9",
        );
        assert!(row_equals_run(&sweep, row, &summary) > 30);
        // Periodic shipping every T at 100 writes/s, the primary failing at a
        // uniform instant: the writes since the last shipped batch, 100 T / 2
        // on average, plus those of a batch still in flight (the one-way
        // delay and the transmission: under 0.1 s). Two-sided, at 4 standard
        // errors of the 30 runs (about +-11 writes at 0.5 s, +-43 at 2 s): a
        // point run at the other interval (4x) is far outside.
        let lost = runs.present("lost_writes");
        let se = outputs::std(&lost) / (lost.len() as f64).sqrt();
        let mean = outputs::mean(&lost);
        let (lo, hi) = (100.0 * secs / 2.0, 100.0 * (secs / 2.0 + 0.1));
        assert!(
            mean >= lo - 4.0 * se && mean <= hi + 4.0 * se,
            "interval {interval}: mean lost writes {mean}, expected [{lo}, {hi}] +- 4 x {se}"
        );
    }
}

/// The sweep file's [sweep] table, 5 x 3 points of 3 runs: the grid's
/// values, each row's statistics (detection and RPO within the bounds its
/// point implies, one point against a separate run), the page's grid table
/// and figures with data.
#[test]
fn the_bundled_sweep_file_runs_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let o = drsim()
        .args([
            "sweep",
            &bundled("active-passive-sweep.toml"),
            "--runs",
            "3",
            "-q",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    // The verdicts of every point decide the exit code, as for `run`.
    let code = documented_exit_code(&out);
    assert_ne!(code, 0, "3 runs cannot pass a 0.99 target");
    assert_eq!(
        o.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let sweep = read_csv(&out.join("sweep.csv"));
    assert_eq!(sweep.rows.len(), 15);
    let (rep, hc) = ("replication.interval", "failover.health_check.interval");
    assert_eq!(sweep.header[..3], ["point", rep, hc]);
    // "0.25s..4s:log:5": 5 values from 0.25 s to 4 s at a constant ratio (2);
    // the grid in row-major order, the first parameter slowest.
    let reps = ["0.25s", "0.5s", "1s", "2s", "4s"];
    let hcs = ["10s", "30s", "60s"];
    for (i, row) in sweep.rows.iter().enumerate() {
        assert_eq!(row[0], i.to_string());
        assert_eq!(row[sweep.col(rep)], reps[i / 3], "point {i}");
        assert_eq!(row[sweep.col(hc)], hcs[i % 3], "point {i}");
    }
    let secs = |v: &str| -> f64 { v.trim_end_matches('s').parse().unwrap() };
    let cell = |row: &[String], c: &str| -> f64 { row[sweep.col(c)].parse().unwrap() };
    for row in &sweep.rows {
        let (t, h) = (secs(&row[sweep.col(rep)]), secs(&row[sweep.col(hc)]));
        // Every run has its incident (a permanent outage in 10-30 min).
        assert_eq!(cell(row, "detection_s_n"), 3.0);
        assert_eq!(cell(row, "rto_s_n"), 3.0);
        // Detection: the threshold-th (3rd) failed check after the failure,
        // checks every h and failing at the 2 s timeout: between 2 h + 2 s
        // (a check sent just before the failure; minus its network trip) and
        // 3 h + 2 s. A mean of runs lies within the runs' range.
        let det = cell(row, "detection_s_mean");
        assert!(
            det >= 2.0 * h + 2.0 - 0.1 && det <= 3.0 * h + 2.0,
            "point {}: detection {det} with checks every {h} s",
            row[0]
        );
        // RPO window: at most the shipping interval plus a batch's delivery.
        let rpo = cell(row, "rpo_s_mean");
        assert!(
            (0.0..=t + 0.1).contains(&rpo),
            "point {}: RPO {rpo} with shipping every {t} s",
            row[0]
        );
    }
    // One point (4 s, 30 s) by hand: the reference file's values edited.
    let text = std::fs::read_to_string(bundled("active-passive-sweep.toml")).unwrap();
    assert!(text.contains("interval = \"30s\"       # health_check_interval"));
    let (_, summary) = separate_run(
        dir.path(),
        "point-13",
        &with_interval(&text, "4s"),
        "3",
        "42",
    );
    assert!(row_equals_run(&sweep, &sweep.rows[13], &summary) > 30);

    // index.html's grid table: one row per point, each metric's mean and CI
    // those of sweep.csv at the precision shown.
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let (header, rows) = html_table_with_header(&html, 0);
    assert_eq!(header[..2], [rep, hc]);
    assert_eq!(rows.len(), 15);
    for (tr, row) in rows.iter().zip(&sweep.rows) {
        assert_eq!(tr[..2], row[1..3]);
        for (metric, text) in header[2..].iter().zip(&tr[2..]) {
            let (mean, ci) = text.split_once(" [").unwrap();
            let (lo, hi) = ci.trim_end_matches(']').split_once(", ").unwrap();
            for (shown, suffix) in [(mean, "mean"), (lo, "ci95_low"), (hi, "ci95_high")] {
                let v = row[sweep.col(&format!("{metric}_{suffix}"))].parse().ok();
                assert!(
                    shows(shown, v),
                    "point {}: {metric}_{suffix} shown {shown}, is {v:?}",
                    row[0]
                );
            }
        }
    }
    // The figures: each SVG holds data marks inside its axes, and the page
    // inlines every one of them.
    for f in [
        "sweep_rpo_s.svg",
        "sweep_rto_s.svg",
        "heatmap_rto_s.svg",
        "heatmap_rpo_s.svg",
        "pareto_cost_rpo_s.svg",
        "pareto_cost_rto_s.svg",
    ] {
        let svg = std::fs::read_to_string(out.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let marks = data_marks(&svg).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(marks >= 2, "{f}: {marks} data marks");
        let png = std::fs::read(out.join(f.replace(".svg", ".png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{f}: PNG");
        assert!(
            html.contains(&format!("<a href=\"{}\">SVG</a>", f)),
            "{f} not on the page"
        );
    }
    // The heatmaps: one cell per grid point.
    let cells = |f: &str| {
        std::fs::read_to_string(out.join(f))
            .unwrap()
            .lines()
            .filter(|l| {
                l.starts_with("<rect")
                    && !l.contains("fill=\"#FFFFFF\"")
                    && !l.contains("fill=\"none\"")
            })
            .count()
    };
    assert_eq!(cells("heatmap_rto_s.svg"), 15);
}

#[test]
fn bad_sweep_specs_get_clear_errors_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    for (param, expected) in [
        (
            "replikation.interval=1s,2s",
            "unknown parameter path \"replikation.interval\": no table \"replikation\"",
        ),
        ("replication.interval=0s..10s:log:4", "cannot reach zero"),
        ("replication.interval=1s..5s:lin:0", "empty range"),
        ("replication.interval=1s..10s:lin:101", ""),
        ("replication.interval", "PATH=VALUES"),
        ("replication.interval=-1s,1s", "replication.interval"),
    ] {
        let out = dir.path().join("out");
        let mut cmd = drsim();
        cmd.args([
            "sweep",
            &bundled("active-passive.toml"),
            "--param",
            param,
            "--runs",
            "2",
            "-q",
            "--out",
        ])
        .arg(&out);
        if param.ends_with(":101") {
            // 101 x 101 points: over the grid limit.
            cmd.args(["--param", "failover.dns.ttl=1s..100s:lin:101"]);
        }
        let o = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{param}: {err}");
        let expected = if expected.is_empty() {
            "more than 10000 points"
        } else {
            expected
        };
        assert!(err.contains(expected), "{param}: {err}");
        assert!(!out.exists(), "{param}: no output on error");
    }
}
