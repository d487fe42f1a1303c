//! Simulated time: integer nanoseconds since the start of a run.
//!
//! Floats appear only at the edges (scenario input, reports); the engine adds and
//! compares integers, so time never drifts and ties are exact.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant of simulated time, in nanoseconds since the run started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

pub const NANOS_PER_SEC: u64 = 1_000_000_000;

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// Time elapsed since `earlier`; zero if `earlier` is later (never negative).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * NANOS_PER_SEC)
    }

    pub const fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms * 1_000_000)
    }

    /// Converts seconds to nanoseconds, rounding to the nearest nanosecond and
    /// clamping negatives to zero (sampled delays are never negative).
    pub fn from_secs_f64(s: f64) -> SimDuration {
        if s.is_nan() || s <= 0.0 {
            SimDuration(0)
        } else {
            let ns = (s * NANOS_PER_SEC as f64).round();
            SimDuration(if ns >= u64::MAX as f64 {
                u64::MAX
            } else {
                ns as u64
            })
        }
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// For people: the largest unit of the scenario format in which it is at
    /// least 1, with up to three decimals ("10y", "1.5h", "250ms").
    pub fn human(self) -> String {
        const UNITS: [(&str, u64); 8] = [
            ("y", 365 * 86_400 * NANOS_PER_SEC),
            ("d", 86_400 * NANOS_PER_SEC),
            ("h", 3_600 * NANOS_PER_SEC),
            ("m", 60 * NANOS_PER_SEC),
            ("s", NANOS_PER_SEC),
            ("ms", 1_000_000),
            ("us", 1_000),
            ("ns", 1),
        ];
        let (unit, size) = UNITS
            .iter()
            .copied()
            .find(|&(_, size)| self.0 >= size)
            .unwrap_or(("s", NANOS_PER_SEC));
        let text = format!("{:.3}", self.0 as f64 / size as f64);
        let text = text.trim_end_matches('0').trim_end_matches('.');
        format!("{text}{unit}")
    }

    pub fn saturating_mul(self, k: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(k))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub for SimTime {
    type Output = SimDuration;
    fn sub(self, earlier: SimTime) -> SimDuration {
        self.since(earlier)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}s", self.as_secs_f64())
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}s", self.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_use_the_largest_whole_unit() {
        assert_eq!(SimDuration::from_secs(10 * 365 * 86_400).human(), "10y");
        assert_eq!(SimDuration::from_secs(5_400).human(), "1.5h");
        assert_eq!(SimDuration::from_millis(250).human(), "250ms");
        assert_eq!(SimDuration::from_secs(90).human(), "1.5m");
        assert_eq!(SimDuration::ZERO.human(), "0s");
    }
}
