//! Why a segmenter could not learn or assign.

use super::Feature;
use crate::records::CustomerId;

/// Why a segmenter could not learn or assign.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SegmentError {
    /// The population to learn from was empty.
    #[error("cannot learn a segmentation from an empty population")]
    EmptyPopulation,
    /// A feature value was NaN or infinite.
    #[error("customer {customer}: {feature} is {value}, not a finite number")]
    NotFinite {
        /// The customer.
        customer: CustomerId,
        /// The feature.
        feature: Feature,
        /// The value found.
        value: f64,
    },
    /// A feature the segmenter needs was not supplied for a customer (e.g. P(alive)).
    #[error("customer {customer}: {feature} was not supplied")]
    MissingFeature {
        /// The customer.
        customer: CustomerId,
        /// The feature.
        feature: Feature,
    },
    /// A value lay outside the range the segmenter accepts (a negative value for ABC classes,
    /// a P(alive) outside 0..=1, a recency above the age).
    #[error("customer {customer}: {feature} = {value} {reason}")]
    OutOfRange {
        /// The customer.
        customer: CustomerId,
        /// The feature.
        feature: Feature,
        /// The value found.
        value: f64,
        /// What is required.
        reason: &'static str,
    },
    /// A parameter of the segmenter was invalid.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// A learnt segmentation was applied to customers of another shape (e.g. another number of
    /// features).
    #[error("shape mismatch: {0}")]
    ShapeMismatch(String),
    /// A downstream segmenter's own failure.
    #[error("{0}")]
    Custom(String),
}

impl SegmentError {
    pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        SegmentError::InvalidParameter {
            name,
            reason: reason.into(),
        }
    }
}
