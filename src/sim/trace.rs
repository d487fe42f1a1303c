//! The optional record of one run for `drsim trace`: every event the loop
//! dispatched, plus a few typed facts the events alone do not show (site
//! states, failover phases, replication lag at each delivery, where DNS sent
//! the clients). Plain structs in `Vec`s; nothing is formatted here.
//!
//! Recording is off unless `World::trace` is `Some`: the loop then calls
//! `trace_step` before each dispatch, which notes what the coming event will
//! be compared against and completes the previous event's record (its effects
//! are all visible by then: nothing happens between events). Handlers know
//! nothing about it, so the untraced hot path is one predictable branch per
//! event, with nothing held across `dispatch`.

use crate::metrics::recorder::Incident;
use crate::model::SiteId;

use super::event::{ConnKind, Event};
use super::world::{Phase, World};
use crate::base::time::{SimDuration, SimTime};

/// What one datacenter looked like after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SiteStatus {
    pub up: bool,
    /// Stopped by a failover: does not serve, whether up or not.
    pub fenced: bool,
    /// The datacenter acting as primary (serving only if also up and not fenced).
    pub primary: bool,
}

/// What the handler made of an event, for the log's details.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    None,
    /// Ignored on arrival: a message of a reset or replaced connection, or a
    /// step of a failover that was abandoned or has already moved on.
    Ignored,
    /// A write the primary accepted, as log sequence `seq`.
    Accepted {
        seq: u64,
    },
    /// A write refused: its client's DNS entry named a site that is not a
    /// serving primary.
    Refused,
    /// The standby now has every write up to `seq`.
    Applied {
        seq: u64,
    },
    /// A delivery that applied nothing new: the standby was down, the
    /// message was beyond what left a failed primary, or it was a duplicate.
    NothingApplied,
    /// A health check's outcome: consecutive failures so far, and whether
    /// this one made the monitor declare the primary down.
    Check {
        failures: u32,
        declared_down: bool,
    },
    /// The run's incident closed on this event: every client reaches a
    /// serving primary again.
    Recovered,
}

/// One dispatched event.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub at: SimTime,
    pub event: Event,
    /// The datacenter the event concerns, resolved when it happened (stream
    /// indices are renumbered at promotion, so this cannot be done later).
    pub site: Option<u16>,
    pub note: Note,
}

/// A datacenter's status changed.
#[derive(Clone, Copy, Debug)]
pub struct SiteChange {
    pub at: SimTime,
    pub site: SiteId,
    pub status: SiteStatus,
}

/// The failover manager entered `phase`.
#[derive(Clone, Copy, Debug)]
pub struct PhaseChange {
    pub at: SimTime,
    /// The failover id the phase belongs to.
    pub failover: u32,
    pub phase: Phase,
}

/// A delivery that advanced a standby: the per-write commit-to-apply lag of
/// the oldest and the newest write it applied (the same quantity the row's
/// replication_lag_* columns summarise).
#[derive(Clone, Copy, Debug)]
pub struct LagSample {
    pub at: SimTime,
    pub site: SiteId,
    pub oldest: SimDuration,
    pub newest: SimDuration,
}

/// Where one client's cached DNS entry points: `before` until `switch_at`,
/// `after` from then on.
#[derive(Clone, Copy, Debug)]
pub struct ClientRoute {
    pub before: SiteId,
    pub after: SiteId,
    pub switch_at: SimTime,
}

/// Every client's DNS routing as set at `at` (the start of the run, or a DNS
/// update); valid until the next snapshot.
#[derive(Clone, Debug)]
pub struct Routing {
    pub at: SimTime,
    pub clients: Vec<ClientRoute>,
}

/// The recorded run.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    pub entries: Vec<Entry>,
    /// Initial statuses at time zero, then every change.
    pub sites: Vec<SiteChange>,
    /// `Watching` at time zero, then every change.
    pub phases: Vec<PhaseChange>,
    pub lag: Vec<LagSample>,
    pub routing: Vec<Routing>,
    /// The recorder's incident when the run ended (what the row's RTO,
    /// detection and drain columns are computed from).
    pub incident: Option<Incident>,
    pub horizon: SimTime,
    /// Last recorded status per site, to detect changes.
    last_sites: Vec<SiteStatus>,
    /// The event being dispatched, recorded once its effects are known.
    pending: Option<(SimTime, Event, Before)>,
    /// Commit time of every write of the primary's current history, by
    /// sequence - 1: the oldest write a delivery applies may already be
    /// trimmed from the engine's log, and the trace must not reach into it.
    commits: Vec<SimTime>,
}

