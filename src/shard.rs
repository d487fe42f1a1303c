//! Sharded studies: one study split over many machines, then merged.
//!
//! A study (`run`, `compare`, `sweep`) is a list of work units: unit u is run
//! `u % runs` of group `u / runs` (the scenario of `compare`, the grid point of
//! `sweep`, the only scenario of `run`). A unit's seed is `run_seed(master,
//! u % runs)`, whatever machine runs it. Shard K of N runs the units whose index
//! is K modulo N and writes a folder:
//!
//! - `manifest.json`: what the whole study is (kind, scenario files and their
//!   sha256, sweep parameters, runs, master seed, drsim version) and which
//!   shard this is;
//! - `incidents.csv` (run studies): the incidents of the shard's runs;
//! - `rows.csv`: the shard's rows, a `unit` column then the runs.csv columns;
//! - `scenario-<i>.toml`: the scenario files as they were read.
//!
//! `drsim merge` loads the folders, checks that every manifest describes the
//! same study, that every shard is there exactly once and that every unit is
//! present exactly once with the seed it must have, and only then hands the
//! rows (in unit order) to the study's normal rendering code. Any problem is
//! reported, all at once, before anything is written.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::base::rng::run_seed;
use crate::metrics::row::RunRow;
use crate::runner::Units;

/// The layout of a shard folder; bumped when it changes incompatibly.
pub const FORMAT: &str = "drsim-shard/1";
pub const MANIFEST: &str = "manifest.json";
pub const ROWS: &str = "rows.csv";
/// Every incident of the shard's runs (run studies only: runs.csv's companion).
pub const INCIDENTS: &str = "incidents.csv";
/// More shards than this is surely a typo (and would mostly be empty).
pub const MAX_SHARDS: u64 = 1_000_000;

/// Shard K of N (0 <= K < N).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn new(index: u64, count: u64) -> Result<Shard, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!(
                "the shard count must be between 1 and {MAX_SHARDS}, not {count}"
            ));
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is not below the shard count {count}: shards are numbered 0 to {}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// This shard's units among `total`: index, index + count, ...
    pub fn units(self, total: u64) -> Units {
        let count = if self.index < total {
            (total - self.index - 1) / self.count + 1
        } else {
            0
        };
        Units {
            first: self.index,
            step: self.count,
            count,
        }
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

const SHARD_HELP: &str = "write K/N (shard K of N, numbered from 0: 0/4, 1/4, 2/4, 3/4) or auto (K and N from a Slurm job array or a Kubernetes Indexed Job)";

/// The value of `--shard`: explicit, or read from the job's environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardArg {
    Fixed(Shard),
    Auto,
}

impl FromStr for ShardArg {
    type Err = String;

    fn from_str(s: &str) -> Result<ShardArg, String> {
        if s == "auto" {
            return Ok(ShardArg::Auto);
        }
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("bad shard \"{s}\": {SHARD_HELP}"))?;
        let num = |x: &str| {
            x.trim().parse::<u64>().map_err(|_| {
                format!("bad shard \"{s}\": \"{x}\" is not a whole number; {SHARD_HELP}")
            })
        };
        Shard::new(num(k)?, num(n)?)
            .map(ShardArg::Fixed)
            .map_err(|e| format!("bad shard \"{s}\": {e}"))
    }
}

impl ShardArg {
    /// The shard, reading the process environment for `auto`.
    pub fn resolve(self) -> Result<Shard, String> {
        match self {
            ShardArg::Fixed(s) => Ok(s),
            ShardArg::Auto => from_env(|k| std::env::var(k).ok()),
        }
    }
}

