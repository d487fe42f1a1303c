//! What one run measures while it runs: counters, bounded histograms (memory does
//! not grow with the number of writes) and the incident timeline. Turned into a
//! `RunRow` when the run ends.

use hdrhistogram::Histogram;

use crate::base::time::{SimDuration, SimTime};

use super::row::{IncidentSample, RunRow};

/// An outage of the serving primary (active-active: of a serving site), as
/// the failover chain saw it. The row reports the run's first; horizon runs
/// list them all.
#[derive(Clone, Copy, Debug, Default)]
pub struct Incident {
    pub start: SimTime,
    pub detected: Option<SimTime>,
    /// The first client's writes are accepted again.
    pub first_served: Option<SimTime>,
    /// Every client's writes are accepted again.
    pub recovered: Option<SimTime>,
    pub drain_wait: Option<SimDuration>,
    /// Acknowledged writes lost by this incident's failovers.
    pub lost_writes: u64,
    /// Widest window of lost acknowledged writes of this incident's failovers.
    pub rpo: SimDuration,
    /// When each alert (lag, latency, loss, error rate) first fired, from the start.
    pub alerts: [Option<SimDuration>; 4],
}

/// Latency and lag of writes simulated one by one while a horizon run is
/// steady under one network condition: the sample that stands for its
/// aggregate periods under that condition.
struct Steady {
    latency: Histogram<u64>,
    lag: Histogram<u64>,
    lag_sum_ns: u128,
    lag_max: SimDuration,
    /// Writes of aggregate periods, and their (write, connected standby) pairs.
    aggregate_writes: u64,
    aggregate_lag_pairs: u64,
    /// Active-active: write arrivals sampled, and what happened to them
    /// (rates per arrival, for the aggregate periods' writes).
    arrivals: u64,
    conflicts: u64,
    lost_updates: u64,
    shed: u64,
    /// Conflicts of this condition's aggregate periods are counted in closed
    /// form (a cut between sites taking writes), not at the sample's rate.
    closed_form_conflicts: bool,
}

impl Steady {
    fn new() -> Steady {
        let hist = || Histogram::new(SIGNIFICANT_DIGITS).expect("valid precision");
        Steady {
            latency: hist(),
            lag: hist(),
            lag_sum_ns: 0,
            lag_max: SimDuration::ZERO,
            aggregate_writes: 0,
            aggregate_lag_pairs: 0,
            arrivals: 0,
            conflicts: 0,
            lost_updates: 0,
            shed: 0,
            closed_form_conflicts: false,
        }
    }
}

pub struct Recorder {
    /// In a steady per-write stretch of a horizon run: latencies and lags
    /// are also sampled for the aggregate periods, under this condition.
    pub steady_slot: Option<usize>,
    steady: Vec<Steady>,
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
    /// Every incident of the run, in start order.
    pub incidents: Vec<Incident>,
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
    /// Rejoined standbys' catch-up times, in order.
    pub resyncs: Vec<SimDuration>,
    pub failbacks: u32,
    /// Duration of each failback, from its start until every client is back.
    pub failback_times: Vec<SimDuration>,
    /// Alerts raised (a threshold newly crossed), and those raised while no
    /// failure was active and no incident open.
    pub alerts: u32,
    pub false_alerts: u32,
    /// Traffic moves between redundant paths.
    pub path_switches: u32,
}

/// Three significant digits: quantiles within 0.1% of the exact value. The
/// histograms resize themselves to the largest value seen, so recording never
/// clamps.
const SIGNIFICANT_DIGITS: u8 = 3;

