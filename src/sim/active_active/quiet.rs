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
//!   peers, degradations), scaled in when the run ends;
//! - except while two sites taking writes are cut off from each other: the
//!   conflict rate then grows with the length of the cut, and conflicts are
//!   counted in closed form (`key_mass`), with the key table's boundaries.
//!   Conflicts of connected sites during a cut (milliseconds of lag against
//!   minutes of cut) and clock-skew losses during it are left out.

use rand_distr::{Distribution, Poisson};

use crate::model::{ConflictPolicy, SiteId};

use super::key_mass::KeyMass;

use super::super::world::{Phase, World};
use crate::base::time::{SimDuration, SimTime};

impl World<'_> {
    /// Nothing is in progress that per-write simulation would be needed for.
    pub(in crate::sim) fn aa_is_steady(&self) -> bool {
        let m = self.multi.as_deref().expect("active-active state");
        let now = self.now;
        if self.failover.phase != Phase::Watching
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
        // The load balancer's view matches the sites' states (a site it is
        // cut off from stays out of rotation: its checks fail for sure).
        if m.promoted.is_none()
            && self.scenario.topology.active.iter().any(|&a| {
                let up = self.sites[a].is_up();
                m.healthy[a] != up && !(up && self.glb_cut_off(a))
            })
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
                && self.network.links[p.conn.link].is_up();
            if p.conn.connected {
                let log = &m.logs[p.origin];
                let caught_up = p.applied >= log.committed || p.applied_commit + w >= now;
                // A down origin's streams stay nominally open until it returns.
                (reachable && caught_up) || !self.sites[p.origin].is_up()
            } else {
                // A reachable peer reconnects soon. Sync within a region
                // leaves the origin's writes unconfirmed without it.
                let blocks_acks = m.sync_in_region && p.in_region && self.takes_writes(p.origin);
                !reachable && !blocks_acks
            }
        })
    }

    /// The share of all writes the client groups routed to `site` send.
    fn routed_share(&self, site: SiteId) -> f64 {
        let m = self.multi.as_deref().expect("state");
        self.scenario
            .workload
            .clients
            .iter()
            .zip(&m.routes)
            .filter(|&(_, &r)| r == site)
            .map(|(g, _)| g.share)
            .sum()
    }

    /// Some client group is routed to `site` and it serves.
    fn takes_writes(&self, site: SiteId) -> bool {
        let m = self.multi.as_deref().expect("state");
        self.serving(site) && m.routes.contains(&site)
    }

    /// Records which pairs of sites taking writes are cut off from each
    /// other, and since when (after any change of state).
    pub(in crate::sim) fn aa_note_cuts(&mut self) {
        if self.horizon.is_none() {
            return;
        }
        let m = self.multi.as_deref().expect("state");
        let cuts: Vec<(SiteId, SiteId)> = m
            .peers
            .iter()
            .filter(|p| {
                !p.conn.connected && self.takes_writes(p.origin) && self.takes_writes(p.dest)
            })
            .map(|p| (p.origin, p.dest))
            .collect();
        let now = self.now;
        let m = self.multi();
        if cuts != m.cuts {
            m.cuts = cuts;
            m.cuts_since = now;
        }
    }

    /// Conflicts of an aggregate period `[since, now]` between sites cut off
    /// from each other: consecutive writes to a key at the two sides, plus the
    /// period's first writes against the cut's earlier ones, plus the writes
    /// after the period against its last ones (the key table, kept per write,
    /// does not see the period's writes).
    fn cut_conflicts(&mut self, since: SimTime, window: SimDuration) -> f64 {
        let rate = self.scenario.workload.writes_per_s;
        let now = self.now;
        let m = self.multi.as_deref().expect("state");
        if m.cuts.is_empty() {
            return 0.0;
        }
        let share = |site| self.routed_share(site);
        let c: f64 = m.cuts.iter().map(|&(a, b)| share(a) * share(b)).sum();
        let during = rate * (now - since).as_secs_f64();
        let before = rate * since.since(m.cuts_since).as_secs_f64();
        let after = rate * window.as_secs_f64();
        let keys = self.aa().keys;
        let m = self.multi();
        let mass = m.key_mass.get_or_insert_with(|| KeyMass::new(&keys));
        c * (mass.consecutive_pairs(during)
            + mass.touched_in_both(during, before, 0.0)
            + mass.touched_in_both(during, after, before))
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
                .filter(|(_, p)| p.conn.connected)
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
            self.multi().peers[i].conn.void_in_flight(epoch);
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
            let share = self.routed_share(site);
            if share <= 0.0 {
                continue;
            }
            let n = match Poisson::new(share * rate * secs) {
                Ok(p) => p.sample(&mut self.rng.aggregate) as u64,
                Err(_) => 0,
            };
            total += n;
            let m = self.multi.as_deref_mut().expect("state");
            let mut keep: Option<u64> = None;
            for p in m.peers.iter().filter(|p| p.origin == site) {
                if p.conn.connected {
                    lag_pairs += n;
                    if self.cross_region[p.conn.link] {
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
            for p in m
                .peers
                .iter_mut()
                .filter(|p| p.origin == site && p.conn.connected)
            {
                p.applied = committed;
                p.applied_commit = now;
                p.conn.shipped = committed;
                p.conn.acked = committed;
            }
        }
        self.metrics.record_aggregate(slot, total, lag_pairs);
        let window = self
            .horizon
            .as_ref()
            .map_or(SimDuration::ZERO, |h| h.mode.window);
        let expected = self.cut_conflicts(since, window);
        if expected > 0.0 {
            let k = match Poisson::new(expected) {
                Ok(p) => p.sample(&mut self.rng.aggregate) as u64,
                Err(_) => 0,
            };
            let lww = self.aa().conflict == ConflictPolicy::LastWriterWins;
            self.metrics.add_cut_conflicts(slot, k, lww);
        }
        self.network.idle_all(now);
    }
}
