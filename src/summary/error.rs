//! Why summaries could not be computed.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

use super::options::Grain;

use crate::records::CustomerId;

/// Why summaries could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SummaryError {
    /// The holdout ends on or before the as-of date.
    #[error("holdout end {holdout_end} must come after the as-of date {as_of}")]
    HoldoutBeforeAsOf {
        /// The as-of date (last day of calibration).
        as_of: NaiveDate,
        /// The holdout end given.
        holdout_end: NaiveDate,
    },
    /// A return in the calibration period has no purchase at or before it to net against
    /// (`amount` totals the returns of that moment).
    #[error("customer {customer}: return of {amount} at {at} has no purchase at or before it")]
    ReturnWithoutPurchase {
        /// The customer.
        customer: CustomerId,
        /// The moment of the return.
        at: NaiveDateTime,
        /// Its amount.
        amount: Decimal,
    },
    /// The accumulators being merged use different grains or return policies.
    #[error("cannot merge accumulators built with different grains or return policies")]
    IncompatibleMerge,
    /// A batch of transactions was read at another grain than the accumulator's (its moments
    /// are keys of that grain).
    #[error("batch {batch} was read at grain {read:?}, the accumulator's grain is {expected:?}")]
    BatchGrain {
        /// The batch's position (0-based) among those given.
        batch: usize,
        /// The grain it was read at.
        read: Grain,
        /// The accumulator's grain.
        expected: Grain,
    },
    /// A date lies outside the range the calendar arithmetic supports.
    #[error("date {0} is out of range")]
    DateOutOfRange(NaiveDate),
    /// A decimal sum overflowed.
    #[error("customer {0}: spend total overflows a decimal")]
    SpendOverflow(CustomerId),
    /// A summary read from outside (serde) breaks what every computed summary satisfies.
    #[error("summary of customer {customer}: {reason}")]
    InvalidSummary {
        /// The customer.
        customer: CustomerId,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A partial accumulator read from outside (serde, or an Arrow record batch) is
    /// inconsistent: `field[index]` breaks `rule`.
    #[error("partial accumulator state: {field}[{index}] {rule}")]
    InvalidAccumulatorState {
        /// The field (column) at fault.
        field: &'static str,
        /// The position in it (0 for a field that is not a column).
        index: usize,
        /// What is wrong.
        rule: &'static str,
    },
    /// Summaries read from outside (serde) are not sorted by customer id, or name one twice.
    #[error("summaries are not sorted by customer id with each customer once: {customer} follows {previous}")]
    UnsortedSummaries {
        /// The customer out of place.
        customer: CustomerId,
        /// The one before it.
        previous: CustomerId,
    },
}
