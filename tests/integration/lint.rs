//! `drsim validate` warnings: advice on anti-patterns that never fails validation.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn validate(files: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drsim"))
        .arg("validate")
        .args(files)
        .output()
        .unwrap()
}

/// The `warning[code]` codes printed for `file`, in order.
fn codes(stderr: &str, file: &Path) -> Vec<String> {
    let tail = format!("]: {}: ", file.display());
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("warning["))
        .filter_map(|l| l.split_once(&tail).map(|(code, _)| code.to_string()))
        .collect()
}

/// Almost every anti-pattern at once: a standby 14 km from the primary with
/// a tenth of the load's capacity, watched only by itself, no fencing, and a
/// DNS TTL and detection time longer than the RTO target.
const RISKY: &str = r#"
name = "risky"
architecture = "active-passive"

[simulation]
duration = "10m"

[[datacenters]]
id = "dc-a"
region = "ra"
lat = 40.0
lon = -75.0

[[datacenters]]
id = "dc-b"
region = "ra"
lat = 40.1
lon = -75.1
capacity = "10/s"

[topology]
primary = "dc-a"
standbys = ["dc-b"]

[workload]
rate = "100/s"

[[workload.clients]]
region = "ra"

[replication]
mode = "async"

[failover]
mode = "automatic"
monitor = "dc-b"
fencing = "none"

[failover.health_check]
interval = "30s"
timeout = "2s"
threshold = 3

[failover.dns]
ttl = "5m"

[[targets]]
metric = "rto_s"
max = "1m"
probability = 0.99
"#;

#[test]
fn warnings_name_their_code_and_file_and_keep_exit_code_zero() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("risky.toml");
    std::fs::write(&file, RISKY).unwrap();
    let out = validate(&[&file]);
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("risky.toml: ok ("), "{stdout}");
    assert_eq!(
        codes(&stderr, &file),
        [
            "standby-too-close",
            "single-replication-link",
            "standby-under-capacity",
            "no-fencing",
            "monitor-is-standby",
            "dns-ttl-exceeds-rto",
            "detection-exceeds-rto",
        ],
        "{stderr}"
    );
    let too_close = format!(
        "warning[standby-too-close]: {}: the standby dc-b is 14 km from the primary dc-a: one disaster can take both",
        file.display()
    );
    assert!(stderr.contains(&too_close), "{stderr}");
    // One line per warning, no blank or wrapped lines.
    assert_eq!(stderr.lines().count(), 7, "{stderr}");
}

#[test]
fn an_invalid_file_still_fails_beside_one_with_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let risky = dir.path().join("risky.toml");
    let broken = dir.path().join("broken.toml");
    std::fs::write(&risky, RISKY).unwrap();
    std::fs::write(&broken, RISKY.replace("rate = \"100/s\"", "rate = \"0/s\"")).unwrap();
    let out = validate(&[&risky, &broken]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(codes(&stderr, &risky).len(), 7, "{stderr}");
    // A file that does not validate gets errors, not advice.
    assert!(codes(&stderr, &broken).is_empty(), "{stderr}");
}

#[test]
fn bundled_scenarios_get_only_the_expected_advice() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    // No bundled scenario gives its replication pairs a backup path, so every
    // design with a backup site gets `single-replication-link`. Beyond that: a lone standby
    // monitor, and region-disaster.toml's in-region standby (on purpose: it
    // shows what the warning is about). Scenarios not listed here are still
    // validated (no panic, exit 0) and their warnings printed.
    let expected: [(&str, &[&str]); 12] = [
        ("active-active.toml", &["single-replication-link"]),
        ("active-passive-horizon.toml", &["single-replication-link"]),
        (
            "active-passive-horizon-witness.toml",
            &["single-replication-link"],
        ),
        (
            "active-passive-manual.toml",
            &["single-replication-link", "monitor-is-standby"],
        ),
        (
            "active-passive-semisync.toml",
            &["single-replication-link", "monitor-is-standby"],
        ),
        (
            "active-passive-sweep.toml",
            &["single-replication-link", "monitor-is-standby"],
        ),
        (
            "active-passive.toml",
            &["single-replication-link", "monitor-is-standby"],
        ),
        ("flapping-link.toml", &["single-replication-link"]),
        ("hybrid.toml", &["single-replication-link"]),
        (
            "partition.toml",
            &["single-replication-link", "monitor-is-standby"],
        ),
        (
            "region-disaster.toml",
            &["standby-same-region", "single-replication-link"],
        ),
        ("bench/reference.toml", &["single-replication-link"]),
    ];
    let mut files = super::common::scenario_files(&root);
    files.sort();
    for (f, _) in &expected {
        assert!(
            files.contains(&root.join(f)),
            "{f} is gone: update this test"
        );
    }
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = validate(&paths);
    let stderr = String::from_utf8(out.stderr).unwrap();
    println!("{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for (f, want) in expected {
        assert_eq!(codes(&stderr, &root.join(f)), want, "{f}\n{stderr}");
    }
}
