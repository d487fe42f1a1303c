//! What one run measures while it runs: counters, bounded histograms (memory does
//! not grow with the number of writes) and the incident timeline. Turned into a
//! `RunRow` when the run ends.

use hdrhistogram::Histogram;

use crate::sim::time::{SimDuration, SimTime};

use super::row::RunRow;

/// The first outage of the serving primary in a run, as the failover chain saw it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Incident {
    pub start: SimTime,
    pub detected: Option<SimTime>,
    /// The first client's writes are accepted again.
    pub first_served: Option<SimTime>,
    /// Every client's writes are accepted again.
    pub recovered: Option<SimTime>,
    pub drain_wait: Option<SimDuration>,
}

pub struct Recorder {
    /// Client-observed write latency of acknowledged writes, nanoseconds.
    pub write_latency: Histogram<u64>,
    /// Commit at the primary to apply at a standby, nanoseconds, every (write, standby).
    pub replication_lag: Histogram<u64>,
    pub replication_lag_max: SimDuration,
    /// Exact sum and count of lags, for the mean (integers: order-independent).
    replication_lag_sum_ns: u128,
    replication_lag_count: u64,
    pub writes: u64,
    pub writes_failed: u64,
    pub lost_writes: u64,
    /// Widest window of lost acknowledged writes over the run's failovers.
    pub rpo_max: SimDuration,
    pub failovers: u32,
    pub false_failovers: u32,
    pub incident: Option<Incident>,
    /// Replication bytes sent between datacenters of different regions.
    pub cross_region_bytes: f64,
    /// Set by the world when the scenario has a cost model.
    pub cost_monthly: Option<f64>,
    pub conflicts: u64,
    pub lost_updates: u64,
    pub shed_requests: u64,
    pub peak_utilisation: Option<f64>,
    pub sessions_lost: u64,
    pub region_failovers: u32,
    pub split_brain: SimDuration,
    pub divergent_writes: u64,
}

/// Three significant digits: quantiles within 0.1% of the exact value. The
/// histograms resize themselves to the largest value seen, so recording never
/// clamps.
const SIGNIFICANT_DIGITS: u8 = 3;

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Recorder {
        let hist = || {
            Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits is a valid precision")
        };
        Recorder {
            write_latency: hist(),
            replication_lag: hist(),
            replication_lag_max: SimDuration::ZERO,
            replication_lag_sum_ns: 0,
            replication_lag_count: 0,
            writes: 0,
            writes_failed: 0,
            lost_writes: 0,
            rpo_max: SimDuration::ZERO,
            failovers: 0,
            false_failovers: 0,
            incident: None,
            cross_region_bytes: 0.0,
            cost_monthly: None,
            conflicts: 0,
            lost_updates: 0,
            shed_requests: 0,
            peak_utilisation: None,
            sessions_lost: 0,
            region_failovers: 0,
            split_brain: SimDuration::ZERO,
            divergent_writes: 0,
        }
    }

    #[inline]
    pub fn record_write_latency(&mut self, latency: SimDuration) {
        let _ = self.write_latency.record(latency.0.max(1));
    }

    #[inline]
    pub fn record_replication_lag(&mut self, lag: SimDuration) {
        let _ = self.replication_lag.record(lag.0.max(1));
        self.replication_lag_sum_ns += u128::from(lag.0);
        self.replication_lag_count += 1;
        if lag > self.replication_lag_max {
            self.replication_lag_max = lag;
        }
    }

    pub fn finish(&self, run: u64, seed: u64, events: u64) -> RunRow {
        let secs = |t: SimDuration| t.as_secs_f64();
        let quantile_s = |h: &Histogram<u64>, q: f64| {
            (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1e9)
        };
        let quantile_ms = |h: &Histogram<u64>, q: f64| {
            (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1e6)
        };
        let inc = self.incident;
        let since_start = |t: Option<SimTime>| inc.and_then(|i| t.map(|t| secs(t - i.start)));
        let attempted = self.writes + self.writes_failed;
        RunRow {
            run,
            seed,
            rto_s: since_start(inc.and_then(|i| i.recovered)),
            rto_first_s: since_start(inc.and_then(|i| i.first_served)),
            detection_s: since_start(inc.and_then(|i| i.detected)),
            rpo_s: secs(self.rpo_max),
            lost_writes: self.lost_writes,
            replication_lag_mean_s: (self.replication_lag_count > 0).then(|| {
                self.replication_lag_sum_ns as f64 / self.replication_lag_count as f64 / 1e9
            }),
            replication_lag_p99_s: quantile_s(&self.replication_lag, 0.99),
            replication_lag_max_s: (!self.replication_lag.is_empty())
                .then(|| secs(self.replication_lag_max)),
            write_latency_p50_ms: quantile_ms(&self.write_latency, 0.50),
            write_latency_p99_ms: quantile_ms(&self.write_latency, 0.99),
            failovers: self.failovers,
            false_failovers: self.false_failovers,
            writes: attempted,
            writes_failed: self.writes_failed,
            availability: if attempted == 0 {
                1.0
            } else {
                self.writes as f64 / attempted as f64
            },
            drain_wait_s: inc.and_then(|i| i.drain_wait).map(secs),
            incident: u8::from(inc.is_some()),
            recovered: u8::from(inc.is_some_and(|i| i.recovered.is_some())),
            cost_monthly: self.cost_monthly,
            conflicts: self.conflicts,
            lost_updates: self.lost_updates,
            shed_requests: self.shed_requests,
            peak_utilisation: self.peak_utilisation,
            sessions_lost: self.sessions_lost,
            region_failovers: self.region_failovers,
            split_brain_s: secs(self.split_brain),
            divergent_writes: self.divergent_writes,
            events,
        }
    }
}
