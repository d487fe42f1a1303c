//! Links at run time: up/down state, degradation, and the delivery time of a
//! message (propagation, jitter, loss with retransmission, bandwidth queueing,
//! in-order streams).

use rand::RngExt;

use crate::model::{Link, LinkId, Scenario, SiteId};

use crate::base::rng::SimRng;
use crate::base::time::{SimDuration, SimTime};

/// Per direction of a link: the transmitter and the in-order delivery point.
#[derive(Clone, Copy, Default)]
struct Direction {
    /// When the transmitter finishes sending what is already queued.
    busy_until: SimTime,
    /// Arrival time of the last in-order message (a stream never reorders).
    last_arrival: SimTime,
}

pub struct LinkState {
    /// Overlapping outages: the link is up when no outage is active.
    outages: u32,
    /// Active degradations as (failure index, latency multiplier, extra loss,
    /// bandwidth factor).
    degradations: Vec<(u16, f64, f64, f64)>,
    latency_multiplier: f64,
    bandwidth_factor: f64,
    /// Loss probability per attempt, including degradation.
    loss: f64,
    dirs: [Direction; 2],
}

impl LinkState {
    pub fn is_up(&self) -> bool {
        self.outages == 0
    }

    /// Loss probability per attempt, degradations included.
    pub fn loss(&self) -> f64 {
        self.loss
    }

    /// Fraction of the configured bandwidth left by degradations.
    pub fn bandwidth_factor(&self) -> f64 {
        self.bandwidth_factor
    }

    /// Factor on the propagation latency from degradations.
    pub fn latency_multiplier(&self) -> f64 {
        self.latency_multiplier
    }
}

pub struct Network {
    pub links: Vec<LinkState>,
}

/// When a stream message left its sender for the last time, and when it arrives.
#[derive(Clone, Copy, Debug)]
pub struct Transit {
    /// The successful attempt has fully left the sender: a sender failing
    /// later cannot take it back.
    pub sent: SimTime,
    pub arrival: SimTime,
}

/// Why a message did not get through.
#[derive(Debug, PartialEq)]
pub enum Undelivered {
    LinkDown,
    /// Every retransmission attempt was lost.
    AttemptsExhausted {
        gave_up_after: SimDuration,
    },
}

impl Network {
    pub fn new(s: &Scenario) -> Network {
        Network {
            links: s
                .links
                .iter()
                .map(|l| LinkState {
                    outages: 0,
                    degradations: Vec::new(),
                    latency_multiplier: 1.0,
                    bandwidth_factor: 1.0,
                    loss: l.loss,
                    dirs: [Direction::default(); 2],
                })
                .collect(),
        }
    }

    pub fn fail(&mut self, link: LinkId) {
        self.links[link].outages += 1;
    }

    pub fn repair(&mut self, link: LinkId) {
        let l = &mut self.links[link];
        l.outages = l.outages.saturating_sub(1);
    }

    pub fn degrade(
        &mut self,
        spec: &Link,
        link: LinkId,
        failure: u16,
        multiplier: f64,
        extra_loss: f64,
        bandwidth_factor: f64,
    ) {
        self.links[link]
            .degradations
            .push((failure, multiplier, extra_loss, bandwidth_factor));
        self.recompute(spec, link);
    }

    pub fn restore(&mut self, spec: &Link, link: LinkId, failure: u16) {
        self.links[link].degradations.retain(|d| d.0 != failure);
        self.recompute(spec, link);
    }

    fn recompute(&mut self, spec: &Link, link: LinkId) {
        let l = &mut self.links[link];
        l.latency_multiplier = l.degradations.iter().map(|d| d.1).product();
        l.bandwidth_factor = l.degradations.iter().map(|d| d.3).product();
        let delivered: f64 =
            l.degradations.iter().map(|d| 1.0 - d.2).product::<f64>() * (1.0 - spec.loss);
        l.loss = 1.0 - delivered;
    }

    /// The failures degrading links now, in order: links behave the same
    /// whenever this is the same.
    pub fn condition(&self) -> Vec<u16> {
        let mut c: Vec<u16> = self
            .links
            .iter()
            .flat_map(|l| l.degradations.iter().map(|d| d.0))
            .collect();
        c.sort_unstable();
        c
    }

    /// Every transmitter idle and every stream's order point at `now` (an
    /// aggregate period ended with nothing queued or in flight).
    pub fn idle_all(&mut self, now: SimTime) {
        for l in &mut self.links {
            for d in &mut l.dirs {
                d.busy_until = d.busy_until.min(now);
                d.last_arrival = d.last_arrival.min(now);
            }
        }
    }

    /// Forgets the in-order delivery point of messages sent from `from` on
    /// `link`, after their stream was reset (its messages in flight are void).
    pub fn reset_order(&mut self, spec: &Link, link: LinkId, from: SiteId, now: SimTime) {
        self.links[link].dirs[usize::from(from != spec.a)].last_arrival = now;
    }

    /// One-way delay of a single-attempt datagram (health checks): propagation
    /// plus jitter, or `None` if lost or the link is down. No queueing.
    #[inline]
    pub fn datagram_delay(
        &self,
        spec: &Link,
        link: LinkId,
        rng: &mut SimRng,
    ) -> Option<SimDuration> {
        let l = &self.links[link];
        if !l.is_up() || (l.loss > 0.0 && rng.random::<f64>() < l.loss) {
            return None;
        }
        Some(self.propagation(spec, l, rng))
    }

    #[inline]
    fn propagation(&self, spec: &Link, l: &LinkState, rng: &mut SimRng) -> SimDuration {
        let base = if l.latency_multiplier == 1.0 {
            spec.latency
        } else {
            SimDuration((spec.latency.0 as f64 * l.latency_multiplier) as u64)
        };
        match &spec.jitter {
            None => base,
            Some(j) => base + j.sample_duration(rng),
        }
    }

    /// Timing of a stream message of `bytes` sent from `from` at `now`: it waits
    /// for the transmitter, retransmits lost attempts after a timeout that
    /// doubles each time, and never overtakes the previous message of the stream.
    #[inline]
    pub fn send_stream(
        &mut self,
        spec: &Link,
        link: LinkId,
        from: SiteId,
        now: SimTime,
        bytes: f64,
        rng: &mut SimRng,
    ) -> Result<Transit, Undelivered> {
        let l = &self.links[link];
        if !l.is_up() {
            return Err(Undelivered::LinkDown);
        }
        let mut backoff = SimDuration::ZERO;
        if l.loss > 0.0 {
            let mut timeout = spec.retransmit_timeout;
            let mut attempts = 0;
            while rng.random::<f64>() < l.loss {
                backoff += timeout;
                timeout = timeout.saturating_mul(2);
                attempts += 1;
                if attempts >= spec.max_attempts {
                    return Err(Undelivered::AttemptsExhausted {
                        gave_up_after: backoff,
                    });
                }
            }
        }
        let flight = self.propagation(spec, l, rng);
        let transmit = match spec.bandwidth_bps {
            Some(bps) => SimDuration::from_secs_f64(bytes * 8.0 / (bps * l.bandwidth_factor)),
            None => SimDuration::ZERO,
        };
        let d = &mut self.links[link].dirs[usize::from(from != spec.a)];
        let depart = now.max(d.busy_until);
        d.busy_until = depart + transmit;
        let sent = depart + transmit + backoff;
        let arrival = (sent + flight).max(d.last_arrival);
        d.last_arrival = arrival;
        Ok(Transit { sent, arrival })
    }
}
