//! Transactions from Arrow record batches (feature `arrow`): the summaries equal those of the
//! same rows pushed as `Transaction`s, whatever the batch split and the column types.

use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Date64Array, Decimal128Array, DictionaryArray,
    Float64Array, Int64Array, LargeStringArray, RecordBatch, StringArray, StringViewArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    TimestampSecondArray, UInt64Array,
};
use chrono::{FixedOffset, NaiveDate, NaiveDateTime};
use customer_assets::arrow::{TimeZoneRule, TransactionColumns};
use customer_assets::{
    CustomerId, Grain, ReturnPolicy, Summaries, SummaryAccumulator, SummaryError, SummaryOptions,
    TimeUnit, Transaction, TransactionKind,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::proptest_config;
use crate::summarize::read_log;

/// How a batch writes its customer ids.
#[derive(Debug, Clone, Copy)]
enum Ids {
    UInt64,
    Int64,
    Utf8,
    LargeUtf8,
    Utf8View,
    Dictionary,
}

/// How a batch writes its moments: a day (`Date32`, `Date64`) or a timestamp of a unit, naive
/// or zoned (an offset in seconds: values are the UTC instants of the wall-clock moments).
#[derive(Debug, Clone, Copy)]
enum Moments {
    Date32,
    Date64,
    Timestamp(u8, Option<i32>),
}

/// How a batch writes its amounts.
#[derive(Debug, Clone, Copy)]
enum Amounts {
    Decimal128,
    Float64,
    Int64,
}

/// How a batch writes its kinds.
#[derive(Debug, Clone, Copy)]
enum Kinds {
    Absent,
    Text,
    Dictionary,
    Boolean,
}

#[derive(Debug, Clone, Copy)]
struct Layout {
    ids: Ids,
    moments: Moments,
    amounts: Amounts,
    kinds: Kinds,
}

impl Layout {
    fn columns(&self) -> TransactionColumns {
        let columns = TransactionColumns::new().customer("client").date("when");
        let columns = match self.kinds {
            Kinds::Absent => columns,
            _ => columns.kind("kind"),
        };
        match self.moments {
            Moments::Timestamp(_, Some(offset)) => {
                columns.time_zone(TimeZoneRule::Offset(FixedOffset::east_opt(offset).unwrap()))
            }
            _ => columns,
        }
    }
}

/// The record batch of `log` (amounts as `log` holds them, at scale 2 for `Decimal128`).
fn batch(log: &[Transaction], layout: Layout) -> RecordBatch {
    let text: Vec<String> = log.iter().map(|t| t.customer().to_string()).collect();
    let texts = || text.iter().map(String::as_str);
    let ids: ArrayRef = match layout.ids {
        Ids::UInt64 => Arc::new(UInt64Array::from_iter_values(
            log.iter().map(|t| t.customer().as_u64().unwrap()),
        )),
        Ids::Int64 => Arc::new(Int64Array::from_iter_values(
            texts().map(|s| s.parse::<i64>().unwrap()),
        )),
        Ids::Utf8 => Arc::new(StringArray::from_iter_values(texts())),
        Ids::LargeUtf8 => Arc::new(LargeStringArray::from_iter_values(texts())),
        Ids::Utf8View => Arc::new(StringViewArray::from_iter_values(texts())),
        Ids::Dictionary => Arc::new(texts().collect::<DictionaryArray<Int32Type>>()),
    };
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let since = |at: NaiveDateTime| at - epoch;
    let moments: ArrayRef = match layout.moments {
        Moments::Date32 => Arc::new(Date32Array::from_iter_values(
            log.iter().map(|t| since(t.at()).num_days() as i32),
        )),
        Moments::Date64 => Arc::new(Date64Array::from_iter_values(
            log.iter().map(|t| since(t.at()).num_milliseconds()),
        )),
        Moments::Timestamp(unit, offset) => {
            let shift = chrono::Duration::seconds(i64::from(offset.unwrap_or(0)));
            let zone: Option<Arc<str>> = offset.map(|o| Arc::from(format!("{:+03}:00", o / 3600)));
            let values = log.iter().map(|t| since(t.at() - shift));
            match unit % 4 {
                0 => Arc::new(
                    TimestampSecondArray::from_iter_values(values.map(|d| d.num_seconds()))
                        .with_timezone_opt(zone),
                ),
                1 => Arc::new(
                    TimestampMillisecondArray::from_iter_values(
                        values.map(|d| d.num_milliseconds()),
                    )
                    .with_timezone_opt(zone),
                ),
                2 => Arc::new(
                    TimestampMicrosecondArray::from_iter_values(
                        values.map(|d| d.num_microseconds().unwrap()),
                    )
                    .with_timezone_opt(zone),
                ),
                _ => Arc::new(
                    TimestampNanosecondArray::from_iter_values(
                        values.map(|d| d.num_nanoseconds().unwrap()),
                    )
                    .with_timezone_opt(zone),
                ),
            }
        }
    };
    let amounts: ArrayRef = match layout.amounts {
        Amounts::Decimal128 => Arc::new(
            Decimal128Array::from_iter_values(log.iter().map(|t| {
                assert_eq!(t.amount().scale(), 2);
                t.amount().mantissa()
            }))
            .with_precision_and_scale(20, 2)
            .unwrap(),
        ),
        // The float a decimal of at most 10 places (and 53 bits) was read from.
        Amounts::Float64 => {
            Arc::new(Float64Array::from_iter_values(log.iter().map(|t| {
                t.amount().mantissa() as f64 / 10f64.powi(t.amount().scale() as i32)
            })))
        }
        Amounts::Int64 => Arc::new(Int64Array::from_iter_values(
            log.iter().map(|t| t.amount().try_into().unwrap()),
        )),
    };
    let is_return = |t: &Transaction| t.kind() == TransactionKind::Return;
    // Kinds in mixed case: read case-insensitively.
    let word = |t: &Transaction| if is_return(t) { "Return" } else { "purchase" };
    let kinds: Option<ArrayRef> = match layout.kinds {
        Kinds::Absent => None,
        Kinds::Text => Some(Arc::new(StringArray::from_iter_values(
            log.iter().map(word),
        ))),
        Kinds::Dictionary => Some(Arc::new(
            log.iter().map(word).collect::<DictionaryArray<Int32Type>>(),
        )),
        Kinds::Boolean => Some(Arc::new(BooleanArray::from(
            log.iter().map(is_return).collect::<Vec<_>>(),
        ))),
    };
    let mut columns = vec![("client", ids), ("when", moments), ("amount", amounts)];
    columns.extend(kinds.map(|k| ("kind", k)));
    RecordBatch::try_from_iter(columns).unwrap()
}

/// Summaries of `log` pushed as transactions, and from record batches of its parts between
/// `cuts`, with their JSON.
fn both_ways(
    log: &[Transaction],
    cuts: &[usize],
    layout: Layout,
    grain: Grain,
    returns: ReturnPolicy,
    options: &SummaryOptions,
) -> [(Result<Summaries, SummaryError>, Option<String>); 2] {
    let mut direct = SummaryAccumulator::new(grain, returns);
    direct.extend(log);
    let mut batched = SummaryAccumulator::new(grain, returns);
    let mut from = 0;
    for &to in cuts.iter().chain([&log.len()]) {
        let to = to.clamp(from, log.len());
        let pushed = batched.push_batch(&batch(&log[from..to], layout), &layout.columns());
        assert_eq!(pushed, Ok(to - from));
        from = to;
    }
    assert!(direct.arrival_order().eq(batched.arrival_order()));
    // The earliest moment, at the grain, however the rows came in.
    let first = log.iter().map(Transaction::at).min().map(|at| match grain {
        Grain::Day => at.date().and_hms_opt(0, 0, 0).unwrap(),
        Grain::Timestamp => at,
    });
    assert_eq!(
        (direct.first_moment(), batched.first_moment()),
        (first, first)
    );
    [direct, batched].map(|acc| {
        let summaries = acc.finish(options);
        let json = summaries
            .as_ref()
            .ok()
            .map(|s| serde_json::to_string(s).unwrap());
        (summaries, json)
    })
}

#[test]
fn cdnow_from_record_batches_equals_the_transaction_log() {
    let log = read_log("cdnow_master_transactions.csv");
    assert_eq!(log.len(), 69_659);
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let options =
        SummaryOptions::new(day(1997, 9, 30), TimeUnit::WEEKS).holdout_end(day(1998, 6, 30));
    let cuts: Vec<usize> = (1..17).map(|k| k * 4_096).collect();
    for (ids, cuts) in [
        (Ids::Utf8, &cuts[..]),
        (Ids::UInt64, &cuts[..]),
        (Ids::Dictionary, &[][..]),
    ] {
        let layout = Layout {
            ids,
            moments: Moments::Date32,
            amounts: Amounts::Decimal128,
            kinds: Kinds::Absent,
        };
        let [direct, batched] = both_ways(
            &log,
            cuts,
            layout,
            Grain::Day,
            ReturnPolicy::NetAgainstPurchase,
            &options,
        );
        let summaries = direct.0.as_ref().unwrap();
        assert_eq!(summaries.len(), 23_570);
        assert_eq!(batched, direct, "{ids:?}");
    }
}

/// One row of a random log: id kind and number, minutes after the start, cents, a return.
type Row = (u8, u64, u32, i64, bool);

fn transactions(rows: &[Row], amounts: Amounts) -> Vec<Transaction> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    rows.iter()
        .map(|&(kind, n, minutes, cents, refund)| {
            let id = match kind % 3 {
                0 => CustomerId::from(n),
                1 => CustomerId::new(&format!("c{n}")).unwrap(),
                _ => CustomerId::new(&format!("-{}", n + 1)).unwrap(),
            };
            let at = start + chrono::Duration::minutes(i64::from(minutes));
            let amount = match amounts {
                Amounts::Decimal128 => Decimal::new(cents, 2),
                Amounts::Int64 => Decimal::from(cents),
                Amounts::Float64 => {
                    Transaction::amount_from_f64(cents as f64 / 100.0, "row").unwrap()
                }
            };
            let kind = if refund {
                TransactionKind::Return
            } else {
                TransactionKind::Purchase
            };
            Transaction::new(id, at, amount, kind).unwrap()
        })
        .collect()
}

