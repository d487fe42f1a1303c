//! Advice on a validated scenario: disaster-recovery anti-patterns that are
//! legal to simulate but that a design review would flag. A warning never
//! fails validation; docs/lint.md lists every code.

use crate::model::{Architecture, Bound, Fencing, Scenario, SiteId, great_circle_km};

/// Sites meant to back each other up should be at least this far apart, so
/// that one local disaster (flood, fire, power grid) cannot take both.
pub const MIN_BACKUP_DISTANCE_KM: f64 = 100.0;

/// How many site pairs a message names before it only counts the rest.
const MAX_PAIRS_NAMED: usize = 3;

#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    /// A short kebab-case id, stable across releases (docs/lint.md).
    pub code: &'static str,
    /// One line: what is wrong, why it matters, and how to fix it.
    pub message: String,
}

/// Every warning for `s`, in a fixed order: topology, capacity, failover,
/// targets; within a check, scenario order.
pub fn lint(s: &Scenario) -> Vec<Warning> {
    let mut out = Vec::new();
    separation(s, &mut out);
    shared_domain(s, &mut out);
    single_link(s, &mut out);
    capacity(s, &mut out);
    fencing(s, &mut out);
    monitors(s, &mut out);
    rto_budget(s, &mut out);
    out
}

fn warn(out: &mut Vec<Warning>, code: &'static str, message: String) {
    out.push(Warning { code, message });
}

/// The pairs of sites meant to back each other up across a disaster.
fn backup_pairs(s: &Scenario) -> Vec<(SiteId, SiteId)> {
    let t = &s.topology;
    match s.architecture {
        Architecture::ActivePassive => t.standbys.iter().map(|&b| (t.primary, b)).collect(),
        Architecture::ActiveActive => {
            let mut pairs = Vec::new();
            for (i, &a) in t.active.iter().enumerate() {
                for &b in &t.active[i + 1..] {
                    pairs.push((a, b));
                }
            }
            pairs
        }
        // Active sites of one region back each other up against site
        // failures only; the standby region covers the regional disaster.
        Architecture::Hybrid => t
            .active
            .iter()
            .flat_map(|&a| t.standbys.iter().map(move |&b| (a, b)))
            .collect(),
    }
}

fn km_between(s: &Scenario, a: SiteId, b: SiteId) -> f64 {
    let (x, y) = (&s.datacenters[a], &s.datacenters[b]);
    great_circle_km(x.lat, x.lon, y.lat, y.lon)
}

fn name(s: &Scenario, site: SiteId) -> &str {
    &s.datacenters[site].name
}

fn region(s: &Scenario, site: SiteId) -> &str {
    &s.regions[s.datacenters[site].region]
}

fn secs(x: f64) -> String {
    format!("{} s", (x * 1000.0).round() / 1000.0)
}

fn per_s(x: f64) -> String {
    format!("{}/s", (x * 1000.0).round() / 1000.0)
}

/// Backups within one disaster's reach (distance or region).
fn separation(s: &Scenario, out: &mut Vec<Warning>) {
    let aa = s.architecture == Architecture::ActiveActive;
    for (a, b) in backup_pairs(s) {
        let km = km_between(s, a, b);
        let same_region = s.datacenters[a].region == s.datacenters[b].region;
        if aa {
            if km < MIN_BACKUP_DISTANCE_KM {
                warn(
                    out,
                    "active-sites-too-close",
                    format!(
                        "the active sites {} and {} are {km:.0} km apart: one disaster can take both (keep sites that back each other up more than {MIN_BACKUP_DISTANCE_KM:.0} km apart)",
                        name(s, a),
                        name(s, b)
                    ),
                );
            }
            continue;
        }
        let role = if s.architecture == Architecture::Hybrid {
            "active site"
        } else {
            "primary"
        };
        // One warning per pair: distance first, it also covers most same-region cases.
        if km < MIN_BACKUP_DISTANCE_KM {
            warn(
                out,
                "standby-too-close",
                format!(
                    "the standby {} is {km:.0} km from the {role} {}: one disaster can take both (keep backups more than {MIN_BACKUP_DISTANCE_KM:.0} km apart)",
                    name(s, b),
                    name(s, a)
                ),
            );
        } else if same_region {
            warn(
                out,
                "standby-same-region",
                format!(
                    "the standby {} is in the same region ({}) as the {role} {}: a regional disaster takes both (put the standby in another region)",
                    name(s, b),
                    region(s, b),
                    name(s, a)
                ),
            );
        }
    }
    let active = &s.topology.active;
    if aa
        && active.len() >= 2
        && active
            .iter()
            .all(|&x| s.datacenters[x].region == s.datacenters[active[0]].region)
    {
        warn(
            out,
            "active-sites-one-region",
            format!(
                "every active site is in the region {}: a regional disaster takes them all (put at least one active site in another region)",
                region(s, active[0])
            ),
        );
    }
}

