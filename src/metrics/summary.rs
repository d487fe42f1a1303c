//! Cross-run statistics: the mean with a 95% confidence interval fit for the
//! metric's support (see [`interval_for`]), and order-statistic quantiles.
//! Aggregation is sequential, in run order, and the bootstrap draws from a
//! fixed seed, so the result never depends on the thread count.

use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::base::rng::{SimRng, splitmix64};

use super::row::RunRow;
use super::targets::wilson;

/// How the 95% interval of a metric's mean is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    /// Student t with n - 1 degrees of freedom: for quantities that can be
    /// negative (paired differences), where a symmetric interval is right.
    StudentT,
    /// Bias-corrected and accelerated bootstrap of the mean, expanded for small
    /// samples
    /// ([`BOOTSTRAP_RESAMPLES`] resamples, fixed seed): for non-negative,
    /// skewed or zero-inflated quantities (counts, durations, fractions of
    /// time). Its ends are means of resamples, so never outside the values'
    /// range: never below zero, never above one for availability.
    BootstrapBca,
    /// Wilson score interval of a proportion: for 0/1 flags, whose mean is
    /// the share of runs with the flag set.
    Wilson,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::StudentT => "student_t",
            Interval::BootstrapBca => "bootstrap_bca",
            Interval::Wilson => "wilson",
        }
    }
}

/// Bootstrap resamples per interval: the 2.5% and 97.5% ends rest on about
/// 25 resample means each (Monte Carlo error a few percent of the width),
/// at a cost of resamples x n draws per metric.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// The seed of every bootstrap: a constant, so an interval is a function of
/// the values alone (in run order).
pub const BOOTSTRAP_SEED: u64 = 0xB007_5743_0000_0095;

/// The interval of each runs.csv metric's mean, by its support. Every metric
/// of `row::METRIC_NAMES` is listed (a test checks it); docs/metrics.md gives
/// the reasons per metric.
pub const INTERVALS: [(&str, Interval); 42] = {
    use Interval::*;
    [
        ("rto_s", BootstrapBca),
        ("rto_first_s", BootstrapBca),
        ("detection_s", BootstrapBca),
        ("rpo_s", BootstrapBca),
        ("lost_writes", BootstrapBca),
        ("replication_lag_mean_s", BootstrapBca),
        ("replication_lag_p99_s", BootstrapBca),
        ("replication_lag_max_s", BootstrapBca),
        ("write_latency_p50_ms", BootstrapBca),
        ("write_latency_p99_ms", BootstrapBca),
        ("failovers", BootstrapBca),
        ("false_failovers", BootstrapBca),
        ("writes", BootstrapBca),
        ("writes_failed", BootstrapBca),
        ("availability", BootstrapBca),
        ("drain_wait_s", BootstrapBca),
        ("incident", Wilson),
        ("recovered", Wilson),
        ("cost_monthly", BootstrapBca),
        ("conflicts", BootstrapBca),
        ("lost_updates", BootstrapBca),
        ("shed_requests", BootstrapBca),
        ("peak_utilisation", BootstrapBca),
        ("sessions_lost", BootstrapBca),
        ("region_failovers", BootstrapBca),
        ("split_brain_s", BootstrapBca),
        ("divergent_writes", BootstrapBca),
        ("incidents", BootstrapBca),
        ("resync_s", BootstrapBca),
        ("failbacks", BootstrapBca),
        ("failback_s", BootstrapBca),
        ("alert_lag_s", BootstrapBca),
        ("alert_latency_s", BootstrapBca),
        ("alert_loss_s", BootstrapBca),
        ("alert_errors_s", BootstrapBca),
        ("alerts", BootstrapBca),
        ("false_alerts", BootstrapBca),
        ("path_switches", BootstrapBca),
        ("rpo_s_max", BootstrapBca),
        ("downtime_min_per_year", BootstrapBca),
        ("lost_writes_per_year", BootstrapBca),
        ("events", BootstrapBca),
    ]
};

