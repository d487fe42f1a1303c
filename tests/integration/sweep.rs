//! `drsim sweep`: grid rows agree with separate runs; bad specs are explained.

use std::process::Command;

fn drsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_drsim"))
}

fn bundled(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Column `name` of the CSV row whose first cell is `point`.
fn cell(csv: &str, point: &str, name: &str) -> f64 {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    let row = lines.find(|l| l.split(',').next() == Some(point)).unwrap();
    row.split(',').nth(col).unwrap().parse().unwrap()
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
    assert_eq!(
        st.code(),
        Some(documented_exit_code(&dir.path().join("sweep")))
    );
    let csv = std::fs::read_to_string(dir.path().join("sweep/sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3);

    // The same point written by hand, run with `drsim run`.
    let text = std::fs::read_to_string(bundled("active-passive.toml")).unwrap();
    let edited = text.replace(
        "interval = \"1s\"        # the reference",
        "interval = \"2s\"        # the reference",
    );
    assert_ne!(text, edited);
    let file = dir.path().join("point.toml");
    std::fs::write(&file, edited).unwrap();
    let st = drsim()
        .arg("run")
        .arg(&file)
        .args(["--runs", "30", "--seed", "9", "-q", "--out"])
        .arg(dir.path().join("run"))
        .status()
        .unwrap();
    // 30 runs cannot settle the file's p99 target: exit 3 (undecided), not an error.
    assert_eq!(st.code(), Some(3), "{st:?}");
    assert_eq!(
        st.code(),
        Some(documented_exit_code(&dir.path().join("run")))
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("run/summary.json")).unwrap())
            .unwrap();
    for metric in ["rto_s", "rpo_s", "lost_writes", "detection_s"] {
        let run_mean = summary["metrics"][metric]["mean"].as_f64().unwrap();
        assert_eq!(
            cell(&csv, "1", &format!("{metric}_mean")),
            run_mean,
            "{metric}"
        );
        let run_p99 = summary["metrics"][metric]["p99"].as_f64().unwrap();
        assert_eq!(
            cell(&csv, "1", &format!("{metric}_p99")),
            run_p99,
            "{metric}"
        );
    }
    // Longer shipping intervals lose more.
    assert!(cell(&csv, "1", "lost_writes_mean") > cell(&csv, "0", "lost_writes_mean"));
}

#[test]
fn the_bundled_sweep_file_runs_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let o = drsim()
        .args([
            "sweep",
            &bundled("active-passive-sweep.toml"),
            "--runs",
            "3",
            "-q",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    // The verdicts of all points decide the exit code, as for `run`.
    let code = documented_exit_code(dir.path());
    assert_ne!(code, 0, "3 runs cannot pass a 0.99 target");
    assert_eq!(
        o.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let csv = std::fs::read_to_string(dir.path().join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 15);
    for f in [
        "index.html",
        "sweep_rpo_s.svg",
        "sweep_rpo_s.png",
        "heatmap_rto_s.svg",
        "pareto_cost_rpo_s.svg",
    ] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
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
