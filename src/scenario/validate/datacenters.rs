//! `[[datacenters]]` and the regions they name, with the size limits of a scenario.

use crate::model::*;

use super::super::error::FieldPath;
use super::super::raw::*;
use super::checker::Checker;
use super::*;

/// `[[datacenters]]`: the sites, and the regions in order of first mention.
pub(super) fn datacenters(c: &mut Checker, raw: &RawScenario) -> (Vec<String>, Vec<Datacenter>) {
    let root = FieldPath::root();
    // Datacenters and regions.
    let mut regions: Vec<String> = Vec::new();
    let mut datacenters = Vec::new();
    if raw.datacenters.is_empty() {
        c.fail(
            root.key("datacenters"),
            "at least one [[datacenters]] entry is required",
        );
    }
    if raw.datacenters.len() > MAX_DATACENTERS {
        c.fail(
            root.key("datacenters"),
            format!(
                "at most {MAX_DATACENTERS} datacenters are supported, got {}",
                raw.datacenters.len()
            ),
        );
    }
    if raw.failures.len() > MAX_FAILURES {
        c.fail(
            root.key("failures"),
            format!(
                "at most {MAX_FAILURES} [[failures]] entries are supported, got {}",
                raw.failures.len()
            ),
        );
    }
    let total_clients: u64 = raw
        .workload
        .clients
        .iter()
        .map(|g| u64::from(g.count.unwrap_or(DEFAULT_CLIENTS_PER_GROUP)))
        .sum();
    if total_clients > MAX_CLIENTS {
        c.fail(
            root.key("workload").key("clients"),
            format!("at most {MAX_CLIENTS} clients in all are supported, got {total_clients}"),
        );
    }
    for (i, d) in raw.datacenters.iter().enumerate() {
        let p = root.key("datacenters").index(i);
        if d.id.trim().is_empty() {
            c.fail(p.key("id"), "must not be empty");
        }
        if raw.datacenters[..i].iter().any(|o| o.id == d.id) {
            c.fail(p.key("id"), format!("duplicate datacenter id \"{}\"", d.id));
        }
        if !(-90.0..=90.0).contains(&d.lat) {
            c.fail(
                p.key("lat"),
                format!("latitude must be in [-90, 90], got {}", d.lat),
            );
        }
        if !(-180.0..=180.0).contains(&d.lon) {
            c.fail(
                p.key("lon"),
                format!("longitude must be in [-180, 180], got {}", d.lon),
            );
        }
        let region = match regions.iter().position(|r| *r == d.region) {
            Some(r) => r,
            None => {
                regions.push(d.region.clone());
                regions.len() - 1
            }
        };
        let dp = root.key("datacenters").index(i);
        let capacity_per_s = d.capacity.map(|r| {
            if !(r.0 > 0.0 && r.0.is_finite()) {
                c.fail(
                    dp.key("capacity"),
                    format!("must be greater than zero, got {}/s", r.0),
                );
            }
            r.0
        });
        let clock_offset_ns = match &d.clock_offset {
            None => 0,
            Some(text) => {
                let (sign, body) = match text.trim().strip_prefix('-') {
                    Some(rest) => (-1.0, rest),
                    None => (1.0, text.trim()),
                };
                match super::super::units::parse_duration(body) {
                    Ok(secs) => (sign * secs * 1e9).round() as i64,
                    Err(e) => {
                        c.fail(
                            dp.key("clock_offset"),
                            format!("{e} (a leading - means behind true time)"),
                        );
                        0
                    }
                }
            }
        };
        let clock_drift_ppm = d.clock_drift_ppm.unwrap_or(0.0);
        if !clock_drift_ppm.is_finite() || clock_drift_ppm.abs() > 1e5 {
            c.fail(
                dp.key("clock_drift_ppm"),
                format!("must be between -100000 and 100000 ppm, got {clock_drift_ppm}"),
            );
        }
        datacenters.push(Datacenter {
            name: d.id.clone(),
            region,
            lat: d.lat,
            lon: d.lon,
            capacity_per_s,
            clock_offset_ns,
            clock_drift_ppm,
        });
    }
    (regions, datacenters)
}
