//! The one integration-test binary of the `clv` tool: the binary itself, run as a user runs it,
//! on the repository's reference data (`tests/data` at the workspace root).

use std::path::PathBuf;

mod bridge;
mod consent;
mod covariates;
mod fit;
mod formats;
mod help;
mod hostile;
mod inputs;
mod kpi_tiers;
mod outputs;
mod plot;
mod predict;
mod profile;
mod progress;
mod pseudonymize;
mod referral;
mod report;
mod summarize;
mod validate;

/// A file of the reference data kept in the repository, `tests/data` at the workspace root
/// (provenance and licences in its README). Fails loudly when it is missing: golden tests must
/// never skip silently.
pub fn data_file(name: &str) -> PathBuf {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data")).join(name);
    assert!(
        path.is_file(),
        "reference data not found: {}",
        path.display()
    );
    path
}

/// Runs the `clv` binary of this crate (cargo builds it for the tests) with `args`.
pub fn run_clv(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_clv"))
        .args(args)
        .output()
        .expect("run clv")
}

/// Parses CSV text into rows of fields (header included).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// A folder of its own for `test` under the system's temporary folder.
pub fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("clv-it-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs clv and expects success: its stdout and stderr as text.
#[track_caller]
pub fn ok_with_stderr(args: &[&str]) -> (String, String) {
    let out = run_clv(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

/// Runs clv and expects success: its stdout as text.
#[track_caller]
pub fn ok(args: &[&str]) -> String {
    ok_with_stderr(args).0
}

/// Runs clv and expects it to fail (exit 1, nothing on stdout) with every needle on stderr.
#[track_caller]
pub fn refused(args: &[&str], needles: &[&str]) {
    let out = run_clv(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty(), "{args:?}: output on failure");
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{args:?}: {needle:?} not in {stderr}"
        );
    }
}
