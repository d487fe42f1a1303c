//! The global load balancer: health checks of the active sites (every
//! check simulated, or on a clean path drawn in runs of failures as the
//! failover manager's are in `sim::health`), and routing of each client
//! group to the best healthy site.

use crate::model::{SiteId, great_circle_km};

use super::super::event::Event;
use super::super::health::{FailRuns, loss_only_failure};
use super::super::world::{Phase, World};
use crate::base::time::{SimDuration, SimTime};

/// The load balancer's checks of the active sites.
pub struct GlbChecks {
    /// Horizon runs draw outcomes in runs where the path is clean.
    skipping: bool,
    /// The round of explicit checks (`GlbCheckDue`) is scheduled.
    round_running: bool,
    /// Per site: the current plan (older `GlbSiteCheckDue` are void) and,
    /// when its checks are drawn in runs, the runs; `None`: explicit.
    plan: Vec<u32>,
    runs: Vec<Option<FailRuns>>,
    /// Per site: failed checks whose outcome the load balancer has not learnt yet.
    pub failed_in_flight: Vec<u32>,
}

impl GlbChecks {
    pub fn new(sites: usize, skipping: bool) -> GlbChecks {
        GlbChecks {
            skipping,
            round_running: false,
            plan: vec![0; sites],
            runs: (0..sites).map(|_| None).collect(),
            failed_in_flight: vec![0; sites],
        }
    }
}