/// `--shard auto`: a Slurm job array (SLURM_ARRAY_TASK_ID, _COUNT, _MIN,
/// _STEP, _MAX: `--array=0-7`, `--array=1-8` and `--array=0-14:2` all give
/// shards 0/8 to 7/8), else a Kubernetes Indexed Job (JOB_COMPLETION_INDEX,
/// with the count in DRSIM_SHARD_COUNT since Kubernetes does not export it).
pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
    let num = |name: &str| -> Result<Option<u64>, String> {
        match var(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("--shard auto: {name}={v:?} is not a whole number")),
        }
    };
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let count = num("SLURM_ARRAY_TASK_COUNT")?.ok_or(
            "--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not (Slurm sets both in a job array)",
        )?;
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let step = num("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
        let last = count
            .checked_sub(1)
            .and_then(|c| c.checked_mul(step))
            .and_then(|c| c.checked_add(min));
        let max = num("SLURM_ARRAY_TASK_MAX")?.or(last);
        if id < min || (id - min) % step != 0 || last.is_none() || last != max {
            return Err(format!(
                "--shard auto: the Slurm job array is not a plain range (task {id}, count {count}, min {min}, step {step}, max {}); submit it with --array=0-{} or give --shard K/N",
                max.map_or("unset".to_string(), |m| m.to_string()),
                count.saturating_sub(1)
            ));
        }
        return Shard::new((id - min) / step, count).map_err(|e| format!("--shard auto: {e}"));
    }
    if let Some(index) = num("JOB_COMPLETION_INDEX")? {
        let count = num("DRSIM_SHARD_COUNT")?.ok_or(
            "--shard auto: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but DRSIM_SHARD_COUNT is not; set it to the Job's completions",
        )?;
        return Shard::new(index, count).map_err(|e| format!("--shard auto: {e}"));
    }
    Err("--shard auto needs a Slurm job array (SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX and DRSIM_SHARD_COUNT); elsewhere give --shard K/N".into())
}

/// Which command the study is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Run,
    Compare,
    Sweep,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Compare => "compare",
            Kind::Sweep => "sweep",
        }
    }
}

/// Everything that decides a study's results and files, except the output
/// folder: merging rebuilds the study from this and renders it like the
/// single-machine command would.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudySpec {
    pub kind: Kind,
    /// The scenario files, named as on the command line (the name appears in
    /// the outputs), in command-line order.
    pub scenarios: Vec<ScenarioFile>,
    /// `sweep` only: the --param specs as given; empty means the scenario's
    /// [sweep] table.
    pub params: Vec<String>,
    pub runs: u64,
    pub master_seed: u64,
    /// How many scenarios (`compare`) or grid points (`sweep`) are each run
    /// `runs` times; 1 for `run`.
    pub groups: u64,
}

impl StudySpec {
    /// Work units of the whole study.
    pub fn units(&self) -> u64 {
        self.runs * self.groups
    }

    /// How a unit index maps to a run, for error messages.
    pub fn unit_rule(&self) -> String {
        let r = self.runs;
        match self.kind {
            Kind::Run => "unit u is run u".into(),
            Kind::Compare => format!("unit u is run u % {r} of scenario u / {r}"),
            Kind::Sweep => format!("unit u is run u % {r} of grid point u / {r}"),
        }
    }

