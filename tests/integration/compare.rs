//! `drsim compare`: common random numbers and the data behind its plots.

use std::process::Command;

use drsim::metrics::compare::{ecdf, paired_difference};

use crate::common::{Knobs, mean, run};

fn knobs() -> Knobs {
    Knobs {
        link: "jitter = { dist = \"exponential\", mean = \"3ms\" }\nloss = 0.01",
        failures: "[[failures]]\nkind = \"datacenter-outage\"\ntarget = \"dc-a\"\nat = { dist = \"uniform\", min = \"20s\", max = \"60s\" }",
        ..Knobs::default()
    }
}

/// Two scenarios that differ only in the promotion delay, by exactly one DNS
/// TTL (10 s and 40 s; TTL 30 s, update delay 0, no drain). With common
/// random numbers run i has in both the same failure instant, detection and
/// client refresh phases (clients refresh at phase + k TTL), and the same
/// write arrivals. The DNS record changes exactly 30 s later, so every
/// client's first refresh after it is exactly one TTL later: the paired
/// difference of rto_s and rto_first_s is 30 s in every run (closed form,
/// exact: any error fails), detection and lost writes (decided at the
/// failure, the link being up) do not change, nor do the writes attempted.
/// Each client is refused 30 s longer: the extra refused writes are the
/// arrivals in those windows, Poisson with mean 100/s x 30 s = 3,000 (sd
/// 55, SE over 30 runs 10): tolerance 4 SE = 1.3%, a 5% error fails.
#[test]
fn a_promotion_one_ttl_longer_delays_every_client_by_exactly_one_ttl() {
    let fast = run(&knobs(), 30, 5);
    let slow = run(
        &Knobs {
            promotion: "\"40s\"",
            ..knobs()
        },
        30,
        5,
    );
    for (metric, expected) in [
        ("rto_s", 30.0),
        ("rto_first_s", 30.0),
        ("detection_s", 0.0),
        ("lost_writes", 0.0),
        ("writes", 0.0),
    ] {
        let d = paired_difference(metric, &fast, &slow);
        assert_eq!(d.n, 30, "{metric}");
        for x in [d.mean, d.min, d.max] {
            let x = x.unwrap();
            assert!((x - expected).abs() < 1e-6, "{metric}: {d:?}");
        }
    }
    let refused: Vec<f64> = slow
        .iter()
        .zip(&fast)
        .map(|(s, f)| s.writes_failed as f64 - f.writes_failed as f64)
        .collect();
    let (m, se, _) = mean(refused.iter().copied());
    let d = paired_difference("writes_failed", &fast, &slow);
    assert!((d.mean.unwrap() - m).abs() < 1e-9, "{d:?}");
    assert!(
        (m - 3000.0).abs() < 4.0 * se,
        "extra refused writes {m} +- {se}, expected 3000"
    );
    assert!(4.0 * se < 0.03 * 3000.0, "SE {se}");
}

/// Same failures and workload, different replication: the failure instant
/// and the health checks (their own stream, apart from data traffic) are
/// drawn identically in both, run by run, so detection and, with no drain,
/// the whole failover chain are exactly equal; sync loses no acknowledged
/// write (its only standby confirmed each one), async loses some.
#[test]
fn pairing_shares_failure_draws_across_architectures() {
    let async_rows = run(&knobs(), 20, 9);
    let sync_rows = run(
        &Knobs {
            replication: "mode = \"sync\"",
            ..knobs()
        },
        20,
        9,
    );
    for metric in ["detection_s", "rto_s", "rto_first_s"] {
        let d = paired_difference(metric, &async_rows, &sync_rows);
        assert_eq!(d.n, 20, "{metric}");
        assert_eq!(
            (d.mean, d.min, d.max),
            (Some(0.0), Some(0.0), Some(0.0)),
            "{metric}"
        );
    }
    assert!(sync_rows.iter().all(|r| r.lost_writes == 0));
    let lost = paired_difference("lost_writes", &async_rows, &sync_rows);
    let (async_lost, _, _) = mean(async_rows.iter().map(|r| r.lost_writes as f64));
    assert!(async_lost > 0.0, "async loses writes in flight");
    // The difference is taken against the first (the baseline): sync - async.
    assert!((lost.mean.unwrap() + async_lost).abs() < 1e-9, "{lost:?}");
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
