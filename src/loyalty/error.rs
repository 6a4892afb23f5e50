//! Why replaying a member's records failed.

use chrono::NaiveDate;

use crate::records::CustomerId;

use super::points::PointsError;
use super::window::WindowError;

/// Why a replay failed. Each variant names the customer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoyaltyError {
    /// A points operation failed (e.g. a redemption above the balance).
    #[error(transparent)]
    Points(#[from] PointsError),
    /// A date computation left the calendar.
    #[error(transparent)]
    Window(#[from] WindowError),
    /// A transaction is dated before the membership started.
    #[error("customer {customer}: transaction {record} is dated before the membership started on {joined}")]
    BeforeMembership {
        /// The member.
        customer: CustomerId,
        /// The transaction.
        record: String,
        /// Start of the membership.
        joined: NaiveDate,
    },
    /// A record given for one member belongs to another.
    #[error("records of customer {expected} include one of customer {found}")]
    ForeignRecord {
        /// The member replayed.
        expected: CustomerId,
        /// The customer on the record.
        found: CustomerId,
    },
    /// Neither a joining date nor any transaction: the membership has no start.
    #[error("customer {0}: no joining date and no transaction")]
    NoMembershipStart(CustomerId),
    /// The as-of date is before the membership started.
    #[error(
        "customer {customer}: as-of date {as_of} is before the membership started on {joined}"
    )]
    NotYetMember {
        /// The member.
        customer: CustomerId,
        /// The as-of date.
        as_of: NaiveDate,
        /// Start of the membership.
        joined: NaiveDate,
    },
    /// A lock names a tier the ladder does not have.
    #[error("customer {customer}: lock on unknown tier {tier:?}")]
    UnknownLockTier {
        /// The member.
        customer: CustomerId,
        /// The tier named.
        tier: String,
    },
    /// A lock ends on or before its first day.
    #[error("customer {customer}: lock from {from} until {until} is empty")]
    EmptyLock {
        /// The member.
        customer: CustomerId,
        /// First day.
        from: NaiveDate,
        /// End (exclusive).
        until: NaiveDate,
    },
    /// Two locks of one member overlap.
    #[error("customer {customer}: locks overlap around {date}")]
    OverlappingLocks {
        /// The member.
        customer: CustomerId,
        /// Start of the later lock.
        date: NaiveDate,
    },
    /// The ladder uses a custom metric but the evaluator was given none (or another).
    #[error("the ladder's metric is the custom metric {0:?}, which the evaluator was not given")]
    MissingCustomMetric(String),
    /// Arithmetic overflow in a qualifying value.
    #[error("customer {0}: qualifying value overflows")]
    Overflow(CustomerId),
}
