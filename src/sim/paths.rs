//! Redundant paths between two datacenters (several providers or routes).
//! Traffic uses one path at a time; the reference design's link health score
//! rates each (latency, bandwidth, loss, jitter weighted 0.3/0.3/0.2/0.2,
//! healthy above 0.7), and when the active path is down or unhealthy traffic
//! moves, after `network.path_switch_delay`, to the first healthy path in
//! preference order (or the best-scoring one that is up).

use crate::model::{LinkId, SiteId};

use super::event::{Event, StreamId};
use super::network::Undelivered;
use super::world::World;

impl World<'_> {
    /// The path traffic between `a` and `b` uses now.
    #[inline]
    pub(super) fn path_between(&self, a: SiteId, b: SiteId) -> LinkId {
        self.route[self.scenario.link_between[a][b]]
    }

    /// Some path between `a` and `b` is up.
    pub(super) fn reachable(&self, a: SiteId, b: SiteId) -> bool {
        self.scenario.paths[self.scenario.link_between[a][b]]
            .iter()
            .any(|&l| self.network.links[l].is_up())
    }

    /// The reference design's health score of a path, from 0 to 1: latency
    /// (best at 0, worst from 100 ms), bandwidth (best from 1 Gbps), loss
    /// (worst from 5%) and jitter (worst from 50 ms, the mean is used).
    pub fn path_score(&self, link: LinkId) -> f64 {
        let spec = &self.scenario.links[link];
        let state = &self.network.links[link];
        let latency_ms = spec.latency.as_secs_f64() * 1e3 * state.latency_multiplier();
        let mbps = spec
            .bandwidth_bps
            .map_or(1000.0, |b| b / 1e6 * state.bandwidth_factor());
        let loss_pct = state.loss() * 100.0;
        let jitter_ms = spec.jitter.as_ref().map_or(0.0, |j| j.mean() * 1e3);
        0.3 * (1.0 - latency_ms / 100.0).max(0.0)
            + 0.3 * (mbps / 1000.0).min(1.0)
            + 0.2 * (1.0 - loss_pct / 5.0).max(0.0)
            + 0.2 * (1.0 - jitter_ms / 50.0).max(0.0)
    }

    /// The path a pair should use: the first healthy one that is up, else
    /// the best-scoring one that is up, else the current one.
    fn best_path(&self, group: LinkId) -> LinkId {
        let paths = &self.scenario.paths[group];
        let up = |l: &&LinkId| self.network.links[**l].is_up();
        let threshold = self.scenario.path_health_threshold;
        if let Some(&l) = paths
            .iter()
            .filter(up)
            .find(|&&l| self.path_score(l) > threshold)
        {
            return l;
        }
        let mut best: Option<(LinkId, f64)> = None;
        for &l in paths.iter().filter(up) {
            let s = self.path_score(l);
            if best.is_none_or(|b| s > b.1) {
                best = Some((l, s));
            }
        }
        best.map_or(self.route[group], |b| b.0)
    }

    /// A path of `link`'s pair changed: plan a switch if another is better.
    pub(super) fn reconsider_paths(&mut self, link: LinkId) {
        let group = self.scenario.path_group[link];
        if self.scenario.paths[group].len() < 2 || self.switch_pending[group] {
            return;
        }
        if self.best_path(group) != self.route[group] {
            self.switch_pending[group] = true;
            let delay = self.scenario.path_switch_delay;
            self.schedule_in(
                delay,
                Event::PathSwitch {
                    group: group as u16,
                },
            );
        }
    }

    /// Moves the pair's traffic to its best path (if still better): its
    /// replication streams reconnect over it.
    pub(super) fn on_path_switch(&mut self, group: u16) {
        let group = group as LinkId;
        self.switch_pending[group] = false;
        let (old, new) = (self.route[group], self.best_path(group));
        if new == old {
            return;
        }
        self.route[group] = new;
        self.metrics.path_switches += 1;
        for i in 0..self.streams.len() {
            if self.streams[i].conn.link == old {
                if self.streams[i].conn.connected {
                    self.reset_stream(i as StreamId, Undelivered::LinkDown);
                }
                self.streams[i].conn.link = new;
                self.reconnect_stream(i as StreamId);
            }
        }
        self.disturbed();
    }
}
