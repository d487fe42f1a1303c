//! `[active_active]`: routing weights, keys, overload and conflicts.

use crate::model::*;

use super::super::error::FieldPath;
use super::super::raw::*;
use super::checker::Checker;

/// `[active_active]`: only for active-active and hybrid designs.
pub(super) fn active_active(c: &mut Checker, raw: &RawScenario, aa: bool) -> Option<ActiveActive> {
    let root = FieldPath::root();
    // Active-active behaviour.
    let ap = root.key("active_active");

    if aa {
        let default = RawActiveActive::default();
        let a = raw.active_active.as_ref().unwrap_or(&default);
        let r = a.routing.as_ref();
        let w = |field: &str, v: Option<f64>, default: f64, c: &mut Checker| {
            let v = v.unwrap_or(default);
            if !(v >= 0.0 && v.is_finite()) {
                c.fail(
                    ap.key("routing").key(field),
                    format!("must be a non-negative weight, got {v}"),
                );
            }
            v
        };
        // The reference design's GlobalLoadBalancer weighs 0.5 / 0.3 / 0.2.
        let distance_weight = w("distance_weight", r.and_then(|r| r.distance_weight), 0.5, c);
        let load_weight = w("load_weight", r.and_then(|r| r.load_weight), 0.3, c);
        let latency_weight = w("latency_weight", r.and_then(|r| r.latency_weight), 0.2, c);
        if distance_weight + load_weight + latency_weight <= 0.0 {
            c.fail(
                ap.key("routing"),
                "the routing weights are all zero; give at least one a positive weight",
            );
        }
        let keys = match &a.keys {
            None => KeySpace {
                count: 1_000_000,
                zipf_exponent: None,
            },
            Some(k) => {
                let kp = ap.key("keys");
                if k.count == 0 || k.count > 100_000_000 {
                    c.fail(
                        kp.key("count"),
                        format!("must be between 1 and 100000000 keys, got {}", k.count),
                    );
                }
                let zipf = match (k.distribution.unwrap_or(KeyDistName::Uniform), k.exponent) {
                    (KeyDistName::Zipf, Some(s)) if s > 0.0 && s.is_finite() => Some(s),
                    (KeyDistName::Zipf, Some(s)) => {
                        c.fail(
                            kp.key("exponent"),
                            format!("must be greater than zero, got {s}"),
                        );
                        None
                    }
                    (KeyDistName::Zipf, None) => {
                        c.fail(
                            kp.clone(),
                            "distribution = \"zipf\" needs `exponent`, e.g. 1.1",
                        );
                        None
                    }
                    (KeyDistName::Uniform, Some(_)) => {
                        c.fail(
                            kp.key("exponent"),
                            "exponent applies only to distribution = \"zipf\"",
                        );
                        None
                    }
                    (KeyDistName::Uniform, None) => None,
                };
                KeySpace {
                    count: k.count.max(1),
                    zipf_exponent: zipf,
                }
            }
        };
        Some(ActiveActive {
            distance_weight,
            load_weight,
            latency_weight,
            anycast: r.and_then(|r| r.updates) == Some(RouteUpdatesName::Anycast),
            conflict: match a
                .conflict_resolution
                .unwrap_or(ConflictName::LastWriterWins)
            {
                ConflictName::LastWriterWins => ConflictPolicy::LastWriterWins,
                ConflictName::VersionVectors => ConflictPolicy::VersionVectors,
            },
            keys,
            sessions_replicated: a.sessions_replicated.unwrap_or(false),
        })
    } else {
        if raw.active_active.is_some() {
            c.fail(
                ap,
                "[active_active] applies only to architecture = \"active-active\"",
            );
        }
        None
    }
}
