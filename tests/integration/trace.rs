//! `drsim trace`: the traced run is exactly run K of `drsim run`, its log is
//! ordered and consistent with the row, the timeline's data shows what the
//! row measured, and the command writes its folder (or nothing on error).

use std::path::{Path, PathBuf};
use std::process::Command;

use drsim::base::rng::run_seed;
use drsim::base::time::SimTime;
use drsim::metrics::row::RunRow;
use drsim::model::Scenario;
use drsim::report::timeline::{self, State, Timeline};
use drsim::runner::monte_carlo;
use drsim::sim::{Trace, simulate_traced};

use crate::common::{Knobs, scenario};

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"))
}

fn load(name: &str) -> Scenario {
    drsim::scenario::load(&bundled(name)).expect("bundled scenario is valid")
}

fn traced(s: &Scenario, master: u64, k: u64) -> (RunRow, Trace) {
    simulate_traced(s, k, run_seed(master, k)).expect("run finishes")
}

/// Nanoseconds from the log's exact decimal seconds ("12.345678901").
fn ns(text: &str) -> u64 {
    let (s, frac) = text.split_once('.').expect("decimal seconds");
    assert_eq!(frac.len(), 9, "nanosecond digits in {text}");
    s.parse::<u64>().unwrap() * 1_000_000_000 + frac.parse::<u64>().unwrap()
}

fn secs_between(a: u64, b: u64) -> f64 {
    (b - a) as f64 / 1e9
}

/// (time ns, event, site, details) parsed back from the CSV the command writes.
fn csv_log(s: &Scenario, trace: &Trace) -> Vec<(u64, String, String, String)> {
    let bytes = timeline::log_csv(&timeline::event_log(s, trace)).unwrap();
    let mut r = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        ["time_s", "event", "site", "details"]
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            (
                ns(&rec[0]),
                rec[1].to_string(),
                rec[2].to_string(),
                rec[3].to_string(),
            )
        })
        .collect()
}

/// A small scenario that exercises what the bundled ones do not: semi-sync
/// over three sites, a link outage, a degraded link and a primary that is
/// repaired (the incident closes without a failover).
fn eventful() -> Scenario {
    scenario(&Knobs {
        horizon: "5m",
        standbys: &["dc-b", "dc-c"],
        replication: "mode = \"semi-sync\"\nacks = 1",
        drain: "wait = true\ntimeout = \"30s\"",
        failures: "[[failures]]\nkind = \"link-down\"\nlink = [\"dc-a\", \"dc-b\"]\nat = \"20s\"\nduration = \"15s\"\n\n\
                   [[failures]]\nkind = \"link-degraded\"\nlink = [\"dc-a\", \"dc-c\"]\nat = \"40s\"\nduration = \"30s\"\nlatency_multiplier = 4.0\n\n\
                   [[failures]]\nkind = \"datacenter-outage\"\ntarget = \"dc-a\"\nat = { dist = \"uniform\", min = \"90s\", max = \"150s\" }\nduration = { dist = \"uniform\", min = \"5s\", max = \"90s\" }",
        ..Knobs::default()
    })
}

#[test]
fn traced_run_is_run_k_of_monte_carlo() {
    let master = 42;
    let mut cases: Vec<(String, Scenario)> = [
        "active-passive",
        "active-passive-manual",
        "active-passive-semisync",
    ]
    .iter()
    .map(|n| (n.to_string(), load(n)))
    .collect();
    cases.push(("eventful".into(), eventful()));
    for (name, s) in &cases {
        let rows = monte_carlo(s, 6, master, 0, &|| {}).unwrap();
        for k in [0u64, 1, 5] {
            let (row, trace) = traced(s, master, k);
            assert_eq!(row, rows[k as usize], "{name} run {k}");
            assert_eq!(row.seed, run_seed(master, k));
            // One log entry per event the row counts.
            assert_eq!(trace.entries.len() as u64, row.events, "{name} run {k}");
        }
    }
}

