//! Why a segmenter could not learn or assign.

use crate::error::InvalidParameter;
use std::error::Error;
use std::fmt;
use std::sync::Arc;

use super::feature::Feature;
use crate::records::CustomerId;

/// Why a segmenter could not learn or assign.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// The population to learn from was empty.
    #[error("cannot learn a segmentation from an empty population")]
    EmptyPopulation,
    /// A feature value was NaN or infinite.
    #[error("customer {customer}: {feature} is {}, not a finite number", crate::error::short(*.value))]
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
    #[error("customer {customer}: {feature} = {} {reason}", crate::error::short(*.value))]
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
    /// A parameter of the segmenter (or of a learnt segmentation read back) was invalid.
    #[error(transparent)]
    InvalidParameter(#[from] InvalidParameter),
    /// A learnt segmentation was applied to customers of another shape (e.g. another number of
    /// features).
    #[error("shape mismatch: {0}")]
    ShapeMismatch(String),
    /// A downstream segmenter's own failure, displayed as that error, with its source (make one
    /// with [`SegmentError::custom`]).
    #[error(transparent)]
    Custom(CustomError),
}

impl SegmentError {
    pub(crate) fn invalid(
        name: &'static str,
        value: impl fmt::Display,
        reason: &'static str,
    ) -> Self {
        SegmentError::InvalidParameter(InvalidParameter::new(name, value.to_string(), reason))
    }

    /// A downstream segmenter's own error (any error, or a message), kept as the source.
    ///
    /// ```
    /// use customer_assets::segment::SegmentError;
    /// let io = std::io::Error::other("the CRM export has no tier column");
    /// let err = SegmentError::custom(io);
    /// assert_eq!(err.to_string(), "the CRM export has no tier column");
    /// let SegmentError::Custom(custom) = &err else { return Err("not custom".into()) };
    /// assert!(custom.get_ref().is::<std::io::Error>());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn custom(error: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        SegmentError::Custom(CustomError(Arc::from(error.into())))
    }
}

/// A downstream segmenter's error inside [`SegmentError::Custom`]: shared, so that the
/// [`SegmentError`] stays `Clone`; displayed as the error itself, whose source it passes on. Two
/// are equal when they hold the same error value (one is a clone of the other).
#[derive(Clone)]
pub struct CustomError(Arc<dyn Error + Send + Sync>);

impl CustomError {
    /// The downstream error.
    pub fn get_ref(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl PartialEq for CustomError {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for CustomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for CustomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Error for CustomError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}
