//! Long-horizon runs: years of random failures at the cost of their incidents.
//!
//! Writes are simulated one by one only near disturbances (failures, repairs,
//! alarms). When the system is steady (the primary serves every client, the
//! chain is idle, replication is caught up or its standby is unreachable) and
//! the next disturbance is far, the run enters an aggregate period that ends a
//! per-write window before the disturbance. Failures are drawn up front and
//! false alarms are pre-drawn by the health checks, so the next disturbance is
//! always known. For the period:
//! - the number of writes is Poisson(rate x length), exactly; every one is
//!   served (the primary serves every client throughout);
//! - connected standbys are caught up when it ends (it ends a window before
//!   anything can go wrong, and the window covers the slowest delivery);
//! - writes a disconnected standby will need stay in the log as a span with
//!   evenly spread commit times and the mean size (`replication::Log`);
//! - their write latency and replication lag follow the steady state under
//!   the same network condition (the same links degraded), which the run
//!   samples in its per-write steady stretches (at least the window before
//!   the disturbance that ends the period) and scales to the periods' writes
//!   when the run ends (`Recorder::fold_aggregate`).

use rand_distr::{Distribution, Poisson};

use crate::model::{HorizonMode, Shipping};

use super::event::Event;
use super::time::{SimDuration, SimTime};
use super::world::{Phase, World};

pub struct Horizon {
    pub mode: HorizonMode,
    /// Times of the pre-drawn failure events (starts and ends), sorted.
    disturbances: Vec<SimTime>,
    /// The first of `disturbances` not yet past.
    cursor: usize,
    last_disturbance: SimTime,
    /// Start of the aggregate period in progress, and its network condition.
    quiet_since: Option<(SimTime, usize)>,
    /// Network conditions seen steady (the failures degrading links); each
    /// has its own steady sample in the recorder, at its index here.
    conditions: Vec<Vec<u16>>,
}

impl Horizon {
    pub fn new(mode: HorizonMode) -> Horizon {
        Horizon {
            mode,
            disturbances: Vec::new(),
            cursor: 0,
            last_disturbance: SimTime::ZERO,
            quiet_since: None,
            conditions: Vec::new(),
        }
    }

    /// Records when a pre-drawn failure event happens.
    pub fn add_disturbance(&mut self, at: SimTime) {
        self.disturbances.push(at);
    }

    pub fn seal(&mut self) {
        self.disturbances.sort_unstable();
    }

    fn slot_of(&mut self, condition: Vec<u16>) -> usize {
        match self.conditions.iter().position(|c| *c == condition) {
            Some(i) => i,
            None => {
                self.conditions.push(condition);
                self.conditions.len() - 1
            }
        }
    }
}

