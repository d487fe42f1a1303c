//! `drsim init`: a commented scenario template to start from.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;

/// The template `drsim init` writes: active-passive between two sites, with a
/// quorum witness in a third. Every main table is present, with its defaults
/// explained; the integration tests validate and run it.
pub const TEMPLATE: &str = r#"# A drsim scenario (written by `drsim init`). Every field is documented in
# docs/scenarios.md; the values below are a reasonable start, not advice.
#
#   drsim validate THIS_FILE        check it (errors name line, column and field)
#   drsim run THIS_FILE             run it, write output/<name>/ and print a summary
#
# The design: a primary in us-east replicates asynchronously to a standby in
# eu-west; a failover manager beside the standby checks the primary and fails
# over after consecutive failed checks; a quorum witness in us-west stops a
# failover when only the transatlantic link is cut. The incident: the primary
# datacenter is lost some time between minute 10 and minute 30.
#
# Durations are strings with a unit ("250ms", "30s", "5m", "1h", "365d"),
# sizes "1KiB", "64B", rates "100/s", bandwidths "1Gbps". Where a field takes
# a distribution: { dist = "uniform", min = "5s", max = "30s" }, or
# "exponential", "lognormal", "normal", "weibull", "pareto", "constant".

name = "my-active-passive"          # required; the output folder is output/<name>
description = "us-east primary, eu-west standby, quorum witness in us-west"
architecture = "active-passive"     # or "active-active", "hybrid"

# How long each run lasts and how many runs (both overridable on the command line).
[simulation]
duration = "1h"          # required: simulated time of each run
runs = 200               # default 100; --runs overrides it
seed = 42                # default 1; --seed overrides it; same seed, same results
# mode = "incident"      # default; "horizon" simulates years of recurring failures
# max_events = 2000000000  # default safety limit on events in one run

# Distances become delays: one-way latency = great-circle km x route_inflation
# x fibre_us_per_km, unless a link gives `latency`. The whole table is optional.
[network]
fibre_us_per_km = 5.0    # default 5.0
route_inflation = 1.5    # default 1.5

# Settings of every link between two datacenters (override one pair with [[links]]).
[network.default_link]
jitter = { dist = "lognormal", median = "2ms", sigma = 0.5 }   # default none
loss = 0.001             # default 0: probability that one transmission is lost
bandwidth = "1Gbps"      # default unlimited
retransmit_timeout = "200ms"   # default "200ms", doubling after each loss
max_attempts = 6         # default 6, then the replication stream reconnects

# The sites: id, region and coordinates are required.
[[datacenters]]
id = "us-east-1"
region = "us-east"
lat = 38.9               # northern Virginia
lon = -77.4

[[datacenters]]
id = "eu-west-1"
region = "eu-west"
lat = 53.3               # Dublin
lon = -6.3

[[datacenters]]
id = "us-west-2"         # the witness: serves no clients, holds no data
region = "us-west"
lat = 45.6               # Oregon
lon = -121.2

# Override one pair of datacenters (optional): here a second, diverse path for
# replication, used when the first is down or unhealthy.
[[links]]
between = ["us-east-1", "eu-west-1"]
name = "carrier-a"       # default "primary"

[[links.backup]]
name = "carrier-b"       # required; failures can target a path by name
latency = "60ms"         # default: from the distance, as for every link
bandwidth = "500Mbps"

# Who is primary and who may be promoted (in preference order).
[topology]
primary = "us-east-1"
standbys = ["eu-west-1"]

# Writes arrive as a Poisson process at `rate`, from client groups.
[workload]
rate = "100/s"           # required: total writes per second
write_size = { dist = "lognormal", median = "1KiB", sigma = 0.8 }   # default "1KiB"

[[workload.clients]]
region = "us-east"       # placed at the mean position of the region's datacenters
share = 0.6              # default 1; relative weight in the write rate
count = 200              # default 100 clients, each with its own DNS cache
# access_rtt = "2ms"     # default last-mile round trip

[[workload.clients]]
region = "eu-west"
share = 0.4
count = 200

# When a write is acknowledged: "sync" (every standby confirmed), "semi-sync"
# (with acks = k), "async" (at commit on the primary).
[replication]
mode = "async"
shipping = "periodic"    # default "continuous" (one message per write)
interval = "1s"          # required with periodic shipping: time between batches

# The failover chain: checks -> declared down -> fence -> drain -> promote -> DNS.
[failover]
mode = "automatic"       # or "manual", with operator_delay = "5m" (or a distribution)
monitors = ["eu-west-1", "us-west-2"]   # default: the standbys; a replicated manager
promotion = { dist = "uniform", min = "20s", max = "60s" }   # default "30s"
fencing = "quorum-witness"   # default "stonith"; "none" allows a split brain
witness = "us-west-2"    # required with quorum-witness
# rejoin = true          # default: a repaired old primary rejoins as a standby
# failback = false       # default: stay on the new primary

[failover.health_check]
interval = "10s"         # required: time between checks
timeout = "2s"           # required: <= interval
threshold = 3            # required: consecutive failures that declare the primary down

# Optional; these are the defaults.
[failover.drain]
wait = true              # wait for replication on the way before promoting
timeout = "5m"           # longest wait

[failover.dns]
ttl = "60s"              # required: clients refresh their cached entry once per TTL
update_delay = { dist = "uniform", min = "5s", max = "30s" }   # default "0s"
# stale_client_fraction = 0   # default: every client honours the TTL

# What goes wrong in each run (optional; without failures nothing happens).
# Other kinds: region-outage, link-down, link-degraded, partition,
# domain-outage, gray-failure, replication-stall.
[[failures]]
kind = "datacenter-outage"
target = "us-east-1"
at = { dist = "uniform", min = "10m", max = "30m" }
# no duration: the site stays down for the rest of the run

# Service-level targets (optional): drsim reports the probability of meeting
# each with a 95% interval and exits 0 when all pass, 2 when one fails, 3 when
# more runs are needed to decide.
[[targets]]
metric = "rto_s"         # any runs.csv column (docs/metrics.md)
max = "5m"
probability = 0.99

[[targets]]
metric = "lost_writes"
max = 200
probability = 0.95

# Monthly cost (optional), for comparisons and sweeps.
[cost]
primary_site_monthly = 40000
standby_site_monthly = 25000
inter_region_per_gb = 0.02
"#;

/// Writes the template to `file` (never over an existing file), or prints it
/// on stdout without a file.
pub fn execute(file: Option<&Path>) -> anyhow::Result<()> {
    let Some(path) = file else {
        std::io::stdout()
            .write_all(TEMPLATE.as_bytes())
            .context("writing the template to stdout")?;
        return Ok(());
    };
    let mut f = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
            "{} already exists; drsim init does not overwrite files: give another name or remove it first",
            path.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
    };
    f.write_all(TEMPLATE.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!(
        "wrote {0}; check it with `drsim validate {0}`, run it with `drsim run {0}`",
        path.display()
    );
    Ok(())
}
