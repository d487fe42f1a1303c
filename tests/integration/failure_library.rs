//! The failure library: partitions, failure domains, gray failures and
//! replication stalls, each shown by what it does to a run.

use super::common::{Knobs, mean, run};

/// dc-a primary, dc-b standby, the monitor in dc-c (see `common`).
fn base() -> Knobs {
    Knobs {
        horizon: "20m",
        rate: "50/s",
        ..Knobs::default()
    }
}

#[test]
fn a_partition_isolating_the_primary_fails_over_a_healthy_primary() {
    let k = Knobs {
        failures: r#"
[[failures]]
kind = "partition"
sides = [["dc-a"], ["dc-b", "dc-c"]]
at = "5m"
duration = "10m"
"#,
        ..base()
    };
    for r in run(&k, 20, 1) {
        // Cut off from the monitor and the standby, the primary looks dead:
        // it is fenced (stonith) and the standby promoted without what the
        // primary committed after the cut.
        assert_eq!((r.failovers, r.false_failovers), (1, 1), "{r:?}");
        // Detection takes 2 to 3 check intervals (10 s) plus the timeout:
        // the writes of that window are lost.
        assert!((19.0..32.0).contains(&r.rpo_s_max), "{}", r.rpo_s_max);
        assert!(r.lost_writes > 50 * 15, "{}", r.lost_writes);
        assert_eq!(r.incident, 0);
    }
}

#[test]
fn a_failure_domain_takes_its_sites_down_together() {
    let domain = r#"
[[failure_domains]]
id = "shared-power"
datacenters = ["dc-a", "dc-b"]

[[failures]]
kind = "domain-outage"
domain = "shared-power"
at = "5m"
"#;
    // The only standby shares the primary's power: nothing to fail over to.
    let alone = Knobs {
        failures: domain,
        ..base()
    };
    for r in run(&alone, 10, 2) {
        assert_eq!((r.failovers, r.recovered), (0, 0), "{r:?}");
    }
    // A standby outside the domain takes over.
    let spread = Knobs {
        failures: domain,
        standbys: &["dc-b", "dc-c"],
        ..base()
    };
    for r in run(&spread, 10, 2) {
        assert_eq!((r.failovers, r.recovered), (1, 1), "{r:?}");
    }
}

#[test]
fn a_gray_primary_flaps_its_health_checks_into_false_failovers() {
    let k = Knobs {
        failures: r#"
[[failures]]
kind = "gray-failure"
target = "dc-a"
check_failure = 0.5
at = "2m"
duration = "15m"
"#,
        ..base()
    };
    let rows = run(&k, 40, 3);
    // 90 checks at 1/2 each: three in a row fail almost surely.
    let false_failovers = rows.iter().filter(|r| r.false_failovers == 1).count();
    assert!(false_failovers >= 36, "{false_failovers} of 40");
    // The failure is gray: nothing crashed, so there is no incident.
    assert!(rows.iter().all(|r| r.incident == 0));
}

#[test]
fn a_gray_primary_failing_writes_costs_availability_without_a_failover() {
    let k = Knobs {
        failures: r#"
[[failures]]
kind = "gray-failure"
target = "dc-a"
write_failure = 0.3
at = "5m"
duration = "10m"
"#,
        ..base()
    };
    let rows = run(&k, 40, 4);
    assert!(rows.iter().all(|r| r.failovers == 0));
    let (a, se, _) = mean(rows.iter().map(|r| r.availability));
    // 30% of the writes of 10 minutes out of 20 fail: availability 0.85.
    assert!((a - 0.85).abs() < 4.0 * se + 1e-3, "{a} +- {se}");
}

#[test]
fn a_stalled_standby_loses_what_it_did_not_apply() {
    let stall = r#"
[[failures]]
kind = "replication-stall"
target = "dc-b"
at = "2m"
duration = "4m"
"#;
    // Without a failover the stall only shows as lag: about 4 minutes.
    let lag = Knobs {
        failures: stall,
        ..base()
    };
    for r in run(&lag, 5, 5) {
        let max = r.replication_lag_max_s.unwrap();
        assert!((235.0..245.0).contains(&max), "{max}");
        assert_eq!(r.lost_writes, 0);
    }
    // The primary fails during the stall: the standby is promoted with what
    // it had applied 3 minutes earlier.
    let crash = Knobs {
        failures: Box::leak(
            format!(
                "{stall}\n[[failures]]\nkind = \"datacenter-outage\"\ntarget = \"dc-a\"\nat = \"5m\"\n"
            )
            .into_boxed_str(),
        ),
        ..base()
    };
    for r in run(&crash, 5, 5) {
        assert_eq!(r.failovers, 1);
        assert!(r.rpo_s > 179.0 && r.rpo_s < 181.0, "rpo {}", r.rpo_s);
        assert!(r.lost_writes > 50 * 170, "{}", r.lost_writes);
    }
}

