//! The per-customer summaries of any DataFrame, read by the engine and accumulated by the core in
//! each of the plan's partitions: [`summaries`].

use customer_assets::arrow::{ArrowInputError, TransactionBatch, TransactionColumns};
use customer_assets::sql::SummarySql;
use customer_assets::{Grain, Summaries, SummaryAccumulator};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::runtime::SpawnedTask;
use datafusion::error::DataFusionError;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::functions::expr_fn::to_local_time;
use datafusion::logical_expr::{cast, when, Expr};
use datafusion::prelude::{ident, lit, DataFrame};
use futures::StreamExt;

use crate::summarize::{checked_columns, SummarizeError};

/// The name of the projected "is a return" column read from the kind column (the other
/// columns keep their names, so that errors name them as the DataFrame does).
const IS_RETURN: &str = "__customer_assets_is_return";

/// Memory held per row read, at most: the row read (its customer's 8-byte id and 16-byte
/// entry) and its place in the partition by customer (the entry again and 2 bytes).
const BYTES_PER_ROW: usize = 42;

/// The per-customer summaries of `transactions`, equal field for field to [`summarize`]'s (and
/// to the core's), computed by the engine's scan and the core's accumulator: each partition of
/// the DataFrame's plan is read and checked as it streams, on the session's threads
/// ([`TransactionBatch::read`], each record batch freed once read), then the core accumulates
/// every partition's rows at once on all cores, partitioned by customer
/// ([`SummaryAccumulator::from_read_batches`]): the result is the one-pass result whatever the
/// partitioning. Faster than [`summarize`]'s SQL by several times (no hash table of (customer,
/// day) groups, no repartition, no decimal arithmetic per row), but in memory: it holds up to
/// 42 bytes per row read (a read row, then its place in the partition by customer), reserved
/// from the session's memory pool as it reads, and the summaries. When the pool cannot grant
/// it, the error is [`SummarizeError::Engine`] (resources exhausted), not a spill: use
/// [`summarize`], whose aggregation spills, for logs larger than memory.
///
/// Columns and time zones are read as [`summarize`] reads them (the same checks and errors, a
/// zoned timestamp on its day in its own zone, text dates cast by the engine); float amounts
/// become their exact binary value rounded to 10 decimal places, integer and decimal amounts
/// keep their value. Bad rows are not counted first: reading stops at the first, with
/// [`SummarizeError::Input`] naming its column and its row within its partition (or
/// [`SummarizeError::UnknownKind`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use chrono::NaiveDate;
/// use customer_assets::sql::SummarySql;
/// use customer_assets::{CustomerId, SummaryOptions, TimeUnit};
/// use customer_assets_datafusion::summaries;
/// use datafusion::prelude::SessionContext;
///
/// let ctx = SessionContext::new();
/// let log = ctx
///     .sql("SELECT * FROM (VALUES (7, DATE '2024-01-02', 12.5), (7, DATE '2024-01-20', 30.0), \
///           (9, DATE '2024-02-01', 8.0)) AS t(customer_id, date, amount)")
///     .await?;
/// let as_of = NaiveDate::from_ymd_opt(2024, 3, 31).ok_or("date")?;
/// let query = SummarySql::new("transactions", SummaryOptions::new(as_of, TimeUnit::WEEKS));
/// let s = summaries(log, &query).await?;
/// assert_eq!(s.len(), 2);
/// assert_eq!(s.get(&CustomerId::from(7u64)).ok_or("missing")?.frequency(), 1);
/// # Ok(())
/// # }
/// ```
///
/// [`summarize`]: crate::summarize
///
/// # Errors
///
/// [`SummarizeError::MissingColumn`] and [`SummarizeError::WrongType`] as [`summarize`];
/// [`SummarizeError::Input`] and [`SummarizeError::UnknownKind`] for the first row that is not a
/// transaction; [`SummarizeError::Summary`] when the summaries cannot be made (transactions
/// before the as-of date that the options refuse); [`SummarizeError::Engine`] when DataFusion
/// fails or its memory pool refuses the accumulator's memory.
pub async fn summaries(
    transactions: DataFrame,
    query: &SummarySql,
) -> Result<Summaries, SummarizeError> {
    checked_columns(&transactions, query)?;
    let (projected, columns) = project(transactions, query)?;
    let pool = projected.task_ctx().memory_pool().clone();
    let streams = projected.execute_stream_partitioned().await?;
    let mut tasks = Vec::with_capacity(streams.len());
    for (partition, stream) in streams.into_iter().enumerate() {
        let consumer = MemoryConsumer::new(format!("customer-assets summaries[{partition}]"));
        let reservation = consumer.register(&pool);
        let columns = columns.clone();
        tasks.push(SpawnedTask::spawn(async move {
            read_partition(stream, &columns, &reservation)
                .await
                .map(|batches| (batches, reservation))
        }));
    }
    let mut batches = Vec::new();
    let mut reservations = Vec::with_capacity(tasks.len());
    for (partition, task) in tasks.into_iter().enumerate() {
        let (part, reservation) = task
            .join()
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?
            .map_err(|e| e.in_partition(partition, query))?;
        batches.extend(part);
        reservations.push(reservation);
    }
    let policy = query.return_policy();
    // The partitions' batches in order: one accumulation on all cores, partitioned by customer.
    let acc = SpawnedTask::spawn_blocking(move || {
        SummaryAccumulator::from_read_batches(Grain::Day, policy, &batches)
    })
    .join()
    .await
    .map_err(|e| DataFusionError::External(Box::new(e)))??;
    let summaries = acc.finish(query.options())?;
    drop(reservations);
    Ok(summaries)
}