proptest! {
    #![proptest_config(proptest_config(256))]

    /// A random log (several customers, same-day purchases, returns) split into random batches
    /// gives the summaries, and their JSON, of its transactions, for every id, date, amount
    /// and kind type, at either grain and return policy.
    #[test]
    fn batches_summarise_as_the_transactions(
        rows in proptest::collection::vec(
            (0u8..3, 0u64..6, 0u32..(60 * 24 * 20), 0i64..20_000, proptest::bool::weighted(0.15)),
            0..80,
        ),
        id_kinds in 1u8..=3,
        cuts in proptest::collection::vec(0usize..80, 0..5),
        ids in 0u8..6,
        moments in 0u8..6,
        offset_hours in -12i32..=12,
        amounts in 0u8..3,
        kinds in 0u8..4,
        timestamp_grain: bool,
        ignore_returns: bool,
    ) {
        let amounts = [Amounts::Decimal128, Amounts::Float64, Amounts::Int64][usize::from(amounts)];
        let rows: Vec<Row> = rows.into_iter().map(|(k, n, m, c, r)| (k % id_kinds, n, m, c, r)).collect();
        let mut log = transactions(&rows, amounts);
        let mut kinds = [Kinds::Absent, Kinds::Text, Kinds::Dictionary, Kinds::Boolean][usize::from(kinds)];
        if matches!(kinds, Kinds::Absent) && log.iter().any(|t| t.kind() == TransactionKind::Return) {
            kinds = Kinds::Text;
        }
        // Day-only columns hold midnights.
        let moments = match moments {
            0 => Moments::Date32,
            1 => Moments::Date64,
            unit => Moments::Timestamp(unit, (unit % 2 == 0).then_some(offset_hours * 3600)),
        };
        if matches!(moments, Moments::Date32) {
            log = log
                .iter()
                .map(|t| Transaction::new(t.customer().clone(), t.date().and_hms_opt(0, 0, 0).unwrap(), t.amount(), t.kind()).unwrap())
                .collect();
        }
        // Integer columns hold only the ids they can.
        let ints = log.iter().all(|t| t.customer().as_u64().is_some());
        let signed = log.iter().all(|t| t.customer().to_string().parse::<i64>().is_ok());
        let ids = match ids {
            0 if ints => Ids::UInt64,
            1 if signed => Ids::Int64,
            0..=2 => Ids::Utf8,
            3 => Ids::LargeUtf8,
            4 => Ids::Utf8View,
            _ => Ids::Dictionary,
        };
        let layout = Layout { ids, moments, amounts, kinds };
        let grain = if timestamp_grain { Grain::Timestamp } else { Grain::Day };
        let returns = if ignore_returns { ReturnPolicy::Ignore } else { ReturnPolicy::NetAgainstPurchase };
        let mut cuts = cuts;
        cuts.sort_unstable();
        let day = |d| NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
        let options = SummaryOptions::new(day(12), TimeUnit::DAYS).holdout_end(day(25));
        let [direct, batched] = both_ways(&log, &cuts, layout, grain, returns, &options);
        prop_assert_eq!(batched, direct, "{:?}", layout);
        // Read back as transactions, the batch is the log.
        let read = layout.columns().transactions(&batch(&log, layout));
        let read = read.map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(read.len(), log.len());
        for (back, t) in read.iter().zip(&log) {
            prop_assert_eq!(
                (back.customer(), back.at(), back.amount(), back.kind()),
                (t.customer(), t.at(), t.amount(), t.kind())
            );
        }
    }
}
