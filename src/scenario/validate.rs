//! Raw scenario -> validated `model::Scenario`. Every check that can fail on user
//! input lives here and reports the field it concerns; the engine trusts the result.

use crate::model::{
    self, ActiveActive, Bound, ClientGroup, ConflictPolicy, Cost, Datacenter, Dist, Dns, Failover,
    FailureKind, FailureSpec, HealthCheck, HorizonMode, KeySpace, Link, Replication,
    ReplicationMode, Scenario, Shipping, SiteId, Target, Topology, Workload,
};
use crate::sim::time::SimDuration;

use super::error::{FieldPath, Problem};
use super::raw::*;
use super::units::{Duration, Size};

/// Collects problems so that one pass reports everything wrong at once.
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn fail(&mut self, path: FieldPath, message: impl Into<String>) {
        self.problems.push(Problem::new(path, message));
    }

    /// A duration that must be strictly positive.
    fn positive(&mut self, path: FieldPath, d: Duration) -> SimDuration {
        if d.0 <= 0.0 {
            self.fail(path, format!("must be longer than zero, got {}s", d.0));
        }
        SimDuration::from_secs_f64(d.0)
    }

    fn non_negative(&mut self, path: FieldPath, d: Duration) -> SimDuration {
        if d.0 < 0.0 {
            self.fail(path, format!("must not be negative, got {}s", d.0));
        }
        SimDuration::from_secs_f64(d.0)
    }

    fn probability(&mut self, path: FieldPath, p: f64, max_exclusive: bool) -> f64 {
        let ok = p.is_finite() && p >= 0.0 && if max_exclusive { p < 1.0 } else { p <= 1.0 };
        if !ok {
            let range = if max_exclusive { "[0, 1)" } else { "[0, 1]" };
            self.fail(path, format!("must be a probability in {range}, got {p}"));
        }
        p
    }

    fn site(&mut self, path: FieldPath, name: &str, sites: &[Datacenter]) -> Option<SiteId> {
        let found = sites.iter().position(|d| d.name == name);
        if found.is_none() {
            let known: Vec<&str> = sites.iter().map(|d| d.name.as_str()).collect();
            self.fail(
                path,
                format!(
                    "unknown datacenter \"{name}\"; known datacenters: {}",
                    known.join(", ")
                ),
            );
        }
        found
    }

    /// A distribution over seconds, from durations in the file.
    fn duration_dist(&mut self, path: FieldPath, spec: &DistSpec<Duration>) -> Dist {
        self.dist(path, spec, |d| d.0, "s")
    }

    fn size_dist(&mut self, path: FieldPath, spec: &DistSpec<Size>) -> Dist {
        self.dist(path, spec, |s| s.0, "B")
    }

    /// Pareto and Weibull: a positive scale (with a unit) and a positive shape.
    fn scale_shape(
        &mut self,
        path: &FieldPath,
        scale: f64,
        shape: f64,
        build: fn(f64, f64) -> Result<Dist, String>,
    ) -> Dist {
        if !(shape > 0.0 && shape.is_finite()) {
            self.fail(
                path.key("shape"),
                format!("must be a finite number > 0, got {shape}"),
            );
            return Dist::Constant(scale.max(0.0));
        }
        if scale <= 0.0 {
            self.fail(path.key("scale"), "must be greater than zero");
            return Dist::Constant(0.0);
        }
        build(scale, shape).unwrap_or_else(|msg| {
            self.fail(path.clone(), msg);
            Dist::Constant(0.0)
        })
    }

    fn dist<Q: Copy>(
        &mut self,
        path: FieldPath,
        spec: &DistSpec<Q>,
        v: impl Fn(Q) -> f64,
        unit: &str,
    ) -> Dist {
        let nonneg = |c: &mut Checker, field: &str, x: f64| {
            if !(x.is_finite() && x >= 0.0) {
                c.fail(
                    path.key(field),
                    format!("must not be negative, got {x}{unit}"),
                );
            }
        };
        let table = match spec {
            DistSpec::Constant(q) => {
                let x = v(*q);
                if !(x.is_finite() && x >= 0.0) {
                    self.fail(path.clone(), format!("must not be negative, got {x}{unit}"));
                }
                return Dist::Constant(x.max(0.0));
            }
            DistSpec::Table(t) => t,
        };
        let built = match table {
            DistTable::Constant { value } => {
                nonneg(self, "value", v(*value));
                Ok(Dist::Constant(v(*value).max(0.0)))
            }
            DistTable::Uniform { min, max } => {
                let (lo, hi) = (v(*min), v(*max));
                nonneg(self, "min", lo);
                if hi < lo {
                    self.fail(
                        path.key("max"),
                        format!("must be at least min ({lo}{unit}), got {hi}{unit}"),
                    );
                }
                Ok(Dist::Uniform {
                    min: lo,
                    max: hi.max(lo),
                })
            }
            DistTable::Normal { mean, sd } => {
                nonneg(self, "sd", v(*sd));
                Dist::normal(v(*mean), v(*sd).max(0.0))
            }
            DistTable::Lognormal { median, sigma } => {
                if !(*sigma >= 0.0 && sigma.is_finite()) {
                    self.fail(
                        path.key("sigma"),
                        format!("must be a finite number >= 0, got {sigma}"),
                    );
                    return Dist::Constant(v(*median).max(0.0));
                }
                if v(*median) <= 0.0 {
                    self.fail(path.key("median"), "must be greater than zero");
                    return Dist::Constant(0.0);
                }
                Dist::lognormal(v(*median), *sigma)
            }
            DistTable::Pareto { scale, shape } => {
                return self.scale_shape(&path, v(*scale), *shape, Dist::pareto);
            }
            DistTable::Exponential { mean } => {
                if v(*mean) <= 0.0 {
                    self.fail(path.key("mean"), "must be greater than zero");
                    return Dist::Constant(0.0);
                }
                Dist::exponential(v(*mean))
            }
            DistTable::Weibull { scale, shape } => {
                return self.scale_shape(&path, v(*scale), *shape, Dist::weibull);
            }
        };
        built.unwrap_or_else(|msg| {
            self.fail(path, msg);
            Dist::Constant(0.0)
        })
    }
}