/// A year of 365.25 days (the unit of per-year rates).
pub const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;

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
            steady_slot: None,
            steady: Vec::new(),
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
            incidents: Vec::new(),
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
            resyncs: Vec::new(),
            failbacks: 0,
            failback_times: Vec::new(),
            alerts: 0,
            false_alerts: 0,
            path_switches: 0,
        }
    }

    /// The run's first incident (what the row's RTO and detection describe).
    pub fn first_incident(&self) -> Option<Incident> {
        self.incidents.first().copied()
    }

    /// The latest incident while it is still unresolved.
    pub fn open_incident_mut(&mut self) -> Option<&mut Incident> {
        self.incidents.last_mut().filter(|i| i.recovered.is_none())
    }

    /// Starts an incident at `now` unless one is already open; returns whether it did.
    pub fn begin_incident(&mut self, now: SimTime) -> bool {
        if self.open_incident_mut().is_some() {
            return false;
        }
        self.incidents.push(Incident {
            start: now,
            ..Incident::default()
        });
        true
    }

    /// A failover lost `lost` acknowledged writes committed in a window of
    /// `window` before the old primary stopped.
    pub fn record_loss(&mut self, lost: u64, window: SimDuration) {
        if lost == 0 {
            return;
        }
        self.lost_writes += lost;
        self.rpo_max = self.rpo_max.max(window);
        if let Some(inc) = self.open_incident_mut() {
            inc.lost_writes += lost;
            inc.rpo = inc.rpo.max(window);
        }
    }

    #[inline]
    pub fn record_write_latency(&mut self, latency: SimDuration) {
        let _ = self.write_latency.record(latency.0.max(1));
        if let Some(slot) = self.steady_slot {
            let _ = self.steady(slot).latency.record(latency.0.max(1));
        }
    }

    #[inline]
    pub fn record_replication_lag(&mut self, lag: SimDuration) {
        if let Some(slot) = self.steady_slot {
            let s = self.steady(slot);
            let _ = s.lag.record(lag.0.max(1));
            s.lag_sum_ns += u128::from(lag.0);
            s.lag_max = s.lag_max.max(lag);
        }
        let _ = self.replication_lag.record(lag.0.max(1));
        self.replication_lag_sum_ns += u128::from(lag.0);
        self.replication_lag_count += 1;
        if lag > self.replication_lag_max {
            self.replication_lag_max = lag;
        }
    }

    /// Active-active: a write arrived (sampled for aggregate periods when steady).
    #[inline]
    pub fn count_arrival(&mut self) {
        if let Some(slot) = self.steady_slot {
            self.steady(slot).arrivals += 1;
        }
    }

    /// Two concurrent writes to one key; `lost`: one of them was overwritten.
    #[inline]
    pub fn count_conflict(&mut self, lost: bool) {
        self.conflicts += 1;
        if let Some(slot) = self.steady_slot {
            self.steady(slot).conflicts += 1;
        }
        if lost {
            self.count_lost_update();
        }
    }

    /// An update silently overwritten (a conflict, or an older timestamp winning).
    #[inline]
    pub fn count_lost_update(&mut self) {
        self.lost_updates += 1;
        if let Some(slot) = self.steady_slot {
            self.steady(slot).lost_updates += 1;
        }
    }

    /// Conflicts of an aggregate period under condition `slot`, counted in
    /// closed form; `lost`: each loses an update (last-writer-wins).
    pub fn add_cut_conflicts(&mut self, slot: usize, conflicts: u64, lost: bool) {
        self.steady(slot).closed_form_conflicts = true;
        self.conflicts += conflicts;
        if lost {
            self.lost_updates += conflicts;
        }
    }

    /// A request refused for lack of capacity.
    #[inline]
    pub fn count_shed(&mut self) {
        self.writes_failed += 1;
        self.shed_requests += 1;
        if let Some(slot) = self.steady_slot {
            self.steady(slot).shed += 1;
        }
    }

    fn steady(&mut self, slot: usize) -> &mut Steady {
        while self.steady.len() <= slot {
            self.steady.push(Steady::new());
        }
        &mut self.steady[slot]
    }

    /// An aggregate period of `writes` writes under condition `slot`, all
    /// served, each replicated to the connected standbys (`lag_pairs` in all).
    pub fn record_aggregate(&mut self, slot: usize, writes: u64, lag_pairs: u64) {
        self.writes += writes;
        let s = self.steady(slot);
        s.aggregate_writes += writes;
        s.aggregate_lag_pairs += lag_pairs;
    }

    /// Gives each condition's aggregate writes the latency and lag
    /// distributions of its steady sample, scaled to their numbers (called
    /// once, at the end). Every condition is sampled for a window before
    /// its first aggregate period; one whose window saw no write (a very low
    /// write rate) borrows the largest sample.
    pub fn fold_aggregate(&mut self) {
        let steady = std::mem::take(&mut self.steady);
        let largest = steady
            .iter()
            .enumerate()
            .max_by_key(|(i, s)| (s.lag.len() + s.latency.len(), usize::MAX - i))
            .map(|(i, _)| i);
        for s in &steady {
            let sample = if s.latency.is_empty() && s.lag.is_empty() {
                match largest {
                    Some(i) => &steady[i],
                    None => continue,
                }
            } else {
                s
            };
            add_scaled(&mut self.write_latency, &sample.latency, s.aggregate_writes);
            if sample.arrivals > 0 {
                // Active-active outcomes at the sample's rates per arrival.
                let scaled = |x: u64| {
                    (x as f64 * s.aggregate_writes as f64 / sample.arrivals as f64).round() as u64
                };
                if !s.closed_form_conflicts {
                    self.conflicts += scaled(sample.conflicts);
                    self.lost_updates += scaled(sample.lost_updates);
                }
                let shed = scaled(sample.shed).min(s.aggregate_writes);
                self.shed_requests += shed;
                self.writes -= shed;
                self.writes_failed += shed;
            }
            let pairs = s.aggregate_lag_pairs;
            if pairs > 0 && !sample.lag.is_empty() {
                add_scaled(&mut self.replication_lag, &sample.lag, pairs);
                let mean = sample.lag_sum_ns as f64 / sample.lag.len() as f64;
                self.replication_lag_sum_ns += (mean * pairs as f64) as u128;
                self.replication_lag_count += pairs;
                self.replication_lag_max = self.replication_lag_max.max(sample.lag_max);
            }
        }
    }

    /// `n` writes replicated with the same lag (a span of an aggregate period).
    pub fn record_replication_lag_n(&mut self, lag: SimDuration, n: u64) {
        let _ = self.replication_lag.record_n(lag.0.max(1), n);
        self.replication_lag_sum_ns += u128::from(lag.0) * u128::from(n);
        self.replication_lag_count += n;
        if lag > self.replication_lag_max {
            self.replication_lag_max = lag;
        }
    }

    /// The run's row; `horizon` is the simulated time (for per-year rates).
    pub fn finish(&self, run: u64, seed: u64, events: u64, horizon: SimDuration) -> RunRow {
        let secs = |t: SimDuration| t.as_secs_f64();
        let quantile_s = |h: &Histogram<u64>, q: f64| {
            (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1e9)
        };
        let quantile_ms = |h: &Histogram<u64>, q: f64| {
            (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1e6)
        };
        let inc = self.first_incident();
        let since_start = |t: Option<SimTime>| inc.and_then(|i| t.map(|t| secs(t - i.start)));
        let attempted = self.writes + self.writes_failed;
        let availability = if attempted == 0 {
            1.0
        } else {
            self.writes as f64 / attempted as f64
        };
        let years = horizon.as_secs_f64() / SECONDS_PER_YEAR;
        RunRow {
            run,
            seed,
            rto_s: since_start(inc.and_then(|i| i.recovered)),
            rto_first_s: since_start(inc.and_then(|i| i.first_served)),
            detection_s: since_start(inc.and_then(|i| i.detected)),
            rpo_s: secs(inc.map_or(self.rpo_max, |i| i.rpo)),
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
            availability,
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
            incidents: self.incidents.len() as u32,
            resync_s: self.resyncs.first().map(|&d| secs(d)),
            failbacks: self.failbacks,
            failback_s: self.failback_times.first().map(|&d| secs(d)),
            alert_lag_s: inc.and_then(|i| i.alerts[0]).map(secs),
            alert_latency_s: inc.and_then(|i| i.alerts[1]).map(secs),
            alert_loss_s: inc.and_then(|i| i.alerts[2]).map(secs),
            alert_errors_s: inc.and_then(|i| i.alerts[3]).map(secs),
            alerts: self.alerts,
            false_alerts: self.false_alerts,
            path_switches: self.path_switches,
            rpo_s_max: secs(self.rpo_max),
            downtime_min_per_year: (1.0 - availability) * SECONDS_PER_YEAR / 60.0,
            lost_writes_per_year: if years > 0.0 {
                self.lost_writes as f64 / years
            } else {
                0.0
            },
            events,
            incident_log: self
                .incidents
                .iter()
                .enumerate()
                .map(|(k, i)| {
                    let since = |t: Option<SimTime>| t.map(|t| secs(t - i.start));
                    IncidentSample {
                        run,
                        incident: k as u32,
                        start_s: i.start.as_secs_f64(),
                        detection_s: since(i.detected),
                        rto_first_s: since(i.first_served),
                        rto_s: since(i.recovered),
                        drain_wait_s: i.drain_wait.map(secs),
                        lost_writes: i.lost_writes,
                        rpo_s: secs(i.rpo),
                    }
                })
                .collect(),
        }
    }
}

