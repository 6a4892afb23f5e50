//! The core's outputs as Arrow record batches: [`Summaries`], per-customer predictions and the
//! equity report's customer table, each with a function giving its schema before any data exists
//! (so an engine can declare the table first).
//!
//! Column names are those of the `clv` tool's CSV (`clv summarize`, `clv predict`) and of the
//! `clv report` JSON, so a query written against one reads the other.
//!
//! # Types
//!
//! - **`customer_id`**: [`IdType::UInt64`] (every id must be an integer id) or [`IdType::Utf8`]
//!   (any id, written as its text: integer ids as decimal digits). [`IdType::of`] picks UInt64
//!   when every id is an integer, Utf8 otherwise; a table declared before the data should say
//!   Utf8 unless every id will be an integer.
//! - **Money** ([`Decimal`]): `Decimal128(38, s)` with one scale `s` (0..=28, the scales a
//!   `Decimal` has) for every money column of a table, set by [`MoneyScale`]:
//!   [`MoneyScale::exact`] rescales every value exactly and makes a value that does not fit (more
//!   decimal places than `s` once trailing zeros are dropped, or more than 38 digits at scale `s`)
//!   an error, [`ArrowOutputError::Money`], never a rounded value; [`MoneyScale::rounded`]
//!   rounds each value to `s` places, half to even (as `Decimal::round_dp`, and as the CSV's
//!   6 places), by the caller's choice. [`OutputOptions::for_summaries`] and
//!   [`OutputOptions::for_report`] choose the exact scale of the data: the largest scale of its
//!   money values. At scale `s` a value's integer part has at most `38 − s` digits: a mean spend
//!   such as 100/3 has scale 28, which leaves 10 integer digits to every money column of the
//!   table. Reading a value back, drop the mantissa's trailing zeros before making a `Decimal`
//!   of it: 32.4 at scale 28 has a mantissa past a `Decimal`'s 96 bits, 324 at scale 1 does not
//!   (every value written came from a `Decimal`, so it always reads back exactly).
//! - **Floats** (recency, T, predictions): `Float64`, finite (a NaN or infinity in a
//!   prediction is an error, [`ArrowOutputError::NotFinite`]). **Counts**: `UInt32`.
//!   **Moments**: `Timestamp(Microsecond, None)` (naive, as the crate's records).
//!
//! Every column is non-null except `tier`.
//!
//! # Summaries ([`summaries_schema`], [`summaries_batch`])
//!
//! One row per customer, in the summaries' order (by id).
//!
//! | column | type | value |
//! |---|---|---|
//! | `customer_id` | UInt64 or Utf8 | [`CustomerSummary::id`] |
//! | `frequency` | UInt32 | x, repeat purchase periods |
//! | `recency` | Float64 | t_x, in the unit of the field metadata |
//! | `T` | Float64 | age, in the unit of the field metadata |
//! | `monetary_value` | Decimal128 | mean repeat spend (0 when x = 0) |
//! | `holdout_frequency` | UInt32 | holdout purchase periods (only with a holdout) |
//! | `holdout_monetary_value` | Decimal128 | mean holdout spend (only with a holdout) |
//! | `first_purchase` | Timestamp(µs) | moment of the first purchase |
//! | `last_purchase` | Timestamp(µs) | moment of the last purchase on or before the as-of date |
//! | `orders` | UInt32 | calibration purchase records |
//! | `total_spend` | Decimal128 | net calibration spend, the first purchase included |
//! | `repeat_spend` | Decimal128 | net spend of the repeat purchase periods |
//! | `holdout_spend` | Decimal128 | net holdout spend (only with a holdout) |
//!
//! The first five (seven with a holdout) are the `clv summarize` CSV's columns, in its order;
//! the others follow. `recency` and `T` carry field metadata `unit` (`days`, `weeks` or
//! `N-day periods`, as [`TimeUnit`]'s `Display`) and `unit_days` (the unit's length in days).
//! The schema's metadata holds `as_of` (ISO date), `unit`, `unit_days` and, with a holdout,
//! `holdout_end`.
//!
//! # Predictions ([`predictions_schema`], [`predictions_batch`])
//!
//! One row per customer, in the order given.
//!
//! | column | type | value |
//! |---|---|---|
//! | `customer_id` | UInt64 or Utf8 | the customer |
//! | `p_alive` | Float64 | [`BatchPredictions::p_alive`] |
//! | `expected_purchases` | Float64 | [`BatchPredictions::expected_purchases`] |
//! | `dert` | Float64 | [`BatchPredictions::dert`] |
//! | `expected_spend` | Float64 | [`SpendColumns::expected_spend`] (only with spend) |
//! | `clv` | Decimal128 | [`SpendColumns::clv`] (only with spend) |
//!
//! The `clv predict` CSV's columns, in its order. The horizon and discount rate are the
//! caller's: the batch does not record them.
//!
//! # The report's customers ([`report_customers_schema`], [`report_customers_batch`])
//!
//! One row per [`EquityReport::customers`] entry, in its order (by id).
//!
//! | column | type | value |
//! |---|---|---|
//! | `customer_id` | UInt64 or Utf8 | [`CustomerValue::id`] |
//! | `segment_<name>` | Utf8 | the label of segmenter `<name>`, one column per segmenter in order |
//! | `tier` | Utf8, nullable | [`CustomerValue::tier`] (null without tier rules) |
//! | `p_alive` | Float64 | [`CustomerValue::p_alive`] |
//! | `expected_purchases` | Float64 | [`CustomerValue::expected_purchases`] |
//! | `expected_spend` | Float64 | [`CustomerValue::expected_spend`] |
//! | `dert` | Float64 | [`CustomerValue::dert`] |
//! | `clv` | Decimal128 | [`CustomerValue::clv`] |
//! | `asset_class` | Utf8 | `grow`, `develop`, `win_back` or `divest` |
//! | `referrals` | UInt32 | [`CustomerValue::referrals`] (0 without referrals) |
//! | `referral_value` | Decimal128 | [`CustomerValue::referral_value`] |
//!
//! The fields of a customer in the `clv report` JSON, in its order, with its `segments` pairs
//! spread into one column per segmenter (named by the report's [`EquityReport::by_segment`], so
//! an empty report has them too) and `id` named `customer_id` as in the other tables. The
//! report's as-of date, unit, horizon, margin and discount rate are in the report, not in the
//! batch.
//!
//! ```
//! use chrono::NaiveDate;
//! use customer_assets::arrow::{summaries_batch, summaries_schema, OutputOptions};
//! use customer_assets::{CustomerId, Ledger, LedgerOptions, SummaryOptions, TimeUnit, Transaction};
//! use rust_decimal::Decimal;
//!
//! let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).ok_or("bad date");
//! let mut ledger = Ledger::new(LedgerOptions::default());
//! for (id, m, d, cents) in [(1u64, 1, 3, 1250), (1, 2, 10, 990), (2, 1, 20, 4000)] {
//!     ledger.add_transaction(Transaction::purchase(CustomerId::from(id), day(m, d)?, Decimal::new(cents, 2))?)?;
//! }
//! let summaries = ledger.summarize(SummaryOptions::new(day(3, 31)?, TimeUnit::WEEKS))?;
//!
//! let options = OutputOptions::for_summaries(&summaries);
//! let batch = summaries_batch(&summaries, &options)?;
//! assert_eq!(batch.num_rows(), 2);
//! assert_eq!(batch.schema(), summaries_schema(summaries.options(), &options));
//! assert_eq!(batch.schema().field(3).name(), "T");
//! assert_eq!(batch.schema().field(3).metadata()["unit"], "weeks");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, Decimal128Array, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit as ArrowTimeUnit};
use rust_decimal::Decimal;

