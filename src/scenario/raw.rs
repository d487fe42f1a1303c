//! The scenario file as written: serde types mirroring the TOML, with units still
//! attached. Nothing here is trusted; `validate` turns it into a `model::Scenario`.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::units::{Bandwidth, Duration, Rate, Size};

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub architecture: Architecture,
    pub simulation: RawSimulation,
    #[serde(default)]
    pub network: RawNetwork,
    pub datacenters: Vec<RawDatacenter>,
    #[serde(default)]
    pub links: Vec<RawLinkParams>,
    pub topology: RawTopology,
    pub workload: RawWorkload,
    pub replication: RawReplication,
    pub failover: RawFailover,
    #[serde(default)]
    pub failures: Vec<RawFailure>,
    #[serde(default)]
    pub failure_domains: Vec<RawFailureDomain>,
    pub active_active: Option<RawActiveActive>,
    #[serde(default)]
    pub targets: Vec<RawTarget>,
    pub cost: Option<RawCost>,
    pub alerts: Option<RawAlerts>,
    /// Parameter grid for `drsim sweep`; ignored by other commands.
    pub sweep: Option<RawSweep>,
}

/// `[active_active]`: global routing, conflicts, capacity and sessions.
#[derive(Debug, JsonSchema, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawActiveActive {
    pub routing: Option<RawRouting>,
    pub conflict_resolution: Option<ConflictName>,
    pub keys: Option<RawKeys>,
    pub overload: Option<OverloadName>,
    pub max_queue_wait: Option<Duration>,
    pub sessions_replicated: Option<bool>,
}

#[derive(Debug, JsonSchema, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawRouting {
    pub distance_weight: Option<f64>,
    pub load_weight: Option<f64>,
    pub latency_weight: Option<f64>,
    pub updates: Option<RouteUpdatesName>,
}

#[derive(Debug, JsonSchema, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RouteUpdatesName {
    Dns,
    Anycast,
}

#[derive(Debug, JsonSchema, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictName {
    LastWriterWins,
    VersionVectors,
}

#[derive(Debug, JsonSchema, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum OverloadName {
    Shed,
    Queue,
}

#[derive(Debug, JsonSchema, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum KeyDistName {
    Uniform,
    Zipf,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeys {
    pub count: u64,
    pub distribution: Option<KeyDistName>,
    pub exponent: Option<f64>,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub metric: String,
    pub max: Option<Threshold>,
    pub min: Option<Threshold>,
    pub probability: f64,
}

