//! How to summarise: the grain purchases are merged at, what returns do, and the as-of date, unit
//! and holdout of the summaries.

use chrono::NaiveDate;

use crate::time::TimeUnit;

/// How purchases close together in time are merged into one purchase period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Grain {
    /// All purchases of a customer on one calendar day are one purchase (the BTYD convention).
    #[default]
    Day,
    /// Purchases at the same exact moment are one purchase; all others count separately.
    Timestamp,
}

impl Grain {
    /// The accumulator's key of a wall-clock moment at this grain: its day number from the
    /// common era (0001-01-01 is day 1), or its microseconds since 1970-01-01.
    pub(crate) fn key(self, at: chrono::NaiveDateTime) -> i64 {
        use chrono::Datelike;
        match self {
            Grain::Day => i64::from(at.date().num_days_from_ce()),
            Grain::Timestamp => at.and_utc().timestamp_micros(),
        }
    }
}

/// What a return (refund) does to the summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ReturnPolicy {
    /// A return is subtracted from the customer's latest purchase period at or before it, in the
    /// same part of the observation window (calibration or holdout). A purchase period whose
    /// purchases are fully refunded stops counting as a purchase. In the holdout, a return with no
    /// holdout purchase before it lowers the holdout spend. A calibration return with no purchase
    /// before it is an error
    /// ([`SummaryError::ReturnWithoutPurchase`](crate::summary::SummaryError::ReturnWithoutPurchase)).
    #[default]
    NetAgainstPurchase,
    /// Returns are kept in the ledger but do not change frequency or spend.
    Ignore,
}

/// When and in which unit to summarise: the as-of date (last day of calibration, included), the
/// time unit, and an optional holdout end (last day included).
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::{SummaryOptions, TimeUnit};
/// let end = NaiveDate::from_ymd_opt(1997, 9, 30).ok_or("bad date")?;
/// let holdout = NaiveDate::from_ymd_opt(1998, 6, 30).ok_or("bad date")?;
/// let opts = SummaryOptions::new(end, TimeUnit::WEEKS).holdout_end(holdout);
/// assert_eq!(opts.as_of(), end);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SummaryOptions {
    pub(super) as_of: NaiveDate,
    pub(super) unit: TimeUnit,
    pub(super) holdout_end: Option<NaiveDate>,
}

impl SummaryOptions {
    /// Summaries as of the end of `as_of`, in `unit`, without a holdout.
    pub fn new(as_of: NaiveDate, unit: TimeUnit) -> Self {
        SummaryOptions {
            as_of,
            unit,
            holdout_end: None,
        }
    }
    /// Adds a holdout period running from the day after the as-of date through `end`.
    pub fn holdout_end(mut self, end: NaiveDate) -> Self {
        self.holdout_end = Some(end);
        self
    }
    /// The as-of date.
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }
    /// The time unit.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }
    /// The holdout end, if any (set by [`holdout_end`](Self::holdout_end)).
    pub fn get_holdout_end(&self) -> Option<NaiveDate> {
        self.holdout_end
    }
}

impl From<(NaiveDate, TimeUnit)> for SummaryOptions {
    fn from((as_of, unit): (NaiveDate, TimeUnit)) -> Self {
        SummaryOptions::new(as_of, unit)
    }
}
