//! `summarize` over DataFrames: equal to the core on CDNOW (float amounts included) and on a
//! simulated base of a million customers at 1, 2, 8 and 16 partitions; zoned timestamps near
//! midnight on the day of their zone (as the core's Arrow reader with that zone's offset);
//! bad columns and rows as typed errors naming them; a memory-capped session spills and agrees.

use std::sync::Arc;

use chrono::{FixedOffset, NaiveDate, TimeZone};
use customer_assets::arrow::{TimeZoneRule, TransactionColumns};
use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
use customer_assets::sql::SummarySql;
use customer_assets::{
    CustomerId, Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit, Transaction,
};
use customer_assets_datafusion::{summaries, summarize, summarize_unchecked, SummarizeError};
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampSecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit as ArrowUnit};
use datafusion::datasource::MemTable;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::physical_plan::{collect, ExecutionPlan};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use rust_decimal::prelude::ToPrimitive;

use crate::sql_summary::{
    assert_identical, assert_same, batch, cdnow, check, core, day, degenerate_bases, in_memory,
    partitions, query, read_rows, runtime,
};

/// A DataFrame over batches, in `ctx`.
pub(crate) fn frame(ctx: &SessionContext, partitions: Vec<Vec<RecordBatch>>) -> DataFrame {
    let schema = partitions
        .iter()
        .flatten()
        .next()
        .expect("a batch")
        .schema();
    let table = MemTable::try_new(schema, partitions).expect("a table");
    ctx.read_table(Arc::new(table)).expect("a DataFrame")
}

/// The summaries of `input` (checked or not) in `ctx`, collected.
fn summarized(
    runtime: &tokio::runtime::Runtime,
    ctx: &SessionContext,
    input: RecordBatch,
    sql: &SummarySql,
    checked: bool,
) -> Result<Vec<RecordBatch>, SummarizeError> {
    runtime.block_on(async {
        let df = frame(ctx, vec![vec![input]]);
        let summaries = if checked {
            summarize(df, sql).await?
        } else {
            summarize_unchecked(df, sql).await?
        };
        summaries.collect().await.map_err(SummarizeError::from)
    })
}

fn as_of_options() -> SummaryOptions {
    SummaryOptions::new(day(1997, 9, 30), TimeUnit::WEEKS).holdout_end(day(1998, 6, 30))
}

#[test]
fn cdnow_with_float_amounts_equals_the_core() {
    let runtime = runtime();
    let log = cdnow();
    let options = as_of_options();
    let want = core(&log, ReturnPolicy::NetAgainstPurchase, &options).expect("summaries");
    // The CDNOW log as a pandas export has it: amounts as floats.
    let (decimals, with_floats) = (batch(&log), cdnow_with_float_amounts());
    let sql = query(options, ReturnPolicy::NetAgainstPurchase);
    for input in [decimals, with_floats] {
        let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
        let batches = summarized(&runtime, &ctx, input, &sql, true).expect("summaries");
        assert_same(&read_rows(&batches, &sql), &want, "CDNOW through summarize");
    }
}

/// A simulated base of a million customers (BG/NBD purchases, gamma-gamma spends in cents)
/// through the engine at 1, 2, 8 and 16 partitions of shuffled input: every field equal to
/// the core's.
#[test]
fn a_million_simulated_customers_equal_the_core_at_every_partitioning() {
    let runtime = runtime();
    let start = day(2024, 1, 1);
    // CDNOW's BG/NBD estimates (weeks): about 2.5 transactions a customer over the year.
    let process = BgNbdProcess::new(0.243, 4.414, 0.793, 2.426).expect("a process");
    let spend = GammaGammaSpend::new(6.25, 3.74, 15.44).expect("a spend process");
    let options = SimulationOptions::new(1_000_000, start, day(2024, 12, 31), TimeUnit::WEEKS, 13)
        .acquisition_days(180)
        .spend(spend);
    let log: Vec<Transaction> = simulate(&process, &options)
        .expect("a simulated base")
        .into_transactions();
    assert!(log.len() > 1_000_000, "{} transactions", log.len());
    check(
        &runtime,
        &log,
        SummaryOptions::new(day(2024, 9, 30), TimeUnit::WEEKS).holdout_end(day(2024, 12, 31)),
        ReturnPolicy::NetAgainstPurchase,
        99,
    );
}

