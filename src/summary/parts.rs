//! The canonical, columnar form of a [`SummaryAccumulator`](super::SummaryAccumulator)'s partial
//! state: what travels between processes (serde, or an Arrow record batch) to be merged.

use rust_decimal::Decimal;

use super::options::{Grain, ReturnPolicy};
use crate::records::CustomerId;

/// The version of the partial-state format written now; reading another is an error.
pub(crate) const PARTS_VERSION: u32 = 1;

/// A partial accumulator as columns: its customers in arrival order, and one row per entry
/// (records of one customer, moment and kind folded into one, up to an entry's capacity),
/// grouped by customer in arrival order and sorted by moment and kind within a customer.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub(crate) struct AccumulatorParts {
    /// The format version ([`PARTS_VERSION`]).
    pub(crate) version: u32,
    pub(crate) grain: Grain,
    pub(crate) returns: ReturnPolicy,
    /// The customers in the order they first appeared.
    pub(crate) customers: Vec<CustomerId>,
    /// Each entry's customer: an index into `customers`.
    pub(crate) owner: Vec<u64>,
    /// Each entry's moment: days from the common era (0001-01-01 is day 1) at [`Grain::Day`],
    /// microseconds since 1970-01-01T00:00:00 (wall clock) at [`Grain::Timestamp`].
    pub(crate) moment: Vec<i64>,
    /// Each entry's number of records, 1 to 255.
    pub(crate) count: Vec<u32>,
    /// Each entry's total amount (never negative).
    pub(crate) amount: Vec<Decimal>,
    /// Whether each entry holds returns (else purchases).
    pub(crate) is_return: Vec<bool>,
}
