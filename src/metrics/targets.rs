//! Service-level targets judged over Monte Carlo runs: the estimated
//! probability of meeting each target with a Wilson score interval, and a
//! verdict that says when more runs are needed.

use serde::Serialize;

use crate::model::Target;

use super::row::RunRow;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// The whole 95% interval is at or above the required probability.
    Pass,
    /// The whole interval is below it.
    Fail,
    /// The interval straddles it: more runs are needed to decide.
    Undecided,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Undecided => "UNDECIDED",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct TargetResult {
    pub target: String,
    pub required_probability: f64,
    /// Runs where the metric applies (an unrecovered incident counts, as a miss).
    pub n: usize,
    pub met: usize,
    pub estimate: Option<f64>,
    pub ci95_low: Option<f64>,
    pub ci95_high: Option<f64>,
    pub verdict: Verdict,
}

/// Wilson score interval for a binomial proportion (z = 1.96 for 95%).
pub fn wilson(successes: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let (k, n) = (successes as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

pub fn evaluate(target: &Target, rows: &[RunRow]) -> TargetResult {
    let values: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.metric(&target.metric))
        .collect();
    let n = values.len();
    let met = values.iter().filter(|&&v| target.bound.holds(v)).count();
    let (lo, hi) = wilson(met, n);
    let verdict = if n == 0 {
        Verdict::Undecided
    } else if lo >= target.probability {
        Verdict::Pass
    } else if hi < target.probability {
        Verdict::Fail
    } else {
        Verdict::Undecided
    };
    TargetResult {
        target: target.label.clone(),
        required_probability: target.probability,
        n,
        met,
        estimate: (n > 0).then(|| met as f64 / n as f64),
        ci95_low: (n > 0).then_some(lo),
        ci95_high: (n > 0).then_some(hi),
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values() {
        // 95% Wilson interval for 81 of 263 (Newcombe 1998): 0.2553 to 0.3662.
        let (lo, hi) = wilson(81, 263);
        assert!(
            (lo - 0.2553).abs() < 1e-4 && (hi - 0.3662).abs() < 1e-4,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson(10, 10);
        assert!(
            (hi - 1.0).abs() < 1e-12 && (lo - 0.7225).abs() < 1e-4,
            "{lo}"
        );
    }
}
