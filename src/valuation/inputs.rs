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
    /// [`ValuationError::DiscountRateOutOfRange`] for a rate outside (0, 10].
    pub fn continuous(rate: f64, unit: TimeUnit) -> Result<Self, ValuationError> {
        if !(rate.is_finite() && rate > 0.0 && rate <= 10.0) {
            return Err(ValuationError::DiscountRateOutOfRange(rate));
        }
        Ok(DiscountRate {
            per_day: rate / unit.days(),
        })
    }

    /// A rate d per period of `period_days` days, compounded per period (1 money unit a period
    /// from now is worth 1/(1 + d)). Range: d in (0, 1], a period of at least one day.
    ///
    /// # Errors
    /// [`ValuationError::DiscountRateOutOfRange`] for a rate outside (0, 1], and
    /// [`ValuationError::InvalidPeriod`] for a period that is not a finite number of days ≥ 1.
    pub fn per_period(rate: f64, period_days: f64) -> Result<Self, ValuationError> {
        if !(rate.is_finite() && rate > 0.0 && rate <= 1.0) {
            return Err(ValuationError::DiscountRateOutOfRange(rate));
        }
        if !(period_days.is_finite() && period_days >= 1.0) {
            return Err(ValuationError::InvalidPeriod(period_days));
        }
        Ok(DiscountRate {
            per_day: rate.ln_1p() / period_days,
        })
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
