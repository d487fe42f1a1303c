//! Horizon runs: the aggregate treatment of the write stream against
//! per-write simulation of the same scenario, and the availability closed forms.

use drsim::metrics::row::RunRow;

use super::common::{Knobs, agree, agree_abs, mean, run, same};

/// Runs of each treatment in the first agreement test: paired, so a quarter
/// of the 160 independent runs Welch's test needed, for tolerances 2 to
/// 2,000 times tighter (listed with each metric).
const RUNS: u64 = 40;

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

/// Aggregate and per-write runs with the same seeds share every failure
/// (drawn up front from the failures stream) and every health-check outcome
/// (pre-drawn runs of the probes stream in both), so the failover chain is
/// the same run by run; only the writes differ (one Poisson draw per period
/// against one arrival at a time).
#[test]
fn aggregate_writes_agree_with_per_write_simulation() {
    let aggregate = run(&busy_fortnight(true), RUNS, 11);
    let per_write = run(&busy_fortnight(false), RUNS, 11);
    // Exact, run by run: nothing here depends on the writes.
    for metric in [
        "failovers",
        "false_failovers",
        "incidents",
        "detection_s",
        "rto_s",
        "rto_first_s",
    ] {
        same(metric, &aggregate, &per_write);
    }
    // Paired, each with the largest tolerance (4 SE of the mean difference)
    // it may have, relative to the mean; measured tolerances in comments
    // (before, Welch at 4 SE with 160 independent runs of each: 27% to 130%).
    // A bias of 1.5 tolerances fails (98%): a 5% error fails on every metric
    // but rpo_s, the first incident's window only (17%: 25% fails).
    for (metric, max_rel) in [
        ("lost_writes", 0.04),            // 3.6%
        ("rpo_s_max", 0.01),              // 0.06%
        ("rpo_s", 0.25),                  // 17%
        ("replication_lag_mean_s", 0.01), // 0.6%
        ("replication_lag_p99_s", 0.02),  // 1.2%
        ("write_latency_p99_ms", 0.01),   // equal in every run
        ("downtime_min_per_year", 0.03),  // 2.0%
    ] {
        agree(metric, &aggregate, &per_write, max_rel);
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

/// Only the primary fails (briefly; it takes its role back a minute after
/// its resync) and the link degrades: replication lag is mostly steady-state
/// lag, which aggregate periods take from steady samples.
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
        failover: "failback = true\nfailback_delay = \"1m\"",
        ..busy_fortnight(aggregate)
    };
    // Paired (same seeds: the same failures and checks, so the same failover
    // chain), 80 runs of each instead of 120 independent ones.
    let aggregate = run(&knobs(true), 80, 21);
    let per_write = run(&knobs(false), 80, 21);
    for metric in ["failovers", "incidents", "rto_s"] {
        same(metric, &aggregate, &per_write);
    }
    // Measured tolerances (4 SE) in comments; before, Welch with 120 runs:
    // 56% (lag mean), 12% (lag p99), 6.7% (availability, as downtime).
    // Downtime is refused writes (about 450 a run, over some 5 incidents:
    // failback makes every outage of dc-a one), whose Poisson noise does not
    // pair. The tolerance is 4 SE (measured values listed), capped at the
    // listed fraction so the test keeps its power: a 5% error is 1.4 or more
    // tolerances, which fails with probability 98% or more.
    for (metric, max_rel) in [
        ("replication_lag_mean_s", 0.02), // 0.96%
        ("replication_lag_p99_s", 0.05),  // 3.5%
        ("downtime_min_per_year", 0.035), // 2.8%
    ] {
        agree(metric, &aggregate, &per_write, max_rel);
    }
    // Lost writes are rare here (a primary outage during a degradation):
    // within 1 write and 0.2 s of RPO a run.
    agree_abs("lost_writes", &aggregate, &per_write, 1.0);
    agree_abs("rpo_s_max", &aggregate, &per_write, 0.2);
}

