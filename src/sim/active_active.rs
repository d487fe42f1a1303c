//! Active-active: every active site serves reads and writes. A global load
//! balancer (GLB) health-checks the sites and routes each client group to the
//! best healthy one by a weighted score of distance, load and latency; routing
//! changes reach clients through DNS (as their caches expire) or at once
//! (anycast). Each site replicates its own writes to every other active site
//! (multi-master, asynchronous, in order per pair). A write that does not know
//! the key's latest write from another site is a conflict; last-writer-wins
//! then silently loses one of the two (and, with skewed clocks, can keep the
//! older one), while version vectors surface the conflict instead.
//!
//! Hybrid runs this model inside the active region and also replicates every
//! active site's writes to the standby region. A site failure is handled in
//! the region by rerouting; when the load balancer has no healthy active site
//! left (a regional disaster), the active-passive chain runs: [operator
//! delay], drain (bounded), promotion of a standby, DNS update.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rand::RngExt;
use rand_distr::{Distribution, Zipf};

use crate::model::{ActiveActive, ConflictPolicy, Scenario, SiteId};

mod glb;
mod key_mass;
mod quiet;

use super::connection::Connection;
use super::event::{Conn, Event};
use super::network::Undelivered;
use super::replication::{Log, WriteRecord, resync};
use super::world::{Phase, World};
use crate::base::time::{SimDuration, SimTime};

/// A fast hasher for integer keys (a multiply and a fold): the key table is
/// on the write path, and SipHash's resistance to hostile keys buys nothing
/// for keys drawn by the simulation itself.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, k: u64) {
        let m = (self.0 ^ k).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = m ^ (m >> 32);
    }
}

/// Clocks are stepped back to their offset this often: drift accumulates
/// between synchronisations only.
const CLOCK_SYNC: SimDuration = SimDuration(3_600_000_000_000);

/// Replication of one origin's writes to one peer site.
struct Peer {
    origin: SiteId,
    dest: SiteId,
    /// Highest write of `origin` the peer has applied.
    applied: u64,
    /// Commit time of write `applied`.
    applied_commit: SimTime,
    /// Origin and peer are in the same region: with sync replication the
    /// origin waits for this peer's confirmation.
    in_region: bool,
    conn: Connection,
}

/// The latest write of a key, for conflict detection.
#[derive(Clone, Copy)]
struct KeyState {
    origin: u16,
    seq: u64,
    /// Highest timestamp written to the key (what last-writer-wins keeps).
    max_ts: i64,
}

/// Run state of the active-active model.
pub struct Multi {
    /// Per origin site; a log's `acked` is the highest write acknowledged to its client.
    logs: Vec<Log<WriteRecord>>,
    peers: Vec<Peer>,
    /// The GLB's view: sites it routes to.
    healthy: Vec<bool>,
    check_failures: Vec<u32>,
    glb: glb::GlbChecks,
    /// Current route of each client group, and the latest published version.
    routes: Vec<SiteId>,
    route_version: u32,
    /// Only looked up, never iterated: the hasher cannot affect results.
    keys: HashMap<u64, KeyState, BuildHasherDefault<KeyHasher>>,
    zipf: Option<Zipf<f64>>,
    /// Clients routed to the failed site when the incident began.
    affected: Vec<u32>,
    incident_site: Option<SiteId>,
    /// Per origin: writes above this were already counted lost when it failed.
    lost_above: Vec<u64>,
    /// Sync replication among the active sites of one region (async across regions).
    sync_in_region: bool,
    /// Hybrid: the standby promoted after a regional disaster.
    promoted: Option<SiteId>,
    /// Hybrid: when the active region stopped accepting writes.
    region_down_at: Option<SimTime>,
    /// Hybrid: the promoted standby's last write before its promotion
    /// (the writes after it are what failback resyncs to the active region).
    promoted_from: u64,
    promoted_at: SimTime,
    /// Hybrid: a failback to the active region is scheduled or resyncing, since when.
    failback_pending: bool,
    failback_since: Option<SimTime>,
    /// Horizon runs: ordered pairs of sites taking writes whose stream is
    /// cut, since when (conflicts of aggregate periods, `quiet`).
    cuts: Vec<(SiteId, SiteId)>,
    cuts_since: SimTime,
    key_mass: Option<key_mass::KeyMass>,
}

