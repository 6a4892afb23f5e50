//! Why transactions could not be read from Arrow arrays.

use arrow_schema::DataType;
use rust_decimal::Decimal;

/// Why transactions could not be read from an Arrow record batch (or arrays): names the column
/// and, for a bad value, the row (its index within the batch, plus the offset given to
/// [`with_row_offset`](Self::with_row_offset)). On any of these the accumulator is unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ArrowInputError {
    /// The batch has no column of that name.
    #[error("column {column}: not in the record batch")]
    MissingColumn {
        /// The column looked for.
        column: String,
    },
    /// The column's data type is not one this reader accepts.
    #[error("column {column}: data type {found} is not accepted (accepted: {accepted})")]
    UnsupportedType {
        /// The column.
        column: String,
        /// Its data type.
        found: DataType,
        /// The types accepted for it.
        accepted: &'static str,
    },
    /// Arrays given directly differ in length.
    #[error("column {column}: {len} rows where the customer column has {expected}")]
    LengthMismatch {
        /// The column.
        column: String,
        /// Its length.
        len: usize,
        /// The customer column's length.
        expected: usize,
    },
    /// A timestamp column whose type carries a time zone, read with no
    /// [`TimeZoneRule`](super::TimeZoneRule) set: the day of an instant depends on the zone, so
    /// it is never guessed.
    #[error("column {column}: timestamps in zone {zone} need a time-zone rule to be read as days")]
    ZonedWithoutRule {
        /// The column.
        column: String,
        /// The zone its type names.
        zone: String,
    },
    /// A null in a column every row needs.
    #[error("column {column}, row {row}: null")]
    Null {
        /// The column.
        column: String,
        /// The row.
        row: u64,
    },
    /// An empty (or white-space) customer id.
    #[error("column {column}, row {row}: empty customer id")]
    EmptyCustomerId {
        /// The column.
        column: String,
        /// The row.
        row: u64,
    },
    /// A date or timestamp outside chrono's range (or, with the zone rule's offset, beyond it).
    #[error("column {column}, row {row}: value {value} is out of the range of dates")]
    DateOutOfRange {
        /// The column.
        column: String,
        /// The row.
        row: u64,
        /// The raw value (days, milliseconds or the timestamp's unit).
        value: i64,
    },
    /// An amount that is not finite, or does not fit a [`Decimal`] exactly (more than 28
    /// digits after the point, or 96 bits, that are not trailing zeros).
    #[error("column {column}, row {row}: amount {value} does not fit a decimal exactly")]
    AmountDoesNotFit {
        /// The column.
        column: String,
        /// The row.
        row: u64,
        /// The value as written (a decimal's unscaled integer with `e-` its scale).
        value: String,
    },
    /// A negative amount: a return carries the positive sum refunded, as
    /// [`Transaction::new`](crate::Transaction::new) requires.
    #[error("column {column}, row {row}: negative amount {amount}")]
    NegativeAmount {
        /// The column.
        column: String,
        /// The row.
        row: u64,
        /// The amount.
        amount: Decimal,
    },
    /// A kind that is neither `purchase` nor `return`.
    #[error("column {column}, row {row}: kind {value:?} is neither \"purchase\" nor \"return\"")]
    UnknownKind {
        /// The column.
        column: String,
        /// The row.
        row: u64,
        /// The text found.
        value: String,
    },
}

impl ArrowInputError {
    /// The column at fault.
    pub fn column(&self) -> &str {
        match self {
            ArrowInputError::MissingColumn { column }
            | ArrowInputError::UnsupportedType { column, .. }
            | ArrowInputError::LengthMismatch { column, .. }
            | ArrowInputError::ZonedWithoutRule { column, .. }
            | ArrowInputError::Null { column, .. }
            | ArrowInputError::EmptyCustomerId { column, .. }
            | ArrowInputError::DateOutOfRange { column, .. }
            | ArrowInputError::AmountDoesNotFit { column, .. }
            | ArrowInputError::NegativeAmount { column, .. }
            | ArrowInputError::UnknownKind { column, .. } => column,
        }
    }

    /// The row at fault, for an error of one value.
    pub fn row(&self) -> Option<u64> {
        self.clone().row_mut().copied()
    }

    /// The error with `first_row` added to its row: pass the number of rows of the stream before
    /// this batch to name rows of the whole stream (saturating at `u64::MAX`).
    #[must_use]
    pub fn with_row_offset(mut self, first_row: u64) -> Self {
        if let Some(row) = self.row_mut() {
            *row = row.saturating_add(first_row);
        }
        self
    }

    fn row_mut(&mut self) -> Option<&mut u64> {
        match self {
            ArrowInputError::Null { row, .. }
            | ArrowInputError::EmptyCustomerId { row, .. }
            | ArrowInputError::DateOutOfRange { row, .. }
            | ArrowInputError::AmountDoesNotFit { row, .. }
            | ArrowInputError::NegativeAmount { row, .. }
            | ArrowInputError::UnknownKind { row, .. } => Some(row),
            ArrowInputError::MissingColumn { .. }
            | ArrowInputError::UnsupportedType { .. }
            | ArrowInputError::LengthMismatch { .. }
            | ArrowInputError::ZonedWithoutRule { .. } => None,
        }
    }
}
