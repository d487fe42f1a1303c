//! Health checks of the primary by the failover manager. Checks run on a grid
//! (k x interval); `threshold` consecutive failures declare the primary down.
//!
//! Explicit checks send a probe and wait for the reply or the timeout. In
//! horizon runs, while the path from the manager to a serving primary is clean
//! (link up, and a reply provably never later than the timeout),
//! a check fails only by losing the probe or the reply: independently, with
//! probability q = 1 - (1 - loss)^2. Then the outcomes are drawn in runs (the
//! number of checks to the next failure is geometric, and so is the length of
//! the run of failures), and only failed checks cost events. Any change of
//! state discards the drawn runs and re-plans (exact: the outcomes are iid).

use std::collections::VecDeque;

use rand::RngExt;

use crate::model::{Link, SiteId};

use crate::base::rng::SimRng;

use super::event::Event;
use super::network::LinkState;
use super::world::{Phase, World};
use crate::base::time::{SimDuration, SimTime};

/// A replied check must not be later than its timeout with probability above
/// this, for the loss-only model of a clean path to be used.
const LATE_REPLY_NEGLIGIBLE: f64 = 1e-12;

/// `len` consecutive failed checks from grid index `first`, then one that
/// succeeds (unless the run reached the threshold: the chain takes over).
#[derive(Clone, Copy, Debug)]
pub struct FailRun {
    pub first: u64,
    pub len: u32,
    /// The checks before `first` succeeded (the failure count restarts).
    pub reset: bool,
}

/// The outcomes of checks on a clean path, pre-drawn as runs of failures
/// (each check fails independently with probability `q`), in order: the
/// first is the next to happen. Used by the failover manager's checks and
/// by the load balancer's checks of each site.
pub struct FailRuns {
    runs: VecDeque<FailRun>,
    q: f64,
}

impl FailRuns {
    pub fn new(q: f64) -> FailRuns {
        FailRuns {
            runs: VecDeque::new(),
            q,
        }
    }

    pub fn front(&self) -> Option<FailRun> {
        self.runs.front().copied()
    }

    pub fn pop_front(&mut self) {
        self.runs.pop_front();
    }

    /// Draws the next run of failures starting at or after grid index
    /// `from` and appends it; `None` if checks on this path never fail.
    pub fn draw(&mut self, rng: &mut SimRng, from: u64, threshold: u32) -> Option<FailRun> {
        let q = self.q;
        if q <= 0.0 {
            return None;
        }
        // Checks to the next failure, 1 included: geometric by inversion.
        let u: f64 = 1.0 - rng.random::<f64>();
        let gap = (u.ln() / (-q).ln_1p()).floor();
        let gap = if gap.is_finite() && gap < 1e18 {
            gap as u64
        } else {
            u64::MAX / 4
        };
        let threshold = threshold.max(1);
        let mut len = 1;
        while len < threshold && rng.random::<f64>() < q {
            len += 1;
        }
        let run = FailRun {
            first: from.saturating_add(gap),
            len,
            reset: gap > 0,
        };
        self.runs.push_back(run);
        Some(run)
    }

    /// The grid index where the next run of `threshold` failures (a false
    /// alarm) starts, drawing runs ahead up to index `limit`; `None` if none
    /// starts before it. `from` is where drawing starts if nothing is drawn.
    pub fn next_alarm(
        &mut self,
        rng: &mut SimRng,
        from: u64,
        limit: u64,
        threshold: u32,
    ) -> Option<u64> {
        let threshold = threshold.max(1);
        let mut i = 0;
        loop {
            let run = match self.runs.get(i) {
                Some(r) => *r,
                None => {
                    let from = self
                        .runs
                        .back()
                        .map_or(from, |r| r.first + r.len as u64 + 1);
                    self.draw(rng, from, threshold)?
                }
            };
            if run.first >= limit {
                return None;
            }
            if run.len >= threshold {
                return Some(run.first);
            }
            i += 1;
        }
    }
}

enum Mode {
    /// Every check is simulated.
    Explicit,
    /// Pre-drawn runs of failures.
    Skipping(FailRuns),
}