/// A target threshold: a number in the metric's unit, or a duration ("5m")
/// for metrics in seconds or milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Threshold {
    Number(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Threshold;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number in the metric's unit, or a duration such as \"5m\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Threshold, E> {
                Ok(Threshold::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Threshold, E> {
                Ok(Threshold::Number(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Threshold, E> {
                Ok(Threshold::Number(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Threshold, E> {
                Ok(Threshold::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The monitoring system's alert thresholds (the reference design's defaults).
#[derive(Debug, JsonSchema, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    pub enabled: Option<bool>,
    pub interval: Option<Duration>,
    pub replication_lag: Option<Duration>,
    pub link_latency: Option<Duration>,
    pub packet_loss: Option<f64>,
    pub error_rate: Option<f64>,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    pub primary_site_monthly: f64,
    pub standby_site_monthly: f64,
    #[serde(default)]
    pub inter_region_per_gb: f64,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub params: Vec<RawSweepParam>,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweepParam {
    /// Dotted path of the swept field, e.g. "replication.interval".
    pub path: String,
    /// The values, in the command-line syntax: "0.1s..10s:log:12" or "5s,10s,30s".
    pub values: String,
}

#[derive(Debug, JsonSchema, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Architecture {
    ActivePassive,
    ActiveActive,
    Hybrid,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    pub duration: Duration,
    pub runs: Option<u32>,
    pub seed: Option<u64>,
    pub max_events: Option<u64>,
    pub mode: Option<RawRunMode>,
    pub per_write_window: Option<Duration>,
    pub aggregate: Option<bool>,
}

#[derive(Debug, JsonSchema, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RawRunMode {
    /// One incident, every write simulated.
    Incident,
    /// Years of random failures; writes in aggregate between disturbances.
    Horizon,
}

#[derive(Debug, JsonSchema, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    pub fibre_us_per_km: Option<f64>,
    pub route_inflation: Option<f64>,
    /// Time to move traffic to another path once the active one is unhealthy.
    pub path_switch_delay: Option<Duration>,
    /// Paths scoring at or below this are unhealthy (the reference design's 0.7).
    pub path_health_threshold: Option<f64>,
    #[serde(default)]
    pub default_link: RawLinkParams,
}

/// Link parameters; every field optional so that `[[links]]` entries override
/// only what they name on top of `network.default_link`.
#[derive(Debug, JsonSchema, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawLinkParams {
    /// The two datacenters a `[[links]]` entry joins; not allowed in `default_link`.
    pub between: Option<Vec<String>>,
    pub latency: Option<Duration>,
    pub jitter: Option<DistSpec<Duration>>,
    pub loss: Option<f64>,
    pub bandwidth: Option<Bandwidth>,
    pub retransmit_timeout: Option<Duration>,
    pub max_attempts: Option<u32>,
    /// A `[[links]]` entry's path name (default "primary"), or a backup's.
    pub name: Option<String>,
    /// `[[links.backup]]`: other paths between the same two datacenters
    /// (another provider or route), used when the active one is unhealthy.
    #[serde(default)]
    pub backup: Vec<RawLinkParams>,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatacenter {
    pub id: String,
    pub region: String,
    pub lat: f64,
    pub lon: f64,
    /// Requests per second the site can serve (active-active).
    pub capacity: Option<Rate>,
    /// How far the site's clock is ahead of true time (may be negative: "-3ms").
    pub clock_offset: Option<String>,
    /// Clock drift in parts per million (positive: runs fast).
    pub clock_drift_ppm: Option<f64>,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopology {
    /// Active-passive: the primary.
    pub primary: Option<String>,
    /// Active-passive: the standbys, in promotion-preference order.
    pub standbys: Option<Vec<String>>,
    /// Active-active: every site serving reads and writes.
    pub active: Option<Vec<String>>,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub rate: Rate,
    pub write_size: Option<DistSpec<Size>>,
    /// What a site does with requests beyond its `capacity` (every design).
    pub overload: Option<OverloadName>,
    pub max_queue_wait: Option<Duration>,
    pub clients: Vec<RawClientGroup>,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClientGroup {
    pub region: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub share: Option<f64>,
    pub count: Option<u32>,
    pub access_rtt: Option<Duration>,
}

#[derive(Debug, JsonSchema, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ReplicationModeName {
    Sync,
    SemiSync,
    Async,
}

#[derive(Debug, JsonSchema, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ShippingName {
    Continuous,
    Periodic,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReplication {
    pub mode: ReplicationModeName,
    pub acks: Option<u32>,
    pub shipping: Option<ShippingName>,
    pub interval: Option<Duration>,
    pub ack_size: Option<Size>,
}

#[derive(Debug, JsonSchema, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FailoverModeName {
    Automatic,
    Manual,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFailover {
    pub mode: FailoverModeName,
    pub operator_delay: Option<DistSpec<Duration>>,
    pub monitor: Option<String>,
    /// Failover-manager replicas in preference order (instead of `monitor`).
    pub monitors: Option<Vec<String>>,
    pub health_check: RawHealthCheck,
    #[serde(default)]
    pub drain: RawDrain,
    pub promotion: Option<DistSpec<Duration>>,
    /// A repaired old primary rejoins as a standby (default true).
    pub rejoin: Option<bool>,
    /// Return the primary role to the original primary once it has resynced.
    pub failback: Option<bool>,
    /// Wait between the end of its resync and the failback.
    pub failback_delay: Option<Duration>,
    /// How the old primary is stopped at failover.
    pub fencing: Option<FencingName>,
    /// The third site of a quorum witness.
    pub witness: Option<String>,
    pub dns: RawDns,
}

#[derive(Debug, JsonSchema, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FencingName {
    Stonith,
    None,
    QuorumWitness,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealthCheck {
    pub interval: Duration,
    pub timeout: Duration,
    pub threshold: u32,
}

#[derive(Debug, JsonSchema, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawDrain {
    pub wait: Option<bool>,
    pub timeout: Option<Duration>,
}

#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDns {
    pub ttl: Duration,
    pub update_delay: Option<DistSpec<Duration>>,
    pub stale_client_fraction: Option<f64>,
    pub stale_client_delay: Option<Duration>,
}

#[derive(Debug, JsonSchema, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKindName {
    DatacenterOutage,
    RegionOutage,
    LinkDown,
    LinkDegraded,
    Partition,
    DomainOutage,
    GrayFailure,
    ReplicationStall,
}

/// Something several sites and links depend on (a power feed, a network
/// provider): a `domain-outage` takes them all down at once.
#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFailureDomain {
    pub id: String,
    #[serde(default)]
    pub datacenters: Vec<String>,
    #[serde(default)]
    pub links: Vec<Vec<String>>,
}

/// One `[[failures]]` entry. A flat struct (not a tagged enum) so that a bad
/// value is reported at its own field; `validate` checks which fields a kind takes.
#[derive(Debug, JsonSchema, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFailure {
    pub kind: FailureKindName,
    pub target: Option<String>,
    /// `region-outage`: the region whose datacenters all fail together.
    pub region: Option<String>,
    pub link: Option<Vec<String>>,
    pub at: Option<DistSpec<Duration>>,
    pub duration: Option<DistSpec<Duration>>,
    /// Recurring failures: time from each repair to the next failure.
    pub every: Option<DistSpec<Duration>>,
    pub latency_multiplier: Option<f64>,
    pub extra_loss: Option<f64>,
    /// `link-degraded`: fraction of the bandwidth left (a cut to 0.1 leaves 10%).
    pub bandwidth_factor: Option<f64>,
    /// `partition`: two or more groups of datacenters cut off from each other.
    pub sides: Option<Vec<Vec<String>>>,
    /// `domain-outage`: the failure domain that fails.
    pub domain: Option<String>,
    /// `gray-failure`: probability that a health check of the site fails.
    pub check_failure: Option<f64>,
    /// `gray-failure`: probability that a write at the site fails.
    pub write_failure: Option<f64>,
}

/// A random quantity: either a plain value ("30s") or a table naming a
/// distribution ({ dist = "lognormal", median = "2ms", sigma = 0.5 }).
#[derive(Debug, Clone)]
pub enum DistSpec<Q> {
    Constant(Q),
    Table(DistTable<Q>),
}

#[derive(Debug, JsonSchema, Deserialize, Clone)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
#[schemars(rename = "Distribution_of_{Q}")]
pub enum DistTable<Q> {
    Constant { value: Q },
    Uniform { min: Q, max: Q },
    Normal { mean: Q, sd: Q },
    Lognormal { median: Q, sigma: f64 },
    Pareto { scale: Q, shape: f64 },
    Exponential { mean: Q },
    Weibull { scale: Q, shape: f64 },
}

impl<'de, Q: Deserialize<'de>> Deserialize<'de> for DistSpec<Q> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<Q>(std::marker::PhantomData<Q>);
        impl<'de, Q: Deserialize<'de>> Visitor<'de> for V<Q> {
            type Value = DistSpec<Q>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a value with a unit (\"30s\") or a distribution table such as \
                     { dist = \"uniform\", min = \"10s\", max = \"60s\" }",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Q::deserialize(de::value::StrDeserializer::<E>::new(s)).map(DistSpec::Constant)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                DistTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(DistSpec::Table)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

// JSON Schema of the quantities that are strings with a unit (see `drsim
// schema`): a loose pattern (a number, then a unit) that accepts every valid
// value; the validator gives the precise errors.
macro_rules! unit_schema {
    ($ty:ident, $pattern:expr, $description:expr, $examples:expr) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "pattern": $pattern,
                    "description": $description,
                    "examples": $examples,
                })
            }
        }
    };
}