/// Adds `sample` to `into`, its counts scaled so that they total `total`
/// (rounding carried from value to value, so the total is exact).
fn add_scaled(into: &mut Histogram<u64>, sample: &Histogram<u64>, total: u64) {
    let n = sample.len();
    if n == 0 || total == 0 {
        return;
    }
    let scale = total as f64 / n as f64;
    let (mut carry, mut added) = (0.0, 0u64);
    let values: Vec<(u64, u64)> = sample
        .iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect();
    for (i, &(value, count)) in values.iter().enumerate() {
        let exact = count as f64 * scale + carry;
        let mut k = exact.round().max(0.0) as u64;
        if i + 1 == values.len() {
            k = total.saturating_sub(added);
        }
        carry = exact - k as f64;
        added += k;
        if k > 0 {
            let _ = into.record_n(value, k);
        }
    }
}

#[cfg(test)]
mod tests {
    //! Scaling of the steady sample's histograms to the aggregate writes of
    //! horizon runs (`fold_aggregate`, `add_scaled`): the aggregate writes
    //! get the sample's distribution, scaled to their number, with the
    //! total exact. Hand values below; quantiles within the histograms'
    //! 0.1% (three significant digits).

    use super::*;

    const MS: u64 = 1_000_000;

    fn close(got: f64, want: f64) -> bool {
        (got - want).abs() <= 1e-3 * want.abs()
    }

