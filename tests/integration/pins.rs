//! Pinned outputs: the rows of every bundled scenario (runs 0 and 1 of master
//! seed 1), compared byte for byte with tests/pins/<scenario>.csv (runs.csv
//! format, plus incidents.csv). Any change of a number shows here first; a
//! deliberate one is re-pinned with `DRSIM_UPDATE_PINS=1 cargo test pins::`
//! and its commit message says why the numbers moved.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use drsim::metrics::row::RunRow;
use drsim::runner::monte_carlo;

const RUNS: u64 = 2;
const SEED: u64 = 1;

/// Runs 0 and 1 (master seed 1) of every bundled scenario, in file-name
/// order: computed once, for the pins and for bundled.rs's ranges.
pub fn bundled_rows() -> &'static [(PathBuf, Vec<RunRow>)] {
    static ROWS: OnceLock<Vec<(PathBuf, Vec<RunRow>)>> = OnceLock::new();
    ROWS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files = super::common::scenario_files(&dir);
        files.sort();
        files
            .into_iter()
            .map(|f| {
                let s = drsim::scenario::load(&f).unwrap_or_else(|e| panic!("{e}"));
                let rows = monte_carlo(&s, RUNS, SEED, 0, &|| {})
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                (f, rows)
            })
            .collect()
    })
}

fn pin_file(scenario: &Path) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rel = scenario.strip_prefix(dir.join("scenarios")).unwrap();
    let name = rel.with_extension("").to_string_lossy().replace('/', "-");
    dir.join("tests/pins").join(format!("{name}.csv"))
}

/// The first line where two texts differ, for a readable failure.
fn first_difference(pinned: &str, now: &str) -> String {
    let (p, n): (Vec<&str>, Vec<&str>) = (pinned.lines().collect(), now.lines().collect());
    let header = p.first().copied().unwrap_or("");
    for i in 0..p.len().max(n.len()) {
        let (a, b) = (
            p.get(i).copied().unwrap_or(""),
            n.get(i).copied().unwrap_or(""),
        );
        if a != b {
            let cols: Vec<&str> = header.split(',').collect();
            let changed: Vec<String> = a
                .split(',')
                .zip(b.split(','))
                .enumerate()
                .filter(|(_, (x, y))| x != y)
                .map(|(j, (x, y))| format!("{}: {x} -> {y}", cols.get(j).unwrap_or(&"?")))
                .collect();
            return format!("line {}: {}", i + 1, changed.join("; "));
        }
    }
    String::new()
}

#[test]
fn bundled_scenario_outputs_are_pinned() {
    let update = std::env::var_os("DRSIM_UPDATE_PINS").is_some();
    let mut moved = Vec::new();
    for (f, rows) in bundled_rows() {
        let rows = rows.as_slice();
        let mut text = String::from_utf8(drsim::report::runs_csv(rows).unwrap()).unwrap();
        text.push_str("# incidents\n");
        text.push_str(&String::from_utf8(drsim::report::incidents_csv(rows).unwrap()).unwrap());
        let pin = pin_file(f);
        if update {
            std::fs::write(&pin, &text).unwrap();
            continue;
        }
        let pinned = std::fs::read_to_string(&pin).unwrap_or_else(|_| {
            panic!(
                "no pin {}: run DRSIM_UPDATE_PINS=1 cargo test pins::",
                pin.display()
            )
        });
        if pinned != text {
            moved.push(format!(
                "{}: {}",
                f.display(),
                first_difference(&pinned, &text)
            ));
        }
    }
    assert!(
        moved.is_empty(),
        "pinned outputs moved (re-pin deliberately with DRSIM_UPDATE_PINS=1 cargo test pins::):\n{}",
        moved.join("\n")
    );
}