/// What went wrong in one partition, before the partition is named.
enum PartitionError {
    Engine(DataFusionError),
    Input(ArrowInputError),
}

impl From<DataFusionError> for PartitionError {
    fn from(e: DataFusionError) -> Self {
        PartitionError::Engine(e)
    }
}

impl PartitionError {
    fn in_partition(self, partition: usize, query: &SummarySql) -> SummarizeError {
        let error = match self {
            PartitionError::Engine(e) => return SummarizeError::Engine(e),
            PartitionError::Input(e) => e,
        };
        match error {
            // The kind column was read as "is a return": NULL where it was neither value.
            ArrowInputError::Null { column, row } if column == IS_RETURN => {
                let (name, purchase, ret) = query.kind_column_name().unwrap_or_default();
                SummarizeError::UnknownKind {
                    partition,
                    row,
                    column: name.to_string(),
                    purchase: purchase.to_string(),
                    ret: ret.to_string(),
                }
            }
            source => SummarizeError::Input {
                partition,
                source: Box::new(source),
            },
        }
    }
}

/// Reads and checks one partition's batches as they come (each record batch freed once read),
/// the reservation grown to the memory the rows read take.
async fn read_partition(
    mut stream: SendableRecordBatchStream,
    columns: &TransactionColumns,
    reservation: &MemoryReservation,
) -> Result<Vec<TransactionBatch>, PartitionError> {
    let mut batches = Vec::new();
    let mut rows = 0_u64;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let read = TransactionBatch::read(&batch, columns, Grain::Day)
            .map_err(|e| PartitionError::Input(e.with_row_offset(rows)))?;
        rows = rows.saturating_add(read.len() as u64);
        let bytes = usize::try_from(rows)
            .unwrap_or(usize::MAX)
            .saturating_mul(BYTES_PER_ROW);
        reservation.try_resize(bytes)?;
        batches.push(read);
    }
    Ok(batches)
}

/// The DataFrame reduced to the columns the accumulator reads, in types it reads, and how to
/// read them.
fn project(
    df: DataFrame,
    query: &SummarySql,
) -> Result<(DataFrame, TransactionColumns), SummarizeError> {
    let schema = df.schema().clone();
    let type_of = |name: &str| -> Result<DataType, SummarizeError> {
        Ok(schema
            .field_with_unqualified_name(name)?
            .data_type()
            .clone())
    };
    let customer = ident(query.customer_column_name());
    let customer = match type_of(query.customer_column_name())? {
        DataType::UInt64
        | DataType::Int64
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View => customer,
        DataType::Dictionary(_, value)
            if matches!(
                *value,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            customer
        }
        // Smaller integers, and dictionaries of integers, as the integers they are.
        DataType::Dictionary(_, value) if value.is_unsigned_integer() => {
            cast(customer, DataType::UInt64)
        }
        t if t.is_unsigned_integer() => cast(customer, DataType::UInt64),
        _ => cast(customer, DataType::Int64),
    };
    let date = ident(query.date_column_name());
    let date = match type_of(query.date_column_name())? {
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, None) => date,
        // Its wall-clock time in its own zone, as `summarize` reads it.
        DataType::Timestamp(_, Some(_)) => to_local_time(vec![date]),
        // Text, as the engine parses it.
        _ => cast(date, DataType::Timestamp(TimeUnit::Microsecond, None)),
    };
    let amount = ident(query.amount_column_name());
    let amount = match type_of(query.amount_column_name())? {
        DataType::Decimal128(..) | DataType::Float64 | DataType::Int64 => amount,
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) => {
            cast(amount, DataType::Decimal128(p, s))
        }
        DataType::Decimal256(_, s) => cast(amount, DataType::Decimal128(38, s)),
        DataType::Float16 | DataType::Float32 => cast(amount, DataType::Float64),
        _ => cast(amount, DataType::Int64),
    };
    let (customer_name, date_name, amount_name) = (
        query.customer_column_name(),
        query.date_column_name(),
        query.amount_column_name(),
    );
    let mut select: Vec<Expr> = vec![
        customer.alias(customer_name),
        date.alias(date_name),
        amount.alias(amount_name),
    ];
    let mut columns = TransactionColumns::new()
        .customer(customer_name)
        .date(date_name)
        .amount(amount_name);
    if let Some((kind, purchase, ret)) = query.kind_column_name() {
        // Exactly the two values, as the SQL compares them; anything else NULL, reported as an
        // unknown kind.
        let is_return = when(ident(kind).eq(lit(purchase)), lit(false))
            .when(ident(kind).eq(lit(ret)), lit(true))
            .end()?;
        select.push(is_return.alias(IS_RETURN));
        columns = columns.kind(IS_RETURN);
    }
    Ok((df.select(select)?, columns))
}
