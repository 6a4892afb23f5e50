//! Speed of the intervals (issue 17's targets): 200 non-parametric bootstrap refits of BG/NBD on
//! CDNOW (< 1 s) and on a million simulated customers (< 60 s on 2 cores), and delta-method
//! intervals of P(alive), expected purchases and DERT for a million customers (< 2 s).
//!
//! ```text
//! cargo bench --bench uncertainty --features parallel
//! cargo bench --bench uncertainty --features parallel -- cdnow      # the CDNOW refits only
//! ```
//!
//! The million customers follow the CDNOW BG/NBD estimates (r = 0.243, α = 4.414, a = 0.793,
//! b = 2.426), acquired over 12 weeks and observed for 39, summarised by day as a ledger would
//! be: the refits see their patterns (x, t_x, T) with counts.
use std::hint::black_box;
use std::time::Duration;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::models::bg_nbd::BgNbdParams;
use customer_assets::models::{bootstrap, delta_intervals, BootstrapOptions, Scale};
use customer_assets::simulate::{simulate, BgNbdProcess, SimulationOptions};
use customer_assets::{
    Fit, Grain, History, Patterns, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit,
    TransactionModel,
};

/// CDNOW's calibration summary, as the tests read it.
fn cdnow() -> Vec<History> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cdnow_summary.csv");
    let mut reader = csv::Reader::from_path(path).expect("tests/data/cdnow_summary.csv");
    reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV record");
            let field = |i: usize| r[i].parse::<f64>().expect("a number");
            History::new(field(1) as u32, field(2), field(3))
        })
        .collect()
}

fn patterns_of(histories: &[History]) -> Patterns {
    Patterns::new(
        TimeUnit::WEEKS,
        histories
            .iter()
            .map(|h| (h.frequency, h.recency, h.age, 1.0)),
    )
    .expect("valid histories")
}

/// A million BG/NBD customers summarised by day.
fn million() -> (Patterns, Vec<History>) {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("a date");
    let end = NaiveDate::from_ymd_opt(2024, 9, 29).expect("a date");
    let process = BgNbdProcess::new(0.243, 4.414, 0.793, 2.426).expect("valid parameters");
    let options =
        SimulationOptions::new(1_000_000, start, end, TimeUnit::WEEKS, 17).acquisition_days(84);
    let base = simulate(&process, &options).expect("a simulated base");
    let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
    acc.extend(base.transactions());
    let summaries = acc
        .finish(&SummaryOptions::new(end, TimeUnit::WEEKS))
        .expect("summaries");
    let histories = summaries.iter().map(History::from).collect();
    (summaries.patterns(), histories)
}

fn refits(c: &mut Criterion) {
    let options = BootstrapOptions::new(200, 1).expect("200 replicates");
    let params = BgNbdParams::new();

    let cdnow = patterns_of(&cdnow());
    let model = params.fit(&cdnow).expect("the CDNOW fit");
    let mut group = c.benchmark_group("bootstrap");
    group.sample_size(10);
    group.bench_function("bg_nbd_cdnow_200_refits", |b| {
        b.iter(|| black_box(bootstrap(&params, &cdnow, &model, &options).expect("200 refits")))
    });

    let (patterns, _) = million();
    eprintln!("a million customers: {} patterns", patterns.len());
    let model = params.fit(&patterns).expect("the fit");
    group.measurement_time(Duration::from_secs(60));
    group.bench_function("bg_nbd_1m_200_refits", |b| {
        b.iter(|| black_box(bootstrap(&params, &patterns, &model, &options).expect("200 refits")))
    });
    group.finish();
}

fn delta(c: &mut Criterion) {
    let (patterns, histories) = million();
    let model = BgNbdParams::new().fit(&patterns).expect("the fit");
    let rate = 0.1f64.ln_1p() * 7.0 / 365.25;
    let mut group = c.benchmark_group("delta");
    group.sample_size(10);
    group.bench_function("bg_nbd_1m_p_alive_purchases_dert", |b| {
        b.iter(|| {
            let p = delta_intervals(&model, 0.9, Scale::Probability, |m| {
                m.p_alive_batch(&histories)
            });
            let e = delta_intervals(&model, 0.9, Scale::Positive, |m| {
                m.expected_purchases_batch(&histories, 52.0)
            });
            let d = delta_intervals(&model, 0.9, Scale::Positive, |m| {
                m.dert_batch(&histories, rate)
            });
            black_box((p.expect("p"), e.expect("e"), d.expect("d")))
        })
    });
    group.finish();
}

criterion_group!(benches, refits, delta);
criterion_main!(benches);
