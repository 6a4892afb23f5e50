//! Why an attribute profile was refused.

use crate::error::InvalidParameter;
use crate::records::CustomerId;

/// Why [`AttributeProfile::compute`](super::AttributeProfile::compute) or
/// [`Behaviour`](super::Behaviour)'s constructors refused their input. Degenerate data (a
/// constant attribute, one level, too few customers) is no error: those statistics are
/// [`NotComputable`](super::NotComputable).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The confidence level is not strictly between 0 and 1.
    #[error(transparent)]
    InvalidParameter(#[from] InvalidParameter),
    /// No behaviour row was given.
    #[error("no customer behaviour to profile")]
    NoCustomers,
    /// The attribute table holds no attribute.
    #[error("the attribute table holds no attribute")]
    NoAttributes,
    /// Two behaviour rows name the same customer.
    #[error("customer {customer} has two behaviour rows")]
    DuplicateCustomer {
        /// The customer.
        customer: CustomerId,
    },
    /// A behaviour value is not finite or out of its range.
    #[error("customer {customer}: {measure} = {value} is not usable: {reason}")]
    InvalidBehaviour {
        /// The customer.
        customer: CustomerId,
        /// The measure (`mean_spend`, `p_alive`, `clv`).
        measure: &'static str,
        /// The value.
        value: f64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A customer of the report has no summary to take its frequency and mean spend from.
    #[error("customer {customer} of the report has no summary")]
    NotInSummaries {
        /// The customer.
        customer: CustomerId,
    },
}
