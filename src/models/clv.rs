//! Customer lifetime value from a transaction model and a spend per transaction, and the
//! tracking curve of a customer base.
//!
//! - [`clv`]: CLV = DERT × expected spend per transaction × margin, with DERT at a continuous
//!   discount rate per time unit of the model (Fader, Hardie & Lee 2005, "RFM and CLV").
//! - [`clv_discrete`]: the same value summed over explicit periods of a stated length, each
//!   period's expected purchases discounted by (1 + d)^k at a per-period rate d.
//! - [`tracking_curve`]: expected cumulative repeat transactions of a base whose customers made
//!   their first purchase at given times.
//!
//! ```
//! use customer_assets::models::bg_nbd::{BgNbd, BgNbdParameters};
//! use customer_assets::models::clv::{clv, continuous_rate_from_annual};
//! use customer_assets::{History, TimeUnit};
//!
//! let parameters = BgNbdParameters { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
//! let model = BgNbd::new(parameters, TimeUnit::WEEKS)?;
//! let weekly = continuous_rate_from_annual(0.10, TimeUnit::WEEKS)?; // 10% a year
//! let value = clv(&model, &History::new(2, 30.43, 38.86), weekly, 35.0, 0.3)?;
//! assert!(value > 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::models::error::PredictError;
use crate::models::history::History;
use crate::models::transaction_model::TransactionModel;
use crate::time::TimeUnit;

/// Days in the year used to convert an annual rate: 365.25.
pub const DAYS_PER_YEAR: f64 = 365.25;

fn check(
    name: &'static str,
    value: f64,
    ok: bool,
    reason: &'static str,
) -> Result<f64, PredictError> {
    if value.is_finite() && ok {
        Ok(value)
    } else {
        Err(PredictError::InvalidInput {
            name,
            value,
            reason,
        })
    }
}

/// The continuous discount rate per `unit` equivalent to an effective annual rate:
/// δ = ln(1 + annual) × unit.days() / 365.25. A 10% annual rate is 0.001831 per week.
///
/// # Errors
/// [`PredictError::InvalidInput`] for an annual rate that is not finite and positive, or so
/// small (or the unit so short) that the rate per unit underflows to 0 (a DERT at rate 0 is
/// infinite: that is no discounting, not a tiny one).
pub fn continuous_rate_from_annual(annual: f64, unit: TimeUnit) -> Result<f64, PredictError> {
    check(
        "annual rate",
        annual,
        annual > 0.0,
        "must be finite and positive",
    )?;
    let rate = annual.ln_1p() * unit.days() / DAYS_PER_YEAR;
    if !(rate.is_finite() && rate >= f64::MIN_POSITIVE) {
        return Err(PredictError::InvalidInput {
            name: "annual rate",
            value: annual,
            reason: "the continuous rate per time unit underflows to 0 (or overflows)",
        });
    }
    Ok(rate)
}

/// Most periods [`clv_discrete`] sums: one prediction per period, so the count bounds the work;
/// a million periods is over 19,000 years of weeks.
pub const MAX_DISCRETE_PERIODS: u32 = 1_000_000;

/// CLV = DERT(rate) × `spend` (expected spend per transaction) × `margin`; `rate` is the
/// continuous discount rate per time unit of the model.
///
/// # Errors
/// The model's prediction errors, [`PredictError::InvalidInput`] for a spend that is not finite
/// and non-negative or a margin that is not finite, and a CLV that is not finite.
pub fn clv(
    model: &dyn TransactionModel,
    history: &History,
    rate: f64,
    spend: f64,
    margin: f64,
) -> Result<f64, PredictError> {
    check(
        "spend",
        spend,
        spend >= 0.0,
        "must be finite and non-negative",
    )?;
    check("margin", margin, true, "must be finite")?;
    let value = model.dert(history, rate)? * spend * margin;
    check("clv", value, true, "is not finite")
}

/// Discrete-period CLV: Σₖ₌₁..ₙ margin × spend × (E[Y(k L)] − E[Y((k−1) L)]) / (1 + d)^k, with
/// `period` = L in the model's time unit (e.g. 4 weeks; state it, there is no hidden month),
/// `periods` = n and `rate_per_period` = d (e.g. 0.1 a year with L = 52 weeks).
///
/// # Errors
/// As [`clv`], and [`PredictError::InvalidInput`] for a period length or per-period rate out of
/// range, or more than [`MAX_DISCRETE_PERIODS`] periods.
pub fn clv_discrete(
    model: &dyn TransactionModel,
    history: &History,
    spend: f64,
    margin: f64,
    period: f64,
    periods: u32,
    rate_per_period: f64,
) -> Result<f64, PredictError> {
    check(
        "spend",
        spend,
        spend >= 0.0,
        "must be finite and non-negative",
    )?;
    check("margin", margin, true, "must be finite")?;
    check(
        "period",
        period,
        period > 0.0,
        "must be finite and positive",
    )?;
    check(
        "rate_per_period",
        rate_per_period,
        rate_per_period > -1.0,
        "must be finite and above -1",
    )?;
    if periods > MAX_DISCRETE_PERIODS {
        return Err(PredictError::InvalidInput {
            name: "periods",
            value: f64::from(periods),
            reason: "at most MAX_DISCRETE_PERIODS (1e6) periods",
        });
    }
    let mut total = 0.0;
    let mut previous = 0.0;
    for k in 1..=periods {
        let cumulative = model.expected_purchases(history, period * f64::from(k))?;
        // powf of the exact period number: no integer conversion to wrap.
        total += (cumulative - previous) / (1.0 + rate_per_period).powf(f64::from(k));
        previous = cumulative;
    }
    check("clv", total * spend * margin, true, "is not finite")
}

