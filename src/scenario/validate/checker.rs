//! The problem collector and the checks every table shares (durations,
//! probabilities, site names, distributions).

use crate::base::time::SimDuration;
use crate::model::{Datacenter, Dist, SiteId};

use super::super::error::{FieldPath, Problem};
use super::super::raw::*;
use super::super::units::{Duration, Size};

/// The longest plain duration a scenario may give (500 years).
pub(super) const MAX_DURATION_S: f64 = 500.0 * YEAR_S;
/// A year as the `y` unit counts it (365 days).
const YEAR_S: f64 = 365.0 * 86_400.0;

/// Collects problems so that one pass reports everything wrong at once.
pub(super) struct Checker {
    pub(super) problems: Vec<Problem>,
}

impl Checker {
    pub(super) fn fail(&mut self, path: FieldPath, message: impl Into<String>) {
        self.problems.push(Problem::new(path, message));
    }

    /// A duration that must be strictly positive.
    pub(super) fn positive(&mut self, path: FieldPath, d: Duration) -> SimDuration {
        if d.0 <= 0.0 {
            self.fail(path, format!("must be longer than zero, got {}s", d.0));
            return SimDuration::ZERO;
        }
        self.bounded(path, d)
    }

    pub(super) fn non_negative(&mut self, path: FieldPath, d: Duration) -> SimDuration {
        if d.0 < 0.0 {
            self.fail(path, format!("must not be negative, got {}s", d.0));
            return SimDuration::ZERO;
        }
        self.bounded(path, d)
    }

    /// Simulated time is u64 nanoseconds (584 years): a plain duration
    /// beyond `MAX_DURATION_S` would saturate silently, so it is an error.
    fn bounded(&mut self, path: FieldPath, d: Duration) -> SimDuration {
        if d.0 > MAX_DURATION_S {
            self.fail(
                path,
                format!(
                    "must be at most {} years (simulated time is counted in nanoseconds), got {:.3e}s",
                    MAX_DURATION_S / YEAR_S,
                    d.0
                ),
            );
        }
        SimDuration::from_secs_f64(d.0)
    }

    pub(super) fn probability(&mut self, path: FieldPath, p: f64, max_exclusive: bool) -> f64 {
        let ok = p.is_finite() && p >= 0.0 && if max_exclusive { p < 1.0 } else { p <= 1.0 };
        if !ok {
            let range = if max_exclusive { "[0, 1)" } else { "[0, 1]" };
            self.fail(path, format!("must be a probability in {range}, got {p}"));
        }
        p
    }

    pub(super) fn site(
        &mut self,
        path: FieldPath,
        name: &str,
        sites: &[Datacenter],
    ) -> Option<SiteId> {
        let found = sites.iter().position(|d| d.name == name);
        if found.is_none() {
            let known: Vec<&str> = sites.iter().map(|d| d.name.as_str()).collect();
            self.fail(
                path,
                format!(
                    "unknown datacenter \"{name}\"; known datacenters: {}",
                    known.join(", ")
                ),
            );
        }
        found
    }

    /// A distribution over seconds, from durations in the file.
    pub(super) fn duration_dist(&mut self, path: FieldPath, spec: &DistSpec<Duration>) -> Dist {
        self.dist(path, spec, |d| d.0, "s")
    }

    pub(super) fn size_dist(&mut self, path: FieldPath, spec: &DistSpec<Size>) -> Dist {
        self.dist(path, spec, |s| s.0, "B")
    }

    /// Pareto and Weibull: a positive scale (with a unit) and a positive shape.
    pub(super) fn scale_shape(
        &mut self,
        path: &FieldPath,
        scale: f64,
        shape: f64,
        build: fn(f64, f64) -> Result<Dist, String>,
    ) -> Dist {
        if !(shape > 0.0 && shape.is_finite()) {
            self.fail(
                path.key("shape"),
                format!("must be a finite number > 0, got {shape}"),
            );
            return Dist::Constant(scale.max(0.0));
        }
        if scale <= 0.0 {
            self.fail(path.key("scale"), "must be greater than zero");
            return Dist::Constant(0.0);
        }
        build(scale, shape).unwrap_or_else(|msg| {
            self.fail(path.clone(), msg);
            Dist::Constant(0.0)
        })
    }

    pub(super) fn dist<Q: Copy>(
        &mut self,
        path: FieldPath,
        spec: &DistSpec<Q>,
        v: impl Fn(Q) -> f64,
        unit: &str,
    ) -> Dist {
        let nonneg = |c: &mut Checker, field: &str, x: f64| {
            if !(x.is_finite() && x >= 0.0) {
                c.fail(
                    path.key(field),
                    format!("must not be negative, got {x}{unit}"),
                );
            }
        };
        let table = match spec {
            DistSpec::Constant(q) => {
                let x = v(*q);
                if !(x.is_finite() && x >= 0.0) {
                    self.fail(path.clone(), format!("must not be negative, got {x}{unit}"));
                }
                return Dist::Constant(x.max(0.0));
            }
            DistSpec::Table(t) => t,
        };
        let built = match table {
            DistTable::Constant { value } => {
                nonneg(self, "value", v(*value));
                Ok(Dist::Constant(v(*value).max(0.0)))
            }
            DistTable::Uniform { min, max } => {
                let (lo, hi) = (v(*min), v(*max));
                nonneg(self, "min", lo);
                if hi < lo {
                    self.fail(
                        path.key("max"),
                        format!("must be at least min ({lo}{unit}), got {hi}{unit}"),
                    );
                }
                Ok(Dist::Uniform {
                    min: lo,
                    max: hi.max(lo),
                })
            }
            DistTable::Normal { mean, sd } => {
                nonneg(self, "sd", v(*sd));
                Dist::normal(v(*mean), v(*sd).max(0.0))
            }
            DistTable::Lognormal { median, sigma } => {
                if !(*sigma >= 0.0 && sigma.is_finite()) {
                    self.fail(
                        path.key("sigma"),
                        format!("must be a finite number >= 0, got {sigma}"),
                    );
                    return Dist::Constant(v(*median).max(0.0));
                }
                if v(*median) <= 0.0 {
                    self.fail(path.key("median"), "must be greater than zero");
                    return Dist::Constant(0.0);
                }
                Dist::lognormal(v(*median), *sigma)
            }
            DistTable::Pareto { scale, shape } => {
                return self.scale_shape(&path, v(*scale), *shape, Dist::pareto);
            }
            DistTable::Exponential { mean } => {
                if v(*mean) <= 0.0 {
                    self.fail(path.key("mean"), "must be greater than zero");
                    return Dist::Constant(0.0);
                }
                Dist::exponential(v(*mean))
            }
            DistTable::Weibull { scale, shape } => {
                return self.scale_shape(&path, v(*scale), *shape, Dist::weibull);
            }
        };
        built.unwrap_or_else(|msg| {
            self.fail(path, msg);
            Dist::Constant(0.0)
        })
    }
}