const DEFAULT_FIBRE_US_PER_KM: f64 = 5.0;
const DEFAULT_ROUTE_INFLATION: f64 = 1.5;
const DEFAULT_RETRANSMIT_TIMEOUT_S: f64 = 0.2;
const DEFAULT_MAX_ATTEMPTS: u32 = 6;
const DEFAULT_CLIENTS_PER_GROUP: u32 = 100;
const DEFAULT_ACCESS_RTT_S: f64 = 0.002;
const DEFAULT_WRITE_SIZE_B: f64 = 1024.0;
const DEFAULT_ACK_SIZE_B: f64 = 64.0;
const DEFAULT_PROMOTION_S: f64 = 30.0;
const DEFAULT_DRAIN_TIMEOUT_S: f64 = 300.0;
const DEFAULT_STALE_CLIENT_DELAY_S: f64 = 600.0;
const DEFAULT_MAX_EVENTS: u64 = 2_000_000_000;
pub const DEFAULT_RUNS: u32 = 100;
/// Limits that keep ids within the engine's compact event fields and memory bounded.
const MAX_DATACENTERS: usize = 256;
const MAX_RUNS: u32 = 10_000_000;
const MAX_FAILURES: usize = 10_000;
/// Default wait after the original primary's resync before failing back.
const DEFAULT_FAILBACK_DELAY_S: f64 = 300.0;
/// Default time to move traffic to another path (detection plus rerouting).
const DEFAULT_PATH_SWITCH_DELAY_S: f64 = 10.0;
const MAX_CLIENTS: u64 = 1_000_000;
pub const DEFAULT_SEED: u64 = 1;

