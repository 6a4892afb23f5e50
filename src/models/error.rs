//! Why a prediction could not be made.

use crate::special::SpecialError;

/// Why a prediction could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PredictError {
    /// An input (history, horizon, rate, count) is outside the model's domain.
    #[error("invalid input {name} = {value}: {reason}")]
    InvalidInput {
        /// Which input.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What the model requires.
        reason: &'static str,
    },
    /// The computation failed numerically (for example a series that did not converge).
    #[error("numerical failure in {what}: {detail}")]
    Numerical {
        /// Which quantity.
        what: &'static str,
        /// Diagnostics.
        detail: String,
    },
    /// A special function the prediction needs (ln ₂F₁) could not be evaluated; the source says
    /// why (argument outside its domain, a series that did not converge).
    #[error("numerical failure in {what}: {source}")]
    SpecialFunction {
        /// Which quantity.
        what: &'static str,
        /// The special function's error.
        #[source]
        source: SpecialError,
    },
}
