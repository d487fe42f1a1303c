//! The per-run result row: the `runs.csv` contract (column names and meaning
//! are documented in docs/metrics.md; scripts rely on them).

use serde::{Deserialize, Serialize};

/// One Monte Carlo run. Empty (`None`) means "not applicable in this run", e.g.
/// no RTO when the primary never failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRow {
    pub run: u64,
    pub seed: u64,
    pub rto_s: Option<f64>,
    pub rto_first_s: Option<f64>,
    pub detection_s: Option<f64>,
    pub rpo_s: f64,
    pub lost_writes: u64,
    pub replication_lag_mean_s: Option<f64>,
    pub replication_lag_p99_s: Option<f64>,
    pub replication_lag_max_s: Option<f64>,
    pub write_latency_p50_ms: Option<f64>,
    pub write_latency_p99_ms: Option<f64>,
    pub failovers: u32,
    pub false_failovers: u32,
    pub writes: u64,
    pub writes_failed: u64,
    pub availability: f64,
    pub drain_wait_s: Option<f64>,
    pub incident: u8,
    pub recovered: u8,
    /// Monthly cost of the deployment (sites plus inter-region replication
    /// traffic at this run's rate); empty without a [cost] table.
    pub cost_monthly: Option<f64>,
    /// Active-active: writes concurrent with the key's latest write at another site.
    pub conflicts: u64,
    /// Active-active: updates silently lost to last-writer-wins.
    pub lost_updates: u64,
    /// Requests refused because their site was over capacity.
    pub shed_requests: u64,
    /// Highest offered load over capacity of any site in any one-second window.
    pub peak_utilisation: Option<f64>,
    /// Sticky sessions lost with a failed site (sessions not replicated).
    pub sessions_lost: u64,
    /// Hybrid: failovers to the standby region (promotions across regions).
    pub region_failovers: u32,
    /// Active-passive without fencing: time two sites accepted writes at once.
    pub split_brain_s: f64,
    /// Writes accepted by an unfenced old primary after the promotion.
    pub divergent_writes: u64,
    /// Outages of the serving primary in the run (`rto_s` and `detection_s`
    /// describe the first; incidents.csv lists them all).
    pub incidents: u32,
    /// Catch-up time of the first standby that rejoined (a repaired old
    /// primary): from its rejoin until it has what the primary had then.
    pub resync_s: Option<f64>,
    /// Planned switchovers back to the original primary (`failover.failback`).
    pub failbacks: u32,
    /// The first failback's duration: from its start until every client is
    /// back on the original primary (writes fail meanwhile).
    pub failback_s: Option<f64>,
    /// First firing of each alert relative to the first incident's start
    /// (0 if already firing then); empty if it did not fire during it.
    pub alert_lag_s: Option<f64>,
    pub alert_latency_s: Option<f64>,
    pub alert_loss_s: Option<f64>,
    pub alert_errors_s: Option<f64>,
    /// Alerts raised in the run (a threshold newly crossed).
    pub alerts: u32,
    /// Alerts raised while no failure was active and no incident open.
    pub false_alerts: u32,
    /// Times traffic between two datacenters moved to another path.
    pub path_switches: u32,
    /// Widest window of lost acknowledged writes over all the run's failovers.
    pub rpo_s_max: f64,
    /// (1 - availability) as minutes in a year: request-weighted downtime.
    pub downtime_min_per_year: f64,
    /// `lost_writes` per simulated year.
    pub lost_writes_per_year: f64,
    pub events: u64,
    /// Every incident of the run (incidents.csv; not a runs.csv column).
    #[serde(skip)]
    pub incident_log: Vec<IncidentSample>,
}

/// One incident of one run: a line of incidents.csv.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentSample {
    pub run: u64,
    /// Its index among the run's incidents, from 0.
    pub incident: u32,
    /// When the primary failed, seconds from the start of the run.
    pub start_s: f64,
    pub detection_s: Option<f64>,
    pub rto_first_s: Option<f64>,
    /// Empty if the incident was still open when the run ended.
    pub rto_s: Option<f64>,
    pub drain_wait_s: Option<f64>,
    pub lost_writes: u64,
    pub rpo_s: f64,
}

