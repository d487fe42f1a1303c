//! Bad scenarios get errors naming file, line, column and field, never a panic.

use crate::common::{Knobs, toml};

fn problems(text: &str) -> String {
    match drsim::scenario::parse("bad.toml", text) {
        Ok(_) => panic!("accepted a bad scenario:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unknown_field_is_located() {
    let text = toml(&Knobs::default()).replace("threshold = 3", "threshold = 3\nthreshhold = 4");
    let msg = problems(&text);
    let line = text
        .lines()
        .position(|l| l.starts_with("threshhold"))
        .unwrap()
        + 1;
    assert!(
        msg.contains(&format!(
            "bad.toml:{line}:1: failover.health_check.threshhold: unknown field"
        )),
        "{msg}"
    );
    assert!(
        msg.contains("expected one of `interval`, `timeout`, `threshold`"),
        "{msg}"
    );
}

#[test]
fn wrong_type_and_bad_unit_are_explained() {
    let msg = problems(&toml(&Knobs::default()).replace("interval = \"10s\"", "interval = 10"));
    assert!(msg.contains("failover.health_check.interval: invalid type: integer `10`, expected a duration with a unit"), "{msg}");
    let msg = problems(
        &toml(&Knobs::default()).replace("interval = \"10s\"", "interval = \"10 parsecs\""),
    );
    assert!(msg.contains("invalid duration \"10 parsecs\""), "{msg}");
}

#[test]
fn every_semantic_problem_is_reported_at_once() {
    let k = Knobs {
        standbys: &["dc-z"],
        link: "loss = 1.5",
        health: "interval = \"10s\"\ntimeout = \"0s\"\nthreshold = 0",
        failures: "[[failures]]\nkind = \"datacenter-outage\"\ntarget = \"nowhere\"\nat = \"1m\"",
        ..Knobs::default()
    };
    let text = toml(&k);
    let msg = problems(&text);
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (field, needle, what) in [
        (
            "topology.standbys[0]",
            "standbys = [",
            "unknown datacenter \"dc-z\"; known datacenters: dc-a, dc-b, dc-c",
        ),
        (
            "network.default_link.loss",
            "loss = 1.5",
            "must be a probability in [0, 1), got 1.5",
        ),
        (
            "failover.health_check.timeout",
            "timeout = \"0s\"",
            "must be longer than zero",
        ),
        (
            "failover.health_check.threshold",
            "threshold = 0",
            "must be at least 1",
        ),
        (
            "failures[0].target",
            "target = \"nowhere\"",
            "unknown datacenter \"nowhere\"",
        ),
    ] {
        let prefix = format!("bad.toml:{}:", line_of(needle));
        assert!(
            msg.lines()
                .any(|l| l.contains(&prefix) && l.contains(field) && l.contains(what)),
            "{field}: {msg}"
        );
    }
}

#[test]
fn inconsistent_replication_settings_are_rejected() {
    let k = Knobs {
        replication: "mode = \"semi-sync\"\nacks = 3",
        ..Knobs::default()
    };
    assert!(
        problems(&toml(&k))
            .contains("replication.acks: must be between 1 and the number of standbys (1), got 3")
    );
    let k = Knobs {
        replication: "mode = \"sync\"\nshipping = \"periodic\"\ninterval = \"1s\"",
        ..Knobs::default()
    };
    assert!(problems(&toml(&k)).contains("periodic shipping applies only to mode = \"async\""));
    let k = Knobs {
        replication: "mode = \"async\"\nshipping = \"periodic\"",
        ..Knobs::default()
    };
    assert!(problems(&toml(&k)).contains("needs `interval`"));
}

#[test]
fn syntax_errors_point_at_the_line() {
    let msg = problems("name = \"x\"\narchitecture = \n");
    assert!(msg.contains("bad.toml:2:"), "{msg}");
}

#[test]
fn failure_fields_are_located_at_their_own_line() {
    let k = Knobs {
        failures: "[[failures]]\nkind = \"datacenter-outage\"\ntarget = \"dc-a\"\nat = \"10 minutes\"",
        ..Knobs::default()
    };
    let text = toml(&k);
    let msg = problems(&text);
    let line = text
        .lines()
        .position(|l| l.starts_with("at = \"10 minutes\""))
        .unwrap()
        + 1;
    assert!(
        msg.contains(&format!(
            "bad.toml:{line}:6: failures[0].at: invalid duration"
        )),
        "{msg}"
    );
    let k = Knobs {
        failures: "[[failures]]\nkind = \"link-down\"\ntarget = \"dc-a\"\nat = \"1m\"",
        ..Knobs::default()
    };
    let msg = problems(&toml(&k));
    assert!(
        msg.contains("failures[0].target: target does not apply to kind = \"link-down\""),
        "{msg}"
    );
    assert!(msg.contains("kind = \"link-down\" needs `link`"), "{msg}");
}

#[test]
fn a_bad_default_link_value_is_reported_once_where_written() {
    let msg = problems(&toml(&Knobs {
        link: "loss = -0.1",
        ..Knobs::default()
    }));
    assert_eq!(msg.matches("network.default_link.loss").count(), 1, "{msg}");
}

#[test]
fn monitor_in_the_primary_is_rejected() {
    let text = toml(&Knobs::default()).replace("monitor = \"dc-c\"", "monitor = \"dc-a\"");
    assert!(problems(&text).contains(
        "failover.monitor: the (first) monitor must not run in the primary's datacenter"
    ));
}

#[test]
fn fencing_settings_are_checked() {
    let base = toml(&Knobs::default());
    let msg = problems(&base.replace(
        "mode = \"automatic\"",
        "mode = \"automatic\"\nfencing = \"quorum-witness\"",
    ));
    assert!(
        msg.contains("fencing = \"quorum-witness\" needs `witness`"),
        "{msg}"
    );
    let msg = problems(&base.replace(
        "mode = \"automatic\"",
        "mode = \"automatic\"\nwitness = \"dc-b\"",
    ));
    assert!(
        msg.contains("failover.witness: witness applies only to fencing = \"quorum-witness\""),
        "{msg}"
    );
    let msg = problems(&base.replace(
        "mode = \"automatic\"",
        "mode = \"automatic\"\nfencing = \"sometimes\"",
    ));
    assert!(
        msg.contains("failover.fencing: unknown variant `sometimes`"),
        "{msg}"
    );
}

#[test]
fn failure_library_settings_are_checked_without_panicking() {
    let k = Knobs {
        simulation: "per_write_window = \"1m\"",
        links: "[[links]]\nbetween = [\"dc-a\", \"dc-b\"]\n\n[[links.backup]]\nlatency = \"50ms\"\n",
        failover: "failback_delay = \"1m\"",
        failures: r#"
[[failures]]
kind = "partition"
sides = [["dc-a"], ["dc-a"]]
at = "1m"

[[failures]]
kind = "domain-outage"
domain = "nope"
at = "1m"

[[failures]]
kind = "link-degraded"
link = ["dc-a", "dc-b", "carrier-x"]
bandwidth_factor = 0
at = "1m"

[alerts]
error_rate = 2
"#,
        write_size: "{ dist = \"pareto\", scale = \"1KiB\", shape = 0.8 }",
        ..Knobs::default()
    };
    let msg = problems(&toml(&k));
    for expected in [
        "simulation.per_write_window: applies only to horizon runs",
        "links[0].backup[0].name: a backup path needs a `name`",
        "workload.write_size: the write size needs a finite mean",
        "failover.failback_delay: applies only with failback = true",
        "failures[0].sides[1][0]: \"dc-a\" is on more than one side",
        "failures[1].domain: unknown failure domain \"nope\"",
        "failures[2].bandwidth_factor: must be in (0, 1]",
        "failures[2].link[2]: unknown path \"carrier-x\"",
        "alerts.error_rate: must be a probability in [0, 1], got 2",
    ] {
        assert!(msg.contains(expected), "missing {expected:?} in\n{msg}");
    }
}

/// Values that used to saturate or spin (a 10^6-year horizon clamped to 584
/// years, light in fibre at 1e300 us/km, 4,294,967,295 transmission
/// attempts) are errors at their own line, with the valid range; the limits
/// themselves are accepted.
#[test]
fn out_of_range_numbers_are_errors_not_saturation() {
    let base = toml(&Knobs::default());
    let line_of =
        |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let cases = [
        (
            base.replace("duration = \"10m\"", "duration = \"1000000y\""),
            "duration = \"1000000y\"",
            "simulation.duration: must be at most 500 years",
        ),
        (
            base.replace(
                "latency = \"20ms\"",
                "latency = \"20ms\"\nmax_attempts = 4294967295",
            ),
            "max_attempts = 4294967295",
            "network.default_link.max_attempts: must be between 1 and 32, got 4294967295",
        ),
        (
            base.replace(
                "[network.default_link]",
                "[network]\nfibre_us_per_km = 1e300\n\n[network.default_link]",
            ),
            "fibre_us_per_km",
            "network.fibre_us_per_km: must be in (0, 1000] microseconds per km",
        ),
        (
            base.replace(
                "[network.default_link]",
                "[network]\nroute_inflation = 11\n\n[network.default_link]",
            ),
            "route_inflation",
            "network.route_inflation: must be in [1, 10]",
        ),
        (
            base.replace("ttl = \"30s\"", "ttl = \"501y\""),
            "ttl = \"501y\"",
            "failover.dns.ttl: must be at most 500 years",
        ),
    ];
    for (text, needle, want) in cases {
        let msg = problems(&text);
        let line = line_of(&text, needle);
        assert!(
            msg.contains(&format!("bad.toml:{line}:")),
            "{needle}: {msg}"
        );
        assert!(msg.contains(want), "{needle}: {msg}");
    }
    // The limits themselves are valid.
    let at_limits = base
        .replace(
            "latency = \"20ms\"",
            "latency = \"20ms\"\nmax_attempts = 32",
        )
        .replace("ttl = \"30s\"", "ttl = \"500y\"");
    drsim::scenario::parse("ok.toml", &at_limits).unwrap_or_else(|e| panic!("{e}"));
}

/// The overload policy applies to every architecture from `[workload]`;
/// active-active files may keep it in `[active_active]`, but not in both.
#[test]
fn overload_policy_is_set_once_and_queue_wait_only_with_queue() {
    let base = toml(&Knobs::default());
    let msg = problems(&base.replace(
        "write_size = \"1KiB\"",
        "write_size = \"1KiB\"\noverload = \"shed\"\nmax_queue_wait = \"1s\"",
    ));
    assert!(
        msg.contains(
            "workload.max_queue_wait: max_queue_wait applies only to overload = \"queue\""
        ),
        "{msg}"
    );
    let queued = base.replace(
        "write_size = \"1KiB\"",
        "write_size = \"1KiB\"\noverload = \"queue\"\nmax_queue_wait = \"250ms\"",
    );
    let s = drsim::scenario::parse("ok.toml", &queued).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.workload.max_queue_wait,
        Some(drsim::base::time::SimDuration::from_secs_f64(0.25))
    );
    let twice = queued
        .replace(
            "architecture = \"active-passive\"",
            "architecture = \"active-active\"",
        )
        .replace(
            "primary = \"dc-a\"\nstandbys = [\"dc-b\"]",
            "active = [\"dc-a\", \"dc-b\"]",
        )
        + "\n[active_active]\noverload = \"shed\"\n";
    let msg = problems(&twice);
    assert!(
        msg.contains("active_active.overload: the overload policy is set twice"),
        "{msg}"
    );
}