impl World<'_> {
    /// The site the load balancer runs in: the first configured monitor that is up.
    fn glb_site(&self) -> Option<SiteId> {
        self.scenario
            .failover
            .monitors
            .iter()
            .copied()
            .find(|&m| self.sites[m].is_up())
    }

    fn glb_interval(&self) -> u64 {
        self.scenario.failover.health_check.interval.0.max(1)
    }

    pub(in crate::sim) fn start_glb_checks(&mut self) {
        let interval = self.scenario.failover.health_check.interval;
        self.multi().glb.round_running = true;
        self.schedule_in(interval, Event::GlbCheckDue);
        self.replan_glb();
    }

    /// The failure rate of a check of `site` while it serves on a clean
    /// path (loss only); `None` if its checks must be simulated one by one.
    fn glb_clean_q(&self, site: SiteId) -> Option<f64> {
        let m = self.multi.as_deref().expect("active-active state");
        if !self.sites[site].is_up() || !m.healthy[site] {
            return None;
        }
        let glb = self.glb_site()?;
        if glb == site {
            return Some(0.0); // a local check never fails
        }
        let link = self.scenario.link_between[glb][site];
        let state = &self.network.links[link];
        if !state.is_up() {
            return None;
        }
        let timeout = self.scenario.failover.health_check.timeout;
        loss_only_failure(&self.scenario.links[link], state, timeout)
    }

    /// Re-plans every site's checks after a change of state (horizon runs):
    /// drawn in runs where the path is clean, explicit elsewhere.
    pub(in crate::sim) fn replan_glb(&mut self) {
        if !self.multi().glb.skipping {
            return;
        }
        let interval = self.glb_interval();
        let from = self.now.0 / interval + 1;
        let threshold = self.scenario.failover.health_check.threshold;
        let mut explicit = false;
        for i in 0..self.scenario.topology.active.len() {
            let site = self.scenario.topology.active[i];
            let q = self.glb_clean_q(site);
            let m = self.multi.as_deref_mut().expect("state");
            m.glb.plan[site] = m.glb.plan[site].wrapping_add(1);
            let plan = m.glb.plan[site];
            let Some(q) = q else {
                m.glb.runs[site] = None;
                explicit = true;
                continue;
            };
            let counted = m.check_failures[site] > 0;
            let mut runs = FailRuns::new(q);
            let run = runs.draw(&mut self.rng.probes, from, threshold);
            m.glb.runs[site] = Some(runs);
            // Failures counted before this plan are reset by its first check
            // if that one succeeds: simulate that check.
            let first = match run {
                Some(r) if !counted => Some(r.first),
                Some(_) | None if counted => Some(from),
                _ => None,
            };
            if let Some(k) = first {
                self.schedule(
                    SimTime(k.saturating_mul(interval)),
                    Event::GlbSiteCheckDue {
                        site: site as u16,
                        plan,
                    },
                );
            }
        }
        if explicit && !self.multi().glb.round_running {
            self.multi().glb.round_running = true;
            self.schedule(SimTime(from.saturating_mul(interval)), Event::GlbCheckDue);
        }
    }

    /// The load balancer cannot reach `site` at all: its checks fail for sure.
    pub(in crate::sim) fn glb_cut_off(&self, site: SiteId) -> bool {
        match self.glb_site() {
            Some(glb) if glb != site => {
                !self.network.links[self.scenario.link_between[glb][site]].is_up()
            }
            _ => false,
        }
    }

    /// Checks need no per-write attention: the outcomes of every site in
    /// rotation are pre-drawn; the others' checks fail for sure (the site is
    /// down or cut off from the load balancer); or no load balancer is alive.
    pub(in crate::sim) fn glb_checks_steady(&self) -> bool {
        let m = self.multi.as_deref().expect("state");
        if self.glb_site().is_none() {
            return true;
        }
        self.scenario.topology.active.iter().all(|&a| {
            if m.healthy[a] {
                m.glb.runs[a].is_some() && m.glb.failed_in_flight[a] == 0
            } else {
                !self.sites[a].is_up() || self.glb_cut_off(a)
            }
        })
    }

    /// When the next false alarm (a run of `threshold` failed checks of a
    /// serving site) would start, drawing runs ahead as far as `limit`.
    pub(in crate::sim) fn next_glb_false_alarm(&mut self, limit: SimTime) -> Option<SimTime> {
        let interval = self.glb_interval();
        let from = self.now.0 / interval + 1;
        let limit_k = limit.0.div_ceil(interval);
        let threshold = self.scenario.failover.health_check.threshold;
        let m = self.multi.as_deref_mut().expect("state");
        let mut first: Option<u64> = None;
        for runs in m.glb.runs.iter_mut().flatten() {
            if let Some(k) = runs.next_alarm(&mut self.rng.probes, from, limit_k, threshold) {
                first = Some(first.map_or(k, |f| f.min(k)));
            }
        }
        first.map(|k| SimTime(k.saturating_mul(interval)))
    }

    /// A check of `site` drawn in runs: it succeeds before the next run of
    /// failures, fails within it, and the check after it succeeds.
    pub(in crate::sim) fn on_glb_site_check_due(&mut self, site: u16, plan: u32) {
        let s = site as SiteId;
        let interval = self.glb_interval();
        let timeout = self.scenario.failover.health_check.timeout;
        let threshold = self.scenario.failover.health_check.threshold;
        let k = self.now.0 / interval;
        let m = self.multi.as_deref_mut().expect("state");
        if m.glb.plan[s] != plan {
            return;
        }
        let Some(runs) = m.glb.runs[s].as_mut() else {
            return;
        };
        let ok = |w: &mut Self| {
            w.schedule_in(SimDuration(1), Event::GlbCheckCompleted { site, ok: true })
        };
        let at = |k: u64| SimTime(k.saturating_mul(interval));
        let Some(run) = runs.front() else {
            // A path whose checks never fail: this one resets the count.
            return ok(self);
        };
        if k < run.first {
            ok(self);
            return self.schedule(at(run.first), Event::GlbSiteCheckDue { site, plan });
        }
        if k < run.first + run.len as u64 {
            if k == run.first && run.reset {
                m.check_failures[s] = 0;
            }
            self.glb_fail_at(s, self.now + timeout);
            return self.schedule(at(k + 1), Event::GlbSiteCheckDue { site, plan });
        }
        // The check that ends the run succeeds.
        runs.pop_front();
        let next = runs
            .front()
            .or_else(|| runs.draw(&mut self.rng.probes, k + 1, threshold));
        ok(self);
        if let Some(r) = next {
            self.schedule(at(r.first), Event::GlbSiteCheckDue { site, plan });
        }
    }

    /// A check of `site` that fails: the load balancer learns it at `at`.
    fn glb_fail_at(&mut self, site: SiteId, at: SimTime) {
        self.multi().glb.failed_in_flight[site] += 1;
        self.schedule(
            at,
            Event::GlbCheckCompleted {
                site: site as u16,
                ok: false,
            },
        );
    }
    /// Scores every healthy active site for every client group and routes
    /// each group to the lowest score (the reference design's weights by
    /// default): distance (km / 10,000, capped at 1), load (routed write rate
    /// over capacity) and latency (round trip in ms / 1,000).
    pub(in crate::sim) fn reroute(&mut self) {
        let aa = self.aa().clone();
        let s = self.scenario;
        let rate = s.workload.writes_per_s;
        let healthy: Vec<SiteId> = match self.multi().promoted {
            Some(p) => vec![p],
            None => s
                .topology
                .active
                .iter()
                .copied()
                .filter(|&a| self.multi().healthy[a])
                .collect(),
        };
        if healthy.is_empty() {
            return;
        }
        let mut load = vec![0.0; s.datacenters.len()];
        let mut routes = Vec::with_capacity(s.workload.clients.len());
        for (g, group) in s.workload.clients.iter().enumerate() {
            let mut best: Option<(f64, SiteId)> = None;
            for &site in &healthy {
                let d = &s.datacenters[site];
                let km = great_circle_km(group.lat, group.lon, d.lat, d.lon);
                let load_score = d
                    .capacity_per_s
                    .map_or(0.0, |c| (load[site] + group.share * rate) / c);
                let rtt_ms = self.clients.rtt[g][site].as_millis_f64();
                let score = aa.distance_weight * (km / 10_000.0).min(1.0)
                    + aa.load_weight * load_score
                    + aa.latency_weight * rtt_ms / 1000.0;
                if best.is_none_or(|(b, _)| score < b) {
                    best = Some((score, site));
                }
            }
            let (_, site) = best.expect("at least one healthy site");
            load[site] += group.share * rate;
            routes.push(site);
        }
        self.multi().routes = routes;
    }

    pub(in crate::sim) fn on_glb_check_due(&mut self) {
        let hc = self.scenario.failover.health_check;
        let explicit = |w: &Self, site: SiteId| {
            w.multi
                .as_deref()
                .is_some_and(|m| m.glb.runs[site].is_none())
        };
        if !self
            .scenario
            .topology
            .active
            .iter()
            .any(|&a| explicit(self, a))
        {
            // Every site's checks are drawn in runs: the round pauses.
            self.multi().glb.round_running = false;
            return;
        }
        self.schedule_in(hc.interval, Event::GlbCheckDue);
        let Some(glb) = self.glb_site() else {
            return;
        };
        for &site in &self.scenario.topology.active {
            if !explicit(self, site) {
                continue;
            }
            if site == glb {
                let ok = self.sites[site].is_up();
                self.schedule_in(
                    SimDuration::ZERO,
                    Event::GlbCheckCompleted {
                        site: site as u16,
                        ok,
                    },
                );
                continue;
            }
            let link = self.scenario.link_between[glb][site];
            let spec = &self.scenario.links[link];
            match self
                .network
                .datagram_delay(spec, link, &mut self.rng.probes)
            {
                Some(d) if d < hc.timeout => self.schedule_in(
                    d,
                    Event::GlbProbeArrived {
                        site: site as u16,
                        sent: self.now,
                    },
                ),
                _ => self.glb_fail_at(site, self.now + hc.timeout),
            }
        }
    }

    pub(in crate::sim) fn on_glb_probe_arrived(&mut self, site: u16, sent: SimTime) {
        let deadline = sent + self.scenario.failover.health_check.timeout;
        let site = site as SiteId;
        let reply = match self.glb_site() {
            Some(glb) if self.sites[site].is_up() && glb != site => {
                let link = self.scenario.link_between[glb][site];
                let spec = &self.scenario.links[link];
                self.network
                    .datagram_delay(spec, link, &mut self.rng.probes)
            }
            _ => None,
        };
        match reply {
            Some(d) if self.now + d <= deadline => self.schedule_in(
                d,
                Event::GlbCheckCompleted {
                    site: site as u16,
                    ok: true,
                },
            ),
            _ => self.glb_fail_at(site, deadline),
        }
    }

    pub(in crate::sim) fn on_glb_check_completed(&mut self, site: u16, ok: bool) {
        let site = site as SiteId;
        let threshold = self.scenario.failover.health_check.threshold;
        let now = self.now;
        let actually_up = self.sites[site].is_up();
        let m = self.multi();
        if !ok {
            m.glb.failed_in_flight[site] = m.glb.failed_in_flight[site].saturating_sub(1);
        }
        let was_healthy = m.healthy[site];
        if ok {
            m.check_failures[site] = 0;
            if !was_healthy {
                // Back in rotation after one good check.
                m.healthy[site] = true;
                self.disturbed();
                if self.multi().promoted.is_some() {
                    self.schedule_region_failback();
                } else {
                    self.publish_routes();
                }
            }
            return;
        }
        m.check_failures[site] += 1;
        if was_healthy && m.check_failures[site] >= threshold {
            m.healthy[site] = false;
            self.disturbed();
            self.metrics.failovers += 1;
            if actually_up {
                self.metrics.false_failovers += 1;
            }
            let hybrid = self.scenario.architecture == crate::model::Architecture::Hybrid;
            let region_down = hybrid
                && self
                    .scenario
                    .topology
                    .active
                    .iter()
                    .all(|&a| !self.multi().healthy[a]);
            // Detected when the failed site leaves rotation (for a regional
            // disaster, the first of its sites to do so).
            if (self.multi().incident_site == Some(site) || region_down)
                && let Some(inc) = self.open_incident_mut()
            {
                inc.detected.get_or_insert(now);
            }
            if region_down
                && self.failover.phase == Phase::Watching
                && self.multi().promoted.is_none()
            {
                self.begin_region_failover();
            } else {
                self.publish_routes();
            }
        }
    }

    /// Recomputes the routes and publishes them: at once with anycast, after
    /// the DNS update delay otherwise.
    pub(in crate::sim) fn publish_routes(&mut self) {
        self.reroute();
        let m = self.multi();
        m.route_version += 1;
        let version = m.route_version;
        let delay = if self.aa().anycast {
            SimDuration::ZERO
        } else {
            self.scenario
                .failover
                .dns
                .update_delay
                .sample_duration(&mut self.rng.failover)
        };
        self.schedule_in(delay, Event::RoutesPublished { version });
    }

    pub(in crate::sim) fn on_routes_published(&mut self, version: u32) {
        if version != self.multi().route_version {
            return; // superseded by newer routes
        }
        self.aa_note_cuts();
        let routes = self.multi().routes.clone();
        let immediate = self.aa().anycast;
        let (first, last) = self.repoint_groups(&routes, self.now, immediate);
        self.schedule(first, Event::ClientsSwitched);
        if last > first {
            self.schedule(last, Event::ClientsSwitched);
        }
    }
}