impl Multi {
    pub(super) fn peer_conn(&self, p: usize) -> Option<&Connection> {
        self.peers.get(p).map(|x| &x.conn)
    }

    pub(super) fn peer_conn_mut(&mut self, p: usize) -> Option<&mut Connection> {
        self.peers.get_mut(p).map(|x| &mut x.conn)
    }

    /// (origin, peer) of peer stream `p`.
    pub(super) fn peer_ends(&self, p: usize) -> (SiteId, SiteId) {
        (self.peers[p].origin, self.peers[p].dest)
    }

    pub(super) fn peer_applied(&self, p: usize) -> u64 {
        self.peers[p].applied
    }

    pub fn new(s: &Scenario, aa: &ActiveActive) -> Multi {
        let n = s.datacenters.len();
        let mut peers = Vec::new();
        // Every active site replicates to every other active site and, in
        // hybrid, to each standby of the standby region.
        for &o in &s.topology.active {
            for &d in s.topology.active.iter().chain(&s.topology.standbys) {
                if o != d {
                    peers.push(Peer {
                        origin: o,
                        dest: d,
                        applied: 0,
                        applied_commit: SimTime::ZERO,
                        in_region: s.datacenters[o].region == s.datacenters[d].region
                            && s.topology.active.contains(&d),
                        conn: Connection::open(s.link_between[o][d], 0, 0),
                    });
                }
            }
        }
        let mut healthy = vec![false; n];
        for &a in &s.topology.active {
            healthy[a] = true;
        }
        Multi {
            logs: (0..n).map(|_| Log::new()).collect(),
            peers,
            healthy,
            check_failures: vec![0; n],
            glb: glb::GlbChecks::new(n, s.horizon_mode.is_some()),
            routes: vec![s.topology.primary; s.workload.clients.len()],
            route_version: 0,
            keys: HashMap::default(),
            // Validated: count >= 1, exponent > 0.
            zipf: aa
                .keys
                .zipf_exponent
                .and_then(|e| Zipf::new(aa.keys.count as f64, e).ok()),
            affected: Vec::new(),
            incident_site: None,
            lost_above: vec![u64::MAX; n],
            sync_in_region: s.replication.mode == crate::model::ReplicationMode::Sync,
            promoted: None,
            region_down_at: None,
            promoted_from: 0,
            promoted_at: SimTime::ZERO,
            failback_pending: false,
            failback_since: None,
            cuts: Vec::new(),
            cuts_since: SimTime::ZERO,
            key_mass: None,
        }
    }
}

