//! Validated probability distributions over non-negative quantities (seconds or
//! bytes). Sampling never returns a negative or non-finite value.

use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Pareto, Weibull};

use crate::sim::rng::SimRng;
use crate::sim::time::SimDuration;

#[derive(Clone, Debug)]
pub enum Dist {
    Constant(f64),
    Uniform {
        min: f64,
        max: f64,
    },
    /// Normal, clamped at zero (a negative delay means "no delay").
    Normal {
        mean: f64,
        sd: f64,
        d: Normal<f64>,
    },
    LogNormal {
        median: f64,
        sigma: f64,
        d: LogNormal<f64>,
    },
    Pareto {
        scale: f64,
        shape: f64,
        d: Pareto<f64>,
    },
    Exponential {
        mean: f64,
        d: Exp<f64>,
    },
    /// Weibull (shape < 1: early failures; > 1: wear-out), for times between failures.
    Weibull {
        scale: f64,
        shape: f64,
        d: Weibull<f64>,
    },
}

impl Dist {
    /// Builds a distribution from validated parameters; `Err` names what is wrong.
    pub fn normal(mean: f64, sd: f64) -> Result<Dist, String> {
        let d = Normal::new(mean, sd).map_err(|e| format!("invalid normal distribution: {e}"))?;
        Ok(Dist::Normal { mean, sd, d })
    }

    pub fn lognormal(median: f64, sigma: f64) -> Result<Dist, String> {
        if median <= 0.0 {
            return Err("lognormal median must be greater than zero".into());
        }
        let d = LogNormal::new(median.ln(), sigma)
            .map_err(|e| format!("invalid lognormal distribution: {e}"))?;
        Ok(Dist::LogNormal { median, sigma, d })
    }

    pub fn pareto(scale: f64, shape: f64) -> Result<Dist, String> {
        let d =
            Pareto::new(scale, shape).map_err(|e| format!("invalid pareto distribution: {e}"))?;
        Ok(Dist::Pareto { scale, shape, d })
    }

    pub fn weibull(scale: f64, shape: f64) -> Result<Dist, String> {
        let d =
            Weibull::new(scale, shape).map_err(|e| format!("invalid weibull distribution: {e}"))?;
        Ok(Dist::Weibull { scale, shape, d })
    }

    pub fn exponential(mean: f64) -> Result<Dist, String> {
        if mean <= 0.0 {
            return Err("exponential mean must be greater than zero".into());
        }
        let d =
            Exp::new(1.0 / mean).map_err(|e| format!("invalid exponential distribution: {e}"))?;
        Ok(Dist::Exponential { mean, d })
    }

    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        let x = match self {
            Dist::Constant(v) => return *v,
            Dist::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
            Dist::Normal { d, .. } => d.sample(rng),
            Dist::LogNormal { d, .. } => d.sample(rng),
            Dist::Pareto { d, .. } => d.sample(rng),
            Dist::Exponential { d, .. } => d.sample(rng),
            Dist::Weibull { d, .. } => d.sample(rng),
        };
        if x.is_finite() && x > 0.0 { x } else { 0.0 }
    }

    /// Samples a duration, the distribution being in seconds.
    #[inline]
    pub fn sample_duration(&self, rng: &mut SimRng) -> SimDuration {
        SimDuration::from_secs_f64(self.sample(rng))
    }

    /// The mean (before clamping at zero); infinite for Pareto with shape <= 1.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Normal { mean, .. } => *mean,
            Dist::LogNormal { median, sigma, .. } => median * (sigma * sigma / 2.0).exp(),
            Dist::Pareto { scale, shape, .. } => {
                if *shape > 1.0 {
                    shape * scale / (shape - 1.0)
                } else {
                    f64::INFINITY
                }
            }
            Dist::Exponential { mean, .. } => *mean,
            Dist::Weibull { scale, shape, .. } => scale * gamma(1.0 + 1.0 / shape),
        }
    }

    /// An upper bound on P(X > x) (exact where the tail has a closed form,
    /// a Chernoff bound for the normal family). Used to prove that an event
    /// such as "a health check reply is later than its timeout" is negligible.
    pub fn survival_bound(&self, x: f64) -> f64 {
        // P(Z > z) <= exp(-z^2/2) / 2 for z >= 0.
        let gauss = |z: f64| {
            if z <= 0.0 {
                1.0
            } else {
                0.5 * (-z * z / 2.0).exp()
            }
        };
        match self {
            Dist::Constant(v) => f64::from(u8::from(*v > x)),
            Dist::Uniform { min, max } => {
                if x < *min {
                    1.0
                } else if x >= *max {
                    0.0
                } else {
                    (max - x) / (max - min)
                }
            }
            Dist::Normal { mean, sd, .. } => gauss((x - mean) / sd),
            Dist::LogNormal { median, sigma, .. } => {
                if x <= 0.0 {
                    1.0
                } else {
                    gauss((x.ln() - median.ln()) / sigma)
                }
            }
            Dist::Pareto { scale, shape, .. } => {
                if x <= *scale {
                    1.0
                } else {
                    (scale / x).powf(*shape)
                }
            }
            Dist::Exponential { mean, .. } => (-x.max(0.0) / mean).exp(),
            Dist::Weibull { scale, shape, .. } => (-(x.max(0.0) / scale).powf(*shape)).exp(),
        }
    }

    /// The largest value the distribution can take, where bounded.
    pub fn max(&self) -> Option<f64> {
        match self {
            Dist::Constant(v) => Some(*v),
            Dist::Uniform { max, .. } => Some(*max),
            _ => None,
        }
    }

    pub fn is_zero(&self) -> bool {
        matches!(self, Dist::Constant(v) if *v == 0.0)
    }
}

