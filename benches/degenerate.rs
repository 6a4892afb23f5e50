//! How long the crate takes to answer data that barely or cannot identify a model (issues 15 and
//! 16: "fits on tiny bases, with one extreme heavy buyer, or of identical customers finish in
//! under 1 s with either estimates or a typed error that says why"): the time to the estimate,
//! the typed error or the boundary outcome.
//!
//! ```text
//! cargo bench --bench degenerate -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! - Tiny bases: the first 1, 2 and 5 customers of `tests/data/cdnow_summary.csv` (the five have
//!   three distinct histories), and its first 5 repeat buyers (five distinct histories); for
//!   Gamma-Gamma, the (x, mean spend) of its first 1, 2 and 5 repeat buyers.
//! - Heavy buyer: the first 399 customers plus one with x = 10⁵, 10⁶ or 2³² − 1 repeat purchases
//!   at t_x = 30, T = 38 weeks; for Gamma-Gamma, the 163 repeat buyers among them plus one with
//!   x = 10⁵ or 10⁶ transactions of mean 30.
//! - Identical customers: 1,000 with one history (x = 3, t_x = 20, T = 38), and for Gamma-Gamma
//!   50 equal rows and 50 customers with equal spends.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::models::bg_bb::{BgBbParams, DiscretePatterns};
use customer_assets::models::gamma_gamma::{GammaGammaParams, SpendData};
use customer_assets::models::{BgNbdParams, MbgNbdParams, ParetoNbdParams};
use customer_assets::{Fit, Patterns, TimeUnit};

/// (x, t_x, T, mean repeat spend) of the CDNOW summary's customers, in its order.
fn cdnow() -> Vec<(u32, f64, f64, f64)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cdnow_summary.csv");
    let mut reader = csv::Reader::from_path(path).expect("tests/data/cdnow_summary.csv");
    reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV row");
            (
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
                r[4].parse().unwrap(),
            )
        })
        .collect()
}

fn patterns(rows: impl IntoIterator<Item = (u32, f64, f64)>) -> Patterns {
    Patterns::new(
        TimeUnit::WEEKS,
        rows.into_iter().map(|(x, t_x, age)| (x, t_x, age, 1.0)),
    )
    .expect("valid patterns")
}

/// BG/NBD, MBG/NBD and Pareto/NBD fits of `data`, each timed to its outcome.
fn transaction_fits(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    label: &str,
    data: &Patterns,
) {
    g.bench_function(format!("BG/NBD fit, {label}"), |b| {
        b.iter(|| black_box(BgNbdParams::new().fit(black_box(data)).is_ok()))
    });
    g.bench_function(format!("MBG/NBD fit, {label}"), |b| {
        b.iter(|| black_box(MbgNbdParams::new().fit(black_box(data)).is_ok()))
    });
    g.bench_function(format!("Pareto/NBD fit, {label}"), |b| {
        b.iter(|| black_box(ParetoNbdParams::new().fit(black_box(data)).is_ok()))
    });
}

fn spend_fit(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    label: &str,
    rows: Vec<(u32, f64, f64)>,
) {
    let data = SpendData::new(rows).expect("spend data");
    g.bench_function(format!("Gamma-Gamma fit, {label}"), |b| {
        b.iter(|| black_box(GammaGammaParams::new().fit(black_box(&data)).is_ok()))
    });
}

fn tiny_bases(c: &mut Criterion) {
    let all = cdnow();
    let mut g = c.benchmark_group("tiny bases");
    g.sample_size(10);
    for n in [1, 2, 5] {
        let data = patterns(all.iter().take(n).map(|&(x, t, a, _)| (x, t, a)));
        transaction_fits(&mut g, &format!("first {n} CDNOW customers"), &data);
    }
    let buyers: Vec<(u32, f64, f64, f64)> = all.iter().copied().filter(|r| r.0 > 0).collect();
    let five = patterns(buyers.iter().take(5).map(|&(x, t, a, _)| (x, t, a)));
    transaction_fits(&mut g, "first 5 CDNOW repeat buyers", &five);
    for n in [1, 2, 5] {
        let rows = buyers
            .iter()
            .take(n)
            .map(|&(x, _, _, m)| (x, m, 1.0))
            .collect();
        spend_fit(&mut g, &format!("first {n} CDNOW repeat buyers"), rows);
    }
    let discrete = |rows: Vec<(u32, u32, u32, f64)>| {
        DiscretePatterns::new(TimeUnit::custom_days(365.0).expect("a year"), rows)
            .expect("discrete patterns")
    };
    let two = discrete(vec![(2, 5, 6, 1.0), (0, 0, 6, 1.0)]);
    g.bench_function("BG/BB fit, 2 patterns", |b| {
        b.iter(|| black_box(BgBbParams::new().fit(black_box(&two)).is_ok()))
    });
    let five = discrete(vec![
        (2, 5, 6, 1.0),
        (0, 0, 6, 1.0),
        (1, 1, 6, 1.0),
        (6, 6, 6, 1.0),
        (3, 4, 6, 1.0),
    ]);
    g.bench_function("BG/BB fit, 5 patterns", |b| {
        b.iter(|| black_box(BgBbParams::new().fit(black_box(&five)).is_ok()))
    });
    g.finish();
}

fn heavy_buyers(c: &mut Criterion) {
    let all = cdnow();
    let mut g = c.benchmark_group("heavy buyer among 399 CDNOW customers");
    g.sample_size(10);
    for x in [100_000, 1_000_000, u32::MAX] {
        let rows = all
            .iter()
            .take(399)
            .map(|&(x, t, a, _)| (x, t, a))
            .chain([(x, 30.0, 38.0)]);
        transaction_fits(&mut g, &format!("x = {x}"), &patterns(rows));
    }
    let repeat: Vec<(u32, f64, f64)> = all
        .iter()
        .take(399)
        .filter(|r| r.0 > 0)
        .map(|&(x, _, _, m)| (x, m, 1.0))
        .collect();
    for x in [100_000, 1_000_000] {
        let mut rows = repeat.clone();
        rows.push((x, 30.0, 1.0));
        spend_fit(
            &mut g,
            &format!("x = {x} among the 163 repeat buyers"),
            rows,
        );
    }
    g.finish();
}

fn identical_customers(c: &mut Criterion) {
    let mut g = c.benchmark_group("identical customers");
    let identical = Patterns::new(TimeUnit::WEEKS, [(3, 20.0, 38.0, 1000.0)]).expect("patterns");
    transaction_fits(&mut g, "1,000 identical customers", &identical);
    spend_fit(
        &mut g,
        "50 customers with equal spends",
        (1..=50).map(|x| (x, 20.0, 1.0)).collect(),
    );
    spend_fit(
        &mut g,
        "50 identical rows",
        std::iter::repeat_n((2, 20.0, 1.0), 50).collect(),
    );
    let bg_bb = DiscretePatterns::new(
        TimeUnit::custom_days(365.0).expect("a year"),
        [(3, 4, 6, 1000.0)],
    )
    .expect("discrete patterns");
    g.bench_function("BG/BB fit, 1,000 identical customers", |b| {
        b.iter(|| black_box(BgBbParams::new().fit(black_box(&bg_bb)).is_ok()))
    });
    g.finish();
}

criterion_group!(benches, tiny_bases, heavy_buyers, identical_customers);
criterion_main!(benches);
