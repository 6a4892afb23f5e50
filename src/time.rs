//! Time units: every duration the crate reports says which unit it is in.

use std::fmt;

/// Why a [`TimeUnit`] could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeUnitError {
    /// The length of a custom unit must be a finite number of days greater than zero.
    #[error("a time unit must last a finite, positive number of days, got {0}")]
    InvalidLength(f64),
}

/// The unit in which recency, age, horizons and rates are expressed.
///
/// A unit is a fixed number of days: [`TimeUnit::DAYS`], [`TimeUnit::WEEKS`] (7 days) or a custom
/// length. There is deliberately no "month": months differ in length, and a hidden factor such as
/// 4.345 weeks a month would make results depend on a convention the caller never chose. A caller
/// who wants 30-day periods says so with [`TimeUnit::custom_days`].
///
/// ```
/// use customer_assets::TimeUnit;
/// let fortnight = TimeUnit::custom_days(14.0)?;
/// assert_eq!(fortnight.days(), 14.0);
/// assert_eq!(TimeUnit::WEEKS.from_days(21.0), 3.0);
/// # Ok::<(), customer_assets::TimeUnitError>(())
/// ```
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "f64", into = "f64"))]
pub struct TimeUnit {
    days: f64,
}

impl TimeUnit {
    /// One calendar day.
    pub const DAYS: TimeUnit = TimeUnit { days: 1.0 };
    /// Seven days.
    pub const WEEKS: TimeUnit = TimeUnit { days: 7.0 };

    /// A unit of `days` days (fractions allowed, e.g. 0.5 for half-days).
    ///
    /// # Errors
    ///
    /// [`TimeUnitError::InvalidLength`] when `days` is not finite and positive.
    pub fn custom_days(days: f64) -> Result<Self, TimeUnitError> {
        if days.is_finite() && days > 0.0 {
            Ok(TimeUnit { days })
        } else {
            Err(TimeUnitError::InvalidLength(days))
        }
    }

    /// The length of one unit in days.
    pub fn days(self) -> f64 {
        self.days
    }

    /// Converts a number of days into this unit.
    pub fn from_days(self, days: f64) -> f64 {
        days / self.days
    }

    /// Converts a number of seconds into this unit.
    pub fn from_seconds(self, seconds: f64) -> f64 {
        seconds / (self.days * 86_400.0)
    }

    /// Converts an amount of this unit into days.
    pub fn to_days(self, amount: f64) -> f64 {
        amount * self.days
    }
}

impl TryFrom<f64> for TimeUnit {
    type Error = TimeUnitError;
    fn try_from(days: f64) -> Result<Self, Self::Error> {
        TimeUnit::custom_days(days)
    }
}

impl From<TimeUnit> for f64 {
    fn from(unit: TimeUnit) -> f64 {
        unit.days
    }
}

impl fmt::Debug for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeUnit({self})")
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.days == 1.0 {
            f.write_str("days")
        } else if self.days == 7.0 {
            f.write_str("weeks")
        } else {
            write!(f, "{}-day periods", self.days)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_positive_and_non_finite_lengths() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(TimeUnit::custom_days(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn converts_between_units() {
        assert_eq!(TimeUnit::WEEKS.from_days(14.0), 2.0);
        assert_eq!(TimeUnit::WEEKS.to_days(2.0), 14.0);
        assert_eq!(TimeUnit::DAYS.from_seconds(43_200.0), 0.5);
        assert_eq!(TimeUnit::WEEKS.to_string(), "weeks");
    }
}