/// The interval used for `metric`'s mean (Student t for a name not in the
/// table, e.g. a difference).
pub fn interval_for(metric: &str) -> Interval {
    INTERVALS
        .iter()
        .find(|(m, _)| *m == metric)
        .map_or(Interval::StudentT, |(_, i)| *i)
}

/// Per-year metrics: outside horizon runs they scale a short run (one hour)
/// to a year.
pub const PER_YEAR: [&str; 2] = ["downtime_min_per_year", "lost_writes_per_year"];

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricSummary {
    pub metric: &'static str,
    /// Runs in which the metric applies (e.g. RTO only where the primary failed).
    pub n: usize,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    /// How `ci95_low` and `ci95_high` were computed.
    pub ci95_method: Interval,
    pub min: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
    /// A yearly figure scaled from runs much shorter than a year (a per-year
    /// metric of an incident run): see [`mark_extrapolations`].
    pub extrapolated: bool,
}

/// Summarises every metric of `rows` (which are in run order).
pub fn summarize(rows: &[RunRow]) -> Vec<MetricSummary> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let names: Vec<&'static str> = first.metrics().iter().map(|m| m.0).collect();
    names
        .iter()
        .enumerate()
        .map(|(k, &name)| {
            let values: Vec<f64> = rows.iter().filter_map(|r| r.metrics()[k].1).collect();
            describe(name, &values)
        })
        .collect()
}

/// Flags the per-year metrics as extrapolations unless the runs are horizon
/// runs (whose simulated span is the period a yearly figure describes).
pub fn mark_extrapolations(summary: &mut [MetricSummary], horizon_mode: bool) {
    for m in summary {
        m.extrapolated = !horizon_mode && PER_YEAR.contains(&m.metric);
    }
}

/// Statistics of `values` with the interval of `metric` ([`interval_for`]).
pub fn describe(metric: &'static str, values: &[f64]) -> MetricSummary {
    describe_with(metric, values, interval_for(metric))
}

pub fn describe_with(metric: &'static str, values: &[f64], method: Interval) -> MetricSummary {
    let n = values.len();
    if n == 0 {
        return MetricSummary {
            metric,
            n,
            mean: None,
            std: None,
            ci95_low: None,
            ci95_high: None,
            ci95_method: method,
            min: None,
            p50: None,
            p90: None,
            p95: None,
            p99: None,
            max: None,
            extrapolated: false,
        };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let std = if n > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (lo, hi) = if n < 2 {
        (None, None)
    } else {
        let (lo, hi) = mean_interval(values, mean, std, sorted[0] == sorted[n - 1], method);
        (lo.is_finite().then_some(lo), hi.is_finite().then_some(hi))
    };
    let q = |p: f64| quantile_sorted(&sorted, p);
    MetricSummary {
        metric,
        n,
        mean: Some(mean),
        std: Some(std),
        ci95_low: lo,
        ci95_high: hi,
        ci95_method: method,
        min: Some(sorted[0]),
        p50: Some(q(0.50)),
        p90: Some(q(0.90)),
        p95: Some(q(0.95)),
        p99: Some(q(0.99)),
        max: Some(sorted[n - 1]),
        extrapolated: false,
    }
}

/// The 95% interval of the mean of `values` (n >= 2) by `method`.
fn mean_interval(
    values: &[f64],
    mean: f64,
    std: f64,
    constant: bool,
    method: Interval,
) -> (f64, f64) {
    let n = values.len();
    match method {
        Interval::StudentT => {
            let half = t_quantile_975(n - 1) * std / (n as f64).sqrt();
            (mean - half, mean + half)
        }
        Interval::Wilson => {
            let k = values.iter().filter(|&&v| v != 0.0).count();
            wilson(k, n)
        }
        // Every resample of equal values has their mean: no spread to show.
        Interval::BootstrapBca if constant => (mean, mean),
        Interval::BootstrapBca => bootstrap_bca(values, mean),
    }
}

/// The expanded BCa bootstrap 95% interval of the mean (Efron 1987, with
/// Hesterberg's expansion for small samples): resample means
/// from a fixed seed, the bias correction z0 from the share of resample means
/// below the sample mean (ties count half), the acceleration from the
/// jackknife, which for the mean is skewness / 6:
/// a = sum (x - mean)^3 / (6 (sum (x - mean)^2)^1.5).
fn bootstrap_bca(values: &[f64], mean: f64) -> (f64, f64) {
    let n = values.len();
    let mut rng = bootstrap_rng();
    let mut means: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| {
            let mut sum = 0.0;
            for _ in 0..n {
                sum += values[index_below(rng.next_u64(), n)];
            }
            sum / n as f64
        })
        .collect();
    let b = BOOTSTRAP_RESAMPLES as f64;
    let below = means.iter().filter(|&&m| m < mean).count() as f64;
    let ties = means.iter().filter(|&&m| m == mean).count() as f64;
    let share = ((below + ties / 2.0) / b).clamp(0.5 / b, 1.0 - 0.5 / b);
    let z0 = normal_quantile(share);
    let (s2, s3) = values.iter().fold((0.0, 0.0), |(s2, s3), &x| {
        let d = x - mean;
        (s2 + d * d, s3 + d * d * d)
    });
    let a = if s2 > 0.0 {
        s3 / (6.0 * s2.powf(1.5))
    } else {
        0.0
    };
    let level = |z: f64| normal_cdf(z0 + (z0 + z) / (1.0 - a * (z0 + z)));
    // Expanded (Hesterberg 2015): the normal 1.96 becomes
    // sqrt(n / (n - 1)) t(0.975, n - 1), undoing the bootstrap's plug-in
    // variance (n denominator) and normal tails, which make plain bootstrap
    // intervals too narrow in small samples; it tends to 1.96 as n grows.
    let nf = n as f64;
    let z = (nf / (nf - 1.0)).sqrt() * t_quantile_975(n - 1);
    means.sort_by(f64::total_cmp);
    (
        quantile_sorted(&means, level(-z)),
        quantile_sorted(&means, level(z)),
    )
}

