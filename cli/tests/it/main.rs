//! The one integration-test binary of the `clv` tool: the binary itself, run as a user runs it,
//! on the repository's reference data (`tests/data` at the workspace root).

use std::path::PathBuf;

mod fit;
mod formats;
mod help;
mod hostile;
mod inputs;
mod kpi_tiers;
mod outputs;
mod plot;
mod predict;
mod progress;
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
