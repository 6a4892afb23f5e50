//! The one integration-test binary: each capability has its own module.

use std::path::PathBuf;

mod btyd;
mod discrete;
mod gamma_gamma;
mod kpi;
mod loyalty;
mod segment;
mod special;
mod summarize;
mod validation;
mod valuation;

/// The shared data folder: `CUSTOMER_ASSETS_DATA`, else `../shared/data` beside the crate.
/// Fails loudly when the folder is missing: golden tests must never skip silently.
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("CUSTOMER_ASSETS_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    assert!(
        dir.join("cdnow_summary.csv").is_file(),
        "reference data not found in {} (set CUSTOMER_ASSETS_DATA to the shared data folder)",
        dir.display()
    );
    dir
}

/// `default_cases` proptest cases, or `PROPTEST_CASES` when set: an explicit `with_cases`
/// would ignore the variable, so a longer sweep is one environment variable away.
pub fn proptest_config(default_cases: u32) -> proptest::prelude::ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_cases);
    proptest::prelude::ProptestConfig::with_cases(cases)
}

/// A file in the shared data folder.
pub fn data_file(name: &str) -> PathBuf {
    data_dir().join(name)
}

/// Runs the `clv` example binary (built by `cargo test` alongside the tests) with `args`.
pub fn run_clv(args: &[&str]) -> std::process::Output {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let clv = dir
        .join("examples")
        .join(format!("clv{}", std::env::consts::EXE_SUFFIX));
    assert!(
        clv.is_file(),
        "the clv example is not built at {}",
        clv.display()
    );
    std::process::Command::new(clv)
        .args(args)
        .output()
        .expect("run the clv example")
}

/// Parses CSV text into rows of fields (header included).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}
