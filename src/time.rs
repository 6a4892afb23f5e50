//! Time units: every duration the crate reports says which unit it is in.

use std::fmt;

/// Why a [`TimeUnit`] could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeUnitError {
    /// The length of a custom unit must be a finite number of days greater than zero.
    #[error("a time unit must last a finite, positive number of days, got {0}")]
    InvalidLength(f64),
    /// The length of a custom unit lies outside [`TimeUnit::MIN_DAYS`]..=[`TimeUnit::MAX_DAYS`].
    #[error("a time unit of {days:.3e} days lies outside the supported range {min:.3e}..={max:.3e} days (one second to the whole calendar range)")]
    OutOfRange {
        /// The length given, in days.
        days: f64,
        /// [`TimeUnit::MIN_DAYS`].
        min: f64,
        /// [`TimeUnit::MAX_DAYS`].
        max: f64,
    },
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

    /// The shortest unit: one second. A finer unit only inflates every duration (purchases are
    /// not timed more finely than that in practice), and with this bound the longest span of
    /// dates (about 1.9 × 10⁸ days) is about 1.7 × 10¹³ units, so recency, age, horizons and
    /// rates stay far from f64 overflow and underflow.
    pub const MIN_DAYS: f64 = 1.0 / 86_400.0;
    /// The longest unit: the whole calendar range chrono supports (years −262,143 to 262,142,
    /// about 1.9 × 10⁸ days, rounded up to 2 × 10⁸). No span of dates is longer, so a longer unit
    /// would only measure every history as a vanishing fraction of one unit, pushing rates and
    /// scale parameters (α, β) towards the limits of f64.
    pub const MAX_DAYS: f64 = 2.0e8;

    /// A unit of `days` days (fractions allowed, e.g. 0.5 for half-days).
    ///
    /// # Errors
    ///
    /// [`TimeUnitError::InvalidLength`] when `days` is not finite and positive;
    /// [`TimeUnitError::OutOfRange`] when it lies outside
    /// [`MIN_DAYS`](Self::MIN_DAYS)..=[`MAX_DAYS`](Self::MAX_DAYS).
    pub fn custom_days(days: f64) -> Result<Self, TimeUnitError> {
        if !(days.is_finite() && days > 0.0) {
            return Err(TimeUnitError::InvalidLength(days));
        }
        if !(Self::MIN_DAYS..=Self::MAX_DAYS).contains(&days) {
            return Err(TimeUnitError::OutOfRange {
                days,
                min: Self::MIN_DAYS,
                max: Self::MAX_DAYS,
            });
        }
        Ok(TimeUnit { days })
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
    fn rejects_lengths_outside_one_second_to_the_calendar_range() {
        for bad in [
            1e20,
            1e-20,
            TimeUnit::MAX_DAYS * 1.01,
            TimeUnit::MIN_DAYS * 0.99,
        ] {
            let err = TimeUnit::custom_days(bad).unwrap_err();
            assert!(matches!(err, TimeUnitError::OutOfRange { .. }), "{bad}");
            assert!(err.to_string().contains("e"), "{err}");
        }
        for good in [TimeUnit::MIN_DAYS, TimeUnit::MAX_DAYS, 1.0 / 24.0, 365.25] {
            assert_eq!(TimeUnit::custom_days(good).unwrap().days(), good);
        }
        #[cfg(feature = "serde")]
        assert!(serde_json::from_str::<TimeUnit>("1e20").is_err());
        let calendar = (chrono::NaiveDate::MAX - chrono::NaiveDate::MIN).num_days() as f64;
        assert!(calendar <= TimeUnit::MAX_DAYS && calendar > 0.9 * TimeUnit::MAX_DAYS);
    }

    #[test]
    fn converts_between_units() {
        assert_eq!(TimeUnit::WEEKS.from_days(14.0), 2.0);
        assert_eq!(TimeUnit::WEEKS.to_days(2.0), 14.0);
        assert_eq!(TimeUnit::DAYS.from_seconds(43_200.0), 0.5);
        assert_eq!(TimeUnit::WEEKS.to_string(), "weeks");
    }
}
