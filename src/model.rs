//! The validated scenario: plain domain data with typed ids and integer
//! durations. The engine only ever sees these types, never raw user input.

pub use crate::base::dist::Dist;
use crate::base::time::SimDuration;

/// Index of a datacenter in `Scenario::datacenters`.
pub type SiteId = usize;
/// Index of an undirected link in `Scenario::links`.
pub type LinkId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Architecture {
    /// One primary serves; standbys take over through the failover chain.
    ActivePassive,
    /// Every active site serves; a global load balancer routes clients.
    ActiveActive,
    /// Active-active inside one region, active-passive to a standby region:
    /// a site failure is handled in the region, a region disaster fails over
    /// to the standby region with the full active-passive chain.
    Hybrid,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub architecture: Architecture,
    pub description: String,
    /// SHA-256 of the file's bytes, so every output names exactly what ran.
    pub content_hash: String,
    pub horizon: SimDuration,
    /// `Some` for a long-horizon run (`[simulation] mode = "horizon"`).
    pub horizon_mode: Option<HorizonMode>,
    pub default_runs: u32,
    pub default_seed: u64,
    pub max_events: u64,
    /// Seconds of one-way delay per km of great-circle distance, route inflation included.
    pub delay_s_per_km: f64,
    pub regions: Vec<String>,
    pub datacenters: Vec<Datacenter>,
    pub links: Vec<Link>,
    /// `link_between[a][b]`: the (primary path of the) link joining two
    /// datacenters (always present).
    pub link_between: Vec<Vec<LinkId>>,
    /// Per primary path (the ids of `link_between`): every path between its
    /// two datacenters in preference order, the primary first. Backup paths
    /// come after all primary paths in `links`.
    pub paths: Vec<Vec<LinkId>>,
    /// Per link (any path): the primary path of its pair.
    pub path_group: Vec<LinkId>,
    pub path_switch_delay: SimDuration,
    pub path_health_threshold: f64,
    pub topology: Topology,
    pub workload: Workload,
    pub replication: Replication,
    pub failover: Failover,
    pub failures: Vec<FailureSpec>,
    /// Named sets of datacenters and links that fail together.
    pub failure_domains: Vec<FailureDomain>,
    /// Present for `architecture = "active-active"`.
    pub active_active: Option<ActiveActive>,
    /// Service-level targets to judge the results against.
    pub targets: Vec<Target>,
    pub cost: Option<Cost>,
    /// Alerting thresholds; `None` when alerts are off.
    pub alerts: Option<Alerts>,
    /// The grid of `[sweep]`, already checked to parse.
    pub sweep: Vec<crate::sweep::Param>,
}

/// A long-horizon run: years of random failures, with the write stream
/// simulated write by write only near disturbances (see `sim::horizon`).
#[derive(Clone, Copy, Debug)]
pub struct HorizonMode {
    /// Writes are simulated one by one from this long before each
    /// disturbance (a failure, a repair, a false alarm) until the system is
    /// steady again.
    pub window: SimDuration,
    /// `false`: simulate every write anyway (to check the aggregate treatment).
    pub aggregate: bool,
}

/// "metric <= max (or >= min) with probability p", judged over runs.
#[derive(Clone, Debug)]
pub struct Target {
    /// A runs.csv column, e.g. `rto_s`.
    pub metric: String,
    pub bound: Bound,
    pub probability: f64,
    /// How the user wrote it, for reports ("rto_s <= 300 with probability 0.99").
    pub label: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    AtMost(f64),
    AtLeast(f64),
}

impl Bound {
    pub fn holds(self, v: f64) -> bool {
        match self {
            Bound::AtMost(m) => v <= m,
            Bound::AtLeast(m) => v >= m,
        }
    }
}

/// The monitoring system: every `interval` it compares what it sees with
/// thresholds (the reference design checks every minute).
#[derive(Clone, Copy, Debug)]
pub struct Alerts {
    pub interval: SimDuration,
    /// Age of the newest write a standby has applied.
    pub replication_lag: SimDuration,
    /// One-way latency of a replication link (degradations included).
    pub link_latency: SimDuration,
    /// Loss probability of a replication link (a link down counts as 1).
    pub packet_loss: f64,
    /// Fraction of writes refused since the previous check.
    pub error_rate: f64,
}

