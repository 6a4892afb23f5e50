//! The customer-based valuation of Gupta, Lehmann & Stuart (2004), "Valuing customers", *JMR*
//! 41(1): the margin multiple and the elasticities of value to retention, margin and discount.
//!
//! With constant margin m per period, retention r per period and discount rate i per period, a
//! customer is worth m·r/(1 + i − r); with margin growth g per period, m·r/(1 + i − r(1 + g)), which
//! is finite only when 1 + i > r(1 + g).
//!
//! ```
//! use customer_assets::valuation::gls;
//! let multiple = gls::margin_multiple(0.8, 0.12, 0.0)?;
//! assert!((multiple - 0.8 / 0.32).abs() < 1e-12);
//! let e = gls::elasticities(0.8, 0.12, 0.0)?;
//! assert!(e.retention > e.margin && e.margin > 0.0 && e.discount_rate < 0.0);
//! # Ok::<(), customer_assets::valuation::gls::GlsError>(())
//! ```

/// Why a margin multiple is not defined.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GlsError {
    /// Retention must lie in [0, 1].
    #[error("retention {} is not in 0..=1", crate::error::short(*.0))]
    Retention(f64),
    /// The discount rate must be finite and above −1.
    #[error("discount rate {} must be finite and greater than -1", crate::error::short(*.0))]
    Discount(f64),
    /// Margin growth must be finite and above −1.
    #[error("margin growth {} must be finite and greater than -1", crate::error::short(*.0))]
    Growth(f64),
    /// The series diverges: 1 + i must exceed r(1 + g).
    #[error("the value diverges: 1 + i = {one_plus_i} does not exceed r(1 + g) = {r_growth}")]
    Diverges {
        /// 1 + i.
        one_plus_i: f64,
        /// r(1 + g).
        r_growth: f64,
    },
}

fn check(r: f64, i: f64, g: f64) -> Result<f64, GlsError> {
    if !(r.is_finite() && (0.0..=1.0).contains(&r)) {
        return Err(GlsError::Retention(r));
    }
    if !(i.is_finite() && i > -1.0) {
        return Err(GlsError::Discount(i));
    }
    if !(g.is_finite() && g > -1.0) {
        return Err(GlsError::Growth(g));
    }
    let denominator = 1.0 + i - r * (1.0 + g);
    if denominator <= 0.0 {
        return Err(GlsError::Diverges {
            one_plus_i: 1.0 + i,
            r_growth: r * (1.0 + g),
        });
    }
    Ok(denominator)
}

/// The margin multiple r / (1 + i − r(1 + g)): a customer's value per unit of margin.
///
/// # Errors
/// [`GlsError`] for a retention outside 0..=1, a discount or growth rate not above −1, or a
/// series that diverges.
pub fn margin_multiple(retention: f64, discount: f64, growth: f64) -> Result<f64, GlsError> {
    let denominator = check(retention, discount, growth)?;
    Ok(retention / denominator)
}

/// Elasticities of value: the percentage change in value for a 1% change in each input.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Elasticities {
    /// d ln V / d ln r = 1 + r(1 + g)/(1 + i − r(1 + g)).
    pub retention: f64,
    /// d ln V / d ln m = 1.
    pub margin: f64,
    /// d ln V / d ln i = −i/(1 + i − r(1 + g)).
    pub discount_rate: f64,
}

/// The elasticities of m·r/(1 + i − r(1 + g)) to retention, margin and discount rate.
///
/// # Errors
/// As [`margin_multiple`].
pub fn elasticities(retention: f64, discount: f64, growth: f64) -> Result<Elasticities, GlsError> {
    let denominator = check(retention, discount, growth)?;
    Ok(Elasticities {
        retention: 1.0 + retention * (1.0 + growth) / denominator,
        margin: 1.0,
        discount_rate: -discount / denominator,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiple_matches_the_closed_form_and_a_summed_series() {
        let (r, i, g): (f64, f64, f64) = (0.75, 0.1, 0.03);
        let series: f64 = (1..5000)
            .map(|t| r.powi(t) * (1.0 + g).powi(t - 1) / (1.0 + i).powi(t))
            .sum();
        let closed = margin_multiple(r, i, g).unwrap();
        // Σ_{t≥1} r^t (1+g)^{t-1} / (1+i)^t = r / (1 + i − r(1+g)).
        assert!((closed - series).abs() < 1e-9, "{closed} vs {series}");
    }

    #[test]
    fn elasticities_match_finite_differences() {
        let (r, i, g) = (0.8, 0.12, 0.02);
        let e = elasticities(r, i, g).unwrap();
        let h = 1e-6;
        let v = |r: f64, i: f64| margin_multiple(r, i, g).unwrap().ln();
        let fd_r = (v(r * (1.0 + h), i) - v(r * (1.0 - h), i)) / (2.0 * h);
        let fd_i = (v(r, i * (1.0 + h)) - v(r, i * (1.0 - h))) / (2.0 * h);
        assert!(
            (e.retention - fd_r).abs() < 1e-6,
            "{} vs {fd_r}",
            e.retention
        );
        assert!(
            (e.discount_rate - fd_i).abs() < 1e-6,
            "{} vs {fd_i}",
            e.discount_rate
        );
        assert_eq!(e.margin, 1.0);
    }

    #[test]
    fn divergent_and_invalid_inputs_are_errors() {
        assert!(matches!(
            margin_multiple(1.0, 0.0, 0.0),
            Err(GlsError::Diverges { .. })
        ));
        assert!(matches!(
            margin_multiple(0.9, 0.05, 0.2),
            Err(GlsError::Diverges { .. })
        ));
        assert_eq!(
            margin_multiple(1.2, 0.1, 0.0),
            Err(GlsError::Retention(1.2))
        );
        assert!(margin_multiple(0.5, f64::NAN, 0.0)
            .unwrap_err()
            .to_string()
            .contains("NaN"));
    }
}
