//! Writing an output folder without ever leaving it half-written, and without
//! mixing two studies in one folder.
//!
//! Every file is rendered in memory first. The folder is then built whole
//! beside its final name (a temporary sibling) and swapped into place, so a
//! rerun leaves no stale file of the previous run. Each folder carries
//! `study.json`: what wrote it (command and scenarios) and the files it
//! wrote. A folder that holds another study, or files drsim did not write
//! there, is refused unless `--force`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// The manifest every output folder carries.
pub const STUDY_FILE: &str = "study.json";
const FORMAT: &str = "drsim-output-1";

/// What writes a folder: the command (`run`, `compare`, `sweep`, `trace`,
/// `drill`, or a shard such as `run --shard 0/3`) and its scenario files.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Owner {
    pub command: String,
    pub scenarios: Vec<OwnerScenario>,
    pub runs: u64,
    pub master_seed: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OwnerScenario {
    pub file: String,
    pub name: String,
    pub sha256: String,
}

impl Owner {
    /// The same study: the same command over the same scenarios (each with
    /// the same name, or the same text). Runs and seed may differ: a rerun
    /// with more runs replaces the folder.
    fn same_study(&self, other: &Owner) -> bool {
        self.command == other.command
            && self.scenarios.len() == other.scenarios.len()
            && self
                .scenarios
                .iter()
                .zip(&other.scenarios)
                .all(|(a, b)| a.name == b.name || a.sha256 == b.sha256)
    }

    fn describe(&self) -> String {
        let scenarios: Vec<String> = self
            .scenarios
            .iter()
            .map(|s| format!("{} ({})", s.name, s.file))
            .collect();
        format!("drsim {} of {}", self.command, scenarios.join(", "))
    }
}

#[derive(Serialize, Deserialize)]
struct StudyFile {
    format: String,
    drsim_version: String,
    #[serde(flatten)]
    owner: Owner,
    /// Every file drsim wrote into the folder, this one excepted.
    files: Vec<String>,
}

/// Writes `files` (name, bytes) as the whole content of `dir`, plus
/// `study.json`. The folder must be absent, empty, or written by the same
/// study (see `Owner::same_study`) with no other files, unless `force`.
/// Either the new folder is in place or the old one is untouched.
pub fn write_folder<S: AsRef<str>>(
    dir: &Path,
    owner: &Owner,
    files: &[(S, Vec<u8>)],
    force: bool,
) -> Result<()> {
    check(dir, owner, force)?;
    let names: Vec<String> = files.iter().map(|(n, _)| n.as_ref().to_string()).collect();
    let manifest = StudyFile {
        format: FORMAT.into(),
        drsim_version: env!("CARGO_PKG_VERSION").into(),
        owner: owner.clone(),
        files: names,
    };
    let mut json = serde_json::to_vec_pretty(&manifest)?;
    json.push(b'\n');

    let (parent, name) = split(dir)?;
    fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.drsim-new-{pid}"));
    if tmp.exists() {
        let _ = fs::remove_dir_all(&tmp);
    }
    let built = (|| -> Result<()> {
        fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        for (name, bytes) in files
            .iter()
            .map(|(n, b)| (n.as_ref(), b))
            .chain(std::iter::once((STUDY_FILE, &json)))
        {
            let path = tmp.join(name);
            if let Some(p) = path.parent() {
                fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
            }
            let mut f = fs::File::create(&path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            f.write_all(bytes)
                .and_then(|_| f.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    })();
    if let Err(e) = built {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e.context(format!(
            "nothing was written to {} (it is as it was)",
            dir.display()
        )));
    }
    if !dir.exists() {
        return fs::rename(&tmp, dir).with_context(|| {
            let _ = fs::remove_dir_all(&tmp);
            format!("cannot move the new folder into place as {}", dir.display())
        });
    }
    // Swap: the old folder steps aside, the new one takes its name, the old
    // one goes. If the new one cannot take the name, the old one comes back.
    let old = parent.join(format!(".{name}.drsim-old-{pid}"));
    if old.exists() {
        let _ = fs::remove_dir_all(&old);
    }
    if let Err(e) = fs::rename(dir, &old) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e).with_context(|| format!("cannot replace {}", dir.display()));
    }
    if let Err(e) = fs::rename(&tmp, dir) {
        let _ = fs::rename(&old, dir);
        let _ = fs::remove_dir_all(&tmp);
        return Err(e).with_context(|| format!("cannot replace {}", dir.display()));
    }
    fs::remove_dir_all(&old).with_context(|| {
        format!(
            "replaced {} but cannot remove {}",
            dir.display(),
            old.display()
        )
    })
}