use crate::models::BatchPredictions;
use crate::records::CustomerId;
use crate::segment::asset_quality::AssetClass;
use crate::summary::{CustomerSummary, HoldoutSummary, Summaries, SummaryOptions};
use crate::time::TimeUnit;
use crate::valuation::{CustomerValue, EquityReport};

/// Why a batch could not be written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ArrowOutputError {
    /// A money scale above 28, the largest a [`Decimal`] has.
    #[error("money scale {scale} is above 28, the largest scale of a decimal")]
    InvalidScale {
        /// The scale asked for.
        scale: u32,
    },
    /// A text id in a `customer_id` column typed [`IdType::UInt64`].
    #[error("row {row}: customer {customer} has a text id, but customer_id is UInt64 (use IdType::Utf8)")]
    TextId {
        /// The row (0-based).
        row: usize,
        /// The customer.
        customer: CustomerId,
    },
    /// A money value that the column's exact scale cannot hold: more decimal places than the
    /// scale (trailing zeros aside), or more than 38 digits at it.
    #[error("row {row} (customer {customer}), column {column}: {value} does not fit Decimal128(38, {scale}) exactly")]
    Money {
        /// The column.
        column: &'static str,
        /// The row (0-based).
        row: usize,
        /// The customer.
        customer: CustomerId,
        /// The value.
        value: Decimal,
        /// The column's scale.
        scale: u32,
    },
    /// A NaN or infinite float.
    #[error("row {row} (customer {customer}), column {column}: {value} is not finite")]
    NotFinite {
        /// The column.
        column: &'static str,
        /// The row (0-based).
        row: usize,
        /// The customer.
        customer: CustomerId,
        /// The value.
        value: f64,
    },
    /// A column with another number of values than there are customers.
    #[error("column {column} has {found} values for {expected} customers")]
    LengthMismatch {
        /// The column.
        column: &'static str,
        /// The number of customers.
        expected: usize,
        /// The number of values.
        found: usize,
    },
    /// A report customer whose segments are not the report's segmenters, in order.
    #[error(
        "row {row} (customer {customer}): segmenters {found:?}, but the report has {expected:?}"
    )]
    SegmentMismatch {
        /// The row (0-based).
        row: usize,
        /// The customer.
        customer: CustomerId,
        /// The report's segmenters ([`EquityReport::by_segment`]).
        expected: Vec<String>,
        /// The customer's.
        found: Vec<String>,
    },
    /// Two columns with one name (two segmenters of one name).
    #[error("two columns are named {0:?}")]
    DuplicateColumn(String),
    /// Arrow refused the columns (never expected: the columns are built to the schema).
    #[error("arrow: {0}")]
    Arrow(String),
}

/// The type of the `customer_id` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdType {
    /// `UInt64`: every id must be an integer id ([`CustomerId::as_u64`]).
    UInt64,
    /// `Utf8`: any id, as its text (integer ids as decimal digits).
    #[default]
    Utf8,
}

impl IdType {
    /// `UInt64` when every id is an integer id (no id included), `Utf8` otherwise.
    pub fn of<'a, I: IntoIterator<Item = &'a CustomerId>>(ids: I) -> IdType {
        if ids.into_iter().all(|id| id.as_u64().is_some()) {
            IdType::UInt64
        } else {
            IdType::Utf8
        }
    }

    /// The Arrow type.
    pub fn data_type(self) -> DataType {
        match self {
            IdType::UInt64 => DataType::UInt64,
            IdType::Utf8 => DataType::Utf8,
        }
    }
}

/// The largest scale of a [`Decimal`] (and of a money column).
const MAX_SCALE: u32 = 28;
/// The precision of every money column.
const PRECISION: u8 = 38;
/// The largest magnitude of a 38-digit mantissa.
const MAX_MANTISSA: u128 = 10u128.pow(PRECISION as u32) - 1;

/// The scale of the money columns, `Decimal128(38, scale)`, and whether values are rounded to
/// it (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoneyScale {
    scale: u32,
    rounded: bool,
}

impl Default for MoneyScale {
    /// Exact at scale 2 (cents).
    fn default() -> Self {
        MoneyScale {
            scale: 2,
            rounded: false,
        }
    }
}

impl MoneyScale {
    /// Values rescaled exactly to `scale` places; one that does not fit is an error.
    ///
    /// # Errors
    /// [`ArrowOutputError::InvalidScale`] when `scale` is above 28.
    pub fn exact(scale: u32) -> Result<MoneyScale, ArrowOutputError> {
        MoneyScale::checked(scale, false)
    }

    /// Values rounded to `scale` places, half to even (as `Decimal::round_dp`).
    ///
    /// # Errors
    /// [`ArrowOutputError::InvalidScale`] when `scale` is above 28.
    pub fn rounded(scale: u32) -> Result<MoneyScale, ArrowOutputError> {
        MoneyScale::checked(scale, true)
    }

    /// Exact at the largest scale of `values` (0 when there is none): the smallest scale that
    /// holds every value's decimal places as written.
    pub fn exact_for<I: IntoIterator<Item = Decimal>>(values: I) -> MoneyScale {
        MoneyScale {
            scale: values.into_iter().map(|v| v.scale()).max().unwrap_or(0),
            rounded: false,
        }
    }

    fn checked(scale: u32, rounded: bool) -> Result<MoneyScale, ArrowOutputError> {
        if scale > MAX_SCALE {
            return Err(ArrowOutputError::InvalidScale { scale });
        }
        Ok(MoneyScale { scale, rounded })
    }

    /// The scale.
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// Whether values are rounded to the scale (else rescaled exactly).
    pub fn is_rounded(&self) -> bool {
        self.rounded
    }

    /// The Arrow type, `Decimal128(38, scale)`.
    pub fn data_type(&self) -> DataType {
        // The scale is at most 28: the cast is exact.
        DataType::Decimal128(PRECISION, self.scale as i8)
    }

    /// `value`'s mantissa at the scale, when it fits.
    fn mantissa(&self, value: Decimal) -> Option<i128> {
        let v = if self.rounded {
            value.round_dp(self.scale)
        } else if value.scale() > self.scale {
            value.normalize()
        } else {
            value
        };
        let up = self.scale.checked_sub(v.scale())?;
        let m = v.mantissa().checked_mul(10i128.checked_pow(up)?)?;
        (m.unsigned_abs() <= MAX_MANTISSA).then_some(m)
    }
}

