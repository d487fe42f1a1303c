//! The monitoring system of the reference design: every `interval` it looks
//! at replication lag, the replication links' latency and loss, and the write
//! error rate, and raises an alert when one crosses its threshold. It only
//! observes: no random draw, no effect on the run. What is measured: when each
//! alert first fires relative to the incident, and how many fire while
//! nothing has failed (false alerts).

use crate::model::Alerts;

use super::event::Event;
use super::world::World;
use crate::base::time::SimTime;

/// The alerts, in column order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertKind {
    ReplicationLag = 0,
    LinkLatency = 1,
    PacketLoss = 2,
    ErrorRate = 3,
}

pub const ALERT_KINDS: [AlertKind; 4] = [
    AlertKind::ReplicationLag,
    AlertKind::LinkLatency,
    AlertKind::PacketLoss,
    AlertKind::ErrorRate,
];

#[derive(Default)]
pub struct Monitoring {
    firing: [bool; 4],
    /// Writes attempted and refused at the previous check.
    seen_writes: u64,
    seen_failed: u64,
    /// Injected failures in progress (any kind): an alert raised while there
    /// are none, and no incident is open, is a false alert.
    pub failures_active: u32,
    /// When the next check is due (checks stop during aggregate periods).
    pub next_check: SimTime,
}

impl World<'_> {
    pub(super) fn start_alerts(&mut self) {
        if let Some(a) = self.scenario.alerts {
            self.monitoring.next_check = self.now + a.interval;
            self.schedule_in(a.interval, Event::AlertCheck);
        }
    }

    /// Restarts the checks on their grid after an aggregate period; its
    /// writes (all served) are not part of the next check's error rate.
    pub(super) fn resume_alerts(&mut self) {
        self.monitoring.seen_writes = self.metrics.writes + self.metrics.writes_failed;
        self.monitoring.seen_failed = self.metrics.writes_failed;
        if let Some(a) = self.scenario.alerts {
            let i = a.interval.0.max(1);
            let next = SimTime(self.now.0.div_ceil(i) * i);
            self.monitoring.next_check = next;
            self.schedule(next, Event::AlertCheck);
        }
    }

    pub(super) fn on_alert_check(&mut self) {
        let Some(a) = self.scenario.alerts else {
            return;
        };
        if self.now != self.monitoring.next_check || self.quiet {
            return;
        }
        self.monitoring.next_check = self.now + a.interval;
        self.schedule_in(a.interval, Event::AlertCheck);
        self.evaluate_alerts();
    }

    /// Compares what the monitor sees now with the thresholds. Also taken
    /// when an aggregate period begins, so the writes since the last check
    /// are judged before checks pause.
    pub(super) fn evaluate_alerts(&mut self) {
        let Some(a) = self.scenario.alerts else {
            return;
        };
        let now_firing = self.alert_states(&a);
        for kind in ALERT_KINDS {
            let k = kind as usize;
            if now_firing[k] && !self.monitoring.firing[k] {
                self.raise(kind);
            }
        }
        self.monitoring.firing = now_firing;
        let attempted = self.metrics.writes + self.metrics.writes_failed;
        self.monitoring.seen_writes = attempted;
        self.monitoring.seen_failed = self.metrics.writes_failed;
    }

    fn alert_states(&self, a: &Alerts) -> [bool; 4] {
        let now = self.now;
        // As a standby reports it (now minus its newest applied commit): it
        // grows when the primary stops sending, whatever the reason.
        let lag = self.log.committed > 0
            && self.streams.iter().any(|s| {
                let d = &self.sites[s.dest];
                d.is_up() && now.since(d.applied_commit) > a.replication_lag
            });
        let (mut latency, mut loss) = (false, false);
        for s in &self.streams {
            let l = &self.network.links[s.conn.link];
            let spec = &self.scenario.links[s.conn.link];
            let one_way = spec.latency.as_secs_f64() * l.latency_multiplier();
            latency |= one_way > a.link_latency.as_secs_f64();
            loss |= !l.is_up() || l.loss() > a.packet_loss;
        }
        let attempted =
            self.metrics.writes + self.metrics.writes_failed - self.monitoring.seen_writes;
        let failed = self.metrics.writes_failed - self.monitoring.seen_failed;
        let errors = attempted > 0 && failed as f64 > a.error_rate * attempted as f64;
        [lag, latency, loss, errors]
    }

    fn raise(&mut self, kind: AlertKind) {
        self.metrics.alerts += 1;
        let open = self.metrics.open_incident_mut();
        match open {
            Some(inc) => {
                let since = self.now - inc.start;
                inc.alerts[kind as usize].get_or_insert(since);
            }
            None if self.monitoring.failures_active == 0 => self.metrics.false_alerts += 1,
            None => {}
        }
    }

    /// An incident begins: alerts already firing fired "at" its start.
    pub(super) fn alerts_at_incident_start(&mut self) {
        let firing = self.monitoring.firing;
        if let Some(inc) = self.metrics.open_incident_mut() {
            for kind in ALERT_KINDS {
                if firing[kind as usize] {
                    inc.alerts[kind as usize].get_or_insert(crate::base::time::SimDuration::ZERO);
                }
            }
        }
    }
}
