//! The closed set of things that can happen in a run. Each variant is a small
//! `Copy` fact; the engine dispatches on it with one exhaustive `match`.

use crate::base::time::SimTime;

/// Index of a replication stream (one per standby datacenter of the current primary).
pub type StreamId = u16;

/// A replication connection (`sim::connection`): a standby stream of the
/// current primary, or a peer stream of an active site (index into the
/// active-active peers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conn {
    Standby(StreamId),
    Peer(u16),
}

/// Which kind of connection an event names. Events carry the kind and the
/// index as two flat fields (not a `Conn`), so that every event stays 16
/// bytes: a nested enum would cost 8 more in each queue entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnKind {
    Standby,
    Peer,
}

impl Conn {
    pub fn new(kind: ConnKind, index: u16) -> Conn {
        match kind {
            ConnKind::Standby => Conn::Standby(index),
            ConnKind::Peer => Conn::Peer(index),
        }
    }

    pub fn parts(self) -> (ConnKind, u16) {
        match self {
            Conn::Standby(i) => (ConnKind::Standby, i),
            Conn::Peer(p) => (ConnKind::Peer, p),
        }
    }
}

impl Event {
    /// Writes up to `to` of connection `c` (epoch `epoch`) reach its receiver.
    pub fn delivered(c: Conn, epoch: u32, to: u64) -> Event {
        let (kind, conn) = c.parts();
        Event::Delivered {
            kind,
            conn,
            epoch,
            to,
        }
    }

    /// The receiver's confirmation up to `to` reaches the sender of `c`.
    pub fn confirmed(c: Conn, epoch: u32, to: u64) -> Event {
        let (kind, conn) = c.parts();
        Event::Confirmed {
            kind,
            conn,
            epoch,
            to,
        }
    }

    /// Connection `c` reconnects after exhausting its retransmissions.
    pub fn reconnect(c: Conn, epoch: u32) -> Event {
        let (kind, conn) = c.parts();
        Event::Reconnect { kind, conn, epoch }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    /// A client issues a write (the Poisson arrival process).
    WriteArrived,
    /// Periodic async replication ships its batch.
    ShipTick,
    /// Writes up to `to` reach the connection's receiver.
    Delivered {
        kind: ConnKind,
        conn: u16,
        epoch: u32,
        to: u64,
    },
    /// The receiver's confirmation of writes up to `to` reaches the sender.
    Confirmed {
        kind: ConnKind,
        conn: u16,
        epoch: u32,
        to: u64,
    },
    /// A connection whose message exhausted its retransmissions reconnects.
    Reconnect {
        kind: ConnKind,
        conn: u16,
        epoch: u32,
    },
    /// The monitor's next health check (of check plan `plan`; see `sim::health`).
    HealthCheckDue {
        plan: u32,
    },
    /// A health-check probe reaches the primary.
    ProbeArrived {
        sent: SimTime,
    },
    /// The monitor learns a check's outcome (reply, or timeout).
    CheckCompleted {
        ok: bool,
    },
    /// The operator begins a manual failover.
    FailoverStarted {
        failover: u32,
    },
    /// The drain wait gave up.
    DrainTimedOut {
        failover: u32,
    },
    /// The standby finished promotion and is the new primary.
    PromotionDone {
        failover: u32,
    },
    /// The planned switchover back to the original primary begins.
    FailbackStarted {
        failover: u32,
    },
    /// The DNS record now names the new primary.
    DnsUpdated {
        failover: u32,
    },
    /// The last client's cached DNS entry has expired.
    AllClientsMoved {
        failover: u32,
    },
    SiteFailed {
        site: u16,
    },
    SiteRepaired {
        site: u16,
    },
    LinkFailed {
        link: u16,
    },
    LinkRepaired {
        link: u16,
    },
    LinkDegraded {
        link: u16,
        failure: u16,
    },
    LinkRestored {
        link: u16,
        failure: u16,
    },
    /// A gray failure of `site` (the `failure`-th entry) begins.
    GrayStarted {
        site: u16,
        failure: u16,
    },
    GrayEnded {
        site: u16,
        failure: u16,
    },
    /// The standby `site` stops applying what it receives.
    StallStarted {
        site: u16,
    },
    StallEnded {
        site: u16,
    },
    /// Active-active: the global load balancer checks every active site.
    GlbCheckDue,
    /// Active-active, horizon runs: the next check of `site` whose outcome
    /// matters (the load balancer's pre-drawn runs of failures, plan `plan`).
    GlbSiteCheckDue {
        site: u16,
        plan: u32,
    },
    /// Active-active: a load-balancer probe reaches `site`.
    GlbProbeArrived {
        site: u16,
        sent: SimTime,
    },
    /// Active-active: the load balancer learns a check's outcome.
    GlbCheckCompleted {
        site: u16,
        ok: bool,
    },
    /// Hybrid failback: the active region has the writes the promoted standby took.
    RegionResynced {
        failover: u32,
    },
    /// Active-active: new routes reach DNS (or anycast) after the update delay.
    RoutesPublished {
        version: u32,
    },
    /// Active-active: the last rerouted client has switched; check recovery.
    ClientsSwitched,
    /// The monitoring system compares what it sees with its alert thresholds.
    AlertCheck,
    /// Traffic of a pair of datacenters moves to another path (`sim::paths`).
    PathSwitch {
        group: u16,
    },
    /// Horizon runs: see whether the run can switch to aggregate writes.
    TryQuiet,
    /// Horizon runs: an aggregate period ends; writes are simulated one by one again.
    /// (`period` identifies the aggregate period; a superseded one's is void.)
    WritesResume {
        period: u32,
    },
    /// The end of the simulated horizon.
    HorizonReached,
}

// The future-event list holds (u128 key, Event): keep events at 16 bytes.
const _: () = assert!(std::mem::size_of::<Event>() <= 16);
