//! Aggregate write periods of active-active and hybrid horizon runs (the
//! active-passive ones are in `sim::horizon`, which decides when a period
//! starts and ends). The system is steady when every client group reaches the
//! site the load balancer routes it to, that site serves, the load balancer's
//! view matches the sites' states, and every peer stream is caught up or
//! cut off. For a period of length L:
//! - each serving site takes Poisson(its routed write rate x L) writes, one
//!   draw per site (every client is at its route throughout);
//! - connected peers have all of them when it ends; writes a disconnected peer
//!   will need stay in the origin's log as a span;
//! - latency, lag, conflicts, lost updates and shed requests follow the
//!   steady per-write sample under the same condition (routes, connected
//!   peers, degradations), scaled in when the run ends.

use rand_distr::{Distribution, Poisson};

use super::super::time::{SimDuration, SimTime};
use super::super::world::World;

impl World<'_> {
    /// Nothing is in progress that per-write simulation would be needed for.
    pub(in crate::sim) fn aa_is_steady(&self) -> bool {
        let m = self.multi.as_deref().expect("active-active state");
        let now = self.now;
        if m.region_failover.is_some()
            || m.failback_pending
            || m.failback_since.is_some()
            || self
                .metrics
                .incidents
                .last()
                .is_some_and(|i| i.recovered.is_none())
            || !self.glb_checks_steady()
        {
            return false;
        }
        if m.promoted.is_none()
            && self
                .scenario
                .topology
                .active
                .iter()
                .any(|&a| m.healthy[a] != self.sites[a].is_up())
        {
            return false;
        }
        // Every client is at its group's route, and the route serves.
        if self.clients.states.iter().any(|c| {
            let route = m.routes[c.group as usize];
            c.after != route || c.switch_at > now || !self.serving(route)
        }) {
            return false;
        }
        let w = self
            .horizon
            .as_ref()
            .map_or(SimDuration::ZERO, |h| h.mode.window);
        m.peers.iter().all(|p| {
            let reachable = self.sites[p.origin].is_up()
                && self.sites[p.dest].is_up()
                && self.network.links[p.link].is_up();
            if p.connected {
                let log = &m.logs[p.origin];
                let caught_up = p.applied >= log.committed || p.applied_commit + w >= now;
                // A down origin's streams stay nominally open until it returns.
                (reachable && caught_up) || !self.sites[p.origin].is_up()
            } else {
                // A peer whose site is down is fine; a reachable one
                // reconnects soon. Two serving sites cut off from each other
                // are not steady: the longer the cut, the more keys they both
                // update (the conflict rate grows), so a cut between serving
                // sites is simulated write by write.
                !reachable && !(self.serving(p.origin) && self.serving(p.dest))
            }
        })
    }

    /// What steady latency, lag and conflicts depend on: the promoted site,
    /// the routes, the connected peers and the degradations.
    pub(in crate::sim) fn aa_steady_condition(&self) -> Vec<u32> {
        let m = self.multi.as_deref().expect("active-active state");
        let mut key = vec![m.promoted.map_or(u32::MAX, |p| p as u32), u32::MAX];
        key.extend(m.routes.iter().map(|&r| r as u32));
        key.push(u32::MAX);
        key.extend(
            m.peers
                .iter()
                .enumerate()
                .filter(|(_, p)| p.connected)
                .map(|(i, _)| i as u32),
        );
        key.push(u32::MAX);
        key.extend(self.network.condition().into_iter().map(u32::from));
        key
    }

    /// An aggregate period begins: messages in flight are void (connected
    /// peers are caught up when it ends).
    pub(in crate::sim) fn aa_enter_quiet(&mut self) {
        for i in 0..self.multi().peers.len() {
            let epoch = self.next_epoch();
            let p = &mut self.multi().peers[i];
            p.epoch = epoch;
            p.in_flight.clear();
            p.valid_to = u64::MAX;
        }
    }

    /// Ends the aggregate period `[since, now]` under condition `slot`: each
    /// serving site's writes in one draw.
    pub(in crate::sim) fn aa_close_quiet(&mut self, since: SimTime, slot: usize) {
        let now = self.now;
        let secs = (now - since).as_secs_f64();
        let size = self.scenario.workload.write_size.mean();
        let rate = self.scenario.workload.writes_per_s;
        let (mut total, mut lag_pairs) = (0u64, 0u64);
        for site in 0..self.scenario.datacenters.len() {
            let m = self.multi.as_deref().expect("state");
            let share: f64 = self
                .scenario
                .workload
                .clients
                .iter()
                .zip(&m.routes)
                .filter(|&(_, &r)| r == site)
                .map(|(g, _)| g.share)
                .sum();
            if share <= 0.0 {
                continue;
            }
            let n = match Poisson::new(share * rate * secs) {
                Ok(p) => p.sample(&mut self.rng.workload) as u64,
                Err(_) => 0,
            };
            total += n;
            let m = self.multi.as_deref_mut().expect("state");
            let mut keep: Option<u64> = None;
            for p in m.peers.iter().filter(|p| p.origin == site) {
                if p.connected {
                    lag_pairs += n;
                    if self.cross_region[p.link] {
                        self.metrics.cross_region_bytes += n as f64 * size;
                    }
                } else {
                    let from = p.applied + 1;
                    keep = Some(keep.map_or(from, |k: u64| k.min(from)));
                }
            }
            let log = &mut m.logs[site];
            log.commit_aggregate(n, since, now, size, keep);
            let committed = log.committed;
            for p in m.peers.iter_mut().filter(|p| p.origin == site && p.connected) {
                p.applied = committed;
                p.applied_commit = now;
                p.shipped = committed;
                p.acked = committed;
            }
        }
        self.metrics.record_aggregate(slot, total, lag_pairs);
        self.network.idle_all(now);
    }
}
