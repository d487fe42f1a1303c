//! `drsim merge`: the shard folders of one study back into the files the
//! single-machine command writes. All checks run before anything is written.

use std::path::{Path, PathBuf};

use crate::shard;

use super::study::{self, Study};
use super::{MergeArgs, Outcome};

pub fn execute(args: MergeArgs) -> anyhow::Result<Outcome> {
    let mut problems = Vec::new();
    let mut shards = Vec::new();
    for dir in &args.shards {
        match shard::load_dir(dir) {
            Ok(s) => shards.push(s),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() {
        match shard::merge(shards) {
            Ok(merged) => {
                let study = Study::from_spec(&merged.spec, merged.texts)?;
                let out = args.out.clone().unwrap_or_else(|| study.default_out());
                // Merging into a shard folder would mix shard files into the result.
                if let Some(dir) = args.shards.iter().find(|d| same_dir(d, &out)) {
                    anyhow::bail!(
                        "--out {} is the shard folder {}: give the single-machine command's output folder",
                        out.display(),
                        dir.display()
                    );
                }
                return study::finish(&study, merged.rows, &out, args.quiet, args.json, args.force);
            }
            Err(p) => problems.extend(p),
        }
    }
    anyhow::bail!(
        "cannot merge {} shard folder(s); nothing was written:\n  {}",
        args.shards.len(),
        problems.join("\n  ")
    )
}

fn same_dir(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| PathBuf::from(p));
    canon(a) == canon(b)
}