    fn hist() -> Histogram<u64> {
        Histogram::new(SIGNIFICANT_DIGITS).unwrap()
    }

    /// 3 x 10 ms and 1 x 40 ms scaled to 1,000: 750 and 250 exactly.
    #[test]
    fn scaling_keeps_the_sample_shape_and_the_exact_total() {
        let mut sample = hist();
        sample.record_n(10 * MS, 3).unwrap();
        sample.record(40 * MS).unwrap();
        let mut into = hist();
        add_scaled(&mut into, &sample, 1000);
        assert_eq!(into.len(), 1000);
        assert_eq!(into.count_at(10 * MS), 750);
        assert_eq!(into.count_at(40 * MS), 250);
        assert!(close(into.value_at_quantile(0.5) as f64, 10e6));
        assert!(close(into.value_at_quantile(0.75) as f64, 10e6));
        assert!(close(into.value_at_quantile(0.76) as f64, 40e6));
    }

    /// 1, 1, 1 scaled to 10: 10/3 each, rounded with the remainder carried,
    /// so the counts are 3 or 4 and total exactly 10 (not 9 or 12). Ten
    /// values scaled to 15 (1.5 each): carrying gives 1s and 2s; rounding
    /// each on its own would give 2 x 9 = 18 and leave the last value none.
    #[test]
    fn scaling_carries_rounding_so_the_total_is_exact() {
        let mut ten = hist();
        for v in 1..=10 {
            ten.record(v * MS).unwrap();
        }
        let mut into = hist();
        add_scaled(&mut into, &ten, 15);
        assert_eq!(into.len(), 15);
        for v in 1..=10 {
            let c = into.count_at(v * MS);
            assert!((1..=2).contains(&c), "value {v}: count {c}");
        }
        let mut sample = hist();
        for v in [1, 2, 3] {
            sample.record(v * MS).unwrap();
        }
        for total in [10, 11, 1, 0, 1_000_001] {
            let mut into = hist();
            add_scaled(&mut into, &sample, total);
            assert_eq!(into.len(), total, "total {total}");
            for v in [1, 2, 3] {
                let c = into.count_at(v * MS) as f64;
                assert!((c - total as f64 / 3.0).abs() <= 1.0, "total {total}: {c}");
            }
        }
    }