#[test]
fn event_log_is_in_time_order() {
    for s in [load("active-passive-semisync"), eventful()] {
        for k in 0..3 {
            let (_, trace) = traced(&s, 7, k);
            let log = csv_log(&s, &trace);
            assert!(log.len() > 1000);
            for w in log.windows(2) {
                assert!(
                    w[0].0 <= w[1].0,
                    "time went backwards: {:?} then {:?}",
                    w[0],
                    w[1]
                );
            }
            let typed = timeline::event_log(&s, &trace);
            assert!(typed.windows(2).all(|w| w[0].at <= w[1].at));
            assert_eq!(log.last().unwrap().1, "horizon_reached");
        }
    }
}

#[test]
fn log_explains_the_rto_of_active_passive() {
    let s = load("active-passive");
    for k in 0..4 {
        let (row, trace) = traced(&s, 42, k);
        let log = csv_log(&s, &trace);
        let find = |event: &str, pred: &dyn Fn(&str, &str) -> bool| {
            log.iter()
                .find(|e| e.1 == event && pred(&e.2, &e.3))
                .map(|e| e.0)
        };
        let failed = find("site_failed", &|site, _| site == "us-east-1")
            .expect("us-east-1 fails in every run");
        let detected = find("check_completed", &|site, d| {
            site == "eu-west-1" && d.contains("declared_down=true")
        })
        .expect("the monitor declares the primary down");
        let promoted = find("promotion_done", &|site, d| {
            site == "eu-west-1" && !d.contains("ignored")
        })
        .expect("the standby is promoted");
        let dns = find("dns_updated", &|_, _| true).expect("DNS is updated");
        let recovered = find("all_clients_moved", &|_, d| d.contains("recovered=true"))
            .expect("the run recovers");
        assert!(failed < detected && detected < promoted && promoted <= dns && dns <= recovered);
        let close = |a: f64, b: Option<f64>| (a - b.unwrap()).abs() < 1e-9;
        assert!(
            close(secs_between(failed, detected), row.detection_s),
            "run {k}: detection {} vs row {:?}",
            secs_between(failed, detected),
            row.detection_s
        );
        assert!(
            close(secs_between(failed, recovered), row.rto_s),
            "run {k}: recovery {} vs row {:?}",
            secs_between(failed, recovered),
            row.rto_s
        );
        assert!(secs_between(failed, promoted) < row.rto_s.unwrap());
        // No write is accepted between the failure and the promotion.
        assert!(!log.iter().any(|e| e.0 > failed
            && e.0 < promoted
            && e.1 == "write_arrived"
            && e.3.contains("accepted")));

        // The key moments say the same.
        let m = timeline::key_moments(&s, &trace);
        let at = |name: &str| {
            m.iter()
                .find(|x| x.name == name)
                .and_then(|x| x.at)
                .map(|t| t.0)
        };
        assert_eq!(at("failure"), Some(failed));
        assert_eq!(at("detection"), Some(detected));
        assert_eq!(at("promotion"), Some(promoted));
        assert_eq!(at("DNS update"), Some(dns));
        assert_eq!(at("all clients moved"), Some(recovered));
        let fencing = at("fencing").unwrap();
        let drain_end = at("drain end").unwrap();
        assert!(detected <= fencing && fencing <= drain_end && drain_end < promoted);
        assert!(close(secs_between(fencing, drain_end), row.drain_wait_s));
    }
}

