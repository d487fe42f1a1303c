//! `drsim drill`: the planned failover and failback exercise, step by step.

use std::path::Path;
use std::process::{Command, Output};

fn drsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_drsim"))
}

fn scenario(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn drill(file: &str, extra: &[&str], out: &Path) -> Output {
    drsim()
        .arg("drill")
        .arg(file)
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// drill.csv as (run, step, duration, success) rows.
fn parse(bytes: &[u8]) -> Vec<(u64, u32, Option<f64>, bool)> {
    let mut r = csv::Reader::from_reader(bytes);
    assert_eq!(
        r.headers().unwrap(),
        vec!["run", "seed", "step", "name", "duration_s", "success"]
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let duration = (!rec[4].is_empty()).then(|| rec[4].parse().unwrap());
            (
                rec[0].parse().unwrap(),
                rec[2].parse().unwrap(),
                duration,
                &rec[5] == "1",
            )
        })
        .collect()
}

#[test]
fn drill_on_active_passive_succeeds_step_by_step() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let args = ["--runs", "30", "--seed", "1", "--threads", "1"];
    let o = drill(&scenario("active-passive.toml"), &args, &a);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("verify service"), "{stdout}");
    assert!(stdout.contains("lost writes per run: mean"), "{stdout}");
    assert!(
        stdout.contains("reproduce with: drsim drill ") && stdout.contains("--fail-at 5m"),
        "{stdout}"
    );
    let first = std::fs::read(a.join("drill.csv")).unwrap();

    let rows = parse(&first);
    assert_eq!(rows.len(), 30 * 6);
    for run in rows.chunks(6) {
        let steps: Vec<u32> = run.iter().map(|r| r.1).collect();
        assert_eq!(steps, [1, 2, 3, 4, 5, 6]);
        assert!(run.iter().all(|r| r.0 == run[0].0));
        assert!(run[0].2.is_none(), "the health check has no duration");
        for r in &run[1..] {
            assert!(r.3 && r.2.is_some(), "run {} step {} failed", r.0, r.1);
        }
        let d = |k: usize| run[k].2.unwrap();
        // Three failed checks 30 s apart, the last timing out after 2 s: 62..92 s
        // after the failure. A probe lost just before the failure counts as one
        // of the three (one interval earlier); two lost in a row (~1e-5) do not occur.
        let detection = d(1);
        assert!(detection <= 93.0, "run {}: detection {detection}", run[0].0);
        assert!(detection >= 31.0, "run {}: detection {detection}", run[0].0);
        assert!(d(3) + 1e-9 >= d(1) + d(2), "run {}: {run:?}", run[0].0);
        assert!(d(2) > 0.0 && d(4) > 0.0 && d(5) > 0.0, "{run:?}");
    }
    let early = rows
        .iter()
        .filter(|r| r.1 == 2 && r.2.unwrap() < 61.0)
        .count();
    assert!(
        early <= 2,
        "{early} of 30 detections faster than the threshold allows"
    );

    for name in [
        "steps.csv",
        "runs.csv",
        "summary.json",
        "index.html",
        "scenario.toml",
    ] {
        assert!(a.join(name).is_file(), "missing {name}");
    }
    let steps = std::fs::read_to_string(a.join("steps.csv")).unwrap();
    assert_eq!(steps.lines().count(), 7, "{steps}");
    assert!(
        steps
            .lines()
            .nth(4)
            .unwrap()
            .starts_with("4,verify service,1,30,30,1,")
    );
    assert_eq!(
        std::fs::read_to_string(a.join("runs.csv"))
            .unwrap()
            .lines()
            .count(),
        31
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["drill"]["fail_at_s"], 300.0);
    assert_eq!(summary["drill"]["horizon_s"], 300.0 + 1800.0 + 7200.0);

    // Same command again, then another thread count: the same bytes.
    let o = drill(&scenario("active-passive.toml"), &args, &a);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(std::fs::read(a.join("drill.csv")).unwrap(), first);
    let args2 = ["--runs", "30", "--seed", "1", "--threads", "2", "--quiet"];
    let o = drill(&scenario("active-passive.toml"), &args2, &b);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty(), "--quiet prints nothing");
    assert_eq!(std::fs::read(b.join("drill.csv")).unwrap(), first);
    assert_eq!(
        std::fs::read(b.join("steps.csv")).unwrap(),
        std::fs::read(a.join("steps.csv")).unwrap()
    );
}

#[test]
fn drill_errors_are_clear_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let expect_error = |o: Output, words: &[&str]| {
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        for w in words {
            assert!(stderr.contains(w), "{w:?} not in {stderr}");
        }
        assert!(!out.exists(), "nothing may be written on error");
    };
    let ap = scenario("active-passive.toml");
    expect_error(
        drill(&ap, &["--runs", "2", "--fail-at", "soon"], &out),
        &["--fail-at", "invalid duration \"soon\""],
    );
    expect_error(
        drill(&ap, &["--runs", "2", "--restore-after", "0s"], &out),
        &["--restore-after must be positive"],
    );
    let lone = dir.path().join("lone.toml");
    let text = std::fs::read_to_string(&ap).unwrap();
    std::fs::write(
        &lone,
        text.replace("standbys = [\"eu-west-1\"]", "standbys = []"),
    )
    .unwrap();
    expect_error(
        drill(lone.to_str().unwrap(), &["--runs", "2"], &out),
        &["lone.toml", "at least one standby"],
    );
}

/// The drill of every architecture on the fair comparison's files: the
/// primary (active-passive), the active region (hybrid) or the busiest
/// active site (active-active) fails at 5 min for 30 min. Every step that
/// the architecture has succeeds in every run; active-active has no restore
/// or failback step (its clients return by routing), reported as such.
#[test]
fn drill_runs_on_every_architecture() {
    let dir = tempfile::tempdir().unwrap();
    for (design, failed) in [
        ("active-passive", "us-east-1 failed"),
        ("hybrid", "region us-east failed"),
        ("active-active", "us-east-2 failed"),
    ] {
        let out = dir.path().join(design);
        let file = scenario(&format!("compare/{design}-incident.toml"));
        let o = drill(&file, &["--runs", "8", "--seed", "3"], &out);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{design}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(stdout.contains(failed), "{design}: {stdout}");
        let steps = std::fs::read_to_string(out.join("steps.csv")).unwrap();
        let lines: Vec<&str> = steps.lines().skip(1).collect();
        assert_eq!(lines.len(), 6, "{steps}");
        for (k, line) in lines.iter().enumerate() {
            let f: Vec<&str> = line.split(',').collect();
            let applies = design != "active-active" || k < 4;
            if applies {
                assert_eq!(&f[2..5], ["1", "8", "8"], "{design} step {}: {line}", k + 1);
            } else {
                assert_eq!(&f[2..5], ["0", "0", "0"], "{design} step {}: {line}", k + 1);
            }
        }
        // Detection: three failed 30 s checks, the last timing out after 5 s.
        for r in parse(&std::fs::read(out.join("drill.csv")).unwrap()) {
            if r.1 == 2 {
                let d = r.2.unwrap();
                assert!((60.0..=95.0).contains(&d), "{design} run {}: {d}", r.0);
            }
        }
    }
}