/// How a batch is typed: the `customer_id` column and the money columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputOptions {
    /// The `customer_id` column's type.
    pub ids: IdType,
    /// The money columns' scale.
    pub money: MoneyScale,
}

impl OutputOptions {
    /// The given id type and money scale.
    pub fn new(ids: IdType, money: MoneyScale) -> Self {
        OutputOptions { ids, money }
    }

    /// The options that fit `summaries`: [`IdType::of`] their ids, money exact at the largest
    /// scale of their money values.
    pub fn for_summaries(summaries: &Summaries) -> Self {
        let money = summaries.iter().flat_map(|s| {
            let holdout = s.holdout().map(|h| [h.monetary_value(), h.spend]);
            [s.monetary_value(), s.total_spend(), s.repeat_spend()]
                .into_iter()
                .chain(holdout.into_iter().flatten())
        });
        OutputOptions {
            ids: IdType::of(summaries.iter().map(CustomerSummary::id)),
            money: MoneyScale::exact_for(money),
        }
    }

    /// The options that fit `report`'s customers: [`IdType::of`] their ids, money exact at the
    /// largest scale of their CLVs.
    pub fn for_report(report: &EquityReport) -> Self {
        OutputOptions {
            ids: IdType::of(report.customers.iter().map(|c| &c.id)),
            money: MoneyScale::exact_for(report.customers.iter().map(|c| c.clv)),
        }
    }
}

/// The expected spend and CLV columns of a predictions batch, one value per customer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpendColumns<'a> {
    /// Expected spend per purchase.
    pub expected_spend: &'a [f64],
    /// The customer lifetime value.
    pub clv: &'a [Decimal],
}

const CUSTOMER_ID: &str = "customer_id";
const P_ALIVE: &str = "p_alive";
const EXPECTED_PURCHASES: &str = "expected_purchases";
const DERT: &str = "dert";
const EXPECTED_SPEND: &str = "expected_spend";
const CLV: &str = "clv";
const RECENCY: &str = "recency";
const AGE: &str = "T";
const MONETARY_VALUE: &str = "monetary_value";
const HOLDOUT_MONETARY_VALUE: &str = "holdout_monetary_value";
const TOTAL_SPEND: &str = "total_spend";
const REPEAT_SPEND: &str = "repeat_spend";
const HOLDOUT_SPEND: &str = "holdout_spend";

/// The `unit` and `unit_days` metadata of a time column or a schema.
fn unit_metadata(unit: TimeUnit) -> HashMap<String, String> {
    HashMap::from([
        ("unit".to_string(), unit.to_string()),
        ("unit_days".to_string(), unit.days().to_string()),
    ])
}

fn field(name: &str, data_type: DataType) -> Field {
    Field::new(name, data_type, false)
}

fn timestamp(name: &str) -> Field {
    field(name, DataType::Timestamp(ArrowTimeUnit::Microsecond, None))
}

/// The schema of [`summaries_batch`] for summaries made with `options` (see the
/// [module docs](self)).
pub fn summaries_schema(options: &SummaryOptions, output: &OutputOptions) -> SchemaRef {
    let unit = unit_metadata(options.unit());
    let money = |name| field(name, output.money.data_type());
    let mut fields = vec![
        field(CUSTOMER_ID, output.ids.data_type()),
        field("frequency", DataType::UInt32),
        field(RECENCY, DataType::Float64).with_metadata(unit.clone()),
        field(AGE, DataType::Float64).with_metadata(unit.clone()),
        money(MONETARY_VALUE),
    ];
    let holdout = options.get_holdout_end();
    if holdout.is_some() {
        fields.extend([
            field("holdout_frequency", DataType::UInt32),
            money(HOLDOUT_MONETARY_VALUE),
        ]);
    }
    fields.extend([
        timestamp("first_purchase"),
        timestamp("last_purchase"),
        field("orders", DataType::UInt32),
        money(TOTAL_SPEND),
        money(REPEAT_SPEND),
    ]);
    let mut metadata = unit;
    metadata.insert("as_of".into(), options.as_of().to_string());
    if let Some(end) = holdout {
        fields.push(money(HOLDOUT_SPEND));
        metadata.insert("holdout_end".into(), end.to_string());
    }
    Arc::new(Schema::new_with_metadata(fields, metadata))
}

/// The columns of a batch, built in schema order against the rows' customers (for errors).
struct Columns<'a> {
    ids: Vec<&'a CustomerId>,
    output: OutputOptions,
    columns: Vec<ArrayRef>,
}

impl<'a> Columns<'a> {
    /// Starts with the `customer_id` column.
    fn new(ids: Vec<&'a CustomerId>, output: &OutputOptions) -> Result<Self, ArrowOutputError> {
        let column: ArrayRef = match output.ids {
            IdType::UInt64 => {
                let values = ids
                    .iter()
                    .enumerate()
                    .map(|(row, id)| {
                        id.as_u64().ok_or_else(|| ArrowOutputError::TextId {
                            row,
                            customer: (*id).clone(),
                        })
                    })
                    .collect::<Result<Vec<u64>, _>>()?;
                Arc::new(UInt64Array::from(values))
            }
            IdType::Utf8 => Arc::new(StringArray::from_iter_values(
                ids.iter().map(|id| id.to_string()),
            )),
        };
        Ok(Columns {
            ids,
            output: *output,
            columns: vec![column],
        })
    }

    /// Checks that `column` has one value per customer.
    fn check_len(&self, column: &'static str, found: usize) -> Result<(), ArrowOutputError> {
        if found == self.ids.len() {
            Ok(())
        } else {
            Err(ArrowOutputError::LengthMismatch {
                column,
                expected: self.ids.len(),
                found,
            })
        }
    }

    fn push(&mut self, column: ArrayRef) {
        self.columns.push(column);
    }

    fn counts(&mut self, values: impl Iterator<Item = u32>) {
        self.push(Arc::new(UInt32Array::from_iter_values(values)));
    }

    /// A Float64 column of one finite value per customer.
    fn floats(
        &mut self,
        column: &'static str,
        values: impl ExactSizeIterator<Item = f64>,
    ) -> Result<(), ArrowOutputError> {
        self.check_len(column, values.len())?;
        let values = values
            .zip(&self.ids)
            .enumerate()
            .map(|(row, (value, id))| {
                if value.is_finite() {
                    Ok(value)
                } else {
                    Err(ArrowOutputError::NotFinite {
                        column,
                        row,
                        customer: (*id).clone(),
                        value,
                    })
                }
            })
            .collect::<Result<Vec<f64>, _>>()?;
        self.push(Arc::new(Float64Array::from(values)));
        Ok(())
    }

