//! Helpers shared by the summary module's unit tests (compiled only under `cfg(test)`).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::accumulator::SummaryAccumulator;
use super::options::{Grain, ReturnPolicy, SummaryOptions};
use super::summaries::Summaries;
use crate::records::{CustomerId, Transaction, TransactionKind};

pub(super) fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, m, d).unwrap()
}
pub(super) fn tx(id: u64, m: u32, d: u32, cents: i64, kind: TransactionKind) -> Transaction {
    Transaction::new(
        CustomerId::from(id),
        day(m, d).and_hms_opt(10, 0, 0).unwrap(),
        Decimal::new(cents, 2),
        kind,
    )
    .unwrap()
}
pub(super) fn buy(id: u64, m: u32, d: u32, cents: i64) -> Transaction {
    tx(id, m, d, cents, TransactionKind::Purchase)
}
pub(super) fn summarize(log: &[Transaction], opts: SummaryOptions) -> Summaries {
    let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
    acc.extend(log);
    acc.finish(&opts).unwrap()
}