/// Backups inside one `[[failure_domains]]` entry (a power feed, a carrier):
/// the explicit counterpart of sharing a region.
fn shared_domain(s: &Scenario, out: &mut Vec<Warning>) {
    let holding = |sites: &[SiteId]| {
        s.failure_domains
            .iter()
            .find(|d| sites.iter().all(|x| d.sites.contains(x)))
    };
    let active = &s.topology.active;
    if s.architecture == Architecture::ActiveActive {
        if active.len() >= 2
            && let Some(d) = holding(active)
        {
            warn(
                out,
                "shared-failure-domain",
                format!(
                    "every active site is in the failure domain {}: its outage takes them all (spread the active sites over independent domains)",
                    d.name
                ),
            );
        }
        return;
    }
    let role = if s.architecture == Architecture::Hybrid {
        "active site"
    } else {
        "primary"
    };
    for (a, b) in backup_pairs(s) {
        if let Some(d) = holding(&[a, b]) {
            warn(
                out,
                "shared-failure-domain",
                format!(
                    "the standby {} is in the failure domain {} with the {role} {}: one outage of it takes both (keep the standby out of the primary's failure domains)",
                    name(s, b),
                    d.name,
                    name(s, a)
                ),
            );
        }
    }
}

/// Replication between sites joined by a single path (no `[[links.backup]]`);
/// one warning for all of them.
fn single_link(s: &Scenario, out: &mut Vec<Warning>) {
    let pairs: Vec<(SiteId, SiteId)> = backup_pairs(s)
        .into_iter()
        .filter(|&(a, b)| s.paths[s.link_between[a][b]].len() < 2)
        .collect();
    let named: Vec<String> = pairs
        .iter()
        .take(MAX_PAIRS_NAMED)
        .map(|&(a, b)| format!("{} <-> {}", name(s, a), name(s, b)))
        .collect();
    let what = match pairs.len() {
        0 => return,
        1 => format!("the replication path {} is", named[0]),
        n if n <= MAX_PAIRS_NAMED => {
            format!(
                "each of the {n} replication paths ({}) is",
                named.join(", ")
            )
        }
        n => format!(
            "each of the {n} replication paths ({}, ...) is",
            named.join(", ")
        ),
    };
    warn(
        out,
        "single-replication-link",
        format!(
            "{what} a single link with no redundant route: one cut stops replication and the data at risk grows until it is repaired (provision a second, diverse path with [[links.backup]]; simulate the cut with a link-down failure)"
        ),
    );
}

/// A site that takes over cannot carry the load it inherits.
fn capacity(s: &Scenario, out: &mut Vec<Warning>) {
    let rate = s.workload.writes_per_s;
    if s.architecture != Architecture::ActiveActive {
        for &b in &s.topology.standbys {
            if let Some(c) = s.datacenters[b].capacity_per_s.filter(|&c| c < rate) {
                warn(
                    out,
                    "standby-under-capacity",
                    format!(
                        "the standby {} can serve {} but the workload writes {}: after a failover it cannot carry the load (give it the capacity of the sites it replaces)",
                        name(s, b),
                        per_s(c),
                        per_s(rate)
                    ),
                );
            }
        }
    }
    let active = &s.topology.active;
    if s.architecture == Architecture::ActivePassive || active.len() < 2 {
        return;
    }
    // Unlimited counts as infinite: losing it leaves the others; keeping one leaves enough.
    let cap = |x: SiteId| s.datacenters[x].capacity_per_s.unwrap_or(f64::INFINITY);
    let largest = active
        .iter()
        .copied()
        .reduce(|best, x| if cap(x) > cap(best) { x } else { best })
        .expect("two or more active sites");
    let left: f64 = active
        .iter()
        .filter(|&&x| x != largest)
        .map(|&x| cap(x))
        .sum();
    if left < rate {
        let lost = s.datacenters[largest]
            .capacity_per_s
            .map_or_else(|| "unlimited".to_string(), per_s);
        warn(
            out,
            "survivors-under-capacity",
            format!(
                "losing the active site {} ({lost}) leaves {} of capacity for {} of writes: the surviving sites shed or queue the excess (plan N+1 capacity)",
                name(s, largest),
                per_s(left),
                per_s(rate)
            ),
        );
    }
}

