//! `[network]` and `[[links]]`: one path per pair of sites, backup paths after them.

use crate::base::time::SimDuration;
use crate::model::{self, *};

use super::super::error::FieldPath;
use super::super::raw::*;
use super::super::units::Duration;
use super::checker::Checker;
use super::*;

/// The most transmission attempts of one message (`max_attempts`).
const MAX_ATTEMPTS: u32 = 32;

/// The links of a scenario and how pairs and paths index them.
pub(super) struct Network {
    pub links: Vec<Link>,
    pub link_between: Vec<Vec<usize>>,
    pub paths: Vec<Vec<usize>>,
    pub path_group: Vec<usize>,
    pub path_switch_delay: SimDuration,
    pub path_health_threshold: f64,
    pub delay_s_per_km: f64,
}

/// `[network]` and `[[links]]`.
pub(super) fn network(
    c: &mut Checker,
    raw: &RawScenario,
    datacenters: &[Datacenter],
    aa: bool,
) -> Network {
    let root = FieldPath::root();
    // Network: every pair gets a link; [[links]] override the defaults per pair.
    let net = root.key("network");
    let fibre_us_per_km = raw
        .network
        .fibre_us_per_km
        .unwrap_or(DEFAULT_FIBRE_US_PER_KM);
    // Light in fibre takes about 5 us/km; 1,000 us/km is already absurd.
    if !(fibre_us_per_km > 0.0 && fibre_us_per_km <= 1_000.0) {
        c.fail(
            net.key("fibre_us_per_km"),
            format!("must be in (0, 1000] microseconds per km (light in fibre: about 5), got {fibre_us_per_km}"),
        );
    }
    let inflation = raw
        .network
        .route_inflation
        .unwrap_or(DEFAULT_ROUTE_INFLATION);
    if !(1.0..=10.0).contains(&inflation) {
        c.fail(net.key("route_inflation"), format!("must be in [1, 10] (a route is never shorter than the great circle), got {inflation}"));
    }
    if raw.network.default_link.between.is_some() {
        c.fail(
            net.key("default_link").key("between"),
            "default_link applies to every pair; name pairs in [[links]] instead",
        );
    }
    let n = datacenters.len();
    let mut overrides: Vec<Vec<Option<usize>>> = vec![vec![None; n]; n];
    for (i, l) in raw.links.iter().enumerate() {
        let p = root.key("links").index(i);
        let Some(between) = &l.between else {
            c.fail(p.clone(), "missing field `between`: name the two datacenters, e.g. between = [\"us-east-1\", \"eu-west-1\"]");
            continue;
        };
        if between.len() != 2 {
            c.fail(
                p.key("between"),
                format!("must name exactly two datacenters, got {}", between.len()),
            );
            continue;
        }
        let a = c.site(p.key("between").index(0), &between[0], datacenters);
        let b = c.site(p.key("between").index(1), &between[1], datacenters);
        if let (Some(a), Some(b)) = (a, b) {
            if a == b {
                c.fail(
                    p.key("between"),
                    "a link must join two different datacenters",
                );
            } else if overrides[a][b].is_some() {
                c.fail(
                    p.key("between"),
                    format!(
                        "a link between \"{}\" and \"{}\" is already defined",
                        between[0], between[1]
                    ),
                );
            } else {
                overrides[a][b] = Some(i);
                overrides[b][a] = Some(i);
            }
        }
    }
    let mut links = Vec::new();
    let mut link_between = vec![vec![usize::MAX; n]; n];
    // Backup paths, numbered after every primary path: (primary id, params, path).
    let mut backups: Vec<(usize, SiteId, SiteId, &RawLinkParams, FieldPath)> = Vec::new();
    for a in 0..n {
        for b in a + 1..n {
            let (params, path) = match overrides[a][b] {
                Some(i) => (&raw.links[i], root.key("links").index(i)),
                None => (&raw.network.default_link, net.key("default_link")),
            };
            let id = links.len();
            link_between[a][b] = id;
            link_between[b][a] = id;
            let link = resolve_link(
                c,
                &raw.network,
                datacenters,
                (a, b),
                params,
                &path,
                inflation,
                fibre_us_per_km,
            );
            links.push(link);
            for (k, bp) in params.backup.iter().enumerate() {
                backups.push((id, a, b, bp, path.key("backup").index(k)));
            }
        }
    }
    if raw.network.default_link.name.is_some() {
        c.fail(
            net.key("default_link").key("name"),
            "paths are named in [[links]] entries and their backups",
        );
    }
    if !raw.network.default_link.backup.is_empty() {
        c.fail(
            net.key("default_link").key("backup"),
            "backup paths belong to one pair: give them in a [[links]] entry",
        );
    }
    let mut paths: Vec<Vec<usize>> = (0..links.len()).map(|l| vec![l]).collect();
    let mut path_group: Vec<usize> = (0..links.len()).collect();
    for (group, a, b, bp, path) in backups {
        if bp.between.is_some() {
            c.fail(
                path.key("between"),
                "a backup path joins the datacenters of its [[links]] entry; remove `between`",
            );
        }
        if !bp.backup.is_empty() {
            c.fail(path.key("backup"), "backup paths do not nest");
        }
        let name = bp.name.clone().unwrap_or_default();
        if name.trim().is_empty() {
            c.fail(
                path.key("name"),
                "a backup path needs a `name` (e.g. the provider), used to target its failures",
            );
        } else if paths[group].iter().any(|&l| links[l].name == name) {
            c.fail(
                path.key("name"),
                format!("\"{name}\" already names a path of this pair"),
            );
        }
        let mut link = resolve_link(
            c,
            &raw.network,
            datacenters,
            (a, b),
            bp,
            &path,
            inflation,
            fibre_us_per_km,
        );
        link.name = name;
        paths[group].push(links.len());
        path_group.push(group);
        links.push(link);
    }
    if aa && paths.iter().any(|p| p.len() > 1) {
        c.fail(
            root.key("links"),
            "backup paths apply to architecture = \"active-passive\" only so far",
        );
    }
    let path_switch_delay = c.non_negative(
        net.key("path_switch_delay"),
        raw.network
            .path_switch_delay
            .unwrap_or(Duration(DEFAULT_PATH_SWITCH_DELAY_S)),
    );
    let path_health_threshold = raw.network.path_health_threshold.unwrap_or(0.7);
    if !(0.0..1.0).contains(&path_health_threshold) {
        c.fail(
            net.key("path_health_threshold"),
            format!("must be a score in [0, 1), got {path_health_threshold}"),
        );
    }
    Network {
        links,
        link_between,
        paths,
        path_group,
        path_switch_delay,
        path_health_threshold,
        delay_s_per_km: fibre_us_per_km * 1e-6 * inflation,
    }
}

