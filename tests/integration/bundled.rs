//! Every scenario shipped under scenarios/ validates and runs.

use std::path::Path;

use drsim::runner::monte_carlo;

#[test]
fn every_bundled_scenario_validates_and_runs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = super::common::scenario_files(&dir);
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
