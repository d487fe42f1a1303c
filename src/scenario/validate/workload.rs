//! `[workload]` and its `[[workload.clients]]` groups.

use crate::base::time::SimDuration;
use crate::model::*;

use super::super::error::FieldPath;
use super::super::raw::*;
use super::super::units::Duration;
use super::checker::Checker;
use super::*;

/// `[workload]`.
pub(super) fn workload(
    c: &mut Checker,
    raw: &RawScenario,
    regions: &[String],
    datacenters: &[Datacenter],
) -> Workload {
    let root = FieldPath::root();
    // Workload.
    let wl = root.key("workload");
    let rate = raw.workload.rate.0;
    if !(rate > 0.0 && rate.is_finite()) {
        c.fail(
            wl.key("rate"),
            format!("must be greater than zero, got {rate}/s"),
        );
    }
    let write_size = match &raw.workload.write_size {
        Some(spec) => c.size_dist(wl.key("write_size"), spec),
        None => Dist::Constant(DEFAULT_WRITE_SIZE_B),
    };
    // Resyncs and aggregate periods size writes by their mean.
    if !write_size.mean().is_finite() {
        c.fail(
            wl.key("write_size"),
            "the write size needs a finite mean (a pareto shape above 1)",
        );
    }
    if raw.workload.clients.is_empty() {
        c.fail(
            wl.key("clients"),
            "at least one [[workload.clients]] group is required",
        );
    }
    let mut clients = Vec::new();
    for (i, g) in raw.workload.clients.iter().enumerate() {
        let p = wl.key("clients").index(i);
        let (lat, lon) = match (g.lat, g.lon) {
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) {
                    c.fail(
                        p.key("lat"),
                        format!("latitude must be in [-90, 90], got {lat}"),
                    );
                }
                if !(-180.0..=180.0).contains(&lon) {
                    c.fail(
                        p.key("lon"),
                        format!("longitude must be in [-180, 180], got {lon}"),
                    );
                }
                (lat, lon)
            }
            (None, None) => {
                let in_region: Vec<&Datacenter> = datacenters
                    .iter()
                    .filter(|d| regions[d.region] == g.region)
                    .collect();
                if in_region.is_empty() {
                    c.fail(p.key("region"), format!(
                        "region \"{}\" has no datacenter, so its location is unknown; give lat and lon, or use one of: {}",
                        g.region, regions.join(", ")));
                    (0.0, 0.0)
                } else {
                    let k = in_region.len() as f64;
                    (
                        in_region.iter().map(|d| d.lat).sum::<f64>() / k,
                        in_region.iter().map(|d| d.lon).sum::<f64>() / k,
                    )
                }
            }
            _ => {
                c.fail(p.clone(), "give both lat and lon, or neither (the region's datacenters then locate the clients)");
                (0.0, 0.0)
            }
        };
        let share = g.share.unwrap_or(1.0);
        if !(share >= 0.0 && share.is_finite()) {
            c.fail(
                p.key("share"),
                format!("must be a non-negative weight, got {share}"),
            );
        }
        let count = g.count.unwrap_or(DEFAULT_CLIENTS_PER_GROUP);
        if count == 0 {
            c.fail(p.key("count"), "must be at least 1");
        }
        let access_rtt = c.non_negative(
            p.key("access_rtt"),
            g.access_rtt.unwrap_or(Duration(DEFAULT_ACCESS_RTT_S)),
        );
        clients.push(ClientGroup {
            region: g.region.clone(),
            lat,
            lon,
            share: share.max(0.0),
            count: count.max(1),
            access_rtt,
        });
    }
    let total_share: f64 = clients.iter().map(|g| g.share).sum();
    if !clients.is_empty() && total_share <= 0.0 {
        c.fail(
            wl.key("clients"),
            "the client shares are all zero; at least one group must issue writes",
        );
    } else {
        for g in &mut clients {
            g.share /= total_share;
        }
    }
    Workload {
        writes_per_s: rate,
        write_size,
        clients,
        max_queue_wait: overload(c, raw),
    }
}

/// The overload policy of every site with a `capacity`: `[workload]
/// overload` and `max_queue_wait`. Active-active files may still set them in
/// `[active_active]` (where they were first), with the same meaning; once.
fn overload(c: &mut Checker, raw: &RawScenario) -> Option<SimDuration> {
    let root = FieldPath::root();
    let w = &raw.workload;
    let aa = raw
        .active_active
        .as_ref()
        .filter(|a| a.overload.is_some() || a.max_queue_wait.is_some());
    let (table, overload, wait) = match aa {
        Some(a) => {
            if w.overload.is_some() || w.max_queue_wait.is_some() {
                c.fail(
                    root.key("active_active").key("overload"),
                    "the overload policy is set twice: keep it in [workload] (overload, max_queue_wait), which applies to every architecture",
                );
            }
            (root.key("active_active"), a.overload, a.max_queue_wait)
        }
        None => (root.key("workload"), w.overload, w.max_queue_wait),
    };
    match (overload.unwrap_or(OverloadName::Shed), wait) {
        (OverloadName::Queue, Some(d)) => Some(c.positive(table.key("max_queue_wait"), d)),
        (OverloadName::Queue, None) => Some(SimDuration::from_secs(2)),
        (OverloadName::Shed, Some(_)) => {
            c.fail(
                table.key("max_queue_wait"),
                "max_queue_wait applies only to overload = \"queue\"",
            );
            None
        }
        (OverloadName::Shed, None) => None,
    }
}
