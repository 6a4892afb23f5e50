//! Why a simulation could not run.

use chrono::NaiveDate;

use crate::covariates::CovariateError;
use crate::error::InvalidParameter;

/// Why a simulation could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimulationError {
    /// A process or spend parameter is not a finite positive number (or outside its range).
    #[error(transparent)]
    InvalidParameter(#[from] InvalidParameter),
    /// The observation window ends before the acquisition window closes.
    #[error(
        "observation ends on {end}, before the last possible first purchase on {last_acquisition}"
    )]
    WindowTooShort {
        /// Last day of observation.
        end: NaiveDate,
        /// Last day of the acquisition window.
        last_acquisition: NaiveDate,
    },
    /// A date fell outside chrono's range.
    #[error("a simulated date fell outside the supported calendar range")]
    DateOutOfRange,
    /// A simulated customer reached [`MAX_REPEAT_PURCHASES`](super::MAX_REPEAT_PURCHASES)
    /// repeat purchases (a purchase rate far too high for the horizon).
    #[error("simulated customer {customer} makes {purchases} or more repeat purchases, more than the limit of {limit}")]
    TooManyPurchases {
        /// The customer's id (1-based).
        customer: u64,
        /// Purchases drawn.
        purchases: usize,
        /// The limit.
        limit: usize,
    },
    /// More customers were asked for than [`MAX_CUSTOMERS`](super::MAX_CUSTOMERS).
    #[error("{customers} customers asked for, more than the limit of {limit}")]
    TooManyCustomers {
        /// Customers asked for.
        customers: usize,
        /// The limit.
        limit: usize,
    },
    /// A drawn design or the simulated covariate data was refused (a bad or repeated column
    /// name, say).
    #[error(transparent)]
    Covariates(#[from] CovariateError),
}
