//! Admission of requests at a serving site against its `capacity`, the same
//! in every architecture: the primary (and a promoted standby) of
//! active-passive, each active site of active-active and hybrid. Beyond
//! capacity a request is shed (token bucket) or queued (one server at the
//! capacity rate, shed past `max_queue_wait`); the peak one-second
//! utilisation is tracked either way.

use crate::model::{Scenario, SiteId};

use super::world::World;
use crate::base::time::{SimDuration, SimTime};

/// One site's admission state.
#[derive(Clone, Copy, Default)]
pub struct Admission {
    /// Shed mode: tokens left (refilled at capacity per second, burst one second).
    tokens: f64,
    refilled_at: SimTime,
    /// Queue mode: when the site's virtual server frees up.
    busy_until: SimTime,
    /// Arrivals in the current one-second window, for peak utilisation.
    window: u64,
    window_count: u64,
}

impl Admission {
    /// Every site's state at the start of a run: each bucket full (one
    /// second of burst).
    pub fn for_sites(s: &Scenario) -> Vec<Admission> {
        s.datacenters
            .iter()
            .map(|d| Admission {
                tokens: d.capacity_per_s.unwrap_or(0.0),
                ..Admission::default()
            })
            .collect()
    }
}

impl World<'_> {
    /// Admits a request at `site` against its capacity: the queueing wait, or
    /// `None` if it is shed.
    #[inline]
    pub(super) fn admit(&mut self, site: SiteId) -> Option<SimDuration> {
        let Some(capacity) = self.scenario.datacenters[site].capacity_per_s else {
            return Some(SimDuration::ZERO);
        };
        let now = self.now;
        let a = &mut self.admission[site];
        let window = now.0 / 1_000_000_000;
        if window != a.window {
            a.window = window;
            a.window_count = 0;
        }
        a.window_count += 1;
        let utilisation = a.window_count as f64 / capacity;
        let peak = &mut self.metrics.peak_utilisation;
        *peak = Some(peak.map_or(utilisation, |p| p.max(utilisation)));
        match self.scenario.workload.max_queue_wait {
            None => {
                // Token bucket: capacity per second, at most one second of burst.
                let elapsed = (now - a.refilled_at).as_secs_f64();
                a.tokens = (a.tokens + elapsed * capacity).min(capacity);
                a.refilled_at = now;
                if a.tokens >= 1.0 {
                    a.tokens -= 1.0;
                    Some(SimDuration::ZERO)
                } else {
                    None
                }
            }
            Some(limit) => {
                // A single server at the capacity rate: deterministic service.
                let wait = a.busy_until.since(now);
                if wait > limit {
                    return None;
                }
                a.busy_until = now.max(a.busy_until) + SimDuration::from_secs_f64(1.0 / capacity);
                Some(wait)
            }
        }
    }
}
