//! The summary SQL of `customer_assets::sql` run on DataFusion, compared field by field with the
//! core's `Summaries`: ids, frequency, orders and dates exactly, recency and T bit for bit, spend
//! sums exactly, and the means as the core's exact mean rounded half to even to 6 places. Where
//! the query is checked against the core at several partitionings, so are the in-memory
//! `summaries` (identical, decimals' scales included).

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{NaiveDate, TimeDelta};
use customer_assets::sql::{Dialect, SummarySql};
use customer_assets::{
    CustomerId, Grain, ReturnPolicy, Summaries, SummaryAccumulator, SummaryError, SummaryOptions,
    TimeUnit, Transaction, TransactionKind,
};
use customer_assets_datafusion::{summaries, SummarizeError};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Field, Float64Type, Int64Type, Schema,
};
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::summarize::frame;

/// The scale of the amount column of the test tables.
const SCALE: u32 = 2;
/// The column names of the test tables: spaces and capitals, so that quoting matters.
const CUSTOMER: &str = "Customer Id";
const DATE: &str = "Day";
const AMOUNT: &str = "Amount (USD)";
const KIND: &str = "kind";

pub(crate) fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn epoch() -> NaiveDate {
    day(1970, 1, 1)
}

/// One summary row as the query returns it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    frequency: i64,
    recency: Option<f64>,
    t: Option<f64>,
    monetary_value: Decimal,
    holdout: Option<(i64, Decimal, Decimal)>,
    repeat_spend: Decimal,
    orders: i64,
    total_spend: Decimal,
    first_purchase: Option<NaiveDate>,
    last_purchase: Option<NaiveDate>,
    return_without_purchase: Option<NaiveDate>,
}

