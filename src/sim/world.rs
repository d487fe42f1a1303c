//! The state of one run and its event loop. Handlers live beside it, one file
//! per concern (`workload`, `replication`, `failover`, `faults`), each an
//! `impl World` block; this file owns the state and the dispatch.

use crate::metrics::recorder::Recorder;
use crate::metrics::row::RunRow;
use crate::model::{Scenario, SiteId};

use super::active_active::Multi;
use super::admission::Admission;
use super::alerts::Monitoring;
use super::event::{Conn, Event};
use super::health::Checks;
use super::horizon::Horizon;
use super::network::Network;
use super::queue::EventQueue;
use super::replication::{Log, Stream};
use super::trace::Trace;
use super::workload::Clients;
use crate::base::rng::Rngs;
use crate::base::time::{SimDuration, SimTime};

/// Per-datacenter state.
#[derive(Clone, Copy, Debug, Default)]
pub struct SiteState {
    /// Overlapping outages; the site is up when none is active.
    pub outages: u32,
    /// Stopped by a failover ("stop the old primary"): never serves again in this run.
    pub fenced: bool,
    /// Highest write sequence this site has applied (0: none).
    pub applied: u64,
    /// Commit time at the primary of write `applied`.
    pub applied_commit: SimTime,
    /// Gray failure: probability that a health check of it fails, and that a
    /// write at it fails (active gray failures combined as independent).
    pub gray_check: f64,
    pub gray_write: f64,
    /// Overlapping replication stalls: it applies nothing while any is active.
    pub stalled: u32,
    /// Received while stalled, applied when the stall ends.
    pub held_to: u64,
}

impl SiteState {
    pub fn is_up(&self) -> bool {
        self.outages == 0
    }
}

/// Where the failover manager is in its chain.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Phase {
    /// Watching the primary.
    Watching,
    /// Threshold reached, an operator must act (manual failover).
    AwaitingOperator,
    /// Old primary fenced; waiting for in-flight replication to land on `target`.
    Draining { target: SiteId, since: SimTime },
    /// `target` is being promoted.
    Promoting { target: SiteId },
}

pub struct FailoverState {
    pub phase: Phase,
    /// Identifies the current failover; events of an abandoned one are ignored.
    pub id: u32,
    pub consecutive_failures: u32,
    /// When the chain was triggered by a healthy primary (a false alarm).
    pub false_alarm: bool,
    /// When the old primary stopped accepting writes (failure or fencing).
    pub primary_stopped: Option<SimTime>,
    /// An old primary nobody fenced, still serving the clients that reach it.
    pub rogue: Option<SiteId>,
    /// Since when the rogue and the primary both accept writes.
    pub split_since: Option<SimTime>,
    /// The chain in progress is a planned switchover (failback), not a failover.
    pub planned: bool,
    /// Rejoined standbys still catching up: (site, since, the log position
    /// they must reach: the primary's at their rejoin).
    pub resyncs: Vec<(SiteId, SimTime, u64)>,
    /// A failback is scheduled (`FailbackStarted` pending).
    pub failback_pending: bool,
    /// Since when a failback is under way (until every client is back).
    pub failback_since: Option<SimTime>,
}