/// dc-a fails at 5 min for 10 min; dc-b takes over; dc-a rejoins, resyncs
/// over a link of `bandwidth`, and (with failback) takes the primary role back.
fn failback_knobs(bandwidth: &'static str, failback: bool) -> Knobs {
    Knobs {
        horizon: "40m",
        link: bandwidth,
        drain: "wait = true\ntimeout = \"2m\"",
        dns: "ttl = \"30s\"\nupdate_delay = \"5s\"",
        failover: if failback {
            "failback = true\nfailback_delay = \"1m\""
        } else {
            ""
        },
        failures: r#"
[[failures]]
kind = "datacenter-outage"
target = "dc-a"
at = "5m"
duration = "10m"
"#,
        ..base()
    }
}

#[test]
fn a_repaired_primary_resyncs_at_link_speed_then_fails_back() {
    let slow = run(&failback_knobs("bandwidth = \"10Mbps\"", true), 10, 8);
    let fast = run(&failback_knobs("bandwidth = \"20Mbps\"", true), 10, 8);
    for (s, f) in slow.iter().zip(&fast) {
        // The backlog is the writes of about 9.5 minutes at 50/s of 1 KiB:
        // about 23 s at 10 Mbps, half that at 20 Mbps.
        let (rs, rf) = (s.resync_s.unwrap(), f.resync_s.unwrap());
        assert!((18.0..28.0).contains(&rs), "resync at 10 Mbps: {rs}");
        assert!((rs / rf - 2.0).abs() < 0.1, "{rs} vs {rf}");
        for r in [s, f] {
            assert_eq!((r.failovers, r.failbacks), (1, 1), "{r:?}");
            // Failback: drain, 10 s promotion, 5 s DNS update, up to one 30 s TTL.
            let fb = r.failback_s.unwrap();
            assert!((15.0..46.0).contains(&fb), "failback took {fb}");
        }
    }
    // The planned switchover drains first: it loses nothing the failover did not.
    let without = run(&failback_knobs("bandwidth = \"10Mbps\"", false), 10, 8);
    for (a, b) in slow.iter().zip(&without) {
        assert_eq!(a.lost_writes, b.lost_writes);
        assert_eq!((b.failbacks, b.failback_s), (0, None));
        assert!(
            a.availability < b.availability,
            "the switchover costs availability"
        );
    }
}

#[test]
fn alerts_fire_after_a_failure_and_stay_quiet_without_one() {
    let alerts = "\n[alerts]\ninterval = \"10s\"\n";
    let crash = Knobs {
        failures: Box::leak(
            format!("{alerts}\n[[failures]]\nkind = \"datacenter-outage\"\ntarget = \"dc-a\"\nat = \"5m\"\n")
                .into_boxed_str(),
        ),
        ..base()
    };
    for r in run(&crash, 30, 9) {
        // Checks every 10 s: the error-rate alert at the first check after
        // the crash, the lag alert once the standby's data is 30 s old.
        let errors = r.alert_errors_s.unwrap();
        assert!(errors > 0.0 && errors <= 10.0, "{errors}");
        let lag = r.alert_lag_s.unwrap();
        assert!((30.0..=40.1).contains(&lag), "{lag}");
        assert_eq!(r.false_alerts, 0);
        assert_eq!(r.alert_latency_s, None);
    }
    // No failure, a clean link: nothing fires. A degraded link (3 x 40 ms
    // one way > 100 ms, 5% loss) raises the latency and loss alerts: true ones.
    let quiet = Knobs {
        failures: alerts,
        link: "loss = 0.001",
        ..base()
    };
    assert!(run(&quiet, 10, 9).iter().all(|r| r.alerts == 0));
    let degraded = Knobs {
        failures: Box::leak(
            format!("{alerts}\n[[failures]]\nkind = \"link-degraded\"\nlink = [\"dc-a\", \"dc-b\"]\nlatency_multiplier = 3.0\nextra_loss = 0.05\nat = \"5m\"\nduration = \"5m\"\n")
                .into_boxed_str(),
        ),
        links: "[[links]]\nbetween = [\"dc-a\", \"dc-b\"]\nlatency = \"40ms\"",
        ..base()
    };
    for r in run(&degraded, 10, 9) {
        assert!(r.alerts >= 2 && r.false_alerts == 0, "{r:?}");
    }
}

