//! Transactions from Arrow record batches into a [`SummaryAccumulator`]: the columns to read
//! ([`TransactionColumns`]), the time-zone rule for zoned timestamps ([`TimeZoneRule`]), and
//! [`SummaryAccumulator::push_batch`].
//!
//! (How each column type is read: see [`TransactionColumns`].)

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Date64Type, Decimal128Type, Float64Type, Int64Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt64Type,
};
use arrow_array::{
    Array, LargeStringArray, PrimitiveArray, RecordBatch, StringArray, StringViewArray,
};
use arrow_schema::{DataType, TimeUnit as ArrowTimeUnit};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Offset, Utc};
use rust_decimal::Decimal;

use super::input_error::ArrowInputError;
use crate::records::{decimal_from_f64, is_blank_id, is_negative_amount};
use crate::summary::IntBatch;
use crate::{CustomerId, Grain, ReturnPolicy, SummaryAccumulator, Transaction, TransactionKind};

const ID_TYPES: &str =
    "UInt64, Int64, Utf8, LargeUtf8, Utf8View, or a dictionary of Utf8, LargeUtf8 or Utf8View";
const DATE_TYPES: &str = "Date32, Date64, Timestamp (any unit)";
const AMOUNT_TYPES: &str = "Decimal128, Float64, Int64";
const KIND_TYPES: &str =
    "Boolean, Utf8, LargeUtf8, Utf8View, or a dictionary of Utf8, LargeUtf8 or Utf8View";

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01, Arrow's day 0.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// How to read timestamps whose Arrow type carries a time zone (UTC instants) as wall-clock
/// moments, whose calendar day is the purchase day. Naive timestamps are read as written and
/// need no rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeZoneRule {
    /// Days (and times) in UTC.
    Utc,
    /// Days (and times) at a fixed offset from UTC (for instance the shop's standard time).
    Offset(FixedOffset),
}

impl TimeZoneRule {
    fn offset(self) -> FixedOffset {
        match self {
            TimeZoneRule::Utc => Utc.fix(),
            TimeZoneRule::Offset(offset) => offset,
        }
    }
}

/// Which columns of a record batch hold the customer, the date, the amount and (optionally) the
/// kind of each transaction, and how to read zoned timestamps.
///
/// The defaults name `customer_id`, `date` and `amount`, with no kind column (every row a
/// purchase) and no time-zone rule.
///
/// Accepted column types:
///
/// | column | types |
/// |---|---|
/// | customer | `UInt64`, `Int64`, `Utf8`, `LargeUtf8`, `Utf8View`, or a dictionary of the text types |
/// | date | `Date32`, `Date64`, `Timestamp` of any unit, with or without a zone |
/// | amount | `Decimal128` of any precision and scale, `Float64`, `Int64` |
/// | kind (optional) | `Boolean` (true: a return), or text as for the customer (`purchase`, `return`) |
///
/// Values read as the crate's records read them: an integer id is [`CustomerId::from`] it; a
/// negative `Int64` id is the text id of its decimal digits (`-5` is `CustomerId::new("-5")`, as
/// a CSV reader would make it); text ids go through [`CustomerId::new`] (trimmed, and canonical
/// integers such as `"42"` are integer ids, so a customer is the same whichever column type names
/// it). A `Date32` is a day at midnight; a `Date64` the moment its milliseconds encode. A naive
/// timestamp (no zone in its type) is a wall-clock time read as written; a zoned one is a UTC
/// instant, read as wall-clock time in the [`TimeZoneRule`]'s zone (and an error without a
/// rule). A `Decimal128` keeps its scale (so `12.50` stays `12.50`), rescaled exactly only when
/// beyond a [`Decimal`]'s 28 digits after the point or 96 bits, by dropping trailing zeros: any
/// other rounding is an error. A `Float64` becomes its exact binary value rounded to 10 decimal
/// places (as [`Transaction::amount_from_f64`]); NaN and infinities are errors. Kinds are
/// `purchase` or `return`, any ASCII case, surrounding white space ignored.
///
/// Nulls in a column read are errors, as are negative amounts: a return carries the positive
/// sum refunded, as [`Transaction::new`] requires (zero amounts are allowed). The whole batch is
/// checked before anything is pushed, so on an error the accumulator is unchanged; errors name
/// the column and the row within the batch ([`ArrowInputError::with_row_offset`] turns it into
/// a row of the whole stream).
///
/// [`CustomerId::from`]: crate::CustomerId
/// [`CustomerId::new`]: crate::CustomerId::new
/// [`Transaction::amount_from_f64`]: crate::Transaction::amount_from_f64
/// [`Transaction::new`]: crate::Transaction::new
///
///
/// ```
/// use chrono::FixedOffset;
/// use customer_assets::arrow::{TimeZoneRule, TransactionColumns};
/// let columns = TransactionColumns::new()
///     .customer("client")
///     .date("ordered_at")
///     .kind("kind")
///     .time_zone(TimeZoneRule::Offset(FixedOffset::east_opt(3600).ok_or("offset")?));
/// assert_eq!(columns.customer_column(), "client");
/// assert_eq!(columns.amount_column(), "amount");
/// assert_eq!(columns.kind_column(), Some("kind"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionColumns {
    customer: String,
    date: String,
    amount: String,
    kind: Option<String>,
    time_zone: Option<TimeZoneRule>,
}

impl Default for TransactionColumns {
    fn default() -> Self {
        TransactionColumns {
            customer: "customer_id".to_string(),
            date: "date".to_string(),
            amount: "amount".to_string(),
            kind: None,
            time_zone: None,
        }
    }
}

impl TransactionColumns {
    /// The default columns: `customer_id`, `date`, `amount`; no kind column, no time-zone rule.
    pub fn new() -> Self {
        Self::default()
    }
    /// Names the customer column.
    #[must_use]
    pub fn customer(mut self, name: &str) -> Self {
        self.customer = name.to_string();
        self
    }
    /// Names the date column.
    #[must_use]
    pub fn date(mut self, name: &str) -> Self {
        self.date = name.to_string();
        self
    }
    /// Names the amount column.
    #[must_use]
    pub fn amount(mut self, name: &str) -> Self {
        self.amount = name.to_string();
        self
    }
    /// Names the kind column (purchase or return); without one, every row is a purchase.
    #[must_use]
    pub fn kind(mut self, name: &str) -> Self {
        self.kind = Some(name.to_string());
        self
    }
    /// Sets the rule that reads zoned timestamps as wall-clock moments.
    #[must_use]
    pub fn time_zone(mut self, rule: TimeZoneRule) -> Self {
        self.time_zone = Some(rule);
        self
    }
    /// The customer column's name.
    pub fn customer_column(&self) -> &str {
        &self.customer
    }
    /// The date column's name.
    pub fn date_column(&self) -> &str {
        &self.date
    }
    /// The amount column's name.
    pub fn amount_column(&self) -> &str {
        &self.amount
    }
    /// The kind column's name, if any.
    pub fn kind_column(&self) -> Option<&str> {
        self.kind.as_deref()
    }
    /// The time-zone rule, if set.
    pub fn time_zone_rule(&self) -> Option<TimeZoneRule> {
        self.time_zone
    }

    /// The arrays of these columns in `batch`.
    ///
    /// # Errors
    ///
    /// [`ArrowInputError::MissingColumn`] for a column the batch lacks.
    pub fn arrays<'b>(
        &self,
        batch: &'b RecordBatch,
    ) -> Result<TransactionArrays<'b>, ArrowInputError> {
        let find = |name: &str| {
            batch
                .column_by_name(name)
                .map(|a| a.as_ref())
                .ok_or_else(|| ArrowInputError::MissingColumn {
                    column: name.to_string(),
                })
        };
        Ok(TransactionArrays {
            customer: find(&self.customer)?,
            date: find(&self.date)?,
            amount: find(&self.amount)?,
            kind: self.kind.as_deref().map(find).transpose()?,
        })
    }
}

