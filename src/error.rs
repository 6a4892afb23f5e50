//! The one error every constructor of the crate returns for a value out of its domain.

/// A parameter, setting or option is outside its domain: its name, the value given and what is
/// required. Every validated constructor of the crate (model parameters, fit options, process
/// parameters) returns it, alone or inside its module's error.
///
/// ```
/// use customer_assets::models::bg_nbd::{BgNbd, BgNbdParameters};
/// use customer_assets::TimeUnit;
///
/// let bad = BgNbdParameters { r: 0.243, alpha: -4.4, a: 0.793, b: 2.426 };
/// let error = BgNbd::new(bad, TimeUnit::WEEKS).unwrap_err();
/// assert_eq!(error.name(), "alpha");
/// assert_eq!(error.to_string(), "invalid parameter alpha = -4.4: must be finite and positive");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("invalid parameter {name} = {value}: {reason}")]
pub struct InvalidParameter {
    name: &'static str,
    value: f64,
    reason: &'static str,
}

impl InvalidParameter {
    /// `name` = `value` is invalid because of `reason` (what is required).
    pub fn new(name: &'static str, value: f64, reason: &'static str) -> Self {
        InvalidParameter {
            name,
            value,
            reason,
        }
    }

    /// `value` when it is finite and strictly positive.
    ///
    /// # Errors
    /// [`InvalidParameter`] "must be finite and positive" otherwise.
    pub fn positive(name: &'static str, value: f64) -> Result<f64, InvalidParameter> {
        if value.is_finite() && value > 0.0 {
            Ok(value)
        } else {
            Err(InvalidParameter::new(
                name,
                value,
                "must be finite and positive",
            ))
        }
    }

    /// Which parameter.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The value given.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// What is required.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}
