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
use super::world::{Phase, World};
use crate::base::time::{SimDuration, SimTime};

pub struct Horizon {
    pub mode: HorizonMode,
    /// Times of the pre-drawn failure events (starts and ends), sorted.
    disturbances: Vec<SimTime>,
    /// The first of `disturbances` not yet past.
    cursor: usize,
    last_disturbance: SimTime,
    /// Start of the aggregate period in progress, and its network condition.
    quiet_since: Option<(SimTime, usize)>,
    /// Counts aggregate periods: the `WritesResume` of a superseded one is void.
    period: u32,
    /// Network conditions seen steady (the failures degrading links); each
    /// has its own steady sample in the recorder, at its index here.
    conditions: Vec<Vec<u32>>,
    /// Per condition: per-write steady time sampled so far.
    sampled: Vec<SimDuration>,
    /// The condition being sampled now, since when.
    sampling: Option<(usize, SimTime)>,
}

impl Horizon {
    pub fn new(mode: HorizonMode) -> Horizon {
        Horizon {
            mode,
            disturbances: Vec::new(),
            cursor: 0,
            last_disturbance: SimTime::ZERO,
            quiet_since: None,
            period: 0,
            conditions: Vec::new(),
            sampled: Vec::new(),
            sampling: None,
        }
    }

    /// Records when a pre-drawn failure event happens.
    pub fn add_disturbance(&mut self, at: SimTime) {
        self.disturbances.push(at);
    }

    pub fn seal(&mut self) {
        self.disturbances.sort_unstable();
    }

    fn slot_of(&mut self, condition: Vec<u32>) -> usize {
        match self.conditions.iter().position(|c| *c == condition) {
            Some(i) => i,
            None => {
                self.conditions.push(condition);
                self.sampled.push(SimDuration::ZERO);
                self.conditions.len() - 1
            }
        }
    }

    /// Steady time sampled under condition `slot`, the stretch in progress included.
    fn sampled_for(&self, slot: usize, now: SimTime) -> SimDuration {
        let running = match self.sampling {
            Some((s, since)) if s == slot => now - since,
            _ => SimDuration::ZERO,
        };
        SimDuration(self.sampled[slot].0 + running.0)
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
        if self.multi.is_some() {
            self.replan_glb();
            self.aa_note_cuts();
        } else {
            self.replan_checks();
        }
        if self.horizon.is_some() {
            self.set_sampling(None);
            if let Some(h) = &mut self.horizon {
                h.last_disturbance = self.now;
            }
        }
    }

    /// Starts or stops sampling steady per-write latency and lag (for
    /// condition `slot`), keeping count of the time sampled per condition.
    fn set_sampling(&mut self, slot: Option<usize>) {
        let now = self.now;
        let Some(h) = &mut self.horizon else { return };
        if let Some((s, since)) = h.sampling
            && Some(s) != slot
        {
            h.sampled[s] += now - since;
            h.sampling = None;
        }
        if let Some(s) = slot
            && h.sampling.is_none()
        {
            h.sampling = Some((s, now));
        }
        self.metrics.steady_slot = slot;
    }

    pub(super) fn on_try_quiet(&mut self) {
        let Some(h) = &self.horizon else { return };
        let w = h.mode.window;
        if h.quiet_since.is_some() {
            return;
        }
        let steady = self.steady_now();
        // Not yet steady: look again a quarter window later (or exactly when
        // a window has passed since the last disturbance).
        let retry = SimDuration((w.0 / 4).max(1));
        let settled = h.last_disturbance + w;
        if self.now < settled || !steady {
            self.set_sampling(None);
            let next = if self.now < settled {
                settled
            } else {
                self.now + retry
            };
            self.schedule(next, Event::TryQuiet);
            return;
        }
        // Steady: per-write samples from here on describe aggregate periods
        // under the same condition. A condition sampled for less than a
        // window is sampled further before any aggregate period uses it.
        let condition = self.condition_now();
        let slot = self.horizon.as_mut().map_or(0, |h| h.slot_of(condition));
        self.set_sampling(Some(slot));
        let sampled = self
            .horizon
            .as_ref()
            .map_or(w, |h| h.sampled_for(slot, self.now));
        if sampled < w {
            self.schedule_in(SimDuration(w.0 - sampled.0), Event::TryQuiet);
            return;
        }
        let Some(resume) = self.quiet_until() else {
            self.schedule_in(retry, Event::TryQuiet);
            return;
        };
        self.enter_quiet(resume, slot);
    }

    /// The system is steady (active-passive, or active-active and hybrid).
    fn steady_now(&self) -> bool {
        if self.multi.is_some() {
            self.aa_is_steady()
        } else {
            self.is_steady()
        }
    }

    /// The key of the network condition steady samples are kept under.
    fn condition_now(&self) -> Vec<u32> {
        if self.multi.is_some() {
            self.aa_steady_condition()
        } else {
            self.steady_condition()
        }
    }

    /// When an aggregate period may start now, until when: a window before
    /// the next disturbance (or the horizon); `None` if that is too close.
    fn quiet_until(&mut self) -> Option<SimTime> {
        let w = self.horizon.as_ref()?.mode.window;
        let end = SimTime::ZERO + self.scenario.horizon;
        let next = self.next_disturbance(end);
        let resume = if next >= end {
            end
        } else {
            SimTime(next.0.saturating_sub(w.0))
        };
        (resume >= self.now + w).then_some(resume)
    }