impl TransactionColumns {
    /// The transactions of `batch`, in row order, each at its wall-clock moment (a date at
    /// midnight; a zoned timestamp in the zone the [`TimeZoneRule`] gives), for a
    /// [`Ledger`](crate::Ledger), a loyalty programme or anything else that takes
    /// [`Transaction`]s. The columns are read and checked as
    /// [`SummaryAccumulator::push_batch`] reads them.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Date32Array, Float64Array, RecordBatch, StringArray};
    /// use customer_assets::arrow::TransactionColumns;
    /// use customer_assets::TransactionKind;
    /// use rust_decimal::Decimal;
    ///
    /// // Days since 1970-01-01: 2024-01-03, 2024-02-10.
    /// let batch = RecordBatch::try_from_iter([
    ///     ("customer_id", Arc::new(StringArray::from(vec!["acme-1", "acme-1"])) as ArrayRef),
    ///     ("date", Arc::new(Date32Array::from(vec![19_725, 19_763])) as ArrayRef),
    ///     ("amount", Arc::new(Float64Array::from(vec![12.5, 4.0])) as ArrayRef),
    ///     ("kind", Arc::new(StringArray::from(vec!["purchase", "return"])) as ArrayRef),
    /// ])?;
    /// let transactions = TransactionColumns::new().kind("kind").transactions(&batch)?;
    /// assert_eq!(transactions.len(), 2);
    /// assert_eq!(transactions[0].amount(), Decimal::new(125, 1));
    /// assert_eq!(transactions[1].kind(), TransactionKind::Return);
    /// assert_eq!(transactions[1].at().to_string(), "2024-02-10 00:00:00");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`SummaryAccumulator::push_batch`]: the first column or row at fault.
    pub fn transactions(&self, batch: &RecordBatch) -> Result<Vec<Transaction>, ArrowInputError> {
        let Read { ids, values } = read(&self.arrays(batch)?, self, Grain::Timestamp)?;
        let mut transactions = Vec::with_capacity(values.rows());
        let mut failure = None;
        let mut rows = values.keys.iter().zip(&values.amounts).zip(&values.kinds);
        for_each_id(ids, values.rows(), |id| {
            let Some(((&key, &amount), &kind)) = rows.next() else {
                return;
            };
            let row = transactions.len() as u64;
            // Keys at this grain are microseconds of a date the reader checked: both steps
            // succeed, but a failure is an error, never a panic.
            let at = DateTime::from_timestamp_micros(key).map(|at| at.naive_utc());
            let made = at
                .ok_or(ArrowInputError::DateOutOfRange {
                    column: self.date.clone(),
                    row,
                    value: key,
                })
                .and_then(|at| {
                    Transaction::new(id.clone(), at, amount, kind).map_err(|_| {
                        ArrowInputError::NegativeAmount {
                            column: self.amount.clone(),
                            row,
                            amount,
                        }
                    })
                });
            match made {
                Ok(t) if failure.is_none() => transactions.push(t),
                Ok(_) => {}
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        });
        match failure {
            Some(e) => Err(e),
            None => Ok(transactions),
        }
    }
}

/// The arrays of a batch of transactions, of equal lengths (row `i` of each is transaction `i`);
/// [`TransactionColumns`] names them in errors.
#[derive(Debug, Clone, Copy)]
pub struct TransactionArrays<'a> {
    /// The customer ids.
    pub customer: &'a dyn Array,
    /// The dates or timestamps.
    pub date: &'a dyn Array,
    /// The amounts.
    pub amount: &'a dyn Array,
    /// The kinds, if any (else every row is a purchase).
    pub kind: Option<&'a dyn Array>,
}

impl SummaryAccumulator {
    /// Adds the transactions of a record batch, reading the columns `columns` names (see the
    /// [`TransactionColumns`] for the types accepted and how values are read): the same
    /// as pushing each row as a [`Transaction`](crate::Transaction), however the rows are split
    /// into batches. Returns the number of rows added.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Date32Array, Decimal128Array, RecordBatch, StringArray};
    /// use chrono::NaiveDate;
    /// use customer_assets::arrow::TransactionColumns;
    /// use customer_assets::{CustomerId, Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit};
    /// use rust_decimal::Decimal;
    ///
    /// // Days since 1970-01-01: 2024-01-03, 2024-02-10, 2024-01-20.
    /// let batch = RecordBatch::try_from_iter([
    ///     ("customer_id", Arc::new(StringArray::from(vec!["acme-1", "acme-1", "7"])) as ArrayRef),
    ///     ("date", Arc::new(Date32Array::from(vec![19_725, 19_763, 19_742])) as ArrayRef),
    ///     ("amount", Arc::new(Decimal128Array::from(vec![1250, 990, 4000]).with_precision_and_scale(12, 2)?) as ArrayRef),
    /// ])?;
    /// let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
    /// assert_eq!(acc.push_batch(&batch, &TransactionColumns::new())?, 3);
    /// let as_of = NaiveDate::from_ymd_opt(2024, 3, 31).ok_or("bad date")?;
    /// let summaries = acc.finish(&SummaryOptions::new(as_of, TimeUnit::WEEKS))?;
    /// let acme = summaries.get(&CustomerId::new("acme-1")?).ok_or("missing")?;
    /// assert_eq!((acme.frequency(), acme.monetary_value()), (1, Decimal::new(990, 2)));
    /// assert!(summaries.get(&CustomerId::from(7u64)).is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ArrowInputError`] naming the column (and row) at fault: a missing column, a type not
    /// accepted, a zoned timestamp with no [`TimeZoneRule`], a null, an empty customer id, a
    /// date out of range, an amount that does not fit a decimal exactly or is negative, an
    /// unknown kind. The accumulator is then unchanged.
    pub fn push_batch(
        &mut self,
        batch: &RecordBatch,
        columns: &TransactionColumns,
    ) -> Result<usize, ArrowInputError> {
        self.push_arrays(&columns.arrays(batch)?, columns)
    }

    /// Adds the transactions of `arrays` (of equal lengths), named in errors and read as
    /// `columns` says, as [`push_batch`](Self::push_batch) does. Returns the number of rows
    /// added.
    ///
    /// # Errors
    ///
    /// As [`push_batch`](Self::push_batch), and [`ArrowInputError::LengthMismatch`] for arrays
    /// of different lengths. The accumulator is then unchanged.
    pub fn push_arrays(
        &mut self,
        arrays: &TransactionArrays<'_>,
        columns: &TransactionColumns,
    ) -> Result<usize, ArrowInputError> {
        let Read { ids, values } = read(arrays, columns, self.grain())?;
        self.push_values(ids, &values);
        Ok(values.rows())
    }

    /// Pushes rows read and checked: row `k` of `ids` with row `k` of `values`.
    fn push_values(&mut self, ids: IdColumn<'_>, values: &Values) {
        self.reserve(values.rows());
        let mut records = values.keys.iter().zip(&values.amounts).zip(&values.kinds);
        for_each_id(ids, values.rows(), |id| {
            if let Some(((&key, &amount), &kind)) = records.next() {
                self.push_record(id, key, amount, kind);
            }
        });
    }
}

/// Calls `each` with the customer id of every row of `ids` (checked beforehand), in row order.
fn for_each_id(ids: IdColumn<'_>, rows: usize, mut each: impl FnMut(&CustomerId)) {
    match ids {
        IdColumn::UInt64(a) => {
            for &n in a.values() {
                each(&CustomerId::from(n));
            }
        }
        IdColumn::Int64(a) => {
            // A negative id is text: made once for a run of rows of that id.
            let mut previous: Option<(i64, CustomerId)> = None;
            for &n in a.values() {
                if let Ok(n) = u64::try_from(n) {
                    each(&CustomerId::from(n));
                    continue;
                }
                if previous.as_ref().is_none_or(|(p, _)| *p != n) {
                    previous = CustomerId::new(&n.to_string()).ok().map(|id| (n, id));
                }
                if let Some((_, id)) = &previous {
                    each(id);
                }
            }
        }
        IdColumn::Text(text) => {
            // An id is made once for a run of rows of that id, and once per dictionary value.
            let mut cache = IdCache::new(&text);
            for row in 0..rows {
                if let Some(id) = cache.id(&text, row) {
                    each(id);
                }
            }
        }
    }
}