/// The names of `RunRow::metrics`, in order: the columns targets and sweeps may name.
pub const METRIC_NAMES: [&str; 42] = [
    "rto_s",
    "rto_first_s",
    "detection_s",
    "rpo_s",
    "lost_writes",
    "replication_lag_mean_s",
    "replication_lag_p99_s",
    "replication_lag_max_s",
    "write_latency_p50_ms",
    "write_latency_p99_ms",
    "failovers",
    "false_failovers",
    "writes",
    "writes_failed",
    "availability",
    "drain_wait_s",
    "incident",
    "recovered",
    "cost_monthly",
    "conflicts",
    "lost_updates",
    "shed_requests",
    "peak_utilisation",
    "sessions_lost",
    "region_failovers",
    "split_brain_s",
    "divergent_writes",
    "incidents",
    "resync_s",
    "failbacks",
    "failback_s",
    "alert_lag_s",
    "alert_latency_s",
    "alert_loss_s",
    "alert_errors_s",
    "alerts",
    "false_alerts",
    "path_switches",
    "rpo_s_max",
    "downtime_min_per_year",
    "lost_writes_per_year",
    "events",
];

impl RunRow {
    /// The numeric metrics summarised across runs (everything but ids).
    pub fn metrics(&self) -> [(&'static str, Option<f64>); 42] {
        let values = [
            ("rto_s", self.rto_s),
            ("rto_first_s", self.rto_first_s),
            ("detection_s", self.detection_s),
            ("rpo_s", Some(self.rpo_s)),
            ("lost_writes", Some(self.lost_writes as f64)),
            ("replication_lag_mean_s", self.replication_lag_mean_s),
            ("replication_lag_p99_s", self.replication_lag_p99_s),
            ("replication_lag_max_s", self.replication_lag_max_s),
            ("write_latency_p50_ms", self.write_latency_p50_ms),
            ("write_latency_p99_ms", self.write_latency_p99_ms),
            ("failovers", Some(self.failovers as f64)),
            ("false_failovers", Some(self.false_failovers as f64)),
            ("writes", Some(self.writes as f64)),
            ("writes_failed", Some(self.writes_failed as f64)),
            ("availability", Some(self.availability)),
            ("drain_wait_s", self.drain_wait_s),
            ("incident", Some(self.incident as f64)),
            ("recovered", Some(self.recovered as f64)),
            ("cost_monthly", self.cost_monthly),
            ("conflicts", Some(self.conflicts as f64)),
            ("lost_updates", Some(self.lost_updates as f64)),
            ("shed_requests", Some(self.shed_requests as f64)),
            ("peak_utilisation", self.peak_utilisation),
            ("sessions_lost", Some(self.sessions_lost as f64)),
            ("region_failovers", Some(self.region_failovers as f64)),
            ("split_brain_s", Some(self.split_brain_s)),
            ("divergent_writes", Some(self.divergent_writes as f64)),
            ("incidents", Some(self.incidents as f64)),
            ("resync_s", self.resync_s),
            ("failbacks", Some(self.failbacks as f64)),
            ("failback_s", self.failback_s),
            ("alert_lag_s", self.alert_lag_s),
            ("alert_latency_s", self.alert_latency_s),
            ("alert_loss_s", self.alert_loss_s),
            ("alert_errors_s", self.alert_errors_s),
            ("alerts", Some(self.alerts as f64)),
            ("false_alerts", Some(self.false_alerts as f64)),
            ("path_switches", Some(self.path_switches as f64)),
            ("rpo_s_max", Some(self.rpo_s_max)),
            ("downtime_min_per_year", Some(self.downtime_min_per_year)),
            ("lost_writes_per_year", Some(self.lost_writes_per_year)),
            ("events", Some(self.events as f64)),
        ];
        debug_assert!(values.iter().zip(METRIC_NAMES).all(|(v, n)| v.0 == n));
        values
    }

    /// The value of one metric by name; `None` if unknown or not applicable.
    /// An incident still open at the horizon has an unbounded RTO.
    pub fn metric(&self, name: &str) -> Option<f64> {
        if (name == "rto_s" || name == "rto_first_s") && self.incident == 1 && self.recovered == 0 {
            return Some(f64::INFINITY);
        }
        self.metrics()
            .into_iter()
            .find(|m| m.0 == name)
            .and_then(|m| m.1)
    }
}