unit_schema!(
    Duration,
    r"^\s*[0-9._]+\s*(ns|us|µs|ms|s|sec|m|min|h|d|y)\s*$",
    "A duration with a unit: ns, us, ms, s, m (min), h, d, y.",
    ["250ms", "30s", "5m", "2h", "1d"]
);
unit_schema!(
    Rate,
    r"^\s*[0-9._]+\s*/\s*(s|sec|m|min|h|d)\s*$",
    "A rate: a count per unit of time.",
    ["1000/s", "60/min", "5/h"]
);
unit_schema!(
    Size,
    r"^\s*[0-9._]+\s*(B|KB|kB|MB|GB|KiB|MiB|GiB)\s*$",
    "A size with a unit: B, KB, MB, GB, KiB, MiB, GiB.",
    ["512B", "4KiB", "1MB"]
);
unit_schema!(
    Bandwidth,
    r"^\s*[0-9._]+\s*(bps|Kbps|kbps|Mbps|Gbps|Tbps)\s*$",
    "A bandwidth with a unit: bps, Kbps, Mbps, Gbps, Tbps.",
    ["100Mbps", "1Gbps"]
);

impl JsonSchema for Threshold {
    fn schema_name() -> Cow<'static, str> {
        "Threshold".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A number in the metric's unit, or a duration such as \"5m\" for metrics in seconds or milliseconds.",
            "type": ["number", "string"],
        })
    }
}

impl<Q: JsonSchema> JsonSchema for DistSpec<Q> {
    fn schema_name() -> Cow<'static, str> {
        format!("Random_{}", Q::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let value = generator.subschema_for::<Q>();
        let table = generator.subschema_for::<DistTable<Q>>();
        json_schema!({
            "description": "A fixed value, or a table naming a distribution, e.g. { dist = \"uniform\", min = \"10s\", max = \"60s\" }.",
            "anyOf": [value, table],
        })
    }
}

/// The JSON Schema of the scenario format, generated from these types.
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(RawScenario);
    schema.insert(
        "title".into(),
        serde_json::Value::String("drsim scenario".into()),
    );
    schema.insert(
        "description".into(),
        serde_json::Value::String(
            "A drsim scenario file (TOML), see docs/scenarios.md. Generated by `drsim schema`; the checks of `drsim validate` (ranges, references between fields) go further.".into(),
        ),
    );
    let mut value = schema.to_value();
    drop_null(&mut value);
    value
}

/// TOML has no null: an optional field is one that may be left out, so the
/// `null` alternatives schemars gives `Option` fields go.
fn drop_null(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(alts)) = map.get_mut("anyOf") {
                alts.retain(|a| {
                    a.get("type").is_none_or(|t| t != "null")
                        || a.as_object().is_some_and(|o| o.len() > 1)
                });
                if alts.len() == 1 {
                    let only = alts.remove(0);
                    map.remove("anyOf");
                    if let Value::Object(inner) = only {
                        for (k, x) in inner {
                            map.entry(k).or_insert(x);
                        }
                    }
                }
            }
            for x in map.values_mut() {
                drop_null(x);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}
