//! Sharded studies: `--shard K/N` then `drsim merge` writes exactly the files
//! of the single-machine command, for every study kind and several N; a
//! missing, repeated or foreign shard is named and nothing is written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn drsim<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_drsim"))
        .args(args)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .expect("drsim starts")
}

fn bundled(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file of a folder (no subfolders are expected), sorted by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            assert!(e.file_type().unwrap().is_file(), "{:?}", e.path());
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

pub fn assert_same_folder(expected: &Path, got: &Path, what: &str) {
    let (a, b) = (files(expected), files(got));
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "{what}: different file sets");
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{what}: {name} differs from the single-machine run");
    }
}

/// Runs `study` on one machine, then as N shards merged, for each N, and
/// checks the merged folder is byte-identical (same --out string).
fn check_study(dir: &Path, name: &str, study: &[String], must_have: &[&str]) {
    let result = dir.join(format!("{name}-result"));
    let single = dir.join(format!("{name}-single"));
    let mut args = study.to_vec();
    args.extend(["-q".into(), "--out".into(), result.display().to_string()]);
    let one = drsim(&args);
    assert_ne!(one.status.code(), Some(1), "{name}: {}", stderr(&one));
    std::fs::rename(&result, &single).unwrap();
    let names: Vec<String> = files(&single).into_iter().map(|f| f.0).collect();
    for f in must_have {
        assert!(names.iter().any(|n| n == f), "{name}: no {f} in {names:?}");
    }
    assert!(
        names.iter().any(|n| n.ends_with(".png")),
        "{name}: no figures"
    );

    for n in [1u64, 2, 3, 5] {
        let mut shard_dirs: Vec<PathBuf> = Vec::new();
        // Any order of running and of naming the folders must do.
        for k in (0..n).rev() {
            let out = dir.join(format!("{name}-shards-{n}/{k}"));
            let mut a = study.to_vec();
            a.extend([
                "-q".into(),
                "--shard".into(),
                format!("{k}/{n}"),
                "--out".into(),
                out.display().to_string(),
            ]);
            let o = drsim(&a);
            assert!(o.status.success(), "{name} shard {k}/{n}: {}", stderr(&o));
            assert!(
                !out.join("index.html").exists(),
                "a shard writes rows, not a report"
            );
            shard_dirs.push(out);
        }
        let mut m: Vec<String> = vec!["merge".into()];
        m.extend(shard_dirs.iter().map(|d| d.display().to_string()));
        m.extend(["-q".into(), "--out".into(), result.display().to_string()]);
        let merged = drsim(&m);
        assert_eq!(
            merged.status.code(),
            one.status.code(),
            "{name} N={n}: exit code of merge vs single run; {}",
            stderr(&merged)
        );
        assert_same_folder(&single, &result, &format!("{name} with {n} shards"));
        std::fs::remove_dir_all(&result).unwrap();
    }
}

#[test]
fn merged_shards_equal_the_single_machine_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let ap = bundled("active-passive.toml");
    let semi = bundled("active-passive-semisync.toml");
    // 7 runs: no N above 1 divides the units evenly.
    let common = ["--runs", "7", "--seed", "11"].map(String::from);
    let with = |head: &[&str]| -> Vec<String> {
        head.iter()
            .map(|s| s.to_string())
            .chain(common.iter().cloned())
            .collect()
    };
    check_study(
        dir.path(),
        "run",
        &with(&["run", &ap]),
        &[
            "runs.csv",
            "summary.json",
            "targets.csv",
            "scenario.toml",
            "index.html",
            "ecdf_rto.svg",
        ],
    );
    check_study(
        dir.path(),
        "compare",
        &with(&["compare", &ap, &semi]),
        &[
            "comparison.csv",
            "targets.csv",
            "index.html",
            "runs-active-passive.csv",
        ],
    );
    check_study(
        dir.path(),
        "sweep",
        &with(&[
            "sweep",
            &ap,
            "--param",
            "replication.interval=0.5s,2s",
            "--param",
            "failover.health_check.interval=10s,30s",
        ]),
        &[
            "sweep.csv",
            "targets.csv",
            "scenario.toml",
            "heatmap_rto_s.png",
            "index.html",
        ],
    );
}

