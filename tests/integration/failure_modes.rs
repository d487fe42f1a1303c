//! Behaviour under each kind of failure, checked against what must happen.

use crate::common::{Knobs, mean, run};

const PRIMARY_OUT_AT_20S: &str =
    "[[failures]]\nkind = \"datacenter-outage\"\ntarget = \"dc-a\"\nat = \"20s\"";

/// Writes outpacing the link queue at the primary (lag grows); when the primary
/// dies, what it had not yet transmitted is lost with it.
#[test]
fn backlog_queued_at_a_dead_primary_is_lost() {
    // 100 writes/s of 12500 B on 5 Mbps: 20 ms each, rho = 2, so only half of
    // the writes have left the primary by the failure at 20 s.
    let k = Knobs {
        horizon: "3m",
        rate: "100/s",
        write_size: "\"12500B\"",
        link: "bandwidth = \"5Mbps\"",
        failures: PRIMARY_OUT_AT_20S,
        ..Knobs::default()
    };
    let rows = run(&k, 20, 4);
    let (lost, se, _) = mean(rows.iter().map(|r| r.lost_writes as f64));
    // committed ~ 2000, transmitted ~ 20 s / 20 ms = 1000.
    assert!(
        (lost - 1000.0).abs() < 4.0 * se + 20.0,
        "lost {lost} +- {se}"
    );
    for r in &rows {
        // The last write to land waited behind ~1000 others: ~10 s of lag.
        let max = r.replication_lag_max_s.unwrap();
        assert!(max > 9.0 && max < 11.0, "lag max {max}");
        assert!(r.rpo_s > 9.0 && r.rpo_s < 11.0, "rpo {}", r.rpo_s);
    }
}

/// An outage shorter than detection ends without failover; the RTO is the outage.
#[test]
fn short_outage_recovers_in_place() {
    let k = Knobs {
        failures: "[[failures]]\nkind = \"datacenter-outage\"\ntarget = \"dc-a\"\nat = \"20s\"\nduration = \"5s\"",
        ..Knobs::default()
    };
    for r in run(&k, 10, 1) {
        assert_eq!(r.failovers, 0);
        assert_eq!(r.lost_writes, 0);
        assert!((r.rto_s.unwrap() - 5.0).abs() < 1e-9, "{:?}", r.rto_s);
        assert_eq!(r.detection_s, None);
        assert!(r.writes_failed > 0);
    }
}

/// A manual failover waits for the operator: RTO grows by the operator delay.
#[test]
fn manual_failover_adds_the_operator_delay() {
    let auto = Knobs {
        failures: PRIMARY_OUT_AT_20S,
        ..Knobs::default()
    };
    let text = crate::common::toml(&auto).replace(
        "mode = \"automatic\"",
        "mode = \"manual\"\noperator_delay = \"3m\"",
    );
    let manual = drsim::scenario::parse("manual.toml", &text).unwrap();
    let rows_m = drsim::runner::monte_carlo(&manual, 20, 3, 0, &|| {}).unwrap();
    let rows_a = run(&auto, 20, 3);
    for (m, a) in rows_m.iter().zip(&rows_a) {
        assert_eq!(m.detection_s, a.detection_s, "same seed, same detection");
        let extra = m.rto_s.unwrap() - a.rto_s.unwrap();
        // 180 s of operator delay; the TTL phase differs by < one TTL (30 s).
        assert!((extra - 180.0).abs() < 30.0, "manual adds {extra}");
    }
}

/// Lossy health checks raise false alarms; a higher threshold suppresses them,
/// and a clean network never has any.
#[test]
fn lossy_checks_cause_false_failovers() {
    let lossy = |threshold: u32, loss: f64| {
        let link = format!("[[links]]\nbetween = [\"dc-a\", \"dc-c\"]\nloss = {loss}");
        let health = format!("interval = \"5s\"\ntimeout = \"1s\"\nthreshold = {threshold}");
        Knobs {
            horizon: "30m",
            rate: "1/s",
            links: Box::leak(link.into_boxed_str()),
            health: Box::leak(health.into_boxed_str()),
            ..Knobs::default()
        }
    };
    let count = |k: &Knobs| {
        run(k, 40, 8)
            .iter()
            .map(|r| r.false_failovers as f64)
            .sum::<f64>()
    };
    let (t1, t3, clean) = (
        count(&lossy(1, 0.05)),
        count(&lossy(3, 0.05)),
        count(&lossy(1, 0.0)),
    );
    // Threshold 1: P(a check fails) ~ 1 - 0.95^2 ~ 0.1, so every run fails over.
    assert!(t1 >= 40.0, "threshold 1: {t1}");
    assert!(
        t3 < t1,
        "threshold 3 ({t3}) should alarm less than threshold 1 ({t1})"
    );
    assert_eq!(clean, 0.0);
}

