//! What the study commands (run, compare, sweep) share: resolving options,
//! the progress bar, running Monte Carlo, targets and figures for the report.
//!
//! Every study goes plan -> rows -> files: `Study` is the plan (a pure
//! function of its `StudySpec` and the scenario texts), `execute` computes the
//! rows (all of them, or one shard's), and `Study::render` turns rows into the
//! output files. `drsim merge` rebuilds the `Study` from the shards' manifest
//! and calls the same `render`, so a merged study is byte-identical to a
//! single-machine one.

use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::metrics::row::RunRow;
use crate::metrics::targets::{TargetResult, Verdict, evaluate};
use crate::model::Scenario;
use crate::report::html::Page;
use crate::report::output;
use crate::report::plot::{self, Chart};
use crate::runner;
use crate::scenario;
use crate::shard::{self, Kind, ScenarioFile, StudySpec};

use super::{MonteCarloArgs, Outcome, StudyArgs, compare, run, sweep};

/// Runs and master seed of a study, from the flags or the (first) scenario.
pub struct Plan {
    pub runs: u64,
    pub seed: u64,
}

pub fn plan(args: &MonteCarloArgs, scenario: &Scenario) -> Plan {
    Plan {
        runs: args.runs.unwrap_or(u64::from(scenario.default_runs)),
        seed: args.seed.unwrap_or(scenario.default_seed),
    }
}

/// A scenario file as the study read it: the path as written (it appears in
/// the outputs), its text and the validated scenario.
pub struct Input {
    pub file: String,
    pub text: String,
    pub scenario: Scenario,
}

