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
    /// UNDECIDED only: about how many runs would decide if the estimate
    /// stayed where it is ([`runs_to_decide`]); `None` otherwise, and when
    /// the estimate equals the required probability (no number of runs
    /// decides then).
    pub runs_to_decide: Option<u64>,
}

impl TargetResult {
    /// What an UNDECIDED verdict needs, in words (`None` for PASS and FAIL).
    pub fn decide_phrase(&self) -> Option<String> {
        if self.verdict != Verdict::Undecided {
            return None;
        }
        Some(match (self.n, self.runs_to_decide) {
            (0, _) => "no run where the metric applies: cannot be decided".to_string(),
            (_, Some(runs)) => format!("about {runs} runs would decide at this estimate"),
            (_, None) => {
                "the estimate equals the requirement: more runs cannot decide at this estimate"
                    .to_string()
            }
        })
    }
}

/// The number of runs at which the 95% Wilson interval around `estimate`
/// would exclude `required` (an estimate to stay where it is). The Wilson
/// interval is the set of p with (estimate - p)^2 <= z^2 p (1 - p) / n, so it
/// excludes the required p0 once n >= z^2 p0 (1 - p0) / (estimate - p0)^2:
/// the ceiling of that, and at least `n + 1` (more runs than now). `None`
/// when the estimate equals the requirement.
pub fn runs_to_decide(estimate: f64, required: f64, n: usize) -> Option<u64> {
    let gap = estimate - required;
    if gap == 0.0 {
        return None;
    }
    let z = 1.959_963_984_540_054_f64;
    let runs = (z * z * required * (1.0 - required) / (gap * gap)).ceil();
    Some((runs as u64).max(n as u64 + 1))
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
    let runs = match verdict {
        Verdict::Undecided if n > 0 => runs_to_decide(met as f64 / n as f64, target.probability, n),
        _ => None,
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
        runs_to_decide: runs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Bound;

    fn target(p: f64) -> Target {
        Target {
            metric: "lost_writes".to_string(),
            bound: Bound::AtMost(0.0),
            probability: p,
            label: format!("lost_writes <= 0 with probability {p}"),
        }
    }

    fn rows(met: usize, n: usize) -> Vec<RunRow> {
        let row = crate::metrics::recorder::Recorder::new().finish(
            0,
            0,
            0,
            crate::base::time::SimDuration::from_secs_f64(3600.0),
        );
        (0..n)
            .map(|i| RunRow {
                run: i as u64,
                lost_writes: u64::from(i >= met),
                ..row.clone()
            })
            .collect()
    }

    /// 98 of 100 runs meet a 0.99 target: the Wilson interval [0.9300,
    /// 0.9945] straddles 0.99. By hand: n = 1.96^2 x 0.99 x 0.01 / (0.98 -
    /// 0.99)^2 = 3.8415 x 0.0099 / 0.0001 = 380.3, so 381 runs. Checked
    /// against the interval itself: 0.98 of 381 runs (373.38 met, the
    /// interval of a fractional count by the same formula) just excludes
    /// 0.99, 0.98 of 380 does not.
    #[test]
    fn undecided_says_how_many_runs_would_decide() {
        let r = evaluate(&target(0.99), &rows(98, 100));
        assert_eq!(r.verdict, Verdict::Undecided);
        assert_eq!(r.runs_to_decide, Some(381));
        assert_eq!(
            r.decide_phrase().as_deref(),
            Some("about 381 runs would decide at this estimate")
        );
        let high = |n: f64| {
            let (p, z2) = (0.98, 1.959_963_984_540_054_f64.powi(2));
            (p + z2 / (2.0 * n) + (z2 * (p * (1.0 - p) / n + z2 / (4.0 * n * n))).sqrt())
                / (1.0 + z2 / n)
        };
        assert!(high(381.0) < 0.99 && high(380.0) > 0.99);
        // Above the requirement the same distance decides for a PASS:
        // 0.95 required, 19 of 20 met = 0.95 exactly: no number of runs.
        let r = evaluate(&target(0.95), &rows(19, 20));
        assert_eq!(r.verdict, Verdict::Undecided);
        assert_eq!(r.runs_to_decide, None);
        assert!(r.decide_phrase().unwrap().contains("cannot decide"));
        // 0.9 required, 19 of 20 (0.95): 3.8415 x 0.09 / 0.0025 = 138.3 -> 139.
        let r = evaluate(&target(0.9), &rows(19, 20));
        assert_eq!(r.verdict, Verdict::Undecided);
        assert_eq!(r.runs_to_decide, Some(139));
        // Decided verdicts carry no count.
        let r = evaluate(&target(0.5), &rows(100, 100));
        assert_eq!((r.verdict, r.runs_to_decide), (Verdict::Pass, None));
        assert_eq!(r.decide_phrase(), None);
    }

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
