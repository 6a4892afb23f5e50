//! How long the crate takes to answer data that cannot identify a model (issue 15: "a fit gives up
//! with a typed error within ~1 s"): the time to the typed error or boundary outcome, not to a fit.
//!
//! ```text
//! cargo bench --bench degenerate -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! The heavy-buyer bases are the first 399 customers of `tests/data/cdnow_summary.csv` plus one
//! customer with x = 100,000 (or 2³² − 1) repeat purchases at t_x = 30, T = 38 weeks.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::models::gamma_gamma::{GammaGammaParams, SpendData};
use customer_assets::models::{BgNbdParams, MbgNbdParams, ParetoNbdParams};
use customer_assets::{Fit, Patterns, TimeUnit};

/// (x, t_x, T) of the first `n` customers of the CDNOW summary.
fn cdnow(n: usize) -> Vec<(u32, f64, f64)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cdnow_summary.csv");
    let mut reader = csv::Reader::from_path(path).expect("tests/data/cdnow_summary.csv");
    reader
        .records()
        .take(n)
        .map(|r| {
            let r = r.expect("a CSV row");
            (
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
            )
        })
        .collect()
}

fn with_heavy_buyer(x: u32) -> Patterns {
    let mut rows: Vec<(u32, f64, f64, f64)> = cdnow(399)
        .into_iter()
        .map(|(x, t, a)| (x, t, a, 1.0))
        .collect();
    rows.push((x, 30.0, 38.0, 1.0));
    Patterns::new(TimeUnit::WEEKS, rows).expect("valid patterns")
}

fn heavy_buyers(c: &mut Criterion) {
    let mut g = c.benchmark_group("heavy buyer among 399 CDNOW customers");
    g.sample_size(10);
    for x in [100_000, u32::MAX] {
        let patterns = with_heavy_buyer(x);
        g.bench_function(format!("Pareto/NBD fit, x = {x}"), |b| {
            b.iter(|| black_box(ParetoNbdParams::new().fit(black_box(&patterns)).is_err()))
        });
        g.bench_function(format!("BG/NBD fit, x = {x}"), |b| {
            b.iter(|| black_box(BgNbdParams::new().fit(black_box(&patterns)).is_ok()))
        });
        g.bench_function(format!("MBG/NBD fit, x = {x}"), |b| {
            b.iter(|| black_box(MbgNbdParams::new().fit(black_box(&patterns)).is_ok()))
        });
    }
    g.finish();
}

fn unidentified(c: &mut Criterion) {
    let mut g = c.benchmark_group("data that cannot identify the model");
    let identical = Patterns::new(TimeUnit::WEEKS, [(3, 20.0, 38.0, 1000.0)]).expect("patterns");
    g.bench_function("BG/NBD fit, 1,000 identical customers", |b| {
        b.iter(|| black_box(BgNbdParams::new().fit(black_box(&identical)).is_err()))
    });
    let equal = SpendData::new((1..=50).map(|x| (x, 20.0, 1.0))).expect("spend data");
    g.bench_function("Gamma-Gamma fit, 50 customers with equal spends", |b| {
        b.iter(|| black_box(GammaGammaParams::new().fit(black_box(&equal)).is_err()))
    });
    let identical_rows =
        SpendData::new(std::iter::repeat_n((2, 20.0, 1.0), 50)).expect("spend data");
    g.bench_function("Gamma-Gamma fit, 50 identical rows", |b| {
        b.iter(|| {
            black_box(
                GammaGammaParams::new()
                    .fit(black_box(&identical_rows))
                    .is_err(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, heavy_buyers, unidentified);
criterion_main!(benches);
