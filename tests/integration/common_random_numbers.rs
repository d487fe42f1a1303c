//! Common random numbers: streams whose draws do not depend on the run's
//! state, so that two scenarios that share a part see the same draws for it.

use drsim::base::rng::run_seed;
use drsim::report::timeline;
use drsim::runner::monte_carlo;
use drsim::sim::simulate_traced;

use crate::common::{Knobs, scenario};

/// Times (ns) of the events of `kind` at `site` in run `k` of `knobs`.
fn event_times(knobs: &Knobs, k: u64, kinds: &[&str], site: &str) -> Vec<String> {
    let s = scenario(knobs);
    let (_, trace) = simulate_traced(&s, k, run_seed(7, k)).expect("run finishes");
    let bytes = timeline::log_csv(&timeline::event_log(&s, &trace)).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    r.records()
        .map(|x| x.unwrap())
        .filter(|x| kinds.contains(&&x[1]) && &x[2] == site)
        .map(|x| x[0].to_string())
        .collect()
}

/// Two recurring failures; sweeping the first one's rate must leave the
/// second one's outage times identical (each specification has its own
/// stream), while the first one's times do change.
#[test]
fn changing_one_failure_leaves_the_others_times_unchanged() {
    let failures = |every_a: &'static str| -> &'static str {
        let text = format!(
            r#"
[[failures]]
kind = "datacenter-outage"
target = "dc-a"
every = {{ dist = "exponential", mean = "{every_a}" }}
duration = {{ dist = "exponential", mean = "10m" }}

[[failures]]
kind = "datacenter-outage"
target = "dc-c"
every = {{ dist = "exponential", mean = "3h" }}
duration = {{ dist = "exponential", mean = "20m" }}
"#
        );
        Box::leak(text.into_boxed_str())
    };
    let knobs = |every_a| Knobs {
        horizon: "2d",
        rate: "1/s",
        failures: failures(every_a),
        ..Knobs::default()
    };
    let kinds = ["site_failed", "site_repaired"];
    for k in 0..3 {
        let (slow, fast) = (knobs("6h"), knobs("2h"));
        let c_slow = event_times(&slow, k, &kinds, "dc-c");
        let c_fast = event_times(&fast, k, &kinds, "dc-c");
        assert!(
            c_slow.len() >= 4,
            "run {k}: dc-c fails a few times in 2 days"
        );
        assert_eq!(c_slow, c_fast, "run {k}: dc-c's outages moved");
        // The swept failure itself does move.
        assert_ne!(
            event_times(&slow, k, &kinds, "dc-a"),
            event_times(&fast, k, &kinds, "dc-a"),
            "run {k}"
        );
    }
}

/// Designs that differ in replication, failover and a third site see the same
/// write sequence: `writes` (attempted, accepted or refused) is identical in
/// every run, although refused and lost writes differ.
#[test]
fn two_designs_on_one_workload_see_the_same_writes() {
    let outage = r#"
[[failures]]
kind = "datacenter-outage"
target = "dc-a"
at = { dist = "uniform", min = "1m", max = "5m" }
"#;
    let async_one = Knobs {
        failures: outage,
        ..Knobs::default()
    };
    let sync_two = Knobs {
        standbys: &["dc-b", "dc-c"],
        replication: "mode = \"sync\"",
        promotion: "{ dist = \"uniform\", min = \"20s\", max = \"60s\" }",
        dns: "ttl = \"5s\"",
        failures: outage,
        ..Knobs::default()
    };
    let a = monte_carlo(&scenario(&async_one), 30, 3, 0, &|| {}).unwrap();
    let b = monte_carlo(&scenario(&sync_two), 30, 3, 0, &|| {}).unwrap();
    let mut refused_differ = 0;
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.writes, y.writes, "run {}", x.run);
        refused_differ += usize::from(x.writes_failed != y.writes_failed);
    }
    // The designs do behave differently: the comparison is not trivial.
    assert!(refused_differ >= 25, "{refused_differ} of 30 runs");
}