pub struct World<'s> {
    pub scenario: &'s Scenario,
    pub now: SimTime,
    pub queue: EventQueue<Event>,
    pub rng: Rngs,
    pub sites: Vec<SiteState>,
    pub network: Network,
    /// The datacenter currently acting as primary.
    pub primary: SiteId,
    pub log: Log,
    /// Replication streams from the current primary, one per standby.
    pub streams: Vec<Stream>,
    pub clients: Clients,
    pub failover: FailoverState,
    pub checks: Checks,
    pub metrics: Recorder,
    pub events: u64,
    /// Per link: its ends are in different regions (traffic there is billed).
    pub cross_region: Vec<bool>,
    /// Reused buffer for the quorum computation (no allocation per ack).
    pub scratch: Vec<u64>,
    /// Last connection epoch handed out; every stream connection gets a new one.
    pub epochs: u32,
    /// Mean interval between writes, in nanoseconds (Poisson arrivals).
    pub write_gap_mean_ns: f64,
    /// `Some` only for `simulate_traced`: the loop then records every event.
    pub trace: Option<Box<Trace>>,
    /// `Some` for horizon runs: disturbances ahead and the aggregate period.
    pub horizon: Option<Box<Horizon>>,
    /// In an aggregate period of a horizon run: no write is simulated.
    pub quiet: bool,
    /// When the periodic shipper ticks next (older ticks are void).
    pub next_ship_tick: SimTime,
    /// When the next write arrives (an older pending arrival is void).
    pub next_write_at: SimTime,
    pub monitoring: Monitoring,
    /// Per pair (primary path id): the path its traffic uses, and whether a
    /// switch is scheduled.
    pub route: Vec<usize>,
    pub switch_pending: Vec<bool>,
    /// Active gray failures as (failure index, site).
    pub grays: Vec<(u16, SiteId)>,
    /// Per site: requests admitted against its capacity.
    pub admission: Vec<Admission>,
    /// Some site has a capacity (else admission and arrival counts are skipped).
    pub capacity_limited: bool,
    /// `Some` for active-active scenarios: routing, peers, keys.
    pub multi: Option<Box<Multi>>,
}

/// A run stopped before its horizon because it broke a stated limit.
#[derive(Debug, Clone, PartialEq)]
pub enum RunError {
    TooManyEvents {
        limit: u64,
        at: SimTime,
    },
    /// Not run because another run of the study failed first.
    Cancelled,
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::TooManyEvents { limit, at } => write!(
                f,
                "the run exceeded simulation.max_events = {limit} at t = {at}; shorten simulation.duration, lower the write rate, or raise max_events"
            ),
            RunError::Cancelled => write!(f, "cancelled after another run failed"),
        }
    }
}

impl std::error::Error for RunError {}

