//! The core's outputs as Arrow record batches (the `arrow` feature), on the full CDNOW cohort.

use std::fmt::Debug;

use arrow_array::types::{Decimal128Type, Float64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrowPrimitiveType, PrimitiveArray, RecordBatch};
use customer_assets::arrow::{summaries_batch, summaries_schema, IdType, OutputOptions};
use customer_assets::{
    CustomerSummary, Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit,
};
use rust_decimal::Decimal;

use crate::summarize::{date, read_log};

/// Asserts that the column `name` holds `want`.
fn assert_column<T: ArrowPrimitiveType>(batch: &RecordBatch, name: &str, want: Vec<T::Native>)
where
    T::Native: Debug,
{
    let array = batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<PrimitiveArray<T>>())
        .unwrap_or_else(|| panic!("no column {name} of the expected type"));
    assert_eq!(array.values().to_vec(), want, "{name}");
}

#[test]
fn cdnow_cohort_summaries_batch_has_one_row_per_customer_with_its_summary() {
    let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
    acc.extend(&read_log("cdnow_master_transactions.csv"));
    let options =
        SummaryOptions::new(date("1997-09-30"), TimeUnit::WEEKS).holdout_end(date("1998-06-30"));
    let s = acc.finish(&options).unwrap();
    assert_eq!(s.len(), 23_570);

    let output = OutputOptions::for_summaries(&s);
    assert_eq!(output.ids, IdType::UInt64);
    let batch = summaries_batch(&s, &output).unwrap();
    assert_eq!(batch.num_rows(), 23_570);
    assert_eq!(batch.schema(), summaries_schema(&options, &output));
    assert!(batch.columns().iter().all(|c| c.null_count() == 0));

    let rows = s.customers();
    let ids = rows.iter().map(|c| c.id().as_u64().unwrap()).collect();
    assert_column::<UInt64Type>(&batch, "customer_id", ids);
    let counts = |name, f: fn(&CustomerSummary) -> u32| {
        assert_column::<UInt32Type>(&batch, name, rows.iter().map(f).collect());
    };
    counts("frequency", CustomerSummary::frequency);
    counts("orders", CustomerSummary::orders);
    counts("holdout_frequency", |c| c.holdout().unwrap().frequency);
    let floats = |name, f: fn(&CustomerSummary) -> f64| {
        assert_column::<Float64Type>(&batch, name, rows.iter().map(f).collect());
    };
    floats("recency", CustomerSummary::recency);
    floats("T", CustomerSummary::age);
    // Money: each decimal's mantissa raised to the column's scale, exactly.
    let scale = output.money.scale();
    let money = |name, f: fn(&CustomerSummary) -> Decimal| {
        let want = rows
            .iter()
            .map(f)
            .map(|d| d.mantissa() * 10i128.pow(scale - d.scale()));
        assert_column::<Decimal128Type>(&batch, name, want.collect());
    };
    money("monetary_value", CustomerSummary::monetary_value);
    money("total_spend", CustomerSummary::total_spend);
    money("repeat_spend", CustomerSummary::repeat_spend);
    money("holdout_monetary_value", |c| {
        c.holdout().unwrap().monetary_value()
    });
    money("holdout_spend", |c| c.holdout().unwrap().spend);
}
