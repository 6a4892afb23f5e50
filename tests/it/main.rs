//! The one integration-test binary: each capability has its own module.

use std::path::PathBuf;

mod ledger;
mod loyalty;

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

/// A file in the shared data folder.
pub fn data_file(name: &str) -> PathBuf {
    data_dir().join(name)
}
