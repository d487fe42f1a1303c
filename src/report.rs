//! Everything a run leaves behind: runs.csv, summary.json, the terminal table.
//! Reads results only; never touches the model.

pub mod html;
pub mod output;
pub mod plot;
pub mod table;
pub mod timeline;

use serde::Serialize;

use crate::metrics::row::{IncidentSample, RunRow};
use crate::metrics::summary::MetricSummary;
use crate::model::Scenario;

/// The contents of summary.json.
#[derive(Serialize)]
pub struct SummaryFile<'a> {
    pub drsim_version: &'static str,
    pub scenario: ScenarioInfo<'a>,
    pub runs: u64,
    pub master_seed: u64,
    /// A command that reproduces these files exactly.
    pub reproduce: String,
    pub metrics: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
pub struct ScenarioInfo<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub file: &'a str,
    pub sha256: &'a str,
}

pub fn runs_csv(rows: &[RunRow]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// incidents.csv: every incident of every run, in run order.
pub fn incidents_csv(rows: &[RunRow]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut any = false;
    for i in rows.iter().flat_map(|r| &r.incident_log) {
        w.serialize(i)?;
        any = true;
    }
    if !any {
        w.write_record(INCIDENT_COLUMNS)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The columns of incidents.csv (the fields of `IncidentSample`).
pub const INCIDENT_COLUMNS: [&str; 9] = [
    "run",
    "incident",
    "start_s",
    "detection_s",
    "rto_first_s",
    "rto_s",
    "drain_wait_s",
    "lost_writes",
    "rpo_s",
];

/// Parses incidents.csv (as `incidents_csv` writes it).
pub fn parse_incidents_csv(bytes: &[u8]) -> Result<Vec<IncidentSample>, String> {
    let mut r = csv::Reader::from_reader(bytes);
    r.deserialize()
        .map(|rec| rec.map_err(|e| e.to_string()))
        .collect()
}

pub fn summary_json(
    scenario: &Scenario,
    file: &str,
    runs: u64,
    master_seed: u64,
    reproduce: String,
    summary: &[MetricSummary],
) -> Result<Vec<u8>, serde_json::Error> {
    let mut metrics = serde_json::Map::new();
    for m in summary {
        let mut v = serde_json::to_value(m)?;
        if let Some(obj) = v.as_object_mut() {
            obj.remove("metric");
        }
        metrics.insert(m.metric.to_string(), v);
    }
    let s = SummaryFile {
        drsim_version: env!("CARGO_PKG_VERSION"),
        scenario: ScenarioInfo {
            name: &scenario.name,
            description: &scenario.description,
            file,
            sha256: &scenario.content_hash,
        },
        runs,
        master_seed,
        reproduce,
        metrics,
    };
    let mut out = serde_json::to_vec_pretty(&s)?;
    out.push(b'\n');
    Ok(out)
}