    /// A link degradation began or ended. In active-active horizon runs it
    /// only changes the network condition (no failover, alert or path
    /// switch depends on it there): an aggregate period in progress ends and
    /// a new one starts at once under the new condition if that was sampled
    /// before; otherwise writes are simulated one by one to sample it. Its
    /// relaxation to the new steady state (one delivery time) is not simulated.
    pub(super) fn link_condition_changed(&mut self) {
        let soft = self.multi.is_some() && self.horizon.as_ref().is_some_and(|h| h.mode.aggregate);
        if !soft {
            return self.disturbed();
        }
        self.replan_glb();
        self.aa_note_cuts();
        let quiet = self.horizon.as_ref().and_then(|h| h.quiet_since).is_some();
        if !quiet {
            // Per-write samples from here on are of the new condition.
            self.set_sampling(None);
            return;
        }
        self.close_quiet();
        let w = self
            .horizon
            .as_ref()
            .map_or(SimDuration::ZERO, |h| h.mode.window);
        let condition = self.condition_now();
        let slot = self.horizon.as_mut().map_or(0, |h| h.slot_of(condition));
        let sampled = self
            .horizon
            .as_ref()
            .map_or(SimDuration::ZERO, |h| h.sampled_for(slot, self.now));
        if sampled >= w
            && self.steady_now()
            && let Some(resume) = self.quiet_until()
        {
            return self.enter_quiet(resume, slot);
        }
        // The pending `WritesResume` is void: writes resume now.
        if let Some(h) = &mut self.horizon {
            h.period = h.period.wrapping_add(1);
        }
        self.resume_writes(None);
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
        let alarm = if self.multi.is_some() {
            self.next_glb_false_alarm(failure)
        } else {
            self.next_false_alarm(failure)
        };
        alarm.unwrap_or(failure)
    }

    /// What the steady latency and lag depend on: the primary, the standbys
    /// connected to it, the paths in use and the degradations. Aggregate
    /// periods take the sample of the same condition.
    fn steady_condition(&self) -> Vec<u32> {
        let mut key = vec![self.primary as u32, u32::MAX];
        let mut connected: Vec<u32> = self
            .streams
            .iter()
            .filter(|s| s.conn.connected)
            .map(|s| s.dest as u32)
            .collect();
        connected.sort_unstable();
        key.extend(connected);
        key.push(u32::MAX);
        key.extend(self.route.iter().map(|&l| l as u32));
        key.push(u32::MAX);
        key.extend(self.network.condition().into_iter().map(u32::from));
        key
    }

    /// Nothing is in progress that per-write simulation would be needed for.
    fn is_steady(&self) -> bool {
        let f = &self.failover;
        // An unfenced old primary no client reaches any more is no obstacle:
        // the client check below covers the rest of a split brain.
        // Failed checks counted matter only while a manager is checking.
        let checking = self.active_monitor().is_some();
        if f.phase != Phase::Watching
            || (checking && f.consecutive_failures > 0)
            || self.checks.failed_in_flight > 0
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
        let mut caught_up = 0;
        let all = self.streams.iter().all(|s| {
            let reachable = self.sites[s.dest].is_up() && self.network.links[s.conn.link].is_up();
            if s.conn.connected {
                let ok = reachable && self.sites[s.dest].applied_commit + w >= now;
                caught_up += usize::from(ok);
                ok
            } else {
                !reachable
            }
        });
        // Sync and semi-sync acknowledge only with enough confirmers: with
        // fewer, writes wait, which only per-write simulation measures.
        all && caught_up >= self.scenario.replication.acks_required(self.streams.len())
    }

    fn enter_quiet(&mut self, resume: SimTime, slot: usize) {
        self.evaluate_alerts();
        // Nothing to sample while no write is simulated; it resumes with them.
        self.set_sampling(None);
        let mut period = 0;
        if let Some(h) = &mut self.horizon {
            h.quiet_since = Some((self.now, slot));
            h.period = h.period.wrapping_add(1);
            period = h.period;
        }
        self.quiet = true;
        if self.multi.is_some() {
            self.aa_enter_quiet();
        }
        // Messages in flight are void: connected standbys are caught up at the end.
        for i in 0..self.streams.len() {
            let epoch = self.next_epoch();
            self.streams[i].conn.void_in_flight(epoch);
        }
        self.schedule(resume, Event::WritesResume { period });
    }

    pub(super) fn on_writes_resume(&mut self, period: u32) {
        let Some(h) = &self.horizon else { return };
        if h.period != period {
            return;
        }
        let slot = h.quiet_since.map(|(_, slot)| slot);
        self.close_quiet();
        // Steady until the disturbance a window ahead: sample it.
        self.resume_writes(slot);
    }

    /// Writes are simulated one by one again (sampling condition `slot`).
    fn resume_writes(&mut self, slot: Option<usize>) {
        self.set_sampling(slot);
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
        if self.multi.is_some() {
            return self.aa_close_quiet(since, slot);
        }
        let now = self.now;
        let mean_writes = self.scenario.workload.writes_per_s * (now - since).as_secs_f64();
        let n = match Poisson::new(mean_writes) {
            Ok(p) => p.sample(&mut self.rng.aggregate) as u64,
            Err(_) => 0,
        };
        let size = self.scenario.workload.write_size.mean();
        let mut connected = 0;
        let mut keep: Option<u64> = None;
        for s in &self.streams {
            if s.conn.connected {
                connected += 1;
                if self.cross_region[s.conn.link] {
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
            if s.conn.connected {
                self.sites[s.dest].applied = committed;
                self.sites[s.dest].applied_commit = now;
                s.conn.caught_up(committed);
            }
        }
        self.network.idle_all(now);
    }
}