/// Loads scenario files; every file's problems are reported, not just the first's.
pub fn read_inputs(paths: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        match scenario::load(path) {
            Ok(scenario) => {
                let text =
                    std::fs::read_to_string(path).with_context(|| format!("reading {file}"))?;
                inputs.push(Input {
                    file,
                    text,
                    scenario,
                });
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        anyhow::bail!("{}", errors.join("\n"));
    }
    Ok(inputs)
}

/// What a study needs beyond its inputs to render, per kind.
pub enum Detail {
    Run,
    /// Unique, file-safe labels of the scenarios.
    Compare(Vec<String>),
    Sweep(sweep::Grid),
}

/// A planned study: what to simulate and everything its files depend on,
/// except the rows and the output folder.
pub struct Study {
    pub kind: Kind,
    pub inputs: Vec<Input>,
    /// `sweep`: the --param specs as given (empty: the [sweep] table).
    pub params: Vec<String>,
    pub runs: u64,
    pub seed: u64,
    pub detail: Detail,
}

impl Study {
    pub fn new(
        kind: Kind,
        inputs: Vec<Input>,
        params: Vec<String>,
        runs: u64,
        seed: u64,
    ) -> anyhow::Result<Study> {
        let detail = match kind {
            Kind::Run => {
                anyhow::ensure!(inputs.len() == 1, "run takes one scenario");
                Detail::Run
            }
            Kind::Compare => {
                anyhow::ensure!(inputs.len() >= 2, "compare takes two or more scenarios");
                Detail::Compare(compare::labels(
                    &inputs
                        .iter()
                        .map(|i| i.scenario.name.clone())
                        .collect::<Vec<_>>(),
                ))
            }
            Kind::Sweep => {
                anyhow::ensure!(inputs.len() == 1, "sweep takes one scenario");
                Detail::Sweep(sweep::prepare(&inputs[0], &params)?)
            }
        };
        Ok(Study {
            kind,
            inputs,
            params,
            runs,
            seed,
            detail,
        })
    }

    /// The study a merge describes, from its manifest and the scenario texts
    /// the shards carried (parsed under the file names of the original command).
    pub fn from_spec(spec: &StudySpec, texts: Vec<String>) -> anyhow::Result<Study> {
        let mut inputs = Vec::new();
        for (f, text) in spec.scenarios.iter().zip(texts) {
            let scenario = scenario::parse(&f.file, &text)?;
            inputs.push(Input {
                file: f.file.clone(),
                text,
                scenario,
            });
        }
        let study = Study::new(
            spec.kind,
            inputs,
            spec.params.clone(),
            spec.runs,
            spec.master_seed,
        )?;
        // The rebuilt study must be the one the shards ran (same grid, names, hashes).
        anyhow::ensure!(
            study.spec() == *spec,
            "the shards' manifest does not describe the study this drsim rebuilds from it (grid size or scenario names differ)"
        );
        Ok(study)
    }

    pub fn spec(&self) -> StudySpec {
        StudySpec {
            kind: self.kind,
            scenarios: self
                .inputs
                .iter()
                .enumerate()
                .map(|(i, input)| ScenarioFile {
                    file: input.file.clone(),
                    name: input.scenario.name.clone(),
                    sha256: input.scenario.content_hash.clone(),
                    copy: format!("scenario-{i}.toml"),
                })
                .collect(),
            params: self.params.clone(),
            runs: self.runs,
            master_seed: self.seed,
            groups: self.scenarios().len() as u64,
        }
    }

    /// What the output folder's study.json records as its writer; `command`
    /// is the kind, or for a shard the kind and `--shard K/N`.
    pub fn owner(&self, command: String) -> output::Owner {
        output::Owner {
            command,
            scenarios: self
                .inputs
                .iter()
                .map(|i| output::OwnerScenario {
                    file: i.file.clone(),
                    name: i.scenario.name.clone(),
                    sha256: i.scenario.content_hash.clone(),
                })
                .collect(),
            runs: self.runs,
            master_seed: self.seed,
        }
    }

    /// The scenarios simulated, one per group of `runs` work units.
    pub fn scenarios(&self) -> Vec<&Scenario> {
        match &self.detail {
            Detail::Sweep(g) => g.scenarios.iter().collect(),
            _ => self.inputs.iter().map(|i| &i.scenario).collect(),
        }
    }

    /// The output folder when --out is not given.
    pub fn default_out(&self) -> PathBuf {
        let name = &self.inputs[0].scenario.name;
        match &self.detail {
            Detail::Run => default_out(name),
            Detail::Compare(labels) => default_out(&format!("compare-{}", labels.join("-vs-"))),
            Detail::Sweep(_) => default_out(&format!("{name}-sweep")),
        }
    }

    /// Every output file of the study from its rows (one list per group, in
    /// run order); `out` only appears in the reproduce line.
    pub fn render(&self, rows: Vec<Vec<RunRow>>, out: &Path) -> anyhow::Result<Rendered> {
        match &self.detail {
            Detail::Run => run::render(self, rows, out),
            Detail::Compare(labels) => compare::render(self, labels, rows, out),
            Detail::Sweep(grid) => sweep::render(self, grid, rows, out),
        }
    }
}

/// A study's files plus what the terminal shows.
pub struct Rendered {
    pub files: Files,
    /// Printed before the "wrote ..." line unless --quiet.
    pub terminal: String,
    pub reproduce: String,
    pub outcome: Outcome,
    /// What `--json` prints: the summaries and verdicts (see `json_document`).
    pub json: serde_json::Value,
}

/// One summary of a `--json` document: a label (scenario or grid point) and
/// the summary.json object of its runs, parsed back from the same bytes the
/// file holds so the numbers are identical.
pub struct JsonSummary {
    pub label: String,
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
    pub summary_json: Vec<u8>,
}

/// The document `--json` prints: command, outcome (and exit code), the
/// summary (run) or summaries (compare, sweep) as in summary.json, and the
/// verdicts with the columns of targets.csv.
pub fn json_document(
    command: &str,
    reproduce: &str,
    outcome: Outcome,
    summaries: Vec<JsonSummary>,
    results: &[(String, TargetResult)],
) -> anyhow::Result<serde_json::Value> {
    use serde_json::{Value, json};
    let mut parsed = Vec::new();
    for s in summaries {
        let summary: Value = serde_json::from_slice(&s.summary_json)?;
        let mut entry = serde_json::Map::new();
        entry.insert("label".into(), Value::String(s.label));
        if let Some(p) = s.parameters {
            entry.insert("parameters".into(), Value::Object(p));
        }
        entry.insert("summary".into(), summary);
        parsed.push(Value::Object(entry));
    }
    let mut targets = Vec::new();
    for (scenario, r) in results {
        let mut v = serde_json::to_value(r)?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("scenario".into(), Value::String(scenario.clone()));
        }
        targets.push(v);
    }
    let (name, code) = match outcome {
        Outcome::Passed => ("passed", 0),
        Outcome::TargetFailed => ("target_failed", 2),
        Outcome::Undecided => ("undecided", 3),
    };
    let mut doc = json!({
        "drsim_version": env!("CARGO_PKG_VERSION"),
        "command": command,
        "reproduce": reproduce,
        "outcome": name,
        "exit_code": code,
    });
    if let Some(obj) = doc.as_object_mut() {
        if command == "run" && parsed.len() == 1 {
            let only = parsed
                .pop()
                .and_then(|mut e| e.as_object_mut()?.remove("summary"));
            obj.insert("summary".into(), only.unwrap_or(Value::Null));
        } else {
            obj.insert("summaries".into(), Value::Array(parsed));
        }
        obj.insert("targets".into(), Value::Array(targets));
    }
    Ok(doc)
}

