//! Clients and their writes: Poisson arrivals, each write from one client of a
//! client group, sent to the datacenter its cached DNS entry names.

use rand::RngExt;

use crate::model::{Scenario, SiteId, great_circle_km};

use super::event::Event;
use super::world::World;
use crate::base::rng::SimRng;
use crate::base::time::{SimDuration, SimTime};

/// One client's view of the DNS record: the site it used before the last update,
/// the site after, and when its cached entry switches.
#[derive(Clone, Copy, Debug)]
pub struct ClientState {
    pub before: SiteId,
    pub after: SiteId,
    pub switch_at: SimTime,
    /// Offset of this client's cache refreshes within one TTL period.
    pub refresh_phase: SimDuration,
    /// Keeps stale entries past the TTL.
    pub stale: bool,
    /// The client group it belongs to.
    pub group: u16,
}

impl ClientState {
    #[inline]
    pub fn site_at(&self, now: SimTime) -> SiteId {
        if now >= self.switch_at {
            self.after
        } else {
            self.before
        }
    }
}

pub struct Clients {
    pub states: Vec<ClientState>,
    /// Cumulative write shares per group, for choosing a group.
    cumulative_share: Vec<f64>,
    /// Index of each group's first client in `states`.
    first_client: Vec<u32>,
    /// Round-trip time from each group to each datacenter.
    pub rtt: Vec<Vec<SimDuration>>,
}

impl Clients {
    pub fn new(s: &Scenario, rng: &mut SimRng) -> Clients {
        let ttl = s.failover.dns.ttl;
        let mut states = Vec::new();
        let mut cumulative_share = Vec::new();
        let mut first_client = Vec::new();
        let mut acc = 0.0;
        for (gi, g) in s.workload.clients.iter().enumerate() {
            acc += g.share;
            cumulative_share.push(acc);
            first_client.push(states.len() as u32);
            for _ in 0..g.count {
                let refresh_phase = SimDuration((rng.random::<f64>() * ttl.0 as f64) as u64);
                let stale = s.failover.dns.stale_client_fraction > 0.0
                    && rng.random::<f64>() < s.failover.dns.stale_client_fraction;
                states.push(ClientState {
                    before: s.topology.primary,
                    after: s.topology.primary,
                    switch_at: SimTime::ZERO,
                    refresh_phase,
                    stale,
                    group: gi as u16,
                });
            }
        }
        let rtt = s
            .workload
            .clients
            .iter()
            .map(|g| {
                s.datacenters
                    .iter()
                    .map(|d| {
                        let km = great_circle_km(g.lat, g.lon, d.lat, d.lon);
                        g.access_rtt + SimDuration::from_secs_f64(2.0 * km * s.delay_s_per_km)
                    })
                    .collect()
            })
            .collect();
        Clients {
            states,
            cumulative_share,
            first_client,
            rtt,
        }
    }

    /// Picks the client issuing the next write: (group, client index).
    #[inline]
    pub(super) fn pick(&self, rng: &mut SimRng) -> (u16, u32) {
        let u = rng.random::<f64>();
        let last = self.cumulative_share.len() - 1;
        let group = self
            .cumulative_share
            .iter()
            .position(|&c| u < c)
            .unwrap_or(last);
        let first = self.first_client[group];
        let end = self
            .first_client
            .get(group + 1)
            .copied()
            .unwrap_or(self.states.len() as u32);
        let n = end - first;
        let client = first + if n > 1 { rng.random_range(0..n) } else { 0 };
        (group as u16, client)
    }
}

/// One write as drawn at its arrival.
pub(super) struct Arrival {
    pub group: u16,
    /// The site the client's cached DNS entry names.
    pub site: SiteId,
    /// Uniform draw against a gray failure's write-failure probability.
    pub gray_draw: f64,
    pub size: f64,
}