pub struct Checks {
    /// Identifies the current plan; `HealthCheckDue` of older plans are ignored.
    plan: u32,
    /// Failed checks whose outcome the manager has not learnt yet: with the
    /// failure count, what a run of drawn failures would add to.
    pub failed_in_flight: u32,
    mode: Mode,
    /// Horizon runs draw outcomes in runs where they can; incident runs always
    /// simulate every check (their trace shows each one).
    skipping: bool,
}

impl Checks {
    pub fn new(skipping: bool) -> Checks {
        Checks {
            plan: 0,
            failed_in_flight: 0,
            mode: Mode::Explicit,
            skipping,
        }
    }
}

/// The probability that one check over `link` (in its current state) fails
/// while the primary serves: by loss only, or `None` if a reply could also be
/// later than the timeout.
pub fn loss_only_failure(spec: &Link, link: &LinkState, timeout: SimDuration) -> Option<f64> {
    let latency = spec.latency.as_secs_f64() * link.latency_multiplier();
    let slack = timeout.as_secs_f64() - 2.0 * latency;
    let late = match &spec.jitter {
        _ if slack <= 0.0 => 1.0,
        None => 0.0,
        // Round trip late => one of the two jitters exceeds half the slack.
        Some(j) => (2.0 * j.survival_bound(slack / 2.0)).min(1.0),
    };
    (late < LATE_REPLY_NEGLIGIBLE).then(|| 1.0 - (1.0 - link.loss()).powi(2))
}