    /// A Decimal128 column of one value per customer, at the options' scale.
    fn money(
        &mut self,
        column: &'static str,
        values: impl ExactSizeIterator<Item = Decimal>,
    ) -> Result<(), ArrowOutputError> {
        self.check_len(column, values.len())?;
        let money = self.output.money;
        let values = values
            .zip(&self.ids)
            .enumerate()
            .map(|(row, (value, id))| {
                money
                    .mantissa(value)
                    .ok_or_else(|| ArrowOutputError::Money {
                        column,
                        row,
                        customer: (*id).clone(),
                        value,
                        scale: money.scale,
                    })
            })
            .collect::<Result<Vec<i128>, _>>()?;
        let array = Decimal128Array::from(values)
            .with_precision_and_scale(PRECISION, money.scale as i8)
            .map_err(|e| ArrowOutputError::Arrow(e.to_string()))?;
        self.push(Arc::new(array));
        Ok(())
    }

    fn finish(self, schema: SchemaRef) -> Result<RecordBatch, ArrowOutputError> {
        RecordBatch::try_new(schema, self.columns)
            .map_err(|e| ArrowOutputError::Arrow(e.to_string()))
    }
}

/// The summaries as a batch, one row per customer (see the [module docs](self)); its schema is
/// [`summaries_schema`] of the summaries' options.
///
/// # Errors
/// [`ArrowOutputError::TextId`] for a text id under [`IdType::UInt64`];
/// [`ArrowOutputError::Money`] for a money value the exact scale cannot hold.
pub fn summaries_batch(
    summaries: &Summaries,
    output: &OutputOptions,
) -> Result<RecordBatch, ArrowOutputError> {
    let rows = summaries.customers();
    let mut c = Columns::new(rows.iter().map(CustomerSummary::id).collect(), output)?;
    c.counts(rows.iter().map(CustomerSummary::frequency));
    c.floats(RECENCY, rows.iter().map(CustomerSummary::recency))?;
    c.floats(AGE, rows.iter().map(CustomerSummary::age))?;
    c.money(
        MONETARY_VALUE,
        rows.iter().map(CustomerSummary::monetary_value),
    )?;
    // Summaries have a holdout for every customer exactly when their options have one (the
    // accumulator and deserialization make sure of it): the zero stand-in is never written.
    let holdout = summaries.options().get_holdout_end().is_some();
    let none = HoldoutSummary {
        frequency: 0,
        spend: Decimal::ZERO,
    };
    let holdouts = || rows.iter().map(move |s| s.holdout().unwrap_or(none));
    if holdout {
        c.counts(holdouts().map(|h| h.frequency));
        c.money(
            HOLDOUT_MONETARY_VALUE,
            holdouts().map(|h| h.monetary_value()),
        )?;
    }
    let micros = |at: fn(&CustomerSummary) -> chrono::NaiveDateTime| {
        let values = rows.iter().map(|s| at(s).and_utc().timestamp_micros());
        Arc::new(TimestampMicrosecondArray::from_iter_values(values)) as ArrayRef
    };
    c.push(micros(CustomerSummary::first_purchase));
    c.push(micros(CustomerSummary::last_purchase));
    c.counts(rows.iter().map(CustomerSummary::orders));
    c.money(TOTAL_SPEND, rows.iter().map(CustomerSummary::total_spend))?;
    c.money(REPEAT_SPEND, rows.iter().map(CustomerSummary::repeat_spend))?;
    if holdout {
        c.money(HOLDOUT_SPEND, holdouts().map(|h| h.spend))?;
    }
    c.finish(summaries_schema(summaries.options(), output))
}

/// The schema of [`predictions_batch`], with the `expected_spend` and `clv` columns when
/// `with_spend` (see the [module docs](self)).
pub fn predictions_schema(output: &OutputOptions, with_spend: bool) -> SchemaRef {
    let mut fields = vec![
        field(CUSTOMER_ID, output.ids.data_type()),
        field(P_ALIVE, DataType::Float64),
        field(EXPECTED_PURCHASES, DataType::Float64),
        field(DERT, DataType::Float64),
    ];
    if with_spend {
        fields.extend([
            field(EXPECTED_SPEND, DataType::Float64),
            field(CLV, output.money.data_type()),
        ]);
    }
    Arc::new(Schema::new(fields))
}

/// Per-customer predictions as a batch: `ids[i]`'s row holds the i-th value of every column of
/// `predictions` and, when given, of `spend` (see the [module docs](self)). Its schema is
/// [`predictions_schema`] with `spend.is_some()`.
///
/// ```
/// use customer_assets::arrow::{predictions_batch, IdType, MoneyScale, OutputOptions, SpendColumns};
/// use customer_assets::models::BatchPredictions;
/// use customer_assets::CustomerId;
/// use rust_decimal::Decimal;
///
/// let ids = [CustomerId::from(7u64), CustomerId::new("acme-1")?];
/// let predictions = BatchPredictions {
///     p_alive: vec![0.9, 0.4],
///     expected_purchases: vec![2.5, 0.3],
///     dert: vec![11.0, 1.2],
/// };
/// let clv = [Decimal::new(4125, 2), Decimal::new(360, 2)];
/// let spend = SpendColumns { expected_spend: &[12.5, 10.0], clv: &clv };
/// let options = OutputOptions::new(IdType::of(&ids), MoneyScale::exact_for(clv));
/// let batch = predictions_batch(&ids, &predictions, Some(spend), &options)?;
/// assert_eq!(batch.num_columns(), 6);
/// assert_eq!(batch.schema().field(5).name(), "clv");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`ArrowOutputError::LengthMismatch`] for a column with another number of values than `ids`;
/// [`ArrowOutputError::NotFinite`] for a NaN or infinite value; [`ArrowOutputError::TextId`]
/// and [`ArrowOutputError::Money`] as [`summaries_batch`].
pub fn predictions_batch<'a, I>(
    ids: I,
    predictions: &BatchPredictions,
    spend: Option<SpendColumns<'_>>,
    output: &OutputOptions,
) -> Result<RecordBatch, ArrowOutputError>
where
    I: IntoIterator<Item = &'a CustomerId>,
{
    let mut c = Columns::new(ids.into_iter().collect(), output)?;
    c.floats(P_ALIVE, predictions.p_alive.iter().copied())?;
    c.floats(
        EXPECTED_PURCHASES,
        predictions.expected_purchases.iter().copied(),
    )?;
    c.floats(DERT, predictions.dert.iter().copied())?;
    if let Some(spend) = spend {
        c.floats(EXPECTED_SPEND, spend.expected_spend.iter().copied())?;
        c.money(CLV, spend.clv.iter().copied())?;
    }
    c.finish(predictions_schema(output, spend.is_some()))
}

/// The name of the column of the segmenter `name`.
fn segment_column(name: &str) -> String {
    format!("segment_{name}")
}

