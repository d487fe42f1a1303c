//! The failover chain: once the health checks (`health`) declare the primary
//! down, [operator delay], fence the old primary, drain in-flight replication
//! (bounded), promote, update DNS, clients follow as caches expire. The drain
//! and the promotion are shared with the hybrid cross-region failover
//! (`active_active`), which starts the chain when its active region is down
//! and ends it with its own routing.

use crate::metrics::recorder::Incident;
use crate::model::{Fencing, SiteId};

use super::event::Event;
use super::world::{Phase, World};
use crate::base::time::SimDuration;

impl World<'_> {
    pub(super) fn on_primary_declared_down(&mut self) {
        self.disturbed();
        // A failover supersedes a failback, started or not.
        self.failover.failback_pending = false;
        self.failover.failback_since = None;
        let now = self.now;
        self.failover.consecutive_failures = 0;
        self.failover.id += 1;
        self.failover.false_alarm = self.sites[self.primary].is_up();
        if let Some(inc) = self.open_incident_mut() {
            inc.detected.get_or_insert(now);
        }
        match &self.scenario.failover.operator_delay {
            Some(delay) => {
                let d = delay.sample_duration(&mut self.rng.failover);
                self.failover.phase = Phase::AwaitingOperator;
                self.schedule_in(
                    d,
                    Event::FailoverStarted {
                        failover: self.failover.id,
                    },
                );
            }
            None => self.begin_failover(),
        }
    }

    pub(super) fn on_failover_started(&mut self, id: u32) {
        if id == self.failover.id && self.failover.phase == Phase::AwaitingOperator {
            self.begin_failover();
        }
    }

    /// The standby to promote: up, most up to date, then by preference order.
    fn choose_target(&self) -> Option<SiteId> {
        let mut best: Option<SiteId> = None;
        for s in &self.streams {
            let d = s.dest;
            if !self.sites[d].is_up() || self.sites[d].fenced {
                continue;
            }
            if best.is_none_or(|b| self.sites[d].applied > self.sites[b].applied) {
                best = Some(d);
            }
        }
        best
    }

    /// Fences the old primary, then drains (bounded) or promotes at once.
    fn begin_failover(&mut self) {
        let Some(target) = self.choose_target() else {
            // Nothing to promote: keep watching; the chain retries after the
            // next `threshold` failed checks.
            self.failover.phase = Phase::Watching;
            self.disturbed();
            return;
        };
        let old = self.primary;
        match self.scenario.failover.fencing {
            Fencing::QuorumWitness { witness } if self.witness_sees(witness, old) => {
                // The witness still reaches the primary: the monitor is the one
                // cut off. No quorum for a failover, so none happens.
                self.failover.phase = Phase::Watching;
                self.disturbed();
                return;
            }
            Fencing::None if self.sites[old].is_up() => {
                // Nothing stops the old primary: it serves on (see on_promotion_done).
            }
            _ => {
                // Stopped: by a fencing agent, or by itself once it lost the quorum.
                if self.primary_serving() {
                    // "Stop the old primary": a live one flushes what it has not shipped.
                    self.ship_backlog();
                }
                self.sites[old].fenced = true;
            }
        }
        self.failover.primary_stopped.get_or_insert(self.now);
        self.drain_then_promote(target, self.scenario.failover.drain_timeout);
    }

    /// Waits (at most `timeout`) for replication on its way to `target` to
    /// land, then promotes it; without a timeout, promotes at once. One chain
    /// for every architecture: what "landed" means is `drained`.
    pub(super) fn drain_then_promote(&mut self, target: SiteId, timeout: Option<SimDuration>) {
        let Some(timeout) = timeout else {
            return self.promote(target);
        };
        if self.drained(target) {
            self.record_drain_wait(SimDuration::ZERO);
            return self.promote(target);
        }
        self.failover.phase = Phase::Draining {
            target,
            since: self.now,
        };
        self.schedule_in(
            timeout,
            Event::DrainTimedOut {
                failover: self.failover.id,
            },
        );
    }

    /// Everything still valid in flight to `target` has arrived: on the
    /// standby streams of the primary, or on the peer streams of the active
    /// sites (hybrid).
    fn drained(&self, target: SiteId) -> bool {
        if self.multi.is_some() {
            return self.landed_at(target);
        }
        !self.streams.iter().any(|s| {
            s.dest == target && s.conn.connected && self.sites[target].applied < s.conn.landing_to()
        })
    }

    /// The witness and the primary are both up and the link between them works.
    fn witness_sees(&self, witness: SiteId, primary: SiteId) -> bool {
        if witness == primary || !self.sites[witness].is_up() || !self.sites[primary].is_up() {
            return false;
        }
        self.reachable(witness, primary)
    }

    /// Ends a split brain in progress (the rogue failed, or the run ended).
    pub(super) fn end_split_brain(&mut self) {
        if let Some(since) = self.failover.split_since.take() {
            self.metrics.split_brain += self.now - since;
        }
    }

    /// Called when the drain target has everything shipped to it.
    pub(super) fn drain_complete(&mut self) {
        if let Phase::Draining { target, since } = self.failover.phase {
            self.record_drain_wait(self.now - since);
            self.promote(target);
        }
    }

    pub(super) fn on_drain_timed_out(&mut self, id: u32) {
        if id == self.failover.id {
            self.drain_complete();
        }
    }

    pub(super) fn record_drain_wait(&mut self, wait: SimDuration) {
        if let Some(inc) = self.open_incident_mut() {
            inc.drain_wait.get_or_insert(wait);
        }
    }

    /// `target` is promoted: after the promotion delay it serves.
    fn promote(&mut self, target: SiteId) {
        self.failover.phase = Phase::Promoting { target };
        let d = self
            .scenario
            .failover
            .promotion
            .sample_duration(&mut self.rng.failover);
        self.schedule_in(
            d,
            Event::PromotionDone {
                failover: self.failover.id,
            },
        );
    }

    pub(super) fn on_promotion_done(&mut self, id: u32) {
        let Phase::Promoting { target } = self.failover.phase else {
            return;
        };
        if id != self.failover.id {
            return;
        }
        if self.multi.is_some() {
            self.on_region_promoted(target);
        } else {
            self.on_standby_promoted(id, target);
        }
    }

    /// The standby `target` is the new primary.
    fn on_standby_promoted(&mut self, id: u32, target: SiteId) {
        // Acknowledged writes the new primary does not have are lost.
        let has = self.sites[target].applied;
        let lost = self.log.acked.saturating_sub(has);
        let stopped = self.failover.primary_stopped.unwrap_or(self.now);
        let window = stopped - self.sites[target].applied_commit;
        self.metrics.record_loss(lost, window);
        if self.failover.planned {
            self.metrics.failbacks += 1;
            self.failover.planned = false;
        } else {
            self.metrics.failovers += 1;
            if self.failover.false_alarm {
                self.metrics.false_failovers += 1;
            }
        }
        // The new primary's log is its own history; writes beyond it are gone,
        // and so is anything a stalled standby held.
        self.log.truncate(has);
        for s in &mut self.sites {
            s.held_to = 0;
        }
        let old = self.primary;
        self.primary = target;
        if !self.sites[old].fenced && self.sites[old].is_up() {
            // Unfenced and alive: two primaries from now on (split brain).
            self.failover.rogue = Some(old);
            self.failover.split_since = Some(self.now);
        }
        let standbys: Vec<SiteId> = self
            .streams
            .iter()
            .map(|s| s.dest)
            .filter(|&d| d != target && d != old && !self.sites[d].fenced)
            .collect();
        // Every other site keeps only the shared history: the old primary,
        // the standbys, and sites fenced earlier and still down roll back
        // their writes after `has` (when they rejoin, they resync from there).
        let commit = self.sites[target].applied_commit;
        for s in &mut self.sites {
            if s.applied > has {
                s.applied = has;
                s.applied_commit = commit;
            }
        }
        self.streams = self.streams_from(target, &standbys);
        for i in 0..self.streams.len() {
            self.streams[i].conn.connected = false;
            self.reconnect_stream(i as u16);
        }
        self.rejoin_fenced_sites();
        self.failover.phase = Phase::Watching;
        self.failover.primary_stopped = None;
        if !self.sites[target].is_up() {
            // Promoted while down (it failed during the drain or promotion):
            // the new primary's outage is an incident of its own.
            self.failover.primary_stopped = Some(self.now);
            if self.metrics.begin_incident(self.now) {
                self.alerts_at_incident_start();
            }
        }
        self.disturbed();
        let d = self
            .scenario
            .failover
            .dns
            .update_delay
            .sample_duration(&mut self.rng.failover);
        self.schedule_in(d, Event::DnsUpdated { failover: id });
    }

    pub(super) fn on_dns_updated(&mut self, id: u32) {
        let target = self.primary;
        let (first, last) = self.repoint_clients(target, self.now);
        let target_up = self.sites[target].is_up();
        if let Some(inc) = self.open_incident_mut()
            && inc.first_served.is_none()
            && target_up
        {
            inc.first_served = Some(first);
        }
        self.schedule(last, Event::AllClientsMoved { failover: id });
    }

    pub(super) fn on_all_clients_moved(&mut self, _id: u32) {
        self.check_recovered();
        if let Some(since) = self.failover.failback_since
            && self.primary_serving()
            && self.primary == self.scenario.topology.primary
        {
            let (now, primary) = (self.now, self.primary);
            if self
                .clients
                .states
                .iter()
                .all(|c| c.site_at(now) == primary)
            {
                self.failover.failback_since = None;
                self.metrics.failback_times.push(now - since);
            }
        }
    }

    /// A rejoined standby reached the position the primary had when it
    /// rejoined: its resync is over. The original primary may now fail back.
    pub(super) fn check_resynced(&mut self, site: SiteId) {
        let Some(k) = self
            .failover
            .resyncs
            .iter()
            .position(|r| r.0 == site && self.sites[site].applied >= r.2)
        else {
            return;
        };
        let (_, since, _) = self.failover.resyncs.remove(k);
        self.metrics.resyncs.push(self.now - since);
        if let Some(delay) = self.scenario.failover.failback
            && site == self.scenario.topology.primary
            && site != self.primary
            && !self.failover.failback_pending
        {
            self.failover.failback_pending = true;
            self.schedule_in(
                delay,
                Event::FailbackStarted {
                    failover: self.failover.id,
                },
            );
        }
    }

    /// The planned switchover back to the original primary: stop writes at
    /// the current primary (it flushes what it has not shipped), wait for the
    /// original to have everything, promote it, update DNS. The old primary
    /// then rejoins as a standby.
    pub(super) fn on_failback_started(&mut self, id: u32) {
        let original = self.scenario.topology.primary;
        let ready = id == self.failover.id
            && self.failover.failback_pending
            && self.failover.phase == Phase::Watching
            && self.primary_serving()
            && self.sites[original].is_up()
            && !self.sites[original].fenced
            && self
                .streams
                .iter()
                .any(|s| s.dest == original && s.conn.connected);
        self.failover.failback_pending = false;
        if !ready {
            // Not now (a blip, a chain in progress): try again a delay later,
            // unless a failover superseded it or the original is back in charge.
            if id == self.failover.id
                && self.primary != original
                && self.sites[original].is_up()
                && let Some(delay) = self.scenario.failover.failback
            {
                self.failover.failback_pending = true;
                let retry = delay.max(SimDuration::from_secs(10));
                self.schedule_in(retry, Event::FailbackStarted { failover: id });
            }
            return;
        }
        self.disturbed();
        self.failover.id += 1;
        self.failover.planned = true;
        self.failover.false_alarm = false;
        self.failover.failback_since = Some(self.now);
        let old = self.primary;
        self.ship_backlog();
        self.sites[old].fenced = true;
        self.failover.primary_stopped = Some(self.now);
        // A planned switchover waits for the original to have everything.
        let wait = self
            .scenario
            .failover
            .drain_timeout
            .unwrap_or(SimDuration::from_secs(300));
        self.drain_then_promote(original, Some(wait));
    }

    /// Closes the open incident if the primary serves and every client reaches
    /// it; if it serves but some clients still hold an old DNS entry, looks
    /// again when the last of them switches.
    pub(super) fn check_recovered(&mut self) {
        if self.open_incident_mut().is_none() || !self.primary_serving() {
            return;
        }
        let now = self.now;
        let primary = self.primary;
        let reaching = self
            .clients
            .states
            .iter()
            .filter(|c| c.site_at(now) == primary)
            .count();
        if reaching > 0
            && let Some(inc) = self.open_incident_mut()
        {
            inc.first_served.get_or_insert(now);
        }
        if reaching == self.clients.states.len() {
            if let Some(inc) = self.open_incident_mut() {
                inc.recovered = Some(now);
            }
        } else {
            let last = self
                .clients
                .states
                .iter()
                .map(|c| c.switch_at)
                .max()
                .unwrap_or(now);
            if last > now {
                self.schedule(
                    last,
                    Event::AllClientsMoved {
                        failover: self.failover.id,
                    },
                );
            }
        }
    }

    /// The run's latest incident while it is still unresolved.
    pub(super) fn open_incident_mut(&mut self) -> Option<&mut Incident> {
        self.metrics.open_incident_mut()
    }
}