/// The default per-write window of horizon runs: long enough for replication
/// to reach its steady state before a failure (a few shipping intervals plus
/// the slowest delivery with every retransmission), and at least a minute.
pub(super) fn default_window(links: &[model::Link], shipping: &Shipping) -> SimDuration {
    let interval = match shipping {
        Shipping::Periodic { interval } => interval.as_secs_f64(),
        Shipping::Continuous => 0.0,
    };
    let slowest = links
        .iter()
        .map(|l| {
            let retries: f64 = (0..l.max_attempts.saturating_sub(1))
                .map(|i| l.retransmit_timeout.as_secs_f64() * 2f64.powi(i as i32))
                .sum();
            l.latency.as_secs_f64() + retries
        })
        .fold(0.0, f64::max);
    SimDuration::from_secs_f64((2.0 * (interval + slowest)).max(60.0))
}

/// One path's settings: its own field, else `network.default_link`'s, else
/// the built-in default (latency from the great-circle distance). Problems
/// are reported where the value is written.
#[allow(clippy::too_many_arguments)]
pub(super) fn resolve_link(
    c: &mut Checker,
    network: &RawNetwork,
    datacenters: &[Datacenter],
    (a, b): (SiteId, SiteId),
    params: &RawLinkParams,
    path: &FieldPath,
    inflation: f64,
    fibre_us_per_km: f64,
) -> Link {
    let d = &network.default_link;
    // Report a bad value where it is written: the [[links]] entry, or default_link.
    let dpath = FieldPath::root().key("network").key("default_link");
    let at = |field: &str, here: bool| {
        if here {
            path.key(field)
        } else {
            dpath.key(field)
        }
    };
    let km = model::great_circle_km(
        datacenters[a].lat,
        datacenters[a].lon,
        datacenters[b].lat,
        datacenters[b].lon,
    );
    let latency = match params.latency.or(d.latency) {
        Some(l) => c.non_negative(at("latency", params.latency.is_some()), l),
        None => SimDuration::from_secs_f64(km * inflation * fibre_us_per_km * 1e-6),
    };
    let jitter = params
        .jitter
        .as_ref()
        .or(d.jitter.as_ref())
        .map(|j| c.duration_dist(at("jitter", params.jitter.is_some()), j));
    let loss = c.probability(
        at("loss", params.loss.is_some()),
        params.loss.or(d.loss).unwrap_or(0.0),
        true,
    );
    let bandwidth_bps = params.bandwidth.or(d.bandwidth).map(|b| {
        if !(b.0 > 0.0 && b.0.is_finite()) {
            c.fail(
                at("bandwidth", params.bandwidth.is_some()),
                format!("must be greater than zero, got {} bps", b.0),
            );
        }
        b.0
    });
    let rto = params
        .retransmit_timeout
        .or(d.retransmit_timeout)
        .unwrap_or(Duration(DEFAULT_RETRANSMIT_TIMEOUT_S));
    let retransmit_timeout = c.positive(
        at("retransmit_timeout", params.retransmit_timeout.is_some()),
        rto,
    );
    let max_attempts = params
        .max_attempts
        .or(d.max_attempts)
        .unwrap_or(DEFAULT_MAX_ATTEMPTS);
    // The backoff doubles per attempt: beyond 32 attempts the wait exceeds
    // any horizon, and the default window sums one term per attempt.
    if !(1..=MAX_ATTEMPTS).contains(&max_attempts) {
        c.fail(
            at("max_attempts", params.max_attempts.is_some()),
            format!("must be between 1 and {MAX_ATTEMPTS}, got {max_attempts}"),
        );
    }
    Link {
        a,
        b,
        name: params.name.clone().unwrap_or_else(|| "primary".to_string()),
        latency,
        jitter,
        loss,
        bandwidth_bps,
        retransmit_timeout,
        max_attempts: max_attempts.clamp(1, MAX_ATTEMPTS),
    }
}

