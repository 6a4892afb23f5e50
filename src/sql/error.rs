//! Why a summary query could not be written.

use chrono::NaiveDate;

/// Why [`SummarySql`](crate::sql::SummarySql) could not write its query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SqlError {
    /// A table or column name is empty (or a qualified table name has an empty part).
    #[error("the {what} name is empty (or has an empty part between dots)")]
    EmptyIdentifier {
        /// Which name: `table`, `customer column`, `date column`, `amount column` or `kind column`.
        what: &'static str,
    },
    /// A table or column name holds a character no dialect can be trusted to quote: a double
    /// quote, a backtick or a control character (line ends included).
    #[error(
        "the {what} name {name:?} holds {character:?}, which is not allowed in a quoted SQL name"
    )]
    UnsafeIdentifier {
        /// Which name.
        what: &'static str,
        /// The name given.
        name: String,
        /// The first character refused.
        character: char,
    },
    /// A name is longer than the dialect keeps: PostgreSQL cuts names after 63 bytes, so a
    /// longer one could name another column.
    #[error("the {what} name {name:?} is {bytes} bytes long; {dialect} keeps only {max}")]
    IdentifierTooLong {
        /// Which name.
        what: &'static str,
        /// The name given.
        name: String,
        /// Its length in bytes.
        bytes: usize,
        /// The dialect.
        dialect: &'static str,
        /// The longest name the dialect keeps, in bytes.
        max: usize,
    },
    /// A kind value (what marks a purchase or a return) is empty or holds a quote, a backslash or
    /// a control character: string literals with those are read differently by the engines.
    #[error("the {what} value {value:?} must be non-empty, without quotes, backslashes or control characters")]
    UnsafeValue {
        /// `purchase kind` or `return kind`.
        what: &'static str,
        /// The value given.
        value: String,
    },
    /// The purchase and return kind values are the same.
    #[error("the purchase and return kind values are both {0:?}")]
    SameKindValues(String),
    /// A date lies outside the years 1 to 9999 every engine's DATE supports.
    #[error("the {what} {date} lies outside the years 1 to 9999 SQL dates support")]
    DateOutOfRange {
        /// `as-of date` or `holdout end`.
        what: &'static str,
        /// The date given.
        date: NaiveDate,
    },
    /// The holdout ends on or before the as-of date.
    #[error("holdout end {holdout_end} must come after the as-of date {as_of}")]
    HoldoutBeforeAsOf {
        /// The as-of date (last day of calibration).
        as_of: NaiveDate,
        /// The holdout end given.
        holdout_end: NaiveDate,
    },
    /// A dialect name that is not one of `datafusion`, `spark`, `duckdb`, `postgres`.
    #[error("unknown SQL dialect {0:?} (expected datafusion, spark, duckdb or postgres)")]
    UnknownDialect(String),
}