/// Purchases at 23:30 and 00:30 local time, in zones east and west of UTC: each lands on its
/// local day, as the core's Arrow reader puts it with the zone's offset.
#[test]
fn zoned_timestamps_near_midnight_land_on_their_local_day() {
    let runtime = runtime();
    for (zone, seconds_east) in [("-05:00", -5 * 3600), ("+09:00", 9 * 3600), ("UTC", 0)] {
        let offset = FixedOffset::east_opt(seconds_east).expect("an offset");
        let local = |d: NaiveDate, h: u32, m: u32| {
            offset
                .from_local_datetime(&d.and_hms_opt(h, m, 0).expect("a time"))
                .single()
                .expect("one instant")
                .timestamp()
        };
        // Customer 1: 23:30 on 1 March and 00:30 on 3 March (two purchase days, local).
        // Customer 2: 00:30 and 23:30 on 2 March (one day, local; two days in UTC but in UTC).
        let rows = [
            (1, local(day(2024, 3, 1), 23, 30), 10.0),
            (1, local(day(2024, 3, 3), 0, 30), 20.0),
            (2, local(day(2024, 3, 2), 0, 30), 5.0),
            (2, local(day(2024, 3, 2), 23, 30), 7.0),
            (3, local(day(2024, 3, 31), 23, 59), 1.0),
        ];
        let schema = Arc::new(Schema::new(vec![
            Field::new("customer_id", DataType::Int64, false),
            Field::new(
                "date",
                DataType::Timestamp(ArrowUnit::Second, Some(zone.into())),
                false,
            ),
            Field::new("amount", DataType::Float64, false),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(
                TimestampSecondArray::from_iter_values(rows.iter().map(|r| r.1))
                    .with_timezone(zone),
            ),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))),
        ];
        let input = RecordBatch::try_new(schema, columns).expect("a batch");

        let options = SummaryOptions::new(day(2024, 3, 31), TimeUnit::DAYS);
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        let rule = if seconds_east == 0 {
            TimeZoneRule::Utc
        } else {
            TimeZoneRule::Offset(offset)
        };
        acc.push_batch(&input, &TransactionColumns::new().time_zone(rule))
            .expect("the core reads the batch");
        let want = acc.finish(&options).expect("summaries");
        let first = |id: u64| {
            want.get(&CustomerId::from(id))
                .map(|s| (s.first_purchase().date(), s.frequency()))
        };
        assert_eq!(first(1), Some((day(2024, 3, 1), 1)), "{zone}");
        assert_eq!(first(2), Some((day(2024, 3, 2), 0)), "{zone}");
        assert_eq!(first(3), Some((day(2024, 3, 31), 0)), "{zone}");

        let sql = SummarySql::new("t", options);
        let ctx = SessionContext::new();
        let batches = summarized(&runtime, &ctx, input.clone(), &sql, true).expect("summaries");
        assert_same(&read_rows(&batches, &sql), &want, zone);
        let in_memory = runtime
            .block_on(summaries(frame(&ctx, vec![vec![input]]), &sql))
            .expect("summaries in memory");
        assert_identical(&in_memory, &want, zone);
    }
}