/// The transactions as a table: integer customer ids, dates, amounts at `SCALE` and the kind.
pub(crate) fn batch(log: &[Transaction]) -> RecordBatch {
    let ids: Int64Array = log
        .iter()
        .map(|t| t.customer().as_u64().map(|n| n as i64))
        .collect();
    let dates: Date32Array = log
        .iter()
        .map(|t| Some((t.date() - epoch()).num_days() as i32))
        .collect();
    let amounts: Decimal128Array = log
        .iter()
        .map(|t| {
            let mut a = t.amount();
            a.rescale(SCALE);
            assert_eq!(
                a,
                t.amount(),
                "amounts of the test tables have {SCALE} places"
            );
            Some(a.mantissa())
        })
        .collect::<Decimal128Array>()
        .with_precision_and_scale(18, SCALE as i8)
        .expect("a valid decimal type");
    let kinds: StringArray = log
        .iter()
        .map(|t| {
            Some(match t.kind() {
                TransactionKind::Purchase => "purchase",
                TransactionKind::Return => "return",
            })
        })
        .collect();
    let schema = Schema::new(vec![
        Field::new(CUSTOMER, DataType::Int64, false),
        Field::new(DATE, DataType::Date32, false),
        Field::new(AMOUNT, DataType::Decimal128(18, SCALE as i8), false),
        Field::new(KIND, DataType::Utf8, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(ids),
        Arc::new(dates),
        Arc::new(amounts),
        Arc::new(kinds),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).expect("a valid batch")
}

/// The log in a pseudo-random order (by `seed`), cut into `parts` partitions of small batches.
pub(crate) fn partitions(log: &[Transaction], parts: usize, seed: u64) -> Vec<Vec<RecordBatch>> {
    let mut order: Vec<usize> = (0..log.len()).collect();
    let mut state = seed | 1;
    for i in (1..order.len()).rev() {
        // xorshift: enough to shuffle test input.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    let shuffled: Vec<Transaction> = order.iter().map(|&i| log[i].clone()).collect();
    let per_part = shuffled.len().div_ceil(parts).max(1);
    let mut out: Vec<Vec<RecordBatch>> = shuffled
        .chunks(per_part)
        .map(|part| part.chunks(1000).map(batch).collect())
        .collect();
    out.resize_with(parts, Vec::new);
    out
}

/// Runs the query of `sql` over the log on DataFusion with `target` partitions and returns its
/// rows by customer id.
fn run(
    runtime: &tokio::runtime::Runtime,
    sql: &SummarySql,
    log: &[Transaction],
    target: usize,
    seed: u64,
) -> BTreeMap<u64, Row> {
    let query = sql.to_sql(Dialect::DataFusion).expect("a valid query");
    let config = SessionConfig::new().with_target_partitions(target);
    let ctx = SessionContext::new_with_config(config);
    let schema = batch(&[]).schema();
    let table = MemTable::try_new(schema, partitions(log, target, seed)).expect("a table");
    ctx.register_table("transactions", Arc::new(table))
        .expect("registered");
    let batches = runtime
        .block_on(async { ctx.sql(&query).await?.collect().await })
        .unwrap_or_else(|e| panic!("the query fails on DataFusion: {e}\n{query}"));
    read_rows(&batches, sql)
}

/// The rows of a summary query's output, by customer id (integer ids).
pub(crate) fn read_rows(batches: &[RecordBatch], sql: &SummarySql) -> BTreeMap<u64, Row> {
    let mut rows = BTreeMap::new();
    for b in batches {
        let names: Vec<&str> = b
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        assert_eq!(names, sql.columns(), "the output columns");
        let col = |name: &str| b.column_by_name(name).expect("a column");
        let int = |name: &str, i: usize| col(name).as_primitive::<Int64Type>().value(i);
        let float = |name: &str, i: usize| {
            let a = col(name).as_primitive::<Float64Type>();
            a.is_valid(i).then(|| a.value(i))
        };
        let money = |name: &str, i: usize| {
            let a = col(name);
            let DataType::Decimal128(_, scale) = a.data_type() else {
                panic!("{name} is {}, not a decimal", a.data_type());
            };
            let v = a.as_primitive::<Decimal128Type>().value(i);
            Decimal::from_i128_with_scale(v, *scale as u32)
        };
        let date = |name: &str, i: usize| {
            let a = col(name).as_primitive::<Date32Type>();
            a.is_valid(i)
                .then(|| epoch() + chrono::TimeDelta::days(a.value(i).into()))
        };
        let holdout = names.contains(&"holdout_frequency");
        for i in 0..b.num_rows() {
            let id = int("customer_id", i) as u64;
            let row = Row {
                frequency: int("frequency", i),
                recency: float("recency", i),
                t: float("T", i),
                monetary_value: money("monetary_value", i),
                holdout: holdout.then(|| {
                    (
                        int("holdout_frequency", i),
                        money("holdout_monetary_value", i),
                        money("holdout_spend", i),
                    )
                }),
                repeat_spend: money("repeat_spend", i),
                orders: int("orders", i),
                total_spend: money("total_spend", i),
                first_purchase: date("first_purchase", i),
                last_purchase: date("last_purchase", i),
                return_without_purchase: names
                    .contains(&"return_without_purchase")
                    .then(|| date("return_without_purchase", i))
                    .flatten(),
            };
            assert!(rows.insert(id, row).is_none(), "customer {id} twice");
        }
    }
    rows
}

/// A mean as the query gives it: rounded half to even to 6 places.
fn rounded(mean: Decimal) -> Decimal {
    mean.round_dp_with_strategy(
        SummarySql::MONETARY_SCALE,
        RoundingStrategy::MidpointNearestEven,
    )
}

/// The row the query must give for a summary of the core.
fn expected(s: &customer_assets::CustomerSummary) -> Row {
    Row {
        frequency: i64::from(s.frequency()),
        recency: Some(s.recency()),
        t: Some(s.age()),
        monetary_value: rounded(s.monetary_value()),
        holdout: s
            .holdout()
            .map(|h| (i64::from(h.frequency), rounded(h.monetary_value()), h.spend)),
        repeat_spend: s.repeat_spend(),
        orders: i64::from(s.orders()),
        total_spend: s.total_spend(),
        first_purchase: Some(s.first_purchase().date()),
        last_purchase: Some(s.last_purchase().date()),
        return_without_purchase: None,
    }
}

/// Asserts that the query's rows equal the core's summaries: the same customers, every field
/// equal (floats bit for bit; decimals by value, whatever their scale).
pub(crate) fn assert_same(rows: &BTreeMap<u64, Row>, summaries: &Summaries, context: &str) {
    let ids: Vec<u64> = summaries
        .iter()
        .map(|s| s.id().as_u64().expect("integer ids"))
        .collect();
    assert_eq!(
        rows.keys().copied().collect::<Vec<_>>(),
        ids,
        "{context}: the customers"
    );
    for s in summaries.iter() {
        let id = s.id().as_u64().expect("integer ids");
        let (got, want) = (&rows[&id], expected(s));
        assert_eq!(got, &want, "{context}: customer {id}");
        // `==` on floats would let -0.0 pass for 0.0: compare bits.
        for (g, w) in [(got.recency, want.recency), (got.t, want.t)] {
            assert_eq!(
                g.map(f64::to_bits),
                w.map(f64::to_bits),
                "{context}: customer {id}"
            );
        }
    }
}

/// Asserts that two sets of summaries are identical: the same customers in the same order, every
/// field equal, decimals at the same scale (their `Debug` text equal too).
pub(crate) fn assert_identical(got: &Summaries, want: &Summaries, context: &str) {
    assert_eq!(got.len(), want.len(), "{context}: the number of customers");
    for (g, w) in got.iter().zip(want.iter()) {
        assert_eq!(g, w, "{context}");
        assert_eq!(format!("{g:?}"), format!("{w:?}"), "{context}");
    }
}

/// [`summaries`] of the log on DataFusion with `target` partitions of the shuffled input.
pub(crate) fn in_memory(
    runtime: &tokio::runtime::Runtime,
    sql: &SummarySql,
    log: &[Transaction],
    target: usize,
    seed: u64,
) -> Result<Summaries, SummarizeError> {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(target));
    let df = frame(&ctx, partitions(log, target.max(1), seed));
    runtime.block_on(summaries(df, sql))
}

/// The core's summaries of a log.
pub(crate) fn core(
    log: &[Transaction],
    returns: ReturnPolicy,
    options: &SummaryOptions,
) -> Result<Summaries, SummaryError> {
    let mut acc = SummaryAccumulator::new(Grain::Day, returns);
    acc.extend(log);
    acc.finish(options)
}

pub(crate) fn query(options: SummaryOptions, returns: ReturnPolicy) -> SummarySql {
    SummarySql::new("datafusion.public.transactions", options)
        .customer_column(CUSTOMER)
        .date_column(DATE)
        .amount_column(AMOUNT)
        .kind_column(KIND, "purchase", "return")
        .returns(returns)
}

/// Checks the query on DataFusion against the core for one log, options and policy, with 1, 2,
/// 8 and 16 target partitions and the input shuffled: where the core summarises, every field is
/// the same; where a customer's calibration return has no purchase before it (the core fails),
/// that customer's row flags the return's day, and every other customer's row is the core's
/// summary of that customer alone.
pub(crate) fn check(
    runtime: &tokio::runtime::Runtime,
    log: &[Transaction],
    options: SummaryOptions,
    returns: ReturnPolicy,
    seed: u64,
) {
    let sql = query(options, returns);
    for target in [1, 2, 8, 16] {
        let rows = run(runtime, &sql, log, target, seed.wrapping_add(target as u64));
        let context = format!("{options:?}, {returns:?}, {target} partitions");
        let accumulated = in_memory(runtime, &sql, log, target, seed.wrapping_mul(31) ^ 7);
        match core(log, returns, &options) {
            Ok(summaries) => {
                assert_same(&rows, &summaries, &context);
                let accumulated =
                    accumulated.unwrap_or_else(|e| panic!("{context}: summaries in memory: {e}"));
                assert_identical(&accumulated, &summaries, &format!("{context}, in memory"));
            }
            Err(SummaryError::ReturnWithoutPurchase { .. }) => {
                assert!(
                    matches!(
                        accumulated,
                        Err(SummarizeError::Summary(
                            SummaryError::ReturnWithoutPurchase { .. }
                        ))
                    ),
                    "{context}: in memory, {accumulated:?}"
                );
                // Customer by customer: the core alone either summarises the customer (or
                // leaves them out) or fails, and the query's row says the same.
                let mut by_customer: BTreeMap<u64, Vec<Transaction>> = BTreeMap::new();
                for t in log {
                    by_customer
                        .entry(t.customer().as_u64().expect("integer ids"))
                        .or_default()
                        .push(t.clone());
                }
                let mut flagged = 0;
                for (id, theirs) in &by_customer {
                    let one =
                        |row: Option<&Row>| row.map(|r| (*id, r.clone())).into_iter().collect();
                    match core(theirs, returns, &options) {
                        Ok(s) => assert_same(&one(rows.get(id)), &s, &context),
                        Err(SummaryError::ReturnWithoutPurchase { customer, at, .. }) => {
                            assert_eq!(customer, CustomerId::from(*id));
                            let row = rows
                                .get(id)
                                .unwrap_or_else(|| panic!("{context}: customer {id} not flagged"));
                            assert_eq!(
                                row.return_without_purchase,
                                Some(at.date()),
                                "{context}: customer {id}"
                            );
                            flagged += 1;
                        }
                        Err(e) => panic!("{context}: customer {id}: {e}"),
                    }
                }
                assert!(
                    flagged > 0,
                    "{context}: the core fails for no customer alone"
                );
            }
            Err(e) => panic!("{context}: {e}"),
        }
    }
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // IO and timers too: Ballista's scheduler and executor serve gRPC and keep timers.
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The CDNOW log of the core crate's test data (read in place, not copied).
pub(crate) fn cdnow() -> Vec<Transaction> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/cdnow_master_transactions.csv"
    );
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    reader
        .records()
        .map(|r| {
            let r = r.expect("a CSV row");
            let id: u64 = r[0].parse().expect("an integer id");
            let date = NaiveDate::parse_from_str(&r[1], "%Y-%m-%d").expect("a date");
            let amount = Decimal::from_str(&r[3]).expect("an amount");
            Transaction::purchase(CustomerId::from(id), date, amount).expect("a transaction")
        })
        .collect()
}

#[test]
fn cdnow_summaries_equal_the_core_on_every_field() {
    let runtime = runtime();
    let log = cdnow();
    assert_eq!(log.len(), 69_659);
    let as_of = day(1997, 9, 30);
    for options in [
        SummaryOptions::new(as_of, TimeUnit::WEEKS).holdout_end(day(1998, 6, 30)),
        SummaryOptions::new(as_of, TimeUnit::DAYS),
        SummaryOptions::new(
            day(1997, 3, 31),
            TimeUnit::custom_days(1.0 / 3.0).expect("a unit"),
        ),
    ] {
        check(&runtime, &log, options, ReturnPolicy::NetAgainstPurchase, 7);
    }
}

/// CDNOW with returns added: a part of every tenth purchase returned the same day, every 37th
/// returned in full four days later, every 53rd in full the same day (that day stops counting).
#[test]
fn cdnow_with_returns_equals_the_core_under_both_policies() {
    let runtime = runtime();
    let mut log = cdnow();
    let purchases = log.len();
    for i in 0..purchases {
        let t = log[i].clone();
        let back = |days: u64, amount: Decimal| {
            Transaction::refund(
                t.customer().clone(),
                t.date() + chrono::Days::new(days),
                amount,
            )
            .expect("a return")
        };
        if i % 10 == 0 {
            log.push(back(0, (t.amount() / Decimal::from(3)).round_dp(SCALE)));
        }
        if i % 37 == 0 {
            log.push(back(4, t.amount()));
        }
        if i % 53 == 0 {
            log.push(back(0, t.amount()));
        }
    }
    let options =
        SummaryOptions::new(day(1997, 9, 30), TimeUnit::WEEKS).holdout_end(day(1998, 6, 30));
    assert!(core(&log, ReturnPolicy::NetAgainstPurchase, &options).is_ok());
    for returns in [ReturnPolicy::NetAgainstPurchase, ReturnPolicy::Ignore] {
        check(&runtime, &log, options, returns, 11);
    }
}

/// A log of a few customers over 40 days around the as-of date (day 20): purchases and returns,
/// several on one day, amounts from 0.
fn random_log() -> impl Strategy<Value = Vec<Transaction>> {
    // One amount in five is zero: a zero purchase counts, a zero return changes nothing.
    let cents = prop_oneof![1 => Just(0i64), 4 => 1i64..3_000];
    let row = (1u64..7, 0u64..40, cents, 0u8..10);
    proptest::collection::vec(row, 1..60).prop_map(|rows| {
        rows.into_iter()
            .map(|(id, d, cents, kind)| {
                let date = day(2024, 1, 1) + chrono::Days::new(d);
                let amount = Decimal::new(cents, SCALE);
                let id = CustomerId::from(id);
                // One row in four is a return.
                if kind < 3 {
                    Transaction::refund(id, date, amount)
                } else {
                    Transaction::purchase(id, date, amount)
                }
                .expect("a transaction")
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random logs with returns and same-day purchases: the query equals the core (or flags the
    /// customers the core fails on) under both policies, any unit, with or without a holdout,
    /// whatever the partitioning and input order.
    #[test]
    fn random_logs_equal_the_core(
        log in random_log(),
        unit in prop_oneof![Just(1.0), Just(7.0), Just(1.0 / 3.0), Just(0.1)],
        holdout in proptest::option::of(1u64..15),
        net in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let as_of = day(2024, 1, 20);
        let mut options = SummaryOptions::new(as_of, TimeUnit::custom_days(unit).expect("a unit"));
        if let Some(h) = holdout {
            options = options.holdout_end(as_of + chrono::Days::new(h));
        }
        let returns = if net { ReturnPolicy::NetAgainstPurchase } else { ReturnPolicy::Ignore };
        check(&runtime(), &log, options, returns, seed);
    }
}

/// Means on midpoints: a repeat spend of 0.01 over 32 periods is 0.0003125, which rounds half
/// to even to 0.000312 (0.03 over 32 to 0.000938, 0.05 to 0.001562), and a holdout spend of
/// -0.01 (a return before any holdout purchase) over 32 holdout periods to -0.000312: the query
/// rounds as `round_dp` does, whichever neighbour the engine's division gives first.
#[test]
fn means_on_a_midpoint_round_half_to_even() {
    let runtime = runtime();
    let start = day(2024, 1, 1);
    let as_of = day(2024, 3, 1);
    let purchase = |id: u64, at: NaiveDate, cents: i64| {
        Transaction::purchase(CustomerId::from(id), at, Decimal::new(cents, 2)).expect("a purchase")
    };
    let mut log = Vec::new();
    for (id, cents) in [(1u64, 1i64), (2, 3), (3, 5)] {
        log.push(purchase(id, start, 100));
        for k in 1..=32u64 {
            // All the repeat spend on the last day.
            log.push(purchase(
                id,
                start + chrono::Days::new(k),
                if k == 32 { cents } else { 0 },
            ));
        }
    }
    log.push(purchase(4, start, 100));
    log.push(
        Transaction::refund(
            CustomerId::from(4u64),
            as_of + chrono::Days::new(1),
            Decimal::new(1, 2),
        )
        .expect("a return"),
    );
    for k in 2..=33u64 {
        log.push(purchase(4, as_of + chrono::Days::new(k), 0));
    }
    let options =
        SummaryOptions::new(as_of, TimeUnit::DAYS).holdout_end(as_of + chrono::Days::new(40));
    let summaries = core(&log, ReturnPolicy::NetAgainstPurchase, &options).expect("summaries");
    let means: Vec<Decimal> = summaries
        .iter()
        .map(|s| rounded(s.monetary_value()))
        .collect();
    assert_eq!(
        means[..3],
        [
            Decimal::new(312, 6),
            Decimal::new(938, 6),
            Decimal::new(1562, 6)
        ]
    );
    let holdout = summaries
        .iter()
        .last()
        .and_then(|s| s.holdout())
        .expect("a holdout");
    assert_eq!(
        (holdout.frequency, rounded(holdout.monetary_value())),
        (32, Decimal::new(-312, 6))
    );
    check(&runtime, &log, options, ReturnPolicy::NetAgainstPurchase, 3);
}

/// Degenerate bases: one customer with one purchase, identical customers, equal spends, and one
/// heavy buyer among light ones (integer ids, purchases only), by name.
pub(crate) fn degenerate_bases() -> Vec<(&'static str, Vec<Transaction>)> {
    let purchase = |id: u64, date: NaiveDate, cents: i64| {
        Transaction::purchase(CustomerId::from(id), date, Decimal::new(cents, 2))
            .expect("a transaction")
    };
    let start = day(1997, 1, 1);
    let on = |days: i64| start + TimeDelta::days(days);
    vec![
        ("one customer", vec![purchase(1, on(3), 1999)]),
        (
            "identical customers",
            (1..=50)
                .flat_map(|id| [0, 10, 30].map(|d| purchase(id, on(d), 2500)))
                .collect(),
        ),
        (
            "equal spends",
            (1..=40)
                .flat_map(|id| {
                    (0..=(id as i64 % 5)).map(move |k| purchase(id, on(k * 7 + id as i64), 1000))
                })
                .collect(),
        ),
        (
            "a heavy buyer",
            (0..2000)
                .map(|k| purchase(1, on(k % 200), 9_999_999))
                .chain((2..=30).map(|id| purchase(id, on(id as i64), 500)))
                .collect(),
        ),
    ]
}
