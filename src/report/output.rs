//! Writing an output folder without ever leaving it half-written: every file is
//! rendered in memory first, written beside its final name, then renamed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Writes all `files` (name, bytes) into `dir`, creating it. Either every file
/// lands under its final name or none is replaced.
pub fn write_all<S: AsRef<str>>(dir: &Path, files: &[(S, Vec<u8>)]) -> Result<()> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output folder {}", dir.display()))?;
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| -> Result<()> {
        for (name, bytes) in files {
            let name = name.as_ref();
            let tmp = dir.join(format!(".{name}.partial"));
            let mut f = fs::File::create(&tmp)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            staged.push((tmp.clone(), dir.join(name)));
            f.write_all(bytes)
                .and_then(|_| f.sync_all())
                .with_context(|| format!("cannot write {}", tmp.display()))?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _) in &staged {
            let _ = fs::remove_file(tmp);
        }
        return Err(e);
    }
    for (tmp, dest) in &staged {
        fs::rename(tmp, dest)
            .with_context(|| format!("cannot move {} into place", dest.display()))?;
    }
    Ok(())
}