/// One column of each kind broken in turn: each is a typed error naming the column or the row.
#[test]
fn bad_columns_and_rows_are_errors_naming_them() {
    let runtime = runtime();
    let options = SummaryOptions::new(day(2024, 3, 31), TimeUnit::DAYS);
    let table = |fields: Vec<Field>, columns: Vec<ArrayRef>| {
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("a batch")
    };
    let ids = || Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef;
    let dates = || {
        Arc::new(datafusion::arrow::array::Date32Array::from(vec![
            19_700, 19_701, 19_702,
        ])) as ArrayRef
    };
    let amounts = |v: Vec<Option<f64>>| Arc::new(Float64Array::from(v)) as ArrayRef;
    let f = |name: &str, t: DataType| Field::new(name, t, true);
    let good_fields = || {
        vec![
            f("customer_id", DataType::Int64),
            f("date", DataType::Date32),
            f("amount", DataType::Float64),
        ]
    };
    let run = |input: RecordBatch, sql: &SummarySql| {
        summarized(&runtime, &SessionContext::new(), input, sql, true)
    };
    let sql = SummarySql::new("t", options);

    // Missing column: named, with the columns there are.
    let err = run(
        table(
            good_fields(),
            vec![ids(), dates(), amounts(vec![Some(1.0); 3])],
        ),
        &sql.clone().amount_column("revenue"),
    )
    .expect_err("a missing column");
    assert!(
        matches!(&err, SummarizeError::MissingColumn { role: "amount", column, available }
            if column == "revenue" && available == "customer_id, date, amount"),
        "{err}"
    );

    // Wrong types: a float customer id, a Boolean date.
    let mut fields = good_fields();
    fields[0] = f("customer_id", DataType::Float64);
    let err = run(
        table(
            fields,
            vec![
                amounts(vec![Some(1.0); 3]),
                dates(),
                amounts(vec![Some(1.0); 3]),
            ],
        ),
        &sql,
    )
    .expect_err("a float customer id");
    assert!(
        matches!(
            &err,
            SummarizeError::WrongType {
                role: "customer",
                found: DataType::Float64,
                ..
            }
        ),
        "{err}"
    );
    let mut fields = good_fields();
    fields[1] = f("date", DataType::Boolean);
    let err = run(
        table(
            fields,
            vec![
                ids(),
                Arc::new(BooleanArray::from(vec![true, false, true])),
                amounts(vec![Some(1.0); 3]),
            ],
        ),
        &sql,
    )
    .expect_err("a Boolean date");
    assert!(
        matches!(&err, SummarizeError::WrongType { role: "date", .. }),
        "{err}"
    );

    // Rows: a NULL amount, a negative amount; the count and the first such row.
    let err = run(
        table(
            good_fields(),
            vec![ids(), dates(), amounts(vec![Some(1.0), None, Some(2.0)])],
        ),
        &sql,
    )
    .expect_err("a NULL amount");
    assert!(
        matches!(&err, SummarizeError::BadRows { count: 1, customer, amount, .. }
            if customer == "2" && amount == "NULL"),
        "{err}"
    );
    let err = run(
        table(
            good_fields(),
            vec![
                ids(),
                dates(),
                amounts(vec![Some(1.0), Some(2.0), Some(-3.5)]),
            ],
        ),
        &sql,
    )
    .expect_err("a negative amount");
    assert!(
        matches!(&err, SummarizeError::BadRows { count: 1, customer, problem, .. }
            if customer == "3" && problem.contains("negative")),
        "{err}"
    );

    // An unknown kind (and a NULL one): both counted.
    let mut fields = good_fields();
    fields.push(f("kind", DataType::Utf8));
    let kinds = Arc::new(StringArray::from(vec![
        Some("purchase"),
        Some("exchange"),
        None,
    ]));
    let input = table(
        fields,
        vec![ids(), dates(), amounts(vec![Some(1.0); 3]), kinds],
    );
    let with_kind = sql.clone().kind_column("kind", "purchase", "return");
    let err = run(input.clone(), &with_kind).expect_err("unknown kinds");
    assert!(
        matches!(&err, SummarizeError::BadRows { count: 2, customer, .. } if customer == "2"),
        "{err}"
    );
    // Unchecked, the same rows are not read (as the portable query documents).
    let rows = summarized(&runtime, &SessionContext::new(), input, &with_kind, false)
        .expect("unchecked summaries");
    assert_eq!(rows.iter().map(RecordBatch::num_rows).sum::<usize>(), 1);
}