/// The gamma function for x > 0 (Lanczos approximation, g = 7, n = 9:
/// relative error below 1e-13), for the Weibull mean.
fn gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma(1.0 - x));
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let series: f64 = C[0] + (1..9).map(|i| C[i] / (x + i as f64)).sum::<f64>();
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * series
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Stream, stream_rng};

    #[test]
    fn gamma_matches_known_values() {
        assert!((gamma(5.0) - 24.0).abs() < 1e-9);
        assert!((gamma(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-12);
        assert!((gamma(1.5) - std::f64::consts::PI.sqrt() / 2.0).abs() < 1e-12);
    }

    #[test]
    fn survival_bounds_hold() {
        let mut rng = stream_rng(2, Stream::Network);
        let cases = [
            Dist::Uniform { min: 1.0, max: 3.0 },
            Dist::normal(5.0, 1.0).unwrap(),
            Dist::lognormal(2.0, 0.5).unwrap(),
            Dist::exponential(4.0).unwrap(),
            Dist::pareto(1.0, 3.0).unwrap(),
            Dist::weibull(3.0, 2.0).unwrap(),
        ];
        for d in cases {
            let n = 100_000;
            let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
            for x in [0.5, 2.0, 4.0, 7.0] {
                let p = xs.iter().filter(|&&v| v > x).count() as f64 / n as f64;
                // Sampling error of 100k draws is below 0.005 at any p.
                assert!(p <= d.survival_bound(x) + 0.005, "{d:?} at {x}: {p}");
            }
        }
        assert!(Dist::lognormal(0.002, 0.5).unwrap().survival_bound(0.9) < 1e-30);
    }

    #[test]
    fn sample_means_match_parameters() {
        let mut rng = stream_rng(1, Stream::Network);
        let cases = [
            Dist::Uniform { min: 1.0, max: 3.0 },
            Dist::normal(5.0, 1.0).unwrap(),
            Dist::lognormal(2.0, 0.5).unwrap(),
            Dist::exponential(4.0).unwrap(),
            Dist::pareto(1.0, 3.0).unwrap(),
            Dist::weibull(3.0, 2.0).unwrap(),
            Dist::weibull(3.0, 0.7).unwrap(),
        ];
        for d in cases {
            let n = 200_000;
            let mean = (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64;
            // 200k samples: standard error well under 1% for these shapes.
            assert!(
                (mean - d.mean()).abs() / d.mean() < 0.02,
                "{d:?}: {mean} vs {}",
                d.mean()
            );
        }
    }
}
