//! One attribute value of one customer: a number or a category.

use std::fmt;

use super::error::CovariateError;
use crate::records::label_problem_reason;

/// The longest attribute name, in characters.
pub const MAX_ATTRIBUTE_NAME_LEN: usize = 64;
/// The longest category label, in characters.
pub const MAX_CATEGORY_LEN: usize = 200;

/// Whether an attribute is numeric or categorical.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum AttributeKind {
    /// A finite number (age, income, a 0/1 flag).
    Numeric,
    /// A label among levels (region, channel, campaign).
    Categorical,
}

impl AttributeKind {
    /// `"numeric"` or `"categorical"`.
    pub fn name(self) -> &'static str {
        match self {
            AttributeKind::Numeric => "numeric",
            AttributeKind::Categorical => "categorical",
        }
    }
}

/// A customer's value of one attribute: a finite number or a category label. Built through
/// [`AttributeValue::number`] and [`AttributeValue::category`], which check it.
///
/// ```
/// use customer_assets::covariates::AttributeValue;
/// assert_eq!(AttributeValue::number(34.0)?.as_number(), Some(34.0));
/// assert_eq!(AttributeValue::category("north")?.as_category(), Some("north"));
/// assert!(AttributeValue::number(f64::NAN).is_err());
/// assert!(AttributeValue::category(" ").is_err());
/// # Ok::<(), customer_assets::covariates::CovariateError>(())
/// ```
#[derive(Clone, PartialEq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(untagged, try_from = "ValueRaw"))]
pub enum AttributeValue {
    /// A finite number.
    Number(f64),
    /// A category label, trimmed.
    Category(String),
}

#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum ValueRaw {
    Number(f64),
    Category(String),
}

#[cfg(feature = "serde")]
impl TryFrom<ValueRaw> for AttributeValue {
    type Error = CovariateError;
    fn try_from(raw: ValueRaw) -> Result<Self, Self::Error> {
        match raw {
            ValueRaw::Number(v) => AttributeValue::number(v),
            ValueRaw::Category(c) => AttributeValue::category(&c),
        }
    }
}

impl AttributeValue {
    /// A numeric value.
    ///
    /// # Errors
    /// [`CovariateError::NotFinite`] for NaN or an infinity.
    pub fn number(value: f64) -> Result<Self, CovariateError> {
        if value.is_finite() {
            Ok(AttributeValue::Number(value + 0.0))
        } else {
            Err(CovariateError::NotFinite {
                attribute: String::new(),
                customer: None,
                value,
            })
        }
    }

    /// A category label, trimmed of surrounding white space.
    ///
    /// # Errors
    /// [`CovariateError::BadCategory`] for a blank label, a control character or more than
    /// [`MAX_CATEGORY_LEN`] characters.
    pub fn category(label: &str) -> Result<Self, CovariateError> {
        let trimmed = label.trim();
        match label_problem_reason(trimmed, MAX_CATEGORY_LEN) {
            Some(reason) => Err(CovariateError::BadCategory {
                attribute: String::new(),
                value: label.to_string(),
                reason,
            }),
            None => Ok(AttributeValue::Category(trimmed.to_string())),
        }
    }

    /// The kind of the value.
    pub fn kind(&self) -> AttributeKind {
        match self {
            AttributeValue::Number(_) => AttributeKind::Numeric,
            AttributeValue::Category(_) => AttributeKind::Categorical,
        }
    }

    /// The number, for a numeric value.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            AttributeValue::Number(v) => Some(*v),
            AttributeValue::Category(_) => None,
        }
    }

    /// The label, for a category.
    pub fn as_category(&self) -> Option<&str> {
        match self {
            AttributeValue::Number(_) => None,
            AttributeValue::Category(c) => Some(c),
        }
    }
}

impl fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeValue::Number(v) => write!(f, "{v}"),
            AttributeValue::Category(c) => f.write_str(c),
        }
    }
}

/// Checks an attribute name: trimmed, not blank, no control character, at most
/// [`MAX_ATTRIBUTE_NAME_LEN`] characters.
pub(crate) fn check_name(name: &str) -> Result<String, CovariateError> {
    let trimmed = name.trim();
    match label_problem_reason(trimmed, MAX_ATTRIBUTE_NAME_LEN) {
        Some(reason) => Err(CovariateError::BadName {
            name: name.to_string(),
            reason,
        }),
        None => Ok(trimmed.to_string()),
    }
}