/// Monthly cost of the deployment, in the user's currency.
#[derive(Clone, Copy, Debug)]
pub struct Cost {
    pub primary_site_monthly: f64,
    pub standby_site_monthly: f64,
    /// Price per GB (1e9 bytes) of replication traffic between regions.
    pub inter_region_per_gb: f64,
}

#[derive(Clone, Debug)]
pub struct Datacenter {
    pub name: String,
    pub region: usize,
    pub lat: f64,
    pub lon: f64,
    /// Requests per second the site can serve; `None` is unlimited.
    pub capacity_per_s: Option<f64>,
    /// Clock offset from true time, nanoseconds (timestamps for last-writer-wins).
    pub clock_offset_ns: i64,
    /// Clock drift, parts per million.
    pub clock_drift_ppm: f64,
}

#[derive(Clone, Debug)]
pub struct Link {
    pub a: SiteId,
    pub b: SiteId,
    /// The path's name ("primary", or a backup's).
    pub name: String,
    /// One-way propagation delay (explicit or from great-circle distance).
    pub latency: SimDuration,
    /// Extra one-way delay per message, in seconds.
    pub jitter: Option<Dist>,
    /// Probability that one transmission attempt of a message is lost.
    pub loss: f64,
    /// Bits per second; `None` is unlimited.
    pub bandwidth_bps: Option<f64>,
    /// Wait before the first retransmission; doubles per attempt.
    pub retransmit_timeout: SimDuration,
    pub max_attempts: u32,
}

#[derive(Clone, Debug)]
pub struct Topology {
    /// Active-passive: the primary (active-active: the first active site).
    pub primary: SiteId,
    /// Standbys in promotion-preference order (active-passive).
    pub standbys: Vec<SiteId>,
    /// Active-active: the sites that serve reads and writes.
    pub active: Vec<SiteId>,
}