/// The schema of [`report_customers_batch`] for a report with these segmenters, in order (see
/// the [module docs](self)).
///
/// # Errors
/// [`ArrowOutputError::DuplicateColumn`] when two segmenters have one name.
pub fn report_customers_schema(
    segmenters: &[&str],
    output: &OutputOptions,
) -> Result<SchemaRef, ArrowOutputError> {
    let mut fields = vec![field(CUSTOMER_ID, output.ids.data_type())];
    for (i, name) in segmenters.iter().enumerate() {
        if segmenters[..i].contains(name) {
            return Err(ArrowOutputError::DuplicateColumn(segment_column(name)));
        }
        fields.push(field(&segment_column(name), DataType::Utf8));
    }
    fields.extend([
        Field::new("tier", DataType::Utf8, true),
        field(P_ALIVE, DataType::Float64),
        field(EXPECTED_PURCHASES, DataType::Float64),
        field(EXPECTED_SPEND, DataType::Float64),
        field(DERT, DataType::Float64),
        field(CLV, output.money.data_type()),
        field("asset_class", DataType::Utf8),
        field("referrals", DataType::UInt32),
        field("referral_value", output.money.data_type()),
    ]);
    Ok(Arc::new(Schema::new(fields)))
}

/// The asset class as the report's JSON names it.
fn asset_class_name(class: AssetClass) -> &'static str {
    match class {
        AssetClass::Grow => "grow",
        AssetClass::Develop => "develop",
        AssetClass::WinBack => "win_back",
        AssetClass::Divest => "divest",
    }
}

