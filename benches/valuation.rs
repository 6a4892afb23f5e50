//! The whole valuation of 1 million simulated customers (about 10 million transactions), from
//! the ledger to the report: summaries, Pareto/NBD and Gamma-Gamma fits, predictions, RFM and
//! ABC segments, asset classes, KPIs.
//!
//! ```text
//! cargo bench --bench valuation
//! ```
use std::hint::black_box;
use std::time::Instant;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::models::pareto_nbd::ParetoNbdParams;
use customer_assets::segment::abc::AbcParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::simulate::{simulate, GammaGammaSpend, ParetoNbdProcess, SimulationOptions};
use customer_assets::valuation::{DiscountRate, Valuation};
use customer_assets::{Ledger, LedgerOptions, TimeUnit};

fn ledger() -> (Ledger, NaiveDate) {
    let start = NaiveDate::from_ymd_opt(2023, 1, 1).expect("date");
    let end = NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    // Frequent buyers (about 9 purchases each over two years) so that 1M customers make ~10M
    // transactions.
    let process = ParetoNbdProcess::new(2.7, 20.0, 0.5, 40.0).expect("params");
    let options = SimulationOptions::new(1_000_000, start, end, TimeUnit::WEEKS, 11)
        .acquisition_days(180)
        .spend(GammaGammaSpend::new(6.0, 3.7, 15.0).expect("params"));
    let base = simulate(&process, &options).expect("simulate");
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger
        .extend_transactions(base.into_transactions())
        .expect("ledger");
    (ledger, end)
}

fn value(ledger: &Ledger, as_of: NaiveDate) -> usize {
    let report = Valuation::builder()
        .ledger(ledger)
        .as_of(as_of)
        .unit(TimeUnit::WEEKS)
        .fit_transaction_model(ParetoNbdParams::new())
        .fit_spend_model(GammaGammaParams::new())
        .margin(0.3)
        .discount(DiscountRate::per_period(0.10, 365.0).expect("rate"))
        .horizon(52.0)
        .segmenter("rfm", RfmParams::default())
        .segmenter("abc", AbcParams::default())
        .kpis(90)
        .build()
        .expect("valid configuration")
        .run()
        .expect("valuation");
    report.customers.len()
}

fn bench(c: &mut Criterion) {
    let (ledger, as_of) = ledger();
    let started = Instant::now();
    let n = value(&ledger, as_of);
    println!(
        "valuation: {n} customers, {} transactions, one run {:.1} s",
        ledger.transactions().len(),
        started.elapsed().as_secs_f64()
    );
    let mut group = c.benchmark_group("valuation");
    group.sample_size(10);
    group.bench_function("value_1m_customers_10m_transactions", |b| {
        b.iter(|| value(black_box(&ledger), black_box(as_of)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
