//! Cross-run statistics: mean with a Student-t 95% confidence interval, and
//! order-statistic quantiles. Aggregation is sequential, in run order, so the
//! result never depends on the thread count.

use serde::Serialize;

use super::row::RunRow;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricSummary {
    pub metric: &'static str,
    /// Runs in which the metric applies (e.g. RTO only where the primary failed).
    pub n: usize,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    pub min: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
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

pub fn describe(metric: &'static str, values: &[f64]) -> MetricSummary {
    let n = values.len();
    if n == 0 {
        return MetricSummary {
            metric,
            n,
            mean: None,
            std: None,
            ci95_low: None,
            ci95_high: None,
            min: None,
            p50: None,
            p90: None,
            p95: None,
            p99: None,
            max: None,
        };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let (std, half) = if n > 1 {
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let std = var.sqrt();
        (std, t_quantile_975(n - 1) * std / (n as f64).sqrt())
    } else {
        (0.0, f64::NAN)
    };
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| quantile_sorted(&sorted, p);
    let finite = |x: f64| x.is_finite().then_some(x);
    MetricSummary {
        metric,
        n,
        mean: Some(mean),
        std: Some(std),
        ci95_low: finite(mean - half),
        ci95_high: finite(mean + half),
        min: Some(sorted[0]),
        p50: Some(q(0.50)),
        p90: Some(q(0.90)),
        p95: Some(q(0.95)),
        p99: Some(q(0.99)),
        max: Some(sorted[n - 1]),
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
/// for small df, Cornish-Fisher expansion (error < 1e-4) beyond.
pub fn t_quantile_975(df: usize) -> f64 {
    const TABLE: [f64; 10] = [
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
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
        // Published two-sided 95% critical values.
        for (df, t) in [
            (11, 2.2010),
            (20, 2.0860),
            (30, 2.0423),
            (60, 2.0003),
            (120, 1.9799),
            (1000, 1.9623),
        ] {
            assert!(
                (t_quantile_975(df) - t).abs() < 1e-3,
                "df={df}: {}",
                t_quantile_975(df)
            );
        }
    }

    #[test]
    fn describe_small_sample() {
        let s = describe("x", &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, Some(2.5));
        assert_eq!(s.p50, Some(2.5));
        assert_eq!(s.min, Some(1.0));
        assert_eq!(s.max, Some(4.0));
        let half = 3.1824 * (5.0f64 / 3.0).sqrt() / 2.0;
        assert!((s.ci95_high.unwrap() - (2.5 + half)).abs() < 1e-9);
    }
}
