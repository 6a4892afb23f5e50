//! The one error every constructor and settings check of the crate returns for a value out of
//! its domain.

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
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid parameter {name} = {value}: {reason}")]
pub struct InvalidParameter {
    name: &'static str,
    value: ParameterValue,
    reason: &'static str,
}

/// The value an [`InvalidParameter`] names: a number, or the text of a value that is not one
/// (a list of tiers, a cut point, a pair of shares).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ParameterValue {
    /// A numeric value (counts are converted exactly up to 2⁵³).
    Number(f64),
    /// Any other value, as displayed.
    Text(String),
}

impl std::fmt::Display for ParameterValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParameterValue::Number(v) => write!(f, "{}", short(*v)),
            ParameterValue::Text(t) => f.write_str(t),
        }
    }
}

impl From<f64> for ParameterValue {
    fn from(v: f64) -> Self {
        ParameterValue::Number(v)
    }
}

impl From<u32> for ParameterValue {
    fn from(v: u32) -> Self {
        ParameterValue::Number(f64::from(v))
    }
}

impl From<usize> for ParameterValue {
    fn from(v: usize) -> Self {
        ParameterValue::Text(v.to_string())
    }
}

impl From<String> for ParameterValue {
    fn from(v: String) -> Self {
        ParameterValue::Text(v)
    }
}

impl From<&str> for ParameterValue {
    fn from(v: &str) -> Self {
        ParameterValue::Text(v.to_string())
    }
}

/// `rows` with the weights `weights` set by `set` (one per row, finite and non-negative), the
/// rows of weight 0 left out: the checked re-weighting of the bootstrap's resamples.
pub(crate) fn reweighted_rows<T>(
    rows: &[T],
    weights: &[f64],
    set: impl Fn(&T, f64) -> T,
) -> Result<Vec<T>, InvalidParameter> {
    if weights.len() != rows.len() {
        return Err(InvalidParameter::new(
            "weights",
            weights.len() as f64,
            "must be one per row",
        ));
    }
    if let Some(&w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
        return Err(InvalidParameter::new(
            "weights",
            w,
            "must be finite and non-negative",
        ));
    }
    let kept: Vec<T> = rows
        .iter()
        .zip(weights)
        .filter(|(_, w)| **w > 0.0)
        .map(|(row, &w)| set(row, w))
        .collect();
    if kept.is_empty() {
        return Err(InvalidParameter::new(
            "weights",
            0.0,
            "some weight must be above 0",
        ));
    }
    Ok(kept)
}

impl InvalidParameter {
    /// `name` = `value` is invalid because of `reason` (what is required).
    pub fn new(name: &'static str, value: impl Into<ParameterValue>, reason: &'static str) -> Self {
        InvalidParameter {
            name,
            value: value.into(),
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
    pub fn value(&self) -> &ParameterValue {
        &self.value
    }

    /// The value given, when it is a number.
    pub fn number(&self) -> Option<f64> {
        match self.value {
            ParameterValue::Number(v) => Some(v),
            ParameterValue::Text(_) => None,
        }
    }

    /// What is required.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

/// A number as error messages print it: as written when short (`0.5`, `-4.4`, `1000`), to six
/// decimals for moderate values with long expansions (`0.3`, not `0.30000000000000004`), and in
/// short scientific form otherwise (`1.000e300`, not 301 digits).
pub(crate) fn short(v: f64) -> ShortNumber {
    ShortNumber(v)
}

/// See [`short`].
pub(crate) struct ShortNumber(f64);

impl std::fmt::Display for ShortNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        let plain = v.to_string();
        if !v.is_finite() || plain.len() <= 12 {
            return f.write_str(&plain);
        }
        if (1e-3..1e9).contains(&v.abs()) {
            let fixed = format!("{v:.6}");
            return f.write_str(fixed.trim_end_matches('0').trim_end_matches('.'));
        }
        write!(f, "{v:.3e}")
    }
}

#[cfg(test)]
mod short_number_tests {
    use super::short;

    #[test]
    fn numbers_print_short() {
        let cases = [
            (0.5, "0.5"),
            (-4.4, "-4.4"),
            (4294967295.0, "4294967295"),
            (0.1 + 0.2, "0.3"),
            (12345.678901234, "12345.678901"),
            (1e300, "1.000e300"),
            (-6.931471805599453e21, "-6.931e21"),
            (1.2345678e-7, "1.235e-7"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-inf"),
            (0.0, "0"),
        ];
        for (v, want) in cases {
            assert_eq!(short(v).to_string(), want, "{v:e}");
        }
    }
}
