//! Periods of calendar days, both ends included.

use crate::error::InvalidParameter;
use chrono::{Days, NaiveDate};

use super::error::KpiError;

/// A span of calendar days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "PeriodRaw"))]
pub struct Period {
    pub(super) start: NaiveDate,
    pub(super) end: NaiveDate,
}

/// The serialized form of a [`Period`], checked by [`Period::new`] on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct PeriodRaw {
    start: NaiveDate,
    end: NaiveDate,
}

#[cfg(feature = "serde")]
impl TryFrom<PeriodRaw> for Period {
    type Error = KpiError;
    fn try_from(raw: PeriodRaw) -> Result<Self, KpiError> {
        Period::new(raw.start, raw.end)
    }
}

impl Period {
    /// The days `start..=end`.
    ///
    /// # Errors
    ///
    /// [`KpiError::InvalidPeriod`] when `end` comes before `start`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, KpiError> {
        if end < start {
            return Err(KpiError::InvalidPeriod(format!(
                "{start} .. {end} ends before it starts"
            )));
        }
        Ok(Period { start, end })
    }

    /// The `days` days ending on `end` (inclusive).
    ///
    /// # Errors
    ///
    /// [`KpiError::InvalidParameter`] when `days` is 0; [`KpiError::DateOutOfRange`] when the
    /// period would start before chrono's first date.
    pub fn ending(end: NaiveDate, days: u32) -> Result<Self, KpiError> {
        let back = days
            .checked_sub(1)
            .ok_or(KpiError::InvalidParameter(InvalidParameter::new(
                "days",
                "0",
                "a period has at least one day",
            )))?;
        let start = end
            .checked_sub_days(Days::new(u64::from(back)))
            .ok_or(KpiError::DateOutOfRange)?;
        Period::new(start, end)
    }

    /// The period of the same length that ends the day before this one starts.
    ///
    /// # Errors
    ///
    /// [`KpiError::DateOutOfRange`] when that period would start before chrono's first date.
    pub fn preceding(&self) -> Result<Self, KpiError> {
        let end = self.start.pred_opt().ok_or(KpiError::DateOutOfRange)?;
        let days = u32::try_from(self.days()).map_err(|_| KpiError::DateOutOfRange)?;
        Period::ending(end, days)
    }

    /// First day.
    pub fn start(&self) -> NaiveDate {
        self.start
    }
    /// Last day.
    pub fn end(&self) -> NaiveDate {
        self.end
    }
    /// Number of days.
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }
    /// Whether `date` lies in the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    #[test]
    fn periods_from_json_are_checked_and_valid_ones_round_trip() {
        let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
        let p = Period::new(day(1, 1), day(1, 31)).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Period>(&json).unwrap(), p);
        let want = Period::new(day(2, 1), day(1, 31)).unwrap_err();
        let err = serde_json::from_str::<Period>(r#"{"start":"2024-02-01","end":"2024-01-31"}"#)
            .unwrap_err();
        assert!(
            err.to_string().contains(&want.to_string()),
            "{err} vs {want}"
        );
    }
}
