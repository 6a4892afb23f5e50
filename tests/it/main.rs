//! The one integration-test binary: each capability has its own module.

use std::path::PathBuf;

#[cfg(feature = "arrow")]
mod arrow_input;
#[cfg(feature = "arrow")]
mod arrow_output;
mod bridge;
mod btyd;
mod categories;
mod covariate_recovery;
mod covariates;
mod degenerate_fits;
mod dert;
#[cfg(feature = "serde")]
mod design;
mod discrete;
mod feedback_groups;
mod fuzz_data;
mod fuzz_models;
mod gamma_gamma;
mod ggompertz;
mod kpi;
mod loyalty;
mod migration;
mod partial_state;
#[cfg(feature = "serde")]
mod privacy;
mod profile;
mod referrals;
mod segment;
mod special;
mod summarize;
mod uncertainty;
mod validation;
mod valuation_bases;

/// The reference data kept in the repository, `tests/data` (provenance and licences in its
/// README). Fails loudly when a file is missing: golden tests must never skip silently.
pub fn data_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"));
    assert!(
        dir.join("cdnow_summary.csv").is_file(),
        "reference data not found in {}",
        dir.display()
    );
    dir
}

/// Names the folder of the shared data that may not live in the repository (the GPL-3 data of
/// CLVTools): beside the crate, `../shared/data`, unless set.
pub const SHARED_DATA_ENV: &str = "CUSTOMER_ASSETS_SHARED_DATA";

/// Set to `1`, turns a skipped shared-data test into a failure (CI sets it, so a missing folder
/// cannot pass unnoticed there).
pub const REQUIRE_SHARED_ENV: &str = "CUSTOMER_ASSETS_REQUIRE_SHARED";

/// The CLVTools data folder (`apparelTrans.csv`, `apparelStaticCov.csv`; GPL-3, so kept out of the
/// repository): `$CUSTOMER_ASSETS_SHARED_DATA/clvtools`, else `../shared/data/clvtools` beside the
/// crate. `None` when the folder is absent, after printing that `test` is skipped; the caller
/// returns. With `CUSTOMER_ASSETS_REQUIRE_SHARED=1` an absent folder panics instead.
///
/// ```ignore
/// let Some(dir) = crate::clvtools_dir("btyd::pareto_nbd_with_covariates") else { return };
/// ```
pub fn clvtools_dir(test: &str) -> Option<PathBuf> {
    let root = std::env::var_os(SHARED_DATA_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(default_shared_data_dir);
    let require = std::env::var_os(REQUIRE_SHARED_ENV).is_some_and(|v| v == "1");
    find_clvtools(&root, require, test)
}

/// `../shared/data` beside the crate.
fn default_shared_data_dir() -> PathBuf {
    let crate_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    match crate_dir.parent() {
        Some(parent) => parent.join("shared").join("data"),
        None => crate_dir.join("../shared/data"),
    }
}

/// `root/clvtools` when it is a folder; otherwise a panic if `require`, else `None` after a line
/// on stderr naming the skipped `test`.
fn find_clvtools(root: &std::path::Path, require: bool, test: &str) -> Option<PathBuf> {
    let dir = root.join("clvtools");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !require,
        "{test}: the shared data folder {} is missing and {REQUIRE_SHARED_ENV}=1",
        dir.display()
    );
    eprintln!(
        "skipped {test}: no shared data at {} (set {SHARED_DATA_ENV})",
        dir.display()
    );
    None
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

/// A file in `tests/data`.
pub fn data_file(name: &str) -> PathBuf {
    data_dir().join(name)
}

/// Parses CSV text into rows of fields (header included).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// Where the tests find their data.
mod data_location {
    use super::*;

    #[test]
    fn data_dir_is_inside_this_checkout() {
        // Integration tests run from the package root: the data read is this checkout's.
        let here = std::env::current_dir().unwrap().canonicalize().unwrap();
        let dir = data_dir().canonicalize().unwrap();
        assert_eq!(dir, here.join("tests").join("data"));
        for name in [
            "cdnow_sample_transactions.csv",
            "cdnow_summary.csv",
            "donations.csv",
        ] {
            assert!(data_file(name).is_file(), "{name}");
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "customer-assets-shared-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn find_clvtools_resolves_the_folder_when_present() {
        let root = scratch("present");
        std::fs::create_dir(root.join("clvtools")).unwrap();
        assert_eq!(
            find_clvtools(&root, false, "t"),
            Some(root.join("clvtools"))
        );
        assert_eq!(find_clvtools(&root, true, "t"), Some(root.join("clvtools")));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn find_clvtools_skips_when_absent() {
        let root = scratch("absent");
        assert_eq!(find_clvtools(&root, false, "t"), None);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    #[should_panic(expected = "CUSTOMER_ASSETS_REQUIRE_SHARED=1")]
    fn find_clvtools_fails_when_absent_and_required() {
        let root = std::env::temp_dir().join(format!(
            "customer-assets-shared-never-created-{}",
            std::process::id()
        ));
        find_clvtools(&root, true, "t");
    }

    /// The shared CLVTools files, wherever `clvtools_dir` finds them: skipped on a bare clone,
    /// required in CI (`CUSTOMER_ASSETS_REQUIRE_SHARED=1`, the folder beside the crate), where
    /// it proves the default location resolves.
    #[test]
    fn clvtools_files_are_found_when_the_shared_data_is_there() {
        let Some(dir) =
            clvtools_dir("data_location::clvtools_files_are_found_when_the_shared_data_is_there")
        else {
            return;
        };
        let header = |name: &str| {
            let text = std::fs::read_to_string(dir.join(name)).unwrap();
            text.lines().next().unwrap_or_default().to_string()
        };
        assert_eq!(header("apparelTrans.csv"), "Id,Date,Price");
        assert_eq!(header("apparelStaticCov.csv"), "Id,Gender,Channel");
    }
}
