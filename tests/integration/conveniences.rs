//! The conveniences of the CLI: --json, completions, init, "did you mean",
//! the JSON Schema, and how output folders are replaced.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn drsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_drsim"))
}

fn bundled(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Equal as JSON, numbers compared as f64 (CSV writes 1.0 as "1").
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn assert_same(a: &[Value], b: &[Value]) {
    assert!(
        same(&Value::Array(a.to_vec()), &Value::Array(b.to_vec())),
        "--json targets {a:?}\n!= targets.csv {b:?}"
    );
}

/// targets.csv as JSON objects with the column types of the --json document.
fn targets_csv(path: &Path) -> Vec<Value> {
    let mut r = csv::Reader::from_path(path).expect("targets.csv");
    let headers = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            let mut obj = serde_json::Map::new();
            for (h, v) in headers.iter().zip(rec.iter()) {
                let value = match h {
                    "scenario" | "target" | "verdict" => Value::String(v.to_string()),
                    _ if v.is_empty() => Value::Null,
                    _ => serde_json::from_str(v).unwrap_or_else(|_| panic!("{h} = {v}")),
                };
                obj.insert(h.to_string(), value);
            }
            Value::Object(obj)
        })
        .collect()
}

#[test]
fn json_run_is_the_summary_and_the_verdicts_alone_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ap");
    let o = drsim()
        .arg("run")
        .arg(bundled("active-passive.toml"))
        .args(["--runs", "20", "--seed", "7", "--json", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let text = stdout(&o);
    let doc: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{text}"));
    assert_eq!(doc["command"], "run");
    let code = o.status.code().unwrap();
    assert_eq!(doc["exit_code"], code, "{text}");
    assert!([0, 2, 3].contains(&code), "{}", stderr(&o));
    // The same numbers as the folder's summary.json and targets.csv.
    assert_eq!(doc["summary"], read_json(&out.join("summary.json")));
    assert_eq!(doc["summary"]["runs"], 20);
    assert_eq!(doc["summary"]["master_seed"], 7);
    let targets = doc["targets"].as_array().expect("targets").clone();
    assert!(!targets.is_empty());
    assert_same(&targets, &targets_csv(&out.join("targets.csv")));
    // No table, no "wrote" line: the document is all of stdout.
    assert!(!text.contains("wrote "), "{text}");
    assert!(text.trim_start().starts_with('{') && text.trim_end().ends_with('}'));
}

#[test]
fn json_compare_and_sweep_list_a_summary_per_scenario_and_point() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cmp");
    let o = drsim()
        .arg("compare")
        .arg(bundled("active-passive.toml"))
        .arg(bundled("active-passive-semisync.toml"))
        .args(["--runs", "10", "--json", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(doc["command"], "compare");
    assert_eq!(doc["exit_code"], o.status.code().unwrap());
    let summaries = doc["summaries"].as_array().expect("summaries");
    let labels: Vec<&str> = summaries
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["active-passive", "active-passive-semisync"]);
    for s in summaries {
        assert_eq!(s["summary"]["runs"], 10);
        assert!(s["summary"]["metrics"]["rto_s"]["mean"].is_number(), "{s}");
    }
    let targets = doc["targets"].as_array().unwrap().clone();
    assert_same(&targets, &targets_csv(&out.join("targets.csv")));

    let out = dir.path().join("sw");
    let o = drsim()
        .arg("sweep")
        .arg(bundled("active-passive.toml"))
        .args([
            "--param",
            "replication.interval=1s,5s",
            "--runs",
            "5",
            "--json",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    assert_eq!(doc["command"], "sweep");
    let points = doc["summaries"].as_array().expect("summaries");
    assert_eq!(points.len(), 2);
    assert_eq!(points[0]["parameters"]["replication.interval"], "1s");
    assert_eq!(points[1]["parameters"]["replication.interval"], "5s");
    assert_same(
        doc["targets"].as_array().unwrap(),
        &targets_csv(&out.join("targets.csv")),
    );
}

#[test]
fn json_refuses_shard() {
    let o = drsim()
        .arg("run")
        .arg(bundled("active-passive.toml"))
        .args(["--json", "--shard", "0/2"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--json"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn completions_for_each_shell_name_the_commands_and_flags() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef drsim"),
        ("fish", "complete -c drsim"),
        ("elvish", "edit:completion"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let o = drsim().args(["completions", shell]).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let text = stdout(&o);
        assert!(text.contains(marker), "{shell}: no {marker:?} in\n{text}");
        for word in ["run", "compare", "sweep", "merge", "validate"] {
            assert!(text.contains(word), "{shell}: no {word} in the script");
        }
        let flag = |f: &str| {
            if shell == "fish" {
                format!("-l {f}")
            } else {
                format!("--{f}")
            }
        };
        for f in ["json", "runs", "force"] {
            assert!(
                text.contains(&flag(f)),
                "{shell}: no {} in the script",
                flag(f)
            );
        }
    }
    let o = drsim().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("bash"), "{}", stderr(&o));
}

#[test]
fn init_writes_a_template_that_validates_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    let o = drsim().arg("init").arg(&file).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&file).unwrap();
    for table in [
        "[simulation]",
        "[network]",
        "[network.default_link]",
        "[[datacenters]]",
        "[[links]]",
        "[topology]",
        "[workload]",
        "[[workload.clients]]",
        "[replication]",
        "[failover]",
        "[failover.health_check]",
        "[failover.drain]",
        "[failover.dns]",
        "[[failures]]",
        "[[targets]]",
        "[cost]",
    ] {
        assert!(
            text.contains(&format!("\n{table}")),
            "no {table} in the template"
        );
    }
    assert!(text.contains("architecture = \"active-passive\""));
    assert!(text.contains("witness = \"us-west-2\""));
    assert_eq!(text.matches("[[datacenters]]").count(), 3);
    // Without FILE: the same template on stdout.
    let o = drsim().arg("init").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), text);

    // It validates without a warning...
    let o = drsim().arg("validate").arg(&file).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(": ok (3 datacenters, 1 standby, 1 failure"),
        "{}",
        stdout(&o)
    );
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    // ... and runs: the primary is lost in every run and the standby takes over.
    let o = drsim()
        .arg("run")
        .arg(&file)
        .args(["--runs", "10", "--json", "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(
        [0, 2, 3].contains(&o.status.code().unwrap()),
        "{}",
        stderr(&o)
    );
    let doc: Value = serde_json::from_slice(&o.stdout).expect("a JSON document");
    let rto = &doc["summary"]["metrics"]["rto_s"];
    assert_eq!(rto["n"], 10, "{rto}");
    let mean = rto["mean"].as_f64().unwrap();
    assert!(mean > 20.0 && mean < 600.0, "RTO mean {mean}");
    assert_eq!(doc["summary"]["scenario"]["name"], "my-active-passive");
}

