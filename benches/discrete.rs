//! Discrete-time and contractual models: BG/BB fit and predictions, sBG and BdW fits.
//!
//! `cargo bench --bench discrete -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::fit::Fit;
use customer_assets::models::bdw::BdwParams;
use customer_assets::models::bg_bb::BgBbParams;
use customer_assets::models::contractual::{Cohort, RetentionModel};
use customer_assets::models::sbg::SbgParams;
use customer_assets::simulate::{BgBbProcess, RetentionProcess};
use customer_assets::TimeUnit;

fn bench(c: &mut Criterion) {
    let period = TimeUnit::custom_days(365.0).unwrap_or(TimeUnit::DAYS);
    // 1 million donors over 12 opportunities compress to at most 79 patterns.
    let process = BgBbProcess::new(1.2, 0.75, 0.66, 2.8).ok();
    let data = process.and_then(|p| p.patterns(period, 1_000_000, 12, 1).ok());
    if let Some(data) = data {
        c.bench_function("bg_bb_fit_1m_customers_12_periods", |b| {
            b.iter(|| BgBbParams::new().fit(black_box(&data)).ok())
        });
        if let Ok(m) = BgBbParams::new().fit(&data) {
            c.bench_function("bg_bb_predict_all_patterns", |b| {
                b.iter(|| {
                    let mut s = 0.0;
                    for p in data.as_slice() {
                        let h = p.history();
                        s += m.p_alive_in_period(&h, 1).unwrap_or(0.0)
                            + m.expected_transactions(&h, 10).unwrap_or(0.0)
                            + m.dert_discrete(&h, 0.1).unwrap_or(0.0);
                    }
                    s
                })
            });
        }
    }
    let cohorts: Vec<Cohort> = RetentionProcess::bdw(1.1, 3.0, 0.7)
        .ok()
        .map(|p| {
            (0..12)
                .filter_map(|i| p.cohort(&format!("c{i}"), 10_000, 24 - i, i as u64).ok())
                .collect()
        })
        .unwrap_or_default();
    c.bench_function("sbg_fit_12_cohorts", |b| {
        b.iter(|| SbgParams::new().fit(black_box(&cohorts)).ok())
    });
    c.bench_function("bdw_fit_12_cohorts", |b| {
        b.iter(|| BdwParams::new().fit(black_box(&cohorts)).ok())
    });
    if let Ok(m) = BdwParams::new().fit(&cohorts) {
        c.bench_function("bdw_derl_numerical_d10", |b| {
            b.iter(|| m.derl(black_box(0.1), 5))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
