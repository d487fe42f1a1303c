//! Engine benchmarks: the bare event queue, and whole runs of bundled scenarios.
//! Throughput is reported in events per second (criterion "elements").
//!
//! Run: cargo bench --bench engine

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use drsim::base::time::SimTime;
use drsim::sim::queue::EventQueue;

/// The classic hold model: a queue of N pending events; each step pops the
/// earliest and schedules one a pseudo-random delay later.
fn hold_loop(c: &mut Criterion) {
    const PENDING: u64 = 1_000;
    const STEPS: u64 = 1_000_000;
    let mut g = c.benchmark_group("queue");
    g.throughput(Throughput::Elements(STEPS));
    g.bench_function("hold_1k_pending", |b| {
        b.iter(|| {
            let mut q: EventQueue<u32> = EventQueue::with_capacity(PENDING as usize);
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
            for i in 0..PENDING {
                q.push(SimTime(i * 1000), i as u32);
            }
            for _ in 0..STEPS {
                let (t, e) = q.pop().expect("hold keeps the queue full");
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                q.push(SimTime(t.0 + (x % 1_000_000)), e);
            }
            black_box(q.len())
        })
    });
    g.finish();
}

fn load(rel: &str) -> drsim::model::Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    drsim::scenario::load(&path).expect("bundled scenario is valid")
}

/// One run, throughput in events per second.
fn one_run(c: &mut Criterion, group: &str, rel: &str, samples: usize) {
    let scenario = load(rel);
    let events = drsim::sim::simulate(&scenario, 0, 1)
        .expect("run finishes")
        .events;
    let mut g = c.benchmark_group(group);
    g.sample_size(samples);
    g.throughput(Throughput::Elements(events));
    g.bench_function("one_run", |b| {
        b.iter(|| black_box(drsim::sim::simulate(&scenario, 0, 1).unwrap()))
    });
    g.finish();
}

fn scenario_runs(c: &mut Criterion) {
    // The reference model: one simulated hour, write by write (docs/performance.md).
    one_run(c, "reference", "scenarios/bench/reference.toml", 10);
    // The bundled incident scenario.
    one_run(c, "active-passive", "scenarios/active-passive.toml", 20);
    // Horizon mode: 10 simulated years of the active-passive design, writes in
    // aggregate between incidents (throughput in events actually processed).
    one_run(
        c,
        "horizon-10y",
        "scenarios/active-passive-horizon.toml",
        10,
    );
    // The same for the active-active and hybrid designs.
    one_run(
        c,
        "horizon-10y-active-active",
        "scenarios/active-active-horizon.toml",
        10,
    );
    one_run(c, "horizon-10y-hybrid", "scenarios/hybrid-horizon.toml", 10);
}

/// A 1,000-run Monte Carlo of the incident scenario on all cores, and on one.
fn monte_carlo(c: &mut Criterion) {
    let scenario = load("scenarios/active-passive.toml");
    let mut g = c.benchmark_group("monte-carlo-1000");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1000));
    for threads in [1usize, 2] {
        g.bench_function(format!("threads_{threads}"), |b| {
            b.iter(|| {
                black_box(drsim::runner::monte_carlo(&scenario, 1000, 42, threads, &|| {}).unwrap())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, hold_loop, scenario_runs, monte_carlo);
criterion_main!(benches);