/// The folder's parent and its last component, for the temporary siblings.
fn split(dir: &Path) -> Result<(PathBuf, String)> {
    let abs = if dir.exists() {
        fs::canonicalize(dir).with_context(|| format!("cannot resolve {}", dir.display()))?
    } else {
        std::path::absolute(dir).with_context(|| format!("cannot resolve {}", dir.display()))?
    };
    match (abs.parent(), abs.file_name()) {
        (Some(p), Some(n)) => Ok((p.to_path_buf(), n.to_string_lossy().into_owned())),
        _ => anyhow::bail!(
            "{} cannot be an output folder: give a folder below it with --out",
            dir.display()
        ),
    }
}

/// Refuses a folder that holds something else than a previous run of this study.
fn check(dir: &Path, owner: &Owner, force: bool) -> Result<()> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    if !meta.is_dir() {
        anyhow::bail!(
            "the output folder {} is a file, not a folder: give another --out",
            dir.display()
        );
    }
    let mut entries: Vec<String> = fs::read_dir(dir)
        .with_context(|| format!("cannot read the output folder {}", dir.display()))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot read the output folder {}", dir.display()))?;
    entries.sort();
    if entries.is_empty() {
        return Ok(());
    }
    // Replacing a folder deletes it: never the one we stand in.
    if let (Ok(cwd), Ok(abs)) = (std::env::current_dir(), fs::canonicalize(dir))
        && cwd.starts_with(&abs)
    {
        anyhow::bail!(
            "will not replace the output folder {}: it holds the current directory; give another --out",
            dir.display()
        );
    }
    if force {
        return Ok(());
    }
    let refuse = |what: String| {
        anyhow::anyhow!(
            "the output folder {} holds {what}; it is not replaced: give another --out, or --force to replace the whole folder",
            dir.display()
        )
    };
    let listed = |names: &[String]| {
        const SHOWN: usize = 5;
        let mut s = names
            .iter()
            .take(SHOWN)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        if names.len() > SHOWN {
            s.push_str(&format!(" and {} more", names.len() - SHOWN));
        }
        s
    };
    let manifest = dir.join(STUDY_FILE);
    let Ok(bytes) = fs::read(&manifest) else {
        return Err(refuse(format!(
            "{} file(s) not written by this drsim ({}) and no {STUDY_FILE}",
            entries.len(),
            listed(&entries)
        )));
    };
    let previous: StudyFile = match serde_json::from_slice(&bytes) {
        Ok(p) => p,
        Err(e) => return Err(refuse(format!("a {STUDY_FILE} drsim cannot read ({e})"))),
    };
    if !previous.owner.same_study(owner) {
        return Err(refuse(format!(
            "another study: {} (this is {})",
            previous.owner.describe(),
            owner.describe()
        )));
    }
    let unknown: Vec<String> = entries
        .into_iter()
        .filter(|e| {
            e != STUDY_FILE
                && !previous
                    .files
                    .iter()
                    .any(|f| f == e || f.starts_with(&format!("{e}/")))
        })
        .collect();
    if !unknown.is_empty() {
        return Err(refuse(format!(
            "{} file(s) the previous run did not write ({})",
            unknown.len(),
            listed(&unknown)
        )));
    }
    Ok(())
}
