//! `[[failure_domains]]` and `[[failures]]`: what fails, when and for how long.

use crate::model::{self, *};

use super::super::error::FieldPath;
use super::super::raw::*;
use super::checker::Checker;
use super::network::{Network, named_link};

pub(super) fn failure_domains(
    c: &mut Checker,
    raw: &RawScenario,
    datacenters: &[Datacenter],
    network: &Network,
) -> Vec<model::FailureDomain> {
    let root = FieldPath::root();
    let (links, link_between, paths) = (&network.links, &network.link_between, &network.paths);
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
            .filter_map(|(j, name)| c.site(p.key("datacenters").index(j), name, datacenters))
            .collect();
        let mut domain_links = Vec::new();
        for (j, pair) in d.links.iter().enumerate() {
            let lp = p.key("links").index(j);
            if let Some(l) = named_link(c, &lp, pair, datacenters, link_between, paths, links) {
                domain_links.push(l);
            }
        }
        failure_domains.push(model::FailureDomain {
            name: d.id.clone(),
            sites,
            links: domain_links,
        });
    }
    failure_domains
}

/// `[[failures]]`.
pub(super) fn failures(
    c: &mut Checker,
    raw: &RawScenario,
    regions: &[String],
    datacenters: &[Datacenter],
    network: &Network,
    failure_domains: &[model::FailureDomain],
    aa: bool,
) -> Vec<FailureSpec> {
    let root = FieldPath::root();
    let (links, link_between, paths) = (&network.links, &network.link_between, &network.paths);
    // Failures.
    let mut failures = Vec::new();
    for (i, fl) in raw.failures.iter().enumerate() {
        let p = root.key("failures").index(i);
        let link_of = |c: &mut Checker, pair: &Vec<String>| -> Option<usize> {
            named_link(
                c,
                &p.key("link"),
                pair,
                datacenters,
                link_between,
                paths,
                links,
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
        needs(c, "target", fl.target.is_some(), site_target);
        let link_kind = is(FailureKindName::LinkDown) || is(FailureKindName::LinkDegraded);
        needs(c, "link", fl.link.is_some(), link_kind);
        needs(
            c,
            "sides",
            fl.sides.is_some(),
            is(FailureKindName::Partition),
        );
        needs(
            c,
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
                needs(c, field, true, false);
            }
        }
        if (gray || is(FailureKindName::ReplicationStall)) && aa {
            c.fail(
                p.key("kind"),
                "gray-failure and replication-stall apply to active-passive only so far",
            );
        }
        needs(
            c,
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
                needs(c, field, true, false);
            }
        }
        let kind = match fl.kind {
            FailureKindName::DatacenterOutage => fl
                .target
                .as_ref()
                .and_then(|t| c.site(p.key("target"), t, datacenters))
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
                .and_then(|l| link_of(c, l))
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
                        if let Some(s) = c.site(sp.index(k), name, datacenters) {
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
                    .and_then(|t| c.site(p.key("target"), t, datacenters))
                    .map(|site| FailureKind::GrayFailure {
                        site,
                        check_failure,
                        write_failure,
                    })
            }
            FailureKindName::ReplicationStall => fl
                .target
                .as_ref()
                .and_then(|t| c.site(p.key("target"), t, datacenters))
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
                    .and_then(|l| link_of(c, l))
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
    failures
}