/// Runs the study, all of it or one shard, and writes its folder.
pub fn execute(study: Study, args: &StudyArgs) -> anyhow::Result<Outcome> {
    let threads = args.mc.threads.unwrap_or(0) as usize;
    let scenarios = study.scenarios();
    let spec = study.spec();
    if let Some(arg) = args.shard {
        let shard = arg.resolve().map_err(anyhow::Error::msg)?;
        let units = shard.units(spec.units());
        let out = args.mc.out.clone().unwrap_or_else(|| {
            let base = study.default_out();
            PathBuf::from(format!("{}-shards", base.display()))
                .join(format!("shard-{}-of-{}", shard.index, shard.count))
        });
        let bar = progress_bar(units.count, args.mc.quiet, "runs");
        let rows = runner::run_units(&scenarios, study.runs, study.seed, units, threads, &|| {
            bar.inc(1)
        })?;
        bar.finish_and_clear();
        let texts: Vec<&str> = study.inputs.iter().map(|i| i.text.as_str()).collect();
        let files = shard::shard_files(&spec, &texts, shard, &rows)?;
        let owner = study.owner(format!(
            "{} --shard {}/{}",
            spec.kind.as_str(),
            shard.index,
            shard.count
        ));
        output::write_folder(&out, &owner, &files, args.mc.force)?;
        if !args.mc.quiet {
            println!(
                "shard {shard} of a {} study: ran {} of its {} work units (runs x {}); wrote {}",
                spec.kind.as_str(),
                units.count,
                spec.units(),
                if spec.kind == Kind::Sweep {
                    "grid points"
                } else {
                    "scenarios"
                },
                out.display()
            );
            println!(
                "when all {} shards are done: drsim merge SHARD_DIR... --out DIR (with DIR the --out of the single-machine command; see docs/cluster.md)",
                shard.count
            );
        }
        return Ok(Outcome::Passed);
    }
    let bar = progress_bar(spec.units(), args.mc.quiet, "runs");
    let rows =
        runner::monte_carlo_many(&scenarios, study.runs, study.seed, threads, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let out = args.mc.out.clone().unwrap_or_else(|| study.default_out());
    finish(&study, rows, &out, args.mc.quiet, args.json, args.mc.force)
}

/// Renders the study from its rows, writes the folder, prints the summary.
pub fn finish(
    study: &Study,
    rows: Vec<Vec<RunRow>>,
    out: &Path,
    quiet: bool,
    json: bool,
    force: bool,
) -> anyhow::Result<Outcome> {
    let rendered = study.render(rows, out)?;
    let owner = study.owner(study.kind.as_str().to_string());
    output::write_folder(out, &owner, &rendered.files.files, force)?;
    if json {
        // The document alone on stdout: nothing else is printed there.
        let mut text = serde_json::to_string_pretty(&rendered.json)?;
        text.push('\n');
        use std::io::Write as _;
        std::io::stdout()
            .write_all(text.as_bytes())
            .context("writing the JSON document to stdout")?;
    } else if !quiet {
        print!("{}", rendered.terminal);
        println!(
            "wrote {} (open index.html); reproduce with: {}",
            out.display(),
            rendered.reproduce
        );
    }
    Ok(rendered.outcome)
}

/// A progress bar on stderr with ETA; hidden with --quiet or when stderr is
/// not a terminal (indicatif checks).
pub fn progress_bar(total: u64, quiet: bool, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let template =
        format!("{{spinner}} {what} {{pos}}/{{len}} [{{bar:30}}] {{percent}}% eta {{eta}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub fn judge(scenario: &Scenario, rows: &[RunRow]) -> Vec<TargetResult> {
    scenario.targets.iter().map(|t| evaluate(t, rows)).collect()
}

/// The exit outcome of a set of verdicts: any FAIL fails, else any UNDECIDED.
pub fn outcome<'a>(results: impl IntoIterator<Item = &'a TargetResult>) -> Outcome {
    let mut out = Outcome::Passed;
    for r in results {
        match r.verdict {
            Verdict::Fail => return Outcome::TargetFailed,
            Verdict::Undecided => out = Outcome::Undecided,
            Verdict::Pass => {}
        }
    }
    out
}

pub fn targets_csv(results: &[(String, TargetResult)]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "scenario",
        "target",
        "required_probability",
        "n",
        "met",
        "estimate",
        "ci95_low",
        "ci95_high",
        "verdict",
        "runs_to_decide",
    ])?;
    for (scenario, r) in results {
        let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        w.write_record([
            scenario.clone(),
            r.target.clone(),
            r.required_probability.to_string(),
            r.n.to_string(),
            r.met.to_string(),
            opt(r.estimate),
            opt(r.ci95_low),
            opt(r.ci95_high),
            r.verdict.as_str().to_string(),
            r.runs_to_decide.map(|n| n.to_string()).unwrap_or_default(),
        ])?;
    }
    Ok(w.into_inner().map_err(|e| e.into_error())?)
}

