//! `[replication]`: mode, shipping and confirmations.

use crate::model::*;

use super::super::error::FieldPath;
use super::super::raw::*;
use super::checker::Checker;
use super::*;

/// `[replication]`.
pub(super) fn replication(
    c: &mut Checker,
    raw: &RawScenario,
    standbys: &[SiteId],
    aa: bool,
) -> Replication {
    let root = FieldPath::root();
    // Replication.
    let rp = root.key("replication");
    let r = &raw.replication;
    let mode = match r.mode {
        ReplicationModeName::Sync => ReplicationMode::Sync,
        ReplicationModeName::Async => ReplicationMode::Async,
        ReplicationModeName::SemiSync => match r.acks {
            Some(k) if k >= 1 && (k as usize) <= standbys.len().max(1) => {
                ReplicationMode::SemiSync { acks: k }
            }
            Some(k) => {
                c.fail(
                    rp.key("acks"),
                    format!(
                        "must be between 1 and the number of standbys ({}), got {k}",
                        standbys.len()
                    ),
                );
                ReplicationMode::SemiSync { acks: 1 }
            }
            None => {
                c.fail(
                    rp.clone(),
                    "mode = \"semi-sync\" needs `acks`: how many standbys must confirm a write",
                );
                ReplicationMode::SemiSync { acks: 1 }
            }
        },
    };
    if r.acks.is_some() && r.mode != ReplicationModeName::SemiSync {
        c.fail(rp.key("acks"), "acks applies only to mode = \"semi-sync\"");
    }
    let shipping = match (r.mode, r.shipping.unwrap_or(ShippingName::Continuous)) {
        (ReplicationModeName::Async, ShippingName::Periodic) => match r.interval {
            Some(iv) => Shipping::Periodic {
                interval: c.positive(rp.key("interval"), iv),
            },
            None => {
                c.fail(
                    rp.clone(),
                    "shipping = \"periodic\" needs `interval`, e.g. interval = \"1s\"",
                );
                Shipping::Continuous
            }
        },
        (_, ShippingName::Periodic) => {
            c.fail(rp.key("shipping"), "periodic shipping applies only to mode = \"async\"; sync and semi-sync ship each write");
            Shipping::Continuous
        }
        (_, ShippingName::Continuous) => {
            if r.interval.is_some() {
                c.fail(
                    rp.key("interval"),
                    "interval applies only to shipping = \"periodic\"",
                );
            }
            Shipping::Continuous
        }
    };
    if r.ack_size.is_some() && r.mode == ReplicationModeName::Async {
        c.fail(
            rp.key("ack_size"),
            "ack_size applies only to sync and semi-sync (async sends no confirmations)",
        );
    }
    if aa && r.mode == ReplicationModeName::SemiSync {
        c.fail(
            rp.key("mode"),
            "semi-sync applies to active-passive; active-active and hybrid replicate async, or sync among the active sites of one region",
        );
    }
    if aa && r.shipping == Some(ShippingName::Periodic) {
        c.fail(rp.key("shipping"), "active-active and hybrid ship each write as it commits; periodic shipping applies to active-passive");
    }
    let ack_size_bytes = r.ack_size.map_or(DEFAULT_ACK_SIZE_B, |s| s.0);
    Replication {
        mode,
        shipping,
        ack_size_bytes,
    }
}
