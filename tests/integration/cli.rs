//! The binary as a user meets it: exit codes, messages, output files.

use std::process::Command;

fn drsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_drsim"))
}

fn scenario_path() -> String {
    format!(
        "{}/scenarios/active-passive.toml",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn run_writes_reproducible_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name);
    for (name, threads) in [("a", "1"), ("b", "2")] {
        let st = drsim()
            .args([
                "run",
                &scenario_path(),
                "--runs",
                "6",
                "--seed",
                "3",
                "--quiet",
                "--threads",
                threads,
                "--out",
            ])
            .arg(out(name))
            .status()
            .unwrap();
        // Six runs cannot settle the scenario's p99 RTO target: exit 3 (undecided).
        assert_eq!(st.code(), Some(3));
    }
    let a = std::fs::read(out("a").join("runs.csv")).unwrap();
    let b = std::fs::read(out("b").join("runs.csv")).unwrap();
    assert_eq!(a, b, "runs.csv must not depend on --threads");
    let text = String::from_utf8(a).unwrap();
    let header = text.lines().next().unwrap();
    for col in [
        "run",
        "seed",
        "rto_s",
        "detection_s",
        "rpo_s",
        "lost_writes",
        "replication_lag_p99_s",
        "replication_lag_max_s",
        "write_latency_p50_ms",
        "write_latency_p99_ms",
        "failovers",
        "false_failovers",
        "events",
    ] {
        assert!(header.split(',').any(|c| c == col), "missing column {col}");
    }
    assert_eq!(text.lines().count(), 7);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out("a").join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["runs"], 6);
    assert_eq!(summary["master_seed"], 3);
    assert_eq!(summary["scenario"]["name"], "active-passive");
    assert_eq!(summary["scenario"]["sha256"].as_str().unwrap().len(), 64);
    let rto = &summary["metrics"]["rto_s"];
    assert!(rto["ci95_low"].as_f64().unwrap() <= rto["mean"].as_f64().unwrap());
    assert!(rto["p99"].as_f64().unwrap() <= rto["max"].as_f64().unwrap());
    assert!(summary["reproduce"].as_str().unwrap().contains("--seed 3"));
}

#[test]
fn bad_scenario_fails_cleanly_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(scenario_path())
        .unwrap()
        .replace("threshold = 3", "threshold = -3");
    std::fs::write(&bad, text).unwrap();
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
    assert!(
        err.contains("bad.toml:") && err.contains("failover.health_check.threshold"),
        "{err}"
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
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains(": ok"));
    let o = drsim().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("run") && help.contains("validate") && help.contains("disaster-recovery")
    );
    let o = drsim().args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("--runs") && help.contains("--seed") && help.contains("--threads"));
}

#[test]
fn target_verdicts_set_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(scenario_path()).unwrap();
    let cut = base.find("[[targets]]").unwrap();
    let cost = base.find("[cost]").unwrap();
    let without = format!("{}{}", &base[..cut], &base[cost..]);
    for (target, code, verdict) in [
        (
            "metric = \"rto_s\"\nmax = \"10m\"\nprobability = 0.5",
            0,
            "PASS",
        ),
        (
            "metric = \"rto_s\"\nmax = \"10s\"\nprobability = 0.5",
            2,
            "FAIL",
        ),
        (
            "metric = \"rto_s\"\nmax = \"195s\"\nprobability = 0.5",
            3,
            "UNDECIDED",
        ),
    ] {
        let file = dir.path().join("t.toml");
        std::fs::write(&file, format!("{without}\n[[targets]]\n{target}\n")).unwrap();
        let out = dir.path().join(format!("out-{code}"));
        let o = drsim()
            .arg("run")
            .arg(&file)
            .args(["--runs", "40", "--seed", "1"])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(code),
            "{target}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        let csv = std::fs::read_to_string(out.join("targets.csv")).unwrap();
        assert!(csv.lines().nth(1).unwrap().ends_with(verdict), "{csv}");
        assert!(String::from_utf8_lossy(&o.stdout).contains(verdict));
    }
}
