//! Fitting and prediction speed of the transaction models on simulated customers with distinct,
//! continuous t_x and T (no compression shortcut: every customer is its own pattern).
//!
//! ```text
//! cargo bench --bench models -- --warm-up-time 1 --measurement-time 3
//! cargo bench --bench models --features parallel -- --warm-up-time 1 --measurement-time 3
//! BTYD_EXPORT=/tmp/bench cargo bench --bench models -- --list   # also writes the data as CSV
//! ```
//!
//! The customers follow the BG/NBD (CDNOW parameters r = 0.243, α = 4.414, a = 0.793, b = 2.426)
//! and Pareto/NBD (r = 0.553, α = 10.578, s = 0.606, β = 11.669) processes, with T uniform on
//! [27, 39] weeks; `benches/compare_lifetimes.py` times Python lifetimes on the same CSV files.
//! The GGompertz/NBD fits run on CDNOW's summary and on customers of that model
//! (`cargo bench --bench models -- ggom`).
use std::hint::black_box;
use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::models::bg_nbd::{BgNbd, BgNbdParameters};
use customer_assets::models::mbg_nbd::{MbgNbd, MbgNbdParameters};
use customer_assets::models::pareto_nbd::ParetoNbdParameters;
use customer_assets::models::{BgNbdParams, GGompertzNbdParams, ParetoNbd, ParetoNbdParams};
use customer_assets::{Fit, History, Patterns, TimeUnit, TransactionModel};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Exp, Gamma};

/// (x, t_x, T) of `n` simulated customers. `dropout` decides after each purchase (BG) or draws a
/// lifetime (Pareto) — see the two generators below.
fn bg_customers(n: usize, seed: u64) -> Vec<(u32, f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (r, alpha, a, b) = (0.243, 4.414, 0.793, 2.426);
    let rate: Gamma<f64> = Gamma::new(r, 1.0 / alpha).unwrap();
    let drop: Beta<f64> = Beta::new(a, b).unwrap();
    (0..n)
        .map(|_| {
            let t_end: f64 = rng.random_range(27.0..39.0);
            let lambda: f64 = rate.sample(&mut rng).max(1e-12);
            let p: f64 = drop.sample(&mut rng);
            let gap = Exp::new(lambda).unwrap();
            let (mut t, mut x, mut t_x) = (0.0, 0u32, 0.0);
            loop {
                t += gap.sample(&mut rng);
                if t > t_end {
                    break;
                }
                x += 1;
                t_x = t;
                if rng.random::<f64>() < p {
                    break;
                }
            }
            (x, t_x, t_end)
        })
        .collect()
}

fn pareto_customers(n: usize, seed: u64) -> Vec<(u32, f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (r, alpha, s, beta) = (0.553, 10.578, 0.606, 11.669);
    let rate: Gamma<f64> = Gamma::new(r, 1.0 / alpha).unwrap();
    let death: Gamma<f64> = Gamma::new(s, 1.0 / beta).unwrap();
    (0..n)
        .map(|_| {
            let t_end: f64 = rng.random_range(27.0..39.0);
            let lambda: f64 = rate.sample(&mut rng).max(1e-12);
            let mu: f64 = death.sample(&mut rng).max(1e-12);
            let life = Exp::new(mu).unwrap().sample(&mut rng);
            let gap = Exp::new(lambda).unwrap();
            let stop = t_end.min(life);
            let (mut t, mut x, mut t_x) = (0.0, 0u32, 0.0);
            loop {
                t += gap.sample(&mut rng);
                if t > stop {
                    break;
                }
                x += 1;
                t_x = t;
            }
            (x, t_x, t_end)
        })
        .collect()
}

fn patterns(rows: &[(u32, f64, f64)]) -> Patterns {
    Patterns::new(
        TimeUnit::WEEKS,
        rows.iter().map(|&(x, tx, t)| (x, tx, t, 1.0)),
    )
    .unwrap()
}