const TWO_PATHS: &str = "[[links]]\nbetween = [\"dc-a\", \"dc-b\"]\nlatency = \"40ms\"\n\n[[links.backup]]\nname = \"carrier-b\"\nlatency = \"60ms\"\n";

#[test]
fn a_backup_path_carries_replication_while_the_primary_path_is_cut() {
    let cut = r#"
[[failures]]
kind = "link-down"
link = ["dc-a", "dc-b"]
at = "5m"
duration = "10m"
"#;
    let with = Knobs {
        links: TWO_PATHS,
        failures: cut,
        ..base()
    };
    for r in run(&with, 5, 10) {
        // Away after the 10 s switch delay, back when the cut is repaired.
        assert_eq!(r.path_switches, 2, "{r:?}");
        let lag = r.replication_lag_max_s.unwrap();
        assert!(lag < 12.0, "lag {lag}");
    }
    let without = Knobs {
        failures: cut,
        ..base()
    };
    for r in run(&without, 5, 10) {
        assert_eq!(r.path_switches, 0);
        assert!(r.replication_lag_max_s.unwrap() > 590.0);
    }
}

#[test]
fn an_unhealthy_path_is_left_for_a_healthy_one_by_score() {
    // 3 x 40 ms = 120 ms one way: the latency term drops to 0 and the score
    // to 0.696, below the 0.7 threshold; the 60 ms backup scores 0.816.
    let degraded = Knobs {
        links: TWO_PATHS,
        failures: r#"
[[failures]]
kind = "link-degraded"
link = ["dc-a", "dc-b"]
latency_multiplier = 3.0
at = "5m"
duration = "5m"
"#,
        ..base()
    };
    assert!(run(&degraded, 5, 11).iter().all(|r| r.path_switches == 2));
    // A milder degradation (2 x 40 ms: score 0.756) keeps the primary path.
    let mild = Knobs {
        links: TWO_PATHS,
        failures: r#"
[[failures]]
kind = "link-degraded"
link = ["dc-a", "dc-b"]
latency_multiplier = 2.0
at = "5m"
duration = "5m"
"#,
        ..base()
    };
    assert!(run(&mild, 5, 11).iter().all(|r| r.path_switches == 0));
    // A cut of the backup path (named) while the primary is fine changes nothing.
    let backup_cut = Knobs {
        links: TWO_PATHS,
        failures: r#"
[[failures]]
kind = "link-down"
link = ["dc-a", "dc-b", "carrier-b"]
at = "5m"
duration = "5m"
"#,
        ..base()
    };
    for r in run(&backup_cut, 5, 12) {
        assert_eq!(r.path_switches, 0);
        assert!(r.replication_lag_max_s.unwrap() < 1.0);
    }
}

#[test]
fn a_bandwidth_cut_below_the_write_load_builds_a_replication_backlog() {
    // 50 writes/s of 1 KiB need 0.41 Mbps; a cut to 2% of 10 Mbps leaves 0.2.
    let cut = |factor: &str| {
        Knobs {
        link: "bandwidth = \"10Mbps\"",
        failures: Box::leak(
            format!(
                "[[failures]]\nkind = \"link-degraded\"\nlink = [\"dc-a\", \"dc-b\"]\nbandwidth_factor = {factor}\nat = \"5m\"\nduration = \"5m\"\n"
            )
            .into_boxed_str(),
        ),
        ..base()
    }
    };
    for r in run(&cut("0.02"), 5, 13) {
        // The 15,000 writes of the cut are queued at 41 ms each (1 KiB at
        // 0.2 Mbps; a message keeps the rate it was queued at): the last one
        // leaves 614 s after the cut began, 314 s after it was written.
        let lag = r.replication_lag_max_s.unwrap();
        assert!((300.0..330.0).contains(&lag), "{lag}");
    }
    for r in run(&cut("0.5"), 5, 13) {
        assert!(r.replication_lag_max_s.unwrap() < 1.0);
    }
}