/// Terminal and HTML rows for target verdicts.
pub fn target_rows(results: &[(String, TargetResult)]) -> Vec<Vec<String>> {
    results
        .iter()
        .map(|(s, r)| {
            let pct = |v: Option<f64>| v.map_or("-".to_string(), |x| format!("{:.4}", x));
            vec![
                s.clone(),
                r.target.clone(),
                format!("{}/{}", r.met, r.n),
                pct(r.estimate),
                format!("[{}, {}]", pct(r.ci95_low), pct(r.ci95_high)),
                r.verdict.as_str().to_string(),
            ]
        })
        .collect()
}

pub const TARGET_HEADERS: [&str; 6] = [
    "scenario",
    "target",
    "met/runs",
    "estimate",
    "95% Wilson interval",
    "verdict",
];

/// The verdicts as the terminal shows them (empty without targets).
pub fn targets_text(results: &[(String, TargetResult)]) -> String {
    if results.is_empty() {
        return String::new();
    }
    let mut out = String::from("targets:\n");
    for (row, (_, r)) in target_rows(results).into_iter().zip(results) {
        let decide = r
            .decide_phrase()
            .map(|p| format!(", {p}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {:<9} {}: {} met, estimate {} {}{decide} ({})\n",
            row[5], row[1], row[2], row[3], row[4], row[0]
        ));
    }
    out
}

/// Output files of a study, collected in memory until everything succeeded.
#[derive(Default)]
pub struct Files {
    pub files: Vec<(String, Vec<u8>)>,
}

impl Files {
    pub fn add(&mut self, name: impl Into<String>, bytes: Vec<u8>) {
        self.files.push((name.into(), bytes));
    }

    /// Renders a chart as `stem.svg` and `stem.png` and embeds it in the page.
    pub fn figure<C: Chart>(
        &mut self,
        page: &mut Page,
        stem: &str,
        caption: &str,
        chart: &C,
    ) -> anyhow::Result<()> {
        let r = plot::render(chart)?;
        page.figure(caption, &r.svg, stem);
        self.add(format!("{stem}.svg"), r.svg.into_bytes());
        self.add(format!("{stem}.png"), r.png);
        Ok(())
    }
}

/// A file-name-safe version of a scenario name.
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

pub fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=,:".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

pub fn default_out(name: &str) -> PathBuf {
    PathBuf::from("output").join(sanitize(name))
}
