//! Raw scenario -> validated `model::Scenario`. Every check that can fail on user
//! input lives here and reports the field it concerns; the engine trusts the result.
//! One function per TOML table, called in file order so that problems are
//! reported in a stable order.

mod active_active;
mod checker;
mod datacenters;
mod failover;
mod failures;
mod network;
mod replication;
mod simulation;
mod targets;
mod topology;
mod workload;

use crate::model::{self, HorizonMode, Scenario, Topology};

use super::error::{FieldPath, Problem};
use super::raw::*;
use checker::Checker;

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

    let c = &mut c;
    let sim = simulation::simulation(c, raw);
    let (regions, datacenters) = datacenters::datacenters(c, raw);
    let net = network::network(c, raw, &datacenters, aa);
    let sites = topology::topology(c, raw, &datacenters, aa, hybrid);
    let workload = workload::workload(c, raw, &regions, &datacenters);
    let replication = replication::replication(c, raw, &sites.standbys, aa);
    let failover = failover::failover(c, raw, &datacenters, &sites, aa, hybrid);
    let failure_domains = failures::failure_domains(c, raw, &datacenters, &net);
    let failures = failures::failures(c, raw, &regions, &datacenters, &net, &failure_domains, aa);
    let active_active = active_active::active_active(c, raw, aa);
    let targets = targets::targets(c, raw);
    let alerts = targets::alerts(c, raw, aa);
    let cost = targets::cost(c, raw);
    let sweep = targets::sweep(c, raw);

    if !c.problems.is_empty() {
        // A bad default_link value would otherwise be reported once per pair.
        let mut unique: Vec<Problem> = Vec::new();
        for p in std::mem::take(&mut c.problems) {
            if !unique
                .iter()
                .any(|u| u.path == p.path && u.message == p.message)
            {
                unique.push(p);
            }
        }
        return Err(unique);
    }
    let (Some(primary), Some(failover)) = (sites.primary, failover) else {
        return Err(vec![Problem::new(
            root.key("topology"),
            "topology is incomplete",
        )]);
    };
    Ok(Scenario {
        name: raw.name.clone(),
        description: raw.description.clone(),
        content_hash,
        horizon: sim.horizon,
        horizon_mode: sim.horizon_requested.then(|| HorizonMode {
            window: sim
                .per_write_window
                .unwrap_or_else(|| network::default_window(&net.links, &replication.shipping)),
            aggregate: raw.simulation.aggregate.unwrap_or(true),
        }),
        default_runs: raw.simulation.runs.unwrap_or(DEFAULT_RUNS),
        default_seed: raw.simulation.seed.unwrap_or(DEFAULT_SEED),
        max_events: raw.simulation.max_events.unwrap_or(DEFAULT_MAX_EVENTS),
        delay_s_per_km: net.delay_s_per_km,
        regions,
        datacenters,
        links: net.links,
        link_between: net.link_between,
        paths: net.paths,
        path_group: net.path_group,
        path_switch_delay: net.path_switch_delay,
        path_health_threshold: net.path_health_threshold,
        topology: Topology {
            primary,
            standbys: sites.standbys,
            active: sites.active,
        },
        architecture,
        active_active,
        workload,
        replication,
        failover,
        failures,
        failure_domains,
        alerts,
        targets,
        cost,
        sweep,
    })
}
