//! Unit economics: CLV : CAC, CAC payback and campaign ROI.

use crate::error::InvalidParameter;
use rust_decimal::Decimal;

use super::arith::to_f64;
use super::error::KpiError;

fn positive(name: &'static str, d: Decimal) -> Result<f64, KpiError> {
    if d <= Decimal::ZERO {
        return Err(KpiError::InvalidParameter(InvalidParameter::new(
            name,
            d.to_string(),
            "must be positive",
        )));
    }
    Ok(to_f64(d))
}

/// CLV : CAC, the value of a customer per unit of acquisition cost (CLV may be negative).
///
/// # Errors
///
/// [`KpiError::InvalidParameter`] when `cac` is not positive.
pub fn clv_to_cac(clv: Decimal, cac: Decimal) -> Result<f64, KpiError> {
    let cac = positive("cac", cac)?;
    Ok(to_f64(clv) / cac)
}

/// CAC payback: the number of periods of margin needed to recover the acquisition cost,
/// CAC / (margin earned per customer per period); the caller states the period (a month, a
/// week).
///
/// # Errors
///
/// [`KpiError::InvalidParameter`] when `cac` or `margin_per_period` is not positive (a customer who
/// earns nothing never pays back).
pub fn cac_payback_periods(cac: Decimal, margin_per_period: Decimal) -> Result<f64, KpiError> {
    let cac = positive("cac", cac)?;
    let margin = positive("margin_per_period", margin_per_period)?;
    Ok(cac / margin)
}

/// Campaign ROI: (incremental value − cost) / cost, where the incremental value is what the
/// touched customers are worth beyond what they would have been worth untouched (e.g. the CLV
/// uplift against a control group).
///
/// # Errors
///
/// [`KpiError::InvalidParameter`] when `cost` is not positive.
pub fn campaign_roi(cost: Decimal, incremental_value: Decimal) -> Result<f64, KpiError> {
    let c = positive("cost", cost)?;
    Ok((to_f64(incremental_value) - c) / c)
}