#[test]
fn timeline_data_shows_what_the_row_measured() {
    let s = load("active-passive");
    let (row, trace) = traced(&s, 42, 2);
    let m = timeline::key_moments(&s, &trace);
    let at = |name: &str| {
        m.iter()
            .find(|x| x.name == name)
            .and_then(|x| x.at)
            .unwrap()
            .as_secs_f64()
    };
    let (failure, promotion) = (at("failure"), at("promotion"));
    let t = Timeline::new(&s, &trace, "t".into(), SimTime::ZERO, trace.horizon);
    assert_eq!(
        t.lanes.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["us-east-1", "eu-west-1", "failover"]
    );
    // Lanes cover the run without gaps.
    for lane in &t.lanes {
        assert_eq!(lane.spans.first().unwrap().from_s, 0.0, "{}", lane.name);
        assert_eq!(lane.spans.last().unwrap().to_s, 3600.0, "{}", lane.name);
        assert!(lane.spans.windows(2).all(|w| w[0].to_s == w[1].from_s));
    }
    let states = |i: usize| {
        t.lanes[i]
            .spans
            .iter()
            .map(|s| (s.state, s.from_s))
            .collect::<Vec<_>>()
    };
    assert_eq!(states(0), [(State::Primary, 0.0), (State::Down, failure)]);
    assert_eq!(
        states(1),
        [(State::Standby, 0.0), (State::Primary, promotion)]
    );
    let promoting: Vec<_> = t.lanes[2]
        .spans
        .iter()
        .filter(|s| s.state == State::Promoting)
        .collect();
    assert_eq!(promoting.len(), 1);
    assert_eq!(promoting[0].to_s, promotion);
    assert_eq!(promoting[0].from_s, at("drain end"));

    // The lag panel keeps the worst lag of the run, and nothing arrives at
    // the standby once it is the primary.
    assert_eq!(t.lag.len(), 1);
    assert_eq!(t.lag[0].site, "eu-west-1");
    let worst = t.lag[0].points.iter().map(|p| p.1).fold(0.0, f64::max);
    assert_eq!(Some(worst), row.replication_lag_max_s);
    assert!(t.lag[0].points.iter().all(|p| p.0 <= promotion));

    // Clients: all served, none from the failure, all again exactly at rto_s.
    assert_eq!(t.clients.first(), Some(&(0.0, 100.0)));
    let zero = t.clients.iter().position(|p| p.1 == 0.0).unwrap();
    assert!((t.clients[zero].0 - failure).abs() < 1e-9);
    let back = zero + t.clients[zero..].iter().position(|p| p.1 == 100.0).unwrap();
    assert!((t.clients[back].0 - failure - row.rto_s.unwrap()).abs() < 1e-6);
    let first = zero + t.clients[zero..].iter().position(|p| p.1 > 0.0).unwrap();
    assert!((t.clients[first].0 - failure - row.rto_first_s.unwrap()).abs() < 1e-6);
    assert!(t.clients[zero..back].iter().all(|p| p.1 < 100.0));

    // Every key moment that happened is marked, numbered as in the table.
    let happened: Vec<(usize, f64)> = m
        .iter()
        .enumerate()
        .filter_map(|(i, x)| x.at.map(|a| (i + 1, a.as_secs_f64())))
        .collect();
    assert_eq!(t.markers, happened);
    assert_eq!(t.markers.len(), 8);
}

#[test]
fn jsonl_says_what_csv_says() {
    let s = eventful();
    let (_, trace) = traced(&s, 3, 1);
    let rows = timeline::event_log(&s, &trace);
    let csv = csv_log(&s, &trace);
    let jsonl = String::from_utf8(timeline::log_jsonl(&rows).unwrap()).unwrap();
    let lines: Vec<&str> = jsonl.lines().collect();
    assert_eq!(lines.len(), csv.len());
    for (line, c) in lines.iter().zip(&csv) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        // The time is written as the same exact decimal as in the CSV.
        let time = line
            .strip_prefix("{\"time_s\":")
            .and_then(|r| r.split(',').next())
            .unwrap();
        assert_eq!(ns(time), c.0);
        assert_eq!(v["event"], c.1.as_str());
        assert_eq!(v["site"].as_str().unwrap_or(""), c.2);
        assert_eq!(v["details"], c.3.as_str());
    }
    // Every kind of event this scenario produces has its snake_case name.
    for name in [
        "link_failed",
        "link_repaired",
        "link_degraded",
        "link_restored",
        "site_failed",
        "site_repaired",
        "ack_delivered",
    ] {
        assert!(csv.iter().any(|c| c.1 == name), "no {name} in the log");
    }
    let link = csv.iter().find(|c| c.1 == "link_failed").unwrap();
    assert_eq!(link.3, "link=dc-a<->dc-b");
}