/// With a memory pool (16 MB) far below what its sorts and groups need, the session spills to disk and
/// the summaries are still the core's.
#[test]
fn a_memory_capped_session_spills_and_agrees() {
    let runtime = runtime();
    let log = cdnow();
    let options = as_of_options();
    let want = core(&log, ReturnPolicy::NetAgainstPurchase, &options).expect("summaries");
    let sql = query(options, ReturnPolicy::NetAgainstPurchase);
    // The fair pool shares memory among the operators that can spill (a greedy pool lets one
    // hash table take it all, and the next sort fails instead of spilling).
    let env = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(16 << 20)))
        .build_arc()
        .expect("a runtime");
    // A sort reserves 10 MB for its merge by default: more than the whole pool here.
    let config = SessionConfig::new()
        .with_target_partitions(2)
        .with_batch_size(1024)
        .with_sort_spill_reservation_bytes(1 << 20);
    let ctx = SessionContext::new_with_config_rt(config, env);
    let (batches, spills) = runtime
        .block_on(async {
            let df = summarize(frame(&ctx, partitions(&log, 2, 5)), &sql).await?;
            let task = Arc::new(df.task_ctx());
            let plan = df.create_physical_plan().await?;
            let batches = collect(plan.clone(), task).await?;
            Ok::<_, SummarizeError>((batches, spill_count(&plan)))
        })
        .expect("summaries within 16 MB");
    assert!(spills > 0, "the session did not spill");
    assert_same(&read_rows(&batches, &sql), &want, "CDNOW in 16 MB");
}

/// The spills of a plan and its children, from their metrics.
fn spill_count(plan: &Arc<dyn ExecutionPlan>) -> usize {
    plan.metrics().and_then(|m| m.spill_count()).unwrap_or(0)
        + plan.children().into_iter().map(spill_count).sum::<usize>()
}

/// `summaries` (the engine's scan into the core's accumulators) on CDNOW with decimal and float
/// amounts, identical to the core (zoned timestamps: in the test above).
#[test]
fn in_memory_summaries_of_cdnow_are_the_core_s() {
    let runtime = runtime();
    let log = cdnow();
    let options = as_of_options();
    let want = core(&log, ReturnPolicy::NetAgainstPurchase, &options).expect("summaries");
    let sql = query(options, ReturnPolicy::NetAgainstPurchase);
    for target in [1, 3] {
        let got = in_memory(&runtime, &sql, &log, target, 11).expect("summaries");
        assert_identical(&got, &want, &format!("CDNOW, {target} partitions"));
    }
    // Float amounts: the core reads them as the core does (the exact binary value rounded to
    // 10 places), so the float log's summaries are the core's of the same floats.
    let floats = cdnow_with_float_amounts();
    let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
    acc.push_batch(
        &floats,
        &TransactionColumns::new()
            .customer("Customer Id")
            .date("Day")
            .amount("Amount (USD)")
            .kind("kind"),
    )
    .expect("the core reads the floats");
    let want_floats = acc.finish(&options).expect("summaries");
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    let got = runtime
        .block_on(summaries(frame(&ctx, vec![vec![floats]]), &sql))
        .expect("summaries of floats");
    assert_identical(&got, &want_floats, "CDNOW with float amounts");
    assert_eq!(got.len(), want.len());
}

/// One customer, identical customers, equal spends and a heavy buyer through `summaries`, at 1
/// and 2 partitions: identical to the core's summaries.
#[test]
fn in_memory_summaries_of_degenerate_bases_are_the_core_s() {
    let runtime = runtime();
    let options = SummaryOptions::new(day(1997, 9, 30), TimeUnit::WEEKS);
    let sql = query(options, ReturnPolicy::NetAgainstPurchase);
    for (name, log) in degenerate_bases() {
        let want = core(&log, ReturnPolicy::NetAgainstPurchase, &options).expect("summaries");
        for target in [1, 2] {
            let got = in_memory(&runtime, &sql, &log, target, 17).expect("summaries");
            assert_identical(&got, &want, &format!("{name}, {target} partitions"));
        }
    }
}

/// CDNOW with its amounts as floats, in the columns of `query`.
fn cdnow_with_float_amounts() -> RecordBatch {
    let log = cdnow();
    let decimals = batch(&log);
    let floats: Float64Array = log
        .iter()
        .map(|t| t.amount().to_f64())
        .collect::<Option<Vec<f64>>>()
        .expect("amounts as floats")
        .into();
    let mut fields: Vec<Field> = decimals
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields[2] = Field::new(fields[2].name(), DataType::Float64, false);
    let mut columns = decimals.columns().to_vec();
    columns[2] = Arc::new(floats);
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("a batch")
}