#[test]
fn shards_with_no_units_and_the_default_folders_merge_too() {
    // 2 units over 3 shards: shard 2 is empty. Without --out, shards go to
    // output/<name>-shards/shard-K-of-N and merge to the run's default folder.
    let dir = tempfile::tempdir().unwrap();
    let ap = bundled("active-passive.toml");
    let run_in = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_drsim"))
            .args(args)
            .arg("-q")
            .current_dir(dir.path())
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .output()
            .unwrap();
        assert_ne!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
    };
    run_in(&["run", &ap, "--runs", "2", "--seed", "4"]);
    let default = dir.path().join("output/active-passive");
    let single = dir.path().join("single");
    std::fs::rename(&default, &single).unwrap();
    for k in 0..3 {
        run_in(&[
            "run",
            &ap,
            "--runs",
            "2",
            "--seed",
            "4",
            "--shard",
            &format!("{k}/3"),
        ]);
    }
    let shards = dir.path().join("output/active-passive-shards");
    let empty = std::fs::read(shards.join("shard-2-of-3/rows.csv")).unwrap();
    assert!(empty.is_empty(), "shard 2/3 of 2 units has no rows");
    run_in(&[
        "merge",
        "output/active-passive-shards/shard-0-of-3",
        "output/active-passive-shards/shard-1-of-3",
        "output/active-passive-shards/shard-2-of-3",
    ]);
    assert_same_folder(&single, &default, "default folders");
}

