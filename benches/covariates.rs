//! Covariate fits (issue 18's target: 100,000 customers with 5 covariates per process in under
//! 5 s on 2 cores), on bases simulated with `simulate_with_covariates`:
//!
//! - `binary`: 5 binary columns on both processes (10 coefficients). Histories are rounded down
//!   to whole days, as a summary by day gives them, so customers with equal covariates and an
//!   equal (x, t_x, T) compress into one weighted row of their cell (32 cells).
//! - `continuous`: 5 standard normal columns on both processes: every customer is a cell of
//!   their own, no compression.
//!
//! ```text
//! cargo bench --features parallel --bench covariates -- covariate
//! ```
use std::hint::black_box;
use std::time::Duration;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::fit::Fit;
use customer_assets::models::covariates::{
    Coefficient, CovariateData, CovariateFamily, CovariateModel, CovariateParams, Process,
};
use customer_assets::simulate::{
    draw_design, simulate_with_covariates, CovariateDraw, SimulationOptions,
};
use customer_assets::{History, TimeUnit};

const CUSTOMERS: usize = 100_000;

fn truth(family: CovariateFamily, names: &[String]) -> CovariateModel {
    let purchase = [0.3, -0.2, 0.4, 0.1, -0.3];
    let dropout = [-0.2, 0.3, 0.1, -0.4, 0.2];
    let mut coefficients = Vec::new();
    for (process, values) in [(Process::Purchase, purchase), (Process::Dropout, dropout)] {
        for (name, value) in names.iter().zip(values) {
            coefficients.push(Coefficient {
                column: name.clone(),
                process,
                value,
            });
        }
    }
    let base = match family {
        CovariateFamily::ParetoNbd => vec![0.55, 10.6, 0.61, 11.7],
        _ => vec![0.55, 10.6, 0.8, 2.4],
    };
    CovariateModel::new(family, TimeUnit::WEEKS, base, coefficients).unwrap()
}

/// 100,000 customers of `family` with 5 binary or 5 standard normal covariates, acquired over
/// a year and observed for two; with `by_day`, t_x and T rounded down to whole days.
fn data(family: CovariateFamily, binary: bool, by_day: bool) -> CovariateData {
    let columns: Vec<CovariateDraw> = (1..=5)
        .map(|k| {
            if binary {
                CovariateDraw::binary(&format!("b{k}"), 0.2 + 0.1 * k as f64)
            } else {
                CovariateDraw::standard_normal(&format!("c{k}"))
            }
        })
        .collect();
    let design = draw_design(&columns, CUSTOMERS, 18).unwrap();
    let options = SimulationOptions::new(
        CUSTOMERS,
        NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2024, 12, 31).unwrap(),
        TimeUnit::WEEKS,
        18,
    )
    .acquisition_days(365);
    let data = simulate_with_covariates(&truth(family, design.names()), &design, &options)
        .unwrap()
        .into_data();
    if !by_day {
        return data;
    }
    let day = |t: f64| (t * 7.0).floor() / 7.0;
    let histories = data
        .histories()
        .iter()
        .map(|h| History::new(h.frequency, day(h.recency), day(h.age)));
    CovariateData::new(
        TimeUnit::WEEKS,
        data.ids().iter().cloned().zip(histories),
        data.design(),
    )
    .unwrap()
}

fn covariate_fits(c: &mut Criterion) {
    let mut group = c.benchmark_group("covariate_fit_100k");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    for family in [CovariateFamily::ParetoNbd, CovariateFamily::BgNbd] {
        for (name, binary, by_day) in [("binary", true, true), ("continuous", false, false)] {
            let data = data(family, binary, by_day);
            let params = CovariateParams::new(family);
            // One fit outside the measurement: its size and that it converges.
            let model = params.fit(&data).unwrap();
            eprintln!(
                "{family} {name}: {} customers, ll {:.3}, {:?}",
                data.len(),
                model.report().unwrap().log_likelihood,
                model
                    .coefficients()
                    .iter()
                    .map(|c| (c.name(), (c.value * 1000.0).round() / 1000.0))
                    .collect::<Vec<_>>()
            );
            group.bench_function(format!("{family}/{name}_5_per_process"), |b| {
                b.iter(|| black_box(params.fit(black_box(&data)).unwrap()))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, covariate_fits);
criterion_main!(benches);