impl SummaryAccumulator {
    /// An accumulator of the transactions of `batches`, in order, at `grain`: the same
    /// summaries and arrival order as [`push_batch`](Self::push_batch) of each batch in turn,
    /// reading columns as `columns` says. With the `parallel` feature the batches are read on
    /// all cores, and a log of integer ids whose customers interleave (in date order, say) over
    /// a range of ids not much wider than the log is partitioned by customer as it is read (as
    /// `from_slice_parallel` does for transactions), with no index of customers built per core
    /// and no merge. Each batch is dropped once read.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Date32Array, Float64Array, RecordBatch, UInt64Array};
    /// use chrono::NaiveDate;
    /// use customer_assets::arrow::TransactionColumns;
    /// use customer_assets::{CustomerId, Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit};
    ///
    /// let batch = |ids: Vec<u64>, days: Vec<i32>| {
    ///     let amounts = vec![10.5; ids.len()];
    ///     RecordBatch::try_from_iter([
    ///         ("customer_id", Arc::new(UInt64Array::from(ids)) as ArrayRef),
    ///         ("date", Arc::new(Date32Array::from(days)) as ArrayRef),
    ///         ("amount", Arc::new(Float64Array::from(amounts)) as ArrayRef),
    ///     ])
    /// };
    /// // Days since 1970-01-01 in January 2024.
    /// let batches = vec![batch(vec![1, 2], vec![19_723, 19_724])?, batch(vec![1], vec![19_740])?];
    /// let acc = SummaryAccumulator::from_batches(
    ///     Grain::Day, ReturnPolicy::NetAgainstPurchase, batches, &TransactionColumns::new())?;
    /// let as_of = NaiveDate::from_ymd_opt(2024, 1, 31).ok_or("bad date")?;
    /// let summaries = acc.finish(&SummaryOptions::new(as_of, TimeUnit::DAYS))?;
    /// assert_eq!(summaries.get(&CustomerId::from(1u64)).ok_or("missing")?.frequency(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`push_batch`](Self::push_batch), for the first batch (in order) with a fault; its
    /// rows are numbered from the first row of the first batch
    /// ([`ArrowInputError::with_row_offset`]). Nothing is accumulated then.
    pub fn from_batches(
        grain: Grain,
        returns: ReturnPolicy,
        batches: Vec<RecordBatch>,
        columns: &TransactionColumns,
    ) -> Result<Self, ArrowInputError> {
        let read_one = |batch: RecordBatch| TransactionBatch::read_owned(batch, columns, grain);
        #[cfg(feature = "parallel")]
        let read: Vec<(usize, Result<TransactionBatch, ArrowInputError>)> = {
            use rayon::prelude::*;
            batches.into_par_iter().map(read_one).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let read: Vec<(usize, Result<TransactionBatch, ArrowInputError>)> =
            batches.into_iter().map(read_one).collect();
        let mut offset = 0_u64;
        let mut batches = Vec::with_capacity(read.len());
        for (rows, batch) in read {
            batches.push(batch.map_err(|e| e.with_row_offset(offset))?);
            offset = offset.saturating_add(rows as u64);
        }
        Ok(Self::accumulate_read(grain, returns, &batches))
    }

    /// An accumulator of the transactions of batches already read (and checked), in order: as
    /// [`from_batches`](Self::from_batches), for batches read where they were decoded (on an
    /// engine's threads, say), each record batch freed once read.
    ///
    /// # Errors
    ///
    /// [`SummaryError::BatchGrain`](crate::SummaryError::BatchGrain) for a batch read at another
    /// grain than `grain`; nothing is accumulated then.
    pub fn from_read_batches(
        grain: Grain,
        returns: ReturnPolicy,
        batches: &[TransactionBatch],
    ) -> Result<Self, crate::SummaryError> {
        if let Some((batch, b)) = batches.iter().enumerate().find(|(_, b)| b.grain != grain) {
            return Err(crate::SummaryError::BatchGrain {
                batch,
                read: b.grain,
                expected: grain,
            });
        }
        Ok(Self::accumulate_read(grain, returns, batches))
    }

    /// [`from_read_batches`](Self::from_read_batches) of batches all read at `grain`.
    fn accumulate_read(grain: Grain, returns: ReturnPolicy, batches: &[TransactionBatch]) -> Self {
        let ints: Option<Vec<&IntBatch>> = batches
            .iter()
            .map(|b| match &b.read {
                Batch::Ints(ints) => Some(ints),
                Batch::Kept(..) => None,
            })
            .collect();
        if let Some(ints) = ints {
            return SummaryAccumulator::from_int_batches(grain, returns, &ints);
        }
        let mut acc = SummaryAccumulator::new(grain, returns);
        for batch in batches {
            match &batch.read {
                Batch::Ints(ints) => acc.push_int_batch(ints),
                Batch::Kept(record, columns, values) => {
                    // The ids were found and checked when read: finding them again cannot fail.
                    let ids = columns
                        .arrays(record)
                        .and_then(|arrays| IdColumn::of(arrays.customer, &columns.customer));
                    if let Ok(ids) = ids {
                        acc.push_values(ids, values);
                    }
                }
            }
        }
        acc
    }
}

/// A record batch of transactions read and checked ([`TransactionBatch::read`]), for
/// [`SummaryAccumulator::from_read_batches`]: a batch of integer ids as the accumulator's
/// entries (24 bytes a row), any other the batch itself.
#[derive(Debug, Clone)]
pub struct TransactionBatch {
    grain: Grain,
    rows: usize,
    read: Batch,
}

#[derive(Debug, Clone)]
enum Batch {
    /// Integer ids: read into entries.
    Ints(IntBatch),
    /// Other ids: the batch itself (for its ids), and its other columns read and checked.
    Kept(RecordBatch, TransactionColumns, Values),
}

impl TransactionBatch {
    /// Reads and checks the transactions of `batch` (its columns named and read as `columns`
    /// says), keyed at `grain`.
    ///
    /// # Errors
    ///
    /// As [`SummaryAccumulator::push_batch`].
    pub fn read(
        batch: &RecordBatch,
        columns: &TransactionColumns,
        grain: Grain,
    ) -> Result<Self, ArrowInputError> {
        Self::read_owned(batch.clone(), columns, grain).1
    }

    /// [`read`](Self::read) of a batch owned (kept, not copied, when its ids are not integers),
    /// with its number of rows.
    fn read_owned(
        batch: RecordBatch,
        columns: &TransactionColumns,
        grain: Grain,
    ) -> (usize, Result<Self, ArrowInputError>) {
        let rows = batch.num_rows();
        let read = columns
            .arrays(&batch)
            .and_then(|arrays| read(&arrays, columns, grain))
            .map(|Read { ids, values }| {
                let ints = int_ids(&ids).and_then(|ints| {
                    IntBatch::new(ints, &values.keys, &values.amounts, &values.kinds)
                });
                match ints {
                    Some(ints) => Batch::Ints(ints),
                    None => Batch::Kept(batch.clone(), columns.clone(), values),
                }
            });
        (
            rows,
            read.map(|read| TransactionBatch { grain, rows, read }),
        )
    }

    /// The number of transactions.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
}

/// A batch's columns, read and checked: the ids as found, the other columns as values.
struct Read<'a> {
    ids: IdColumn<'a>,
    values: Values,
}

/// The keys, amounts and kinds of a batch's rows, read and checked.
#[derive(Debug, Clone)]
struct Values {
    keys: Vec<i64>,
    amounts: Vec<Decimal>,
    kinds: Vec<TransactionKind>,
}

impl Values {
    fn rows(&self) -> usize {
        self.keys.len()
    }
}

/// The integer ids of a column, if every id is an integer (a non-negative one, for a signed
/// column).
fn int_ids(ids: &IdColumn<'_>) -> Option<Vec<u64>> {
    match ids {
        IdColumn::UInt64(a) => Some(a.values().to_vec()),
        IdColumn::Int64(a) => a.values().iter().map(|&n| u64::try_from(n).ok()).collect(),
        IdColumn::Text(_) => None,
    }
}