/// A partition between monitor and primary fails over a healthy primary; the
/// drain wait then decides between losing the backlog and waiting for it.
#[test]
fn drain_timeout_trades_rto_for_rpo() {
    let scenario = |drain: &'static str| Knobs {
        horizon: "5m",
        rate: "100/s",
        write_size: "\"12500B\"",
        links: "[[links]]\nbetween = [\"dc-a\", \"dc-b\"]\nbandwidth = \"5Mbps\"",
        drain,
        failures: "[[failures]]\nkind = \"link-down\"\nlink = [\"dc-a\", \"dc-c\"]\nat = \"20s\"",
        ..Knobs::default()
    };
    let short = run(&scenario("wait = true\ntimeout = \"2s\""), 10, 6);
    let long = run(&scenario("wait = true\ntimeout = \"10m\""), 10, 6);
    let none = run(&scenario("wait = false"), 10, 6);
    for ((s, l), n) in short.iter().zip(&long).zip(&none) {
        assert_eq!(
            (s.false_failovers, l.false_failovers, n.false_failovers),
            (1, 1, 1)
        );
        assert_eq!(l.lost_writes, 0, "an unbounded drain loses nothing");
        assert!(
            s.lost_writes > 0 && s.lost_writes < n.lost_writes,
            "{} vs {}",
            s.lost_writes,
            n.lost_writes
        );
        // The long drain waited for the backlog: clients were refused longer.
        assert!(l.writes_failed > s.writes_failed);
    }
}

/// A degraded link multiplies its latency, and the replication lag with it.
#[test]
fn degraded_link_slows_replication() {
    let k = Knobs {
        horizon: "60s",
        failures: "[[failures]]\nkind = \"link-degraded\"\nlink = [\"dc-a\", \"dc-b\"]\nat = \"0s\"\nlatency_multiplier = 3.0",
        ..Knobs::default()
    };
    for r in run(&k, 3, 2) {
        let lag = r.replication_lag_mean_s.unwrap();
        assert!((lag - 0.060).abs() < 1e-4, "lag {lag}");
    }
}

/// Random mixes of failures, modes and timings: the engine never panics and
/// every row satisfies the invariants that hold whatever happened (ones the
/// engine could break, not ones the row's own arithmetic guarantees such as
/// availability in [0, 1]: closed-form values are checked in
/// `refused_writes_are_the_rate_times_each_clients_down_time`).
#[test]
fn random_failure_mixes_keep_invariants() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(2024);
    let modes = [
        "mode = \"async\"",
        "mode = \"async\"\nshipping = \"periodic\"\ninterval = \"2s\"",
        "mode = \"sync\"",
        "mode = \"semi-sync\"\nacks = 1",
    ];
    let sites = ["dc-a", "dc-b", "dc-c"];
    for case in 0..60 {
        let mut failures = String::new();
        for _ in 0..rng.random_range(1..5) {
            let at = rng.random_range(0..240);
            let dur = rng.random_range(1..200);
            let (x, y) = (sites[rng.random_range(0..3)], sites[rng.random_range(0..3)]);
            let kind = rng.random_range(0..3);
            let body = match kind {
                0 => format!("kind = \"datacenter-outage\"\ntarget = \"{x}\""),
                _ if x == y => format!("kind = \"datacenter-outage\"\ntarget = \"{x}\""),
                1 => format!("kind = \"link-down\"\nlink = [\"{x}\", \"{y}\"]"),
                _ => format!(
                    "kind = \"link-degraded\"\nlink = [\"{x}\", \"{y}\"]\nlatency_multiplier = 4.0\nextra_loss = 0.3"
                ),
            };
            let duration = if rng.random_bool(0.2) {
                String::new()
            } else {
                format!("\nduration = \"{dur}s\"")
            };
            failures += &format!("[[failures]]\n{body}\nat = \"{at}s\"{duration}\n\n");
        }
        let k = Knobs {
            horizon: "6m",
            rate: "50/s",
            link: "jitter = { dist = \"pareto\", scale = \"1ms\", shape = 1.5 }\nloss = 0.02\nbandwidth = \"20Mbps\"",
            standbys: if case % 2 == 0 {
                &["dc-b"]
            } else {
                &["dc-b", "dc-c"]
            },
            replication: modes[case % modes.len()],
            health: "interval = \"5s\"\ntimeout = \"1s\"\nthreshold = 2",
            drain: if case % 3 == 0 {
                "wait = false"
            } else {
                "wait = true\ntimeout = \"20s\""
            },
            failures: Box::leak(failures.into_boxed_str()),
            ..Knobs::default()
        };
        for r in run(&k, 4, case as u64) {
            assert!(r.false_failovers <= r.failovers, "case {case}: {r:?}");
            assert!(r.lost_writes <= r.writes);
            if let (Some(rto), Some(first)) = (r.rto_s, r.rto_first_s) {
                assert!(
                    first <= rto + 1e-9,
                    "case {case}: first {first} > all {rto}"
                );
            }
            if let (Some(rto), Some(det)) = (r.rto_s, r.detection_s) {
                assert!(
                    det <= rto + 1e-9,
                    "case {case}: detection {det} > rto {rto}"
                );
            }
            if r.lost_writes == 0 {
                assert_eq!(r.rpo_s, 0.0);
            }
        }
    }
}