impl World<'_> {
    fn check_interval(&self) -> u64 {
        self.scenario.failover.health_check.interval.0.max(1)
    }

    fn check_at(&self, index: u64) -> SimTime {
        SimTime(index.saturating_mul(self.check_interval()))
    }

    pub(super) fn start_health_checks(&mut self) {
        self.plan_checks(1);
    }

    /// Re-plans the checks after a change of state (failure, repair,
    /// promotion...): the next check is the next grid point.
    pub(super) fn replan_checks(&mut self) {
        if self.checks.skipping {
            let next = self.now.0 / self.check_interval() + 1;
            self.plan_checks(next);
        }
    }

    /// Plans checks from grid index `from`: skipping if the path is clean.
    fn plan_checks(&mut self, from: u64) {
        self.checks.plan = self.checks.plan.wrapping_add(1);
        let plan = self.checks.plan;
        match self.clean_path_q() {
            Some(q) if self.checks.skipping => {
                self.checks.mode = Mode::Skipping(FailRuns::new(q));
                // Failures counted before this plan are reset by its first
                // check if that one succeeds: simulate that check.
                let counted = self.failover.consecutive_failures > 0;
                match self.draw_run(from) {
                    Some(run) if counted && run.first > from => {
                        self.schedule(self.check_at(from), Event::HealthCheckDue { plan })
                    }
                    Some(run) => {
                        self.schedule(self.check_at(run.first), Event::HealthCheckDue { plan })
                    }
                    None if counted => {
                        self.schedule(self.check_at(from), Event::HealthCheckDue { plan })
                    }
                    None => {}
                }
            }
            _ => {
                self.checks.mode = Mode::Explicit;
                self.schedule(self.check_at(from), Event::HealthCheckDue { plan });
            }
        }
    }

    /// Checks need no per-write attention: outcomes are pre-drawn, or no
    /// manager is alive to check.
    pub(super) fn checks_steady(&self) -> bool {
        matches!(self.checks.mode, Mode::Skipping(_)) || self.active_monitor().is_none()
    }

    /// The failure rate of a check on a clean path to a serving primary;
    /// `None` if checks must be simulated one by one now.
    fn clean_path_q(&self) -> Option<f64> {
        if self.failover.phase != Phase::Watching
            || !self.primary_serving()
            || self.sites[self.primary].gray_check > 0.0
        {
            return None;
        }
        let monitor = self.active_monitor()?;
        let link = self.path_between(monitor, self.primary);
        let state = &self.network.links[link];
        if !state.is_up() {
            return None;
        }
        let timeout = self.scenario.failover.health_check.timeout;
        loss_only_failure(&self.scenario.links[link], state, timeout)
    }

    /// Draws the manager's next run of failures from grid index `from`.
    fn draw_run(&mut self, from: u64) -> Option<FailRun> {
        let threshold = self.scenario.failover.health_check.threshold;
        let Mode::Skipping(runs) = &mut self.checks.mode else {
            return None;
        };
        runs.draw(&mut self.rng.probes, from, threshold)
    }

    /// When the next false alarm (a run of `threshold` failures on a healthy
    /// path) would start, drawing runs ahead as far as `limit`; `None` if none
    /// starts before it or checks are explicit.
    pub(super) fn next_false_alarm(&mut self, limit: SimTime) -> Option<SimTime> {
        let threshold = self.scenario.failover.health_check.threshold;
        let interval = self.check_interval();
        let from = self.now.0 / interval + 1;
        let Mode::Skipping(runs) = &mut self.checks.mode else {
            return None;
        };
        let limit = limit.0.div_ceil(interval);
        runs.next_alarm(&mut self.rng.probes, from, limit, threshold)
            .map(|k| self.check_at(k))
    }

    pub(super) fn on_health_check_due(&mut self, plan: u32) {
        if plan != self.checks.plan {
            return;
        }
        let hc = self.scenario.failover.health_check;
        let front = match &self.checks.mode {
            Mode::Explicit => None,
            Mode::Skipping(runs) => runs.front(),
        };
        let k = self.now.0 / self.check_interval();
        let watching = self.failover.phase == Phase::Watching;
        let Some(run) = front else {
            if let Mode::Skipping(_) = self.checks.mode {
                // A path whose checks never fail: this one resets the count.
                if watching {
                    self.schedule_in(SimDuration(1), Event::CheckCompleted { ok: true });
                }
                return;
            }
            self.schedule_in(hc.interval, Event::HealthCheckDue { plan });
            return self.explicit_check();
        };
        if k < run.first {
            // A check before the drawn failures: it succeeds.
            if watching {
                self.schedule_in(SimDuration(1), Event::CheckCompleted { ok: true });
            }
            self.schedule(self.check_at(run.first), Event::HealthCheckDue { plan });
            return;
        }
        if k < run.first + run.len as u64 {
            if k == run.first && run.reset {
                self.failover.consecutive_failures = 0;
            }
            if watching {
                self.fail_check_at(self.now + hc.timeout);
            }
            self.schedule(self.check_at(k + 1), Event::HealthCheckDue { plan });
            return;
        }
        // The check that ends the run succeeds.
        if watching {
            self.schedule_in(SimDuration(1), Event::CheckCompleted { ok: true });
        }
        if let Mode::Skipping(runs) = &mut self.checks.mode {
            runs.pop_front();
        }
        let next = match &self.checks.mode {
            Mode::Skipping(runs) => runs.front(),
            Mode::Explicit => None,
        };
        let next = next.or_else(|| self.draw_run(k + 1));
        if let Some(r) = next {
            self.schedule(self.check_at(r.first), Event::HealthCheckDue { plan });
        }
    }

    /// Sends one probe to the primary; the reply or the timeout completes it.
    fn explicit_check(&mut self) {
        let hc = self.scenario.failover.health_check;
        // No live monitor checks nothing; a manager mid-failover is busy.
        let Some(monitor) = self.active_monitor() else {
            return;
        };
        if self.failover.phase != Phase::Watching {
            return;
        }
        let link = self.path_between(monitor, self.primary);
        let spec = &self.scenario.links[link];
        match self
            .network
            .datagram_delay(spec, link, &mut self.rng.probes)
        {
            Some(d) if d < hc.timeout => {
                self.schedule_in(d, Event::ProbeArrived { sent: self.now })
            }
            _ => self.fail_check_at(self.now + hc.timeout),
        }
    }

    pub(super) fn on_probe_arrived(&mut self, sent: SimTime) {
        let timeout = self.scenario.failover.health_check.timeout;
        let deadline = sent + timeout;
        if !self.primary_serving() {
            self.fail_check_at(deadline);
            return;
        }
        let Some(monitor) = self.active_monitor() else {
            self.fail_check_at(deadline);
            return;
        };
        let gray = self.sites[self.primary].gray_check;
        if gray > 0.0 && self.rng.probes.random::<f64>() < gray {
            // A gray primary leaves this check unanswered.
            self.fail_check_at(deadline);
            return;
        }
        let link = self.path_between(monitor, self.primary);
        let spec = &self.scenario.links[link];
        match self
            .network
            .datagram_delay(spec, link, &mut self.rng.probes)
        {
            Some(d) if self.now + d <= deadline => {
                self.schedule_in(d, Event::CheckCompleted { ok: true })
            }
            _ => self.fail_check_at(deadline),
        }
    }

    /// The failover manager in charge: the first configured monitor that is
    /// up, not fenced (stopping a site stops its manager too) and not the
    /// primary (the manager runs replicated).
    pub(super) fn active_monitor(&self) -> Option<SiteId> {
        self.scenario
            .failover
            .monitors
            .iter()
            .copied()
            .find(|&m| self.sites[m].is_up() && !self.sites[m].fenced && m != self.primary)
    }

    /// A check that fails: the manager learns it at `at`.
    fn fail_check_at(&mut self, at: SimTime) {
        self.checks.failed_in_flight += 1;
        self.schedule(at, Event::CheckCompleted { ok: false });
    }

    pub(super) fn on_check_completed(&mut self, ok: bool) {
        if !ok {
            self.checks.failed_in_flight = self.checks.failed_in_flight.saturating_sub(1);
        }
        if self.failover.phase != Phase::Watching {
            return;
        }
        if ok {
            self.failover.consecutive_failures = 0;
            return;
        }
        self.failover.consecutive_failures += 1;
        if self.failover.consecutive_failures >= self.scenario.failover.health_check.threshold {
            self.on_primary_declared_down();
        }
    }
}

