//! `[topology]`: who serves and who stands by, per architecture.

use crate::model::*;

use super::super::error::FieldPath;
use super::super::raw::*;
use super::checker::Checker;

pub(super) struct Sites {
    pub primary: Option<SiteId>,
    pub standbys: Vec<SiteId>,
    pub active: Vec<SiteId>,
}

/// `[topology]`.
pub(super) fn topology(
    c: &mut Checker,
    raw: &RawScenario,
    datacenters: &[Datacenter],
    aa: bool,
    hybrid: bool,
) -> Sites {
    let root = FieldPath::root();
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
            if let Some(id) = c.site(p.clone(), s, datacenters) {
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
                list(c, "active", names, &mut active, None);
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
                Some(names) if !names.is_empty() => list(c, "standbys", names, &mut standbys, None),
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
            Some(name) => c.site(topo.key("primary"), name, datacenters),
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
            Some(names) => list(c, "standbys", names, &mut standbys, primary),
            None => c.fail(
                topo.key("standbys"),
                "active-passive needs `standbys`: the datacenters that can take over (standbys = [] for a single site without DR)",
            ),
        }
        primary
    };
    Sites {
        primary,
        standbys,
        active,
    }
}
