//! `drsim compare`: common random numbers and the data behind its plots.

use std::process::Command;

use drsim::metrics::compare::{ecdf, paired_difference};

use crate::common::{Knobs, run};

fn knobs() -> Knobs {
    Knobs {
        link: "jitter = { dist = \"exponential\", mean = \"3ms\" }\nloss = 0.01",
        failures: "[[failures]]\nkind = \"datacenter-outage\"\ntarget = \"dc-a\"\nat = { dist = \"uniform\", min = \"20s\", max = \"60s\" }",
        ..Knobs::default()
    }
}

#[test]
fn identical_scenarios_have_exactly_zero_paired_difference() {
    let a = run(&knobs(), 30, 5);
    let b = run(&knobs(), 30, 5);
    for metric in ["rto_s", "rpo_s", "lost_writes", "replication_lag_p99_s"] {
        let d = paired_difference(metric, &a, &b);
        assert_eq!(d.n, 30, "{metric}");
        assert_eq!(
            (d.mean, d.min, d.max),
            (Some(0.0), Some(0.0), Some(0.0)),
            "{metric}"
        );
    }
}

#[test]
fn pairing_shares_failure_draws_across_architectures() {
    // Same failures and workload, different replication: the failure instant
    // (hence detection) is drawn identically in both, run by run.
    let async_rows = run(&knobs(), 20, 9);
    let sync_rows = run(
        &Knobs {
            replication: "mode = \"sync\"",
            ..knobs()
        },
        20,
        9,
    );
    let d = paired_difference("detection_s", &async_rows, &sync_rows);
    assert!(
        d.max.unwrap().abs() < 1.0 && d.min.unwrap().abs() < 1.0,
        "{d:?}"
    );
    let lost = paired_difference("lost_writes", &async_rows, &sync_rows);
    assert!(
        lost.mean.unwrap() < 0.0,
        "sync loses fewer acknowledged writes: {lost:?}"
    );
}

#[test]
fn ecdf_behind_the_plots_is_a_distribution() {
    let rows = run(&knobs(), 40, 2);
    let rto: Vec<f64> = rows.iter().filter_map(|r| r.rto_s).collect();
    let e = ecdf(&rto);
    assert!(e.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1));
    assert_eq!(e.last().unwrap().1, 1.0);
}

#[test]
fn compare_cli_writes_the_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let a = format!("{root}/scenarios/active-passive.toml");
    let b = format!("{root}/scenarios/active-passive-semisync.toml");
    let o = Command::new(env!("CARGO_BIN_EXE_drsim"))
        .args([
            "compare", &a, &b, "--runs", "20", "--seed", "4", "--quiet", "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    // 20 runs cannot prove "RTO <= 5 min at p99": the verdict is UNDECIDED (exit 3).
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let csv = std::fs::read_to_string(dir.path().join("comparison.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("metric,scenario,n,mean,ci95_low,ci95_high")
    );
    let rto: Vec<&str> = csv.lines().filter(|l| l.starts_with("rto_s,")).collect();
    assert_eq!(rto.len(), 2);
    assert!(
        rto[0].ends_with(",,,,"),
        "the baseline has no difference: {}",
        rto[0]
    );
    assert!(!rto[1].ends_with(",,,,"), "the second has one: {}", rto[1]);
    for f in [
        "index.html",
        "ecdf_rto.svg",
        "ecdf_rto.png",
        "box_rto_s.svg",
        "runs-active-passive.csv",
        "targets.csv",
    ] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    let targets = std::fs::read_to_string(dir.path().join("targets.csv")).unwrap();
    assert!(targets.contains("UNDECIDED"), "{targets}");
}
