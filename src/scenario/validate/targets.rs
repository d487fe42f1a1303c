//! `[[targets]]`, `[alerts]`, `[cost]` and `[sweep]`: what a study measures against.

use crate::model::{self, *};

use super::super::error::FieldPath;
use super::super::raw::*;
use super::super::units::Duration;
use super::checker::Checker;

/// `[[targets]]`.
pub(super) fn targets(c: &mut Checker, raw: &RawScenario) -> Vec<Target> {
    let root = FieldPath::root();
    // Targets and cost.
    let mut targets = Vec::new();
    for (i, t) in raw.targets.iter().enumerate() {
        let p = root.key("targets").index(i);
        if !crate::metrics::row::METRIC_NAMES.contains(&t.metric.as_str()) {
            c.fail(
                p.key("metric"),
                format!(
                    "unknown metric \"{}\"; metrics are the runs.csv columns: {}",
                    t.metric,
                    crate::metrics::row::METRIC_NAMES.join(", ")
                ),
            );
        }
        if !(t.probability > 0.0 && t.probability <= 1.0) {
            c.fail(
                p.key("probability"),
                format!("must be in (0, 1], got {}", t.probability),
            );
        }
        let value = |c: &mut Checker, field: &str, th: &Threshold| -> f64 {
            match th {
                Threshold::Number(v) => *v,
                Threshold::Text(s) => {
                    let scale = if t.metric.ends_with("_ms") { 1e3 } else { 1.0 };
                    if !(t.metric.ends_with("_s") || t.metric.ends_with("_ms")) {
                        c.fail(
                            p.key(field),
                            format!("{} is not a time; give a plain number", t.metric),
                        );
                        return 0.0;
                    }
                    super::super::units::parse_duration(s)
                        .map(|v| v * scale)
                        .unwrap_or_else(|e| {
                            c.fail(p.key(field), e);
                            0.0
                        })
                }
            }
        };
        let (bound, op, v) = match (&t.max, &t.min) {
            (Some(m), None) => {
                let v = value(c, "max", m);
                (Bound::AtMost(v), "<=", v)
            }
            (None, Some(m)) => {
                let v = value(c, "min", m);
                (Bound::AtLeast(v), ">=", v)
            }
            _ => {
                c.fail(
                    p.clone(),
                    "give exactly one of `max` (metric <= max) or `min` (metric >= min)",
                );
                (Bound::AtMost(0.0), "<=", 0.0)
            }
        };
        let label = format!("{} {op} {v} with probability {}", t.metric, t.probability);
        targets.push(Target {
            metric: t.metric.clone(),
            bound,
            probability: t.probability,
            label,
        });
    }
    targets
}

/// `[alerts]`: on by default for active-passive.
pub(super) fn alerts(c: &mut Checker, raw: &RawScenario, aa: bool) -> Option<model::Alerts> {
    let root = FieldPath::root();
    let ak = root.key("alerts");
    let raw_alerts = raw.alerts.as_ref();

    if raw_alerts.and_then(|a| a.enabled) == Some(false) || aa {
        if aa && raw_alerts.is_some() {
            c.fail(
                ak.clone(),
                "alerts apply to architecture = \"active-passive\" only so far; remove [alerts]",
            );
        }
        None
    } else {
        let a = raw_alerts.cloned().unwrap_or_default();
        Some(model::Alerts {
            interval: c.positive(ak.key("interval"), a.interval.unwrap_or(Duration(60.0))),
            replication_lag: c.positive(
                ak.key("replication_lag"),
                a.replication_lag.unwrap_or(Duration(30.0)),
            ),
            link_latency: c.positive(
                ak.key("link_latency"),
                a.link_latency.unwrap_or(Duration(0.1)),
            ),
            packet_loss: c.probability(ak.key("packet_loss"), a.packet_loss.unwrap_or(0.01), false),
            error_rate: c.probability(ak.key("error_rate"), a.error_rate.unwrap_or(0.05), false),
        })
    }
}

/// `[cost]`.
pub(super) fn cost(c: &mut Checker, raw: &RawScenario) -> Option<Cost> {
    let root = FieldPath::root();

    raw.cost.as_ref().map(|k| {
        let p = root.key("cost");
        for (field, v) in [
            ("primary_site_monthly", k.primary_site_monthly),
            ("standby_site_monthly", k.standby_site_monthly),
            ("inter_region_per_gb", k.inter_region_per_gb),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                c.fail(
                    p.key(field),
                    format!("must be a non-negative amount, got {v}"),
                );
            }
        }
        Cost {
            primary_site_monthly: k.primary_site_monthly,
            standby_site_monthly: k.standby_site_monthly,
            inter_region_per_gb: k.inter_region_per_gb,
        }
    })
}

/// `[sweep]`.
pub(super) fn sweep(c: &mut Checker, raw: &RawScenario) -> Vec<crate::sweep::Param> {
    let root = FieldPath::root();
    let mut sweep = Vec::new();
    if let Some(sw) = &raw.sweep {
        if sw.params.is_empty() {
            c.fail(root.key("sweep").key("params"), "list at least one parameter, e.g. { path = \"replication.interval\", values = \"0.5s,1s,2s\" }");
        }
        for (i, p) in sw.params.iter().enumerate() {
            match crate::sweep::parse_values(&p.path, &p.values) {
                Ok(param) => sweep.push(param),
                Err(e) => c.fail(root.key("sweep").key("params").index(i).key("values"), e.0),
            }
        }
        if let Err(e) = crate::sweep::grid(&sweep) {
            c.fail(root.key("sweep"), e.0);
        }
    }
    sweep
}