/// Writes the shards of a 3-way split of a 7-run study into `dir/name/K`.
fn shards(dir: &Path, name: &str, seed: &str, scenario: &str) -> Vec<String> {
    (0..3)
        .map(|k| {
            let out = dir.join(format!("{name}/{k}"));
            let o = drsim([
                "run",
                scenario,
                "--runs",
                "7",
                "--seed",
                seed,
                "-q",
                "--shard",
                &format!("{k}/3"),
                "--out",
                &out.display().to_string(),
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
            out.display().to_string()
        })
        .collect()
}

#[test]
fn bad_shard_sets_are_refused_with_the_reason_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ap = bundled("active-passive.toml");
    let good = shards(d, "good", "3", &ap);
    let other_seed = shards(d, "seed", "4", &ap);
    // The same scenario name and path string, other content: another hash.
    let edited = d.join("edited.toml");
    let text = std::fs::read_to_string(&ap).unwrap();
    std::fs::write(
        &edited,
        text.replace(
            "name = \"active-passive\"",
            "name = \"active-passive\"\n# edited",
        ),
    )
    .unwrap();
    let other_file = shards(d, "file", "3", &edited.display().to_string());
    let out = d.join("merged");

    let merge = |dirs: &[&str]| -> String {
        let mut args = vec!["merge"];
        args.extend_from_slice(dirs);
        let out_s = out.display().to_string();
        args.extend(["--out", &out_s]);
        let o = drsim(&args);
        assert_eq!(o.status.code(), Some(1), "merge {dirs:?} must fail");
        assert!(!out.exists(), "merge {dirs:?} wrote {}", out.display());
        stderr(&o)
    };

    // Units of 7 runs over 3 shards: shard 1 holds 1 and 4.
    let e = merge(&[&good[0], &good[2]]);
    assert!(e.contains("shard 1/3 is missing"), "{e}");
    assert!(e.contains("work units 1, 4 are absent"), "{e}");
    assert!(e.contains("nothing was written"), "{e}");

    let e = merge(&[&good[0], &good[1], &good[1], &good[2]]);
    assert!(e.contains("shard 1/3 is given 2 times"), "{e}");

    let e = merge(&[&good[0], &other_seed[1], &good[2]]);
    assert!(e.contains("disagree on the master seed: 3 in"), "{e}");
    assert!(e.contains(&format!("4 in {}", other_seed[1])), "{e}");

    let e = merge(&[&good[0], &good[1], &other_file[2]]);
    assert!(e.contains("disagree on the scenario files"), "{e}");

    // A shard of a 2-way split among 3-way ones.
    let two = d.join("two/1");
    let o = drsim([
        "run",
        &ap,
        "--runs",
        "7",
        "--seed",
        "3",
        "-q",
        "--shard",
        "1/2",
        "--out",
        &two.display().to_string(),
    ]);
    assert!(o.status.success());
    let e = merge(&[&good[0], &two.display().to_string(), &good[2]]);
    assert!(e.contains("disagree on the shard count: 3 in"), "{e}");

    // Damaged folders: a lost row, a repeated row, a row with another seed,
    // an edited scenario copy.
    let damaged = |name: &str, edit: &dyn Fn(&Path)| -> String {
        let copy = d.join(name);
        std::fs::create_dir_all(&copy).unwrap();
        for f in [
            "manifest.json",
            "rows.csv",
            "incidents.csv",
            "scenario-0.toml",
        ] {
            std::fs::copy(Path::new(&good[1]).join(f), copy.join(f)).unwrap();
        }
        edit(&copy);
        copy.display().to_string()
    };
    let rows = std::fs::read_to_string(Path::new(&good[1]).join("rows.csv")).unwrap();
    let lines: Vec<&str> = rows.lines().collect();
    assert_eq!(lines.len(), 3, "header and units 1, 4");

    let lost = damaged("lost", &|p| {
        std::fs::write(p.join("rows.csv"), format!("{}\n{}\n", lines[0], lines[1])).unwrap()
    });
    let e = merge(&[&good[0], &lost, &good[2]]);
    assert!(e.contains("work units 4 are missing"), "{e}");
    assert!(e.contains("the file has 1 rows"), "{e}");

    let repeated = damaged("repeated", &|p| {
        std::fs::write(p.join("rows.csv"), format!("{rows}{}\n", lines[2])).unwrap()
    });
    let e = merge(&[&good[0], &repeated, &good[2]]);
    assert!(e.contains("unit 4 (run 4) appears more than once"), "{e}");

    let reseeded = damaged("reseeded", &|p| {
        let mut cells: Vec<String> = lines[2].split(',').map(String::from).collect();
        cells[2] = "12345".into();
        std::fs::write(
            p.join("rows.csv"),
            format!("{}\n{}\n{}\n", lines[0], lines[1], cells.join(",")),
        )
        .unwrap()
    });
    let e = merge(&[&good[0], &reseeded, &good[2]]);
    assert!(
        e.contains("unit 4 (run 4) has run 4 seed 12345, expected run 4 seed"),
        "{e}"
    );

    let tampered = damaged("tampered", &|p| {
        std::fs::write(p.join("scenario-0.toml"), "# not the scenario\n").unwrap()
    });
    let e = merge(&[&good[0], &tampered, &good[2]]);
    assert!(e.contains("scenario-0.toml: sha256"), "{e}");

    let e = merge(&[&good[0], &good[1], &d.join("nowhere").display().to_string()]);
    assert!(e.contains("nowhere/manifest.json: cannot read it"), "{e}");

    // The good set merges; but never into one of its own folders.
    let o = drsim([
        "merge", &good[0], &good[1], &good[2], "-q", "--out", &good[0],
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is the shard folder"), "{}", stderr(&o));
    let o = drsim([
        "merge",
        &good[0],
        &good[1],
        &good[2],
        "-q",
        "--out",
        &out.display().to_string(),
    ]);
    assert_ne!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(out.join("runs.csv").exists());
}

#[test]
fn shard_auto_reads_slurm_arrays_and_indexed_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let ap = bundled("active-passive.toml");
    let manifest = |env: &[(&str, &str)], name: &str| -> Result<serde_json::Value, String> {
        let out = dir.path().join(name);
        let o = Command::new(env!("CARGO_BIN_EXE_drsim"))
            .args(["run", &ap, "--runs", "5", "-q", "--shard", "auto", "--out"])
            .arg(&out)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        if !o.status.success() {
            return Err(stderr(&o));
        }
        let m = std::fs::read(out.join("manifest.json")).unwrap();
        Ok(serde_json::from_slice(&m).unwrap())
    };
    // `sbatch --array=1-3` numbers tasks 1..3: task 2 is shard 1/3.
    let m = manifest(
        &[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "3"),
            ("SLURM_ARRAY_TASK_STEP", "1"),
        ],
        "slurm",
    )
    .unwrap();
    assert_eq!(
        (m["shard"]["index"].as_u64(), m["shard"]["count"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(m["shard"]["units"], 2, "units 1 and 4 of 5");
    let m = manifest(
        &[("JOB_COMPLETION_INDEX", "3"), ("DRSIM_SHARD_COUNT", "4")],
        "k8s",
    )
    .unwrap();
    assert_eq!(
        (m["shard"]["index"].as_u64(), m["shard"]["count"].as_u64()),
        (Some(3), Some(4))
    );
    let e = manifest(&[("JOB_COMPLETION_INDEX", "3")], "k8s-no-count").unwrap_err();
    assert!(e.contains("DRSIM_SHARD_COUNT"), "{e}");
    let e = manifest(&[], "nothing").unwrap_err();
    assert!(e.contains("--shard auto needs"), "{e}");
}
