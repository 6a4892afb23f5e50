//! Why a KPI could not be computed.

use crate::error::InvalidParameter;
use crate::records::CustomerId;
use crate::summary::SummaryError;

/// Why a KPI could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum KpiError {
    /// A period ends before it starts, or two periods that must not overlap do.
    #[error("invalid period: {0}")]
    InvalidPeriod(String),
    /// The KPI's denominator is empty (no customers, orders or responses in the period).
    #[error("no {what} to compute {kpi} from")]
    Empty {
        /// What was missing.
        what: &'static str,
        /// Which KPI.
        kpi: &'static str,
    },
    /// A parameter or input value was invalid: not finite, negative where it must not be, or
    #[error(transparent)]
    InvalidParameter(#[from] InvalidParameter),
    /// A sum of money does not fit a decimal.
    #[error("{0} does not fit a decimal")]
    Overflow(&'static str),
    /// The ledger could not be summarised (for the KPIs read from summaries).
    #[error("the ledger could not be summarised: {0}")]
    Summary(#[from] SummaryError),
    /// A date computation left chrono's range.
    #[error("date out of range")]
    DateOutOfRange,
    /// A customer was given two different groups ([`CustomerGroups`](super::CustomerGroups)).
    #[error("customer {customer} is given two groups, {first} and {second}")]
    ConflictingGroups {
        /// The customer.
        customer: CustomerId,
        /// The group they were in.
        first: String,
        /// The other group.
        second: String,
    },
    /// A list of values per customer names a customer twice.
    #[error("customer {customer} appears twice in {what}")]
    DuplicateCustomer {
        /// The customer.
        customer: CustomerId,
        /// Which list.
        what: &'static str,
    },
    /// A result laid out per period would have more periods than its documented limit.
    #[error("{parameter} spans {periods} periods, more than the limit of {limit}")]
    TooManyPeriods {
        /// The input that sets the number of periods.
        parameter: &'static str,
        /// Periods asked for.
        periods: usize,
        /// The limit.
        limit: usize,
    },
}