/// The equity report's customer table as a batch, one row per [`EquityReport::customers`]
/// entry (see the [module docs](self)); its schema is [`report_customers_schema`] of the
/// report's segmenters ([`EquityReport::by_segment`]).
///
/// # Errors
/// [`ArrowOutputError::SegmentMismatch`] for a customer whose segments are not the report's
/// segmenters in order; [`ArrowOutputError::DuplicateColumn`] as [`report_customers_schema`];
/// [`ArrowOutputError::NotFinite`], [`ArrowOutputError::TextId`] and
/// [`ArrowOutputError::Money`] as [`predictions_batch`].
pub fn report_customers_batch(
    report: &EquityReport,
    output: &OutputOptions,
) -> Result<RecordBatch, ArrowOutputError> {
    let rows = &report.customers;
    let segmenters: Vec<&str> = report
        .by_segment
        .iter()
        .map(|s| s.segmenter.as_str())
        .collect();
    let schema = report_customers_schema(&segmenters, output)?;
    for (row, customer) in rows.iter().enumerate() {
        let names = customer.segments.iter().map(|(name, _)| &**name);
        if !names.eq(segmenters.iter().copied()) {
            return Err(ArrowOutputError::SegmentMismatch {
                row,
                customer: customer.id.clone(),
                expected: segmenters.iter().map(|s| s.to_string()).collect(),
                found: customer
                    .segments
                    .iter()
                    .map(|(name, _)| name.to_string())
                    .collect(),
            });
        }
    }
    let mut c = Columns::new(rows.iter().map(|v| &v.id).collect(), output)?;
    for i in 0..segmenters.len() {
        let labels = rows.iter().map(|v| v.segments.get(i).map_or("", |s| &*s.1));
        c.push(Arc::new(StringArray::from_iter_values(labels)));
    }
    let tiers = rows.iter().map(|v| v.tier.as_deref());
    c.push(Arc::new(tiers.collect::<StringArray>()));
    let floats = |f: fn(&CustomerValue) -> f64| rows.iter().map(f);
    c.floats(P_ALIVE, floats(|v| v.p_alive))?;
    c.floats(EXPECTED_PURCHASES, floats(|v| v.expected_purchases))?;
    c.floats(EXPECTED_SPEND, floats(|v| v.expected_spend))?;
    c.floats(DERT, floats(|v| v.dert))?;
    c.money(CLV, rows.iter().map(|v| v.clv))?;
    let classes = rows.iter().map(|v| asset_class_name(v.asset_class));
    c.push(Arc::new(StringArray::from_iter_values(classes)));
    c.counts(rows.iter().map(|v| v.referrals));
    c.money("referral_value", rows.iter().map(|v| v.referral_value))?;
    c.finish(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use chrono::NaiveDate;

    use crate::models::bg_nbd::{BgNbd, BgNbdParameters};
    use crate::models::gamma_gamma::{GammaGamma, GammaGammaParameters};
    use crate::records::Transaction;
    use crate::segment::rfm::RfmParams;
    use crate::summary::{Grain, ReturnPolicy, SummaryAccumulator};
    use crate::valuation::{DiscountRate, Valuation};
    use crate::{Ledger, LedgerOptions};

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }

    fn id(text: &str) -> CustomerId {
        CustomerId::new(text).unwrap()
    }

    /// Purchases (customer, month, day, amount as text).
    fn log(rows: &[(&str, u32, u32, &str)]) -> Vec<Transaction> {
        rows.iter()
            .map(|&(c, m, d, amount)| {
                Transaction::purchase(id(c), day(m, d), amount.parse().unwrap()).unwrap()
            })
            .collect()
    }

    fn summarize(rows: &[(&str, u32, u32, &str)], options: SummaryOptions) -> Summaries {
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        acc.extend(&log(rows));
        acc.finish(&options).unwrap()
    }

    /// Customers 1 and 2 (integer ids) and "acme" (text), purchases at scales 0, 2 and 3.
    const ROWS: &[(&str, u32, u32, &str)] = &[
        ("1", 1, 3, "12.50"),
        ("1", 2, 10, "9.90"),
        ("1", 3, 5, "10"),
        ("2", 1, 20, "40.00"),
        ("acme", 1, 7, "5.125"),
        ("acme", 2, 1, "7"),
        ("acme", 4, 10, "3.00"),
    ];

    fn column<'b, T: 'static>(batch: &'b RecordBatch, name: &str) -> &'b T {
        batch
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .as_any()
            .downcast_ref::<T>()
            .unwrap_or_else(|| panic!("column {name} has another type"))
    }

    /// A Decimal128 column read back as decimals.
    fn decimals(batch: &RecordBatch, name: &str) -> Vec<Decimal> {
        let array: &Decimal128Array = column(batch, name);
        let scale = u32::try_from(array.scale()).unwrap();
        array
            .values()
            .iter()
            .map(|&m| {
                // Trailing zeros dropped first: 32.4 at scale 28 has a mantissa past 96 bits.
                let (mut m, mut scale) = (m, scale);
                while scale > 0 && m % 10 == 0 {
                    m /= 10;
                    scale -= 1;
                }
                Decimal::try_from_i128_with_scale(m, scale).unwrap()
            })
            .collect()
    }

    fn floats(batch: &RecordBatch, name: &str) -> Vec<f64> {
        column::<Float64Array>(batch, name).values().to_vec()
    }

    fn counts(batch: &RecordBatch, name: &str) -> Vec<u32> {
        column::<UInt32Array>(batch, name).values().to_vec()
    }

    fn texts(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
        let array: &StringArray = column(batch, name);
        (0..array.len())
            .map(|i| array.is_valid(i).then(|| array.value(i).to_string()))
            .collect()
    }

    fn ids_text(batch: &RecordBatch) -> Vec<String> {
        texts(batch, CUSTOMER_ID).into_iter().flatten().collect()
    }

    fn names(schema: &Schema) -> Vec<&str> {
        schema.fields().iter().map(|f| f.name().as_str()).collect()
    }

    /// Every column of a summaries batch equals the summaries' values, read back exactly.
    fn assert_summaries_columns(batch: &RecordBatch, s: &Summaries) {
        let rows = s.customers();
        assert_eq!(batch.num_rows(), rows.len());
        let get = |f: fn(&CustomerSummary) -> Decimal| rows.iter().map(f).collect::<Vec<_>>();
        assert_eq!(
            counts(batch, "frequency"),
            rows.iter().map(|r| r.frequency()).collect::<Vec<_>>()
        );
        assert_eq!(
            floats(batch, RECENCY),
            rows.iter().map(|r| r.recency()).collect::<Vec<_>>()
        );
        assert_eq!(
            floats(batch, AGE),
            rows.iter().map(|r| r.age()).collect::<Vec<_>>()
        );
        assert_eq!(
            decimals(batch, MONETARY_VALUE),
            get(CustomerSummary::monetary_value)
        );
        assert_eq!(
            decimals(batch, TOTAL_SPEND),
            get(CustomerSummary::total_spend)
        );
        assert_eq!(
            decimals(batch, REPEAT_SPEND),
            get(CustomerSummary::repeat_spend)
        );
        assert_eq!(
            counts(batch, "orders"),
            rows.iter().map(|r| r.orders()).collect::<Vec<_>>()
        );
        for (name, at) in [
            (
                "first_purchase",
                CustomerSummary::first_purchase as fn(&CustomerSummary) -> chrono::NaiveDateTime,
            ),
            ("last_purchase", CustomerSummary::last_purchase),
        ] {
            let array: &TimestampMicrosecondArray = column(batch, name);
            let moments: Vec<_> = (0..array.len())
                .map(|i| array.value_as_datetime(i).unwrap())
                .collect();
            assert_eq!(moments, rows.iter().map(at).collect::<Vec<_>>(), "{name}");
        }
        match s.options().get_holdout_end() {
            Some(_) => {
                let holdouts: Vec<HoldoutSummary> =
                    rows.iter().map(|r| r.holdout().unwrap()).collect();
                assert_eq!(
                    counts(batch, "holdout_frequency"),
                    holdouts.iter().map(|h| h.frequency).collect::<Vec<_>>()
                );
                assert_eq!(
                    decimals(batch, HOLDOUT_MONETARY_VALUE),
                    holdouts
                        .iter()
                        .map(|h| h.monetary_value())
                        .collect::<Vec<_>>()
                );
                assert_eq!(
                    decimals(batch, HOLDOUT_SPEND),
                    holdouts.iter().map(|h| h.spend).collect::<Vec<_>>()
                );
            }
            None => {
                for name in ["holdout_frequency", HOLDOUT_MONETARY_VALUE, HOLDOUT_SPEND] {
                    assert!(batch.column_by_name(name).is_none(), "{name}");
                }
            }
        }
    }

    #[test]
    fn integer_ids_give_a_uint64_column_and_every_column_equals_the_summaries() {
        let rows: Vec<_> = ROWS.iter().copied().filter(|r| r.0 != "acme").collect();
        let s = summarize(&rows, SummaryOptions::new(day(4, 30), TimeUnit::WEEKS));
        let options = OutputOptions::for_summaries(&s);
        assert_eq!(options.ids, IdType::UInt64);
        let batch = summaries_batch(&s, &options).unwrap();
        assert_eq!(batch.schema(), summaries_schema(s.options(), &options));
        assert_eq!(
            names(&batch.schema()),
            [
                "customer_id",
                "frequency",
                "recency",
                "T",
                "monetary_value",
                "first_purchase",
                "last_purchase",
                "orders",
                "total_spend",
                "repeat_spend"
            ]
        );
        assert_eq!(
            column::<UInt64Array>(&batch, CUSTOMER_ID).values().to_vec(),
            [1, 2]
        );
        assert_summaries_columns(&batch, &s);
        let schema = batch.schema();
        assert_eq!(schema.metadata()["as_of"], "2024-04-30");
        assert_eq!(schema.metadata()["unit"], "weeks");
        assert_eq!(schema.metadata()["unit_days"], "7");
        assert!(!schema.metadata().contains_key("holdout_end"));
        for name in [RECENCY, AGE] {
            let f = schema.field_with_name(name).unwrap();
            assert_eq!(f.metadata()["unit"], "weeks");
            assert_eq!(f.metadata()["unit_days"], "7");
        }
        // The same summaries under Utf8 ids: the digits.
        let text = OutputOptions::new(IdType::Utf8, options.money);
        assert_eq!(ids_text(&summaries_batch(&s, &text).unwrap()), ["1", "2"]);
    }

    #[test]
    fn text_ids_and_a_holdout_give_utf8_ids_and_the_holdout_columns() {
        let mut rows = ROWS.to_vec();
        rows.extend([
            ("1", 5, 2, "4.40"),
            ("acme", 5, 3, "1.5"),
            ("acme", 5, 20, "2"),
        ]);
        let options = SummaryOptions::new(day(4, 30), TimeUnit::custom_days(14.0).unwrap())
            .holdout_end(day(6, 30));
        let s = summarize(&rows, options);
        let output = OutputOptions::for_summaries(&s);
        assert_eq!(output.ids, IdType::Utf8);
        let batch = summaries_batch(&s, &output).unwrap();
        assert_eq!(batch.schema(), summaries_schema(&options, &output));
        assert_eq!(
            names(&batch.schema())[..7],
            [
                "customer_id",
                "frequency",
                "recency",
                "T",
                "monetary_value",
                "holdout_frequency",
                "holdout_monetary_value"
            ]
        );
        assert_eq!(names(&batch.schema()).last(), Some(&"holdout_spend"));
        assert_eq!(ids_text(&batch), ["1", "2", "acme"]);
        assert_eq!(counts(&batch, "holdout_frequency"), [1, 0, 2]);
        assert_summaries_columns(&batch, &s);
        let schema = batch.schema();
        assert_eq!(schema.metadata()["holdout_end"], "2024-06-30");
        assert_eq!(schema.metadata()["unit"], "14-day periods");
        assert_eq!(
            schema.field_with_name(AGE).unwrap().metadata()["unit_days"],
            "14"
        );

        let err = summaries_batch(&s, &OutputOptions::new(IdType::UInt64, output.money));
        assert_eq!(
            err.unwrap_err(),
            ArrowOutputError::TextId {
                row: 2,
                customer: id("acme")
            }
        );
    }

    #[test]
    fn mixed_scales_are_written_at_the_largest_and_read_back_exactly() {
        let s = summarize(ROWS, SummaryOptions::new(day(4, 30), TimeUnit::DAYS));
        // Mean repeat spends 19.90 / 2 and 10.00 / 2 have scale 2; acme's total spend,
        // 5.125 + 7 + 3.00, has scale 3.
        let output = OutputOptions::for_summaries(&s);
        assert_eq!(output.money, MoneyScale::exact(3).unwrap());
        let batch = summaries_batch(&s, &output).unwrap();
        assert_eq!(
            batch
                .schema()
                .field_with_name(TOTAL_SPEND)
                .unwrap()
                .data_type(),
            &DataType::Decimal128(38, 3)
        );
        let totals = column::<Decimal128Array>(&batch, TOTAL_SPEND)
            .values()
            .to_vec();
        assert_eq!(totals, [32_400, 40_000, 15_125]);
        assert_summaries_columns(&batch, &s);
        // A wider exact scale holds the same values.
        let wide = OutputOptions::new(IdType::Utf8, MoneyScale::exact(28).unwrap());
        assert_summaries_columns(&summaries_batch(&s, &wide).unwrap(), &s);

        // Too few places: an error naming the first value that does not fit, never a rounding.
        let cents = OutputOptions::new(IdType::Utf8, MoneyScale::exact(2).unwrap());
        assert_eq!(
            summaries_batch(&s, &cents).unwrap_err(),
            ArrowOutputError::Money {
                column: TOTAL_SPEND,
                row: 2,
                customer: id("acme"),
                value: Decimal::new(15_125, 3),
                scale: 2,
            }
        );
        // Asked for, rounding is half to even: 15.125 → 15.12.
        let rounded = OutputOptions::new(IdType::Utf8, MoneyScale::rounded(2).unwrap());
        let batch = summaries_batch(&s, &rounded).unwrap();
        assert_eq!(
            decimals(&batch, TOTAL_SPEND),
            [
                Decimal::new(3240, 2),
                Decimal::new(4000, 2),
                Decimal::new(1512, 2)
            ]
        );
    }

    #[test]
    fn money_scales_check_places_trailing_zeros_and_the_38_digits() {
        assert_eq!(
            MoneyScale::exact(29).unwrap_err(),
            ArrowOutputError::InvalidScale { scale: 29 }
        );
        assert_eq!(
            MoneyScale::rounded(29).unwrap_err(),
            ArrowOutputError::InvalidScale { scale: 29 }
        );
        let one = MoneyScale::exact(1).unwrap();
        // 1.50 has one place once its trailing zero is dropped.
        assert_eq!(one.mantissa(Decimal::new(150, 2)), Some(15));
        assert_eq!(one.mantissa(Decimal::new(-7, 0)), Some(-70));
        assert_eq!(one.mantissa(Decimal::new(155, 2)), None);
        // At scale 28 a value has 10 integer digits: 10^10 needs 39.
        let widest = MoneyScale::exact(28).unwrap();
        assert_eq!(
            widest.mantissa(Decimal::new(9_999_999_999, 0)),
            Some(9_999_999_999 * 10i128.pow(28))
        );
        assert_eq!(widest.mantissa(Decimal::new(10_000_000_000, 0)), None);
        assert_eq!(
            MoneyScale::exact_for([Decimal::new(1, 0), Decimal::new(1, 4)]),
            MoneyScale::exact(4).unwrap()
        );
        assert_eq!(MoneyScale::exact_for([]), MoneyScale::exact(0).unwrap());
        assert!(MoneyScale::rounded(6).unwrap().is_rounded());
        assert_eq!(
            MoneyScale::default().data_type(),
            DataType::Decimal128(38, 2)
        );
    }

    #[test]
    fn an_empty_base_gives_an_empty_batch_of_the_declared_schema() {
        let options = SummaryOptions::new(day(1, 1), TimeUnit::WEEKS).holdout_end(day(2, 1));
        let s = summarize(ROWS, options);
        assert!(s.is_empty());
        let output = OutputOptions::for_summaries(&s);
        assert_eq!(
            output,
            OutputOptions::new(IdType::UInt64, MoneyScale::exact(0).unwrap())
        );
        let batch = summaries_batch(&s, &output).unwrap();
        assert_eq!(batch.num_rows(), 0);
        assert_eq!(batch.schema(), summaries_schema(&options, &output));
        assert_eq!(batch.num_columns(), 13);

        let predictions = predictions_batch(
            std::iter::empty::<&CustomerId>(),
            &BatchPredictions::default(),
            Some(SpendColumns {
                expected_spend: &[],
                clv: &[],
            }),
            &OutputOptions::default(),
        )
        .unwrap();
        assert_eq!(predictions.num_rows(), 0);
        assert_eq!(predictions.num_columns(), 6);
    }

    fn predictions() -> BatchPredictions {
        BatchPredictions {
            p_alive: vec![0.9, 0.25, 1.0],
            expected_purchases: vec![2.5, 0.125, 7.0],
            dert: vec![11.0, 1.5, 30.25],
        }
    }

    #[test]
    fn prediction_columns_equal_the_predictions() {
        let ids = [id("3"), id("b-2"), id("17")];
        let p = predictions();
        let clv = [
            Decimal::new(4125, 2),
            Decimal::new(3, 1),
            Decimal::new(100, 0),
        ];
        let spend = SpendColumns {
            expected_spend: &[15.0, 0.2, 3.3],
            clv: &clv,
        };
        let output = OutputOptions::new(IdType::of(&ids), MoneyScale::exact_for(clv));
        assert_eq!(output.ids, IdType::Utf8);
        let batch = predictions_batch(&ids, &p, Some(spend), &output).unwrap();
        assert_eq!(batch.schema(), predictions_schema(&output, true));
        assert_eq!(
            names(&batch.schema()),
            [
                "customer_id",
                "p_alive",
                "expected_purchases",
                "dert",
                "expected_spend",
                "clv"
            ]
        );
        assert_eq!(ids_text(&batch), ["3", "b-2", "17"]);
        assert_eq!(floats(&batch, P_ALIVE), p.p_alive);
        assert_eq!(floats(&batch, EXPECTED_PURCHASES), p.expected_purchases);
        assert_eq!(floats(&batch, DERT), p.dert);
        assert_eq!(floats(&batch, EXPECTED_SPEND), spend.expected_spend);
        assert_eq!(decimals(&batch, CLV), clv);

        let ints = [id("3"), id("4"), id("17")];
        let bare = OutputOptions::new(IdType::of(&ints), MoneyScale::default());
        let batch = predictions_batch(&ints, &p, None, &bare).unwrap();
        assert_eq!(batch.schema(), predictions_schema(&bare, false));
        assert_eq!(batch.num_columns(), 4);
        assert_eq!(
            column::<UInt64Array>(&batch, CUSTOMER_ID).values().to_vec(),
            [3, 4, 17]
        );
    }

    #[test]
    fn predictions_of_another_length_or_not_finite_are_errors() {
        let ids = [id("3"), id("b-2"), id("17")];
        let output = OutputOptions::default();
        let mut p = predictions();
        p.dert.pop();
        assert_eq!(
            predictions_batch(&ids, &p, None, &output).unwrap_err(),
            ArrowOutputError::LengthMismatch {
                column: DERT,
                expected: 3,
                found: 2
            }
        );
        let clv = [Decimal::ONE; 2];
        let spend = SpendColumns {
            expected_spend: &[1.0; 3],
            clv: &clv,
        };
        assert_eq!(
            predictions_batch(&ids, &predictions(), Some(spend), &output).unwrap_err(),
            ArrowOutputError::LengthMismatch {
                column: CLV,
                expected: 3,
                found: 2
            }
        );
        let mut p = predictions();
        p.expected_purchases[1] = f64::NAN;
        match predictions_batch(&ids, &p, None, &output).unwrap_err() {
            ArrowOutputError::NotFinite {
                column,
                row,
                customer,
                value,
            } => {
                assert_eq!((column, row, customer), (EXPECTED_PURCHASES, 1, id("b-2")));
                assert!(value.is_nan());
            }
            other => panic!("{other:?}"),
        }
        let mut p = predictions();
        p.p_alive[2] = f64::INFINITY;
        assert!(matches!(
            predictions_batch(&ids, &p, None, &output),
            Err(ArrowOutputError::NotFinite {
                column: P_ALIVE,
                row: 2,
                ..
            })
        ));
    }

    fn report() -> EquityReport {
        let mut ledger = Ledger::new(LedgerOptions::default());
        ledger.extend_transactions(log(ROWS)).unwrap();
        let spend = GammaGamma::new(GammaGammaParameters {
            p: 6.0,
            q: 3.0,
            gamma: 15.0,
        })
        .unwrap();
        Valuation::builder()
            .ledger(&ledger)
            .as_of(day(4, 30))
            .unit(TimeUnit::WEEKS)
            .transaction_model(
                BgNbd::new(
                    BgNbdParameters {
                        r: 0.25,
                        alpha: 4.4,
                        a: 0.8,
                        b: 2.4,
                    },
                    TimeUnit::WEEKS,
                )
                .unwrap(),
            )
            .spend_model(spend)
            .margin(0.3)
            .discount(DiscountRate::per_period(0.10, 365.0).unwrap())
            .horizon(52.0)
            .segmenter("rfm", RfmParams::default())
            .segmenter("value", RfmParams::default())
            .build()
            .unwrap()
            .run()
            .unwrap()
    }

    #[test]
    fn report_columns_equal_the_customer_values() {
        let mut report = report();
        report.customers[0].tier = Some(Arc::from("gold"));
        report.customers[0].asset_class = AssetClass::WinBack;
        let output = OutputOptions::for_report(&report);
        assert_eq!(output.ids, IdType::Utf8);
        let batch = report_customers_batch(&report, &output).unwrap();
        assert_eq!(
            batch.schema(),
            report_customers_schema(&["rfm", "value"], &output).unwrap()
        );
        assert_eq!(
            names(&batch.schema()),
            [
                "customer_id",
                "segment_rfm",
                "segment_value",
                "tier",
                "p_alive",
                "expected_purchases",
                "expected_spend",
                "dert",
                "clv",
                "asset_class",
                "referrals",
                "referral_value"
            ]
        );
        let rows = &report.customers;
        assert_eq!(batch.num_rows(), rows.len());
        assert_eq!(ids_text(&batch), ["1", "2", "acme"]);
        for (i, name) in ["segment_rfm", "segment_value"].into_iter().enumerate() {
            let labels: Vec<_> = rows
                .iter()
                .map(|c| Some(c.segments[i].1.to_string()))
                .collect();
            assert_eq!(texts(&batch, name), labels, "{name}");
        }
        assert_eq!(
            texts(&batch, "tier"),
            [Some("gold".to_string()), None, None]
        );
        let get = |f: fn(&CustomerValue) -> f64| rows.iter().map(f).collect::<Vec<_>>();
        assert_eq!(floats(&batch, P_ALIVE), get(|c| c.p_alive));
        assert_eq!(
            floats(&batch, EXPECTED_PURCHASES),
            get(|c| c.expected_purchases)
        );
        assert_eq!(floats(&batch, EXPECTED_SPEND), get(|c| c.expected_spend));
        assert_eq!(floats(&batch, DERT), get(|c| c.dert));
        assert_eq!(
            decimals(&batch, CLV),
            rows.iter().map(|c| c.clv).collect::<Vec<_>>()
        );
        let classes: Vec<_> = rows
            .iter()
            .map(|c| Some(asset_class_name(c.asset_class).to_string()))
            .collect();
        assert_eq!(texts(&batch, "asset_class"), classes);
        assert_eq!(classes[0].as_deref(), Some("win_back"));
        assert_eq!(
            column::<UInt32Array>(&batch, "referrals").values().to_vec(),
            rows.iter().map(|c| c.referrals).collect::<Vec<_>>()
        );
        assert_eq!(
            decimals(&batch, "referral_value"),
            rows.iter().map(|c| c.referral_value).collect::<Vec<_>>()
        );

        // Without customers the segmenters' columns stay.
        report.customers.clear();
        let empty = report_customers_batch(&report, &OutputOptions::for_report(&report)).unwrap();
        assert_eq!(empty.num_rows(), 0);
        assert_eq!(empty.num_columns(), 12);
    }

    #[test]
    fn report_segments_out_of_line_or_named_twice_are_errors() {
        let mut report = report();
        report.customers[1].segments.swap(0, 1);
        assert_eq!(
            report_customers_batch(&report, &OutputOptions::default()).unwrap_err(),
            ArrowOutputError::SegmentMismatch {
                row: 1,
                customer: id("2"),
                expected: vec!["rfm".into(), "value".into()],
                found: vec!["value".into(), "rfm".into()],
            }
        );
        report.customers[1].segments.pop();
        assert!(matches!(
            report_customers_batch(&report, &OutputOptions::default()),
            Err(ArrowOutputError::SegmentMismatch { row: 1, .. })
        ));
        assert_eq!(
            report_customers_schema(&["rfm", "abc", "rfm"], &OutputOptions::default()).unwrap_err(),
            ArrowOutputError::DuplicateColumn("segment_rfm".into())
        );
        let mut report = self::report();
        report.by_segment[1].segmenter = "rfm".into();
        assert_eq!(
            report_customers_batch(&report, &OutputOptions::default()).unwrap_err(),
            ArrowOutputError::DuplicateColumn("segment_rfm".into())
        );
    }

    #[test]
    fn timestamps_are_microseconds_since_the_epoch() {
        let s = summarize(ROWS, SummaryOptions::new(day(4, 30), TimeUnit::DAYS));
        let batch = summaries_batch(&s, &OutputOptions::for_summaries(&s)).unwrap();
        let first: &TimestampMicrosecondArray = column(&batch, "first_purchase");
        // 2024-01-03 00:00 is 19,725 days after 1970-01-01.
        assert_eq!(first.value(0), 19_725 * 86_400 * 1_000_000);
    }
}