/// One site, exponential failures (mean 1000 s) and repairs (mean 100 s):
/// availability MTBF / (MTBF + MTTR), T / (MTBF + MTTR) failures in T, and
/// each outage (no standby: the site recovers in place, RTO = the outage)
/// exponential with mean MTTR.
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
    // Writes are Poisson, so the served fraction estimates the up-time
    // fraction. Power: by renewal theory the down time in T of alternating
    // exponential up (m_u) and down (m_d) periods has variance
    // 2 T m_u^2 m_d^2 / (m_u + m_d)^3, a per-run sd of the down fraction of
    // 2.95e-3 (3.2% of the unavailability 1/11); over 60 runs the SE is 0.42%
    // of it, so 4 SE is 1.7% of the unavailability (0.15% of A): a 5% error
    // in the unavailability, about 47,800 minutes a year, fails.
    let (a, a_se, _) = mean(rows.iter().map(|r| r.availability));
    let expected = 1000.0 / 1100.0;
    assert!(
        (a - expected).abs() < 4.0 * a_se,
        "availability {a} +- {a_se}, expected {expected}"
    );
    assert!(4.0 * a_se < 0.025 * (1.0 - expected), "SE {a_se}");
    // Failures in T: a renewal count with variance T var(cycle) / E(cycle)^3,
    // a per-run sd of 36 on 1,571 (2.3%): 4 SE over 60 runs is 1.2%.
    let (n, n_se, _) = mean(rows.iter().map(|r| r.incidents as f64));
    let cycles = 20.0 * 86_400.0 / 1100.0;
    assert!(
        (n - cycles).abs() < 4.0 * n_se,
        "failures {n} +- {n_se}, expected {cycles}"
    );
    assert!(4.0 * n_se < 0.02 * cycles, "SE {n_se}");
    // Each outage (about 94,000 of them) is an exponential repair: mean 100 s
    // (SE 100 / sqrt(94,000) = 0.33 s, 4 SE = 1.3%: a 5% error in the mean
    // fails), and longer than its mean with probability e^-1 = 0.368 (SE
    // 0.0016, 4 SE = 1.7% of it: a repair of the right mean but another
    // shape fails, e.g. uniform on (0, 200 s) gives 0.5, a lognormal of
    // sigma 1 0.31). Incidents still open at the horizon have no RTO.
    let outages: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.incident_log.iter().filter_map(|i| i.rto_s))
        .collect();
    let (m, m_se, count) = mean(outages.iter().copied());
    assert!(count > 90_000, "{count} outages");
    assert!((m - 100.0).abs() < 4.0 * m_se, "mean outage {m} +- {m_se}");
    let p = outages.iter().filter(|&&x| x > 100.0).count() as f64 / count as f64;
    let p_expected = (-1.0f64).exp();
    let p_se = (p_expected * (1.0 - p_expected) / count as f64).sqrt();
    assert!(
        (p - p_expected).abs() < 4.0 * p_se,
        "P(outage > 100 s) = {p}, expected {p_expected} +- {p_se}"
    );
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
    // Paired (same seeds, so the same standby outages): the p99 latency (a
    // wait for the standby's return, hours) within 4 SE = 0.5% (before,
    // Welch with independent runs: about 100%). Only the standby fails: no
    // write is refused in either.
    let (a, p) = (run(&sync(true), 30, 31), run(&sync(false), 30, 31));
    agree("write_latency_p99_ms", &a, &p, 0.01);
    same("downtime_min_per_year", &a, &p);
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

/// The RPO window of aggregate horizon runs against its closed form. Only
/// the primary fails (about every 12 h, for about 10 min), and it takes the
/// primary role back a minute after its resync (failback), so every outage
/// of dc-a is an incident. Shipping every I = 5 s at lambda = 2 writes/s,
/// the primary fails at a uniform phase u of the shipping ticks. The window
/// (docs/metrics.md) runs from the newest shipped write to the failure,
/// u + G with G ~ Exp(lambda) the gap before that tick, and is 0 when no
/// write came after the tick (probability e^(-lambda u)): E = (1/I) int_0^I
/// (u + 1/lambda)(1 - e^(-lambda u)) du = (1/I)(I^2/2 + I/lambda -
/// (1 - e^(-lambda I)(1 + lambda I))/lambda^2 - (1 - e^(-lambda I))/lambda^2)
/// = 2.9000 s (an empty previous interval, e^-10, and the 20 ms delivery,
/// which still lands, do not count). The closed form holds for incidents
/// that fail over: an outage shorter than detection (about 25 s of a 10 min
/// mean, ~4% of them) ends with the primary back and its writes intact, so
/// it loses nothing; that is asserted separately. Per incident the sd is
/// about 1.6 s; ~2,400 failed-over incidents give 4 SE = 4.7% of the mean
/// (asserted below 5%): a 5% error fails. Measured: 2.916 +- 0.034 over
/// 2,407 (all 2,511 incidents together: 2.795, the short outages' zeros
/// included). This is the closed-form check of the busy-fortnight agreement
/// test's `rpo_s`, whose paired tolerance is wide (first incidents only).
#[test]
fn aggregate_rpo_window_is_half_the_interval_plus_the_gap() {
    let k = Knobs {
        horizon: "20d",
        simulation: "mode = \"horizon\"",
        rate: "2/s",
        replication: "mode = \"async\"\nshipping = \"periodic\"\ninterval = \"5s\"",
        failover: "failback = true\nfailback_delay = \"1m\"",
        failures: r#"
[[failures]]
kind = "datacenter-outage"
target = "dc-a"
every = { dist = "exponential", mean = "12h" }
duration = { dist = "exponential", mean = "10m" }
"#,
        ..Knobs::default()
    };
    let rows = run(&k, 64, 17);
    let incidents = || rows.iter().flat_map(|r| r.incident_log.iter());
    let (m, se, n) = mean(
        incidents()
            .filter(|i| i.detection_s.is_some())
            .map(|i| i.rpo_s),
    );
    let short: Vec<_> = incidents().filter(|i| i.detection_s.is_none()).collect();
    // Between 1% and 10% of the incidents end before detection (expected ~4%).
    assert!(
        short.len() * 100 > n && short.len() * 10 < n,
        "{} short outages of {n}",
        short.len()
    );
    for i in &short {
        assert_eq!(
            (i.lost_writes, i.rpo_s),
            (0, 0.0),
            "an outage over before detection lost writes: {i:?}"
        );
    }
    let (i, l) = (5.0f64, 2.0f64);
    let tail = (-l * i).exp();
    let expected =
        (i * i / 2.0 + i / l - (1.0 - tail * (1.0 + l * i)) / (l * l) - (1.0 - tail) / (l * l)) / i;
    assert!(
        (expected - 2.9).abs() < 1e-4,
        "hand value 2.9 s: {expected}"
    );
    eprintln!("rpo window {m} +- {se} over {n} incidents, expected {expected}");
    assert!(4.0 * se < 0.05 * expected, "test too weak: {n} incidents");
    assert!(
        (m - expected).abs() <= 4.0 * se,
        "rpo window {m} +- {se}, expected {expected}"
    );
}
