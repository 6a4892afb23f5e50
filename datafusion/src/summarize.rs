//! The per-customer summary of any DataFrame, computed by the engine: [`summarize`].

use std::sync::atomic::{AtomicU64, Ordering};

use customer_assets::arrow::ArrowInputError;
use customer_assets::sql::{Dialect, SqlError, SummarySql};
use customer_assets::SummaryError;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::DataFusionError;
use datafusion::functions::expr_fn::to_local_time;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{cast, when, Expr};
use datafusion::prelude::{ident, lit, DataFrame, SessionContext};
use datafusion::scalar::ScalarValue;

/// The scale float amounts are cast to: the core's own rule for `f64` amounts (the exact
/// binary value rounded to 10 decimal places).
pub const FLOAT_AMOUNT_SCALE: i8 = 10;

/// Why [`summarize`] could not summarise a DataFrame.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SummarizeError {
    /// The query could not be written (a name or value it cannot quote safely, dates out of
    /// range).
    #[error(transparent)]
    Sql(#[from] SqlError),
    /// A column the query reads is not in the DataFrame (or more than one column has its name).
    #[error("the {role} column {column:?} is not in the DataFrame (its columns: {available})")]
    MissingColumn {
        /// `customer`, `date`, `amount` or `kind`.
        role: &'static str,
        /// The name looked for.
        column: String,
        /// The DataFrame's column names, comma-separated.
        available: String,
    },
    /// A column has a type the summary cannot read.
    #[error("the {role} column {column:?} is {found}; expected {expected}")]
    WrongType {
        /// `customer`, `date`, `amount` or `kind`.
        role: &'static str,
        /// The column's name.
        column: String,
        /// Its type.
        found: DataType,
        /// The types accepted.
        expected: &'static str,
    },
    /// Rows break what a transaction must be: a NULL customer, date or amount, a negative
    /// amount, or (with a kind column) a kind that is neither the purchase nor the return value.
    /// Nothing is summarised: SQL aggregates would skip such rows or group them as one customer.
    #[error("{count} rows have {problem}; the first found: customer {customer}, date {date}, amount {amount}")]
    BadRows {
        /// What is wrong with them.
        problem: String,
        /// How many rows.
        count: u64,
        /// The first such row's customer, as text (`NULL` when missing).
        customer: String,
        /// Its date, as text.
        date: String,
        /// Its amount, as text.
        amount: String,
    },
    /// A row that is not a transaction, met by [`summaries`](crate::summaries) as it reads (it
    /// stops at the first): a NULL, an empty customer id, a negative amount, a date out of
    /// range. The row is counted within its partition of the engine's plan.
    #[error("partition {partition} of the plan: {source}")]
    Input {
        /// The partition (0-based) of the plan whose stream held the row.
        partition: usize,
        /// The column, the row and what is wrong.
        #[source]
        source: Box<ArrowInputError>,
    },
    /// A kind that is neither the purchase nor the return value (or NULL), met by
    /// [`summaries`](crate::summaries) as it reads.
    #[error("partition {partition} of the plan: column {column}, row {row}: a kind that is neither {purchase:?} nor {ret:?} (or is NULL)")]
    UnknownKind {
        /// The partition (0-based) of the plan whose stream held the row.
        partition: usize,
        /// The row, counted within the partition.
        row: u64,
        /// The kind column.
        column: String,
        /// The purchase value.
        purchase: String,
        /// The return value.
        ret: String,
    },
    /// The summaries could not be made from the accumulated transactions (see
    /// [`SummaryError`]).
    #[error(transparent)]
    Summary(#[from] SummaryError),
    /// The engine failed while planning or running the query.
    #[error("DataFusion: {0}")]
    Engine(#[from] DataFusionError),
}

const CUSTOMER_TYPES: &str = "an integer, text or a dictionary of these";
const DATE_TYPES: &str = "Date32, Date64, a Timestamp (any unit, any time zone) or text";
const AMOUNT_TYPES: &str = "a Decimal, an integer or a float";
const KIND_TYPES: &str = "text or a dictionary of text";

/// The per-customer summary of `transactions` as [`SummarySql`] defines it (its table name is
/// not used: the DataFrame is the table), computed by the DataFrame's own session, after checking
/// the columns and the rows.
///
/// - **Columns.** The customer column is an integer or text; the date a `Date32`, `Date64`,
///   `Timestamp` or text; the amount a `Decimal`, an integer or a float; the kind (when read)
///   text. A missing column or another type is [`SummarizeError::MissingColumn`] or
///   [`SummarizeError::WrongType`], naming the column.
/// - **Time zones.** A timestamp with a time zone lands on its calendar day *in that zone*
///   (`2024-03-01T23:30:00-05:00` is a purchase on 1 March, though it is 2 March in UTC); a
///   timestamp without one on its own wall-clock day. To take the days of another zone, convert
///   the column before (`AT TIME ZONE`).
/// - **Float amounts** are cast to `DECIMAL(38, 10)` before summing
///   ([`FLOAT_AMOUNT_SCALE`], the core's rule for `f64` amounts), so that sums do not depend on
///   the order the engine adds rows in: results are equal whatever the partitioning.
/// - **Rows.** One pass over the input counts NULL customers, dates and amounts, negative amounts
///   and unknown kinds first; any is [`SummarizeError::BadRows`], with the first such row. Use
///   [`summarize_unchecked`] for tables whose columns are known clean (the check costs a scan of
///   the columns read).
///
/// Transactions after the as-of date (or the holdout end) are left out, as the core leaves them.
/// The result is lazy: collect it, write it, or register it as a view.
///
/// # Errors
///
/// As listed above; [`SummarizeError::Sql`] for names the query cannot quote safely;
/// [`SummarizeError::Engine`] when DataFusion fails.
pub async fn summarize(
    transactions: DataFrame,
    query: &SummarySql,
) -> Result<DataFrame, SummarizeError> {
    let input = prepare(transactions, query)?;
    check_rows(&input, query).await?;
    run(input, query).await
}

/// [`summarize`] without the pass over the rows: the columns are still checked and converted,
/// but NULLs, negative amounts and unknown kinds are not looked for (SQL then skips them or
/// groups NULL customers as one). For tables whose constraints already guarantee clean rows.
///
/// # Errors
///
/// As [`summarize`], but never [`SummarizeError::BadRows`].
pub async fn summarize_unchecked(
    transactions: DataFrame,
    query: &SummarySql,
) -> Result<DataFrame, SummarizeError> {
    run(prepare(transactions, query)?, query).await
}

/// Checks that the columns the query reads are in the DataFrame, once each, of types it reads.
pub(crate) fn checked_columns(df: &DataFrame, query: &SummarySql) -> Result<(), SummarizeError> {
    prepare(df.clone(), query).map(|_| ())
}

/// The column named `name`, as the query will read it.
fn field_type(df: &DataFrame, role: &'static str, name: &str) -> Result<DataType, SummarizeError> {
    let matches: Vec<&DataType> = df
        .schema()
        .fields()
        .iter()
        .filter(|f| f.name() == name)
        .map(|f| f.data_type())
        .collect();
    match matches.as_slice() {
        [only] => Ok((*only).clone()),
        _ => Err(SummarizeError::MissingColumn {
            role,
            column: name.to_string(),
            available: df
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_integer(t: &DataType) -> bool {
    t.is_integer()
}

/// Checks the columns' types; casts float amounts to decimals and zoned timestamps to their
/// local wall-clock time.
fn prepare(df: DataFrame, query: &SummarySql) -> Result<DataFrame, SummarizeError> {
    let wrong = |role, column: &str, found: DataType, expected| SummarizeError::WrongType {
        role,
        column: column.to_string(),
        found,
        expected,
    };
    let customer = query.customer_column_name();
    let customer_type = field_type(&df, "customer", customer)?;
    let key_ok = |t: &DataType| is_text(t) || is_integer(t);
    let customer_ok = match &customer_type {
        DataType::Dictionary(_, value) => key_ok(value),
        t => key_ok(t),
    };
    if !customer_ok {
        return Err(wrong("customer", customer, customer_type, CUSTOMER_TYPES));
    }

    let mut df = df;
    let date = query.date_column_name();
    match field_type(&df, "date", date)? {
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, None) => {}
        t if is_text(&t) => {}
        DataType::Timestamp(_, Some(_)) => {
            df = df.with_column(date, to_local_time(vec![ident(date)]))?;
        }
        t => return Err(wrong("date", date, t, DATE_TYPES)),
    }

    let amount = query.amount_column_name();
    match field_type(&df, "amount", amount)? {
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => {}
        t if is_integer(&t) => {}
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let exact = DataType::Decimal128(38, FLOAT_AMOUNT_SCALE);
            df = df.with_column(amount, cast(ident(amount), exact))?;
        }
        t => return Err(wrong("amount", amount, t, AMOUNT_TYPES)),
    }

    if let Some((kind, _, _)) = query.kind_column_name() {
        let kind_type = field_type(&df, "kind", kind)?;
        let ok = match &kind_type {
            DataType::Dictionary(_, value) => is_text(value),
            t => is_text(t),
        };
        if !ok {
            return Err(wrong("kind", kind, kind_type, KIND_TYPES));
        }
    }
    Ok(df)
}

/// One pass counting the rows that are not transactions; the first of them named in the error.
async fn check_rows(df: &DataFrame, query: &SummarySql) -> Result<(), SummarizeError> {
    let customer = ident(query.customer_column_name());
    let date = ident(query.date_column_name());
    let amount = ident(query.amount_column_name());
    let mut problems: Vec<(String, Expr)> = vec![
        ("a NULL customer".into(), customer.clone().is_null()),
        ("a NULL date".into(), date.clone().is_null()),
        ("a NULL amount".into(), amount.clone().is_null()),
        (
            "a negative amount (a return carries the positive sum refunded)".into(),
            amount.clone().lt(lit(0)),
        ),
    ];
    if let Some((kind, purchase, ret)) = query.kind_column_name() {
        let k = ident(kind);
        problems.push((
            format!("a kind that is neither {purchase:?} nor {ret:?} (or is NULL)"),
            k.clone()
                .is_null()
                .or(k.in_list(vec![lit(purchase), lit(ret)], true)),
        ));
    }
    let mut counts = Vec::with_capacity(problems.len());
    for (i, (_, bad)) in problems.iter().enumerate() {
        counts.push(count(when(bad.clone(), lit(1_i32)).end()?).alias(format!("problem_{i}")));
    }
    let batches = df.clone().aggregate(vec![], counts)?.collect().await?;
    let Some(batch) = batches.first() else {
        return Ok(());
    };
    for (i, (problem, bad)) in problems.into_iter().enumerate() {
        let count = match ScalarValue::try_from_array(batch.column(i), 0)? {
            ScalarValue::Int64(Some(n)) => u64::try_from(n).unwrap_or(0),
            _ => 0,
        };
        if count == 0 {
            continue;
        }
        let first = df
            .clone()
            .filter(bad)?
            .select(vec![
                cast(customer.clone(), DataType::Utf8),
                cast(date.clone(), DataType::Utf8),
                cast(amount.clone(), DataType::Utf8),
            ])?
            .limit(0, Some(1))?
            .collect()
            .await?;
        let text = |column: usize| -> String {
            first
                .iter()
                .find(|b| b.num_rows() > 0)
                .and_then(|b| ScalarValue::try_from_array(b.column(column), 0).ok())
                .map(|v| match v {
                    ScalarValue::Utf8(Some(s)) => s,
                    _ => "NULL".to_string(),
                })
                .unwrap_or_else(|| "NULL".to_string())
        };
        return Err(SummarizeError::BadRows {
            problem,
            count,
            customer: text(0),
            date: text(1),
            amount: text(2),
        });
    }
    Ok(())
}

/// Distinguishes the views of concurrent calls in the session's catalog.
static NEXT_VIEW: AtomicU64 = AtomicU64::new(0);

/// Plans the summary query over the DataFrame, registered for the planning only.
async fn run(df: DataFrame, query: &SummarySql) -> Result<DataFrame, SummarizeError> {
    let view = format!(
        "__customer_assets_transactions_{}",
        NEXT_VIEW.fetch_add(1, Ordering::Relaxed)
    );
    let sql = query.clone().table(&view).to_sql(Dialect::DataFusion)?;
    let (state, plan) = df.into_parts();
    // The new context shares the session's catalogs, functions and runtime (memory limit,
    // spilling); the view is dropped from the catalog once the plan holds it.
    let ctx = SessionContext::new_with_state(state.clone());
    ctx.register_table(view.as_str(), DataFrame::new(state, plan).into_view())?;
    let planned = ctx.sql(&sql).await;
    ctx.deregister_table(view.as_str())?;
    Ok(planned?)
}
