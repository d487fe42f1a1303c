//! `drsim validate`: check scenario files, report every problem, and warn
//! about disaster-recovery anti-patterns (advice: never a failure).

use std::path::PathBuf;

use anyhow::bail;

use crate::scenario;

pub fn execute(files: &[PathBuf]) -> anyhow::Result<()> {
    let mut bad = 0;
    for f in files {
        match scenario::load(f) {
            Ok(s) => {
                println!(
                    "{}: ok ({} datacenters, {} standby{}, {} failure{}, horizon {})",
                    f.display(),
                    s.datacenters.len(),
                    s.topology.standbys.len(),
                    if s.topology.standbys.len() == 1 {
                        ""
                    } else {
                        "s"
                    },
                    s.failures.len(),
                    if s.failures.len() == 1 { "" } else { "s" },
                    s.horizon.human(),
                );
                // Beside the errors on stderr, so stdout keeps one line per file.
                for w in scenario::lint::lint(&s) {
                    eprintln!("warning[{}]: {}: {}", w.code, f.display(), w.message);
                }
            }
            Err(e) => {
                bad += 1;
                eprintln!("{e}");
            }
        }
    }
    if bad > 0 {
        bail!(
            "{bad} of {} scenario file{} invalid",
            files.len(),
            if files.len() == 1 { " is" } else { "s are" }
        );
    }
    Ok(())
}