/// Writes are refused while the client's DNS entry names a down primary, so
/// the refused writes are Poisson with mean rate x each client's down time,
/// summed over clients (rate/100 each, 100 clients).
#[test]
fn refused_writes_are_the_rate_times_each_clients_down_time() {
    // An outage of 10 s shorter than detection (3 checks 10 s apart): every
    // client is down exactly 10 s, so 100/s x 10 s = 1,000 refused writes,
    // sd sqrt(1000) = 32, SE over 20 runs 7 to 8: 4 SE = 3.1%, a 5% error
    // fails.
    let k = Knobs {
        horizon: "60s",
        failures: "[[failures]]\nkind = \"datacenter-outage\"\ntarget = \"dc-a\"\nat = \"20s\"\nduration = \"10s\"",
        ..Knobs::default()
    };
    let rows = run(&k, 20, 7);
    assert!(rows.iter().all(|r| r.failovers == 0));
    let (m, se, _) = mean(rows.iter().map(|r| r.writes_failed as f64));
    eprintln!("short outage: refused {m} +- {se}, expected 1000");
    assert!((m - 1000.0).abs() < 4.0 * se, "refused {m} +- {se}");
    assert!(4.0 * se < 0.035 * 1000.0, "SE {se}");
    // A permanent outage with failover: client c is down for the detection
    // D, the promotion P = 10 s (no drain, no DNS update delay) and the wait
    // w_c for its next cache refresh, uniform on (0, TTL = 30 s) and
    // independent across clients. Given the run's D, refused writes have
    // mean 100/s x (D + P + 15 s) (about 5,100) and variance 100/s x (D + P +
    // 15 s) + (1/s)^2 x 100 x 30^2 / 12 = about 112^2: SE over 40 runs 18,
    // 4 SE = 1.4%; a 5% error, or a refresh wait of a whole TTL (+1,500),
    // fails.
    let k = Knobs {
        horizon: "5m",
        failures: "[[failures]]\nkind = \"datacenter-outage\"\ntarget = \"dc-a\"\nat = { dist = \"uniform\", min = \"100s\", max = \"200s\" }",
        ..Knobs::default()
    };
    let rows = run(&k, 40, 8);
    let excess: Vec<f64> = rows
        .iter()
        .map(|r| {
            let d = r.detection_s.expect("detected");
            r.writes_failed as f64 - 100.0 * (d + 10.0 + 15.0)
        })
        .collect();
    let (m, se, _) = mean(excess.iter().copied());
    eprintln!("failover: refused - 100/s x (D + P + TTL/2) = {m} +- {se}");
    assert!(
        m.abs() < 4.0 * se,
        "refused - 100/s x (D + P + TTL/2) = {m} +- {se}"
    );
    assert!(4.0 * se < 0.02 * 5100.0, "SE {se}");
}

/// A partition between the monitor and a healthy primary: without fencing the
/// old primary serves on after the promotion (split brain, divergent writes);
/// STONITH prevents it; a quorum witness that still sees the primary vetoes
/// the failover, and lets a real outage through.
#[test]
fn split_brain_needs_fencing() {
    let partition = "[[failures]]\nkind = \"link-down\"\nlink = [\"dc-a\", \"dc-c\"]\nat = \"20s\"";
    let outage = "[[failures]]\nkind = \"datacenter-outage\"\ntarget = \"dc-a\"\nat = \"20s\"";
    let with = |failures: &'static str, fencing: &str| {
        let text = crate::common::toml(&Knobs {
            horizon: "5m",
            failures,
            ..Knobs::default()
        })
        .replace(
            "mode = \"automatic\"",
            &format!("mode = \"automatic\"\n{fencing}"),
        );
        let s = drsim::scenario::parse("fencing.toml", &text).unwrap_or_else(|e| panic!("{e}"));
        drsim::runner::monte_carlo(&s, 5, 12, 0, &|| {}).unwrap()
    };
    for r in with(partition, "fencing = \"none\"") {
        assert_eq!(r.false_failovers, 1);
        assert!(r.split_brain_s > 200.0, "split brain {} s", r.split_brain_s);
        assert!(
            r.divergent_writes > 0,
            "clients still on the old primary wrote there"
        );
    }
    for r in with(partition, "fencing = \"stonith\"") {
        assert_eq!(
            (r.false_failovers, r.split_brain_s, r.divergent_writes),
            (1, 0.0, 0)
        );
    }
    for r in with(
        partition,
        "fencing = \"quorum-witness\"\nwitness = \"dc-b\"",
    ) {
        assert_eq!(
            (r.failovers, r.split_brain_s, r.divergent_writes),
            (0, 0.0, 0),
            "vetoed"
        );
        assert_eq!(r.writes_failed, 0);
    }
    for r in with(outage, "fencing = \"quorum-witness\"\nwitness = \"dc-b\"") {
        assert_eq!(r.failovers, 1, "a real outage still fails over");
        assert_eq!(r.split_brain_s, 0.0);
    }
}
