//! Builds small scenarios for tests from a few knobs, as TOML text, so that
//! tests exercise the same loader as users.

use drsim::metrics::row::RunRow;
use drsim::model::Scenario;
use drsim::runner::monte_carlo;

/// The knobs tests turn; everything else is a quiet two- or three-site setup.
#[derive(Clone)]
pub struct Knobs {
    pub horizon: &'static str,
    /// Extra `[simulation]` lines (e.g. `mode = "horizon"`).
    pub simulation: &'static str,
    pub rate: &'static str,
    pub write_size: &'static str,
    /// Extra `[network.default_link]` lines.
    pub link: &'static str,
    /// Explicit `[[links]]` tables (TOML text).
    pub links: &'static str,
    pub standbys: &'static [&'static str],
    /// `[replication]` body.
    pub replication: &'static str,
    pub health: &'static str,
    pub drain: &'static str,
    pub promotion: &'static str,
    /// Extra `[failover]` lines (e.g. `failback = true`).
    pub failover: &'static str,
    pub dns: &'static str,
    pub clients: u32,
    /// `[[failures]]` tables (TOML text).
    pub failures: &'static str,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            horizon: "10m",
            simulation: "",
            rate: "100/s",
            write_size: "\"1KiB\"",
            link: "",
            links: "",
            standbys: &["dc-b"],
            replication: "mode = \"async\"",
            health: "interval = \"10s\"\ntimeout = \"1s\"\nthreshold = 3",
            drain: "wait = false",
            promotion: "\"10s\"",
            failover: "",
            dns: "ttl = \"30s\"",
            clients: 100,
            failures: "",
        }
    }
}

pub fn toml(k: &Knobs) -> String {
    let standbys: Vec<String> = k.standbys.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        r#"
name = "test"
architecture = "active-passive"

[simulation]
duration = "{horizon}"
{simulation}

[network.default_link]
latency = "20ms"
{link}

{links}

[[datacenters]]
id = "dc-a"
region = "ra"
lat = 40.0
lon = -75.0

[[datacenters]]
id = "dc-b"
region = "rb"
lat = 45.0
lon = -60.0

[[datacenters]]
id = "dc-c"
region = "rc"
lat = 50.0
lon = 0.0

[topology]
primary = "dc-a"
standbys = [{standbys}]

[workload]
rate = "{rate}"
write_size = {write_size}

[[workload.clients]]
region = "ra"
count = {clients}
access_rtt = "0s"

[replication]
{replication}

[failover]
mode = "automatic"
monitor = "dc-c"
promotion = {promotion}
{failover}

[failover.health_check]
{health}

[failover.drain]
{drain}

[failover.dns]
{dns}

{failures}
"#,
        horizon = k.horizon,
        simulation = k.simulation,
        rate = k.rate,
        write_size = k.write_size,
        link = k.link,
        links = k.links,
        standbys = standbys.join(", "),
        replication = k.replication,
        promotion = k.promotion,
        failover = k.failover,
        health = k.health,
        drain = k.drain,
        dns = k.dns,
        clients = k.clients,
        failures = k.failures,
    )
}

pub fn scenario(k: &Knobs) -> Scenario {
    let text = toml(k);
    drsim::scenario::parse("test.toml", &text).unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
}

pub fn run(k: &Knobs, runs: u64, seed: u64) -> Vec<RunRow> {
    monte_carlo(&scenario(k), runs, seed, 0, &|| {}).expect("runs finish")
}

pub fn mean(xs: impl Iterator<Item = f64>) -> (f64, f64, usize) {
    let v: Vec<f64> = xs.collect();
    let n = v.len();
    let m = v.iter().sum::<f64>() / n as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n as f64 - 1.0);
    (m, (var / n as f64).sqrt(), n)
}

/// Every .toml file under `dir`, subfolders included.
pub fn scenario_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(scenario_files(&p));
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
    out
}

/// The per-run values of `metric` in two studies of the same runs (run i of
/// both drawn from the same seed), for the runs where either has a value;
/// a run where only one of the two has a value is a disagreement.
fn paired(metric: &str, a: &[RunRow], b: &[RunRow]) -> Vec<(f64, f64)> {
    assert_eq!(a.len(), b.len(), "{metric}: paired studies of unequal size");
    let mut out = Vec::new();
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.seed, y.seed, "{metric}: run {} is not paired", x.run);
        match (x.metric(metric), y.metric(metric)) {
            (Some(u), Some(v)) => out.push((u, v)),
            (None, None) => {}
            (u, v) => panic!("{metric}, run {}: {u:?} vs {v:?}", x.run),
        }
    }
    out
}

/// Paired agreement of two treatments of the same runs (aggregate and
/// per-write simulation with the same seeds, so the same failures, drawn up
/// front from their own stream): the mean of the per-run differences lies
/// within 4 standard errors of 0, and that tolerance is at most `max_rel` of
/// the metric's mean (asserted, so the test cannot silently lose its power).
/// Power: a bias of 1.5 tolerances (6 SE) fails with probability 98%, so a
/// bias of 1.5 x `max_rel` of the mean is caught. Pairing removes the spread
/// between runs (one run's failures) that Welch's test on independent runs
/// must allow for.
pub fn agree(metric: &str, a: &[RunRow], b: &[RunRow], max_rel: f64) {
    paired_agree(metric, a, b, |level| max_rel * level.abs());
}

/// [`agree`] for a metric that is 0 in most runs: the tolerance is at most
/// `max_abs`, in the metric's unit.
pub fn agree_abs(metric: &str, a: &[RunRow], b: &[RunRow], max_abs: f64) {
    paired_agree(metric, a, b, |_| max_abs);
}

fn paired_agree(metric: &str, a: &[RunRow], b: &[RunRow], bound: impl Fn(f64) -> f64) {
    let pairs = paired(metric, a, b);
    if pairs.iter().all(|(u, v)| u == v) {
        return;
    }
    let (d, se, n) = mean(pairs.iter().map(|(u, v)| u - v));
    let (level, _, _) = mean(pairs.iter().map(|(_, v)| *v));
    let tolerance = 4.0 * se;
    eprintln!(
        "{metric}: per-write mean {level}, paired difference {d} +- {se} (n {n}): tolerance {tolerance} ({:.2}% of the mean)",
        100.0 * tolerance / level.abs()
    );
    assert!(
        d.abs() <= tolerance,
        "{metric}: aggregate - per-write = {d} +- {se} (n {n}), mean {level}"
    );
    assert!(
        tolerance <= bound(level),
        "{metric}: tolerance 4 x {se} is over {} (mean {level}): the test lost its power",
        bound(level)
    );
}

/// The two treatments give exactly the same value in every run (`metric`
/// depends only on draws both share).
pub fn same(metric: &str, a: &[RunRow], b: &[RunRow]) {
    for (k, (u, v)) in paired(metric, a, b).into_iter().enumerate() {
        assert_eq!(u, v, "{metric}: pair {k} differs");
    }
}