/// Promotion without stopping the old primary.
fn fencing(s: &Scenario, out: &mut Vec<Warning>) {
    if s.architecture == Architecture::ActivePassive
        && !s.topology.standbys.is_empty()
        && s.failover.fencing == Fencing::None
    {
        warn(
            out,
            "no-fencing",
            format!(
                "failover does not fence the old primary {} (fencing = \"none\"): if it is alive but unreachable, clients still pointed at it keep writing there beside the promoted standby (split brain) (use fencing = \"stonith\" or \"quorum-witness\")",
                name(s, s.topology.primary)
            ),
        );
    }
}

/// A failover manager that stops watching after a failover, or that shares
/// the fate of what it watches.
fn monitors(s: &Scenario, out: &mut Vec<Warning>) {
    let t = &s.topology;
    let m = &s.failover.monitors;
    if m.len() == 1 && t.standbys.contains(&m[0]) {
        warn(
            out,
            "monitor-is-standby",
            format!(
                "the only failover monitor runs in the standby {}: once it is promoted nothing watches the new primary (list two or more sites in `monitors` for a replicated manager)",
                name(s, m[0])
            ),
        );
    }
    match s.architecture {
        Architecture::ActivePassive => {}
        Architecture::ActiveActive => {
            if m.len() == 1 && t.active.contains(&m[0]) {
                warn(
                    out,
                    "monitor-shares-fate",
                    format!(
                        "the only load-balancer monitor runs in the active site {}: if that site fails, nothing health-checks or reroutes (list two or more sites in `monitors`)",
                        name(s, m[0])
                    ),
                );
            }
        }
        Architecture::Hybrid => {
            let in_active_region = |x: SiteId| {
                t.active
                    .iter()
                    .any(|&a| s.datacenters[a].region == s.datacenters[x].region)
            };
            if !m.is_empty() && m.iter().all(|&x| in_active_region(x)) {
                warn(
                    out,
                    "monitor-shares-fate",
                    format!(
                        "every failover monitor is in the active region ({}): a regional disaster takes them with it and nothing fails over to the standby region (add a standby-region site to `monitors`)",
                        region(s, m[0])
                    ),
                );
            }
        }
    }
}