/// A link named as `[a, b]` (its primary path) or `[a, b, path name]`.
pub(super) fn named_link(
    c: &mut Checker,
    at: &FieldPath,
    pair: &[String],
    datacenters: &[Datacenter],
    link_between: &[Vec<usize>],
    paths: &[Vec<usize>],
    links: &[Link],
) -> Option<usize> {
    if pair.len() != 2 && pair.len() != 3 {
        c.fail(
            at.clone(),
            format!(
                "must name two datacenters (and optionally a path), got {} items",
                pair.len()
            ),
        );
        return None;
    }
    let a = c.site(at.index(0), &pair[0], datacenters)?;
    let b = c.site(at.index(1), &pair[1], datacenters)?;
    if a == b {
        c.fail(at.clone(), "a link joins two different datacenters");
        return None;
    }
    let group = link_between[a][b];
    let Some(name) = pair.get(2) else {
        return Some(group);
    };
    let found = paths[group]
        .iter()
        .copied()
        .find(|&l| links[l].name == *name);
    if found.is_none() {
        let known: Vec<&str> = paths[group]
            .iter()
            .map(|&l| links[l].name.as_str())
            .collect();
        c.fail(
            at.index(2),
            format!(
                "unknown path \"{name}\" between {} and {}; its paths: {}",
                pair[0],
                pair[1],
                known.join(", ")
            ),
        );
    }
    found
}
