//! Same scenario + same seed = the same numbers, whatever the thread count.

use drsim::runner::monte_carlo;

use crate::common::{Knobs, scenario};

fn knobs() -> Knobs {
    Knobs {
        horizon: "3m",
        link: "jitter = { dist = \"lognormal\", median = \"2ms\", sigma = 0.5 }\nloss = 0.01",
        failures: "[[failures]]\nkind = \"datacenter-outage\"\ntarget = \"dc-a\"\nat = { dist = \"uniform\", min = \"30s\", max = \"60s\" }\nduration = { dist = \"exponential\", mean = \"40s\" }",
        ..Knobs::default()
    }
}

#[test]
fn thread_count_does_not_change_results() {
    let s = scenario(&knobs());
    let one = monte_carlo(&s, 24, 42, 1, &|| {}).unwrap();
    let two = monte_carlo(&s, 24, 42, 2, &|| {}).unwrap();
    let csv1 = drsim::report::runs_csv(&one).unwrap();
    let csv2 = drsim::report::runs_csv(&two).unwrap();
    assert_eq!(csv1, csv2);
    assert!(one.iter().enumerate().all(|(i, r)| r.run == i as u64));
}

#[test]
fn same_seed_same_rows_and_other_seed_other_rows() {
    let s = scenario(&knobs());
    let a = monte_carlo(&s, 8, 7, 0, &|| {}).unwrap();
    let b = monte_carlo(&s, 8, 7, 0, &|| {}).unwrap();
    let c = monte_carlo(&s, 8, 8, 0, &|| {}).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Run i's seed depends on (master, i) only: a longer study starts the same.
    let longer = monte_carlo(&s, 12, 7, 0, &|| {}).unwrap();
    assert_eq!(a[..], longer[..8]);
}

/// A study whose runs fail now and then (a limit on events near their
/// typical count) reports the lowest failing run, whatever the thread count:
/// the run found from the rows of a study without the limit.
#[test]
fn the_failing_run_reported_does_not_depend_on_the_thread_count() {
    let free = monte_carlo(&scenario(&knobs()), 200, 42, 0, &|| {}).unwrap();
    // A limit just above the busiest of the first m runs, m chosen so that
    // the first failing run lies in the first half (thread one's share)
    // and another one in the second, which a second thread reaches first.
    let failing_above = |limit: u64| -> Vec<u64> {
        free.iter()
            .filter(|r| r.events > limit)
            .map(|r| r.run)
            .collect()
    };
    let (limit, failing) = (10..100)
        .map(|m| free[..m].iter().map(|r| r.events).max().unwrap())
        .map(|limit| (limit, failing_above(limit)))
        .find(|(_, f)| f.first().is_some_and(|&r| r < 100) && f.iter().any(|&r| r >= 100))
        .expect("a limit with failing runs in both halves");
    eprintln!("limit {limit}: failing runs {failing:?}");
    let first = failing[0];
    let limited = Knobs {
        simulation: Box::leak(format!("max_events = {limit}").into_boxed_str()),
        ..knobs()
    };
    let s = scenario(&limited);
    for threads in [1, 2, 4] {
        let err = monte_carlo(&s, 200, 42, threads, &|| {}).unwrap_err();
        assert_eq!(err.run, first, "{threads} threads: {err}");
    }
}