/// Reads and checks every column of `arrays` (named and read as `columns` says; keys at
/// `grain`): nothing is pushed before all of a batch is checked.
fn read<'a>(
    arrays: &TransactionArrays<'a>,
    columns: &TransactionColumns,
    grain: Grain,
) -> Result<Read<'a>, ArrowInputError> {
    let rows = arrays.customer.len();
    let kind_column = columns.kind.as_deref().unwrap_or("kind");
    let lengths = [
        (columns.date.as_str(), Some(arrays.date)),
        (columns.amount.as_str(), Some(arrays.amount)),
        (kind_column, arrays.kind),
    ];
    for (column, array) in lengths {
        match array.map(|a| a.len()) {
            Some(len) if len != rows => {
                return Err(ArrowInputError::LengthMismatch {
                    column: column.to_string(),
                    len,
                    expected: rows,
                })
            }
            _ => {}
        }
    }
    let ids = IdColumn::of(arrays.customer, &columns.customer)?;
    let keys = keys(arrays.date, &columns.date, columns.time_zone, grain)?;
    let amounts = amounts(arrays.amount, &columns.amount)?;
    let kinds = match arrays.kind {
        Some(kind) => kinds(kind, kind_column)?,
        None => vec![TransactionKind::Purchase; rows],
    };
    ids.check(&columns.customer)?;
    Ok(Read {
        ids,
        values: Values {
            keys,
            amounts,
            kinds,
        },
    })
}

/// Text values: plain strings of the three layouts.
#[derive(Clone, Copy)]
enum Strings<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
}

impl<'a> Strings<'a> {
    fn of(array: &'a dyn Array) -> Option<Self> {
        match array.data_type() {
            DataType::Utf8 => array.as_string_opt::<i32>().map(Strings::Utf8),
            DataType::LargeUtf8 => array.as_string_opt::<i64>().map(Strings::Large),
            DataType::Utf8View => array.as_string_view_opt().map(Strings::View),
            _ => None,
        }
    }

    fn len(&self) -> usize {
        match self {
            Strings::Utf8(a) => a.len(),
            Strings::Large(a) => a.len(),
            Strings::View(a) => a.len(),
        }
    }