/// The bootstrap's generator: xoshiro256++ whose four state words are
/// w1 = splitmix64(seed), w(k+1) = splitmix64(w(k)) from [`BOOTSTRAP_SEED`]
/// (as `base::rng` seeds streams).
fn bootstrap_rng() -> SimRng {
    let mut state = BOOTSTRAP_SEED;
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_exact_mut(8) {
        state = splitmix64(state);
        chunk.copy_from_slice(&state.to_le_bytes());
    }
    SimRng::from_seed(seed)
}

/// A uniform index below `n` from 64 random bits: floor(u n / 2^64) (bias
/// below n / 2^64, far under anything a bootstrap can see).
fn index_below(u: u64, n: usize) -> usize {
    ((u as u128 * n as u128) >> 64) as usize
}

/// The standard normal CDF, via erfc (Numerical Recipes' erfcc Chebyshev
/// fit, fractional error below 1.2e-7).
pub fn normal_cdf(z: f64) -> f64 {
    let x = -z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    let erfc = if x >= 0.0 { erfc } else { 2.0 - erfc };
    erfc / 2.0
}

/// The standard normal quantile (Acklam's rational approximation, relative
/// error below 1.2e-9), for 0 < p < 1.
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Linear interpolation between order statistics (the common "type 7" rule).
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom: exact table
/// (6 decimals) for df <= 10, Cornish-Fisher expansion beyond (error below
/// 5e-6 from df 11 on: a test holds it to published values). Kept by hand:
/// `statrs` would do the same job at the cost of a dependency tree, for no
/// accuracy an interval's 4 shown digits could use.
pub fn t_quantile_975(df: usize) -> f64 {
    const TABLE: [f64; 10] = [
        12.706_205, 4.302_653, 3.182_446, 2.776_445, 2.570_582, 2.446_912, 2.364_624, 2.306_004,
        2.262_157, 2.228_139,
    ];
    if df == 0 {
        return f64::NAN;
    }
    if df <= TABLE.len() {
        return TABLE[df - 1];
    }
    let z: f64 = 1.959_963_984_540_054;
    let v = df as f64;
    let (z3, z5, z7, z9) = (z.powi(3), z.powi(5), z.powi(7), z.powi(9));
    z + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v.powi(3))
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92160.0 * v.powi(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // Published two-sided 95% critical values (6 decimals, so +-5e-7);
        // the expansion's error is below 5e-6 from df 11 on.
        for (df, t) in [
            (1, 12.706_205),
            (5, 2.570_582),
            (10, 2.228_139),
            (11, 2.200_985),
            (12, 2.178_813),
            (15, 2.131_450),
            (20, 2.085_963),
            (29, 2.045_230),
            (30, 2.042_272),
            (40, 2.021_075),
            (60, 2.000_298),
            (120, 1.979_930),
            (1000, 1.962_339),
        ] {
            assert!(
                (t_quantile_975(df) - t).abs() < 5.5e-6,
                "df={df}: {}",
                t_quantile_975(df)
            );
        }
    }

    #[test]
    fn every_metric_has_its_interval_in_row_order() {
        let names: Vec<&str> = INTERVALS.iter().map(|m| m.0).collect();
        assert_eq!(names, crate::metrics::row::METRIC_NAMES);
    }

    /// Published values: Phi(1.96) = 0.9750021, Phi(-1) = 0.1586553,
    /// Phi(2.5758) = 0.995; quantiles 1.959964 (0.975), -2.326348 (0.01),
    /// 3.090232 (0.999). Tolerances: the approximations' stated errors.
    #[test]
    fn normal_functions_match_tables() {
        for (z, p) in [
            (1.96, 0.975_002_1),
            (-1.0, 0.158_655_3),
            (2.575_829, 0.995),
            (0.0, 0.5),
        ] {
            assert!(
                (normal_cdf(z) - p).abs() < 2e-7,
                "Phi({z}) = {}",
                normal_cdf(z)
            );
        }
        for (p, z) in [
            (0.975, 1.959_964),
            (0.01, -2.326_348),
            (0.999, 3.090_232),
            (0.5, 0.0),
        ] {
            assert!(
                (normal_quantile(p) - z).abs() < 1e-6,
                "q({p}) = {}",
                normal_quantile(p)
            );
        }
    }

    /// Zero-inflated counts: the bootstrap interval stays within the values'
    /// range (never below zero), holds the mean, and is the same on every call.
    #[test]
    fn bootstrap_interval_respects_the_support() {
        let mut v = vec![0.0; 95];
        v.extend([1.0, 1.0, 3.0, 5.0, 30.0]);
        let s = describe("lost_writes", &v);
        assert_eq!(s.ci95_method, Interval::BootstrapBca);
        let (lo, hi) = (s.ci95_low.unwrap(), s.ci95_high.unwrap());
        assert!(
            (0.0..0.4).contains(&lo) && hi > 0.4 && hi <= 30.0,
            "[{lo}, {hi}]"
        );
        assert_eq!(describe("lost_writes", &v), s);
        // A Student-t interval of the same values goes below zero.
        let t = describe_with("lost_writes", &v, Interval::StudentT);
        assert!(t.ci95_low.unwrap() < 0.0);
        // Equal values: a zero-width interval at them.
        let c = describe("rpo_s", &[0.0; 10]);
        assert_eq!((c.ci95_low, c.ci95_high), (Some(0.0), Some(0.0)));
        // Flags: the Wilson interval of 3 in 10 (0.1078, 0.6032).
        let f = describe(
            "incident",
            &[1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        );
        assert!((f.ci95_low.unwrap() - 0.1078).abs() < 1e-4, "{f:?}");
        assert!((f.ci95_high.unwrap() - 0.6032).abs() < 1e-4, "{f:?}");
    }

    #[test]
    fn describe_small_sample() {
        let s = describe("x", &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, Some(2.5));
        assert_eq!(s.p50, Some(2.5));
        assert_eq!(s.min, Some(1.0));
        assert_eq!(s.max, Some(4.0));
        let half = 3.182_446 * (5.0f64 / 3.0).sqrt() / 2.0;
        assert!((s.ci95_high.unwrap() - (2.5 + half)).abs() < 1e-9);
    }
}
