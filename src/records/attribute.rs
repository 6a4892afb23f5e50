//! Typed customer attributes: one value of one attribute, a number or a category, and the rules
//! for attribute names. Covariate designs ([`crate::covariates`]) read them; they are defined
//! here, with the records, because a [`Customer`](super::Customer) carries them.

use std::fmt;

use super::label::label_problem_reason;

/// The longest attribute name, in characters.
pub const MAX_ATTRIBUTE_NAME_LEN: usize = 64;
/// The longest category label, in characters.
pub const MAX_CATEGORY_LEN: usize = 200;

/// The attribute names a [`Customer`](super::Customer) keeps for its own channel and region,
/// which designs read as categorical attributes under these names.
pub const RESERVED_ATTRIBUTE_NAMES: [&str; 2] = ["channel", "region"];

/// Why an attribute name or value was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AttributeError {
    /// An attribute name is blank, holds a control character, is too long (see
    /// [`MAX_ATTRIBUTE_NAME_LEN`]) or is reserved (see [`RESERVED_ATTRIBUTE_NAMES`]).
    #[error("attribute name {name:?} is not usable: {reason}")]
    BadName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A category label is blank, holds a control character or is too long (see
    /// [`MAX_CATEGORY_LEN`]).
    #[error("category {value:?} is not usable: {reason}")]
    BadCategory {
        /// The label as given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A numeric value is NaN or infinite.
    #[error("attribute value {value} is not finite")]
    NotFinite {
        /// The value.
        value: f64,
    },
}

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
/// [`AttributeValue::number`] and [`AttributeValue::category`], which check it (a value built
/// from the variants directly is checked again wherever it is stored or encoded).
///
/// Serialized as a JSON number or string.
///
/// ```
/// use customer_assets::covariates::AttributeValue;
/// assert_eq!(AttributeValue::number(34.0)?.as_number(), Some(34.0));
/// assert_eq!(AttributeValue::category(" north ")?.as_category(), Some("north"));
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
    type Error = AttributeError;
    fn try_from(raw: ValueRaw) -> Result<Self, Self::Error> {
        match raw {
            ValueRaw::Number(v) => AttributeValue::number(v),
            ValueRaw::Category(c) => AttributeValue::category(&c),
        }
    }
}

impl AttributeValue {
    /// A numeric value (−0 is stored as 0).
    ///
    /// # Errors
    /// [`AttributeError::NotFinite`] for NaN or an infinity.
    pub fn number(value: f64) -> Result<Self, AttributeError> {
        if value.is_finite() {
            Ok(AttributeValue::Number(value + 0.0))
        } else {
            Err(AttributeError::NotFinite { value })
        }
    }

    /// A category label, trimmed of surrounding white space.
    ///
    /// # Errors
    /// [`AttributeError::BadCategory`] for a blank label, a control character or more than
    /// [`MAX_CATEGORY_LEN`] characters.
    pub fn category(label: &str) -> Result<Self, AttributeError> {
        let trimmed = label.trim();
        match label_problem_reason(trimmed, MAX_CATEGORY_LEN) {
            Some(reason) => Err(AttributeError::BadCategory {
                value: label.to_string(),
                reason,
            }),
            None => Ok(AttributeValue::Category(trimmed.to_string())),
        }
    }

    /// The value as the constructors would have built it: a value made from the variants
    /// directly passes through the same checks.
    ///
    /// # Errors
    /// As [`number`](Self::number) and [`category`](Self::category).
    pub fn checked(self) -> Result<Self, AttributeError> {
        match self {
            AttributeValue::Number(v) => AttributeValue::number(v),
            AttributeValue::Category(c) => {
                if label_problem_reason(&c, MAX_CATEGORY_LEN).is_none() && c.trim() == c {
                    Ok(AttributeValue::Category(c))
                } else {
                    AttributeValue::category(&c)
                }
            }
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
/// [`MAX_ATTRIBUTE_NAME_LEN`] characters. Returns it trimmed.
pub(crate) fn check_name(name: &str) -> Result<String, AttributeError> {
    let trimmed = name.trim();
    match label_problem_reason(trimmed, MAX_ATTRIBUTE_NAME_LEN) {
        Some(reason) => Err(AttributeError::BadName {
            name: name.to_string(),
            reason,
        }),
        None => Ok(trimmed.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_and_kinds_named() {
        assert_eq!(
            AttributeValue::number(-0.0).unwrap(),
            AttributeValue::Number(0.0)
        );
        assert!(AttributeValue::number(f64::INFINITY).is_err());
        assert_eq!(
            AttributeValue::category(" a ").unwrap().kind(),
            AttributeKind::Categorical
        );
        assert_eq!(AttributeKind::Numeric.name(), "numeric");
        assert!(AttributeValue::category("a\nb").is_err());
        assert!(AttributeValue::category(&"x".repeat(MAX_CATEGORY_LEN + 1)).is_err());
        // Values built from the variants are checked again.
        assert!(AttributeValue::Number(f64::NAN).checked().is_err());
        assert!(AttributeValue::Category(" ".into()).checked().is_err());
        assert_eq!(
            AttributeValue::Category(" a ".into()).checked().unwrap(),
            AttributeValue::Category("a".into())
        );
        assert_eq!(check_name(" age ").unwrap(), "age");
        assert!(check_name(&"n".repeat(MAX_ATTRIBUTE_NAME_LEN + 1)).is_err());
        assert_eq!(AttributeValue::number(1.5).unwrap().to_string(), "1.5");
    }

    #[cfg(feature = "serde")]
    #[test]
    fn values_serialize_as_numbers_and_strings_and_are_checked_on_the_way_in() {
        let v: Vec<AttributeValue> = serde_json::from_str(r#"[34, " north "]"#).unwrap();
        assert_eq!(
            v,
            [
                AttributeValue::Number(34.0),
                AttributeValue::Category("north".into())
            ]
        );
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"[34.0,"north"]"#);
        assert!(serde_json::from_str::<AttributeValue>(r#""""#).is_err());
        assert!(serde_json::from_str::<AttributeValue>("null").is_err());
    }
}