impl World<'_> {
    fn aa(&self) -> &ActiveActive {
        self.scenario
            .active_active
            .as_ref()
            .expect("active-active world has its settings")
    }

    /// The site each client group is routed to at the start of a run (the
    /// load balancer's first placement; for `drsim drill`).
    pub fn initial_routes(mut self) -> Vec<SiteId> {
        if self.multi.is_none() {
            return vec![self.primary; self.scenario.workload.clients.len()];
        }
        self.reroute();
        std::mem::take(&mut self.multi().routes)
    }

    pub(super) fn start_active_active(&mut self) {
        self.reroute();
        let routes = self.multi().routes.clone();
        self.repoint_groups(&routes, SimTime::ZERO, true);
        self.start_glb_checks();
    }

    fn multi(&mut self) -> &mut Multi {
        self.multi
            .as_deref_mut()
            .expect("active-active world has its state")
    }

    /// A site's clock reading at true time `t`, in ns: its offset, plus the
    /// drift accumulated since the last clock synchronisation (every
    /// `CLOCK_SYNC`, as NTP keeps clocks from drifting apart for years).
    fn clock_ns(&self, site: SiteId, t: SimTime) -> i64 {
        let d = &self.scenario.datacenters[site];
        let since_sync = t.0 % CLOCK_SYNC.0;
        t.0 as i64 + d.clock_offset_ns + (since_sync as f64 * d.clock_drift_ppm * 1e-6) as i64
    }

    /// A site accepts writes: an up active site (before any cross-region
    /// failover), or the promoted standby.
    fn serving(&self, site: SiteId) -> bool {
        let m = self.multi.as_deref().expect("active-active state");
        self.sites[site].is_up()
            && match m.promoted {
                Some(p) => p == site,
                None => self.scenario.topology.active.contains(&site),
            }
    }

    fn draw_key(&mut self) -> u64 {
        let count = self.aa().keys.count;
        let m = self.multi.as_deref().expect("active-active state");
        match &m.zipf {
            Some(z) => z.sample(&mut self.rng.keys) as u64,
            None => self.rng.keys.random_range(0..count),
        }
    }

    // ---- writes --------------------------------------------------------

    pub(super) fn on_aa_write_arrived(&mut self) {
        if self.quiet {
            return;
        }
        // Every write draws its key too, accepted or not (common random numbers).
        let super::workload::Arrival {
            group,
            site,
            size,
            gray_draw,
        } = self.arrive();
        let key = self.draw_key();
        self.metrics.count_arrival();
        let serving = self.serving(site);
        let Some(wait) = self.admit_write(site, serving, gray_draw) else {
            return;
        };
        self.detect_conflict(site, key);
        let now = self.now;
        let m = self.multi();
        let seq = m.logs[site].append(WriteRecord {
            commit: now,
            size_bytes: size as u32,
            group,
            wait,
        });
        let waits_for_region =
            m.sync_in_region && m.peers.iter().any(|p| p.origin == site && p.in_region);
        if !waits_for_region {
            m.logs[site].acked = seq;
            let rtt = self.clients.rtt[group as usize][site];
            self.metrics.record_write_latency(rtt + wait);
        }
        let m = self.multi();
        if !m.peers.iter().any(|p| p.origin == site) {
            // A promoted standby replicates to no one: only counts matter.
            let log = &mut m.logs[site];
            log.trim(log.acked + 1);
        }
        for p in 0..self.multi().peers.len() {
            let peer = &self.multi().peers[p];
            if peer.origin == site && peer.conn.connected {
                self.send_writes(Conn::Peer(p as u16), seq, size);
            }
        }
    }

    /// Compares a new write at `site` with the key's latest write: if that
    /// came from another site which `site` has not yet received, the two are
    /// concurrent.
    fn detect_conflict(&mut self, site: SiteId, key: u64) {
        let ts = self.clock_ns(site, self.now);
        let policy = self.aa().conflict;
        let m = self.multi.as_deref_mut().expect("active-active state");
        let seq = m.logs[site].committed + 1;
        let known = |m: &Multi, origin: usize, s: u64| {
            m.peers
                .iter()
                .find(|p| p.origin == origin && p.dest == site)
                .is_some_and(|p| p.applied >= s)
        };
        let prev = m.keys.get(&key).copied();
        let mut state = KeyState {
            origin: site as u16,
            seq,
            max_ts: ts,
        };
        if let Some(prev) = prev {
            // A write lost with its failed site conflicts with nothing (it
            // is counted lost instead).
            let lost = prev.seq > m.lost_above[prev.origin as usize];
            let concurrent =
                prev.origin as usize != site && !known(m, prev.origin as usize, prev.seq) && !lost;
            state.max_ts = prev.max_ts.max(ts);
            if concurrent {
                // With last-writer-wins one of the two concurrent updates is overwritten.
                self.metrics
                    .count_conflict(policy == ConflictPolicy::LastWriterWins);
            } else if policy == ConflictPolicy::LastWriterWins && ts < prev.max_ts {
                // A causally later write with an earlier timestamp (clock
                // skew): last-writer-wins keeps the older value.
                self.metrics.count_lost_update();
            }
        }
        let m = self.multi.as_deref_mut().expect("active-active state");
        m.keys.insert(key, state);
    }

    // ---- replication ---------------------------------------------------

    /// Where a reconnecting peer stream resumes, up to where, and the bytes
    /// it sends at once (`resync`, the rule of standby streams too).
    pub(super) fn peer_resync(&self, p: usize) -> (u64, u64, Option<f64>) {
        let m = self.multi.as_deref().expect("peers");
        let (from, to, bytes) = resync(&m.logs[m.peers[p].origin], m.peers[p].applied);
        (from, to, Some(bytes))
    }

    /// A same-region peer confirmed: acknowledge, in order, every write all
    /// same-region peers of the origin have confirmed.
    pub(super) fn acknowledge_in_region(&mut self, p: usize) {
        let now = self.now;
        let m = self.multi.as_deref_mut().expect("state");
        let origin = m.peers[p].origin;
        let quorum = m
            .peers
            .iter()
            .filter(|q| q.origin == origin && q.in_region)
            .map(|q| q.conn.acked)
            .min()
            .unwrap_or(m.peers[p].conn.acked);
        let log = &mut m.logs[origin];
        while log.acked < quorum.min(log.committed) {
            log.acked += 1;
            if let Some(w) = log.record(log.acked) {
                let rtt = self.clients.rtt[w.group as usize][origin];
                self.metrics
                    .record_write_latency((now - w.commit) + rtt + w.wait);
            }
        }
    }

    /// A delivery of peer stream `p` up to `to` reached its peer, which is up.
    pub(super) fn peer_received(&mut self, p: usize, to: u64) {
        let now = self.now;
        let m = self.multi.as_deref_mut().expect("state");
        let peer = &m.peers[p];
        if to <= peer.applied {
            return;
        }
        let (origin, from) = (peer.origin, peer.applied + 1);
        let log = &m.logs[origin];
        if from < log.base() {
            // Writes of aggregate periods, kept as spans.
            let metrics = &mut self.metrics;
            log.for_each_span_group(from, to, |commit, n| {
                metrics.record_replication_lag_n(now - commit, n);
            });
        }
        for seq in from..=to {
            if let Some(w) = log.record(seq) {
                self.metrics.record_replication_lag(now - w.commit);
            }
        }
        let commit = if to >= log.first() {
            log.commit_of(to)
        } else {
            now
        };
        let peer = &mut m.peers[p];
        peer.applied = to;
        peer.applied_commit = commit;
        let dest = peer.dest;
        if m.sync_in_region && peer.in_region {
            self.send_confirmation(Conn::Peer(p as u16), to);
        }
        if let Phase::Draining { target, .. } = self.failover.phase
            && target == dest
            && self.landed_at(target)
        {
            self.drain_complete();
        }
        let m = self.multi.as_deref_mut().expect("state");
        // Trim the origin's log below what every peer has and its clients know.
        let keep = m
            .peers
            .iter()
            .filter(|q| q.origin == origin)
            .map(|q| q.applied + 1)
            .min()
            .unwrap_or(to + 1);
        let log = &mut m.logs[origin];
        log.trim(keep.min(log.acked + 1));
    }

    /// Closes the open incident once every client that was on the failed site
    /// reaches a site that is up (elsewhere, or the repaired site itself).
    pub(super) fn on_clients_switched(&mut self) {
        let now = self.now;
        let Some(m) = self.multi.as_deref() else {
            return;
        };
        if let Some(since) = m.failback_since
            && m.promoted.is_none()
            && self
                .clients
                .states
                .iter()
                .all(|c| self.serving(c.site_at(now)))
        {
            self.multi().failback_since = None;
            self.metrics.failback_times.push(now - since);
        }
        let m = self.multi.as_deref().expect("state");
        if m.incident_site.is_none() || m.affected.is_empty() {
            return;
        }
        let served = |c: &u32| self.serving(self.clients.states[*c as usize].site_at(now));
        // Called when the first and the last rerouted client switch; between
        // the two the affected clients come back one by one.
        let any = m.affected.iter().any(served);
        let all = m.affected.iter().all(served);
        if let Some(inc) = self.open_incident_mut() {
            if any {
                inc.first_served.get_or_insert(now);
            }
            if all {
                inc.recovered = Some(now);
            }
        }
        if all {
            // The incident is over: the next failure starts a new one.
            let m = self.multi();
            m.incident_site = None;
            m.affected.clear();
        }
    }

    // ---- hybrid: cross-region failover ----------------------------------

    /// The active region is down: start the active-passive chain.
    fn begin_region_failover(&mut self) {
        self.failover.id += 1;
        let id = self.failover.id;
        match &self.scenario.failover.operator_delay {
            Some(delay) => {
                let d = delay.sample_duration(&mut self.rng.failover);
                self.schedule_in(d, Event::FailoverStarted { failover: id });
            }
            None => self.start_region_failover(id),
        }
    }

    pub(super) fn start_region_failover(&mut self, id: u32) {
        if id != self.failover.id || self.multi().promoted.is_some() {
            return;
        }
        let Some(target) = self
            .scenario
            .topology
            .standbys
            .iter()
            .copied()
            .find(|&s| self.sites[s].is_up())
        else {
            // No standby to promote: nothing to do until a site returns.
            return;
        };
        let now = self.now;
        // The active region is fenced from here on: it accepts no more writes.
        self.multi().region_down_at.get_or_insert(now);
        self.drain_then_promote(target, self.scenario.failover.drain_timeout);
    }

    /// Everything still valid in flight to `target` has arrived.
    pub(super) fn landed_at(&self, target: SiteId) -> bool {
        let m = self.multi.as_deref().expect("state");
        m.peers
            .iter()
            .filter(|p| p.dest == target)
            .all(|p| !p.conn.connected || p.applied >= p.conn.landing_to())
    }

    /// The standby now serves: writes of the active region it never received
    /// are lost; every client group is routed to it.
    pub(super) fn on_region_promoted(&mut self, target: SiteId) {
        let stopped = self.multi().region_down_at.unwrap_or(self.now);
        let m = self.multi.as_deref_mut().expect("state");
        let (mut lost, mut window) = (0u64, SimDuration::ZERO);
        for &o in &self.scenario.topology.active {
            let Some(p) = m.peers.iter().find(|p| p.origin == o && p.dest == target) else {
                continue;
            };
            // Writes already counted lost when their site failed are not counted again.
            let missing = m.logs[o]
                .acked
                .min(m.lost_above[o])
                .saturating_sub(p.applied);
            if missing > 0 {
                lost += missing;
                window = window.max(stopped - p.applied_commit);
            }
        }
        m.promoted = Some(target);
        // The standby's history is the history from now on: what it lacks
        // was counted lost, and conflicts with nothing.
        m.keys.clear();
        m.promoted_from = m.logs[target].committed;
        m.promoted_at = self.now;
        self.failover.phase = Phase::Watching;
        m.healthy[target] = true;
        self.metrics.record_loss(lost, window);
        self.metrics.region_failovers += 1;
        self.metrics.failovers += 1;
        self.publish_routes();
    }

    // ---- hybrid: failback to the active region --------------------------

    /// An active site is back in rotation while the standby serves: return
    /// to the active region after the configured delay (if any).
    fn schedule_region_failback(&mut self) {
        let Some(delay) = self.scenario.failover.failback else {
            return;
        };
        if self.multi().failback_pending {
            return;
        }
        self.multi().failback_pending = true;
        self.schedule_in(
            delay,
            Event::FailbackStarted {
                failover: self.failover.id,
            },
        );
    }

    /// A healthy, up active site to return to, if any.
    fn failback_target(&self) -> Option<SiteId> {
        let m = self.multi.as_deref().expect("state");
        self.scenario
            .topology
            .active
            .iter()
            .copied()
            .find(|&a| m.healthy[a] && self.sites[a].is_up())
    }

    /// Failback begins: the active region receives the writes the standby
    /// took while promoted, in one transfer at link speed (none if the
    /// standby is down: its writes were counted lost when it failed).
    pub(super) fn on_region_failback_started(&mut self, id: u32) {
        let current = self.failover.id;
        let m = self.multi();
        m.failback_pending = false;
        let Some(promoted) = m.promoted else { return };
        if id != current || self.failover.phase != Phase::Watching {
            return;
        }
        let Some(target) = self.failback_target() else {
            return; // the region failed again; its next good check reschedules
        };
        let now = self.now;
        let mut resync = SimDuration::ZERO;
        if self.sites[promoted].is_up() {
            let m = self.multi.as_deref().expect("state");
            let writes = m.logs[promoted].committed - m.promoted_from;
            let bytes = writes as f64 * self.scenario.workload.write_size.mean();
            let link = self.scenario.link_between[promoted][target];
            let spec = &self.scenario.links[link];
            let state = &self.network.links[link];
            let transfer = spec
                .bandwidth_bps
                .map_or(0.0, |bps| bytes * 8.0 / (bps * state.bandwidth_factor()));
            resync = SimDuration::from_secs_f64(transfer)
                + SimDuration::from_secs_f64(
                    spec.latency.as_secs_f64() * state.latency_multiplier(),
                );
        }
        self.metrics.resyncs.push(resync);
        self.multi().failback_since = Some(now);
        self.schedule_in(resync, Event::RegionResynced { failover: id });
    }

    /// The active region has everything: it serves again, and the standby
    /// returns to standing by. Clients move as their DNS entries expire;
    /// until then their writes to the standby fail (a planned switchover).
    pub(super) fn on_region_resynced(&mut self, id: u32) {
        if id != self.failover.id || self.failback_target().is_none() {
            self.multi().failback_since = None;
            return;
        }
        self.failover.id += 1;
        let m = self.multi();
        let Some(promoted) = m.promoted.take() else {
            return;
        };
        m.healthy[promoted] = false;
        m.region_down_at = None;
        // After the resync every site holds the same history.
        m.keys.clear();
        self.metrics.failbacks += 1;
        self.publish_routes();
    }

    // ---- failures ------------------------------------------------------

    pub(super) fn on_aa_site_failed(&mut self, site: SiteId) {
        let was_up = self.sites[site].is_up();
        self.sites[site].outages += 1;
        if !was_up {
            return;
        }
        for p in 0..self.multi().peers.len() {
            let peer = &self.multi().peers[p];
            if peer.dest == site && peer.conn.connected {
                self.reset_connection(Conn::Peer(p as u16), Undelivered::LinkDown);
            }
        }
        let now = self.now;
        let promoted = self.multi().promoted;
        if promoted == Some(site) {
            self.on_promoted_standby_failed(site);
            return;
        }
        if promoted.is_some() || !self.scenario.topology.active.contains(&site) {
            return;
        }
        if self
            .scenario
            .topology
            .active
            .iter()
            .all(|&a| !self.sites[a].is_up())
        {
            // The whole active region is down: no write is accepted from now.
            self.multi().region_down_at.get_or_insert(now);
        }
        let affected = self.clients_cut_off(site);
        // Writes still on their way out of the site count; the rest are lost
        // with it unless some peer already has them.
        let m = self.multi.as_deref_mut().expect("state");
        let mut best = 0u64;
        let mut best_commit = SimTime::ZERO;
        for peer in m.peers.iter_mut() {
            if peer.origin == site {
                let valid = peer.conn.cut_at(now, peer.applied);
                if valid >= best {
                    best = valid;
                    best_commit = m.logs[site]
                        .record(valid)
                        .map_or(peer.applied_commit, |w| w.commit);
                }
            }
        }
        // Only acknowledged writes count as lost (sync: the client never got an answer for the rest).
        let lost = m.logs[site]
            .acked
            .min(m.logs[site].committed)
            .saturating_sub(best);
        m.lost_above[site] = m.lost_above[site].min(best);
        if self.open_incident_mut().is_none() && !affected.is_empty() {
            self.metrics.begin_incident(now);
            let m = self.multi();
            m.incident_site = Some(site);
            m.affected = affected;
        } else if self.open_incident_mut().is_some() {
            // Another site of the same incident (a regional disaster): its
            // clients must be served elsewhere too before the incident ends.
            self.multi().affected.extend(affected);
        }
        self.metrics.record_loss(lost, now - best_commit);
    }

    /// The clients on `site` as it fails; they lose their sticky sessions
    /// unless sessions are replicated.
    fn clients_cut_off(&mut self, site: SiteId) -> Vec<u32> {
        let now = self.now;
        let affected: Vec<u32> = (0..self.clients.states.len() as u32)
            .filter(|&c| self.clients.states[c as usize].site_at(now) == site)
            .collect();
        if !self.aa().sessions_replicated {
            self.metrics.sessions_lost += affected.len() as u64;
        }
        affected
    }

    /// The promoted standby, serving alone, fails: every client is cut off,
    /// and the writes it took since its promotion (replicated nowhere) are lost.
    fn on_promoted_standby_failed(&mut self, site: SiteId) {
        let now = self.now;
        let affected = self.clients_cut_off(site);
        if self.open_incident_mut().is_none() && !affected.is_empty() {
            self.metrics.begin_incident(now);
            let m = self.multi();
            m.incident_site = Some(site);
            m.affected = affected;
        }
        let m = self.multi();
        let lost = m.logs[site].acked.saturating_sub(m.promoted_from);
        let window = now - m.promoted_at;
        // What is lost is not resynced by a later failback.
        m.promoted_from = m.logs[site].committed;
        self.metrics.record_loss(lost, window);
    }

    pub(super) fn on_aa_site_repaired(&mut self, site: SiteId) {
        let s = &mut self.sites[site];
        s.outages = s.outages.saturating_sub(1);
        if !s.is_up() {
            return;
        }
        // Writes counted lost when it failed are not resurrected: the site
        // rejoins with the history its peers have.
        let m = self.multi();
        let last = std::mem::replace(&mut m.lost_above[site], u64::MAX);
        if last != u64::MAX {
            m.logs[site].truncate(last);
        }
        for p in 0..self.multi().peers.len() {
            let peer = &self.multi().peers[p];
            if peer.origin == site || peer.dest == site {
                let connected = peer.conn.connected;
                if connected && peer.origin == site {
                    // Its connections died with it.
                    self.reset_connection(Conn::Peer(p as u16), Undelivered::LinkDown);
                }
                self.reconnect(Conn::Peer(p as u16));
            }
        }
        // Clients still routed there are served again at once.
        self.on_clients_switched();
    }

    pub(super) fn on_aa_link_changed(&mut self, link: usize, up: bool) {
        for p in 0..self.multi().peers.len() {
            let peer = &self.multi().peers[p];
            if peer.conn.link != link {
                continue;
            }
            if up {
                self.reconnect(Conn::Peer(p as u16));
            } else if peer.conn.connected {
                self.reset_connection(Conn::Peer(p as u16), Undelivered::LinkDown);
            }
        }
    }
}