    /// `fold_aggregate` through a run's recorder. Steady sample (condition
    /// 0): latencies 3 x 10 ms, 1 x 40 ms; lags 2 x 100 ms, 2 x 300 ms. Then
    /// 996 aggregate writes with 996 lag pairs under condition 0, and 100
    /// writes under condition 1, never sampled, which borrows the largest
    /// sample (condition 0). Latency: 4 + 996 + 100 = 1,100 values, 3/4 at
    /// 10 ms: p50 = 10 ms, p99 = 40 ms. Lag: 4 + 996 = 1,000 pairs, half at
    /// 100 ms: mean (800 ms + 996 x 200 ms) / 1000 = 200 ms, p50 = 100 ms,
    /// p99 = 300 ms, max 300 ms. Writes: 1,096 aggregate writes, all served.
    #[test]
    fn aggregate_writes_take_the_steady_distribution_scaled() {
        let mut r = Recorder::new();
        r.steady_slot = Some(0);
        for ms in [10, 10, 10, 40] {
            r.record_write_latency(SimDuration(ms * MS));
        }
        for ms in [100, 100, 300, 300] {
            r.record_replication_lag(SimDuration(ms * MS));
        }
        r.steady_slot = None;
        r.record_aggregate(0, 996, 996);
        r.record_aggregate(1, 100, 0);
        r.fold_aggregate();
        assert_eq!(r.write_latency.len(), 1100);
        assert_eq!(r.replication_lag.len(), 1000);
        let row = r.finish(0, 0, 0, SimDuration::from_secs(3600));
        assert_eq!((row.writes, row.writes_failed), (1096, 0));
        assert!(close(row.write_latency_p50_ms.unwrap(), 10.0), "{row:?}");
        assert!(close(row.write_latency_p99_ms.unwrap(), 40.0), "{row:?}");
        assert!(close(row.replication_lag_mean_s.unwrap(), 0.2), "{row:?}");
        assert!(close(row.replication_lag_p99_s.unwrap(), 0.3), "{row:?}");
        assert_eq!(row.replication_lag_max_s, Some(0.3));
        assert!(close(
            r.replication_lag.value_at_quantile(0.5) as f64,
            100e6
        ));
    }

    /// `n` lags of one span at once count as n samples of that lag.
    #[test]
    fn span_lags_count_once_per_write() {
        let mut r = Recorder::new();
        r.record_replication_lag(SimDuration(10 * MS));
        r.record_replication_lag_n(SimDuration(50 * MS), 9);
        let row = r.finish(0, 0, 0, SimDuration::from_secs(1));
        // (10 + 9 x 50) / 10 = 46 ms; p50 = 50 ms; max 50 ms.
        assert!(close(row.replication_lag_mean_s.unwrap(), 0.046));
        assert!(close(r.replication_lag.value_at_quantile(0.5) as f64, 50e6));
        assert_eq!(row.replication_lag_max_s, Some(0.05));
    }
}
