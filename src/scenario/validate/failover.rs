//! `[failover]` and its health-check, drain and DNS tables.

use crate::model::{self, *};

use super::super::error::FieldPath;
use super::super::raw::*;
use super::super::units::Duration;
use super::checker::Checker;
use super::*;

/// `[failover]`; `None` when no monitor could be placed (reported already).
pub(super) fn failover(
    c: &mut Checker,
    raw: &RawScenario,
    datacenters: &[Datacenter],
    sites: &super::topology::Sites,
    aa: bool,
    hybrid: bool,
) -> Option<Failover> {
    let root = FieldPath::root();
    let (primary, standbys, active) = (sites.primary, &sites.standbys, &sites.active);
    // Failover.
    let fp = root.key("failover");
    let f = &raw.failover;
    let operator_delay = match (f.mode, &f.operator_delay) {
        (FailoverModeName::Manual, Some(d)) => Some(c.duration_dist(fp.key("operator_delay"), d)),
        (FailoverModeName::Manual, None) => {
            c.fail(fp.clone(), "mode = \"manual\" needs `operator_delay`: how long an operator takes to act, e.g. \"10m\"");
            None
        }
        (FailoverModeName::Automatic, Some(_)) => {
            c.fail(
                fp.key("operator_delay"),
                "operator_delay applies only to mode = \"manual\"",
            );
            None
        }
        (FailoverModeName::Automatic, None) => None,
    };
    let monitors: Vec<SiteId> = match (&f.monitor, &f.monitors) {
        (Some(_), Some(_)) => {
            c.fail(
                fp.key("monitors"),
                "give either `monitor` (one site) or `monitors` (a list), not both",
            );
            Vec::new()
        }
        (Some(m), None) => c
            .site(fp.key("monitor"), m, datacenters)
            .into_iter()
            .collect(),
        (None, Some(list)) => {
            if list.is_empty() {
                c.fail(fp.key("monitors"), "list at least one datacenter");
            }
            list.iter()
                .enumerate()
                .filter_map(|(i, m)| c.site(fp.key("monitors").index(i), m, datacenters))
                .collect()
        }
        // The region-failover manager must outlive the active region.
        (None, None) if hybrid => standbys.iter().chain(active).copied().collect(),
        (None, None) if aa => active.clone(),
        (None, None) => standbys.clone(),
    };
    let monitor = monitors.first().copied();
    if !aa && monitor.is_some() && monitor == primary {
        c.fail(
            fp.key(if f.monitors.is_some() { "monitors" } else { "monitor" }),
            "the (first) monitor must not run in the primary's datacenter: an outage there would take the monitor down too and nothing would fail over; use a standby or a third (witness) datacenter",
        );
    }
    if aa {
        // Active-active promotes no standby (the load balancer moves clients
        // to the other active sites); hybrid fences its region by taking it
        // out of rotation and needs no rejoin. These keys would do nothing.
        let set = [
            ("promotion", !hybrid && f.promotion.is_some()),
            (
                "drain",
                !hybrid && (f.drain.wait.is_some() || f.drain.timeout.is_some()),
            ),
            ("fencing", f.fencing.is_some()),
            ("witness", f.witness.is_some()),
            ("rejoin", f.rejoin.is_some()),
        ];
        let design = if hybrid { "hybrid" } else { "active-active" };
        let why = if hybrid {
            "the active region leaves rotation as a whole and returns through failback"
        } else {
            "no standby is promoted: the load balancer moves clients to the other active sites"
        };
        for (key, given) in set {
            if given {
                c.fail(
                    fp.key(key),
                    format!("{key} has no effect in {design} ({why}); remove it"),
                );
            }
        }
        if f.mode == FailoverModeName::Manual && !hybrid {
            c.fail(
                fp.key("mode"),
                "active-active fails over by routing, with no operator step: use mode = \"automatic\"",
            );
        }
    }
    let fencing = match (f.fencing.unwrap_or(FencingName::Stonith), &f.witness) {
        (FencingName::QuorumWitness, Some(w)) => match c.site(fp.key("witness"), w, datacenters) {
            Some(w) if Some(w) == primary => {
                c.fail(
                    fp.key("witness"),
                    "the witness must not be the primary's datacenter",
                );
                model::Fencing::Stonith
            }
            Some(w) => model::Fencing::QuorumWitness { witness: w },
            None => model::Fencing::Stonith,
        },
        (FencingName::QuorumWitness, None) => {
            c.fail(
                fp.clone(),
                "fencing = \"quorum-witness\" needs `witness`, a datacenter in a third site",
            );
            model::Fencing::Stonith
        }
        (_, Some(_)) => {
            c.fail(
                fp.key("witness"),
                "witness applies only to fencing = \"quorum-witness\"",
            );
            model::Fencing::Stonith
        }
        (FencingName::Stonith, None) => model::Fencing::Stonith,
        (FencingName::None, None) => model::Fencing::None,
    };
    let hp = fp.key("health_check");
    let interval = c.positive(hp.key("interval"), f.health_check.interval);
    let timeout = c.positive(hp.key("timeout"), f.health_check.timeout);
    if timeout > interval {
        c.fail(
            hp.key("timeout"),
            "must not exceed the interval (one check at a time)",
        );
    }
    if f.health_check.threshold == 0 {
        c.fail(
            hp.key("threshold"),
            "must be at least 1 consecutive failed check",
        );
    }
    let fp = root.key("failover");
    let failback = match (f.failback.unwrap_or(false), f.failback_delay) {
        (false, Some(_)) => {
            c.fail(
                fp.key("failback_delay"),
                "applies only with failback = true",
            );
            None
        }
        (false, None) => None,
        (true, delay) => {
            if f.rejoin == Some(false) {
                c.fail(
                    fp.key("failback"),
                    "failback needs the old primary to rejoin first; remove rejoin = false",
                );
            }
            if aa && !hybrid {
                c.fail(
                    fp.key("failback"),
                    "failback applies to active-passive and hybrid designs (active-active sites rejoin the load balancer on their own); remove it",
                );
            }
            Some(c.non_negative(
                fp.key("failback_delay"),
                delay.unwrap_or(Duration(DEFAULT_FAILBACK_DELAY_S)),
            ))
        }
    };
    let drain_timeout = match (f.drain.wait.unwrap_or(true), f.drain.timeout) {
        (false, Some(_)) => {
            c.fail(
                fp.key("drain").key("timeout"),
                "timeout applies only when wait = true",
            );
            None
        }
        (false, None) => None,
        (true, t) => Some(c.positive(
            fp.key("drain").key("timeout"),
            t.unwrap_or(Duration(DEFAULT_DRAIN_TIMEOUT_S)),
        )),
    };
    let promotion = match &f.promotion {
        Some(d) => c.duration_dist(fp.key("promotion"), d),
        None => Dist::Constant(DEFAULT_PROMOTION_S),
    };
    let dp = fp.key("dns");
    let ttl = c.non_negative(dp.key("ttl"), f.dns.ttl);
    let update_delay = match &f.dns.update_delay {
        Some(d) => c.duration_dist(dp.key("update_delay"), d),
        None => Dist::Constant(0.0),
    };
    let stale_client_fraction = c.probability(
        dp.key("stale_client_fraction"),
        f.dns.stale_client_fraction.unwrap_or(0.0),
        false,
    );
    let stale_client_delay = c.non_negative(
        dp.key("stale_client_delay"),
        f.dns
            .stale_client_delay
            .unwrap_or(Duration(DEFAULT_STALE_CLIENT_DELAY_S)),
    );
    let monitor = monitor?;
    Some(Failover {
        operator_delay,
        monitor,
        monitors,
        health_check: HealthCheck {
            interval,
            timeout,
            threshold: f.health_check.threshold,
        },
        drain_timeout,
        promotion,
        rejoin: f.rejoin.unwrap_or(true),
        failback,
        fencing,
        dns: Dns {
            ttl,
            update_delay,
            stale_client_fraction,
            stale_client_delay,
        },
    })
}