#[cfg(test)]
mod tests {
    //! `FailRuns` stands for a sequence of independent check outcomes, each
    //! failing with probability q (module docs). Expected values are those
    //! of iid Bernoulli(q) checks, derived by hand; tolerances are 4 SE.

    use rand::SeedableRng;

    use super::*;

    fn rng(seed: u64) -> SimRng {
        SimRng::seed_from_u64(seed)
    }

    /// With a threshold no run reaches, the drawn runs spell out the
    /// outcomes: `gap` successes, `len` failures, one success, and so on.
    /// For iid Bernoulli(q = 0.3) checks: a fraction q fails (SE
    /// sqrt(q(1-q)/N) = 0.0010 at N = 200,000: 4 SE = 1.4% of q); a check
    /// after a failure fails with probability q too (no memory; 4 SE = 2.5%);
    /// the gap before a run is geometric with mean (1-q)/q = 2.333 (sd
    /// sqrt(1-q)/q = 2.79 over ~42,000 runs: 4 SE = 2.3%), and `reset` (a
    /// success before the run) has probability 1 - q. A 5% error in q, or
    /// runs that continue with probability other than q, fails.
    #[test]
    fn drawn_runs_are_iid_checks_failing_with_probability_q() {
        let q = 0.3;
        let mut runs = FailRuns::new(q);
        let mut r = rng(7);
        let mut outcomes: Vec<bool> = Vec::with_capacity(210_000);
        let (mut gaps, mut resets, mut n_runs) = (0u64, 0u64, 0u64);
        let mut from = 0;
        let mut first_run = None;
        while outcomes.len() < 200_000 {
            let run = runs.draw(&mut r, from, u32::MAX).expect("q > 0 draws");
            assert!(run.first >= from);
            first_run.get_or_insert(run.first);
            let gap = run.first - from;
            assert_eq!(run.reset, gap > 0);
            outcomes.extend(std::iter::repeat_n(false, gap as usize));
            outcomes.extend(std::iter::repeat_n(true, run.len as usize));
            outcomes.push(false);
            from = run.first + run.len as u64 + 1;
            gaps += gap;
            resets += u64::from(run.reset);
            n_runs += 1;
        }
        // Runs are kept in order: the front is the first drawn.
        assert_eq!(runs.front().map(|f| f.first), first_run);
        runs.pop_front();
        assert!(runs.front().is_some_and(|f| Some(f.first) > first_run));
        let n = outcomes.len() as f64;
        let fails = outcomes.iter().filter(|&&f| f).count() as f64;
        let se = (q * (1.0 - q) / n).sqrt();
        assert!(
            (fails / n - q).abs() <= 4.0 * se,
            "failure fraction {}",
            fails / n
        );
        let after_fail: Vec<bool> = outcomes.windows(2).filter(|w| w[0]).map(|w| w[1]).collect();
        let m = after_fail.len() as f64;
        let cond = after_fail.iter().filter(|&&f| f).count() as f64 / m;
        assert!(
            (cond - q).abs() <= 4.0 * (q * (1.0 - q) / m).sqrt(),
            "P(fail | fail) {cond}"
        );
        let k = n_runs as f64;
        let mean_gap = gaps as f64 / k;
        let gap_sd = (1.0 - q).sqrt() / q;
        assert!(
            (mean_gap - (1.0 - q) / q).abs() <= 4.0 * gap_sd / k.sqrt(),
            "mean gap {mean_gap}"
        );
        let reset = resets as f64 / k;
        assert!(
            (reset - (1.0 - q)).abs() <= 4.0 * (q * (1.0 - q) / k).sqrt(),
            "reset {reset}"
        );
    }

