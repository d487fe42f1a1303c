//! Horizon runs: the aggregate treatment of the write stream against
//! per-write simulation of the same scenario, and the availability closed forms.

use drsim::metrics::row::RunRow;

use super::common::{Knobs, agree, mean, run};

/// Two data sites and a monitor site; the primary and the standby fail about
/// daily for half an hour, the link between them is degraded every other day.
fn busy_fortnight(aggregate: bool) -> Knobs {
    Knobs {
        horizon: "10d",
        simulation: if aggregate {
            "mode = \"horizon\""
        } else {
            "mode = \"horizon\"\naggregate = false"
        },
        rate: "2/s",
        link: "jitter = { dist = \"lognormal\", median = \"2ms\", sigma = 0.5 }\nloss = 0.001",
        replication: "mode = \"async\"\nshipping = \"periodic\"\ninterval = \"5s\"",
        failures: r#"
[[failures]]
kind = "datacenter-outage"
target = "dc-a"
every = { dist = "exponential", mean = "1d" }
duration = { dist = "exponential", mean = "30m" }

[[failures]]
kind = "datacenter-outage"
target = "dc-b"
every = { dist = "exponential", mean = "1d" }
duration = { dist = "exponential", mean = "30m" }

[[failures]]
kind = "link-degraded"
link = ["dc-a", "dc-b"]
latency_multiplier = 3.0
extra_loss = 0.05
every = { dist = "exponential", mean = "2d" }
duration = { dist = "exponential", mean = "1h" }
"#,
        ..Knobs::default()
    }
}

#[test]
fn aggregate_writes_agree_with_per_write_simulation() {
    let aggregate = run(&busy_fortnight(true), 160, 11);
    let per_write = run(&busy_fortnight(false), 160, 12);
    for metric in [
        "lost_writes",
        "rpo_s_max",
        "rpo_s",
        "replication_lag_mean_s",
        "replication_lag_p99_s",
        "write_latency_p99_ms",
        "availability",
        "failovers",
        "false_failovers",
        "incidents",
        "rto_s",
    ] {
        agree(metric, &aggregate, &per_write);
    }
    // The point of it: a small fraction of the events.
    let events = |rows: &[RunRow]| rows.iter().map(|r| r.events).sum::<u64>();
    assert!(
        events(&aggregate) * 5 < events(&per_write),
        "{} vs {} events",
        events(&aggregate),
        events(&per_write)
    );
}

/// Only the primary fails (briefly) and the link degrades: replication lag is
/// mostly steady-state lag, which aggregate periods take from steady samples.
#[test]
fn steady_lag_and_latency_agree_with_per_write_simulation() {
    let knobs = |aggregate: bool| Knobs {
        failures: r#"
[[failures]]
kind = "datacenter-outage"
target = "dc-a"
every = { dist = "exponential", mean = "2d" }
duration = { dist = "exponential", mean = "5m" }

[[failures]]
kind = "link-degraded"
link = ["dc-a", "dc-b"]
latency_multiplier = 5.0
extra_loss = 0.1
every = { dist = "exponential", mean = "1d" }
duration = { dist = "exponential", mean = "3h" }
"#,
        replication: "mode = \"async\"\nshipping = \"continuous\"",
        ..busy_fortnight(aggregate)
    };
    let aggregate = run(&knobs(true), 120, 21);
    let per_write = run(&knobs(false), 120, 22);
    for metric in [
        "replication_lag_mean_s",
        "replication_lag_p99_s",
        "lost_writes",
        "rpo_s_max",
        "availability",
        "failovers",
    ] {
        agree(metric, &aggregate, &per_write);
    }
}

/// One site, exponential failures (mean 1000 s) and repairs (mean 100 s):
/// availability MTBF / (MTBF + MTTR) and T / (MTBF + MTTR) failures in T.
#[test]
fn one_site_availability_and_failure_count_match_closed_forms() {
    let knobs = Knobs {
        horizon: "20d",
        simulation: "mode = \"horizon\"",
        rate: "1/s",
        standbys: &[],
        failures: r#"
[[failures]]
kind = "datacenter-outage"
target = "dc-a"
every = { dist = "exponential", mean = "1000s" }
duration = { dist = "exponential", mean = "100s" }
"#,
        ..Knobs::default()
    };
    let rows = run(&knobs, 60, 5);
    let (a, a_se, _) = mean(rows.iter().map(|r| r.availability));
    let expected = 1000.0 / 1100.0;
    // Writes are Poisson, so the served fraction estimates the up-time fraction.
    assert!(
        (a - expected).abs() < 4.0 * a_se,
        "availability {a} +- {a_se}, expected {expected}"
    );
    let (n, n_se, _) = mean(rows.iter().map(|r| r.incidents as f64));
    let cycles = 20.0 * 86_400.0 / 1100.0;
    assert!(
        (n - cycles).abs() < 4.0 * n_se,
        "failures {n} +- {n_se}, expected {cycles}"
    );
    // Downtime per year is the unavailability in minutes.
    let (d, _, _) = mean(rows.iter().map(|r| r.downtime_min_per_year));
    assert!((d - (1.0 - a) * 525_960.0).abs() < 1e-6 * d, "{d}");
}