/// Bad rows stop `summaries` at the first, named by column and row within its partition; an
/// unknown kind names the two values; a pool too small for the accumulators is the engine's
/// refusal, not a wrong result.
#[test]
fn in_memory_summaries_name_bad_rows_and_respect_the_memory_pool() {
    let runtime = runtime();
    let sql = SummarySql::new("t", SummaryOptions::new(day(2024, 3, 31), TimeUnit::DAYS));
    let schema = |kind: bool| {
        let mut fields = vec![
            Field::new("customer_id", DataType::Int64, true),
            Field::new("date", DataType::Date32, true),
            Field::new("amount", DataType::Float64, true),
        ];
        if kind {
            fields.push(Field::new("kind", DataType::Utf8, true));
        }
        Arc::new(Schema::new(fields))
    };
    let dates = || {
        Arc::new(datafusion::arrow::array::Date32Array::from(vec![
            19_700, 19_701, 19_702,
        ])) as ArrayRef
    };
    let run = |input: RecordBatch, sql: &SummarySql| {
        runtime.block_on(summaries(
            frame(&SessionContext::new(), vec![vec![input]]),
            sql,
        ))
    };
    let negative = RecordBatch::try_new(
        schema(false),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            dates(),
            Arc::new(Float64Array::from(vec![1.0, -2.5, 3.0])),
        ],
    )
    .expect("a batch");
    let err = run(negative, &sql).expect_err("a negative amount");
    assert!(
        matches!(&err, SummarizeError::Input { partition: 0, source }
            if matches!(source.as_ref(), customer_assets::arrow::ArrowInputError::NegativeAmount { column, row: 1, .. } if column == "amount")),
        "{err}"
    );
    let null_id = RecordBatch::try_new(
        schema(false),
        vec![
            Arc::new(Int64Array::from(vec![Some(1), Some(2), None])),
            dates(),
            Arc::new(Float64Array::from(vec![1.0, 2.5, 3.0])),
        ],
    )
    .expect("a batch");
    let err = run(null_id, &sql).expect_err("a NULL customer");
    assert!(
        err.to_string().contains("customer_id, row 2: null"),
        "{err}"
    );

    let kinds = RecordBatch::try_new(
        schema(true),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            dates(),
            Arc::new(Float64Array::from(vec![1.0, 2.5, 3.0])),
            Arc::new(StringArray::from(vec![
                Some("sale"),
                Some("Return"),
                Some("refund"),
            ])),
        ],
    )
    .expect("a batch");
    // "Return" is not "refund": the values are compared exactly, as the SQL compares them.
    let err = run(
        kinds.clone(),
        &sql.clone().kind_column("kind", "sale", "refund"),
    )
    .expect_err("an unknown kind");
    assert!(
        matches!(&err, SummarizeError::UnknownKind { row: 1, purchase, ret, .. }
            if purchase == "sale" && ret == "refund"),
        "{err}"
    );
    let fine = run(kinds, &sql.clone().kind_column("kind", "sale", "Return"));
    assert!(
        matches!(&fine, Err(SummarizeError::UnknownKind { row: 2, .. })),
        "{fine:?}"
    );

    // A pool of 1 MB cannot hold the accumulators of CDNOW's 69,659 transactions.
    let env = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(1 << 20)))
        .build_arc()
        .expect("a runtime");
    let ctx =
        SessionContext::new_with_config_rt(SessionConfig::new().with_target_partitions(2), env);
    let log = cdnow();
    let sql = query(as_of_options(), ReturnPolicy::NetAgainstPurchase);
    let err = runtime
        .block_on(summaries(frame(&ctx, partitions(&log, 2, 3)), &sql))
        .expect_err("1 MB is too little");
    assert!(
        matches!(&err, SummarizeError::Engine(e) if e.to_string().contains("Resources exhausted")),
        "{err}"
    );
}
