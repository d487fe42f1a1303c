//! Validated probability distributions over non-negative quantities (seconds or
//! bytes). Sampling never returns a negative or non-finite value.

use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Pareto};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Stream, stream_rng};

    #[test]
    fn sample_means_match_parameters() {
        let mut rng = stream_rng(1, Stream::Network);
        let cases = [
            Dist::Uniform { min: 1.0, max: 3.0 },
            Dist::normal(5.0, 1.0).unwrap(),
            Dist::lognormal(2.0, 0.5).unwrap(),
            Dist::exponential(4.0).unwrap(),
            Dist::pareto(1.0, 3.0).unwrap(),
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