    /// The text at `i`; `None` if null or out of bounds.
    fn get(&self, i: usize) -> Option<&'a str> {
        if i >= self.len() {
            return None;
        }
        match *self {
            Strings::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Strings::View(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// A text column: plain, or a dictionary of plain text (its keys, as indices into the values,
/// read once a batch).
enum TextColumn<'a> {
    Plain(Strings<'a>),
    Dictionary {
        array: &'a dyn Array,
        keys: Vec<usize>,
        values: Strings<'a>,
    },
}

impl<'a> TextColumn<'a> {
    fn of(array: &'a dyn Array) -> Option<Self> {
        if let Some(strings) = Strings::of(array) {
            return Some(TextColumn::Plain(strings));
        }
        let dictionary = array.as_any_dictionary_opt()?;
        let values = Strings::of(dictionary.values().as_ref())?;
        // `normalized_keys` panics on empty values, where every key is null anyway: index 0,
        // out of bounds, reads as null.
        let keys = if values.len() == 0 {
            vec![0; array.len()]
        } else {
            dictionary.normalized_keys()
        };
        Some(TextColumn::Dictionary {
            array,
            keys,
            values,
        })
    }

    /// The dictionary value index of row `row` (the row itself for plain text); `None` if null.
    fn index(&self, row: usize) -> Option<usize> {
        match self {
            TextColumn::Plain(_) => Some(row),
            TextColumn::Dictionary { array, keys, .. } => {
                if array.is_null(row) {
                    None
                } else {
                    keys.get(row).copied()
                }
            }
        }
    }

    /// The text at dictionary value index `index` (row, for plain text); `None` if null.
    fn value(&self, index: usize) -> Option<&'a str> {
        match self {
            TextColumn::Plain(strings)
            | TextColumn::Dictionary {
                values: strings, ..
            } => strings.get(index),
        }
    }

    /// The text of row `row`; `None` if null.
    fn get(&self, row: usize) -> Option<&'a str> {
        self.index(row).and_then(|i| self.value(i))
    }

    fn len(&self) -> usize {
        match self {
            TextColumn::Plain(strings) => strings.len(),
            TextColumn::Dictionary { keys, .. } => keys.len(),
        }
    }
}

/// The customer column, downcast once.
enum IdColumn<'a> {
    UInt64(&'a PrimitiveArray<UInt64Type>),
    Int64(&'a PrimitiveArray<Int64Type>),
    Text(TextColumn<'a>),
}

impl<'a> IdColumn<'a> {
    fn of(array: &'a dyn Array, column: &str) -> Result<Self, ArrowInputError> {
        let id = match array.data_type() {
            DataType::UInt64 => array.as_primitive_opt().map(IdColumn::UInt64),
            DataType::Int64 => array.as_primitive_opt().map(IdColumn::Int64),
            _ => TextColumn::of(array).map(IdColumn::Text),
        };
        id.ok_or_else(|| unsupported(array, column, ID_TYPES))
    }

    /// Checks that every row has an id.
    fn check(&self, column: &str) -> Result<(), ArrowInputError> {
        match self {
            IdColumn::UInt64(a) => check_nulls(*a, column),
            IdColumn::Int64(a) => check_nulls(*a, column),
            IdColumn::Text(text) => (0..text.len()).try_for_each(|row| match text.get(row) {
                None => Err(null(column, row)),
                Some(t) if is_blank_id(t) => Err(ArrowInputError::EmptyCustomerId {
                    column: column.to_string(),
                    row: row as u64,
                }),
                Some(_) => Ok(()),
            }),
        }
    }
}

/// The ids of a text column made so far: one per dictionary value (when the dictionary is not
/// much larger than the batch), else that of the previous row.
struct IdCache<'a> {
    by_value: Vec<Option<CustomerId>>,
    previous: Option<(&'a str, CustomerId)>,
}

impl<'a> IdCache<'a> {
    fn new(text: &TextColumn<'a>) -> Self {
        let by_value = match text {
            TextColumn::Dictionary { keys, values, .. } if values.len() <= keys.len() + 1024 => {
                vec![None; values.len()]
            }
            _ => Vec::new(),
        };
        IdCache {
            by_value,
            previous: None,
        }
    }

    /// The id of row `row` (checked beforehand: never null nor blank).
    fn id(&mut self, text: &TextColumn<'a>, row: usize) -> Option<&CustomerId> {
        let index = text.index(row)?;
        if let Some(slot) = self.by_value.get_mut(index) {
            if slot.is_none() {
                *slot = CustomerId::new(text.value(index)?).ok();
            }
            return slot.as_ref();
        }
        let value = text.value(index)?;
        if self.previous.as_ref().is_none_or(|(p, _)| *p != value) {
            self.previous = CustomerId::new(value).ok().map(|id| (value, id));
        }
        self.previous.as_ref().map(|(_, id)| id)
    }
}

fn unsupported(array: &dyn Array, column: &str, accepted: &'static str) -> ArrowInputError {
    ArrowInputError::UnsupportedType {
        column: column.to_string(),
        found: array.data_type().clone(),
        accepted,
    }
}

fn null(column: &str, row: usize) -> ArrowInputError {
    ArrowInputError::Null {
        column: column.to_string(),
        row: row as u64,
    }
}

fn check_nulls(array: &dyn Array, column: &str) -> Result<(), ArrowInputError> {
    if array.null_count() == 0 {
        return Ok(());
    }
    match (0..array.len()).find(|&row| array.is_null(row)) {
        Some(row) => Err(null(column, row)),
        None => Ok(()),
    }
}

/// Converts every value of a primitive column with `convert`; a null or a value `convert`
/// refuses (`Err` of what to report) is an error naming the row.
fn convert_all<T: ArrowPrimitiveType, O>(
    array: &PrimitiveArray<T>,
    column: &str,
    mut convert: impl FnMut(T::Native) -> Result<O, ValueError>,
) -> Result<Vec<O>, ArrowInputError> {
    check_nulls(array, column)?;
    let mut out = Vec::with_capacity(array.len());
    for (row, &v) in array.values().iter().enumerate() {
        match convert(v) {
            Ok(o) => out.push(o),
            Err(e) => return Err(e.at(column, row)),
        }
    }
    Ok(out)
}

/// What is wrong with one value, before the column and row are known.
enum ValueError {
    DateOutOfRange(i64),
    AmountDoesNotFit(String),
    NegativeAmount(Decimal),
}

impl ValueError {
    fn at(self, column: &str, row: usize) -> ArrowInputError {
        let (column, row) = (column.to_string(), row as u64);
        match self {
            ValueError::DateOutOfRange(value) => {
                ArrowInputError::DateOutOfRange { column, row, value }
            }
            ValueError::AmountDoesNotFit(value) => {
                ArrowInputError::AmountDoesNotFit { column, row, value }
            }
            ValueError::NegativeAmount(amount) => ArrowInputError::NegativeAmount {
                column,
                row,
                amount,
            },
        }
    }
}

/// The accumulator's keys of a date or timestamp column's values (their wall-clock day numbers
/// or microseconds, by `grain`).
fn keys(
    array: &dyn Array,
    column: &str,
    rule: Option<TimeZoneRule>,
    grain: Grain,
) -> Result<Vec<i64>, ArrowInputError> {
    let wrong = || unsupported(array, column, DATE_TYPES);
    match array.data_type() {
        DataType::Date32 => {
            let a = array.as_primitive_opt::<Date32Type>().ok_or_else(wrong)?;
            convert_all(a, column, |days| {
                if days.unsigned_abs() < SAFE_DAYS {
                    let days = i64::from(days);
                    return Ok(match grain {
                        Grain::Day => days + i64::from(UNIX_EPOCH_DAYS_FROM_CE),
                        Grain::Timestamp => days * MICROS_PER_DAY,
                    });
                }
                days.checked_add(UNIX_EPOCH_DAYS_FROM_CE)
                    .and_then(NaiveDate::from_num_days_from_ce_opt)
                    .map(|d| grain.key(d.and_time(NaiveTime::MIN)))
                    .ok_or(ValueError::DateOutOfRange(i64::from(days)))
            })
        }
        DataType::Date64 => {
            let a = array.as_primitive_opt::<Date64Type>().ok_or_else(wrong)?;
            convert_all(a, column, |ms| instant_key(ms, 1_000, 0, grain))
        }
        DataType::Timestamp(unit, zone) => {
            let offset = match zone {
                None => 0,
                Some(zone) => rule
                    .ok_or_else(|| ArrowInputError::ZonedWithoutRule {
                        column: column.to_string(),
                        zone: zone.to_string(),
                    })?
                    .offset()
                    .local_minus_utc(),
            };
            let read = |v| instant_key(v, per_second(*unit), offset, grain);
            match unit {
                ArrowTimeUnit::Second => timestamps::<TimestampSecondType>(array, column, read),
                ArrowTimeUnit::Millisecond => {
                    timestamps::<TimestampMillisecondType>(array, column, read)
                }
                ArrowTimeUnit::Microsecond => {
                    timestamps::<TimestampMicrosecondType>(array, column, read)
                }
                ArrowTimeUnit::Nanosecond => {
                    timestamps::<TimestampNanosecondType>(array, column, read)
                }
            }
        }
        _ => Err(wrong()),
    }
}

/// Day numbers (from 1970) below this in magnitude, and seconds below [`SAFE_SECONDS`], are
/// far inside chrono's range (±262,000 years), and are converted in integer arithmetic without
/// its checks; anything else goes through chrono, which reports what is out of range.
const SAFE_DAYS: u32 = 1 << 25;
const SAFE_SECONDS: u64 = 1 << 40;
const MICROS_PER_DAY: i64 = 86_400_000_000;

fn timestamps<T: ArrowPrimitiveType<Native = i64>>(
    array: &dyn Array,
    column: &str,
    read: impl FnMut(i64) -> Result<i64, ValueError>,
) -> Result<Vec<i64>, ArrowInputError> {
    let a = array
        .as_primitive_opt::<T>()
        .ok_or_else(|| unsupported(array, column, DATE_TYPES))?;
    convert_all(a, column, read)
}

fn per_second(unit: ArrowTimeUnit) -> i64 {
    match unit {
        ArrowTimeUnit::Second => 1,
        ArrowTimeUnit::Millisecond => 1_000,
        ArrowTimeUnit::Microsecond => 1_000_000,
        ArrowTimeUnit::Nanosecond => 1_000_000_000,
    }
}

/// The key of the moment `value` units (`per_second` to a second) after
/// 1970-01-01T00:00:00 UTC, read as wall-clock time `offset` seconds east of UTC (0 for a naive
/// timestamp, read as written).
fn instant_key(value: i64, per_second: i64, offset: i32, grain: Grain) -> Result<i64, ValueError> {
    let seconds = value.div_euclid(per_second);
    let sub = value.rem_euclid(per_second);
    if seconds.unsigned_abs() < SAFE_SECONDS {
        let wall = seconds + i64::from(offset);
        return Ok(match grain {
            Grain::Day => wall.div_euclid(86_400) + i64::from(UNIX_EPOCH_DAYS_FROM_CE),
            // Whole microseconds, truncated as chrono's `timestamp_micros` truncates.
            Grain::Timestamp if per_second > 1_000_000 => {
                wall * 1_000_000 + sub / (per_second / 1_000_000)
            }
            Grain::Timestamp => wall * 1_000_000 + sub * (1_000_000 / per_second),
        });
    }
    let nanos = sub * (1_000_000_000 / per_second);
    let utc = u32::try_from(nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(seconds, nanos))
        .map(|t| t.naive_utc());
    FixedOffset::east_opt(offset)
        .and_then(|offset| utc?.checked_add_offset(offset))
        .map(|at| grain.key(at))
        .ok_or(ValueError::DateOutOfRange(value))
}

/// The amounts of an amount column, checked non-negative.
fn amounts(array: &dyn Array, column: &str) -> Result<Vec<Decimal>, ArrowInputError> {
    let wrong = || unsupported(array, column, AMOUNT_TYPES);
    let checked = |amount: Decimal| {
        if is_negative_amount(amount) {
            Err(ValueError::NegativeAmount(amount))
        } else {
            Ok(amount)
        }
    };
    match array.data_type() {
        DataType::Decimal128(_, scale) => {
            let a = array
                .as_primitive_opt::<Decimal128Type>()
                .ok_or_else(wrong)?;
            let scale = *scale;
            convert_all(a, column, |v| {
                let amount = exact_decimal(v, scale).ok_or_else(|| {
                    ValueError::AmountDoesNotFit(format!("{v}e{}", -i32::from(scale)))
                })?;
                checked(amount)
            })
        }
        DataType::Float64 => {
            let a = array.as_primitive_opt::<Float64Type>().ok_or_else(wrong)?;
            convert_all(a, column, |v| {
                checked(
                    decimal_from_f64(v)
                        .ok_or_else(|| ValueError::AmountDoesNotFit(v.to_string()))?,
                )
            })
        }
        DataType::Int64 => {
            let a = array.as_primitive_opt::<Int64Type>().ok_or_else(wrong)?;
            convert_all(a, column, |v| checked(Decimal::from(v)))
        }
        _ => Err(wrong()),
    }
}

/// The decimal `value × 10^-scale` at that scale, or, beyond a [`Decimal`]'s 28 digits after
/// the point or 96 bits, at the largest smaller scale that is exact and fits; `None` if none
/// is (only trailing zeros are ever dropped).
fn exact_decimal(value: i128, scale: i8) -> Option<Decimal> {
    let (mut mantissa, mut scale) = match u32::try_from(scale) {
        Ok(scale) => (value, scale),
        // A negative scale multiplies: exact, if the product fits.
        Err(_) => {
            let power = 10i128.checked_pow(u32::from(scale.unsigned_abs()))?;
            (value.checked_mul(power)?, 0)
        }
    };
    const MAX_MANTISSA: u128 = (1 << 96) - 1;
    const MAX_SCALE: u32 = 28;
    while scale > MAX_SCALE || mantissa.unsigned_abs() > MAX_MANTISSA {
        if scale == 0 || mantissa % 10 != 0 {
            return None;
        }
        mantissa /= 10;
        scale -= 1;
    }
    Decimal::try_from_i128_with_scale(mantissa, scale).ok()
}

/// The kinds of a kind column.
fn kinds(array: &dyn Array, column: &str) -> Result<Vec<TransactionKind>, ArrowInputError> {
    if let Some(flags) = array.as_boolean_opt() {
        check_nulls(flags, column)?;
        return Ok(flags
            .values()
            .iter()
            .map(|is_return| {
                if is_return {
                    TransactionKind::Return
                } else {
                    TransactionKind::Purchase
                }
            })
            .collect());
    }
    let text = TextColumn::of(array).ok_or_else(|| unsupported(array, column, KIND_TYPES))?;
    (0..text.len())
        .map(|row| {
            let value = text.get(row).ok_or_else(|| null(column, row))?;
            let trimmed = value.trim();
            if trimmed.eq_ignore_ascii_case("purchase") {
                Ok(TransactionKind::Purchase)
            } else if trimmed.eq_ignore_ascii_case("return") {
                Ok(TransactionKind::Return)
            } else {
                Err(ArrowInputError::UnknownKind {
                    column: column.to_string(),
                    row: row as u64,
                    value: value.to_string(),
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::types::Int8Type;
    use arrow_array::{
        ArrayRef, BooleanArray, Date32Array, Decimal128Array, DictionaryArray, Float64Array,
        Int32Array, Int64Array, StringArray, TimestampNanosecondArray, TimestampSecondArray,
        UInt64Array,
    };

    use chrono::NaiveDateTime;

    use super::*;
    use crate::{Grain, ReturnPolicy, SummaryOptions, TimeUnit, Transaction};

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    fn ids(values: &[u64]) -> ArrayRef {
        Arc::new(UInt64Array::from(values.to_vec()))
    }

    fn days(values: &[i32]) -> ArrayRef {
        Arc::new(Date32Array::from(values.to_vec()))
    }

    fn cents(values: &[i128]) -> ArrayRef {
        Arc::new(
            Decimal128Array::from(values.to_vec())
                .with_precision_and_scale(12, 2)
                .unwrap(),
        )
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// The first purchase moment of each customer of an accumulator, at the end of 2030.
    fn first_purchases(acc: &SummaryAccumulator) -> Vec<NaiveDateTime> {
        let summaries = acc
            .finish(&SummaryOptions::new(day(2030, 12, 31), TimeUnit::DAYS))
            .unwrap();
        summaries.iter().map(|c| c.first_purchase()).collect()
    }

    #[test]
    fn zoned_timestamps_near_midnight_land_on_the_rule_s_day() {
        // 2024-01-01T23:30:00Z and 2024-01-02T00:30:00Z, for customers 1 and 2.
        let instants = [1_704_151_800i64, 1_704_155_400];
        let zoned: ArrayRef =
            Arc::new(TimestampSecondArray::from(instants.to_vec()).with_timezone("Europe/Paris"));
        let b = batch(vec![
            ("customer_id", ids(&[1, 2])),
            ("date", zoned),
            ("amount", cents(&[100, 100])),
        ]);
        let at = |d, h, m| day(2024, 1, d).and_hms_opt(h, m, 0).unwrap();
        let hours = |h| TimeZoneRule::Offset(FixedOffset::east_opt(h * 3600).unwrap());
        for (rule, expected) in [
            (TimeZoneRule::Utc, [at(1, 23, 30), at(2, 0, 30)]),
            (hours(1), [at(2, 0, 30), at(2, 1, 30)]),
            (hours(-5), [at(1, 18, 30), at(1, 19, 30)]),
        ] {
            for grain in [Grain::Day, Grain::Timestamp] {
                let mut acc = SummaryAccumulator::new(grain, ReturnPolicy::Ignore);
                let columns = TransactionColumns::new().time_zone(rule);
                assert_eq!(acc.push_batch(&b, &columns), Ok(2));
                let got = first_purchases(&acc);
                match grain {
                    // The day in the rule's zone, at midnight.
                    Grain::Day => {
                        let midnights: Vec<_> = expected
                            .iter()
                            .map(|t| t.date().and_time(NaiveTime::MIN))
                            .collect();
                        assert_eq!(got, midnights, "{rule:?}");
                    }
                    Grain::Timestamp => assert_eq!(got, expected, "{rule:?}"),
                }
            }
        }
        // Without a rule, a zoned column is an error.
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::Ignore);
        assert_eq!(
            acc.push_batch(&b, &TransactionColumns::new()),
            Err(ArrowInputError::ZonedWithoutRule {
                column: "date".into(),
                zone: "Europe/Paris".into()
            })
        );
    }

    #[test]
    fn naive_timestamps_are_wall_clock_and_keep_sub_day_moments() {
        // Two purchases of one customer on one day, 1 ns and 6 hours apart: the timestamp grain
        // keeps microseconds, so the first two are one moment and the third another.
        let base = 1_704_067_200_000_000_000i64; // 2024-01-01T00:00:00
        let moments: ArrayRef = Arc::new(TimestampNanosecondArray::from(vec![
            base,
            base + 1,
            base + 6 * 3_600_000_000_000,
        ]));
        let b = batch(vec![
            ("customer_id", ids(&[4, 4, 4])),
            ("date", moments),
            ("amount", cents(&[100, 200, 300])),
        ]);
        let opts = SummaryOptions::new(day(2024, 1, 31), TimeUnit::DAYS);
        let mut by_moment = SummaryAccumulator::new(Grain::Timestamp, ReturnPolicy::Ignore);
        by_moment
            .push_batch(&b, &TransactionColumns::new())
            .unwrap();
        let s = by_moment.finish(&opts).unwrap();
        let c = s.get(&CustomerId::from(4u64)).unwrap();
        assert_eq!((c.frequency(), c.orders()), (1, 3));
        assert_eq!(c.recency(), 0.25);
        let mut by_day = SummaryAccumulator::new(Grain::Day, ReturnPolicy::Ignore);
        by_day.push_batch(&b, &TransactionColumns::new()).unwrap();
        let s = by_day.finish(&opts).unwrap();
        assert_eq!(s.get(&CustomerId::from(4u64)).unwrap().frequency(), 0);
    }

    #[test]
    fn ids_of_every_type_name_the_same_customers() {
        let texts: ArrayRef = Arc::new(StringArray::from(vec![" 42", "-7", "acme", "acme"]));
        let dictionary: ArrayRef = Arc::new(
            vec!["42", "-7", "acme", "acme"]
                .into_iter()
                .collect::<DictionaryArray<Int8Type>>(),
        );
        let signed: ArrayRef = Arc::new(Int64Array::from(vec![42, -7, -7, 42]));
        let expected = |names: &[&str]| -> Vec<CustomerId> {
            names.iter().map(|n| CustomerId::new(n).unwrap()).collect()
        };
        for (column, arrival) in [
            (texts, expected(&["42", "-7", "acme"])),
            (dictionary, expected(&["42", "-7", "acme"])),
            (signed, expected(&["42", "-7"])),
        ] {
            let b = batch(vec![
                ("customer_id", column),
                ("date", days(&[0, 1, 2, 3])),
                ("amount", cents(&[1, 2, 3, 4])),
            ]);
            let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::Ignore);
            acc.push_batch(&b, &TransactionColumns::new()).unwrap();
            assert!(acc.arrival_order().eq(arrival.iter()));
        }
        assert_eq!(CustomerId::new("42").unwrap(), CustomerId::from(42u64));
    }

    #[test]
    fn an_empty_dictionary_of_ids_is_read_and_its_null_keys_are_errors() {
        let empty = DictionaryArray::<Int8Type>::new(
            arrow_array::Int8Array::from(Vec::<Option<i8>>::new()),
            Arc::new(StringArray::from(Vec::<&str>::new())),
        );
        let b = batch(vec![
            ("customer_id", Arc::new(empty) as ArrayRef),
            ("date", days(&[])),
            ("amount", cents(&[])),
        ]);
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::Ignore);
        assert_eq!(acc.push_batch(&b, &TransactionColumns::new()), Ok(0));
        let nulls = DictionaryArray::<Int8Type>::new(
            arrow_array::Int8Array::from(vec![None]),
            Arc::new(StringArray::from(Vec::<&str>::new())),
        );
        let b = batch(vec![
            ("customer_id", Arc::new(nulls) as ArrayRef),
            ("date", days(&[0])),
            ("amount", cents(&[1])),
        ]);
        let error = acc.push_batch(&b, &TransactionColumns::new()).unwrap_err();
        assert_eq!((error.column(), error.row()), ("customer_id", Some(0)));
    }

    #[test]
    fn decimals_keep_their_scale_and_rescale_only_exactly() {
        let d = |v: i128, s: i8| exact_decimal(v, s).map(|d| d.to_string());
        assert_eq!(d(1250, 2).as_deref(), Some("12.50"));
        assert_eq!(d(12, -3).as_deref(), Some("12000"));
        // 15 at scale 30: trailing zeros dropped to scale 27, the largest at which 15 fits in
        // 96 bits.
        assert_eq!(
            d(15 * 10i128.pow(30), 30).as_deref(),
            Some("15.000000000000000000000000000")
        );
        assert_eq!(d(15, 30).as_deref(), None);
        assert_eq!(
            d(15 * 10i128.pow(2), 30).as_deref(),
            Some("0.0000000000000000000000000015")
        );
        assert_eq!(d(1_501 * 10i128.pow(27) + 1, 30), None);
        // Past 96 bits, exact only with trailing zeros to drop.
        assert_eq!(
            d(10i128.pow(30), 2).as_deref(),
            Some("10000000000000000000000000000")
        );
        assert_eq!(d(10i128.pow(30) + 1, 0), None);
        assert_eq!(d(i128::MAX, -1), None);
        assert_eq!(d(-1250, 2).as_deref(), Some("-12.50"));
    }

    #[test]
    fn bad_values_are_errors_naming_column_and_row_and_leave_the_accumulator_unchanged() {
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        let good = batch(vec![
            ("customer_id", ids(&[1, 2])),
            ("date", days(&[0, 1])),
            ("amount", cents(&[100, 0])),
        ]);
        assert_eq!(acc.push_batch(&good, &TransactionColumns::new()), Ok(2));
        // The partial state tells whether a failed push changed the accumulator.
        let before = acc.to_parts();
        let plain = TransactionColumns::new();
        let kinds = TransactionColumns::new().kind("kind");
        let text = |v: Vec<Option<&str>>| -> ArrayRef { Arc::new(StringArray::from(v)) };
        let floats = |v: Vec<f64>| -> ArrayRef { Arc::new(Float64Array::from(v)) };
        let row = |column: &str, row: u64| (column.to_string(), Some(row));
        // Each batch, the columns read, and the column and row the error names.
        type Case<'c> = (RecordBatch, &'c TransactionColumns, (String, Option<u64>));
        let cases: Vec<Case<'_>> = vec![
            (
                batch(vec![
                    (
                        "customer_id",
                        Arc::new(UInt64Array::from(vec![Some(1), None])) as ArrayRef,
                    ),
                    ("date", days(&[0, 1])),
                    ("amount", cents(&[1, 2])),
                ]),
                &kinds,
                ("kind".into(), None),
            ),
            (
                batch(vec![
                    (
                        "customer_id",
                        Arc::new(UInt64Array::from(vec![Some(1), None])) as ArrayRef,
                    ),
                    ("date", days(&[0, 1])),
                    ("amount", cents(&[1, 2])),
                ]),
                &plain,
                row("customer_id", 1),
            ),
            (
                batch(vec![
                    ("customer_id", text(vec![Some("a"), Some("  ")])),
                    ("date", days(&[0, 1])),
                    ("amount", cents(&[1, 2])),
                ]),
                &plain,
                row("customer_id", 1),
            ),
            (
                batch(vec![
                    ("customer_id", ids(&[1, 2, 3])),
                    ("date", days(&[0, 1, i32::MAX])),
                    ("amount", cents(&[1, 2, 3])),
                ]),
                &plain,
                row("date", 2),
            ),
            (
                batch(vec![
                    ("customer_id", ids(&[1, 2])),
                    (
                        "date",
                        Arc::new(TimestampSecondArray::from(vec![0, i64::MAX])) as ArrayRef,
                    ),
                    ("amount", cents(&[1, 2])),
                ]),
                &plain,
                row("date", 1),
            ),
            (
                batch(vec![
                    ("customer_id", ids(&[1, 2])),
                    ("date", days(&[0, 1])),
                    ("amount", cents(&[1, -2])),
                ]),
                &plain,
                row("amount", 1),
            ),
            (
                batch(vec![
                    ("customer_id", ids(&[1, 2, 3])),
                    ("date", days(&[0, 1, 2])),
                    ("amount", floats(vec![1.5, 2.0, f64::NAN])),
                ]),
                &plain,
                row("amount", 2),
            ),
            (
                batch(vec![
                    ("customer_id", ids(&[1, 2])),
                    ("date", days(&[0, 1])),
                    ("amount", floats(vec![f64::INFINITY, 2.0])),
                ]),
                &plain,
                row("amount", 0),
            ),
            (
                batch(vec![
                    ("customer_id", ids(&[1, 2])),
                    ("date", days(&[0, 1])),
                    ("amount", cents(&[1, 2])),
                    ("kind", text(vec![Some("RETURN "), Some("refund")])),
                ]),
                &kinds,
                row("kind", 1),
            ),
            (
                batch(vec![
                    ("customer_id", ids(&[1, 2])),
                    ("date", days(&[0, 1])),
                    ("amount", cents(&[1, 2])),
                    (
                        "kind",
                        Arc::new(BooleanArray::from(vec![None, Some(true)])) as ArrayRef,
                    ),
                ]),
                &kinds,
                row("kind", 0),
            ),
            (
                batch(vec![
                    ("customer_id", ids(&[1])),
                    ("date", Arc::new(Int32Array::from(vec![0])) as ArrayRef),
                    ("amount", cents(&[1])),
                ]),
                &plain,
                ("date".into(), None),
            ),
        ];
        for (b, columns, expected) in cases {
            let error = acc.push_batch(&b, columns).unwrap_err();
            assert_eq!(
                (error.column().to_string(), error.row()),
                expected,
                "{error}"
            );
            assert_eq!(acc.to_parts(), before, "{error}");
            // Rows of the whole stream.
            let offset = error.clone().with_row_offset(1_000).row();
            assert_eq!(offset, expected.1.map(|r| r + 1_000));
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        let b = batch(vec![
            ("id", ids(&[1])),
            ("date", days(&[0])),
            ("amount", cents(&[-150])),
        ]);
        let columns = TransactionColumns::new().customer("id");
        assert_eq!(
            acc.push_batch(&b, &columns).unwrap_err().to_string(),
            "column amount, row 0: negative amount -1.50"
        );
        assert_eq!(
            acc.push_batch(&b, &TransactionColumns::new()),
            Err(ArrowInputError::MissingColumn {
                column: "customer_id".into()
            })
        );
        let wrong = batch(vec![
            (
                "customer_id",
                Arc::new(Int32Array::from(vec![1])) as ArrayRef,
            ),
            ("date", days(&[0])),
            ("amount", cents(&[1])),
        ]);
        let error = acc
            .push_batch(&wrong, &TransactionColumns::new())
            .unwrap_err();
        assert!(matches!(
            &error,
            ArrowInputError::UnsupportedType { found: DataType::Int32, accepted, .. } if accepted.contains("UInt64")
        ));
        let two = ids(&[1, 2]);
        let arrays = TransactionArrays {
            customer: two.as_ref(),
            ..columns.arrays(&b).unwrap()
        };
        assert!(matches!(
            acc.push_arrays(&arrays, &columns),
            Err(ArrowInputError::LengthMismatch {
                len: 1,
                expected: 2,
                ..
            })
        ));
        assert_eq!(acc.customers_seen(), 0);
    }

    #[test]
    fn batches_agree_with_transactions_on_amount_types() {
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        let b = batch(vec![
            ("customer_id", ids(&[1, 1, 1])),
            ("date", days(&[0, 0, 5])),
            (
                "amount",
                Arc::new(Float64Array::from(vec![0.1, 0.2, -0.0])) as ArrayRef,
            ),
            (
                "kind",
                Arc::new(BooleanArray::from(vec![false, true, false])) as ArrayRef,
            ),
        ]);
        acc.push_batch(&b, &TransactionColumns::new().kind("kind"))
            .unwrap();
        let mut direct = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        let at = |d| day(1970, 1, d).and_time(NaiveTime::MIN);
        for (d, v, kind) in [
            (1, 0.1, TransactionKind::Purchase),
            (1, 0.2, TransactionKind::Return),
            (6, -0.0, TransactionKind::Purchase),
        ] {
            let amount = Transaction::amount_from_f64(v, "row").unwrap();
            direct.push(&Transaction::new(CustomerId::from(1u64), at(d), amount, kind).unwrap());
        }
        let opts = SummaryOptions::new(day(1970, 1, 31), TimeUnit::DAYS);
        assert_eq!(acc.finish(&opts), direct.finish(&opts));
        assert_eq!(acc.to_parts(), direct.to_parts());
    }

    /// A log as record batches of `size` rows: (id, day, cents, is a return); every `text`-th
    /// batch (from the first; 0: none) names its customers by text.
    fn log_batches(rows: &[(u64, i32, i128, bool)], size: usize, text: usize) -> Vec<RecordBatch> {
        rows.chunks(size.max(1))
            .enumerate()
            .map(|(k, chunk)| {
                let id: ArrayRef = if text > 0 && k % text == 0 {
                    Arc::new(StringArray::from_iter_values(
                        chunk.iter().map(|r| format!("c{}", r.0)),
                    ))
                } else {
                    ids(&chunk.iter().map(|r| r.0).collect::<Vec<_>>())
                };
                batch(vec![
                    ("customer_id", id),
                    ("date", days(&chunk.iter().map(|r| r.1).collect::<Vec<_>>())),
                    (
                        "amount",
                        Arc::new(
                            Decimal128Array::from(chunk.iter().map(|r| r.2).collect::<Vec<_>>())
                                .with_precision_and_scale(38, 2)
                                .unwrap(),
                        ) as ArrayRef,
                    ),
                    (
                        "kind",
                        Arc::new(BooleanArray::from(
                            chunk.iter().map(|r| r.3).collect::<Vec<_>>(),
                        )) as ArrayRef,
                    ),
                ])
            })
            .collect()
    }

    /// What an accumulator gives: its summaries (or error) at the end of 1970, with the
    /// decimals' scales, and its customers in order of arrival.
    fn outcome(acc: &SummaryAccumulator) -> (String, Vec<CustomerId>) {
        let opts =
            SummaryOptions::new(day(1970, 2, 15), TimeUnit::DAYS).holdout_end(day(1970, 3, 31));
        (
            format!("{:?}", acc.finish(&opts)),
            acc.arrival_order().cloned().collect(),
        )
    }

    proptest::proptest! {
        /// `from_batches` (on all cores with `parallel`: a log of integer ids in date order is
        /// partitioned by customer as it is read) equals pushing the batches in turn: the same
        /// summaries, errors and arrival order, with text ids in some batches, wide amounts
        /// (beyond an entry's 48 bits), returns, and either grain.
        #[test]
        fn reading_batches_at_once_equals_pushing_them_in_turn(
            rows in proptest::collection::vec(
                (0u64..300, 0i32..90, proptest::prop_oneof![0i128..100_000, 0i128..10i128.pow(24)], proptest::bool::weighted(0.1)),
                1..400,
            ),
            size in 1usize..60,
            text in 0usize..4,
            timestamps in proptest::bool::ANY,
        ) {
            let grain = if timestamps { Grain::Timestamp } else { Grain::Day };
            let columns = TransactionColumns::new().kind("kind");
            let batches = log_batches(&rows, size, text);
            let mut pushed = SummaryAccumulator::new(grain, ReturnPolicy::NetAgainstPurchase);
            for b in &batches {
                pushed.push_batch(b, &columns).unwrap();
            }
            let read = SummaryAccumulator::from_batches(
                grain, ReturnPolicy::NetAgainstPurchase, batches.clone(), &columns,
            ).unwrap();
            proptest::prop_assert_eq!(outcome(&read), outcome(&pushed));
            // Read one by one, as an engine's threads would.
            let one_by_one: Vec<TransactionBatch> = batches
                .iter()
                .map(|b| TransactionBatch::read(b, &columns, grain).unwrap())
                .collect();
            let from_read =
                SummaryAccumulator::from_read_batches(grain, ReturnPolicy::NetAgainstPurchase, &one_by_one)
                    .unwrap();
            proptest::prop_assert_eq!(outcome(&from_read), outcome(&pushed));
        }
    }

    #[test]
    fn from_batches_is_partitioned_by_customer_for_a_date_ordered_log_of_integer_ids() {
        // 5,000 customers, each buying on days 0, 7 and 30 with 1 to 3 records a day, in date
        // order: the parallel path, whose result must be the one-by-one push's.
        let mut rows = Vec::new();
        for d in [0, 7, 30] {
            for c in 0..5_000u64 {
                for r in 0..(1 + (c + d as u64) % 3) {
                    rows.push((c * 1_237 % 5_000, d, i128::from(100 + r as i32 + d), false));
                }
            }
        }
        let columns = TransactionColumns::new().kind("kind");
        let batches = log_batches(&rows, 1024, 0);
        let mut pushed = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        for b in &batches {
            pushed.push_batch(b, &columns).unwrap();
        }
        let read = SummaryAccumulator::from_batches(
            Grain::Day,
            ReturnPolicy::NetAgainstPurchase,
            batches,
            &columns,
        )
        .unwrap();
        #[cfg(feature = "parallel")]
        assert!(
            matches!(read.layout_name(), "partitioned"),
            "{}",
            read.layout_name()
        );
        assert_eq!(outcome(&read), outcome(&pushed));
        assert_eq!(read.customers_seen(), 5_000);
    }

    #[test]
    fn from_batches_names_the_first_bad_row_of_the_whole_log_and_reads_nothing() {
        let good = || {
            batch(vec![
                ("customer_id", ids(&[1, 2])),
                ("date", days(&[0, 1])),
                ("amount", cents(&[100, 200])),
            ])
        };
        let bad = batch(vec![
            ("customer_id", ids(&[3, 4, 5])),
            ("date", days(&[0, 1, 2])),
            ("amount", cents(&[100, -5, 200])),
        ]);
        let err = SummaryAccumulator::from_batches(
            Grain::Day,
            ReturnPolicy::NetAgainstPurchase,
            vec![good(), good(), bad, good()],
            &TransactionColumns::new(),
        )
        .unwrap_err();
        assert!(
            matches!(&err, ArrowInputError::NegativeAmount { column, row: 5, .. } if column == "amount"),
            "{err}"
        );
        // Read one by one, the row is the batch's own.
        let bad = batch(vec![
            ("customer_id", ids(&[3])),
            ("date", days(&[0])),
            ("amount", cents(&[-5])),
        ]);
        let err = TransactionBatch::read(&bad, &TransactionColumns::new(), Grain::Day).unwrap_err();
        assert!(
            matches!(err, ArrowInputError::NegativeAmount { row: 0, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_batch_read_at_another_grain_is_an_error() {
        let b = batch(vec![
            ("customer_id", ids(&[1])),
            ("date", days(&[0])),
            ("amount", cents(&[100])),
        ]);
        let columns = TransactionColumns::new();
        let at_day = TransactionBatch::read(&b, &columns, Grain::Day).unwrap();
        let at_moment = TransactionBatch::read(&b, &columns, Grain::Timestamp).unwrap();
        assert_eq!((at_day.len(), at_day.is_empty()), (1, false));
        let err = SummaryAccumulator::from_read_batches(
            Grain::Day,
            ReturnPolicy::NetAgainstPurchase,
            &[at_day.clone(), at_moment],
        )
        .unwrap_err();
        assert_eq!(
            err,
            crate::SummaryError::BatchGrain {
                batch: 1,
                read: Grain::Timestamp,
                expected: Grain::Day
            }
        );
        let acc = SummaryAccumulator::from_read_batches(
            Grain::Day,
            ReturnPolicy::NetAgainstPurchase,
            &[at_day],
        )
        .unwrap();
        assert_eq!(acc.customers_seen(), 1);
    }
}