/// Two independent sites (each up a fraction A = 1/2) with near-instant
/// failover: down only when both are, so availability 1 - (1 - A)^2 = 0.75.
#[test]
fn two_sites_with_instant_failover_are_down_only_when_both_are() {
    let knobs = Knobs {
        horizon: "20d",
        simulation: "mode = \"horizon\"",
        rate: "1/s",
        health: "interval = \"1s\"\ntimeout = \"100ms\"\nthreshold = 1",
        promotion: "\"0s\"",
        dns: "ttl = \"0s\"\nupdate_delay = \"0s\"",
        failures: r#"
[[failures]]
kind = "datacenter-outage"
target = "dc-a"
every = { dist = "exponential", mean = "500s" }
duration = { dist = "exponential", mean = "500s" }

[[failures]]
kind = "datacenter-outage"
target = "dc-b"
every = { dist = "exponential", mean = "500s" }
duration = { dist = "exponential", mean = "500s" }
"#,
        ..Knobs::default()
    };
    let rows = run(&knobs, 40, 6);
    let (a, a_se, _) = mean(rows.iter().map(|r| r.availability));
    // Each failover costs about 0.6 s (detection on a 1 s grid plus the
    // timeout) per 1000 s cycle: a bias of about 3e-4, within the tolerance.
    assert!(
        (a - 0.75).abs() < 4.0 * a_se + 1e-3,
        "availability {a} +- {a_se}, expected 0.75"
    );
    assert!(rows.iter().all(|r| r.failovers > 100));
}

#[test]
fn horizon_runs_do_not_depend_on_the_thread_count() {
    let s = super::common::scenario(&busy_fortnight(true));
    let one = drsim::runner::monte_carlo(&s, 12, 3, 1, &|| {}).unwrap();
    let two = drsim::runner::monte_carlo(&s, 12, 3, 2, &|| {}).unwrap();
    assert_eq!(one, two);
    assert!(one.iter().any(|r| r.incident_log.len() > 1));
    // Run i is the same whatever the study around it.
    let more = drsim::runner::monte_carlo(&s, 16, 3, 2, &|| {}).unwrap();
    assert_eq!(one[..], more[..12]);
}

/// Regressions of the aggregate treatment found in review, each against
/// per-write simulation of the same scenario.
#[test]
fn aggregate_periods_respect_sync_waits_failovers_and_low_rates() {
    // Sync: a down standby holds every acknowledgement, so no aggregate
    // period may run while it is down; latency must match per-write.
    let sync = |aggregate: bool| Knobs {
        horizon: "3d",
        replication: "mode = \"sync\"",
        failures: r#"
[[failures]]
kind = "datacenter-outage"
target = "dc-b"
every = { dist = "exponential", mean = "1d" }
duration = { dist = "exponential", mean = "2h" }
"#,
        ..busy_fortnight(aggregate)
    };
    let (a, p) = (run(&sync(true), 30, 31), run(&sync(false), 30, 32));
    agree("write_latency_p99_ms", &a, &p);
    agree("availability", &a, &p);
    // After a permanent failover the steady state is the new primary's: its
    // latency (20 ms from the clients), not the old one's (0 ms).
    let moved = |aggregate: bool| Knobs {
        horizon: "5d",
        failures: "[[failures]]\nkind = \"datacenter-outage\"\ntarget = \"dc-a\"\nat = \"1d\"\n",
        ..busy_fortnight(aggregate)
    };
    for r in run(&moved(true), 5, 33) {
        let p50 = r.write_latency_p50_ms.unwrap();
        assert!((p50 - 20.2).abs() < 0.1, "{p50}");
    }
    // One write an hour: exactly one arrival chain across aggregate periods.
    let sparse = Knobs {
        horizon: "300d",
        rate: "1/h",
        standbys: &[],
        simulation: "mode = \"horizon\"",
        ..Knobs::default()
    };
    let (w, se, _) = mean(run(&sparse, 20, 34).iter().map(|r| r.writes as f64));
    assert!(
        (w - 7200.0).abs() < 4.0 * se.max(85.0 / 20f64.sqrt()),
        "{w} +- {se}"
    );
}