/// The world as it was just before a handler ran: what the record needs to
/// compare against.
#[derive(Clone, Copy, Debug)]
struct Before {
    site: Option<u16>,
    ignored: bool,
    failover_id: u32,
    writes_failed: u64,
    /// For a live segment delivery: the standby's applied position and the
    /// commit time of the first write it does not have yet.
    delivery: Option<(SiteId, u64, Option<SimTime>)>,
    recovered: bool,
}

impl Trace {
    /// An empty trace holding `world`'s state at time zero.
    pub(super) fn start(world: &World<'_>) -> Trace {
        let mut t = Trace {
            horizon: SimTime::ZERO + world.scenario.horizon,
            ..Trace::default()
        };
        for site in 0..world.sites.len() {
            let status = world.site_status(site);
            t.sites.push(SiteChange {
                at: SimTime::ZERO,
                site,
                status,
            });
            t.last_sites.push(status);
        }
        t.phases.push(PhaseChange {
            at: SimTime::ZERO,
            failover: world.failover.id,
            phase: world.failover.phase,
        });
        t.routing.push(world.routing(SimTime::ZERO));
        t
    }
}

impl World<'_> {
    pub(super) fn site_status(&self, site: SiteId) -> SiteStatus {
        let s = &self.sites[site];
        SiteStatus {
            up: s.is_up(),
            fenced: s.fenced,
            primary: site == self.primary,
        }
    }

    fn routing(&self, at: SimTime) -> Routing {
        Routing {
            at,
            clients: self
                .clients
                .states
                .iter()
                .map(|c| ClientRoute {
                    before: c.before,
                    after: c.after,
                    switch_at: c.switch_at,
                })
                .collect(),
        }
    }

    /// Called by the loop just before `event` is dispatched (only when
    /// tracing): completes the record of the previous event, whose effects
    /// are now all visible (nothing happens between events), and notes what
    /// this one's record will compare against. Deferring the "after" half to
    /// here keeps the untraced loop to a single branch, with nothing held
    /// across `dispatch`.
    #[cold]
    #[inline(never)]
    pub(super) fn trace_step(&mut self, at: SimTime, event: Event) {
        self.trace_flush();
        if let Some(mut t) = self.trace.take() {
            t.pending = Some((at, event, self.before(&t, event)));
            self.trace = Some(t);
        }
    }

    /// Completes the record of the last dispatched event.
    #[cold]
    #[inline(never)]
    pub(super) fn trace_flush(&mut self) {
        let Some(mut trace) = self.trace.take() else {
            return;
        };
        if let Some((at, event, before)) = trace.pending.take() {
            self.record(&mut trace, at, event, &before);
        }
        self.trace = Some(trace);
    }

    fn before(&self, trace: &Trace, event: Event) -> Before {
        let stream = |i: u16, epoch: Option<u32>| {
            let s = self.streams.get(i as usize);
            let live = s.is_some_and(|s| epoch.is_none_or(|e| e == s.conn.epoch));
            (s.map(|s| s.dest as u16), !live)
        };
        let step = |id: u32, expected: bool| !(id == self.failover.id && expected);
        let primary = Some(self.primary as u16);
        let monitor = Some(self.scenario.failover.monitor as u16);
        let (site, ignored) = match event {
            Event::WriteArrived | Event::ShipTick | Event::ProbeArrived { .. } => (primary, false),
            Event::Delivered {
                kind: ConnKind::Standby,
                conn: i,
                epoch,
                ..
            }
            | Event::Confirmed {
                kind: ConnKind::Standby,
                conn: i,
                epoch,
                ..
            }
            | Event::Reconnect {
                kind: ConnKind::Standby,
                conn: i,
                epoch,
            } => stream(i, Some(epoch)),
            Event::HealthCheckDue { .. } => (monitor, false),
            Event::CheckCompleted { .. } => (monitor, self.failover.phase != Phase::Watching),
            Event::FailoverStarted { failover } => (
                monitor,
                step(failover, self.failover.phase == Phase::AwaitingOperator),
            ),
            Event::DrainTimedOut { failover } => match self.failover.phase {
                Phase::Draining { target, .. } => (Some(target as u16), step(failover, true)),
                _ => (None, true),
            },
            Event::PromotionDone { failover } => match self.failover.phase {
                Phase::Promoting { target } => (Some(target as u16), step(failover, true)),
                _ => (None, true),
            },
            Event::DnsUpdated { .. }
            | Event::AllClientsMoved { .. }
            | Event::FailbackStarted { .. }
            | Event::RegionResynced { .. } => (primary, false),
            Event::SiteFailed { site } | Event::SiteRepaired { site } => (Some(site), false),
            Event::GlbProbeArrived { site, .. } | Event::GlbCheckCompleted { site, .. } => {
                (Some(site), false)
            }
            Event::GlbCheckDue
            | Event::GlbSiteCheckDue { .. }
            | Event::RoutesPublished { .. }
            | Event::Delivered {
                kind: ConnKind::Peer,
                ..
            }
            | Event::Confirmed {
                kind: ConnKind::Peer,
                ..
            }
            | Event::Reconnect {
                kind: ConnKind::Peer,
                ..
            }
            | Event::ClientsSwitched => (None, false),
            Event::LinkFailed { .. }
            | Event::LinkRepaired { .. }
            | Event::LinkDegraded { .. }
            | Event::LinkRestored { .. }
            | Event::TryQuiet
            | Event::AlertCheck
            | Event::PathSwitch { .. }
            | Event::WritesResume { .. }
            | Event::GrayStarted { .. }
            | Event::GrayEnded { .. }
            | Event::StallStarted { .. }
            | Event::StallEnded { .. }
            | Event::HorizonReached => (None, false),
        };
        let delivery = match event {
            Event::Delivered {
                kind: ConnKind::Standby,
                conn: i,
                to,
                ..
            } if !ignored => {
                let dest = self.streams[i as usize].dest;
                let applied = self.sites[dest].applied;
                // The first write this delivery can apply is `applied + 1`.
                let oldest = (applied < to)
                    .then(|| trace.commits.get(applied as usize).copied())
                    .flatten();
                Some((dest, applied, oldest))
            }
            _ => None,
        };
        Before {
            site,
            ignored,
            failover_id: self.failover.id,
            writes_failed: self.metrics.writes_failed,
            delivery,
            recovered: self
                .metrics
                .first_incident()
                .is_some_and(|i| i.recovered.is_some()),
        }
    }

    fn record(&self, trace: &mut Trace, at: SimTime, event: Event, before: &Before) {
        let mut note = if before.ignored {
            Note::Ignored
        } else {
            Note::None
        };
        match event {
            Event::WriteArrived => {
                note = if self.metrics.writes_failed > before.writes_failed {
                    Note::Refused
                } else {
                    let seq = self.log.committed;
                    // A promotion truncates the history; sequence numbers
                    // after it are reused.
                    trace.commits.truncate(seq.saturating_sub(1) as usize);
                    trace.commits.push(at);
                    Note::Accepted { seq }
                };
            }
            Event::Delivered {
                kind: ConnKind::Standby,
                ..
            } => {
                if let Some((dest, applied, oldest)) = before.delivery {
                    let now_applied = self.sites[dest].applied;
                    if now_applied > applied {
                        note = Note::Applied { seq: now_applied };
                        let newest = at - self.sites[dest].applied_commit;
                        trace.lag.push(LagSample {
                            at,
                            site: dest,
                            oldest: oldest.map_or(newest, |c| at - c),
                            newest,
                        });
                    } else {
                        note = Note::NothingApplied;
                    }
                }
            }
            Event::CheckCompleted { ok } if !before.ignored => {
                let declared_down = !ok && self.failover.id != before.failover_id;
                note = Note::Check {
                    failures: if declared_down {
                        self.scenario.failover.health_check.threshold
                    } else {
                        self.failover.consecutive_failures
                    },
                    declared_down,
                };
            }
            Event::DnsUpdated { .. } => trace.routing.push(self.routing(at)),
            _ => {}
        }
        let recovered = self
            .metrics
            .first_incident()
            .is_some_and(|i| i.recovered.is_some());
        if recovered && !before.recovered {
            note = Note::Recovered;
        }
        // A refused write never reached the primary; which site its client
        // tried is not kept, so name none rather than a wrong one.
        let site = if note == Note::Refused {
            None
        } else {
            before.site
        };
        trace.entries.push(Entry {
            at,
            event,
            site,
            note,
        });
        for site in 0..self.sites.len() {
            let status = self.site_status(site);
            if trace.last_sites[site] != status {
                trace.last_sites[site] = status;
                trace.sites.push(SiteChange { at, site, status });
            }
        }
        if trace.phases.last().map(|p| p.phase) != Some(self.failover.phase) {
            trace.phases.push(PhaseChange {
                at,
                failover: self.failover.id,
                phase: self.failover.phase,
            });
        }
    }
}
