//! The equity bridge of 100,000 simulated customers (BG/NBD purchases, Gamma-Gamma spend, one
//! year) between two reviews six months apart: drawing the bridge from the three reports, and
//! the whole review (fitting at both dates, the three valuations, the bridge).
//!
//! `cargo bench --bench bridge -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::models::bg_nbd::{BgNbd, BgNbdParams};
use customer_assets::models::gamma_gamma::{GammaGamma, GammaGammaParams};
use customer_assets::models::SpendData;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
use customer_assets::valuation::bridge::{EquityBridge, LossRule};
use customer_assets::valuation::{DiscountRate, EquityReport, Valuation};
use customer_assets::{Fit, Ledger, LedgerOptions, SummaryOptions, TimeUnit};

const CUSTOMERS: usize = 100_000;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn ledger() -> Ledger {
    let base = simulate(
        &BgNbdProcess::new(0.25, 4.4, 0.8, 2.4).expect("process"),
        &SimulationOptions::new(
            CUSTOMERS,
            day(2024, 1, 1),
            day(2024, 12, 31),
            TimeUnit::WEEKS,
            7,
        )
        .acquisition_days(300)
        .spend(GammaGammaSpend::new(6.25, 3.74, 15.44).expect("spend")),
    )
    .expect("simulation");
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger
        .extend_transactions(base.transactions().iter().cloned())
        .expect("ledger");
    ledger
}

fn fit_at(ledger: &Ledger, as_of: NaiveDate) -> (BgNbd, GammaGamma) {
    let s = ledger
        .summarize(SummaryOptions::new(as_of, TimeUnit::WEEKS))
        .expect("summaries");
    let bg = BgNbdParams::new().fit(&s.patterns()).expect("bg/nbd");
    let spend = SpendData::usable_from_summaries(&s)
        .expect("spend data")
        .data;
    let gg = GammaGammaParams::new().fit(&spend).expect("gamma-gamma");
    (bg, gg)
}

fn value(ledger: &Ledger, as_of: NaiveDate, models: &(BgNbd, GammaGamma)) -> EquityReport {
    Valuation::builder()
        .ledger(ledger)
        .as_of(as_of)
        .unit(TimeUnit::WEEKS)
        .transaction_model(&models.0)
        .spend_model(&models.1)
        .margin(0.3)
        .discount(DiscountRate::per_period(0.1, 365.0).expect("rate"))
        .horizon(52.0)
        .segmenter("rfm", RfmParams::default())
        .build()
        .expect("valuation")
        .run()
        .expect("report")
}

fn review(ledger: &Ledger, from: NaiveDate, to: NaiveDate) -> EquityBridge {
    let opening_models = fit_at(ledger, from);
    let opening = value(ledger, from, &opening_models);
    let closing = value(ledger, to, &fit_at(ledger, to));
    let cross = value(ledger, to, &opening_models);
    EquityBridge::new(
        &opening,
        &closing,
        Some(&cross),
        ledger,
        LossRule::PAliveBelow(0.5),
    )
    .expect("bridge")
}

fn bench(c: &mut Criterion) {
    let ledger = ledger();
    let (from, to) = (day(2024, 6, 30), day(2024, 12, 31));
    let opening_models = fit_at(&ledger, from);
    let opening = value(&ledger, from, &opening_models);
    let closing = value(&ledger, to, &fit_at(&ledger, to));
    let cross = value(&ledger, to, &opening_models);
    eprintln!(
        "bridge: {} opening and {} closing customers, {} transactions",
        opening.customers.len(),
        closing.customers.len(),
        ledger.transactions().len()
    );
    let mut group = c.benchmark_group("bridge_100k");
    group.sample_size(10);
    for rule in [
        LossRule::PAliveBelow(0.5),
        LossRule::NoPurchaseFor { days: 180 },
    ] {
        let name = match rule {
            LossRule::PAliveBelow(_) => "draw (P(alive) rule)",
            LossRule::NoPurchaseFor { .. } => "draw (no purchase rule)",
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                EquityBridge::new(&opening, &closing, Some(&cross), &ledger, black_box(rule))
                    .expect("bridge")
                    .closing_equity
            })
        });
    }
    group.bench_function(
        "whole review (two fits, three valuations, the bridge)",
        |b| b.iter(|| review(&ledger, black_box(from), to).closing_equity),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