fn drsim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_drsim"))
}

#[test]
fn trace_command_writes_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let path = bundled("active-passive");
    let o = drsim()
        .arg("trace")
        .arg(&path)
        .args(["--run", "2", "--seed", "42", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for f in ["events.csv", "timeline.svg", "timeline.png", "index.html"] {
        assert!(out.join(f).is_file(), "missing {f}");
    }
    assert!(!out.join("events.jsonl").exists());
    let png = std::fs::read(out.join("timeline.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let svg = std::fs::read_to_string(out.join("timeline.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("clients served"));

    // The log is the traced run's, line for line.
    let s = load("active-passive");
    let (row, trace) = traced(&s, 42, 2);
    let events = std::fs::read(out.join("events.csv")).unwrap();
    assert_eq!(
        events,
        timeline::log_csv(&timeline::event_log(&s, &trace)).unwrap()
    );
    assert_eq!(
        events.iter().filter(|&&b| b == b'\n').count() as u64,
        row.events + 1
    );

    // The page says what was run and shows the same row as `drsim run`.
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let seed = run_seed(42, 2).to_string();
    assert!(html.contains(&format!("<tr><th>run seed</th><td>{seed}</td></tr>")));
    assert!(html.contains("<tr><th>master seed</th><td>42</td></tr>"));
    assert!(html.contains("<tr><th>run index</th><td>2</td></tr>"));
    assert!(html.contains("drsim trace ") && html.contains("--run 2 --seed 42"));
    for moment in [
        "failure",
        "detection",
        "fencing",
        "drain end",
        "promotion",
        "DNS update",
        "all clients moved",
    ] {
        assert!(html.contains(&format!("<td>{moment}</td>")), "{moment}");
    }
    assert!(html.contains("<figure><svg"));
    let study = dir.path().join("study");
    drsim()
        .arg("run")
        .arg(&path)
        .args(["--runs", "3", "--seed", "42", "--quiet", "--out"])
        .arg(&study)
        .status()
        .unwrap();
    let runs = std::fs::read_to_string(study.join("runs.csv")).unwrap();
    let mut r = csv::Reader::from_reader(runs.as_bytes());
    let headers = r.headers().unwrap().clone();
    let run2 = r.records().nth(2).unwrap().unwrap();
    for (h, v) in headers.iter().zip(run2.iter()) {
        let v = if v.is_empty() { "-" } else { v };
        assert!(
            html.contains(&format!("<tr><td>{h}</td><td>{v}</td></tr>")),
            "{h} = {v} not in the trace page"
        );
    }

    // JSON lines instead of CSV; the default folder is named after the run.
    let o = drsim()
        .current_dir(dir.path())
        .arg("trace")
        .arg(&path)
        .args(["--run", "1", "--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let default = dir.path().join("output/active-passive-trace-1");
    assert!(default.join("events.jsonl").is_file());
    assert!(!default.join("events.csv").exists());
    assert!(default.join("index.html").is_file());
    // The scenario's own seed (42) is the default master seed.
    let html = std::fs::read_to_string(default.join("index.html")).unwrap();
    assert!(html.contains(&format!("<td>{}</td>", run_seed(42, 1))));
}

#[test]
fn trace_of_an_invalid_scenario_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(bundled("active-passive"))
        .unwrap()
        .replace("threshold = 3", "threshold = -3");
    std::fs::write(&bad, text).unwrap();
    let out = dir.path().join("out");
    let o = drsim()
        .arg("trace")
        .arg(&bad)
        .args(["--run", "0", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("failover.health_check.threshold"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.exists());
    // Nor with the default folder.
    let o = drsim()
        .current_dir(dir.path())
        .arg("trace")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(!dir.path().join("output").exists());
}