    /// A run stops at the threshold (the chain takes over): with q = 0.5 and
    /// threshold 3, P(len = 1) = 1 - q = 0.5, P(len = 2) = q (1 - q) = 0.25,
    /// P(len = 3) = q^2 = 0.25 (runs that would go on are cut at 3). 40,000
    /// runs: 4 SE = 4 sqrt(0.25 x 0.75 / 40000) = 0.0087 (3.5% of 0.25).
    #[test]
    fn run_lengths_are_geometric_cut_at_the_threshold() {
        let q = 0.5;
        let mut runs = FailRuns::new(q);
        let mut r = rng(8);
        let mut counts = [0u64; 4];
        let mut from = 0;
        let n = 40_000;
        for _ in 0..n {
            let run = runs.draw(&mut r, from, 3).unwrap();
            assert!((1..=3).contains(&run.len));
            counts[run.len as usize] += 1;
            from = run.first + run.len as u64 + 1;
        }
        for (len, p) in [(1, 0.5), (2, 0.25), (3, 0.25)] {
            let f = counts[len] as f64 / n as f64;
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!(
                (f - p).abs() <= 4.0 * se,
                "P(len = {len}) = {f}, expected {p}"
            );
        }
    }

    /// The next false alarm is the first run of `threshold` consecutive
    /// failures. For iid checks failing with probability q, the number of
    /// checks N until T consecutive failures has E[N] = (1 - q^T)/((1-q) q^T)
    /// and Var[N] = (1 - (2T+1)(1-q) q^T - q^(2T+1)) / ((1-q)^2 q^(2T)); the
    /// run starts at index N - T. q = 0.5, T = 3: E = 14 - 3 = 11 checks from
    /// `from`, sd 11.9; 20,000 trials: 4 SE = 0.34 (3% of 11). A limit at or
    /// before the start gives `None`. A 5% error (0.55) fails; so does an
    /// alarm on a run of T - 1 (E = 6 - 2 = 4).
    #[test]
    fn next_alarm_is_the_first_run_of_threshold_failures() {
        let (q, t) = (0.5f64, 3i32);
        let en = (1.0 - q.powi(t)) / ((1.0 - q) * q.powi(t));
        let var = (1.0 - (2 * t + 1) as f64 * (1.0 - q) * q.powi(t) - q.powi(2 * t + 1))
            / ((1.0 - q).powi(2) * q.powi(2 * t));
        assert!((en - 14.0).abs() < 1e-12);
        let mut r = rng(9);
        let trials = 20_000;
        let from = 100;
        let mut sum = 0.0;
        for _ in 0..trials {
            let mut runs = FailRuns::new(q);
            let at = runs
                .next_alarm(&mut r, from, u64::MAX, t as u32)
                .expect("a run of 3 comes");
            assert!(at >= from);
            sum += (at - from) as f64;
        }
        let mean = sum / trials as f64;
        let tol = 4.0 * (var / trials as f64).sqrt();
        assert!(
            (mean - (en - t as f64)).abs() <= tol,
            "alarm after {mean} checks, expected 11 +- {tol}"
        );
        // Drawn runs are kept: asking again with a limit at the alarm finds none.
        let mut runs = FailRuns::new(q);
        let at = runs.next_alarm(&mut r, 0, u64::MAX, 3).unwrap();
        assert_eq!(runs.next_alarm(&mut r, 0, at, 3), None);
        assert_eq!(runs.next_alarm(&mut r, 0, at + 1, 3), Some(at));
        // Checks that never fail draw nothing.
        assert!(FailRuns::new(0.0).draw(&mut r, 0, 3).is_none());
    }
}