/// Active-active behaviour: routing, conflicts, overload, sessions.
#[derive(Clone, Debug)]
pub struct ActiveActive {
    /// Score weights of the global load balancer (lower score wins).
    pub distance_weight: f64,
    pub load_weight: f64,
    pub latency_weight: f64,
    /// Routing changes reach clients through DNS (TTL) or at once (anycast).
    pub anycast: bool,
    pub conflict: ConflictPolicy,
    pub keys: KeySpace,
    pub sessions_replicated: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConflictPolicy {
    /// Keep the write with the later timestamp; the other is silently lost.
    LastWriterWins,
    /// Detect concurrent writes and surface them to the application.
    VersionVectors,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeySpace {
    pub count: u64,
    /// `None`: uniform popularity; `Some(s)`: Zipf with exponent s.
    pub zipf_exponent: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Workload {
    pub writes_per_s: f64,
    /// Write size in bytes.
    pub write_size: Dist,
    pub clients: Vec<ClientGroup>,
    /// Beyond a site's capacity: `None`, requests are shed; `Some(w)`, they
    /// queue, and are shed if they would wait longer than `w`.
    pub max_queue_wait: Option<SimDuration>,
}

#[derive(Clone, Debug)]
pub struct ClientGroup {
    pub region: String,
    pub lat: f64,
    pub lon: f64,
    /// Fraction of all writes issued by this group (shares sum to 1).
    pub share: f64,
    /// Number of distinct clients, each with its own DNS cache.
    pub count: u32,
    /// Round trip of the last mile, added to the distance-based round trip.
    pub access_rtt: SimDuration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicationMode {
    /// Acknowledge after every standby confirms.
    Sync,
    /// Acknowledge after `acks` standbys confirm.
    SemiSync { acks: u32 },
    /// Acknowledge on commit at the primary.
    Async,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shipping {
    /// Each write is sent as it commits.
    Continuous,
    /// Writes are sent in one batch every interval.
    Periodic { interval: SimDuration },
}

#[derive(Clone, Debug)]
pub struct Replication {
    pub mode: ReplicationMode,
    pub shipping: Shipping,
    pub ack_size_bytes: f64,
}

impl Replication {
    /// How many standby confirmations a write needs before it is acknowledged.
    pub fn acks_required(&self, n_standbys: usize) -> usize {
        match self.mode {
            ReplicationMode::Sync => n_standbys,
            ReplicationMode::SemiSync { acks } => (acks as usize).min(n_standbys),
            ReplicationMode::Async => 0,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Failover {
    /// `None` for automatic failover; the delay before an operator acts otherwise.
    pub operator_delay: Option<Dist>,
    /// The preferred monitor (the first of `monitors`).
    pub monitor: SiteId,
    /// Where the failover manager can run, in preference order: the active one
    /// is the first that is up and is not the current primary (a replicated
    /// manager, as consensus-based failover managers are).
    pub monitors: Vec<SiteId>,
    pub health_check: HealthCheck,
    /// Maximum wait for in-flight replication to land before promotion; `None`: no wait.
    pub drain_timeout: Option<SimDuration>,
    pub promotion: Dist,
    /// A fenced old primary, once repaired, rejoins as a standby of the
    /// current primary (rolling back writes the new primary never had).
    pub rejoin: bool,
    /// `Some(delay)`: once the original primary has rejoined and resynced,
    /// wait `delay`, then switch the primary role back to it (a planned
    /// switchover: stop writes, drain, promote, update DNS).
    pub failback: Option<SimDuration>,
    pub fencing: Fencing,
    pub dns: Dns,
}

/// How a failover keeps the old primary from serving on (split brain).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fencing {
    /// The old primary is always stopped ("shoot the other node in the head").
    Stonith,
    /// Nothing stops a live old primary: clients still pointed at it keep
    /// writing there after the standby is promoted.
    None,
    /// A witness in a third site must also have lost the primary before a
    /// failover goes ahead; a primary cut off from both stops itself.
    QuorumWitness { witness: SiteId },
}

#[derive(Clone, Copy, Debug)]
pub struct HealthCheck {
    pub interval: SimDuration,
    pub timeout: SimDuration,
    pub threshold: u32,
}

#[derive(Clone, Debug)]
pub struct Dns {
    pub ttl: SimDuration,
    pub update_delay: Dist,
    /// Fraction of clients that keep a stale entry past the TTL.
    pub stale_client_fraction: f64,
    pub stale_client_delay: SimDuration,
}

#[derive(Clone, Debug)]
pub struct FailureSpec {
    pub kind: FailureKind,
    /// When the (first) failure starts, from the start of the run; `None` for
    /// a recurring failure whose first start is an `every` draw.
    pub at: Option<Dist>,
    /// How long it lasts; `None` is permanent.
    pub duration: Option<Dist>,
    /// Recurring: time from each repair to the next failure (an alternating
    /// renewal process of up and down periods).
    pub every: Option<Dist>,
}

#[derive(Clone, Debug)]
pub struct FailureDomain {
    pub name: String,
    pub sites: Vec<SiteId>,
    pub links: Vec<LinkId>,
}

#[derive(Clone, Debug)]
pub enum FailureKind {
    DatacenterOutage {
        site: SiteId,
    },
    /// Every datacenter of a region at once (a regional disaster).
    RegionOutage {
        region: usize,
    },
    LinkDown {
        link: LinkId,
    },
    LinkDegraded {
        link: LinkId,
        latency_multiplier: f64,
        extra_loss: f64,
        /// Fraction of the bandwidth left, in (0, 1].
        bandwidth_factor: f64,
    },
    /// Sites and links down together: a partition (the links between groups
    /// of sites) or a failure domain's outage.
    Outage {
        sites: Vec<SiteId>,
        links: Vec<LinkId>,
    },
    /// The site keeps running but answers health checks intermittently
    /// and/or fails some writes (a partial, "gray" failure).
    GrayFailure {
        site: SiteId,
        check_failure: f64,
        write_failure: f64,
    },
    /// The standby receives replication but stops applying it.
    ReplicationStall {
        site: SiteId,
    },
}

/// Great-circle distance in kilometres (haversine, mean Earth radius).
pub fn great_circle_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virginia_to_ireland_is_about_5460_km() {
        let d = great_circle_km(38.9, -77.4, 53.3, -6.3);
        assert!((d - 5460.0).abs() < 100.0, "{d}");
    }
}
