//! Every scenario shipped under scenarios/ validates and runs.

use std::path::Path;

use drsim::runner::monte_carlo;

#[test]
fn every_bundled_scenario_validates_and_runs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = walk(&dir);
    files.sort();
    assert!(!files.is_empty());
    for f in files {
        let s = drsim::scenario::load(&f).unwrap_or_else(|e| panic!("{e}"));
        let rows =
            monte_carlo(&s, 2, 1, 0, &|| {}).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(rows.len(), 2);
        assert!(
            rows.iter().all(|r| r.events > 0 && r.writes > 0),
            "{}",
            f.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
    out
}