impl<'s> World<'s> {
    pub fn new(scenario: &'s Scenario, seed: u64) -> World<'s> {
        let mut rng = Rngs::new(seed);
        let clients = Clients::new(scenario, &mut rng.clients);
        let mut sites = vec![SiteState::default(); scenario.datacenters.len()];
        sites
            .iter_mut()
            .for_each(|s| s.applied_commit = SimTime::ZERO);
        let primary = scenario.topology.primary;
        let mut w = World {
            scenario,
            now: SimTime::ZERO,
            queue: EventQueue::with_capacity(1024),
            rng,
            sites,
            network: Network::new(scenario),
            primary,
            log: Log::new(),
            streams: Vec::new(),
            clients,
            failover: FailoverState {
                phase: Phase::Watching,
                id: 0,
                consecutive_failures: 0,
                false_alarm: false,
                primary_stopped: None,
                rogue: None,
                split_since: None,
                planned: false,
                resyncs: Vec::new(),
                failback_pending: false,
                failback_since: None,
            },
            checks: Checks::new(scenario.horizon_mode.is_some()),
            metrics: Recorder::new(),
            events: 0,
            epochs: 0,
            cross_region: scenario
                .links
                .iter()
                .map(|l| scenario.datacenters[l.a].region != scenario.datacenters[l.b].region)
                .collect(),
            scratch: Vec::with_capacity(scenario.topology.standbys.len()),
            write_gap_mean_ns: 1e9 / scenario.workload.writes_per_s,
            trace: None,
            horizon: scenario.horizon_mode.map(|m| Box::new(Horizon::new(m))),
            quiet: false,
            grays: Vec::new(),
            monitoring: Monitoring::default(),
            route: (0..scenario.paths.len()).collect(),
            switch_pending: vec![false; scenario.paths.len()],
            next_ship_tick: SimTime::ZERO,
            next_write_at: SimTime::ZERO,
            admission: Admission::for_sites(scenario),
            capacity_limited: scenario
                .datacenters
                .iter()
                .any(|d| d.capacity_per_s.is_some()),
            multi: scenario
                .active_active
                .as_ref()
                .map(|aa| Box::new(Multi::new(scenario, aa))),
        };
        w.log.mean_size = scenario.workload.write_size.mean();
        w.streams = w.streams_from(primary, &scenario.topology.standbys);
        w
    }

    #[inline]
    pub fn schedule(&mut self, at: SimTime, event: Event) {
        self.queue.push(at, event);
    }

    #[inline]
    pub fn schedule_in(&mut self, delay: SimDuration, event: Event) {
        self.queue.push(self.now + delay, event);
    }

    /// The primary is up, not fenced, and so accepts writes.
    #[inline]
    pub fn primary_serving(&self) -> bool {
        let p = &self.sites[self.primary];
        p.is_up() && !p.fenced
    }

    /// Runs to the horizon and returns the run's row.
    pub fn run(mut self, run: u64, seed: u64) -> Result<RunRow, RunError> {
        self.run_to_horizon(run, seed)
    }

    fn run_to_horizon(&mut self, run: u64, seed: u64) -> Result<RunRow, RunError> {
        self.start();
        let horizon = SimTime::ZERO + self.scenario.horizon;
        self.schedule(horizon, Event::HorizonReached);
        let limit = self.scenario.max_events;
        let traced = self.trace.is_some();
        while let Some((time, event)) = self.queue.pop() {
            debug_assert!(time >= self.now, "time went backwards");
            self.now = time;
            self.events += 1;
            if self.events > limit {
                return Err(RunError::TooManyEvents { limit, at: time });
            }
            // Tracing is decided once per run: one always-predicted branch,
            // and nothing held across `dispatch` (its effects are recorded
            // before the next event, see `sim::trace`).
            if traced {
                self.trace_step(time, event);
            }
            if !self.dispatch(event) {
                break;
            }
        }
        if self.trace.is_some() {
            self.trace_flush();
        }
        self.close_quiet();
        self.metrics.fold_aggregate();
        self.end_split_brain();
        self.metrics.cost_monthly = self.cost_monthly();
        Ok(self
            .metrics
            .finish(run, seed, self.events, self.scenario.horizon))
    }

    /// Sites at their monthly price plus this run's inter-region replication
    /// traffic, extrapolated to a 30-day month.
    fn cost_monthly(&self) -> Option<f64> {
        let c = self.scenario.cost?;
        // Active-active: every active site is a serving site.
        let serving = self.scenario.topology.active.len().max(1) as f64;
        let standbys = self.scenario.topology.standbys.len() as f64;
        let month_s = 30.0 * 86_400.0;
        let gb_per_month =
            self.metrics.cross_region_bytes / self.scenario.horizon.as_secs_f64() * month_s / 1e9;
        Some(
            serving * c.primary_site_monthly
                + standbys * c.standby_site_monthly
                + gb_per_month * c.inter_region_per_gb,
        )
    }

    fn start(&mut self) {
        self.schedule_first_write();
        if self.multi.is_some() {
            self.start_active_active();
        } else {
            self.start_replication();
            self.start_health_checks();
            self.start_alerts();
        }
        self.schedule_failures();
        self.start_horizon();
    }

    /// One exhaustive match; returns false when the run is over.
    #[inline]
    fn dispatch(&mut self, event: Event) -> bool {
        match event {
            // A chain cut by an aggregate period (and restarted) is void.
            Event::WriteArrived if self.now != self.next_write_at => {}
            Event::WriteArrived if self.multi.is_some() => self.on_aa_write_arrived(),
            Event::WriteArrived => self.on_write_arrived(),
            Event::ShipTick => self.on_ship_tick(),
            Event::Delivered {
                kind,
                conn,
                epoch,
                to,
            } => self.on_delivered(Conn::new(kind, conn), epoch, to),
            Event::Confirmed {
                kind,
                conn,
                epoch,
                to,
            } => self.on_confirmed(Conn::new(kind, conn), epoch, to),
            Event::Reconnect { kind, conn, epoch } => {
                self.on_reconnect(Conn::new(kind, conn), epoch)
            }
            Event::HealthCheckDue { plan } => self.on_health_check_due(plan),
            Event::ProbeArrived { sent } => self.on_probe_arrived(sent),
            Event::CheckCompleted { ok } => self.on_check_completed(ok),
            Event::FailoverStarted { failover } if self.multi.is_some() => {
                self.start_region_failover(failover)
            }
            Event::FailoverStarted { failover } => self.on_failover_started(failover),
            Event::DrainTimedOut { failover } => self.on_drain_timed_out(failover),
            Event::PromotionDone { failover } => self.on_promotion_done(failover),
            Event::DnsUpdated { failover } => self.on_dns_updated(failover),
            Event::FailbackStarted { failover } if self.multi.is_some() => {
                self.on_region_failback_started(failover)
            }
            Event::RegionResynced { failover } => self.on_region_resynced(failover),
            Event::FailbackStarted { failover } => self.on_failback_started(failover),
            Event::AllClientsMoved { failover } => self.on_all_clients_moved(failover),
            Event::SiteFailed { site } if self.multi.is_some() => {
                self.on_aa_site_failed(site as SiteId);
                self.disturbed();
            }
            Event::SiteRepaired { site } if self.multi.is_some() => {
                self.on_aa_site_repaired(site as SiteId);
                self.disturbed();
            }
            Event::SiteFailed { site } => {
                self.monitoring.failures_active += 1;
                self.on_site_failed(site as SiteId);
                self.disturbed();
            }
            Event::SiteRepaired { site } => {
                self.monitoring.failures_active = self.monitoring.failures_active.saturating_sub(1);
                self.on_site_repaired(site as SiteId);
                self.disturbed();
            }
            Event::LinkFailed { link } => {
                self.monitoring.failures_active += 1;
                self.on_link_failed(link as usize);
                self.disturbed();
            }
            Event::LinkRepaired { link } => {
                self.monitoring.failures_active = self.monitoring.failures_active.saturating_sub(1);
                self.on_link_repaired(link as usize);
                self.disturbed();
            }
            Event::LinkDegraded { link, failure } => {
                self.monitoring.failures_active += 1;
                self.on_link_degraded(link as usize, failure);
                self.link_condition_changed();
            }
            Event::LinkRestored { link, failure } => {
                self.monitoring.failures_active = self.monitoring.failures_active.saturating_sub(1);
                self.on_link_restored(link as usize, failure);
                self.link_condition_changed();
            }
            Event::GrayStarted { site, failure } => {
                self.monitoring.failures_active += 1;
                self.on_gray_changed(site as SiteId, failure, true);
                self.disturbed();
            }
            Event::GrayEnded { site, failure } => {
                self.monitoring.failures_active = self.monitoring.failures_active.saturating_sub(1);
                self.on_gray_changed(site as SiteId, failure, false);
                self.disturbed();
            }
            Event::StallStarted { site } => {
                self.monitoring.failures_active += 1;
                self.sites[site as SiteId].stalled += 1;
                self.disturbed();
            }
            Event::StallEnded { site } => {
                self.monitoring.failures_active = self.monitoring.failures_active.saturating_sub(1);
                self.on_stall_ended(site as SiteId);
                self.disturbed();
            }
            Event::GlbCheckDue => self.on_glb_check_due(),
            Event::GlbSiteCheckDue { site, plan } => self.on_glb_site_check_due(site, plan),
            Event::GlbProbeArrived { site, sent } => self.on_glb_probe_arrived(site, sent),
            Event::GlbCheckCompleted { site, ok } => self.on_glb_check_completed(site, ok),
            Event::RoutesPublished { version } => self.on_routes_published(version),
            Event::ClientsSwitched => self.on_clients_switched(),
            Event::AlertCheck => self.on_alert_check(),
            Event::PathSwitch { group } => self.on_path_switch(group),
            Event::TryQuiet => self.on_try_quiet(),
            Event::WritesResume { period } => self.on_writes_resume(period),
            Event::HorizonReached => return false,
        }
        true
    }
}

/// Runs one simulation of `scenario` with `seed`; `run` is the Monte Carlo index.
pub fn simulate(scenario: &Scenario, run: u64, seed: u64) -> Result<RunRow, RunError> {
    World::new(scenario, seed).run(run, seed)
}

/// `simulate`, also returning the run's trace: every event and the state
/// changes behind them. The same draws as `simulate`, so the same row.
pub fn simulate_traced(
    scenario: &Scenario,
    run: u64,
    seed: u64,
) -> Result<(RunRow, Trace), RunError> {
    let mut w = World::new(scenario, seed);
    w.trace = Some(Box::new(Trace::start(&w)));
    let row = w.run_to_horizon(run, seed)?;
    let mut trace = w.trace.take().map_or_else(Trace::default, |t| *t);
    trace.incident = w.metrics.first_incident();
    Ok((row, trace))
}
