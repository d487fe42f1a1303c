//! Injected failures: datacenter outages, link outages and link degradation,
//! at fixed or random times, for fixed or random durations.

use crate::model::{FailureKind, LinkId, SiteId};

use super::event::{Event, StreamId};
use super::network::Undelivered;
use super::world::World;
use crate::base::rng::{Stream, indexed_stream_rng};
use crate::base::time::SimTime;

impl World<'_> {
    /// Draws every failure's start and duration up front, each specification
    /// from its own stream, so that failure times depend on nothing else in
    /// the run, nor on the other specifications (common random numbers hold
    /// when a sweep changes one failure).
    pub(super) fn schedule_failures(&mut self) {
        let horizon = SimTime::ZERO + self.scenario.horizon;
        for (i, f) in self.scenario.failures.iter().enumerate() {
            // A region outage takes every datacenter of the region at once.
            let sites: Vec<SiteId> = match f.kind {
                FailureKind::DatacenterOutage { site } => vec![site],
                FailureKind::RegionOutage { region } => (0..self.scenario.datacenters.len())
                    .filter(|&d| self.scenario.datacenters[d].region == region)
                    .collect(),
                _ => Vec::new(),
            };
            let (begin, finish): (Vec<Event>, Vec<Event>) = match &f.kind {
                FailureKind::DatacenterOutage { .. } | FailureKind::RegionOutage { .. } => (
                    sites
                        .iter()
                        .map(|&s| Event::SiteFailed { site: s as u16 })
                        .collect(),
                    sites
                        .iter()
                        .map(|&s| Event::SiteRepaired { site: s as u16 })
                        .collect(),
                ),
                &FailureKind::LinkDown { link } => (
                    vec![Event::LinkFailed { link: link as u16 }],
                    vec![Event::LinkRepaired { link: link as u16 }],
                ),
                FailureKind::Outage { sites, links } => (
                    sites
                        .iter()
                        .map(|&s| Event::SiteFailed { site: s as u16 })
                        .chain(links.iter().map(|&l| Event::LinkFailed { link: l as u16 }))
                        .collect(),
                    sites
                        .iter()
                        .map(|&s| Event::SiteRepaired { site: s as u16 })
                        .chain(
                            links
                                .iter()
                                .map(|&l| Event::LinkRepaired { link: l as u16 }),
                        )
                        .collect(),
                ),
                &FailureKind::GrayFailure { site, .. } => (
                    vec![Event::GrayStarted {
                        site: site as u16,
                        failure: i as u16,
                    }],
                    vec![Event::GrayEnded {
                        site: site as u16,
                        failure: i as u16,
                    }],
                ),
                &FailureKind::ReplicationStall { site } => (
                    vec![Event::StallStarted { site: site as u16 }],
                    vec![Event::StallEnded { site: site as u16 }],
                ),
                &FailureKind::LinkDegraded { link, .. } => (
                    vec![Event::LinkDegraded {
                        link: link as u16,
                        failure: i as u16,
                    }],
                    vec![Event::LinkRestored {
                        link: link as u16,
                        failure: i as u16,
                    }],
                ),
            };
            // A recurring failure alternates up periods (`every`) and down
            // periods (`duration`) until the horizon; the whole sequence is
            // drawn now, so it does not depend on anything else in the run.
            // Active-active horizon runs: a degradation only changes the
            // network condition (`horizon::link_condition_changed`).
            let soft = self.multi.is_some() && matches!(f.kind, FailureKind::LinkDegraded { .. });
            let rng = &mut indexed_stream_rng(self.rng.run_seed, Stream::Failures, i as u64);
            let mut start = match (&f.at, &f.every) {
                (Some(at), _) => SimTime::ZERO + at.sample_duration(rng),
                (None, Some(every)) => SimTime::ZERO + every.sample_duration(rng),
                (None, None) => continue,
            };
            while start < horizon {
                let end = f.duration.as_ref().map(|d| start + d.sample_duration(rng));
                for &e in &begin {
                    self.queue.push(start, e);
                }
                if let Some(h) = &mut self.horizon
                    && !soft
                {
                    h.add_disturbance(start);
                }
                let Some(end) = end.filter(|&e| e < horizon) else {
                    break;
                };
                for &e in &finish {
                    self.queue.push(end, e);
                }
                if let Some(h) = &mut self.horizon
                    && !soft
                {
                    h.add_disturbance(end);
                }
                let Some(every) = &f.every else { break };
                // At least one nanosecond up, so a failure never starts before its repair.
                start = end
                    + every
                        .sample_duration(rng)
                        .max(crate::base::time::SimDuration(1));
            }
        }
        if let Some(h) = &mut self.horizon {
            h.seal();
        }
    }

    pub(super) fn on_site_failed(&mut self, site: SiteId) {
        let was_up = self.sites[site].is_up();
        self.sites[site].outages += 1;
        // What it received but had not applied dies with it.
        self.sites[site].held_to = 0;
        if !was_up {
            return;
        }
        if Some(site) == self.failover.rogue {
            self.end_split_brain();
        }
        if site == self.primary && !self.sites[site].fenced {
            // Writes on the wire still arrive; nothing new is shipped or acknowledged.
            self.cut_streams_at_primary_failure();
            self.failover.primary_stopped.get_or_insert(self.now);
            if self.metrics.begin_incident(self.now) {
                self.alerts_at_incident_start();
            }
        }
        for i in 0..self.streams.len() {
            if self.streams[i].dest == site && self.streams[i].conn.connected {
                self.reset_stream(i as StreamId, Undelivered::LinkDown);
            }
        }
    }

    pub(super) fn on_site_repaired(&mut self, site: SiteId) {
        let s = &mut self.sites[site];
        s.outages = s.outages.saturating_sub(1);
        if !s.is_up() {
            return;
        }
        if Some(site) == self.failover.rogue {
            // The unfenced old primary is back and serves again.
            self.failover.split_since.get_or_insert(self.now);
        }
        if site == self.primary && !self.sites[site].fenced {
            // Back before any failover fenced it: service resumes at once, for
            // every client (their DNS entries never changed).
            self.failover.primary_stopped = None;
            if self.failover.phase == super::world::Phase::AwaitingOperator {
                self.failover.phase = super::world::Phase::Watching;
                self.failover.id += 1;
            }
            // Its connections died with it: start them afresh from what each
            // standby has.
            for i in 0..self.streams.len() {
                self.reset_stream(i as StreamId, Undelivered::LinkDown);
                self.reconnect_stream(i as StreamId);
            }
            self.check_recovered();
        } else if self.sites[site].fenced {
            if self.scenario.failover.rejoin && site != self.primary {
                self.rejoin_as_standby(site);
            }
        } else {
            for i in 0..self.streams.len() {
                if self.streams[i].dest == site {
                    self.reconnect_stream(i as StreamId);
                }
            }
        }
    }

    /// Fenced old primaries that are alive (fenced by a false alarm or a
    /// partition) and reach the primary are demoted: they rejoin as standbys.
    pub(super) fn rejoin_fenced_sites(&mut self) {
        if !self.scenario.failover.rejoin {
            return;
        }
        for site in 0..self.sites.len() {
            if site != self.primary
                && self.sites[site].fenced
                && self.sites[site].is_up()
                && self.reachable(site, self.primary)
            {
                self.rejoin_as_standby(site);
            }
        }
    }

    /// A fenced old primary that is up rejoins as a standby of the current
    /// primary and catches up (its writes the new primary never had are
    /// rolled back).
    pub(super) fn rejoin_as_standby(&mut self, site: SiteId) {
        self.sites[site].fenced = false;
        let target = self.log.committed;
        self.failover.resyncs.retain(|r| r.0 != site);
        self.failover.resyncs.push((site, self.now, target));
        let mut stream = self.streams_from(self.primary, &[site]);
        self.streams.append(&mut stream);
        let i = (self.streams.len() - 1) as StreamId;
        self.streams[i as usize].conn.connected = false;
        self.reconnect_stream(i);
        // Nothing missing: the resync is over at once.
        self.check_resynced(site);
    }

    fn streams_on(&self, link: LinkId) -> Vec<StreamId> {
        (0..self.streams.len())
            .filter(|&i| self.streams[i].conn.link == link)
            .map(|i| i as StreamId)
            .collect()
    }

    pub(super) fn on_link_failed(&mut self, link: LinkId) {
        self.network.fail(link);
        if self.multi.is_some() {
            return self.on_aa_link_changed(link, false);
        }
        self.reconsider_paths(link);
        for i in self.streams_on(link) {
            if self.streams[i as usize].conn.connected {
                self.reset_stream(i, Undelivered::LinkDown);
            }
        }
    }

    pub(super) fn on_link_repaired(&mut self, link: LinkId) {
        self.network.repair(link);
        if self.multi.is_some() {
            if self.network.links[link].is_up() {
                self.on_aa_link_changed(link, true);
            }
            return;
        }
        self.reconsider_paths(link);
        self.rejoin_fenced_sites();
        if self.network.links[link].is_up() {
            for i in self.streams_on(link) {
                self.reconnect_stream(i);
            }
        }
    }

    pub(super) fn on_link_degraded(&mut self, link: LinkId, failure: u16) {
        if let FailureKind::LinkDegraded {
            latency_multiplier,
            extra_loss,
            bandwidth_factor,
            ..
        } = self.scenario.failures[failure as usize].kind
        {
            let spec = &self.scenario.links[link];
            self.network.degrade(
                spec,
                link,
                failure,
                latency_multiplier,
                extra_loss,
                bandwidth_factor,
            );
            self.reconsider_paths(link);
        }
    }

    pub(super) fn on_link_restored(&mut self, link: LinkId, failure: u16) {
        let spec = &self.scenario.links[link];
        self.network.restore(spec, link, failure);
        self.reconsider_paths(link);
    }

    /// A gray failure starts or ends: the site's combined probabilities of
    /// failing a check and a write are recomputed from the active ones.
    pub(super) fn on_gray_changed(&mut self, site: SiteId, failure: u16, started: bool) {
        if started {
            self.grays.push((failure, site));
        } else if let Some(k) = self.grays.iter().position(|g| *g == (failure, site)) {
            self.grays.remove(k);
        }
        let (mut ok_check, mut ok_write) = (1.0, 1.0);
        for &(f, s) in &self.grays {
            if s == site
                && let FailureKind::GrayFailure {
                    check_failure,
                    write_failure,
                    ..
                } = self.scenario.failures[f as usize].kind
            {
                ok_check *= 1.0 - check_failure;
                ok_write *= 1.0 - write_failure;
            }
        }
        self.sites[site].gray_check = 1.0 - ok_check;
        self.sites[site].gray_write = 1.0 - ok_write;
    }

    pub(super) fn on_stall_ended(&mut self, site: SiteId) {
        let s = &mut self.sites[site];
        s.stalled = s.stalled.saturating_sub(1);
        if s.stalled == 0 && s.held_to > s.applied && s.is_up() {
            let to = s.held_to;
            s.held_to = 0;
            if let Some(i) = self.streams.iter().position(|x| x.dest == site) {
                self.apply_delivered(i as StreamId, to);
            }
        }
    }
}