pub fn validate(raw: &RawScenario, content_hash: String) -> Result<Scenario, Vec<Problem>> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    let root = FieldPath::root();

    if raw.name.trim().is_empty() {
        c.fail(root.key("name"), "must not be empty");
    }
    let architecture = match raw.architecture {
        Architecture::ActivePassive => model::Architecture::ActivePassive,
        Architecture::ActiveActive => model::Architecture::ActiveActive,
        Architecture::Hybrid => model::Architecture::Hybrid,
    };
    let hybrid = architecture == model::Architecture::Hybrid;
    // Hybrid runs the active-active model inside its active region.
    let aa = architecture != model::Architecture::ActivePassive;

    let sim = root.key("simulation");
    let horizon = c.positive(sim.key("duration"), raw.simulation.duration);
    if raw.simulation.runs.is_some_and(|n| n > MAX_RUNS) {
        c.fail(
            sim.key("runs"),
            format!(
                "at most {MAX_RUNS} runs, got {}",
                raw.simulation.runs.unwrap_or(0)
            ),
        );
    }
    if raw.simulation.runs == Some(0) {
        c.fail(sim.key("runs"), "must be at least 1");
    }
    if raw.simulation.max_events == Some(0) {
        c.fail(sim.key("max_events"), "must be at least 1");
    }
    let horizon_requested = raw.simulation.mode == Some(RawRunMode::Horizon);
    if !horizon_requested {
        for (key, set) in [
            (
                "per_write_window",
                raw.simulation.per_write_window.is_some(),
            ),
            ("aggregate", raw.simulation.aggregate.is_some()),
        ] {
            if set {
                c.fail(
                    sim.key(key),
                    "applies only to horizon runs; add mode = \"horizon\" to [simulation] or remove it",
                );
            }
        }
    }
    let per_write_window = raw
        .simulation
        .per_write_window
        .map(|w| c.positive(sim.key("per_write_window"), w));

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
                match super::units::parse_duration(body) {
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

    // Network: every pair gets a link; [[links]] override the defaults per pair.
    let net = root.key("network");
    let fibre_us_per_km = raw
        .network
        .fibre_us_per_km
        .unwrap_or(DEFAULT_FIBRE_US_PER_KM);
    if !(fibre_us_per_km > 0.0 && fibre_us_per_km.is_finite()) {
        c.fail(
            net.key("fibre_us_per_km"),
            format!("must be greater than zero, got {fibre_us_per_km}"),
        );
    }
    let inflation = raw
        .network
        .route_inflation
        .unwrap_or(DEFAULT_ROUTE_INFLATION);
    if !(inflation >= 1.0 && inflation.is_finite()) {
        c.fail(net.key("route_inflation"), format!("must be at least 1 (a route is never shorter than the great circle), got {inflation}"));
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
        let a = c.site(p.key("between").index(0), &between[0], &datacenters);
        let b = c.site(p.key("between").index(1), &between[1], &datacenters);
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
                &mut c,
                &raw.network,
                &datacenters,
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
            &mut c,
            &raw.network,
            &datacenters,
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

    // Topology.
    let topo = root.key("topology");
    let t = &raw.topology;
    let mut standbys = Vec::new();
    let mut active = Vec::new();
    let list = |c: &mut Checker,
                field: &str,
                names: &[String],
                out: &mut Vec<SiteId>,
                taken: Option<SiteId>| {
        for (i, s) in names.iter().enumerate() {
            let p = topo.key(field).index(i);
            if let Some(id) = c.site(p.clone(), s, &datacenters) {
                if Some(id) == taken {
                    c.fail(
                        p,
                        format!("\"{s}\" is the primary; a standby must be another datacenter"),
                    );
                } else if out.contains(&id) {
                    c.fail(p, format!("\"{s}\" is listed twice"));
                } else {
                    out.push(id);
                }
            }
        }
    };
    let primary = if aa {
        for (field, present) in [
            ("primary", t.primary.is_some()),
            ("standbys", t.standbys.is_some() && !hybrid),
        ] {
            if present {
                c.fail(topo.key(field), format!("{field} applies to active-passive; active-active lists its sites in `active`"));
            }
        }
        match &t.active {
            Some(names) => {
                list(&mut c, "active", names, &mut active, None);
                if names.len() < 2 && !hybrid {
                    c.fail(topo.key("active"), "active-active needs at least two active datacenters");
                }
                if names.is_empty() {
                    c.fail(topo.key("active"), "list at least one active datacenter");
                }
            }
            None => c.fail(topo.clone(), "active-active needs `active`, the datacenters that serve, e.g. active = [\"us-east-1\", \"eu-west-1\"]"),
        }
        if hybrid {
            match &t.standbys {
                Some(names) if !names.is_empty() => list(&mut c, "standbys", names, &mut standbys, None),
                _ => c.fail(
                    topo.key("standbys"),
                    "hybrid needs a standby region: list its datacenters in `standbys`, e.g. standbys = [\"eu-west-1\"]",
                ),
            }
            for (i, s) in standbys.iter().enumerate() {
                if active.contains(s) {
                    c.fail(
                        topo.key("standbys").index(i),
                        "a datacenter is either active or standby, not both",
                    );
                } else if active
                    .iter()
                    .any(|a| datacenters[*a].region == datacenters[*s].region)
                {
                    c.fail(
                        topo.key("standbys").index(i),
                        "the standby region must differ from the active region (a regional disaster would take both)",
                    );
                }
            }
        }
        active.first().copied()
    } else {
        if t.active.is_some() {
            c.fail(
                topo.key("active"),
                "active applies to active-active; active-passive names a `primary` and `standbys`",
            );
        }
        let primary = match &t.primary {
            Some(name) => c.site(topo.key("primary"), name, &datacenters),
            None => {
                c.fail(
                    topo.clone(),
                    "active-passive needs `primary`, the datacenter that serves",
                );
                None
            }
        };
        match &t.standbys {
            // An empty list is a single site without DR: the baseline a DR design is compared with.
            Some(names) => list(&mut c, "standbys", names, &mut standbys, primary),
            None => c.fail(
                topo.key("standbys"),
                "active-passive needs `standbys`: the datacenters that can take over (standbys = [] for a single site without DR)",
            ),
        }
        primary
    };

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
            .site(fp.key("monitor"), m, &datacenters)
            .into_iter()
            .collect(),
        (None, Some(list)) => {
            if list.is_empty() {
                c.fail(fp.key("monitors"), "list at least one datacenter");
            }
            list.iter()
                .enumerate()
                .filter_map(|(i, m)| c.site(fp.key("monitors").index(i), m, &datacenters))
                .collect()
        }
        // The region-failover manager must outlive the active region.
        (None, None) if hybrid => standbys.iter().chain(&active).copied().collect(),
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
    let fencing = match (f.fencing.unwrap_or(FencingName::Stonith), &f.witness) {
        (FencingName::QuorumWitness, Some(w)) => match c.site(fp.key("witness"), w, &datacenters) {
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

    // Failure domains.
    let mut failure_domains: Vec<model::FailureDomain> = Vec::new();
    for (i, d) in raw.failure_domains.iter().enumerate() {
        let p = root.key("failure_domains").index(i);
        if d.id.trim().is_empty() {
            c.fail(p.key("id"), "must not be empty");
        }
        if failure_domains.iter().any(|x| x.name == d.id) {
            c.fail(
                p.key("id"),
                format!("\"{}\" is already a failure domain", d.id),
            );
        }
        if d.datacenters.is_empty() && d.links.is_empty() {
            c.fail(
                p.clone(),
                "a failure domain needs `datacenters`, `links`, or both",
            );
        }
        let sites: Vec<SiteId> = d
            .datacenters
            .iter()
            .enumerate()
            .filter_map(|(j, name)| c.site(p.key("datacenters").index(j), name, &datacenters))
            .collect();
        let mut domain_links = Vec::new();
        for (j, pair) in d.links.iter().enumerate() {
            let lp = p.key("links").index(j);
            if let Some(l) = named_link(
                &mut c,
                &lp,
                pair,
                &datacenters,
                &link_between,
                &paths,
                &links,
            ) {
                domain_links.push(l);
            }
        }
        failure_domains.push(model::FailureDomain {
            name: d.id.clone(),
            sites,
            links: domain_links,
        });
    }

    // Failures.
    let mut failures = Vec::new();
    for (i, fl) in raw.failures.iter().enumerate() {
        let p = root.key("failures").index(i);
        let link_of = |c: &mut Checker, pair: &Vec<String>| -> Option<usize> {
            named_link(
                c,
                &p.key("link"),
                pair,
                &datacenters,
                &link_between,
                &paths,
                &links,
            )
        };
        let needs = |c: &mut Checker, field: &str, present: bool, wanted: bool| {
            let kind = match fl.kind {
                FailureKindName::DatacenterOutage => "datacenter-outage",
                FailureKindName::RegionOutage => "region-outage",
                FailureKindName::LinkDown => "link-down",
                FailureKindName::LinkDegraded => "link-degraded",
                FailureKindName::Partition => "partition",
                FailureKindName::DomainOutage => "domain-outage",
                FailureKindName::GrayFailure => "gray-failure",
                FailureKindName::ReplicationStall => "replication-stall",
            };
            if wanted && !present {
                c.fail(p.clone(), format!("kind = \"{kind}\" needs `{field}`"));
            } else if !wanted && present {
                c.fail(
                    p.key(field),
                    format!("{field} does not apply to kind = \"{kind}\""),
                );
            }
        };
        let is = |k: FailureKindName| fl.kind == k;
        let site_target = is(FailureKindName::DatacenterOutage)
            || is(FailureKindName::GrayFailure)
            || is(FailureKindName::ReplicationStall);
        needs(&mut c, "target", fl.target.is_some(), site_target);
        let link_kind = is(FailureKindName::LinkDown) || is(FailureKindName::LinkDegraded);
        needs(&mut c, "link", fl.link.is_some(), link_kind);
        needs(
            &mut c,
            "sides",
            fl.sides.is_some(),
            is(FailureKindName::Partition),
        );
        needs(
            &mut c,
            "domain",
            fl.domain.is_some(),
            is(FailureKindName::DomainOutage),
        );
        let gray = is(FailureKindName::GrayFailure);
        if gray && fl.check_failure.is_none() && fl.write_failure.is_none() {
            c.fail(
                p.clone(),
                "kind = \"gray-failure\" needs check_failure and/or write_failure",
            );
        }
        for (field, present) in [
            ("check_failure", fl.check_failure.is_some()),
            ("write_failure", fl.write_failure.is_some()),
        ] {
            if !gray && present {
                needs(&mut c, field, true, false);
            }
        }
        if (gray || is(FailureKindName::ReplicationStall)) && aa {
            c.fail(
                p.key("kind"),
                "gray-failure and replication-stall apply to active-passive only so far",
            );
        }
        needs(
            &mut c,
            "region",
            fl.region.is_some(),
            is(FailureKindName::RegionOutage),
        );
        let degraded = is(FailureKindName::LinkDegraded);
        if degraded
            && fl.latency_multiplier.is_none()
            && fl.extra_loss.is_none()
            && fl.bandwidth_factor.is_none()
        {
            c.fail(
                p.clone(),
                "kind = \"link-degraded\" needs latency_multiplier, extra_loss and/or bandwidth_factor",
            );
        }
        for (field, present) in [
            ("latency_multiplier", fl.latency_multiplier.is_some()),
            ("extra_loss", fl.extra_loss.is_some()),
            ("bandwidth_factor", fl.bandwidth_factor.is_some()),
        ] {
            if !degraded && present {
                needs(&mut c, field, true, false);
            }
        }
        let kind = match fl.kind {
            FailureKindName::DatacenterOutage => fl
                .target
                .as_ref()
                .and_then(|t| c.site(p.key("target"), t, &datacenters))
                .map(|site| FailureKind::DatacenterOutage { site }),
            FailureKindName::RegionOutage => fl.region.as_ref().and_then(|r| {
                let found = regions.iter().position(|x| x == r);
                if found.is_none() {
                    c.fail(
                        p.key("region"),
                        format!(
                            "unknown region \"{r}\"; regions with datacenters: {}",
                            regions.join(", ")
                        ),
                    );
                }
                found.map(|region| FailureKind::RegionOutage { region })
            }),
            FailureKindName::LinkDown => fl
                .link
                .as_ref()
                .and_then(|l| link_of(&mut c, l))
                .map(|link| FailureKind::LinkDown { link }),
            FailureKindName::Partition => {
                let sides = fl.sides.as_deref().unwrap_or_default();
                let mut groups: Vec<Vec<SiteId>> = Vec::new();
                for (j, side) in sides.iter().enumerate() {
                    let sp = p.key("sides").index(j);
                    if side.is_empty() {
                        c.fail(sp.clone(), "a side needs at least one datacenter");
                    }
                    let mut group = Vec::new();
                    for (k, name) in side.iter().enumerate() {
                        if let Some(s) = c.site(sp.index(k), name, &datacenters) {
                            if groups.iter().chain([&group]).any(|g| g.contains(&s)) {
                                c.fail(
                                    sp.index(k),
                                    format!("\"{name}\" is on more than one side"),
                                );
                            } else {
                                group.push(s);
                            }
                        }
                    }
                    groups.push(group);
                }
                if fl.sides.is_some() && sides.len() < 2 {
                    c.fail(
                        p.key("sides"),
                        "a partition needs at least two sides, e.g. sides = [[\"dc-a\"], [\"dc-b\", \"dc-c\"]]",
                    );
                }
                // Every link between two different sides goes down.
                let mut links = Vec::new();
                for (gi, g) in groups.iter().enumerate() {
                    for h in &groups[gi + 1..] {
                        for &a in g {
                            for &b in h {
                                links.extend(&paths[link_between[a][b]]);
                            }
                        }
                    }
                }
                links.sort_unstable();
                links.dedup();
                (sides.len() >= 2).then_some(FailureKind::Outage {
                    sites: Vec::new(),
                    links,
                })
            }
            FailureKindName::DomainOutage => fl.domain.as_ref().and_then(|d| {
                let found = failure_domains.iter().find(|x| x.name == *d);
                if found.is_none() {
                    let known: Vec<&str> =
                        failure_domains.iter().map(|x| x.name.as_str()).collect();
                    c.fail(
                        p.key("domain"),
                        if known.is_empty() {
                            format!("unknown failure domain \"{d}\"; define it in a [[failure_domains]] table")
                        } else {
                            format!("unknown failure domain \"{d}\"; known: {}", known.join(", "))
                        },
                    );
                }
                found.map(|x| FailureKind::Outage {
                    sites: x.sites.clone(),
                    links: x.links.clone(),
                })
            }),
            FailureKindName::GrayFailure => {
                let check_failure =
                    c.probability(p.key("check_failure"), fl.check_failure.unwrap_or(0.0), false);
                let write_failure =
                    c.probability(p.key("write_failure"), fl.write_failure.unwrap_or(0.0), false);
                fl.target
                    .as_ref()
                    .and_then(|t| c.site(p.key("target"), t, &datacenters))
                    .map(|site| FailureKind::GrayFailure {
                        site,
                        check_failure,
                        write_failure,
                    })
            }
            FailureKindName::ReplicationStall => fl
                .target
                .as_ref()
                .and_then(|t| c.site(p.key("target"), t, &datacenters))
                .map(|site| FailureKind::ReplicationStall { site }),
            FailureKindName::LinkDegraded => {
                let m = fl.latency_multiplier.unwrap_or(1.0);
                if !(m >= 1.0 && m.is_finite()) {
                    c.fail(
                        p.key("latency_multiplier"),
                        format!("must be at least 1, got {m}"),
                    );
                }
                let x = c.probability(p.key("extra_loss"), fl.extra_loss.unwrap_or(0.0), false);
                let bw = fl.bandwidth_factor.unwrap_or(1.0);
                if !(bw > 0.0 && bw <= 1.0) {
                    c.fail(
                        p.key("bandwidth_factor"),
                        format!("must be in (0, 1] (the fraction of the bandwidth left), got {bw}"),
                    );
                }
                fl.link
                    .as_ref()
                    .and_then(|l| link_of(&mut c, l))
                    .map(|link| FailureKind::LinkDegraded {
                        link,
                        latency_multiplier: m,
                        extra_loss: x,
                        bandwidth_factor: bw,
                    })
            }
        };
        let every = fl.every.as_ref().map(|e| {
            let dist = c.duration_dist(p.key("every"), e);
            if dist.max() == Some(0.0) {
                c.fail(p.key("every"), "must be longer than zero");
            }
            dist
        });
        if every.is_some() && fl.duration.is_none() {
            c.fail(
                p.clone(),
                "a recurring failure (with `every`) needs `duration`, the time to repair",
            );
        }
        let at = match (&fl.at, &every) {
            (Some(at), _) => Some(c.duration_dist(p.key("at"), at)),
            (None, Some(_)) => None,
            (None, None) => {
                c.fail(p.clone(), "missing field `at`: when the failure starts (or give `every` for recurring failures)");
                None
            }
        };
        let duration = fl.duration.as_ref().map(|d| {
            let dist = c.duration_dist(p.key("duration"), d);
            if dist.max() == Some(0.0) {
                c.fail(
                    p.key("duration"),
                    "must be longer than zero; omit it for a permanent failure",
                );
            }
            dist
        });
        if let Some(kind) = kind {
            failures.push(FailureSpec {
                kind,
                at,
                duration,
                every,
            });
        }
    }

    // Active-active behaviour.
    let ap = root.key("active_active");
    let active_active = if aa {
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
        let distance_weight = w(
            "distance_weight",
            r.and_then(|r| r.distance_weight),
            0.5,
            &mut c,
        );
        let load_weight = w("load_weight", r.and_then(|r| r.load_weight), 0.3, &mut c);
        let latency_weight = w(
            "latency_weight",
            r.and_then(|r| r.latency_weight),
            0.2,
            &mut c,
        );
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
        let max_queue_wait = match (a.overload.unwrap_or(OverloadName::Shed), a.max_queue_wait) {
            (OverloadName::Queue, Some(d)) => Some(c.positive(ap.key("max_queue_wait"), d)),
            (OverloadName::Queue, None) => Some(SimDuration::from_secs(2)),
            (OverloadName::Shed, Some(_)) => {
                c.fail(
                    ap.key("max_queue_wait"),
                    "max_queue_wait applies only to overload = \"queue\"",
                );
                None
            }
            (OverloadName::Shed, None) => None,
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
            max_queue_wait,
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
    };

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
                    super::units::parse_duration(s)
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
                let v = value(&mut c, "max", m);
                (Bound::AtMost(v), "<=", v)
            }
            (None, Some(m)) => {
                let v = value(&mut c, "min", m);
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
    let ak = root.key("alerts");
    let raw_alerts = raw.alerts.as_ref();
    let alerts = if raw_alerts.and_then(|a| a.enabled) == Some(false) || aa {
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
    };
    let cost = raw.cost.as_ref().map(|k| {
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
    });

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

    if !c.problems.is_empty() {
        // A bad default_link value would otherwise be reported once per pair.
        let mut unique: Vec<Problem> = Vec::new();
        for p in c.problems {
            if !unique
                .iter()
                .any(|u| u.path == p.path && u.message == p.message)
            {
                unique.push(p);
            }
        }
        return Err(unique);
    }
    let (Some(primary), Some(monitor)) = (primary, monitor) else {
        return Err(vec![Problem::new(
            root.key("topology"),
            "topology is incomplete",
        )]);
    };
    Ok(Scenario {
        name: raw.name.clone(),
        description: raw.description.clone(),
        content_hash,
        horizon,
        horizon_mode: horizon_requested.then(|| HorizonMode {
            window: per_write_window.unwrap_or_else(|| default_window(&links, &shipping)),
            aggregate: raw.simulation.aggregate.unwrap_or(true),
        }),
        default_runs: raw.simulation.runs.unwrap_or(DEFAULT_RUNS),
        default_seed: raw.simulation.seed.unwrap_or(DEFAULT_SEED),
        max_events: raw.simulation.max_events.unwrap_or(DEFAULT_MAX_EVENTS),
        delay_s_per_km: fibre_us_per_km * 1e-6 * inflation,
        regions,
        datacenters,
        links,
        link_between,
        paths,
        path_group,
        path_switch_delay,
        path_health_threshold,
        topology: Topology {
            primary,
            standbys,
            active,
        },
        architecture,
        active_active,
        workload: Workload {
            writes_per_s: rate,
            write_size,
            clients,
        },
        replication: Replication {
            mode,
            shipping,
            ack_size_bytes,
        },
        failover: Failover {
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
        },
        failures,
        failure_domains,
        alerts,
        targets,
        cost,
        sweep,
    })
}

/// The default per-write window of horizon runs: long enough for replication
/// to reach its steady state before a failure (a few shipping intervals plus
/// the slowest delivery with every retransmission), and at least a minute.
fn default_window(links: &[model::Link], shipping: &Shipping) -> SimDuration {
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
fn resolve_link(
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
    if max_attempts == 0 {
        c.fail(
            at("max_attempts", params.max_attempts.is_some()),
            "must be at least 1",
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
        max_attempts: max_attempts.max(1),
    }
}

/// A link named as `[a, b]` (its primary path) or `[a, b, path name]`.
fn named_link(
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