#[test]
fn init_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mine.toml");
    std::fs::write(&file, "precious").unwrap();
    let o = drsim().arg("init").arg(&file).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("mine.toml already exists"), "{err}");
    assert!(err.contains("does not overwrite"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
}

/// `drsim validate` of the bundled active-passive scenario with one edit.
fn validate_edited(from: &str, to: &str) -> (Option<i32>, String, String) {
    let text = std::fs::read_to_string(bundled("active-passive.toml")).unwrap();
    assert!(text.contains(from), "{from}");
    let text = text.replacen(from, to, 1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.toml");
    std::fs::write(&file, &text).unwrap();
    let o = drsim().arg("validate").arg(&file).output().unwrap();
    let line = text
        .lines()
        .position(|l| l.contains(to.lines().last().unwrap()))
        .unwrap()
        + 1;
    (
        o.status.code(),
        stderr(&o) + &stdout(&o),
        format!("typo.toml:{line}:"),
    )
}

#[test]
fn misspelt_names_get_a_did_you_mean() {
    for (from, to, path, expect) in [
        (
            "interval = \"1s\"",
            "intervall = \"1s\"",
            "replication.intervall: unknown field `intervall`, expected one of",
            "did you mean `interval`?",
        ),
        (
            "threshold = 3",
            "treshold = 3",
            "failover.health_check.treshold: unknown field `treshold`",
            "did you mean `threshold`?",
        ),
        (
            "description = ",
            "descripton = ",
            "descripton: unknown field `descripton`",
            "did you mean `description`?",
        ),
        (
            "architecture = \"active-passive\"",
            "architecture = \"active-pasive\"",
            "architecture: unknown variant `active-pasive`, expected one of `active-passive`",
            "did you mean `active-passive`?",
        ),
        (
            "kind = \"datacenter-outage\"",
            "kind = \"datacentre-outage\"",
            "failures[0].kind: unknown variant `datacentre-outage`",
            "did you mean `datacenter-outage`?",
        ),
        (
            "target = \"us-east-1\"",
            "target = \"us-eats-1\"",
            "failures[0].target: unknown datacenter \"us-eats-1\"; known datacenters: us-east-1, eu-west-1",
            "did you mean \"us-east-1\"?",
        ),
    ] {
        let (code, out, at) = validate_edited(from, to);
        assert_eq!(code, Some(1), "{out}");
        // file:line:column, the field path, serde's list, then the hint.
        let line = out
            .lines()
            .find(|l| l.contains(path))
            .unwrap_or_else(|| panic!("no {path:?} in\n{out}"));
        assert!(line.contains(&at), "{at} not in {line}");
        assert!(
            line.trim_end().ends_with(expect),
            "{expect:?} not at the end of {line}"
        );
    }
    // Nothing close to the misspelt name: no guess.
    let (code, out, _) = validate_edited("threshold = 3", "threshold = 3\ncolour = 3");
    assert_eq!(code, Some(1));
    assert!(out.contains("unknown field `colour`"), "{out}");
    assert!(!out.contains("did you mean"), "{out}");
}

fn run_into(scenario: &str, out: &Path, extra: &[&str]) -> Output {
    drsim()
        .arg("run")
        .arg(bundled(scenario))
        .args(["--runs", "4", "-q", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Names and bytes of every file of a folder.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    listing(dir)
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

#[test]
fn a_rerun_replaces_its_folder_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ap");
    // An empty folder is fine.
    std::fs::create_dir(&out).unwrap();
    let o = run_into("active-passive.toml", &out, &[]);
    assert!(
        [0, 2, 3].contains(&o.status.code().unwrap()),
        "{}",
        stderr(&o)
    );
    let first = listing(&out);
    assert!(first.contains(&"targets.csv".to_string()), "{first:?}");
    assert!(first.contains(&"study.json".to_string()), "{first:?}");
    let study = read_json(&out.join("study.json"));
    assert_eq!(study["command"], "run");
    assert_eq!(study["scenarios"][0]["name"], "active-passive");
    assert_eq!(study["runs"], 4);
    let listed: Vec<&str> = study["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = first
        .iter()
        .map(String::as_str)
        .filter(|f| *f != "study.json")
        .collect();
    expected.sort();
    let mut got = listed.clone();
    got.sort();
    assert_eq!(got, expected);

    // The same scenario without targets (same name): targets.csv of the first
    // run must not be left beside the new results.
    let text = std::fs::read_to_string(bundled("active-passive.toml")).unwrap();
    let cut = text.find("[[targets]]").unwrap();
    let end = text.find("[cost]").unwrap();
    let edited = format!("{}{}", &text[..cut], &text[end..]);
    let file = dir.path().join("no-targets.toml");
    std::fs::write(&file, edited).unwrap();
    let o = drsim()
        .arg("run")
        .arg(&file)
        .args(["--runs", "6", "-q", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let second = listing(&out);
    assert!(
        !second.contains(&"targets.csv".to_string()),
        "stale targets.csv: {second:?}"
    );
    assert_eq!(read_json(&out.join("summary.json"))["runs"], 6);
    assert_eq!(read_json(&out.join("study.json"))["runs"], 6);
    // No temporary sibling is left behind.
    assert_eq!(listing(dir.path()), ["ap", "no-targets.toml"]);
}

#[test]
fn a_folder_of_another_study_or_unknown_files_is_refused_unless_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shared");
    let o = run_into("active-passive.toml", &out, &[]);
    assert!(
        [0, 2, 3].contains(&o.status.code().unwrap()),
        "{}",
        stderr(&o)
    );
    let before = snapshot(&out);

    // Another study (another scenario) into the same folder: refused, untouched.
    let o = run_into("partition.toml", &out, &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("the output folder {}", out.display())),
        "{err}"
    );
    assert!(
        err.contains("another study: drsim run of active-passive"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert!(snapshot(&out) == before, "the refused folder changed");

    // Another command over the same scenario: another study too.
    let o = drsim()
        .arg("sweep")
        .arg(bundled("active-passive.toml"))
        .args([
            "--param",
            "replication.interval=1s,2s",
            "--runs",
            "2",
            "-q",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("another study"), "{}", stderr(&o));
    assert!(snapshot(&out) == before);

    // A file the study did not write: refused even for a rerun of the same study.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let o = run_into("active-passive.toml", &out, &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("1 file(s) the previous run did not write (notes.txt)"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );

    // --force: replaced whole, by the other study.
    let o = run_into("partition.toml", &out, &["--force"]);
    assert!(
        [0, 2, 3].contains(&o.status.code().unwrap()),
        "{}",
        stderr(&o)
    );
    let files = listing(&out);
    assert!(!files.contains(&"notes.txt".to_string()), "{files:?}");
    assert_eq!(
        read_json(&out.join("summary.json"))["scenario"]["name"],
        "partition"
    );
    assert_eq!(
        read_json(&out.join("study.json"))["scenarios"][0]["name"],
        "partition"
    );

    // A folder of files drsim never wrote (no study.json).
    let foreign = dir.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("report.pdf"), "x").unwrap();
    let o = run_into("active-passive.toml", &foreign, &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(
            "foreign holds 1 file(s) not written by this drsim (report.pdf) and no study.json"
        ),
        "{err}"
    );
    assert_eq!(listing(&foreign), ["report.pdf"]);
    // A file where the folder should be.
    let o = run_into(
        "active-passive.toml",
        &foreign.join("report.pdf"),
        &["--force"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is a file, not a folder"),
        "{}",
        stderr(&o)
    );
}

/// A small JSON Schema check of a TOML value: $ref, anyOf/oneOf, enum,
/// const, object (properties, required, additionalProperties: false), array,
/// scalar types. Enough to tell whether the schema describes the format.
fn schema_errors(defs: &Value, node: &Value, value: &toml::Value, path: &str) -> Vec<String> {
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/$defs/");
        return schema_errors(defs, &defs[name], value, path);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = node.get(key).and_then(Value::as_array) {
            if alts
                .iter()
                .any(|a| schema_errors(defs, a, value, path).is_empty())
            {
                return Vec::new();
            }
            return vec![format!("{path}: matches no alternative of {key}")];
        }
    }
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        let ok = value
            .as_str()
            .is_some_and(|s| values.iter().any(|v| v == s));
        return if ok {
            Vec::new()
        } else {
            vec![format!("{path}: {value} not in {values:?}")]
        };
    }
    if let Some(c) = node.get("const") {
        return if value.as_str() == c.as_str() {
            Vec::new()
        } else {
            vec![format!("{path}: not {c}")]
        };
    }
    let types: Vec<&str> = match &node["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let kind = match value {
        toml::Value::String(_) => "string",
        toml::Value::Integer(_) => "integer",
        toml::Value::Float(_) => "number",
        toml::Value::Boolean(_) => "boolean",
        toml::Value::Array(_) => "array",
        toml::Value::Table(_) => "object",
        toml::Value::Datetime(_) => "datetime",
    };
    let fits = types.is_empty()
        || types.contains(&kind)
        || (kind == "integer" && types.contains(&"number"));
    if !fits {
        return vec![format!("{path}: a {kind}, the schema wants {types:?}")];
    }
    let mut errors = Vec::new();
    match value {
        toml::Value::Table(t) => {
            let props = node.get("properties").and_then(Value::as_object);
            for (k, v) in t {
                match props.and_then(|p| p.get(k)) {
                    Some(s) => errors.extend(schema_errors(defs, s, v, &format!("{path}.{k}"))),
                    None if node["additionalProperties"] == false => {
                        errors.push(format!("{path}.{k}: not in the schema"))
                    }
                    None => {}
                }
            }
            for r in node
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if !t.contains_key(r.as_str().unwrap()) {
                    errors.push(format!("{path}: required {r} missing"));
                }
            }
        }
        toml::Value::Array(items) => {
            if let Some(s) = node.get("items") {
                for (i, v) in items.iter().enumerate() {
                    errors.extend(schema_errors(defs, s, v, &format!("{path}[{i}]")));
                }
            }
        }
        _ => {}
    }
    errors
}

#[test]
fn the_schema_describes_every_bundled_scenario_and_rejects_typos() {
    let o = drsim().arg("schema").output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let schema: Value = serde_json::from_slice(&o.stdout).expect("the schema is JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["title"], "drsim scenario");
    assert_eq!(schema["additionalProperties"], false);
    let defs = &schema["$defs"];
    assert_eq!(
        defs["Architecture"]["enum"],
        serde_json::json!(["active-passive", "active-active", "hybrid"])
    );
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for field in [
        "name",
        "architecture",
        "simulation",
        "datacenters",
        "topology",
        "workload",
        "replication",
        "failover",
    ] {
        assert!(
            required.contains(&field),
            "{field} not required: {required:?}"
        );
    }
    assert!(defs["Duration"]["pattern"].is_string());

    let mut texts: Vec<(String, String)> = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(bundled(""))];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                texts.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    assert!(texts.len() >= 10, "{} scenarios", texts.len());
    let template = stdout(&drsim().arg("init").output().unwrap());
    texts.push(("drsim init".into(), template));
    for (name, text) in &texts {
        let value: toml::Value = toml::from_str(text).unwrap();
        let errors = schema_errors(defs, &schema, &value, "");
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
    // A misspelt field, a bad enum value, a missing table: the schema says no.
    let base = &texts
        .iter()
        .find(|(n, _)| n.ends_with("/active-passive.toml"))
        .unwrap()
        .1;
    for (from, to, expect) in [
        (
            "interval = \"1s\"",
            "intervall = \"1s\"",
            ".replication.intervall: not in the schema",
        ),
        ("mode = \"async\"", "mode = \"asynch\"", ".replication.mode"),
        ("[topology]", "[topologie]", ".topologie: not in the schema"),
    ] {
        let value: toml::Value = toml::from_str(&base.replacen(from, to, 1)).unwrap();
        let errors = schema_errors(defs, &schema, &value, "");
        assert!(
            errors.iter().any(|e| e.starts_with(expect)),
            "{to}: {errors:?}"
        );
    }
}