/// Expected cumulative repeat transactions of a base at each of `times`: Σᵢ E[X(t − bᵢ)] over the
/// customers with first purchase bᵢ < t. `first_purchases` and `times` are measured from a
/// common origin in the model's time unit; customers who share a first-purchase time are
/// evaluated once.
///
/// # Errors
/// The model's prediction errors, and [`PredictError::InvalidInput`] for a first purchase or a
/// time that is not finite.
pub fn tracking_curve(
    model: &dyn TransactionModel,
    first_purchases: &[f64],
    times: &[f64],
) -> Result<Vec<f64>, PredictError> {
    for &b in first_purchases {
        check("first purchase", b, true, "must be finite")?;
    }
    let mut births = first_purchases.to_vec();
    births.sort_by(f64::total_cmp);
    let mut groups: Vec<(f64, f64)> = Vec::new();
    for b in births {
        match groups.last_mut() {
            Some(last) if last.0 == b => last.1 += 1.0,
            _ => groups.push((b, 1.0)),
        }
    }
    times
        .iter()
        .map(|&t| {
            check("time", t, true, "must be finite")?;
            groups
                .iter()
                .filter(|(b, _)| *b < t)
                .map(|&(b, n)| Ok(n * model.expected_purchases_new(t - b)?))
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::pareto_nbd::{ParetoNbd, ParetoNbdParameters};

    /// Pareto/NBD at the CDNOW estimates, per week.
    fn cdnow_pareto_nbd() -> ParetoNbd {
        let cdnow = ParetoNbdParameters {
            r: 0.553,
            alpha: 10.578,
            s: 0.606,
            beta: 11.669,
        };
        ParetoNbd::new(cdnow, TimeUnit::WEEKS).unwrap()
    }

    #[test]
    fn clv_scales_dert_and_discrete_clv_approaches_it() {
        let m = cdnow_pareto_nbd();
        let h = History::new(2, 30.43, 38.86);
        let weekly = continuous_rate_from_annual(0.1, TimeUnit::WEEKS).unwrap();
        assert!((weekly - 0.1f64.ln_1p() * 7.0 / 365.25).abs() < 1e-15);
        let d = m.dert(&h, weekly).unwrap();
        let v = clv(&m, &h, weekly, 40.0, 0.25).unwrap();
        assert!((v - d * 10.0).abs() < 1e-9 * v);
        // weekly periods over 100 years with the matching per-week rate approximate DERT
        let per_week = weekly.exp() - 1.0;
        let disc = clv_discrete(&m, &h, 40.0, 0.25, 1.0, 5200, per_week).unwrap();
        assert!((disc - v).abs() < 0.01 * v, "{disc} vs {v}");
        assert!(clv(&m, &h, weekly, -1.0, 0.25).is_err());
    }

    #[test]
    fn tracking_curve_adds_up_cohorts() {
        let m = cdnow_pareto_nbd();
        let curve = tracking_curve(&m, &[0.0, 0.0, 2.0], &[0.0, 1.0, 5.0]).unwrap();
        assert_eq!(curve[0], 0.0);
        let e = |t| m.expected_purchases_new(t).unwrap();
        assert!((curve[1] - 2.0 * e(1.0)).abs() < 1e-12);
        assert!((curve[2] - (2.0 * e(5.0) + e(3.0))).abs() < 1e-12);
    }

    /// A rate that underflows to 0 per time unit is an error, not a silent 0 (which would mean
    /// no discounting at all); too many periods are an error, not hours of work.
    #[test]
    fn rates_that_underflow_and_period_counts_are_checked() {
        assert!(matches!(
            continuous_rate_from_annual(1e-320, TimeUnit::DAYS),
            Err(PredictError::InvalidInput {
                name: "annual rate",
                ..
            })
        ));
        assert!(continuous_rate_from_annual(1e-300, TimeUnit::DAYS).is_ok_and(|r| r > 0.0));
        let model = cdnow_pareto_nbd();
        let h = History::new(2, 30.43, 38.86);
        assert!(matches!(
            clv_discrete(&model, &h, 35.0, 0.3, 1.0, MAX_DISCRETE_PERIODS + 1, 0.01),
            Err(PredictError::InvalidInput {
                name: "periods",
                ..
            })
        ));
    }
}