impl World<'_> {
    pub(super) fn schedule_first_write(&mut self) {
        let gap = self.next_write_gap();
        self.next_write_at = self.now + gap;
        self.schedule_in(gap, Event::WriteArrived);
    }

    #[inline]
    pub(super) fn next_write_gap(&mut self) -> SimDuration {
        // Exponential inter-arrival by inversion: one uniform per write.
        let u: f64 = self.rng.workload.random::<f64>();
        SimDuration((-(1.0 - u).ln() * self.write_gap_mean_ns) as u64)
    }

    /// A write arrives: schedules the next one and draws everything about it
    /// (client, the gray-failure draw, size) whether or not it is accepted, so
    /// that run i of every architecture on one workload sees the same write
    /// sequence (common random numbers); returns the issuing client's group,
    /// the site its cached DNS entry names and the draws.
    pub(super) fn arrive(&mut self) -> Arrival {
        let gap = self.next_write_gap();
        self.next_write_at = self.now + gap;
        self.schedule_in(gap, Event::WriteArrived);
        let (group, client) = self.clients.pick(&mut self.rng.workload);
        let gray_draw = self.rng.workload.random::<f64>();
        let size = self
            .scenario
            .workload
            .write_size
            .sample(&mut self.rng.workload);
        Arrival {
            group,
            site: self.clients.states[client as usize].site_at(self.now),
            gray_draw,
            size,
        }
    }

    pub(super) fn on_write_arrived(&mut self) {
        if self.quiet {
            // An aggregate period counts its writes when it ends.
            return;
        }
        let Arrival {
            group,
            site,
            gray_draw,
            size,
        } = self.arrive();
        if self.capacity_limited {
            // Sheds of aggregate periods scale with arrivals (none without a capacity).
            self.metrics.count_arrival();
        }
        if Some(site) == self.failover.rogue && self.sites[site].is_up() {
            // An unfenced old primary accepts the write; nobody will ever have it.
            self.metrics.writes += 1;
            self.metrics.divergent_writes += 1;
            self.metrics
                .record_write_latency(self.clients.rtt[group as usize][site]);
            return;
        }
        let serving = site == self.primary && self.primary_serving();
        if let Some(wait) = self.admit_write(site, serving, gray_draw) {
            self.commit_write(group, size, wait);
        }
    }

    /// Write admission, the same in every architecture: a write to a site
    /// that does not serve, or that a gray failure makes fail, is refused;
    /// one beyond the site's capacity is shed (or queued: its wait is
    /// returned); the rest are accepted and counted.
    #[inline(always)]
    pub(super) fn admit_write(
        &mut self,
        site: SiteId,
        serving: bool,
        gray_draw: f64,
    ) -> Option<SimDuration> {
        if !serving || gray_draw < self.sites[site].gray_write {
            self.metrics.writes_failed += 1;
            return None;
        }
        let wait = if self.capacity_limited {
            let Some(wait) = self.admit(site) else {
                self.metrics.count_shed();
                return None;
            };
            wait
        } else {
            SimDuration::ZERO
        };
        self.metrics.writes += 1;
        Some(wait)
    }

    /// Points every client's next DNS refresh at `target`, from `updated_at`.
    /// Returns (first, last) switch times.
    pub(super) fn repoint_clients(
        &mut self,
        target: SiteId,
        updated_at: SimTime,
    ) -> (SimTime, SimTime) {
        let targets = vec![target; self.scenario.workload.clients.len()];
        self.repoint_groups(&targets, updated_at, false)
    }

    /// Points each client group's DNS entry at `targets[group]` from
    /// `updated_at`: clients switch at their next cache refresh (or at once,
    /// for anycast). Clients already there are left alone. Returns the (first,
    /// last) switch times of the clients that move (`updated_at` if none does).
    pub(super) fn repoint_groups(
        &mut self,
        targets: &[SiteId],
        updated_at: SimTime,
        immediate: bool,
    ) -> (SimTime, SimTime) {
        let dns = &self.scenario.failover.dns;
        let ttl = dns.ttl.0;
        let (mut first, mut last) = (SimTime::MAX, SimTime::ZERO);
        for c in &mut self.clients.states {
            let current = c.site_at(updated_at);
            let target = targets[c.group as usize];
            if current == target {
                c.before = target;
                c.after = target;
                continue;
            }
            // Caches refresh at phase + k*TTL; the first refresh at or after the update.
            let wait = if ttl == 0 || immediate {
                0
            } else {
                (c.refresh_phase.0 + ttl - updated_at.0 % ttl) % ttl
            };
            let mut switch_at = updated_at + SimDuration(wait);
            if c.stale && !immediate {
                switch_at += dns.stale_client_delay;
            }
            c.before = current;
            c.after = target;
            c.switch_at = switch_at;
            first = first.min(switch_at);
            last = last.max(switch_at);
        }
        if first == SimTime::MAX {
            (updated_at, updated_at)
        } else {
            (first, last)
        }
    }
}