/// With BTYD_EXPORT=DIR, writes DIR/bg_1m.csv and DIR/pareto_250k.csv
/// (`customer_id,frequency,recency,T`) for benches/compare_lifetimes.py.
fn export(name: &str, rows: &[(u32, f64, f64)]) {
    let Some(dir) = std::env::var_os("BTYD_EXPORT") else {
        return;
    };
    let path = std::path::Path::new(&dir).join(name);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(out, "customer_id,frequency,recency,T").unwrap();
    for (i, (x, tx, t)) in rows.iter().enumerate() {
        writeln!(out, "{i},{x},{tx},{t}").unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let bg_rows = bg_customers(1_000_000, 1);
    export("bg_1m.csv", &bg_rows);
    let bg = patterns(&bg_rows);
    assert_eq!(bg.len(), 1_000_000, "patterns must stay distinct");
    let pareto_rows = pareto_customers(250_000, 2);
    export("pareto_250k.csv", &pareto_rows);
    let pareto = patterns(&pareto_rows);

    let mut group = c.benchmark_group("models");
    group.sample_size(10);
    group.bench_function("bg_nbd_fit_1m", |b| {
        b.iter(|| BgNbdParams::new().fit(black_box(&bg)).unwrap())
    });
    group.bench_function("pareto_nbd_fit_250k", |b| {
        b.iter(|| ParetoNbdParams::new().fit(black_box(&pareto)).unwrap())
    });
    // One likelihood-and-gradient pass over the 250,000 customers at the generating parameters
    // (the per-row cost of a fit; includes sorting the patterns once, as a pass in a fit does not).
    let pareto_truth = ParetoNbd::new(
        ParetoNbdParameters {
            r: 0.553,
            alpha: 10.578,
            s: 0.606,
            beta: 11.669,
        },
        TimeUnit::WEEKS,
    )
    .unwrap();
    group.bench_function("pareto_nbd_loglik_pass_250k", |b| {
        b.iter(|| {
            pareto_truth
                .total_log_likelihood(black_box(&pareto))
                .unwrap()
        })
    });
    let histories: Vec<History> = bg_rows
        .iter()
        .map(|&(x, tx, t)| History::new(x, tx, t))
        .collect();
    let bg_model = BgNbd::new(
        BgNbdParameters {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        },
        TimeUnit::WEEKS,
    )
    .unwrap();
    group.bench_function("bg_nbd_expected_purchases_1m", |b| {
        b.iter(|| {
            bg_model
                .expected_purchases_batch(black_box(&histories), 39.0)
                .unwrap()
        })
    });
    // DERT at 10% a year (continuous, per week) for the same million customers.
    let weekly_rate = 0.10f64.ln_1p() * 7.0 / 365.25;
    group.bench_function("bg_nbd_dert_1m", |b| {
        b.iter(|| {
            bg_model
                .dert_batch(black_box(&histories), weekly_rate)
                .unwrap()
        })
    });
    let mbg_model = MbgNbd::new(
        MbgNbdParameters {
            r: 0.525,
            alpha: 6.183,
            a: 0.891,
            b: 1.614,
        },
        TimeUnit::WEEKS,
    )
    .unwrap();
    group.bench_function("mbg_nbd_dert_1m", |b| {
        b.iter(|| {
            mbg_model
                .dert_batch(black_box(&histories), weekly_rate)
                .unwrap()
        })
    });
    let pareto_model = ParetoNbd::new(
        ParetoNbdParameters {
            r: 0.553,
            alpha: 10.578,
            s: 0.606,
            beta: 11.669,
        },
        TimeUnit::WEEKS,
    )
    .unwrap();
    group.bench_function("pareto_nbd_expected_purchases_1m", |b| {
        b.iter(|| {
            pareto_model
                .expected_purchases_batch(black_box(&histories), 39.0)
                .unwrap()
        })
    });
    group.finish();
}

/// CDNOW's summary (`tests/data/cdnow_summary.csv`: 2,357 customers, weeks).
fn cdnow() -> Patterns {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cdnow_summary.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let rows: Vec<(u32, f64, f64, f64)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
                1.0,
            )
        })
        .collect();
    Patterns::new(TimeUnit::WEEKS, rows).unwrap()
}

/// (x, t_x, T) of `n` customers of the GGompertz/NBD model with an ageing lifetime (r = 0.85,
/// α = 4.45, b = 0.12, s = 0.75, β = 9.55), T uniform on [20, 40] weeks.
fn ggompertz_customers(n: usize, seed: u64) -> Patterns {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rate: Gamma<f64> = Gamma::new(0.85, 1.0 / 4.45).unwrap();
    let frailty: Gamma<f64> = Gamma::new(0.75, 1.0 / 9.55).unwrap();
    let rows: Vec<(u32, f64, f64, f64)> = (0..n)
        .map(|_| {
            let t_end: f64 = rng.random_range(20.0..40.0);
            let lambda: f64 = rate.sample(&mut rng).max(1e-12);
            let eta: f64 = frailty.sample(&mut rng).max(1e-300);
            let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
            let end = ((-u.ln() / eta).ln_1p() / 0.12).min(t_end);
            let gap = Exp::new(lambda).unwrap();
            let (mut t, mut x, mut t_x) = (0.0, 0u32, 0.0);
            loop {
                t += gap.sample(&mut rng);
                if t > end {
                    break;
                }
                x += 1;
                t_x = t;
            }
            (x, t_x, t_end, 1.0)
        })
        .collect();
    Patterns::new(TimeUnit::WEEKS, rows).unwrap()
}

/// The GGompertz/NBD fit: on CDNOW (where it ends at the Pareto/NBD boundary, a typed error
/// after a converged search) and on 4,000 customers of the model itself.
fn bench_ggompertz(c: &mut Criterion) {
    let cdnow = cdnow();
    let simulated = ggompertz_customers(4_000, 3);
    let mut group = c.benchmark_group("models");
    group.sample_size(10);
    group.bench_function("ggom_nbd_fit_cdnow", |b| {
        b.iter(|| {
            let fit = GGompertzNbdParams::new().fit(black_box(&cdnow));
            assert!(fit.unwrap_err().boundary().is_some());
        })
    });
    group.bench_function("ggom_nbd_fit_simulated_4k", |b| {
        b.iter(|| {
            GGompertzNbdParams::new()
                .fit(black_box(&simulated))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_ggompertz, bench);
criterion_main!(benches);