    /// "run 3 of grid point 2" for unit u, for error messages.
    pub fn describe_unit(&self, u: u64) -> String {
        let (g, r) = (u / self.runs.max(1), u % self.runs.max(1));
        match self.kind {
            Kind::Run => format!("unit {u} (run {r})"),
            Kind::Compare => format!("unit {u} (run {r} of scenario {g})"),
            Kind::Sweep => format!("unit {u} (run {r} of grid point {g})"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub file: String,
    pub name: String,
    pub sha256: String,
    /// The copy in the shard folder.
    pub copy: String,
}

/// The contents of manifest.json.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub drsim_version: String,
    pub study: StudySpec,
    pub shard: ShardInfo,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardInfo {
    pub index: u64,
    pub count: u64,
    /// Work units of the whole study (runs x groups).
    pub units_total: u64,
    /// Units in this shard (indices equal to `index` modulo `count`): the rows of rows.csv.
    pub units: u64,
}

/// The files of one shard folder, rendered in memory.
pub fn shard_files(
    spec: &StudySpec,
    texts: &[&str],
    shard: Shard,
    rows: &[RunRow],
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let units = shard.units(spec.units());
    anyhow::ensure!(
        rows.len() as u64 == units.count && texts.len() == spec.scenarios.len(),
        "internal error: shard {shard} has {} rows for {} units and {} texts for {} scenarios",
        rows.len(),
        units.count,
        texts.len(),
        spec.scenarios.len()
    );
    let manifest = Manifest {
        format: FORMAT.into(),
        drsim_version: env!("CARGO_PKG_VERSION").into(),
        study: spec.clone(),
        shard: ShardInfo {
            index: shard.index,
            count: shard.count,
            units_total: spec.units(),
            units: units.count,
        },
    };
    let mut json = serde_json::to_vec_pretty(&manifest)?;
    json.push(b'\n');
    let mut files = vec![(MANIFEST.to_string(), json)];
    files.push((ROWS.to_string(), rows_csv(units, rows)?));
    if spec.kind == Kind::Run {
        files.push((INCIDENTS.to_string(), crate::report::incidents_csv(rows)?));
    }
    for (f, text) in spec.scenarios.iter().zip(texts) {
        files.push((f.copy.clone(), text.as_bytes().to_vec()));
    }
    Ok(files)
}

#[derive(Serialize)]
struct UnitColumn {
    unit: u64,
}

/// rows.csv: `unit` then the runs.csv columns (the same serialization, so
/// the columns follow `RunRow` wherever it goes). Empty for an empty shard.
pub fn rows_csv(units: Units, rows: &[RunRow]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for (j, row) in rows.iter().enumerate() {
        w.serialize((
            UnitColumn {
                unit: units.nth(j as u64),
            },
            row,
        ))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The runs.csv columns this drsim writes (taken from a row, so never stale).
pub fn columns(row: &RunRow) -> Vec<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let bytes = w
        .serialize(row)
        .ok()
        .and_then(|()| w.into_inner().ok())
        .unwrap_or_default();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    r.headers()
        .map(|h| h.iter().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Rows of a shard with their unit indices.
pub type UnitRows = Vec<(u64, RunRow)>;

/// Parses rows.csv: its header (without `unit`) and (unit, row) pairs.
/// serde fills a missing optional column with `None` (unknown ones are
/// refused), so `merge` also compares the header with this drsim's columns.
pub fn parse_rows_csv(bytes: &[u8]) -> Result<(Vec<String>, UnitRows), String> {
    if bytes.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut r = csv::Reader::from_reader(bytes);
    let headers = r.headers().map_err(|e| e.to_string())?.clone();
    if headers.get(0) != Some("unit") {
        return Err(format!(
            "the first column must be \"unit\", found {:?}",
            headers.get(0).unwrap_or("")
        ));
    }
    let row_headers: csv::StringRecord = headers.iter().skip(1).collect();
    let mut rows = Vec::new();
    for record in r.records() {
        let record = record.map_err(|e| e.to_string())?;
        let line = record.position().map_or(0, |p| p.line());
        let unit = record
            .get(0)
            .and_then(|u| u.parse::<u64>().ok())
            .ok_or_else(|| format!("line {line}: the unit is not a whole number"))?;
        let fields: csv::StringRecord = record.iter().skip(1).collect();
        let row: RunRow = fields
            .deserialize(Some(&row_headers))
            .map_err(|e| format!("line {line}: {e}"))?;
        rows.push((unit, row));
    }
    Ok((row_headers.iter().map(str::to_string).collect(), rows))
}

/// One shard folder as read from disk.
pub struct ShardDir {
    /// The folder as given on the command line (messages name it).
    pub dir: String,
    pub manifest: Manifest,
    pub texts: Vec<String>,
    /// rows.csv's columns after `unit` (empty for an empty shard).
    pub columns: Vec<String>,
    pub rows: UnitRows,
}

/// Reads a shard folder; problems name the file and what was expected.
pub fn load_dir(dir: &Path) -> Result<ShardDir, Vec<String>> {
    let name = dir.display().to_string();
    let path = dir.join(MANIFEST);
    let bytes = std::fs::read(&path).map_err(|e| {
        vec![format!(
            "{}: cannot read it ({e}); give the folders written by `drsim run|compare|sweep ... --shard K/N --out DIR`",
            path.display()
        )]
    })?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        vec![format!(
            "{}: not a drsim shard manifest ({e})",
            path.display()
        )]
    })?;
    if manifest.format != FORMAT {
        return Err(vec![format!(
            "{}: format {:?}, this drsim reads {FORMAT:?}",
            path.display(),
            manifest.format
        )]);
    }
    let mut problems = Vec::new();
    let mut texts = Vec::new();
    for f in &manifest.study.scenarios {
        let copy = dir.join(&f.copy);
        match std::fs::read_to_string(&copy) {
            Ok(text) => {
                let hash = sha256_hex(text.as_bytes());
                if hash != f.sha256 {
                    problems.push(format!(
                        "{}: sha256 {hash} but the manifest says {} for {}",
                        copy.display(),
                        f.sha256,
                        f.file
                    ));
                }
                texts.push(text);
            }
            Err(e) => problems.push(format!(
                "{}: cannot read the copy of {} ({e})",
                copy.display(),
                f.file
            )),
        }
    }
    let rows_path = dir.join(ROWS);
    let (columns, rows) = match std::fs::read(&rows_path) {
        Ok(b) => parse_rows_csv(&b).unwrap_or_else(|e| {
            problems.push(format!("{}: {e}", rows_path.display()));
            (Vec::new(), Vec::new())
        }),
        Err(e) => {
            problems.push(format!("{}: cannot read it ({e})", rows_path.display()));
            (Vec::new(), Vec::new())
        }
    };
    let mut rows = rows;
    if manifest.study.kind == Kind::Run {
        // A run study's unit is its run: each incident goes back to its row.
        let path = dir.join(INCIDENTS);
        match std::fs::read(&path)
            .map_err(|e| format!("cannot read it ({e})"))
            .and_then(|b| crate::report::parse_incidents_csv(&b))
        {
            Ok(incidents) => {
                // An incident of a run missing from rows.csv is left out:
                // the unit checks of `merge` report the missing run.
                for i in incidents {
                    if let Ok(k) = rows.binary_search_by_key(&i.run, |(u, _)| *u) {
                        rows[k].1.incident_log.push(i);
                    }
                }
            }
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(ShardDir {
        dir: name,
        manifest,
        texts,
        columns,
        rows,
    })
}

/// The scenario hash as `scenario::parse` computes it (sha256 of the text).
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A checked, complete study: rows per group, in run order.
#[derive(Debug)]
pub struct Merged {
    pub spec: StudySpec,
    pub texts: Vec<String>,
    pub rows: Vec<Vec<RunRow>>,
}

/// At most this many unit indices are listed in one message.
const LISTED: usize = 12;

/// "2, 5, 8, ... (40 in all)": the first few of `count` unit indices.
fn list_units(units: impl IntoIterator<Item = u64>, count: u64) -> String {
    let mut s = units
        .into_iter()
        .take(LISTED)
        .map(|u| u.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if count > LISTED as u64 {
        let _ = write!(s, ", ... ({count} in all)");
    }
    s
}

/// Checks that the shards form exactly one complete study, and assembles it.
/// Every problem found is returned; the caller writes nothing then.
pub fn merge(shards: Vec<ShardDir>) -> Result<Merged, Vec<String>> {
    let Some(first) = shards.first() else {
        return Err(vec!["no shard folders given".into()]);
    };
    let mut problems = Vec::new();
    // 1. One study: every manifest field that decides the output must agree.
    type Field = (&'static str, fn(&Manifest) -> String);
    let fields: [Field; 8] = [
        ("the drsim version", |m| m.drsim_version.clone()),
        ("the study kind", |m| m.study.kind.as_str().to_string()),
        ("the scenario files", |m| {
            m.study
                .scenarios
                .iter()
                .map(|f| format!("{} (sha256 {})", f.file, f.sha256))
                .collect::<Vec<_>>()
                .join(", ")
        }),
        ("the sweep parameters", |m| {
            if m.study.params.is_empty() {
                "the scenario's [sweep] table".into()
            } else {
                m.study.params.join(" ")
            }
        }),
        ("the runs", |m| m.study.runs.to_string()),
        ("the master seed", |m| m.study.master_seed.to_string()),
        ("the work units", |m| {
            format!(
                "{} groups x {} runs = {}",
                m.study.groups, m.study.runs, m.shard.units_total
            )
        }),
        ("the shard count", |m| m.shard.count.to_string()),
    ];
    for (what, value) in fields {
        let mut seen: Vec<(String, Vec<&str>)> = Vec::new();
        for s in &shards {
            let v = value(&s.manifest);
            match seen.iter_mut().find(|x| x.0 == v) {
                Some(x) => x.1.push(&s.dir),
                None => seen.push((v, vec![&s.dir])),
            }
        }
        if seen.len() > 1 {
            let parts: Vec<String> = seen
                .iter()
                .map(|(v, dirs)| format!("{v} in {}", dirs.join(", ")))
                .collect();
            problems.push(format!(
                "the shards are not of one study: they disagree on {what}: {}",
                parts.join("; ")
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let spec = first.manifest.study.clone();
    let version = env!("CARGO_PKG_VERSION");
    if first.manifest.drsim_version != version {
        // The version is part of summary.json and index.html.
        return Err(vec![format!(
            "the shards were written by drsim {}, this is drsim {version}: merge with the drsim that ran them",
            first.manifest.drsim_version
        )]);
    }
    let count = first.manifest.shard.count;
    let total = first.manifest.shard.units_total;
    // Manifests are files: check the numbers before dividing or counting by them.
    if count == 0 || count > MAX_SHARDS {
        return Err(vec![format!(
            "{}/{MANIFEST}: shard count {count} is not between 1 and {MAX_SHARDS}",
            first.dir
        )]);
    }
    if spec.runs == 0 || spec.runs.checked_mul(spec.groups) != Some(total) {
        return Err(vec![format!(
            "{}/{MANIFEST}: {} groups x {} runs is not {total} units",
            first.dir, spec.groups, spec.runs
        )]);
    }

    // 2. Every shard exactly once.
    let mut by_index: BTreeMap<u64, Vec<&ShardDir>> = BTreeMap::new();
    for s in &shards {
        let k = s.manifest.shard.index;
        if k >= count {
            problems.push(format!(
                "{}/{MANIFEST}: shard index {k} is not below the shard count {count}",
                s.dir
            ));
        } else {
            by_index.entry(k).or_default().push(s);
        }
    }
    let missing: Vec<u64> = (0..count).filter(|k| !by_index.contains_key(k)).collect();
    if missing.len() <= 3 {
        for &k in &missing {
            let units = Shard { index: k, count }.units(total);
            problems.push(format!(
                "shard {k}/{count} is missing (none of the folders given is it): work units {} are absent ({})",
                list_units((0..units.count).map(|j| units.nth(j)), units.count),
                spec.unit_rule()
            ));
        }
    } else {
        problems.push(format!(
            "shards {} of {count} are missing (none of the folders given is one of them)",
            list_units(missing.iter().copied(), missing.len() as u64)
        ));
    }
    for (k, dirs) in &by_index {
        if dirs.len() > 1 {
            problems.push(format!(
                "shard {k}/{count} is given {} times: {}; give each shard folder once",
                dirs.len(),
                dirs.iter()
                    .map(|s| s.dir.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }

    // 3. Every unit exactly once, in its shard, with its seed and this drsim's columns.
    let expected_columns = shards
        .iter()
        .flat_map(|s| s.rows.first())
        .map(|(_, row)| columns(row))
        .next()
        .unwrap_or_default();
    // Keyed by unit: memory follows the rows given, not what a manifest claims.
    let mut present: BTreeMap<u64, RunRow> = BTreeMap::new();
    for s in &shards {
        let k = s.manifest.shard.index;
        if by_index.get(&k).is_none_or(|v| v.len() != 1) {
            continue; // already reported
        }
        let rows_file = format!("{}/{ROWS}", s.dir);
        if !s.rows.is_empty() && s.columns != expected_columns {
            let missing: Vec<&str> = expected_columns
                .iter()
                .filter(|c| !s.columns.contains(c))
                .map(String::as_str)
                .collect();
            let extra: Vec<&str> = s
                .columns
                .iter()
                .filter(|c| !expected_columns.contains(c))
                .map(String::as_str)
                .collect();
            problems.push(format!(
                "{rows_file}: its columns are not this drsim's runs.csv columns (missing: {}; unknown: {}; or in another order)",
                if missing.is_empty() { "none".into() } else { missing.join(", ") },
                if extra.is_empty() { "none".into() } else { extra.join(", ") },
            ));
            continue;
        }
        let mut bad = Vec::new();
        let mut accepted = 0u64;
        for (u, row) in &s.rows {
            let u = *u;
            let run = u % spec.runs;
            let seed = run_seed(spec.master_seed, run);
            let what = if u >= total {
                format!("unit {u} is beyond the study's {total} units")
            } else if u % count != k {
                format!(
                    "{} belongs to shard {}/{count}, not {k}/{count}",
                    spec.describe_unit(u),
                    u % count
                )
            } else if row.run != run || row.seed != seed {
                format!(
                    "{} has run {} seed {}, expected run {run} seed {seed}",
                    spec.describe_unit(u),
                    row.run,
                    row.seed
                )
            } else {
                match present.entry(u) {
                    Entry::Occupied(_) => {
                        format!("{} appears more than once", spec.describe_unit(u))
                    }
                    Entry::Vacant(slot) => {
                        slot.insert(row.clone());
                        accepted += 1;
                        continue;
                    }
                }
            };
            bad.push(what);
        }
        if !bad.is_empty() {
            let n = bad.len();
            bad.truncate(LISTED);
            problems.push(format!(
                "{rows_file}: {n} bad row(s): {}{}",
                bad.join("; "),
                if n > LISTED { "; ..." } else { "" }
            ));
        }
        let units = Shard { index: k, count }.units(total);
        if accepted < units.count {
            // Stops after LISTED absent units: at most accepted + LISTED lookups.
            let absent = (0..units.count)
                .map(|j| units.nth(j))
                .filter(|u| !present.contains_key(u))
                .take(LISTED);
            problems.push(format!(
                "{rows_file}: work units {} are missing ({}; shard {k}/{count} must hold {} units, its manifest says {}, the file has {} rows)",
                list_units(absent, units.count - accepted),
                spec.unit_rule(),
                units.count,
                s.manifest.shard.units,
                s.rows.len()
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // Every unit 0..total is present exactly once: in key order they are the
    // groups one after the other, each in run order.
    let mut rows: Vec<Vec<RunRow>> = Vec::with_capacity(spec.groups as usize);
    let mut it = present.into_values();
    for _ in 0..spec.groups {
        rows.push(it.by_ref().take(spec.runs as usize).collect());
    }
    Ok(Merged {
        spec,
        texts: first.texts.clone(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|p| p.0 == k).map(|p| p.1.to_string())
    }

    #[test]
    fn parses_k_of_n_and_rejects_nonsense() {
        assert_eq!(
            "2/5".parse::<ShardArg>(),
            Ok(ShardArg::Fixed(Shard { index: 2, count: 5 }))
        );
        assert_eq!("auto".parse::<ShardArg>(), Ok(ShardArg::Auto));
        for bad in ["5/5", "1/0", "x/2", "3", "-1/4", "1/2/3"] {
            let e = bad.parse::<ShardArg>().unwrap_err();
            assert!(e.contains(bad), "{bad}: {e}");
        }
        assert!(
            "5/5"
                .parse::<ShardArg>()
                .unwrap_err()
                .contains("not below the shard count 5")
        );
    }

    #[test]
    fn units_cover_everything_once() {
        for total in [0u64, 1, 7, 14, 20] {
            for n in 1..=6u64 {
                let mut seen = vec![0; total as usize];
                for k in 0..n {
                    let u = Shard { index: k, count: n }.units(total);
                    for j in 0..u.count {
                        assert_eq!(u.nth(j) % n, k);
                        seen[u.nth(j) as usize] += 1;
                    }
                }
                assert!(seen.iter().all(|&c| c == 1), "total {total}, n {n}");
            }
        }
    }

    #[test]
    fn auto_reads_slurm_arrays_and_indexed_jobs() {
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "3"),
            ("SLURM_ARRAY_TASK_STEP", "1"),
        ];
        assert_eq!(from_env(env(&slurm)), Ok(Shard { index: 3, count: 4 }));
        // --array=1-4 numbers tasks from 1.
        let from_one = [
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "4"),
        ];
        assert_eq!(from_env(env(&from_one)), Ok(Shard { index: 0, count: 4 }));
        // --array=0,2,7 is not a range: refuse rather than lose units.
        let list = [
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "7"),
        ];
        assert!(
            from_env(env(&list))
                .unwrap_err()
                .contains("not a plain range")
        );
        let k8s = [("JOB_COMPLETION_INDEX", "5"), ("DRSIM_SHARD_COUNT", "8")];
        assert_eq!(from_env(env(&k8s)), Ok(Shard { index: 5, count: 8 }));
        let k8s_no_count = [("JOB_COMPLETION_INDEX", "5")];
        assert!(
            from_env(env(&k8s_no_count))
                .unwrap_err()
                .contains("DRSIM_SHARD_COUNT")
        );
        assert!(from_env(env(&[])).unwrap_err().contains("--shard K/N"));
    }
}