/// Parts of the failover chain that alone exceed the RTO target.
fn rto_budget(s: &Scenario, out: &mut Vec<Warning>) {
    if backup_pairs(s).is_empty() {
        return; // nothing to fail over to: the RTO is the repair time
    }
    // The tightest RTO bound; the first stated wins a tie.
    let mut tightest: Option<(f64, &str)> = None;
    for t in &s.targets {
        if let ("rto_s" | "rto_first_s", Bound::AtMost(max)) = (t.metric.as_str(), t.bound)
            && tightest.is_none_or(|(m, _)| max < m)
        {
            tightest = Some((max, &t.label));
        }
    }
    let Some((max, label)) = tightest else {
        return;
    };
    let anycast = s.active_active.as_ref().is_some_and(|a| a.anycast);
    let ttl = s.failover.dns.ttl.as_secs_f64();
    if !anycast && ttl > max {
        warn(
            out,
            "dns-ttl-exceeds-rto",
            format!(
                "the DNS TTL ({}) exceeds the RTO target ({label}): clients may keep the failed site's address longer than the target allows (lower failover.dns.ttl)",
                secs(ttl)
            ),
        );
    }
    let hc = &s.failover.health_check;
    let detection = hc.interval.as_secs_f64() * f64::from(hc.threshold) + hc.timeout.as_secs_f64();
    if detection > max {
        warn(
            out,
            "detection-exceeds-rto",
            format!(
                "worst-case detection ({} x {} checks + {} timeout = {}) exceeds the RTO target ({label}): the target can be missed before failover starts (check more often or lower the threshold)",
                secs(hc.interval.as_secs_f64()),
                hc.threshold,
                secs(hc.timeout.as_secs_f64()),
                secs(detection)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clean active-passive design: three sites in three regions, a
    /// replicated monitor, stonith, short detection and TTL, a loose RTO target.
    const BASE: &str = r#"
name = "t"
architecture = "active-passive"

[simulation]
duration = "10m"

[[datacenters]]
id = "dc-a"
region = "ra"
lat = 40.0
lon = -75.0

[[datacenters]]
id = "dc-b"
region = "rb"
lat = 45.0
lon = -60.0

[[datacenters]]
id = "dc-c"
region = "rc"
lat = 50.0
lon = 0.0

[topology]
primary = "dc-a"
standbys = ["dc-b"]

[workload]
rate = "100/s"

[[workload.clients]]
region = "ra"

[replication]
mode = "async"

[failover]
mode = "automatic"
monitors = ["dc-b", "dc-c"]

[failover.health_check]
interval = "10s"
timeout = "1s"
threshold = 3

[failover.dns]
ttl = "30s"

[[targets]]
metric = "rto_s"
max = "10m"
probability = 0.99
"#;

    const AA: [(&str, &str); 2] = [
        (
            "architecture = \"active-passive\"",
            "architecture = \"active-active\"",
        ),
        (
            "primary = \"dc-a\"\nstandbys = [\"dc-b\"]",
            "active = [\"dc-a\", \"dc-b\", \"dc-c\"]",
        ),
    ];

    /// dc-a and dc-b active in region ra, dc-c the standby region.
    const HYBRID: [(&str, &str); 3] = [
        (
            "architecture = \"active-passive\"",
            "architecture = \"hybrid\"",
        ),
        (
            "primary = \"dc-a\"\nstandbys = [\"dc-b\"]",
            "active = [\"dc-a\", \"dc-b\"]\nstandbys = [\"dc-c\"]",
        ),
        ("region = \"rb\"", "region = \"ra\""),
    ];

    /// BASE with each (from, to) replaced once; a missing `from` is a test bug.
    fn scenario(edits: &[(&str, &str)]) -> Scenario {
        let mut text = BASE.to_string();
        for (from, to) in edits {
            assert!(text.contains(from), "{from:?} is not in the scenario");
            text = text.replacen(from, to, 1);
        }
        crate::scenario::parse("x.toml", &text).unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
    }

    fn codes(s: &Scenario) -> Vec<&'static str> {
        lint(s).iter().map(|w| w.code).collect()
    }

    fn message(s: &Scenario, code: &str) -> String {
        let found: Vec<Warning> = lint(s).into_iter().filter(|w| w.code == code).collect();
        assert_eq!(found.len(), 1, "{code}: {found:?}");
        found[0].message.clone()
    }

    fn joined<'a>(a: &[(&'a str, &'a str)], b: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        a.iter().chain(b).copied().collect()
    }

    #[test]
    fn a_clean_design_only_has_its_single_link() {
        assert_eq!(codes(&scenario(&[])), ["single-replication-link"]);
        assert_eq!(codes(&scenario(&AA)), ["single-replication-link"]);
        assert_eq!(codes(&scenario(&HYBRID)), ["single-replication-link"]);
    }

    #[test]
    fn a_single_site_without_dr_gets_no_advice() {
        let s = scenario(&[
            ("standbys = [\"dc-b\"]", "standbys = []"),
            ("monitors = [\"dc-b\", \"dc-c\"]", "monitor = \"dc-c\""),
        ]);
        assert_eq!(codes(&s), Vec::<&str>::new());
    }

    #[test]
    fn standby_within_100_km_of_the_primary() {
        let s = scenario(&[("lat = 45.0\nlon = -60.0", "lat = 40.1\nlon = -75.1")]);
        let m = message(&s, "standby-too-close");
        assert!(
            m.starts_with("the standby dc-b is 14 km from the primary dc-a"),
            "{m}"
        );
        // Far enough: no warning.
        assert!(!codes(&scenario(&[])).contains(&"standby-too-close"));
    }

    #[test]
    fn standby_in_the_primary_region() {
        let s = scenario(&[("region = \"rb\"", "region = \"ra\"")]);
        let m = message(&s, "standby-same-region");
        assert!(m.contains("same region (ra)"), "{m}");
        // Close and in one region: one warning for the pair, not two.
        let s = scenario(&[
            ("region = \"rb\"", "region = \"ra\""),
            ("lat = 45.0\nlon = -60.0", "lat = 40.1\nlon = -75.1"),
        ]);
        let c = codes(&s);
        assert!(
            c.contains(&"standby-too-close") && !c.contains(&"standby-same-region"),
            "{c:?}"
        );
    }

    #[test]
    fn active_sites_close_together_and_in_one_region() {
        let edits = joined(
            &AA,
            &[
                ("region = \"rb\"", "region = \"ra\""),
                ("region = \"rc\"", "region = \"ra\""),
                ("lat = 45.0\nlon = -60.0", "lat = 40.1\nlon = -75.1"),
            ],
        );
        let s = scenario(&edits);
        let m = message(&s, "active-sites-too-close");
        assert!(
            m.starts_with("the active sites dc-a and dc-b are 14 km apart"),
            "{m}"
        );
        assert!(message(&s, "active-sites-one-region").contains("region ra"));
        // Two regions: no regional warning.
        let s = scenario(&joined(&AA, &[("region = \"rb\"", "region = \"ra\"")]));
        assert!(!codes(&s).contains(&"active-sites-one-region"));
    }

    #[test]
    fn hybrid_standby_close_to_an_active_site() {
        let s = scenario(&joined(
            &HYBRID,
            &[("lat = 50.0\nlon = 0.0", "lat = 45.1\nlon = -60.1")],
        ));
        let m = message(&s, "standby-too-close");
        assert!(
            m.contains("the standby dc-c is") && m.contains("from the active site dc-b"),
            "{m}"
        );
    }

    #[test]
    fn backups_in_one_explicit_failure_domain() {
        let domain = |sites: &str| {
            format!(
                "probability = 0.99\n\n[[failure_domains]]\nid = \"feed-1\"\ndatacenters = [{sites}]\n"
            )
        };
        let ab = domain("\"dc-a\", \"dc-b\"");
        let m = message(
            &scenario(&[("probability = 0.99\n", &ab)]),
            "shared-failure-domain",
        );
        assert!(
            m.starts_with("the standby dc-b is in the failure domain feed-1 with the primary dc-a"),
            "{m}"
        );
        // A domain holding one side of the pair only is no shared fate.
        let ac = domain("\"dc-a\", \"dc-c\"");
        assert_eq!(
            codes(&scenario(&[("probability = 0.99\n", &ac)])),
            ["single-replication-link"]
        );
        // Active-active: only a domain holding every active site.
        let abc = domain("\"dc-a\", \"dc-b\", \"dc-c\"");
        let s = scenario(&joined(&AA, &[("probability = 0.99\n", &abc)]));
        assert!(message(&s, "shared-failure-domain").contains("every active site"));
        let s = scenario(&joined(&AA, &[("probability = 0.99\n", &ab)]));
        assert!(!codes(&s).contains(&"shared-failure-domain"));
    }

    #[test]
    fn one_single_link_warning_names_every_pair() {
        let s = scenario(&[("standbys = [\"dc-b\"]", "standbys = [\"dc-b\", \"dc-c\"]")]);
        let m = message(&s, "single-replication-link");
        assert!(
            m.starts_with("each of the 2 replication paths (dc-a <-> dc-b, dc-a <-> dc-c)"),
            "{m}"
        );
        let m = message(&scenario(&[]), "single-replication-link");
        assert!(
            m.starts_with("the replication path dc-a <-> dc-b is a single link"),
            "{m}"
        );
    }

    #[test]
    fn ttl_and_detection_longer_than_the_rto_target() {
        let s = scenario(&[("max = \"10m\"", "max = \"20s\"")]);
        let m = message(&s, "dns-ttl-exceeds-rto");
        assert!(
            m.starts_with("the DNS TTL (30 s) exceeds the RTO target (rto_s <= 20"),
            "{m}"
        );
        let m = message(&s, "detection-exceeds-rto");
        assert!(m.contains("(10 s x 3 checks + 1 s timeout = 31 s)"), "{m}");
        // Between the two: only detection exceeds it.
        let s = scenario(&[("max = \"10m\"", "max = 30.5")]);
        assert_eq!(
            codes(&s),
            ["single-replication-link", "detection-exceeds-rto"]
        );
        // rto_first_s counts; a lower bound and other metrics do not.
        let s = scenario(&[(
            "metric = \"rto_s\"\nmax = \"10m\"",
            "metric = \"rto_first_s\"\nmax = \"5s\"",
        )]);
        assert!(codes(&s).contains(&"dns-ttl-exceeds-rto"));
        let s = scenario(&[(
            "metric = \"rto_s\"\nmax = \"10m\"",
            "metric = \"rto_s\"\nmin = \"5s\"",
        )]);
        assert_eq!(codes(&s), ["single-replication-link"]);
        let s = scenario(&[(
            "metric = \"rto_s\"\nmax = \"10m\"",
            "metric = \"detection_s\"\nmax = \"5s\"",
        )]);
        assert_eq!(codes(&s), ["single-replication-link"]);
    }

    #[test]
    fn the_tightest_rto_target_is_the_one_reported() {
        let extra = "probability = 0.99\n\n[[targets]]\nmetric = \"rto_first_s\"\nmax = \"15s\"\nprobability = 0.5\n";
        let s = scenario(&[
            ("max = \"10m\"", "max = \"20s\""),
            ("probability = 0.99\n", extra),
        ]);
        let m = message(&s, "dns-ttl-exceeds-rto");
        assert!(
            m.contains("(rto_first_s <= 15 with probability 0.5)"),
            "{m}"
        );
    }

    #[test]
    fn anycast_routing_does_not_wait_for_the_ttl() {
        let edits = joined(
            &AA,
            &[
                ("max = \"10m\"", "max = \"20s\""),
                (
                    "[failover]\n",
                    "[active_active.routing]\nupdates = \"anycast\"\n\n[failover]\n",
                ),
            ],
        );
        let c = codes(&scenario(&edits));
        assert!(
            !c.contains(&"dns-ttl-exceeds-rto") && c.contains(&"detection-exceeds-rto"),
            "{c:?}"
        );
    }

    #[test]
    fn failover_without_fencing() {
        let s = scenario(&[(
            "mode = \"automatic\"\n",
            "mode = \"automatic\"\nfencing = \"none\"\n",
        )]);
        assert!(message(&s, "no-fencing").contains("split brain"));
    }

    #[test]
    fn standby_smaller_than_the_load() {
        let s = scenario(&[("lon = -60.0\n", "lon = -60.0\ncapacity = \"50/s\"\n")]);
        let m = message(&s, "standby-under-capacity");
        assert!(
            m.contains("can serve 50/s but the workload writes 100/s"),
            "{m}"
        );
        let s = scenario(&[("lon = -60.0\n", "lon = -60.0\ncapacity = \"100/s\"\n")]);
        assert!(!codes(&s).contains(&"standby-under-capacity"));
    }

    #[test]
    fn active_active_survivors_without_n_plus_one_capacity() {
        let caps = [
            ("lon = -75.0\n", "lon = -75.0\ncapacity = \"1000/s\"\n"),
            ("lon = -60.0\n", "lon = -60.0\ncapacity = \"1200/s\"\n"),
            ("lon = 0.0\n", "lon = 0.0\ncapacity = \"1000/s\"\n"),
        ];
        let s = scenario(&joined(
            &joined(&AA, &caps),
            &[("rate = \"100/s\"", "rate = \"1800/s\"")],
        ));
        assert!(!codes(&s).contains(&"survivors-under-capacity"));
        let s = scenario(&joined(
            &joined(&AA, &caps),
            &[("rate = \"100/s\"", "rate = \"2500/s\"")],
        ));
        let m = message(&s, "survivors-under-capacity");
        assert!(
            m.starts_with(
                "losing the active site dc-b (1200/s) leaves 2000/s of capacity for 2500/s"
            ),
            "{m}"
        );
        // Losing an unlimited site still leaves another unlimited one.
        let s = scenario(&joined(
            &joined(&AA, &caps[..1]),
            &[("rate = \"100/s\"", "rate = \"2500/s\"")],
        ));
        assert!(!codes(&s).contains(&"survivors-under-capacity"));
        // Losing the only unlimited site leaves 2000/s.
        let s = scenario(&joined(
            &joined(&AA, &[caps[0], caps[1]]),
            &[("rate = \"100/s\"", "rate = \"2500/s\"")],
        ));
        let m = message(&s, "survivors-under-capacity");
        assert!(
            m.starts_with("losing the active site dc-c (unlimited) leaves 2200/s"),
            "{m}"
        );
    }

    #[test]
    fn the_only_monitor_is_a_standby() {
        let s = scenario(&[("monitors = [\"dc-b\", \"dc-c\"]", "monitor = \"dc-b\"")]);
        assert!(message(&s, "monitor-is-standby").contains("standby dc-b"));
        let s = scenario(&[("monitors = [\"dc-b\", \"dc-c\"]", "monitors = [\"dc-b\"]")]);
        assert!(codes(&s).contains(&"monitor-is-standby"));
        // A witness site watching alone is not a standby.
        let s = scenario(&[("monitors = [\"dc-b\", \"dc-c\"]", "monitor = \"dc-c\"")]);
        assert_eq!(codes(&s), ["single-replication-link"]);
    }

    #[test]
    fn monitors_that_fail_with_what_they_watch() {
        let s = scenario(&joined(
            &AA,
            &[("monitors = [\"dc-b\", \"dc-c\"]", "monitors = [\"dc-a\"]")],
        ));
        assert!(message(&s, "monitor-shares-fate").contains("active site dc-a"));
        let s = scenario(&joined(
            &HYBRID,
            &[(
                "monitors = [\"dc-b\", \"dc-c\"]",
                "monitors = [\"dc-b\", \"dc-a\"]",
            )],
        ));
        assert!(message(&s, "monitor-shares-fate").contains("active region (ra)"));
        let s = scenario(&joined(
            &HYBRID,
            &[("monitors = [\"dc-b\", \"dc-c\"]", "monitors = [\"dc-c\"]")],
        ));
        assert_eq!(codes(&s), ["single-replication-link", "monitor-is-standby"]);
    }

    #[test]
    fn warnings_come_in_a_fixed_order() {
        let s = scenario(&[
            (
                "lat = 45.0\nlon = -60.0",
                "lat = 40.1\nlon = -75.1\ncapacity = \"10/s\"",
            ),
            (
                "monitors = [\"dc-b\", \"dc-c\"]",
                "monitor = \"dc-b\"\nfencing = \"none\"",
            ),
            ("max = \"10m\"", "max = \"20s\""),
        ]);
        assert_eq!(
            codes(&s),
            [
                "standby-too-close",
                "single-replication-link",
                "standby-under-capacity",
                "no-fencing",
                "monitor-is-standby",
                "dns-ttl-exceeds-rto",
                "detection-exceeds-rto",
            ]
        );
    }

    #[test]
    fn within_a_check_warnings_follow_scenario_order() {
        // Both standbys within 100 km of the primary (40, -75): dc-b at
        // (40.1, -75.1), 14 km, and dc-c at (40.2, -75.2), 28 km (0.2 degree
        // north, 22.2 km, and east, 17.1 km). One warning each, in the order
        // of `standbys`, whichever it is.
        let close = [
            ("lat = 45.0\nlon = -60.0", "lat = 40.1\nlon = -75.1"),
            ("lat = 50.0\nlon = 0.0", "lat = 40.2\nlon = -75.2"),
        ];
        let too_close = |standbys: &str| {
            let s = scenario(&joined(&close, &[("standbys = [\"dc-b\"]", standbys)]));
            lint(&s)
                .into_iter()
                .filter(|w| w.code == "standby-too-close")
                .map(|w| w.message)
                .collect::<Vec<_>>()
        };
        let b = "the standby dc-b is 14 km from the primary dc-a";
        let c = "the standby dc-c is 28 km from the primary dc-a";
        let bc = too_close("standbys = [\"dc-b\", \"dc-c\"]");
        assert_eq!(bc.len(), 2, "{bc:?}");
        assert!(bc[0].starts_with(b) && bc[1].starts_with(c), "{bc:?}");
        let cb = too_close("standbys = [\"dc-c\", \"dc-b\"]");
        assert_eq!(cb.len(), 2, "{cb:?}");
        assert!(cb[0].starts_with(c) && cb[1].starts_with(b), "{cb:?}");
    }
}
