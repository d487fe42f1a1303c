//! The data behind comparisons: empirical CDFs and paired differences under
//! common random numbers.

use super::row::RunRow;
use super::summary::{Interval, MetricSummary, describe, describe_with};

/// Empirical CDF of the finite values: sorted distinct x with the fraction of
/// values at or below each. Non-decreasing in x and F, ending at F = 1.
pub fn ecdf(values: &[f64]) -> Vec<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (i, x) in v.iter().enumerate() {
        let f = (i + 1) as f64 / n;
        match out.last_mut() {
            Some(last) if last.0 == *x => last.1 = f,
            _ => out.push((*x, f)),
        }
    }
    out
}

/// Values of `metric` over runs, in run order (`None` where it does not apply).
pub fn column(rows: &[RunRow], metric: &str) -> Vec<Option<f64>> {
    rows.iter().map(|r| r.metric(metric)).collect()
}

/// Statistics of `metric` over the runs where it is finite.
pub fn summary_of(rows: &[RunRow], metric: &'static str) -> MetricSummary {
    let v: Vec<f64> = column(rows, metric)
        .into_iter()
        .flatten()
        .filter(|x| x.is_finite())
        .collect();
    describe(metric, &v)
}

/// Statistics of the per-run differences `other - base` of `metric`, over runs
/// where both are finite. With common random numbers the pairs share their
/// random draws, so this interval is much narrower than two separate ones.
/// A difference can be negative: its interval is Student t, whatever the
/// metric's own interval.
pub fn paired_difference(metric: &'static str, base: &[RunRow], other: &[RunRow]) -> MetricSummary {
    let diffs: Vec<f64> = column(base, metric)
        .into_iter()
        .zip(column(other, metric))
        .filter_map(|(a, b)| match (a, b) {
            (Some(a), Some(b)) if a.is_finite() && b.is_finite() => Some(b - a),
            _ => None,
        })
        .collect();
    describe_with(metric, &diffs, Interval::StudentT)
}

/// Indices of the points not dominated when minimising both coordinates.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<bool> {
    points
        .iter()
        .map(|&(x, y)| {
            !points
                .iter()
                .any(|&(qx, qy)| qx <= x && qy <= y && (qx < x || qy < y))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdf_is_monotone_and_ends_at_one() {
        let e = ecdf(&[3.0, 1.0, 2.0, 2.0, f64::INFINITY, 5.0]);
        assert_eq!(e, vec![(1.0, 0.2), (2.0, 0.6), (3.0, 0.8), (5.0, 1.0)]);
        assert!(ecdf(&[]).is_empty());
    }

    #[test]
    fn pareto_keeps_only_undominated_points() {
        let pts = [(1.0, 5.0), (2.0, 2.0), (3.0, 3.0), (4.0, 1.0), (2.0, 2.0)];
        assert_eq!(pareto_front(&pts), vec![true, true, false, true, true]);
    }
}