impl World<'_> {
    pub(super) fn start_horizon(&mut self) {
        if let Some(h) = &self.horizon
            && h.mode.aggregate
        {
            let w = h.mode.window;
            self.schedule_in(w, Event::TryQuiet);
        }
    }

    /// Something changed (a failure, a repair, an alarm, a promotion): checks
    /// are re-planned, and the steady state must be re-established.
    pub(super) fn disturbed(&mut self) {
        self.replan_checks();
        if let Some(h) = &mut self.horizon {
            h.last_disturbance = self.now;
            self.metrics.steady_slot = None;
        }
    }

    pub(super) fn on_try_quiet(&mut self) {
        let Some(h) = &self.horizon else { return };
        let w = h.mode.window;
        if h.quiet_since.is_some() {
            return;
        }
        if self.now < h.last_disturbance + w || !self.is_steady() {
            self.metrics.steady_slot = None;
            self.schedule_in(w, Event::TryQuiet);
            return;
        }
        // Steady: per-write samples from here on describe aggregate periods
        // under the same network condition.
        let condition = self.network.condition();
        let slot = self.horizon.as_mut().map_or(0, |h| h.slot_of(condition));
        self.metrics.steady_slot = Some(slot);
        let end = SimTime::ZERO + self.scenario.horizon;
        let next = self.next_disturbance(end);
        let resume = if next >= end {
            end
        } else {
            SimTime(next.0.saturating_sub(w.0))
        };
        if resume < self.now + w {
            self.schedule_in(w, Event::TryQuiet);
            return;
        }
        self.enter_quiet(resume, slot);
    }

    /// The next pre-drawn failure event or false alarm before `limit`.
    fn next_disturbance(&mut self, limit: SimTime) -> SimTime {
        let now = self.now;
        let failure = {
            let Some(h) = &mut self.horizon else {
                return limit;
            };
            while h.disturbances.get(h.cursor).is_some_and(|&t| t <= now) {
                h.cursor += 1;
            }
            h.disturbances
                .get(h.cursor)
                .copied()
                .unwrap_or(limit)
                .min(limit)
        };
        self.next_false_alarm(failure).unwrap_or(failure)
    }

    /// Nothing is in progress that per-write simulation would be needed for.
    fn is_steady(&self) -> bool {
        let f = &self.failover;
        if f.phase != Phase::Watching
            || f.rogue.is_some()
            || f.split_since.is_some()
            || f.failback_pending
            || self.switch_pending.iter().any(|&p| p)
            || f.failback_since.is_some()
            || !self.primary_serving()
            || self.sites[self.primary].gray_write > 0.0
            || self
                .metrics
                .incidents
                .last()
                .is_some_and(|i| i.recovered.is_none())
            || !self.checks_steady()
        {
            return false;
        }
        let (now, primary) = (self.now, self.primary);
        if self
            .clients
            .states
            .iter()
            .any(|c| c.after != primary || c.switch_at > now)
        {
            return false;
        }
        let w = self
            .horizon
            .as_ref()
            .map_or(SimDuration::ZERO, |h| h.mode.window);
        self.streams.iter().all(|s| {
            let reachable = self.sites[s.dest].is_up() && self.network.links[s.link].is_up();
            if s.connected {
                reachable && self.sites[s.dest].applied_commit + w >= now
            } else {
                !reachable
            }
        })
    }

    fn enter_quiet(&mut self, resume: SimTime, slot: usize) {
        if let Some(h) = &mut self.horizon {
            h.quiet_since = Some((self.now, slot));
        }
        self.quiet = true;
        // Messages in flight are void: connected standbys are caught up at the end.
        for i in 0..self.streams.len() {
            let epoch = self.next_epoch();
            self.streams[i].void_in_flight(epoch);
        }
        self.schedule(resume, Event::WritesResume);
    }

    pub(super) fn on_writes_resume(&mut self) {
        self.close_quiet();
        self.schedule_first_write();
        if let Shipping::Periodic { interval } = self.scenario.replication.shipping {
            let i = interval.0.max(1);
            let next = SimTime(self.now.0.div_ceil(i) * i);
            self.next_ship_tick = next;
            self.schedule(next, Event::ShipTick);
        }
        self.resume_alerts();
        if let Some(h) = &self.horizon {
            let w = h.mode.window;
            self.schedule_in(w, Event::TryQuiet);
        }
    }

    /// Ends the aggregate period in progress at `now`: its writes, in one draw.
    pub(super) fn close_quiet(&mut self) {
        let Some((since, slot)) = self.horizon.as_mut().and_then(|h| h.quiet_since.take()) else {
            return;
        };
        self.quiet = false;
        let now = self.now;
        let mean_writes = self.scenario.workload.writes_per_s * (now - since).as_secs_f64();
        let n = match Poisson::new(mean_writes) {
            Ok(p) => p.sample(&mut self.rng.workload) as u64,
            Err(_) => 0,
        };
        let size = self.scenario.workload.write_size.mean();
        let mut connected = 0;
        let mut keep: Option<u64> = None;
        for s in &self.streams {
            if s.connected {
                connected += 1;
                if self.cross_region[s.link] {
                    self.metrics.cross_region_bytes += n as f64 * size;
                }
            } else {
                let from = self.sites[s.dest].applied + 1;
                keep = Some(keep.map_or(from, |k: u64| k.min(from)));
            }
        }
        self.metrics.record_aggregate(slot, n, n * connected);
        self.log.commit_aggregate(n, since, now, size, keep);
        let committed = self.log.committed;
        let primary = self.primary;
        self.sites[primary].applied = committed;
        self.sites[primary].applied_commit = now;
        for s in &mut self.streams {
            if s.connected {
                self.sites[s.dest].applied = committed;
                self.sites[s.dest].applied_commit = now;
                s.caught_up(committed);
            }
        }
        self.network.idle_all(now);
    }
}
