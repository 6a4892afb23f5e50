//! What a valuation is given besides data and models: the discount rate and an acquisition plan.

use rust_decimal::Decimal;

use crate::time::TimeUnit;
use crate::valuation::error::ValuationError;

/// A discount rate, stored as a continuous rate per day and converted to the valuation's unit.
///
/// ```
/// use customer_assets::valuation::DiscountRate;
/// use customer_assets::TimeUnit;
/// // 10% a year of 365 days, as a continuous rate per week:
/// let d = DiscountRate::per_period(0.10, 365.0)?;
/// assert!((d.continuous_per(TimeUnit::WEEKS) - 1.1f64.ln() * 7.0 / 365.0).abs() < 1e-15);
/// assert!(DiscountRate::per_period(-0.2, 365.0).is_err());
/// assert!(DiscountRate::continuous(1e-310, TimeUnit::WEEKS).is_err()); // underflows per day
/// # Ok::<(), customer_assets::valuation::ValuationError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DiscountRate {
    per_day: f64,
}

impl DiscountRate {
    /// A continuous rate δ per `unit` (money at time t is worth e^(−δt) now). Range: δ in
    /// (0, 10] per unit.
    ///
    /// # Errors
    /// [`ValuationError::DiscountRateOutOfRange`] for a rate outside (0, 10], or one so small that
    /// its rate per day is not a normal f64 (it would discount nothing).
    pub fn continuous(rate: f64, unit: TimeUnit) -> Result<Self, ValuationError> {
        if !(rate.is_finite() && rate > 0.0 && rate <= 10.0) {
            return Err(ValuationError::DiscountRateOutOfRange(rate));
        }
        DiscountRate::from_per_day(rate / unit.days())
            .ok_or(ValuationError::DiscountRateOutOfRange(rate))
    }

    /// A rate d per period of `period_days` days, compounded per period (1 money unit a period
    /// from now is worth 1/(1 + d)). Range: d in (0, 1], a period of at least one day.
    ///
    /// # Errors
    /// [`ValuationError::DiscountRateOutOfRange`] for a rate outside (0, 1], and
    /// [`ValuationError::InvalidPeriod`] for a period that is not a finite number of days ≥ 1 (or
    /// so long that the rate per day underflows).
    pub fn per_period(rate: f64, period_days: f64) -> Result<Self, ValuationError> {
        if !(rate.is_finite() && rate > 0.0 && rate <= 1.0) {
            return Err(ValuationError::DiscountRateOutOfRange(rate));
        }
        if !(period_days.is_finite() && period_days >= 1.0) {
            return Err(ValuationError::InvalidPeriod(period_days));
        }
        // Only an absurdly long period can take a rate in (0, 1] per period below f64's range.
        DiscountRate::from_per_day(rate.ln_1p() / period_days)
            .ok_or(ValuationError::InvalidPeriod(period_days))
    }

    /// A rate per day that underflowed to 0 or a subnormal number would discount nothing (or
    /// lose its digits): `None`, for the caller to name its input.
    fn from_per_day(per_day: f64) -> Option<Self> {
        (per_day.is_normal() && per_day > 0.0).then_some(DiscountRate { per_day })
    }

    /// The continuous rate per `unit`.
    pub fn continuous_per(&self, unit: TimeUnit) -> f64 {
        self.per_day * unit.days()
    }
}

/// Future acquisition for the firm view: `customers` new customers every `period_days` days for
/// `periods` periods, each costing `cost` to acquire.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Acquisition {
    /// New customers per period.
    pub customers: f64,
    /// Length of a period in days.
    pub period_days: f64,
    /// Number of future periods (cohorts) counted.
    pub periods: u32,
    /// Acquisition cost per customer.
    pub cost: Decimal,
}
