//! Test helpers: a simulated base with its fitted models and valuation, and summaries as a table.

use std::sync::Arc;

use chrono::NaiveDate;
use customer_assets::models::{BgNbd, BgNbdParams, GammaGamma, GammaGammaParams, SpendData};
use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
use customer_assets::valuation::{DiscountRate, EquityReport, Valuation};
use customer_assets::{Fit, Ledger, LedgerOptions, Summaries, SummaryOptions, TimeUnit};
use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use rust_decimal::prelude::ToPrimitive;

pub(crate) struct Base {
    pub(crate) summaries: Summaries,
    pub(crate) bg: BgNbd,
    pub(crate) gg: GammaGamma,
    pub(crate) rate: DiscountRate,
    pub(crate) report: EquityReport,
}

pub(crate) const HORIZON: f64 = 52.0;
pub(crate) const MARGIN: f64 = 0.3;

pub(crate) fn base() -> Base {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
    let (start, as_of) = (day(2024, 1, 1), day(2024, 12, 31));
    let simulated = simulate(
        &BgNbdProcess::new(0.25, 4.4, 0.8, 2.4).expect("process"),
        &SimulationOptions::new(3_000, start, as_of, TimeUnit::WEEKS, 7)
            .acquisition_days(120)
            .spend(GammaGammaSpend::new(6.25, 3.74, 15.44).expect("spend")),
    )
    .expect("simulation");
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger
        .extend_transactions(simulated.transactions().iter().cloned())
        .expect("ledger");
    let summaries = ledger
        .summarize(SummaryOptions::new(as_of, TimeUnit::WEEKS))
        .expect("summaries");
    let bg = BgNbdParams::new()
        .fit(&summaries.patterns())
        .expect("bg fit");
    let spends = SpendData::from_summaries(&summaries).expect("spend data");
    let gg = GammaGammaParams::new().fit(&spends).expect("gg fit");
    let rate = DiscountRate::per_period(0.1, 365.0).expect("rate");
    let report = Valuation::builder()
        .ledger(&ledger)
        .as_of(as_of)
        .unit(TimeUnit::WEEKS)
        .transaction_model(bg.clone())
        .spend_model(gg.clone())
        .margin(MARGIN)
        .discount(rate)
        .horizon(HORIZON)
        .build()
        .expect("valuation")
        .run()
        .expect("report");
    Base {
        summaries,
        bg,
        gg,
        rate,
        report,
    }
}

/// The summaries as a table, split into batches of `batch` rows.
pub(crate) fn table(summaries: &Summaries, batch: usize) -> MemTable {
    let schema = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("frequency", DataType::UInt32, true),
        Field::new("recency", DataType::Float64, true),
        Field::new("T", DataType::Float64, true),
        Field::new("monetary_value", DataType::Float64, true),
    ]));
    let all = summaries.customers();
    let batches = all
        .chunks(batch)
        .map(|chunk| {
            let columns: Vec<ArrayRef> = vec![
                Arc::new(StringArray::from_iter_values(
                    chunk.iter().map(|s| s.id().to_string()),
                )),
                Arc::new(UInt32Array::from_iter_values(
                    chunk.iter().map(|s| s.frequency()),
                )),
                Arc::new(Float64Array::from_iter_values(
                    chunk.iter().map(|s| s.recency()),
                )),
                Arc::new(Float64Array::from_iter_values(
                    chunk.iter().map(|s| s.age()),
                )),
                Arc::new(Float64Array::from_iter_values(
                    chunk
                        .iter()
                        .map(|s| s.monetary_value().to_f64().expect("a float")),
                )),
            ];
            RecordBatch::try_new(Arc::clone(&schema), columns).expect("batch")
        })
        .collect();
    MemTable::try_new(schema, vec![batches]).expect("table")
}
