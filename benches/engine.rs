//! Engine benchmarks: the bare event queue, and whole runs of bundled scenarios.
//! Throughput is reported in events per second (criterion "elements").
//!
//! Run: cargo bench --bench engine

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use drsim::sim::queue::EventQueue;
use drsim::sim::time::SimTime;

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

fn scenario_runs(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/active-passive.toml");
    let scenario = drsim::scenario::load(&path).expect("bundled scenario is valid");
    let events = drsim::sim::simulate(&scenario, 0, 1)
        .expect("run finishes")
        .events;
    let mut g = c.benchmark_group("active-passive");
    g.sample_size(20);
    g.throughput(Throughput::Elements(events));
    g.bench_function("one_run", |b| {
        b.iter(|| black_box(drsim::sim::simulate(&scenario, 0, 1).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, hold_loop, scenario_runs);
criterion_main!(benches);
